"""A throwaway copy of the project: its working tree (tracked and untracked, not ignored files) in a fresh
git repository, with params overridden.

Used by the tests, the fault drills (bench/drills.py) and the benchmark, so that they run the real `dvc`
commands on the real pipeline without touching the working copy. Not part of the library: run beside it
(`python bench/drills.py`; the tests put bench/ on their path).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from uvl.params import read_yaml
from uvl.profile import merged

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ("dvc.lock", "metrics", "records", "plots", "reports/results.md")  # a copy regenerates these


def project_env(**extra: str) -> dict[str, str]:
    """The environment of a user who activated .venv, with no inherited tracking URI or DVC variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_TRACKING_URI", "DVC_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["DVC_NO_ANALYTICS"] = "1"
    env.update(extra)
    return env


class Sandbox:
    def __init__(self, dest: Path, overrides: dict[str, Any] | None = None, profile: str | None = "profiles/quick.yaml",
                 dvc_cache: Path | None = None):
        """dvc_cache: a DVC cache folder shared by several sandboxes, so that a stage that already ran with the
        same inputs in one (`prepare`) is restored from DVC's run-cache in the others instead of rerun."""
        self.root = dest
        tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                 cwd=ROOT, capture_output=True, check=True).stdout
        for name in filter(None, tracked.decode().split("\0")):
            source = ROOT / name
            if source.is_file() and not name.startswith(GENERATED):
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest / name)
        params = read_yaml(ROOT / "params.yaml")
        if profile:
            params = merged(params, read_yaml(ROOT / profile))
        for section, values in (overrides or {}).items():  # whole sections, so a list of methods can shrink
            params[section] = merged(params[section], values) if section not in ("pipeline",) else values
        self.write_params(params)
        self.write_dag()
        self.run("git", "init", "-q")
        self.commit("copy")
        if dvc_cache:
            self.run("dvc", "cache", "dir", "--local", str(dvc_cache))

    def write_params(self, params: dict) -> None:
        (self.root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    def write_dag(self) -> None:
        """dvc.yaml for this copy's method list, as `python -m uvl.dag` writes it."""
        self.run("python", "-m", "uvl.dag")

    def params(self) -> dict:
        return read_yaml(self.root / "params.yaml")

    def commit(self, message: str) -> None:
        self.run("git", "add", "-A")
        self.run("git", "-c", "user.name=uvl", "-c", "user.email=uvl@localhost", "commit", "-qm", message)

    def run(self, *cmd: str, check: bool = True, timeout: float = 900, **env: str) -> subprocess.CompletedProcess:
        result = subprocess.run(cmd, cwd=self.root, env=project_env(**env), capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    def run_queue(self, jobs: int, timeout: float = 900) -> str:
        """`dvc queue start -j jobs`, then wait until no task is queued or running; returns `dvc queue status`.

        The workers outlive `dvc queue start` and inherit its stderr, so their output goes to a file: captured
        into a pipe, the call would block until the last worker exits, and forever if one never does. DVC's
        workers can stop while tasks are still queued (treeverse/dvc#10562): they are started again then, as
        DVC's users do. Past `timeout` every task is killed and the error carries the status and worker logs.
        """
        log = self.root / ".dvc" / "tmp" / "queue-start.log"

        def start() -> None:
            with log.open("ab") as out:
                subprocess.run(["dvc", "queue", "start", "-j", str(jobs)], cwd=self.root, env=project_env(),
                               stdout=out, stderr=out, check=True, timeout=120)

        start()
        deadline = time.time() + timeout
        while True:
            status = self.run("dvc", "queue", "status").stdout
            if not re.search(r"\b(Running|Queued)\b", status):
                return status
            if time.time() > deadline:
                self.run("dvc", "queue", "stop", "--kill", check=False)
                workers = "".join(f"--- {path.name}\n{path.read_text()[-2000:]}"
                                  for path in (self.root / ".dvc" / "tmp" / "exps" / "celery").rglob("*.out"))
                raise RuntimeError(f"the queue was not done after {timeout:.0f} s:\n{status}\n{workers}")
            if "Queued" in status and "Worker status: 0 active, 0 idle" in status:
                start()
            time.sleep(2)

    def popen(self, *cmd: str, **env: str) -> subprocess.Popen:
        """Start a command in its own process group, so that a signal can reach all of it."""
        return subprocess.Popen(cmd, cwd=self.root, env=project_env(**env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)

    def metrics(self, name: str) -> dict | None:
        """{row: scores} of metrics/<name>/, or None when the method's chain has not finished."""
        folder = self.root / "metrics" / name
        return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))} if folder.exists() else None
