"""The results report from metrics and records files alone: one table per task, verdicts over seeds."""

import json

import yaml
from conftest import ROOT

from uvl.reports import results

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
STAGE = {"peak_memory_mb": 900.0, "machine": "a CPU"}


def write(tmp_path, name, task, rows, seconds, stages, datasets=(("mnist", "d"),)):
    (tmp_path / "metrics" / name).mkdir(parents=True)
    for row, scores in rows.items():
        (tmp_path / "metrics" / name / f"{row}.json").write_text(json.dumps({**scores, "selected_on": "label-free"}))
    (tmp_path / "records").mkdir(exist_ok=True)
    (tmp_path / "records" / f"{name}.json").write_text(json.dumps({
        "task": task, "rows": list(rows), "seed": 0, "train_seconds": seconds,
        "data": {"datasets": [list(d) for d in datasets]},
        "stages": {stage: {**STAGE, "seconds": s} for stage, s in stages.items()}}))


CLUSTERING = {"cluster_acc": 0.5, "cluster_nmi": 0.5, "cluster_ari": 0.4, "test_cluster_acc": 0.5,
              "test_cluster_nmi": 0.5, "test_cluster_ari": 0.4}


def build(tmp_path, names, seeds=None):
    (tmp_path / "charts").mkdir(exist_ok=True)
    return results.build(names, PARAMS, tmp_path / "metrics", tmp_path / "records", tmp_path / "plots", seeds or {},
                         tmp_path / "charts")


def test_one_table_per_task_with_its_own_columns(tmp_path):
    write(tmp_path, "kmeans", "clustering", {"kmeans": CLUSTERING}, 60.0, {"cluster": 60.0, "evaluate": 6.0})
    write(tmp_path, "supervised", "classification", {"supervised": {"test_accuracy": 0.99, "validation_accuracy": 0.98}},
          120.0, {"pretrain": 120.0, "predict": 2.0, "evaluate": 3.0})
    write(tmp_path, "source_only", "adaptation", {"source_only": {
        "target_test_accuracy": 0.7, "source_test_accuracy": 0.99, "validation_accuracy": 0.98}},
          120.0, {"pretrain": 120.0, "predict": 2.0, "evaluate": 3.0}, datasets=(("mnist", "d"), ("digits8", "e")))
    text = build(tmp_path, ["kmeans", "supervised", "source_only"])
    sections = text.split("\n## ")
    clustering = next(s for s in sections if s.startswith("Clustering"))
    classification = next(s for s in sections if s.startswith("Classification"))
    adaptation = next(s for s in sections if s.startswith("Adaptation"))
    header = {part: [c.strip() for c in part.splitlines()[4].split("|")[1:-1]] for part in (clustering, classification)}
    assert "Hungarian-matched" in clustering and {"ACC", "NMI", "test ACC", "kNN"} <= set(header[clustering])
    assert "No Hungarian matching" in classification and "ACC" not in header[classification]
    assert {"test accuracy", "validation accuracy"} <= set(header[classification])
    row = next(line for line in classification.splitlines() if line.startswith("| supervised"))
    assert [c.strip() for c in row.split("|")][3:5] == ["99.0", "98.0"]
    assert "| mnist → digits8 " in adaptation and "target test accuracy" in adaptation


def test_a_verdict_needs_seeds(tmp_path):
    write(tmp_path, "moco", "clustering", {"moco": {**CLUSTERING, "cluster_acc": 0.97}}, 60.0,
          {"pretrain": 50.0, "cluster": 10.0, "evaluate": 6.0})
    one_seed = build(tmp_path, ["moco"])
    assert "ours has one seed here (no verdict" in one_seed and "ours matches" not in one_seed and "points" not in one_seed
    seeds = {"moco": {"method": "moco", "task": "clustering", "seeds": [0, 1, 2], "commit": "abc1234",
                      "scores": {"cluster_acc": {"mean": 0.925, "std": 0.01, "n": 3}}}}
    over_seeds = build(tmp_path, ["moco"], seeds)
    assert "92.5 ± 1.0% over seeds 0, 1, 2 (commit abc1234); seed poster reports 96.9%: ours is 4.4 points lower" in over_seeds


def test_cost_table_totals_each_chain_from_the_pixels_and_names_those_over_budget(tmp_path):
    write(tmp_path, "kmeans", "clustering", {"kmeans": CLUSTERING}, 60.0, {"cluster": 60.0, "evaluate": 6.0})
    # DEC's fit time counts the autoencoder it starts from, so its chain is more than its own stages
    write(tmp_path, "dec", "clustering", {"dec": CLUSTERING}, 1_790.0, {"pretrain": 1_085.0, "cluster": 5.0, "evaluate": 40.0})
    text = build(tmp_path, ["kmeans", "dec"])
    assert "Budget: 30 minutes per method on 2 CPU cores; over it in this run: dec (30.5)." in text
    costs = text[text.index("## Cost per stage"):]
    rows = {line.split("|")[1].strip(): line for line in costs.splitlines() if line.startswith("| ")}
    assert rows["kmeans"].split("|")[-3].strip() == "1.1" and rows["dec"].split("|")[-3].strip() == "30.5"


