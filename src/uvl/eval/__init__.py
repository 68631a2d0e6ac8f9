"""Evaluation of cluster assignments against labels; works on whatever produced the assignments."""

from uvl.eval.clustering import (
    cluster_acc,
    clustering_scores,
    hungarian_mapping,
    matched_confusion,
    most_confused_pairs,
    row_metrics,
)

__all__ = ["cluster_acc", "clustering_scores", "hungarian_mapping", "matched_confusion", "most_confused_pairs", "row_metrics"]
