"""The report's tables from metrics files alone."""

import json

from uvl.reports import results as report


def test_cost_table_totals_each_chain_from_the_pixels_and_names_those_over_budget(tmp_path):
    scores = {"acc": 0.5, "nmi": 0.5, "ari": 0.4, "test_acc": 0.5, "seed": 0, "n_images": 70_000, "n_test": 10_000}
    stage = {"peak_memory_mb": 900.0, "machine": "a CPU"}
    (tmp_path / "kmeans.json").write_text(json.dumps({**scores, "train_seconds": 60.0, "stages": {
        "cluster": {**stage, "seconds": 60.0}, "evaluate": {**stage, "seconds": 6.0}}}))
    # DEC's fit time counts the autoencoder it starts from, so its chain is more than its own stages
    (tmp_path / "dec.json").write_text(json.dumps({**scores, "train_seconds": 1_790.0, "stages": {
        "pretrain": {**stage, "seconds": 1_085.0}, "cluster": {**stage, "seconds": 5.0},
        "evaluate": {**stage, "seconds": 40.0}}}))

    text = report.build(["kmeans", "dec"], tmp_path, tmp_path / "plots")

    assert "Budget: 30 minutes per method on 2 CPU cores; over it in this run: dec (30.5)." in text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    assert rows["kmeans"].split("|")[-3].strip() == "1.1" and rows["dec"].split("|")[-3].strip() == "30.5"
