"""report: reports/results.md and its charts (reports/charts/<task>.png, and .csv for `dvc plots`) from the
metrics and records of every method in pipeline.methods."""

import json
from pathlib import Path

from uvl import params as uvl_params
from uvl.io import atomic_dir, write_text
from uvl.params import read_yaml
from uvl.reports.results import build
from uvl.stage import METRICS, PLOTS, RECORDS, REPORTS, run_stage


def main() -> None:
    params = uvl_params.load()
    seeds_file = REPORTS / "seeds.json"
    seeds = json.loads(seeds_file.read_text()) if seeds_file.exists() else {}
    with atomic_dir(REPORTS / "charts") as charts:
        text = build(params.pipeline.methods, read_yaml(Path(uvl_params.PARAMS_FILE)), METRICS, RECORDS, PLOTS, seeds,
                     charts)
    write_text(REPORTS / "results.md", text)


if __name__ == "__main__":
    run_stage(main)
