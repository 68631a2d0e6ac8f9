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


def method_argument(description: str, argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("method", help="a method name: a section of params.yaml and a module of uvl.methods")
    return parser.parse_args(argv).method


def run_stage(stage: Callable[[], None]) -> None:
    """Run `stage`; a `UvlError` becomes `uvl: error: <one line>` on stderr and exit status 2."""
    try:
        stage()
    except UvlError as err:
        print(f"uvl: error: {err}", file=sys.stderr)
        sys.exit(2)
