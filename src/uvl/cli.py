"""What every stage script shares: one-line errors, the file layout, and the method argument."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from uvl.errors import UvlError

PREPARED = Path("data/prepared")
CLUSTERS = Path("data/clusters")
MODELS = Path("models")
METRICS = Path("metrics")
PLOTS = Path("plots")
REPORTS = Path("reports")


def start_method_stage(description: str, trained_only: bool = False):
    """The start of every per-method stage: the method named on the command line, the validated params,
    the prepared data. Returns (name, params, data)."""
    from uvl import params as uvl_params
    from uvl.data import load_prepared

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("method", help="a method name: a section of params.yaml and a module of uvl.methods")
    name = parser.parse_args().method
    params = uvl_params.load()
    listed = "trained" if trained_only else "methods"
    if name not in getattr(params.pipeline, listed):
        raise UvlError(f"'{name}' is not in params.yaml's pipeline.{listed}")
    data = load_prepared(PREPARED / "mnist.npz", params.data.train_limit, params.data.test_limit)
    return name, params, data


def run_stage(stage: Callable[[], None]) -> None:
    """Run `stage`; a `UvlError` becomes `uvl: error: <one line>` on stderr and exit status 2."""
    try:
        stage()
    except UvlError as err:
        print(f"uvl: error: {err}", file=sys.stderr)
        sys.exit(2)
