"""The seeds table from `dvc exp show --json` (structure as DVC 3.67 prints it)."""

import pytest

from uvl import seeds
from uvl.reports.seeds import collect, render, table_rows

BASE = {"pipeline": {"methods": {"kmeans": "data/prepared/mnist.npz", "ae": "models/ae"}},
        "kmeans": {"n_init": 10, "seed": 0}, "ae": {"epochs": 50, "seed": 0}}


def run(seed, kmeans_acc, ae_acc, state="success", machine="CPU A", **changes):
    params = {**BASE, "kmeans": {**BASE["kmeans"], "seed": seed, **changes}, "ae": {**BASE["ae"], "seed": seed}}
    stages = {"cluster": {"machine": machine}, "evaluate": {"machine": "CPU Z"}}
    return {"rev": f"rev{seed}", "name": f"seed-{seed}", "params": {"params.yaml": {"data": params}}, "metrics": {
        "metrics/kmeans.json": {"data": {"acc": kmeans_acc, "test_acc": kmeans_acc, "stages": stages}},
        "metrics/ae.json": {"data": {"acc": ae_acc, "test_acc": ae_acc, "linear_probe_acc": 0.9, "knn_acc": 0.95,
                                     "stages": {**stages, "pretrain": {"machine": f"{machine}'s twin"}},
                                     "variants": {"ae_kmeans": {"acc": ae_acc - 0.2, "test_acc": ae_acc - 0.2}}}},
    }}, state


def shown(*experiments):
    baseline, _ = run(0, 0.50, 0.80)
    return [{"rev": "workspace", "data": baseline},
            {"rev": "abc1234", "data": baseline, "experiments": [
                {"executor": {"state": state}, "revs": [{"data": data}]} for data, state in experiments]}]


def test_mean_and_std_over_seeds_other_params_and_failures_left_out():
    frame = collect(shown(run(1, 0.54, 0.82), run(2, 0.52, 0.84), run(3, 0.99, 0.99, n_init=1),
                          run(4, 0.10, 0.10, state="failed"), run(1, 0.54, 0.82)))
    assert sorted(frame[frame.method == "kmeans"].seed) == [0, 1, 2]  # duplicates of seed 1 count once
    table = render(table_rows(frame, "abc1234"))
    kmeans = next(line for line in table.splitlines() if line.startswith("| kmeans"))
    ae = next(line for line in table.splitlines() if line.startswith("| ae"))
    assert "| 0, 1, 2 |" in kmeans and "52.0 ± 2.0" in kmeans  # mean of 50, 54, 52 and their sample std
    assert "82.0 ± 2.0" in ae and "90.0 ± 0.0" in ae and "91.2 (seed poster" in ae


def test_an_experiment_of_seed_0_replaces_the_commits_own_metrics():
    # the commit changed the code and left the retraining to its experiments: its metrics are the old code's
    frame = collect(shown(run(0, 0.60, 0.90), run(1, 0.54, 0.82)))
    assert frame[(frame.row == "kmeans") & (frame.seed == 0)].acc.tolist() == [0.60]


def test_fewer_than_three_seeds_is_said():
    table = render(table_rows(collect(shown(run(1, 0.54, 0.82))), "abc1234"))
    assert "0, 1 (fewer than 3)" in table


@pytest.mark.parametrize("entries", [[], [{"rev": "workspace", "data": {}}]])
def test_no_runs_yet(entries):
    assert "No finished run yet" in render(table_rows(collect(entries), "abc1234"))


@pytest.fixture
def pipeline(monkeypatch):
    monkeypatch.setattr(seeds, "pipeline_methods", lambda: ["kmeans", "ae", "moco"])


def test_queue_sets_every_seed_and_runs_the_whole_pipeline(monkeypatch, pipeline):
    calls = []
    monkeypatch.setattr(seeds.subprocess, "run", lambda args, **kwargs: calls.append(args))
    seeds.queue([1, 2], only=[])
    assert [c[c.index("--name") + 1] for c in calls] == ["seed-1", "seed-2"]
    assert [a for a in calls[0] if "=" in a] == ["kmeans.seed=1", "ae.seed=1", "moco.seed=1"]
    assert not any(a.startswith("evaluate@") for a in calls[0])


def test_queue_only_some_methods_runs_their_chains_alone(monkeypatch, pipeline):
    calls = []
    monkeypatch.setattr(seeds.subprocess, "run", lambda args, **kwargs: calls.append(args))
    seeds.queue([1], only=["moco"])
    assert [a for a in calls[0] if "@" in a or "=" in a] == ["evaluate@moco", "moco.seed=1"]


