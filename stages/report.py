"""report: reports/results.md from the metrics of every method in pipeline.methods."""

from uvl import params as uvl_params
from uvl.cli import METRICS, PLOTS, REPORTS, run_stage
from uvl.io import write_text
from uvl.report import build


def main() -> None:
    params = uvl_params.load()
    write_text(REPORTS / "results.md", build(params.pipeline.methods, METRICS, PLOTS))


if __name__ == "__main__":
    run_stage(main)