def test_a_published_figure_for_other_params_is_not_compared(tmp_path):
    """The supervised baseline's 95.57% is for 100 labels a class; the default trains on all of them."""
    write(tmp_path, "supervised", "classification", {"supervised": {"test_accuracy": 0.99, "validation_accuracy": 0.98}},
          120.0, {"pretrain": 120.0, "predict": 2.0, "evaluate": 3.0})
    text = build(tmp_path, ["supervised"])
    assert "95.6" not in text and "99.4 (MiniBYOL" in text


def test_one_chart_per_task_over_seeds_with_the_published_figure(tmp_path):
    import pandas as pd

    write(tmp_path, "kmeans", "clustering", {"kmeans": CLUSTERING}, 60.0, {"cluster": 60.0, "evaluate": 6.0})
    write(tmp_path, "moco", "clustering", {"moco": {**CLUSTERING, "cluster_acc": 0.97}}, 60.0,
          {"pretrain": 50.0, "cluster": 10.0, "evaluate": 6.0})
    seeds = {"moco": {"method": "moco", "task": "clustering", "seeds": [0, 1, 2], "commit": "abc1234",
                      "scores": {"cluster_acc": {"mean": 0.925, "std": 0.01, "n": 3}}}}
    text = build(tmp_path, ["kmeans", "moco"], seeds)
    assert "![clustering: each method's headline score over its seeds, the published figure marked](charts/clustering.png)" in text
    chart = pd.read_csv(tmp_path / "charts" / "clustering.csv")
    assert chart["method"].tolist() == ["kmeans", "moco"] and chart["seeds"].tolist() == [1, 3]
    assert chart["score"].tolist() == [50.0, 92.5] and chart["spread"].tolist() == [0.0, 1.0]
    assert chart["published"].notna().all(), "k-means and MoCo both have the seed poster's figure"
    assert (tmp_path / "charts" / "clustering.png").stat().st_size > 5000


def test_encoders_report_puts_every_encoder_on_one_protocol_with_its_targets(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import numpy as np

    from uvl.data import datasets
    from uvl.reports import encoders

    monkeypatch.setattr(datasets, "load", lambda name, train_limit, test_limit: SimpleNamespace(
        train_images=np.zeros(6000), test_images=np.zeros(1000)))
    probes = {"linear_probe_acc": 0.99, "knn_acc": 0.97}
    for name, extra in (("moco", {}), ("byol", {"linear_probe_acc": 0.995, "knn_acc": 0.992})):
        write(tmp_path, name, "clustering", {name: {**CLUSTERING, **probes, **extra},
                                             f"{name}_kmeans_whitened": CLUSTERING, f"{name}_kmeans": CLUSTERING},
              700.0, {"pretrain": 700.0, "cluster": 100.0, "evaluate": 30.0})
    write(tmp_path, "kmeans", "clustering", {"kmeans": CLUSTERING}, 60.0, {"cluster": 60.0, "evaluate": 6.0})
    seeds = {"moco": {"scores": {"knn_acc": {"mean": 0.98, "std": 0.002, "n": 3}}}}
    text = encoders.build(["kmeans", "moco", "byol"], PARAMS, tmp_path / "metrics", tmp_path / "records",
                          tmp_path / "plots", seeds)
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert [line.split("|")[1].strip() for line in table[1:]] == ["moco", "byol"]  # encoders only, kmeans is not
    moco = [c.strip() for c in table[1].split("|")[1:-1]]
    assert moco[1:4] == ["99.0", "98.0 ± 0.2", "50.0"] and moco[5] == "3"  # the seeds' kNN where they exist
    epochs, batch = PARAMS["moco"]["epochs"], PARAMS["moco"]["batch_size"]
    assert moco[7] == f"{epochs * (7000 // batch) * batch / 700:,.0f}"  # images/s over the pretrain stage
    assert "- **moco**: linear probe 99.0% against 98.5%: meets it; kNN 98.0 ± 0.2% against 97.5%: meets it." in text
    assert "best kNN: **byol**, 99.2%: 0.1 points short." in text
    assert "best linear probe: **byol**, 99.5%: meets it." in text
    assert "- **byol**, linear probe: MiniBYOL reports 98.2%; ours 99.5%, 1.3 points higher." in text
