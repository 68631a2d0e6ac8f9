"""The seeds tables and reports/seeds.json from `dvc exp show --json` (structure as DVC 3.67 prints it)."""

import json

import pytest

from uvl.reports import seeds
from uvl.reports.seeds import collect, render, summaries, table_rows

BASE = {"data": {"train_limit": None, "test_limit": None},
        "pipeline": {"methods": ["kmeans", "ae", "supervised"]},
        "kmeans": {"dataset": "mnist", "n_init": 10, "seed": 0},
        "ae": {"dataset": "mnist", "epochs": 50, "seed": 0},
        "supervised": {"dataset": "mnist", "labels": {"per_class": 100, "noise_rate": 0.0, "seed": 0}, "epochs": 12, "seed": 0}}
MACHINES = {}  # experiment commit -> the machine its records name


def clustering(acc):
    return {"cluster_acc": acc, "cluster_nmi": acc - 0.1, "cluster_ari": acc - 0.2, "test_cluster_acc": acc,
            "test_cluster_nmi": acc - 0.1, "test_cluster_ari": acc - 0.2, "selected_on": "label-free"}


def data(seed, kmeans_acc, ae_acc, machine="CPU A", label_seed=None, sha=None, **changes):
    sha = sha or f"{seed:02d}{kmeans_acc:.2f}{ae_acc:.2f}{machine}{sorted(changes.items())}"
    MACHINES[sha] = machine
    params = {**BASE, "kmeans": {**BASE["kmeans"], "seed": seed, **changes}, "ae": {**BASE["ae"], "seed": seed},
              "supervised": {**BASE["supervised"], "seed": seed,
                             "labels": {**BASE["supervised"]["labels"], "seed": seed if label_seed is None else label_seed}}}
    return {"rev": sha, "timestamp": "2025-01-01T00:00:00", "params": {"params.yaml": {"data": params}}, "metrics": {
        "metrics/kmeans/kmeans.json": {"data": clustering(kmeans_acc)},
        "metrics/ae/ae.json": {"data": {**clustering(ae_acc), "linear_probe_acc": 0.9, "knn_acc": 0.95}},
        "metrics/ae/ae_kmeans.json": {"data": clustering(ae_acc - 0.2)},
        "metrics/supervised/supervised.json": {"data": {"test_accuracy": 0.95 + seed / 100,
                                                        "validation_accuracy": 0.94, "selected_on": "not tuned"}},
    }, "deps": {}, "outs": {}, "meta": {"has_checkpoints": False}}


def run(seed, kmeans_acc, ae_acc, state="success", **kwargs):
    exp = data(seed, kmeans_acc, ae_acc, **kwargs)
    name = f"seed-{seed}"
    return {"revs": [{"rev": exp["rev"], "name": name, "data": exp, "error": None, "experiments": None}],
            "executor": {"state": state, "name": "dvc-task", "local": None}, "name": name}


def shown(*experiments):
    baseline = data(0, 0.50, 0.80, sha="abc1234ffff")
    return [{"rev": "workspace", "name": None, "data": {**baseline, "rev": "workspace"}, "error": None,
             "experiments": None},
            {"rev": "abc1234ffff", "name": "main", "data": baseline, "error": None, "experiments": list(experiments)}]


@pytest.fixture(autouse=True)
def records(monkeypatch):
    """records/<method>.json of each run's commit, as `git show` would read them."""
    def read_record(rev, method):
        if rev not in MACHINES:
            return None
        stages = {"cluster": {"machine": MACHINES[rev]}, "evaluate": {"machine": "CPU Z"}}
        if method != "kmeans":  # a trained method
            stages["pretrain"] = {"machine": f"{MACHINES[rev]}'s twin"}
        return {"task": "clustering", "rows": [method], "seed": 0, "stages": stages}

    monkeypatch.setattr(seeds, "read_record", read_record)


@pytest.fixture(autouse=True)
def pipeline(monkeypatch):
    monkeypatch.setattr(seeds, "pipeline_params", lambda: BASE)


def lines_of(table, prefix):
    return [line for line in table.splitlines() if line.startswith(prefix)]