def test_queue_only_a_method_with_an_upstream_model_reseeds_that_model_too(monkeypatch):
    calls = []
    monkeypatch.setattr(seeds, "pipeline_methods", lambda: ["sae", "dec", "idec"])
    monkeypatch.setattr(seeds.subprocess, "run", lambda args, **kwargs: calls.append(args))
    seeds.queue([2], only=["idec", "dec"])
    assert [a for a in calls[0] if "@" in a or "=" in a] == [
        "evaluate@idec", "evaluate@dec", "idec.seed=2", "sae.seed=2", "dec.seed=2"]


def test_queue_refuses_an_unknown_method(monkeypatch, pipeline):
    monkeypatch.setattr(seeds.subprocess, "run", lambda args, **kwargs: pytest.fail("nothing may be queued"))
    with pytest.raises(SystemExit, match="--only mocco: not in params.yaml's pipeline.methods"):
        seeds.queue([1], only=["mocco"])


def test_each_row_names_its_commit_and_only_replaces_the_named_rows(pipeline):
    earlier = seeds.report(collect(shown(run(1, 0.54, 0.82), run(2, 0.52, 0.84))), "old1234", [], "")
    assert "| kmeans | 0, 1, 2 |" in earlier and earlier.count("| old1234 |") == 3
    # a later commit reran the autoencoder alone: its row is new, kmeans keeps the earlier commit's row
    later = seeds.report(collect(shown(run(1, 0.60, 0.90))), "new5678", ["ae"], earlier)
    kmeans, ae = (next(line for line in later.splitlines() if line.startswith(f"| {m} |")) for m in ("kmeans", "ae"))
    assert kmeans.endswith("| old1234 |") and "52.0 ± 2.0" in kmeans
    assert ae.endswith("| new5678 |") and "0, 1 (fewer than 3)" in ae and "85.0 ± 7.1" in ae
    assert [line.split("|")[1].strip() for line in later.splitlines() if line.startswith("| ") and "---" not in line][1:] \
        == ["kmeans", "ae", "ae_kmeans"]  # pipeline order, a method's variants after it


def test_each_variant_row_gets_its_own_line_after_its_method(pipeline):
    table = seeds.report(collect(shown(run(1, 0.54, 0.82), run(2, 0.52, 0.84))), "abc1234", [], "")
    lines = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [line.split("|")[1].strip() for line in lines] == ["kmeans", "ae", "ae_kmeans"]
    assert "| 0, 1, 2 | 62.0 ± 2.0 | 62.0 ± 2.0 |  |  |" in lines[2]  # no probes: same features as the headline
    later = seeds.report(collect(shown(run(1, 0.60, 0.90))), "new5678", ["ae"], table)
    assert [line for line in later.splitlines() if line.startswith("| ae_kmeans")][0].endswith("| new5678 |")
    assert seeds.method_of("moco_kmeans_whitened", ["moco", "kmeans"]) == "moco"


def test_each_row_names_the_machine_that_fitted_its_models(pipeline):
    table = seeds.report(collect(shown(run(1, 0.54, 0.82), run(2, 0.52, 0.84, machine="CPU B"))), "abc1234", [], "")
    kmeans, ae = (next(line for line in table.splitlines() if line.startswith(f"| {m} |")) for m in ("kmeans", "ae"))
    assert "| CPU A (seeds 0, 1); CPU B (seed 2) | abc1234 |" in kmeans  # cluster@'s machine for an untrained method
    assert "| CPU A's twin (seeds 0, 1); CPU B's twin (seed 2) | abc1234 |" in ae  # pretrain@'s for a trained one
    one = seeds.report(collect(shown(run(1, 0.54, 0.82))), "abc1234", [], "")
    assert "| CPU A | abc1234 |" in one


def test_rows_kept_from_a_table_without_machines_point_to_their_commit(pipeline):
    earlier = seeds.report(collect(shown(run(1, 0.54, 0.82), run(2, 0.52, 0.84))), "old1234", [], "")
    old_format = "\n".join(line.replace("| CPU A | ", "| ").replace("| CPU A's twin | ", "| ")
                           .replace("|---|---|---|", "|---|---|").replace("| machine | commit |", "| commit |")
                           for line in earlier.splitlines())
    assert seeds.OLD_HEADER in old_format.splitlines()
    later = seeds.report(collect(shown(run(1, 0.60, 0.90))), "new5678", ["ae"], old_format)
    kmeans = next(line for line in later.splitlines() if line.startswith("| kmeans |"))
    assert kmeans.endswith("| 52.0 ± 2.0 |  |  | 75.2 (seed poster) | see its commit | old1234 |")
    assert seeds.HEADER[0] in later.splitlines()
