"""MLflow tracking for every stage; the only module that imports mlflow.

Store: `MLFLOW_TRACKING_URI` if set, else `sqlite:///<root>/mlflow/mlflow.db`, with artifacts in
`<root>/mlflow/artifacts`, where <root> is `DVC_ROOT` (DVC sets it to the real repository root, also inside
the temporary folders of queued experiments, whose own files are deleted afterwards) or the folder holding
dvc.yaml. The experiment is created once, under a file lock, with that absolute artifact location, because
MLflow fixes it at creation and two processes cannot create a fresh SQLite store at once.

Tracking must never cost a result: the first failure (store unreachable, read-only, full) prints one
warning and turns every later call of that run into a no-op. DVC's outputs are the source of truth.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

EXPERIMENT = "uvl"
# MLflow 3 opens an experiment by its kind; without this tag its UI guesses GenAI and lists runs as evaluations
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
DIGEST_LENGTH = 36  # MLflow's store keeps the first 36 characters of a dataset's digest

# No telemetry and no long retries on a machine that may be offline.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")


def project_root() -> Path:
    if os.environ.get("DVC_ROOT"):
        return Path(os.environ["DVC_ROOT"])
    cwd = Path.cwd().resolve()
    return next((p for p in (cwd, *cwd.parents) if (p / "dvc.yaml").exists()), cwd)


def default_uri() -> str:
    return f"sqlite:///{project_root() / 'mlflow' / 'mlflow.db'}"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or default_uri()


def _check_writable(folder: Path) -> None:
    """Fail at once rather than after MLflow's ~100 s of retries on an unwritable SQLite folder."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe"):
        pass


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _client_and_experiment():
    for noisy in ("alembic", "mlflow.store.db.utils"):  # schema migrations on a fresh store are noise
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from mlflow.tracking import MlflowClient

    uri = tracking_uri()
    if not uri.startswith("sqlite:///"):
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name(EXPERIMENT)
        return client, _with_kind(client, experiment) if experiment else client.create_experiment(EXPERIMENT, tags=EXPERIMENT_KIND)
    store = Path(uri.removeprefix("sqlite:///"))
    artifacts = store.parent / "artifacts"
    _check_writable(store.parent)
    _check_writable(artifacts)
    with _file_lock(store.parent / ".init.lock"):
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name(EXPERIMENT)
        if experiment is None:
            return client, client.create_experiment(EXPERIMENT, artifact_location=artifacts.resolve().as_uri(),
                                                    tags=EXPERIMENT_KIND)
        return client, _with_kind(client, experiment)


def _with_kind(client, experiment) -> str:
    """The experiment's id, after tagging its kind if a store made before the tag lacks it."""
    for key, value in EXPERIMENT_KIND.items():
        if experiment.tags.get(key) != value:
            client.set_experiment_tag(experiment.experiment_id, key, value)
    return experiment.experiment_id


def _git_revision(root: Path) -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if rev.returncode != 0:
        return "unknown"
    return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def dataset_inputs(data: Mapping[str, Any]) -> list:
    """MLflow dataset inputs for a run's data record: each prepared dataset (its checksums' digest), and a
    label draw (its indices' digest) as a dataset of its own."""
    from mlflow.entities import Dataset, DatasetInput, InputTag

    training = [InputTag("mlflow.data.context", "training")]
    inputs = [DatasetInput(Dataset(name=name, digest=digest[:DIGEST_LENGTH], source_type="local",
                                   source=f"data/prepared/{name}"), training)
              for name, digest in data["datasets"]]
    if "label_draw" in data:
        first = data["datasets"][0][0]
        inputs.append(DatasetInput(Dataset(name=f"{first} labels ({data['labelled_images']} drawn)",
                                           digest=data["label_draw"][:DIGEST_LENGTH], source_type="local",
                                           source=f"data/prepared/{first}"), training))
    return inputs


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


class Run:
    """One MLflow run. Every method is safe to call whatever the state of the store."""

    def __init__(self, client=None, run_id: str | None = None, prefix: str = ""):
        self._client = client
        self.run_id = run_id
        self.prefix = prefix  # before every key this object logs

    def prefixed(self, prefix: str) -> Run:
        """The same run, logging under `prefix` (the curves of one of several candidates that a stage trains)."""
        return Run(self._client, self.run_id, self.prefix + prefix)

    @property
    def active(self) -> bool:
        return self.run_id is not None

    def _fail(self, err: BaseException) -> None:
        print(f"uvl: warning: MLflow tracking off for this stage ({tracking_uri()}): "
              f"{type(err).__name__}: {' '.join(str(err).split())[:300]}", file=sys.stderr)
        self._client, self.run_id = None, None

    @classmethod
    def start(cls, method: str, stage: str, params: Mapping[str, Any], data: Mapping[str, Any] | None = None,
              tags: Mapping[str, str] = ()) -> Run:
        """Create a run named after the method, the DVC experiment and the seed ("moco · seed-3 · seed 3"),
        tagged with the git revision and the DVC experiment; `data` (uvl.data.protocol.record) becomes its
        dataset inputs, with our checksums as their digests."""
        run = cls()
        try:
            client, experiment_id = _client_and_experiment()
            root = project_root()
            experiment = os.environ.get("DVC_EXP_NAME", "workspace")
            seed = (params.get(method) or {}).get("seed")
            all_tags = {
                "uvl.method": method,
                "uvl.stage": stage,
                "dvc.exp_name": experiment,
                "dvc.exp_baseline_rev": os.environ.get("DVC_EXP_BASELINE_REV", ""),
                "mlflow.source.git.commit": _git_revision(root),
                "mlflow.source.type": "LOCAL",
                "mlflow.source.name": f"stages/{stage}.py",  # the UI's Source column
                **dict(tags),
            }
            created = client.create_run(experiment_id, run_name=f"{method} · {experiment} · seed {seed}", tags=all_tags)
            run._client, run.run_id = client, created.info.run_id
            run.log_params(params)
            if data:
                client.log_inputs(run.run_id, datasets=dataset_inputs(data))
        except Exception as err:  # noqa: BLE001 - any tracking failure must leave training running
            run._fail(err)
        return run

    @classmethod
    def resume(cls, run_id: str | None) -> Run:
        """Continue a run that an earlier stage of the same chain started (None: tracking was off then)."""
        run = cls()
        if run_id is None:
            return run
        try:
            client, _ = _client_and_experiment()
            client.update_run(run_id, status="RUNNING")
            run._client, run.run_id = client, run_id
        except Exception as err:  # noqa: BLE001
            run._fail(err)
        return run

    def _call(self, fn_name: str, *args, **kwargs) -> None:
        if not self.active:
            return
        try:
            getattr(self._client, fn_name)(self.run_id, *args, **kwargs)
        except Exception as err:  # noqa: BLE001
            self._fail(err)

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        self._call("log_batch", params=[Param(k, v) for k, v in flatten(params, self.prefix).items()])

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Log scalars in one request (one `log_batch` is ~10x faster than a call per metric)."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        batch = [Metric(self.prefix + k, float(v), now, step or 0) for k, v in metrics.items()]
        self._call("log_batch", metrics=batch)

    def log_artifact(self, path: str | os.PathLike, folder: str | None = None) -> None:
        self._call("log_artifact", str(path), folder)

    def end(self, failed: bool = False) -> None:
        self._call("set_terminated", status="FAILED" if failed else "FINISHED")
