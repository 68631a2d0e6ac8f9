"""The ablation tables from `dvc exp show --json` (structure as DVC 3.67 prints it)."""

import pytest

from uvl.methods import moco
from uvl.published import PublishedGrid
from uvl.reports.ablation import collect, render

MOCO = {"queue_size": 4096, "momentum": 0.99, "epochs": 40, "augment": {"degrees": 20}, "seed": 0}
KMEANS = {"n_init": 10, "max_iter": 300, "seed": 0}


def data(name, method, section, scores, train_limit=None):
    params = {"data": {"source": "package", "train_limit": train_limit, "test_limit": None},
              "pipeline": {"methods": ["kmeans", "moco"]}, "kmeans": KMEANS, "moco": MOCO, method: section}
    return {"rev": f"{name}-sha", "params": {"params.yaml": {"data": params}},
            "metrics": {f"metrics/{method}/{method}.json": {"data": {**scores, "selected_on": "label-free"}},
                        f"metrics/{method}/{method}_kmeans.json": {"data": {"cluster_acc": 0.01}}}}


def experiment(name, method, section, scores, state="success", **kwargs):
    return {"revs": [{"rev": f"{name}-sha", "name": name, "data": data(name, method, section, scores, **kwargs),
                      "error": None, "experiments": None}],
            "executor": {"state": state, "name": "dvc-task", "local": None}, "name": name}


def mocos(name, queue_size, momentum, acc, state="success", epochs=5, seed=0, **kwargs):
    section = {**MOCO, "queue_size": queue_size, "momentum": momentum, "epochs": epochs, "seed": seed}
    return experiment(name, "moco", section, {"cluster_acc": acc, "knn_acc": 0.9}, state, **kwargs)


def shown(*experiments, baseline=None):
    baseline = baseline or {"rev": "abc1234-sha", "params": {"params.yaml": {"data": {"moco": MOCO, "kmeans": KMEANS}}},
                            "metrics": {}}
    return [{"rev": "workspace", "data": {**mocos("workspace", 16, 0.9, 0.0)["revs"][0]["data"], "rev": "workspace"}},
            {"rev": "abc1234-sha", "name": "main", "data": baseline, "experiments": list(experiments)}]


GRID = shown(mocos("exp-a", 16, 0.9, 0.5), mocos("exp-b", 32, 0.9, 0.6), mocos("exp-c", 16, 0.99, 0.7),
             mocos("exp-d", 16, 0.99, 0.9, seed=1), mocos("exp-e", 32, 0.99, 0.1, state="failed"))


def table_lines(text):
    return [line for line in text.splitlines() if line.startswith("|")]


def section_of(text, title):
    """The lines of a report from the heading `title` to the next heading of its level."""
    lines = text.splitlines()
    start = lines.index(title)
    level = title.split(" ")[0] + " "
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(level)), len(lines))
    return "\n".join(lines[start:end])


def test_grid_rows_param_a_columns_param_b_failed_runs_left_out():
    frame = collect(GRID, "moco", "momentum", "queue_size")
    assert sorted(frame.experiment) == ["exp-a", "exp-b", "exp-c", "exp-d"]  # not the workspace: HEAD's again
    ours = section_of(render(frame, "moco", "momentum", "queue_size"), "## Ours")
    assert "### Budget: 5 epochs, all images" in ours and "Reduced budget: 5 epochs (the default: 40)." in ours
    header, _, row_09, row_099 = table_lines(ours)
    assert header == "| momentum \\ queue_size | 16 | 32 |"
    assert row_09 == "| 0.9 | 50.0 (90.0) | 60.0 (90.0) |"
    assert row_099 == "| 0.99 | 80.0 ± 14.1 (90.0) x2 |  |"  # two runs averaged (a count, not 2.0); the failed cell empty


def test_the_poster_grid_beside_ours_and_the_difference_in_points():
    text = render(collect(GRID, "moco", "momentum", "queue_size"), "moco", "momentum", "queue_size")
    poster = section_of(text, "## Seed poster")
    assert "Seed poster, MoCo ablation" in poster and "does not state the training budget" in poster
    assert table_lines(poster)[0] == "| momentum \\ queue_size | 16 | 32 | 64 | 128 |"
    assert "| 0.99 | 92.98 | 93.27 | 96.91 | 96.14 |" in poster and "| 0.9999 | 91.20 | 93.80 | 94.46 | 93.67 |" in poster
    difference = section_of(text, "## Ours minus seed poster")
    assert table_lines(difference)[2:] == ["| 0.9 | -41.4 | -35.1 |", "| 0.99 | -13.0 |  |"]


def test_the_poster_grid_follows_the_axes_in_either_order():
    text = render(collect(GRID, "moco", "queue_size", "momentum"), "moco", "queue_size", "momentum")
    header, _, row_16, row_32 = table_lines(section_of(text, "## Ours"))
    assert header == "| queue_size \\ momentum | 0.9 | 0.99 |" and row_16 == "| 16 | 50.0 (90.0) | 80.0 ± 14.1 (90.0) x2 |"
    poster = table_lines(section_of(text, "## Seed poster"))
    assert poster[0] == "| queue_size \\ momentum | 0.9 | 0.99 | 0.999 | 0.9999 |"
    assert poster[2] == "| 16 | 91.38 | 92.98 | 92.91 | 91.20 |"
    assert table_lines(section_of(text, "## Ours minus seed poster"))[2] == "| 16 | -41.4 | -13.0 |"


def test_no_poster_for_other_axes():
    text = render(collect(GRID, "moco", "momentum", "epochs"), "moco", "momentum", "epochs")
    assert "poster" not in text.lower()
    assert "### Budget: all images" in text  # epochs is an axis here, not a budget
    assert table_lines(text)[0] == "| momentum \\ epochs | 5 |"


