"""report: reports/results.md from the metrics and records of every method in pipeline.methods."""

import json
from pathlib import Path

from uvl import params as uvl_params
from uvl.io import write_text
from uvl.params import read_yaml
from uvl.reports.results import build
from uvl.stage import METRICS, PLOTS, RECORDS, REPORTS, run_stage


def main() -> None:
    params = uvl_params.load()
    seeds_file = REPORTS / "seeds.json"
    seeds = json.loads(seeds_file.read_text()) if seeds_file.exists() else {}
    write_text(REPORTS / "results.md", build(params.pipeline.methods, read_yaml(Path(uvl_params.PARAMS_FILE)), METRICS,
                                             RECORDS, PLOTS, seeds))


if __name__ == "__main__":
    run_stage(main)