def row_names(table):
    return [line.split("|")[1].strip() for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| row |")]


def test_mean_and_std_over_seeds_other_params_and_failures_left_out():
    frame = collect(shown(run(1, 0.54, 0.82), run(2, 0.52, 0.84), run(3, 0.99, 0.99, n_init=1),
                          run(4, 0.10, 0.10, state="failed"), run(1, 0.54, 0.82)))
    assert sorted(frame[frame.row == "kmeans"].seed) == [0, 1, 2]  # duplicates of seed 1 count once
    table = render(table_rows(frame, "abc1234"))
    kmeans, = lines_of(table, "| kmeans |")
    ae, = lines_of(table, "| ae |")
    assert "| 0, 1, 2 |" in kmeans and "| 52.0 ± 2.0 | 42.0 ± 2.0 | 32.0 ± 2.0 | 52.0 ± 2.0 |" in kmeans
    assert "82.0 ± 2.0" in ae and "90.0 ± 0.0" in ae and "91.2 (seed poster, AE(GMM))" in ae


def test_the_label_draws_seed_is_a_seed_too():
    # a queued seed sets supervised.labels.seed as well: such a run still counts
    frame = collect(shown(run(1, 0.54, 0.82), run(2, 0.52, 0.84, label_seed=7)))
    assert sorted(frame[frame.row == "supervised"].seed) == [0, 1, 2]


def test_an_experiment_of_seed_0_replaces_the_commits_own_metrics():
    # the commit changed the code and left the retraining to its experiments: its metrics are the old code's
    frame = collect(shown(run(0, 0.60, 0.90), run(1, 0.54, 0.82)))
    assert frame[(frame.row == "kmeans") & (frame.seed == 0)].cluster_acc.tolist() == [0.60]


def test_fewer_than_three_seeds_is_said():
    table = render(table_rows(collect(shown(run(1, 0.54, 0.82))), "abc1234"))
    assert "0, 1 (fewer than 3)" in table


@pytest.mark.parametrize("entries", [[], [{"rev": "workspace", "data": {}}]])
def test_no_runs_yet(entries):
    assert "No finished run yet" in render(table_rows(collect(entries), "abc1234"))
    assert summaries(table_rows(collect(entries), "abc1234")) == {}


def test_one_table_per_task_with_its_columns_and_the_published_figures_that_apply():
    table = render(seeds.report(collect(shown(run(1, 0.54, 0.82), run(2, 0.52, 0.84))), "abc1234", []))
    assert "## Clustering" in table and "## Classification" in table
    assert table.index("## Clustering") < table.index("| kmeans |") < table.index("## Classification") \
        < table.index("| supervised |")
    assert "| row | seeds | ACC | NMI | ARI | test ACC | linear probe | kNN | published | machine | commit |" in table
    assert "| row | seeds | test accuracy | validation accuracy | published | machine | commit |" in table
    supervised, = lines_of(table, "| supervised |")
    # labels.per_class 100 in the baseline's section: the 1,000-label figure, not the all-labels one
    assert supervised == ("| supervised | 0, 1, 2 | 96.0 ± 1.0 | 94.0 ± 0.0 | 95.6 (seed lecture notes, 1,000 labels) "
                          "| CPU A's twin | abc1234 |")


def test_the_json_holds_every_row_in_fractions():
    rows = seeds.report(collect(shown(run(1, 0.54, 0.82), run(2, 0.52, 0.84))), "abc1234", [])
    summary = json.loads(json.dumps(summaries(rows)))
    assert list(summary) == ["kmeans", "ae", "ae_kmeans", "supervised"]
    assert summary["kmeans"]["method"] == "kmeans" and summary["kmeans"]["task"] == "clustering"
    assert summary["kmeans"]["seeds"] == [0, 1, 2] and summary["kmeans"]["commit"] == "abc1234"
    acc = summary["kmeans"]["scores"]["cluster_acc"]
    assert acc["n"] == 3 and acc["mean"] == pytest.approx(0.52) and acc["std"] == pytest.approx(0.02)  # n - 1
    assert "linear_probe_acc" not in summary["kmeans"]["scores"]  # k-means has no features to probe
    assert summary["supervised"]["task"] == "classification"
    assert set(summary["supervised"]["scores"]) == {"test_accuracy", "validation_accuracy"}
    one = summaries(seeds.report(collect(shown()), "abc1234", []))
    assert one["kmeans"]["scores"]["cluster_acc"] == {"mean": 0.5, "std": 0.0, "n": 1}


def queued(monkeypatch, params, seed_list, only):
    calls = []
    monkeypatch.setattr(seeds, "pipeline_params", lambda: params)
    monkeypatch.setattr(seeds.subprocess, "run", lambda args, **kwargs: calls.append(args))
    seeds.queue(seed_list, only=only)
    return calls


def test_queue_sets_every_seed_and_the_label_draws_and_runs_the_whole_pipeline(monkeypatch):
    calls = queued(monkeypatch, BASE, [1, 2], [])
    assert [c[c.index("--name") + 1] for c in calls] == ["seed-1", "seed-2"]
    assert calls[0][:4] == ["dvc", "exp", "run", "--queue"]
    assert [a for a in calls[0] if "=" in a] == ["kmeans.seed=1", "ae.seed=1", "supervised.seed=1",
                                                 "supervised.labels.seed=1"]
    assert all(calls[0][calls[0].index(a) - 1] == "-S" for a in calls[0] if "=" in a)
    assert not any(a.startswith("evaluate") for a in calls[0])


def test_queue_only_some_methods_runs_their_chains_alone(monkeypatch):
    calls = queued(monkeypatch, BASE, [1], ["supervised"])
    assert [a for a in calls[0] if "-" in a and not a.startswith("-") or "=" in a] == [
        "seed-1", "evaluate-supervised", "supervised.seed=1", "supervised.labels.seed=1"]


def test_queue_only_a_method_with_an_upstream_model_reseeds_that_model_too(monkeypatch):
    params = {"pipeline": {"methods": ["sae", "dec", "idec"]}, "sae": {"seed": 0},
              "dec": {"autoencoder": "sae", "seed": 0}, "idec": {"autoencoder": "sae", "seed": 0}}
    calls = queued(monkeypatch, params, [2], ["idec", "dec"])
    assert [a for a in calls[0] if a.startswith("evaluate-") or "=" in a] == [
        "evaluate-idec", "evaluate-dec", "idec.seed=2", "sae.seed=2", "dec.seed=2"]


def test_queue_refuses_an_unknown_method(monkeypatch):
    monkeypatch.setattr(seeds.subprocess, "run", lambda args, **kwargs: pytest.fail("nothing may be queued"))
    with pytest.raises(SystemExit, match="--only mocco: not in params.yaml's pipeline.methods"):
        seeds.queue([1], only=["mocco"])


def test_each_row_names_its_commit_and_only_replaces_the_named_rows():
    earlier = render(seeds.report(collect(shown(run(1, 0.54, 0.82), run(2, 0.52, 0.84))), "old1234", []))
    assert "| kmeans | 0, 1, 2 |" in earlier and earlier.count("| old1234 |") == 4
    # a later commit reran the autoencoder alone: its rows are new, the others keep the earlier commit's
    later = render(seeds.report(collect(shown(run(1, 0.60, 0.90))), "new5678", ["ae"], earlier))
    kmeans, = lines_of(later, "| kmeans |")
    ae, = lines_of(later, "| ae |")
    supervised, = lines_of(later, "| supervised |")
    assert kmeans.endswith("| old1234 |") and "52.0 ± 2.0" in kmeans and supervised.endswith("| old1234 |")
    assert ae.endswith("| new5678 |") and "0, 1 (fewer than 3)" in ae and "85.0 ± 7.1" in ae
    assert row_names(later) == ["kmeans", "ae", "ae_kmeans", "supervised"]  # pipeline order, variants after


def test_each_variant_row_gets_its_own_line_after_its_method():
    table = render(seeds.report(collect(shown(run(1, 0.54, 0.82), run(2, 0.52, 0.84))), "abc1234", []))
    assert row_names(table) == ["kmeans", "ae", "ae_kmeans", "supervised"]
    ae_kmeans, = lines_of(table, "| ae_kmeans |")
    assert "| 0, 1, 2 | 62.0 ± 2.0 | 52.0 ± 2.0 | 42.0 ± 2.0 | 62.0 ± 2.0 |  |  |  |" in ae_kmeans  # no probes
    later = render(seeds.report(collect(shown(run(1, 0.60, 0.90))), "new5678", ["ae"], table))
    assert lines_of(later, "| ae_kmeans |")[0].endswith("| new5678 |")
    assert seeds.method_of("moco_kmeans_whitened", ["moco", "kmeans"]) == "moco"


def test_each_row_names_the_machine_that_fitted_its_models():
    table = render(seeds.report(collect(shown(run(1, 0.54, 0.82), run(2, 0.52, 0.84, machine="CPU B"))),
                                "abc1234", []))
    kmeans, = lines_of(table, "| kmeans |")
    ae, = lines_of(table, "| ae |")
    assert "| CPU A (seeds 0, 1); CPU B (seed 2) | abc1234 |" in kmeans  # cluster's machine: an untrained method
    assert "| CPU A's twin (seeds 0, 1); CPU B's twin (seed 2) | abc1234 |" in ae  # pretrain's for a trained one
    one = render(seeds.report(collect(shown(run(1, 0.54, 0.82))), "abc1234", []))
    assert "| CPU A | abc1234 |" in one


def test_a_run_without_readable_records_is_not_recorded(monkeypatch):
    monkeypatch.setattr(seeds, "read_record", lambda rev, method: None)
    table = render(seeds.report(collect(shown(run(1, 0.54, 0.82))), "abc1234", []))
    assert lines_of(table, "| kmeans |")[0].endswith("| not recorded | abc1234 |")
    assert seeds.machine_of({"stages": {"evaluate": {"machine": "CPU Z"}}}) == seeds.NOT_RECORDED


OLD = """# Scores over seeds

Generated by `python -m uvl.seeds` from `dvc exp show --json`; do not edit by hand.

| method | seeds | ACC | test ACC | linear probe | kNN | published ACC | machine | commit |
|---|---|---:|---:|---:|---:|---|---|---|
| kmeans | 0, 1, 2 | 53.7 ± 0.4 | 54.7 ± 0.1 |  |  | 75.2 (seed poster) | see its commit | 39abe38 |
| ae | 0, 1, 2 | 91.4 ± 0.2 | 92.4 ± 0.2 | 91.6 ± 0.3 | 94.8 ± 0.0 | 91.2 (seed poster, AE(GMM)) | CPU Q | 2e4767e1 |
| ae_kmeans | 0, 1 (fewer than 3) | 62.9 ± 0.2 | 63.6 ± 0.4 |  |  |  | see its commit | 2e4767e1 |
| removed_method | 0, 1, 2 | 50.0 ± 0.1 | 50.0 ± 0.1 |  |  |  | see its commit | 2e4767e1 |
"""


def test_rows_kept_from_the_older_single_table_land_in_the_clustering_table_and_the_json():
    rows = seeds.report(collect(shown(run(1, 0.60, 0.90))), "new5678", ["supervised"], OLD)
    table = render(rows)
    assert row_names(table) == ["kmeans", "ae", "ae_kmeans", "supervised"]  # a method no longer run is dropped
    kmeans, = lines_of(table, "| kmeans |")
    assert kmeans == "| kmeans | 0, 1, 2 | 53.7 ± 0.4 |  |  | 54.7 ± 0.1 |  |  | 75.2 (seed poster) | see its commit | 39abe38 |"
    assert lines_of(table, "| ae |")[0].endswith("| 94.8 ± 0.0 | 91.2 (seed poster, AE(GMM)) | CPU Q | 2e4767e1 |")
    assert table.index("| ae_kmeans |") < table.index("## Classification") < table.index("| supervised |")
    summary = summaries(rows)
    assert summary["kmeans"] == {"method": "kmeans", "task": "clustering", "seeds": [0, 1, 2], "commit": "39abe38",
                                 "scores": {"cluster_acc": {"mean": 0.537, "std": 0.004, "n": 3},
                                            "test_cluster_acc": {"mean": 0.547, "std": 0.001, "n": 3}}}
    assert summary["ae"]["scores"]["knn_acc"] == {"mean": 0.948, "std": 0.0, "n": 3}
    assert summary["ae_kmeans"]["seeds"] == [0, 1] and summary["ae_kmeans"]["scores"]["cluster_acc"]["n"] == 2
    assert summary["supervised"]["commit"] == "new5678"


def test_rows_kept_from_a_table_without_machines_point_to_their_commit():
    no_machine = OLD.replace(" | see its commit |", " |").replace(" | CPU Q |", " |") \
        .replace("| machine | commit |", "| commit |").replace("|---|---|---|\n", "|---|---|\n")
    later = render(seeds.report(collect(shown(run(1, 0.60, 0.90))), "new5678", ["ae"], no_machine))
    kmeans, = lines_of(later, "| kmeans |")
    assert kmeans.endswith("| 54.7 ± 0.1 |  |  | 75.2 (seed poster) | see its commit | 39abe38 |")
    assert lines_of(later, "| ae |")[0].endswith("| new5678 |")


def test_rewrite_keeps_every_row_and_the_jsons_unrounded_scores():
    rows = seeds.report(collect(shown(run(1, 0.54, 0.82), run(2, 0.521, 0.84))), "abc1234", [])
    table, summary = render(rows), summaries(rows)
    again = seeds.report(collect([]), "", [], table, summary, keep_all=True)
    assert render(again) == table
    assert summaries(again) == summary  # the json's figures, not the table's rounded ones
    from_table_alone = summaries(seeds.report(collect([]), "", [], table, {}, keep_all=True))
    assert from_table_alone["kmeans"]["scores"]["cluster_acc"]["mean"] == 0.52  # 52.0 in the table
    assert set(from_table_alone) == set(summary)
    assert "No finished run yet" in render(seeds.report(collect([]), "", [], "", {}, keep_all=True))