def test_any_two_params_of_any_method():
    def kmeans(name, n_init, max_iter, acc, seed=0, **kwargs):
        return experiment(name, "kmeans", {**KMEANS, "n_init": n_init, "max_iter": max_iter, "seed": seed},
                          {"cluster_acc": acc, "knn_acc": None}, **kwargs)

    entries = shown(kmeans("k-a", 1, 100, 0.50), kmeans("k-b", 1, 100, 0.54, seed=1), kmeans("k-c", 10, 100, 0.53),
                    kmeans("k-d", 10, 300, 0.2, state="failed"), kmeans("k-e", 10, 300, 0.40, train_limit=1000),
                    mocos("exp-a", 16, 0.9, 0.5))
    frame = collect(entries, "kmeans", "n_init", "max_iter")
    assert sorted(frame.experiment) == ["k-a", "k-b", "k-c", "k-e"]
    text = render(frame, "kmeans", "n_init", "max_iter")
    assert "poster" not in text.lower() and "kNN" in text.splitlines()[2]
    full = section_of(text, "### Budget: all images")  # k-means has no epochs: one table per data limits
    assert "Full default budget." in full
    assert table_lines(full) == ["| n_init \\ max_iter | 100 |", "|---:|---:|", "| 1 | 52.0 ± 2.8 x2 |", "| 10 | 53.0 |"]
    reduced = section_of(text, "### Budget: the first 1000 training and all test images")
    assert "Reduced data" in reduced and table_lines(reduced)[2] == "| 10 | 40.0 |"


def test_the_baseline_commit_counts_and_a_nested_param():
    baseline = data("abc1234", "moco", MOCO, {"cluster_acc": 0.97, "knn_acc": 0.975})
    entries = shown(mocos("exp-a", 16, 0.9, 0.5), baseline=baseline)
    frame = collect(entries, "moco", "augment.degrees", "queue_size")
    text = render(frame, "moco", "augment.degrees", "queue_size")
    ours = section_of(text, "### Budget: 40 epochs, all images")
    assert "Full default budget." in ours and table_lines(ours)[2] == "| 20 | 97.0 (97.5) |"  # the commit's own run
    assert table_lines(section_of(text, "### Budget: 5 epochs, all images"))[2] == "| 20 | 50.0 (90.0) |"


@pytest.mark.parametrize("entries", [[], [{"rev": "workspace", "data": {}}]])
def test_no_experiments_yet(entries):
    text = render(collect(entries, "moco", "momentum", "queue_size"), "moco", "momentum", "queue_size")
    assert "No finished experiment with moco metrics yet" in text
    assert "| 0.9 | 91.38 | 95.11 | 95.16 | 95.31 |" in text  # the poster's table all the same
    assert "Nothing to compare yet" in text


def test_the_poster_grid_is_the_seed_posters():
    grid = moco.PUBLISHED_GRID
    assert isinstance(grid, PublishedGrid) and (grid.row_param, grid.column_param) == ("momentum", "queue_size")
    assert len(grid.cells) == 16 and grid.cells[0.999, 64] == pytest.approx(0.9623)
    assert grid.oriented("queue_size", "momentum")[128, 0.9] == pytest.approx(0.9531)
    assert grid.oriented("momentum", "epochs") is None


def test_the_same_params_again_count_once():
    frame = collect(shown(mocos("exp-a", 16, 0.9, 0.5), mocos("exp-b", 16, 0.9, 0.5), mocos("exp-c", 16, 0.9, 0.7, seed=1)),
                    "moco", "momentum", "queue_size")
    assert sorted(frame.experiment) == ["exp-b", "exp-c"], "exp-b is exp-a's params again: the same run, the later counts"


def test_where_it_fails_row_by_row_with_the_left_out_classes_accuracy():
    def pseudo_label(name, per_class, left_out, accuracy, left_out_accuracy=None, draw=0):
        section = {"epochs": 16, "seed": 0, "labels": {"per_class": per_class, "classes_left_out": left_out, "seed": draw}}
        scores = {"test_accuracy": accuracy, "validation_accuracy": accuracy,
                  **({"left_out_accuracy": left_out_accuracy} if left_out_accuracy is not None else {})}
        return experiment(name, "pseudo_label", section, scores)

    entries = shown(pseudo_label("a", 100, [], 0.98), pseudo_label("b", 100, [], 0.97, draw=1), pseudo_label("c", 1, [], 0.90),
                    pseudo_label("d", 2, [], 0.95), pseudo_label("e", 100, [7], 0.88, 0.0),
                    pseudo_label("f", 100, [7], 0.90, 0.2, draw=1))
    text = render(collect(entries, "pseudo_label", "labels.per_class", "labels.classes_left_out"),
                  "pseudo_label", "labels.per_class", "labels.classes_left_out")
    rows = section_of(text, "## Where it fails")
    assert "at labels.per_class = 100, labels.classes_left_out = none (seed lecture notes: 98.46)" in rows
    assert ("- labels.per_class = 1, labels.classes_left_out = none: seed lecture notes 11.35% (every image one class); "
            "ours 90.0%: ours fails too, 7.5 points below our reference.") in rows
    assert "labels.per_class = 2, labels.classes_left_out = none: seed lecture notes 43.32% " in rows
    assert "ours 95.0%: ours does not fail, 2.5 points below our reference." in rows
    assert ("- labels.per_class = 100, labels.classes_left_out = 7: seed lecture notes 87.98% (the 7s are never "
            "learned, 85.6% before pseudo-labelling); ours 89.0 ± 1.4% x2; its left-out classes' test accuracy "
            "10.0 ± 14.1%: ours fails too, 8.5 points below our reference.") in rows
