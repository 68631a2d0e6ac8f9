"""The seeds table from `dvc exp show --json` (structure as DVC 3.67 prints it)."""

import pytest

from uvl import seeds
from uvl.seeds import collect, render

BASE = {"pipeline": {"methods": {"kmeans": "data/prepared/mnist.npz", "ae": "models/ae"}},
        "kmeans": {"n_init": 10, "seed": 0}, "ae": {"epochs": 50, "seed": 0}}


def run(seed, kmeans_acc, ae_acc, state="success", **changes):
    params = {**BASE, "kmeans": {**BASE["kmeans"], "seed": seed, **changes}, "ae": {**BASE["ae"], "seed": seed}}
    return {"rev": f"rev{seed}", "name": f"seed-{seed}", "params": {"params.yaml": {"data": params}}, "metrics": {
        "metrics/kmeans.json": {"data": {"acc": kmeans_acc, "test_acc": kmeans_acc}},
        "metrics/ae.json": {"data": {"acc": ae_acc, "test_acc": ae_acc, "linear_probe_acc": 0.9, "knn_acc": 0.95}},
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
    table = render(frame)
    kmeans = next(line for line in table.splitlines() if line.startswith("| kmeans"))
    ae = next(line for line in table.splitlines() if line.startswith("| ae"))
    assert "| 0, 1, 2 |" in kmeans and "52.0 ± 2.0" in kmeans  # mean of 50, 54, 52 and their sample std
    assert "82.0 ± 2.0" in ae and "90.0 ± 0.0" in ae and "91.2 (seed poster" in ae


def test_fewer_than_three_seeds_is_said():
    table = render(collect(shown(run(1, 0.54, 0.82))))
    assert "0, 1 (fewer than 3)" in table


@pytest.mark.parametrize("entries", [[], [{"rev": "workspace", "data": {}}]])
def test_no_runs_yet(entries):
    assert "No finished run yet" in render(collect(entries))


def test_queue_sets_every_seed_but_the_skipped_methods(monkeypatch):
    calls = []
    monkeypatch.setattr(seeds.subprocess, "run", lambda args, **kwargs: calls.append(args))
    seeds.queue([1, 2], skip=["infogan"])
    assert [c[c.index("--name") + 1] for c in calls] == ["seed-1", "seed-2"]
    first = calls[0]
    settings = [first[i + 1] for i, arg in enumerate(first) if arg == "-S"]
    assert "moco.seed=1" in settings and "sae.seed=1" in settings and "kmeans.seed=1" in settings
    assert not any(s.startswith("infogan.") for s in settings)


def test_queue_refuses_an_unknown_method_to_skip(monkeypatch):
    monkeypatch.setattr(seeds.subprocess, "run", lambda args, **kwargs: pytest.fail("nothing may be queued"))
    with pytest.raises(SystemExit, match="--skip mocco: not in params.yaml's pipeline.methods"):
        seeds.queue([1], skip=["mocco"])


def test_the_table_names_its_baseline_commit():
    assert "params of commit abc1234 " in render(collect(shown(run(1, 0.54, 0.82))), "abc1234")
