"""The ablation table from `dvc exp show --json` (structure as DVC 3.67 prints it)."""

from uvl.reports.ablation import collect, render


def experiment(name, queue_size, momentum, acc, state="success", epochs=5):
    return {
        "executor": {"state": state},
        "revs": [{"data": {
            "rev": name[:7], "name": name,
            "params": {"params.yaml": {"data": {"moco": {"queue_size": queue_size, "momentum": momentum,
                                                         "epochs": epochs}}}},
            "metrics": {"metrics/moco.json": {"data": {"acc": acc, "knn_acc": 0.9, "n_images": 70000}}},
        }}],
    }


def test_grid_rows_momentum_columns_queue_size_failed_runs_left_out():
    workspace = experiment("workspace", 16, 0.9, 0.0)["revs"][0]["data"]
    shown = [{"rev": "workspace", "data": workspace}, {
        "rev": "abc1234", "data": {"rev": "abc1234", "params": {}, "metrics": {}},
        "experiments": [
            experiment("exp-a", 16, 0.9, 0.5),
            experiment("exp-b", 32, 0.9, 0.6),
            experiment("exp-c", 16, 0.99, 0.7),
            experiment("exp-d", 16, 0.99, 0.9),
            experiment("exp-e", 32, 0.99, 0.1, state="failed"),
        ],
    }]
    frame = collect(shown)
    assert sorted(frame.experiment) == ["exp-a", "exp-b", "exp-c", "exp-d"]  # not the workspace: HEAD's again
    table = render(frame)
    assert "## Budget: 5 epochs on 70,000 images" in table and "Reduced budget (CPU)." in table
    header, _, row_09, row_099 = [line for line in table.splitlines() if line.startswith("|")]
    assert "16" in header and "32" in header
    assert "50.0 (90.0)" in row_09 and "60.0 (90.0)" in row_09
    assert "80.0 (90.0) x2 " in row_099  # two runs averaged (a count, not 2.0); the failed 32-cell stays empty


def test_no_experiments_yet():
    assert "No finished experiment" in render(collect([]))
