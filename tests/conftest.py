"""Shared fixtures: the project root, a quick copy of the project, and an isolated MLflow store."""

from __future__ import annotations

import os


def _pin_xdist_worker() -> None:
    """Each pytest-xdist worker gets its own share of the cores, before numpy, torch or a stage starts
    its thread pools (the engine and the BLAS and OpenMP libraries size theirs by this affinity, and the
    stages that a test launches inherit it). Otherwise two workers each run as many threads as there are
    cores: on 2 cores, InfoGAN's 6-epoch loss test took 74 s in the suite and 20.5 s alone."""
    worker, workers = os.environ.get("PYTEST_XDIST_WORKER"), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if worker and hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) >= workers:
            os.sched_setaffinity(0, cores[int(worker.removeprefix("gw")) % workers::workers])


_pin_xdist_worker()  # before the imports below, which start thread pools

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))  # the sandbox and the fault drills

from sandbox import ROOT, Sandbox, project_env  # noqa: E402

from uvl.params import EngineParams  # noqa: E402

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def run(cmd: list[str], cwd: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=project_env(**env), capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def cpu_engine(checkpoint_every: int, **overrides) -> EngineParams:
    """params.yaml's engine section on the CPU, checkpointing every `checkpoint_every` steps."""
    section = yaml.safe_load((ROOT / "params.yaml").read_text())["engine"]
    return EngineParams.model_validate({**section, "device": "cpu", "checkpoint_every": checkpoint_every, **overrides})


def copy_project(dest: Path, profile: str | None = "profiles/quick.yaml") -> Path:
    """A fresh git repository holding the project's tracked files, with a profile merged into params.yaml."""
    return Sandbox(dest, profile=profile).root


@pytest.fixture(scope="session")
def quick_repo(tmp_path_factory) -> Path:
    """The project copied with the quick profile, after one full `dvc repro` whose results are committed."""
    repo = copy_project(tmp_path_factory.mktemp("quick_repo"))
    run(["dvc", "repro"], repo)
    run(["git", "add", "-A"], repo)
    run(["git", "-c", "user.name=uvl-test", "-c", "user.email=test@localhost", "commit", "-qm", "repro"], repo)
    return repo


@pytest.fixture(scope="session")
def mnist_arrays() -> dict[str, np.ndarray]:
    from uvl.data import mnist

    return mnist.read_package()


@pytest.fixture(autouse=True)
def isolated_root(tmp_path, monkeypatch) -> Path:
    """Checkpoints and the default MLflow store of in-process code go to a per-test folder."""
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch) -> str:
    uri = f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri
