"""prepare-<dataset>: data/prepared/<dataset>/ (uvl.data.datasets' schema: arrays.npz and checksums.json)."""

import argparse

from uvl import params as uvl_params
from uvl.data import sources
from uvl.data.datasets import NAMES
from uvl.stage import run_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", choices=NAMES)
    sources.prepare(parser.parse_args().dataset, uvl_params.load().data.source)


if __name__ == "__main__":
    run_stage(main)
