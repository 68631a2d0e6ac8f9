"""DVC experiments as data: what `dvc exp show --json` (DVC 3.67) says, for the reports built from them.

Its structure: a list of entries, the workspace first, then each baseline commit,
`{"rev": <sha>, "name": <branch>, "data": {"rev", "params", "metrics", ...}, "experiments": [...]}`, and each
experiment `{"name", "executor": {"state": ...}, "revs": [{"rev": <sha>, "name", "data": {...}}]}`. A metrics
file appears under its path, `metrics["metrics/moco/moco.json"]["data"]`: one file per row of a method
(`metrics/<method>/<row>.json`, the headline row named after the method).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import NamedTuple

from uvl.tracking import project_root


class Run(NamedTuple):
    """A finished run: the baseline commit itself or one of its successful experiments."""

    name: str  # the experiment's name (seed-1), or the commit's branch or sha
    rev: str  # its commit: `git show <rev>:records/<method>.json` reads its run records
    params: dict  # params.yaml
    metrics: dict  # {metrics file: scores}


def show(*revs: str | None) -> list[dict]:
    """`dvc exp show --json` of the project: the workspace, then the baseline commit (HEAD, or each of `revs`
    when the experiments were queued from earlier commits) with its experiments."""
    shown = []
    for rev in revs or (None,):
        entries = json.loads(subprocess.run(["dvc", "exp", "show", "--json", *(["--rev", rev] if rev else [])],
                                            cwd=project_root(), capture_output=True, text=True, check=True).stdout)
        shown += [entry for entry in entries if not (shown and entry.get("rev") == "workspace")]
    return shown


def runs(entry: dict) -> Iterator[Run]:
    """The runs of an entry of `show()`: the commit itself, then each of its experiments that succeeded;
    failed, queued and running ones are left out. Runs of the same commit with the same params.yaml are one
    run (an experiment `-S labels.seed=0` of the default): the last one listed counts, an experiment before
    the commit's own metrics, which a commit that changed the code may have left to its experiments."""
    candidates = [(entry, entry.get("data"), None)]
    for exp in entry.get("experiments") or []:
        state = (exp.get("revs") or [{}])[0]
        candidates.append(({"name": state.get("name") or exp.get("name"), "rev": state.get("rev")},
                           state.get("data"), exp.get("executor")))
    finished = {}  # params.yaml -> its last run
    for state, data, executor in candidates:
        if not data or (executor or {}).get("state", "success") != "success":
            continue
        params = ((data.get("params") or {}).get("params.yaml") or {}).get("data")
        metrics = {name: (value or {}).get("data") for name, value in (data.get("metrics") or {}).items()}
        rev = data.get("rev") or state.get("rev")
        if params:
            key = json.dumps(params, sort_keys=True)
            finished.pop(key, None)  # the later run replaces it, in its own place in the order
            finished[key] = Run(state.get("name") or data.get("name") or rev, rev, params, metrics)
    yield from finished.values()


def method_scores(metrics: dict, method: str) -> dict[str, dict]:
    """{row: scores} of one method in a run's metrics (`metrics/<method>/<row>.json`), its headline row (named
    after the method) first, then its other rows in the order DVC lists them."""
    prefix = f"metrics/{method}/"
    paths = {name.replace("\\", "/"): scores for name, scores in metrics.items() if scores}
    rows = {path[len(prefix):-len(".json")]: scores for path, scores in paths.items()
            if path.startswith(prefix) and path.endswith(".json") and "/" not in path[len(prefix):]}
    return dict(sorted(rows.items(), key=lambda item: item[0] != method))
