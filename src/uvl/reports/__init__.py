"""Report builders: reports/results.md from the pipeline's metrics (results, the report stage), and from DVC
experiments the scores over seeds (seeds) and any two-parameter grid (ablation)."""
