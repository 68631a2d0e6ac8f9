import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import project_env

from uvl import tracking


def test_a_run_holds_params_metrics_and_tags(mlflow_store, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("DVC_EXP_NAME", "quick-owl")
    run = tracking.Run.start("kmeans", stage="cluster", params={"kmeans": {"n_init": 3, "seed": 0}})
    assert run.active
    for epoch in range(3):
        run.log_metrics({"loss": 1.0 / (epoch + 1)}, step=epoch)
    run.end()
    logged = MlflowClient(mlflow_store).get_run(run.run_id)
    assert logged.data.params == {"kmeans.n_init": "3", "kmeans.seed": "0"}
    assert logged.data.tags["dvc.exp_name"] == "quick-owl" and logged.data.tags["uvl.stage"] == "cluster"
    assert logged.info.run_name == "kmeans · quick-owl · seed 0" and logged.info.status == "FINISHED"
    history = MlflowClient(mlflow_store).get_metric_history(run.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2]


def test_the_experiment_opens_as_model_training_and_runs_list_their_datasets(mlflow_store):
    """MLflow 3 shows an experiment without a kind as GenAI; ours is model training, and each run's data are
    dataset inputs whose digests are our checksums."""
    from mlflow.tracking import MlflowClient

    data = {"datasets": [["mnist", "a" * 64]], "label_draw": "b" * 64, "labelled_images": 1000, "validation_images": 1000}
    run = tracking.Run.start("supervised", stage="pretrain", params={"supervised": {"seed": 3}}, data=data)
    client = MlflowClient(mlflow_store)
    experiment = client.get_experiment_by_name(tracking.EXPERIMENT)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    inputs = client.get_run(run.run_id).inputs.dataset_inputs
    assert sorted((i.dataset.name, i.dataset.digest) for i in inputs) == [
        ("mnist", "a" * 36), ("mnist labels (1000 drawn)", "b" * 36)]
    assert client.get_run(run.run_id).info.run_name == "supervised · workspace · seed 3"
    assert client.get_run(run.run_id).data.tags["mlflow.source.name"] == "stages/pretrain.py"


def test_resume_continues_the_same_run(mlflow_store):
    from mlflow.tracking import MlflowClient

    first = tracking.Run.start("gmm", stage="cluster", params={})
    tracking.Run.resume(first.run_id).log_metrics({"acc": 0.5})
    assert MlflowClient(mlflow_store).get_run(first.run_id).data.metrics == {"acc": 0.5}


def test_a_prefixed_run_logs_into_the_same_run_under_its_prefix(mlflow_store):
    from mlflow.tracking import MlflowClient

    run = tracking.Run.start("infogan", stage="pretrain", params={})
    candidate = run.prefixed("candidate1.")
    candidate.log_params({"engine": {"threads": 2}})
    candidate.log_metrics({"loss": 0.5}, step=0)
    run.log_metrics({"loss": 0.25}, step=0)
    logged = MlflowClient(mlflow_store).get_run(run.run_id).data
    assert candidate.run_id == run.run_id and run.prefix == ""
    assert logged.params == {"candidate1.engine.threads": "2"}
    assert logged.metrics == {"candidate1.loss": 0.5, "loss": 0.25}


def test_an_unwritable_store_warns_once_and_never_raises(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # a folder below a file cannot be created, even by root
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{blocker / 'mlflow.db'}")
    started = time.perf_counter()
    run = tracking.Run.start("kmeans", stage="cluster", params={"kmeans": {"n_init": 1}})
    run.log_metrics({"loss": 1.0})
    run.log_artifact(blocker)
    run.end()
    assert not run.active and time.perf_counter() - started < 10
    assert capsys.readouterr().err.count("MLflow tracking off") == 1


def test_default_store_follows_dvc_root(tmp_path):
    assert tracking.tracking_uri() == f"sqlite:///{tmp_path}/mlflow/mlflow.db"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_an_mlflow_server_returns_the_run_through_its_rest_api(mlflow_store):
    run = tracking.Run.start("kmeans", stage="cluster", params={"kmeans": {"n_init": 2}})
    run.log_metrics({"acc": 0.53})
    run.end()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", mlflow_store,
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=project_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = json.dumps({"experiment_ids": [tracking._client_and_experiment()[1]]}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/2.0/mlflow/runs/search", data=body,
                                         headers={"Content-Type": "application/json"})
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    runs = json.load(response)["runs"]
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise
                time.sleep(1)
        found = [r for r in runs if r["info"]["run_id"] == run.run_id]
        assert found, runs
        assert {"key": "kmeans.n_init", "value": "2"} in found[0]["data"]["params"]
        assert any(m["key"] == "acc" and m["value"] == 0.53 for m in found[0]["data"]["metrics"])
    finally:
        server.terminate()
        server.wait(timeout=30)
