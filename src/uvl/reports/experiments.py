"""DVC experiments as data: what `dvc exp show --json` (DVC 3.67) says, for the reports built from them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

from uvl.sandbox import ROOT


def show(rev: str | None = None) -> list[dict]:
    """`dvc exp show --json` of the project: the workspace, then the baseline commit (HEAD, or `rev` when
    the experiments were queued from an earlier commit) with its experiments."""
    return json.loads(subprocess.run(["dvc", "exp", "show", "--json", *(["--rev", rev] if rev else [])], cwd=ROOT,
                                     capture_output=True, text=True, check=True).stdout)


def runs(entry: dict) -> Iterator[tuple[str, dict, dict]]:
    """(name, params.yaml, {metrics file: scores}) of an entry of `show()` and of each of its experiments
    that succeeded; failed, queued and running ones are left out."""
    candidates = [(entry.get("data"), None)]
    candidates += [(exp["revs"][0].get("data"), exp.get("executor")) for exp in entry.get("experiments") or []]
    for data, executor in candidates:
        if not data or (executor or {}).get("state", "success") != "success":
            continue
        params = ((data.get("params") or {}).get("params.yaml") or {}).get("data")
        metrics = {name: (value or {}).get("data") for name, value in (data.get("metrics") or {}).items()}
        if params:
            yield data.get("name") or data.get("rev"), params, metrics
