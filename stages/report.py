"""report: reports/results.md and its charts (reports/charts/<task>.png, and .csv for `dvc plots`) from the
metrics and records of every method in pipeline.methods, and reports/encoders.md, the self-supervised
encoders side by side."""

import json
from pathlib import Path

from uvl import params as uvl_params
from uvl.io import atomic_dir, write_text
from uvl.params import read_yaml
from uvl.reports import encoders, results
from uvl.stage import METRICS, PLOTS, RECORDS, REPORTS, run_stage


def main() -> None:
    params = uvl_params.load()
    seeds_file = REPORTS / "seeds.json"
    seeds = json.loads(seeds_file.read_text()) if seeds_file.exists() else {}
    raw = read_yaml(Path(uvl_params.PARAMS_FILE))
    with atomic_dir(REPORTS / "charts") as charts:
        text = results.build(params.pipeline.methods, raw, METRICS, RECORDS, PLOTS, seeds, charts)
    write_text(REPORTS / "results.md", text)
    write_text(REPORTS / "encoders.md", encoders.build(params.pipeline.methods, raw, METRICS, RECORDS, PLOTS, seeds))


if __name__ == "__main__":
    run_stage(main)
