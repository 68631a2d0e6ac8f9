"""End to end through DVC, on a quick-profile copy of the project in a temporary git repository."""

import json
import re

import pytest
import yaml
from conftest import run

from uvl.stage import machine

pytestmark = pytest.mark.slow


def test_repro_writes_every_metrics_file_and_the_report(quick_repo):
    from uvl import methods, tasks

    names = yaml.safe_load((quick_repo / "params.yaml").read_text())["pipeline"]["methods"]
    for name in names:
        module = methods.get(name)
        record = json.loads((quick_repo / "records" / f"{name}.json").read_text())
        scores = json.loads((quick_repo / "metrics" / name / f"{name}.json").read_text())
        task = tasks.of(module)
        assert record["task"] == module.TASK and record["rows"][0] == name
        task.Scores.model_validate(scores)  # exactly the task's keys: no time, memory, machine or seed
        assert 0.1 < scores[task.HEADLINE] <= 1 and scores["selected_on"] == module.SELECTED_ON
        assert (quick_repo / "plots" / name / "confusion.png").stat().st_size > 1000
        step = "cluster" if module.TASK == "clustering" else "predict"
        chain = (["pretrain"] if methods.is_trained(module) else []) + [step, "evaluate"]
        assert sorted(record["stages"]) == sorted(chain)
        assert all(cost["seconds"] > 0 and cost["peak_memory_mb"] > 50 for cost in record["stages"].values())
        assert all(cost["machine"] == machine() for cost in record["stages"].values())  # this CPU, each stage
    report = (quick_repo / "reports" / "results.md").read_text()
    assert "## Clustering" in report and "## Classification" in report and "## Adaptation" in report
    assert "## Cost per stage" in report and "fitted on" in report and report.count(f"| {machine()} ") == len(names)
    assert "reduced run" in report and all(f"| {name} " in report for name in names)
    assert "seed poster reports 75.2%" in report
    assert "[samples](../plots/infogan/samples.png)" in report and "[tsne](../plots/moco/tsne.png)" in report


def test_dvc_plots_renders_the_confusion_matrices(quick_repo):
    shown = json.loads(run(["dvc", "plots", "show", "--json"], quick_repo).stdout)
    assert not shown.get("errors")
    names = yaml.safe_load((quick_repo / "params.yaml").read_text())["pipeline"]["methods"]
    for name in names:
        assert [p["type"] for p in shown["data"][f"plots/{name}/confusion.csv"]] == ["vega"]
        assert [p["type"] for p in shown["data"][f"plots/{name}/confusion.png"]] == ["image"]


def test_exp_run_reruns_only_what_the_param_touches_and_metrics_diff_shows_it(quick_repo):
    before = json.loads((quick_repo / "metrics" / "kmeans" / "kmeans.json").read_text())
    result = run(["dvc", "exp", "run", "-S", "kmeans.n_clusters=4"], quick_repo)
    assert "Running stage 'cluster-kmeans'" in result.stdout
    assert "Running stage 'cluster-gmm'" not in result.stdout and "Running stage 'prepare-mnist'" not in result.stdout
    after = json.loads((quick_repo / "metrics" / "kmeans" / "kmeans.json").read_text())
    assert after["cluster_acc"] < before["cluster_acc"], "four clusters cannot match ten digits as well as ten"
    diff = json.loads(run(["dvc", "metrics", "diff", "--json"], quick_repo).stdout)
    assert diff["metrics/kmeans/kmeans.json"]["cluster_acc"]["new"] == after["cluster_acc"]
    assert diff["metrics/kmeans/kmeans.json"]["cluster_acc"]["old"] == before["cluster_acc"]
    assert not diff.get("metrics/gmm/gmm.json")
    shown = json.loads(run(["dvc", "exp", "show", "--json"], quick_repo).stdout)
    assert any(exp for baseline in shown for exp in (baseline.get("experiments") or []))


def test_the_mlflow_run_leads_back_to_the_dvc_stage(quick_repo):
    from mlflow.tracking import MlflowClient

    record = json.loads((quick_repo / "records" / "kmeans.json").read_text())
    client = MlflowClient(f"sqlite:///{quick_repo / 'mlflow' / 'mlflow.db'}")
    logged = client.get_run(record["mlflow_run_id"])
    assert logged.data.tags["uvl.method"] == "kmeans" and "cluster_acc" in logged.data.metrics
    assert logged.data.params["kmeans.n_init"] == "1"
    assert [i.dataset.name for i in logged.inputs.dataset_inputs] == ["mnist"]


@pytest.mark.parametrize("setting, chains", [
    # cluster_then_label starts from MoCo's encoder
    ("moco.momentum=0.95", ["moco", "cluster_then_label"]),
    # IDEC starts from the stacked autoencoder that DEC shares: neither the autoencoder nor DEC reruns
    ("idec.gamma=0.2", ["idec"]),
    ("sae.epochs=3", ["sae", "dec", "idec"]),
    ("supervised.labels.per_class=20", ["supervised"]),
    # a param names the model DEC starts from: the graph follows it (DEC from the autoencoder ae)
    ("dec.autoencoder=ae", ["dec"]),
])
def test_a_param_touches_only_its_chains(quick_repo, setting, chains):
    """What `dvc repro` would rerun after the change, without training: the stages whose declared inputs
    changed and, with --force-downstream, every stage below them, as if each rerun changed its outputs
    (which training does; test_exp_run_reruns_only_what_the_param_touches... runs one for real). The values
    differ from the real run's above, which leaves its params in place."""
    (*path, key), value = setting.split("=")[0].split("."), yaml.safe_load(setting.split("=")[1])
    params_file = quick_repo / "params.yaml"
    original = params_file.read_text()
    params = yaml.safe_load(original)
    node = params
    for part in path:
        node = node[part]
    node[key] = value
    try:
        params_file.write_text(yaml.safe_dump(params, sort_keys=False))
        result = run(["dvc", "repro", "--dry", "--force-downstream"], quick_repo)
    finally:
        params_file.write_text(original)
    would_run = re.findall(r"Running stage '([^']+)'", result.stdout)
    step = {"supervised": "predict", "cluster_then_label": "predict"}
    expected = [f"{stage}-{name}" for name in chains for stage in ("pretrain", step.get(name, "cluster"), "evaluate")]
    assert sorted(would_run) == sorted([*expected, "report"]), result.stdout


def test_a_copy_of_the_project_imports_its_own_code(tmp_path):
    """What a queued experiment needs: its stages run in a copy (.dvc/tmp/exps/...) and must import the
    copy's modules, not those of the checkout that the editable install points at."""
    from sandbox import Sandbox

    copy = Sandbox(tmp_path / "copy").root
    (copy / "src" / "uvl" / "methods" / "kmeans.py").write_text("MARK = 'the copy'\n")
    result = run(["python", "-c", "import uvl.methods.kmeans as m; print(m.MARK, m.__file__)"], copy)
    assert result.stdout.split()[:2] == ["the", "copy"] and str(copy) in result.stdout
