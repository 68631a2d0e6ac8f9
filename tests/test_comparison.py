"""The comparison of several methods over shared params, from `dvc exp show --json` (DVC 3.67's structure)."""

import pytest
from test_ablation import shown, table_lines, section_of

from uvl.errors import UvlError
from uvl.reports.comparison import collect, render

LABELS = {"per_class": 100, "classes_left_out": [], "noise_rate": 0.0, "noise_kind": "symmetric",
          "validation_per_class": 100, "seed": 0}


def section(per_class, seed=0, epochs=16):
    return {"labels": {**LABELS, "per_class": per_class, "seed": seed}, "epochs": epochs, "seed": 0}


def run(name, sections, scores, state="success"):
    params = {"data": {"source": "package", "train_limit": None, "test_limit": None}, **sections}
    metrics = {f"metrics/{method}/{method}.json": {"data": {"test_accuracy": score, "validation_accuracy": 0.5,
                                                             "selected_on": "x"}} for method, score in scores.items()}
    return {"revs": [{"rev": f"{name}-sha", "name": name, "data": {"rev": f"{name}-sha", "params": {
        "params.yaml": {"data": params}}, "metrics": metrics}, "error": None, "experiments": None}],
        "executor": {"state": state}, "name": name}


DEFAULTS = {"pseudo_label": section(100), "fixmatch": section(10)}
BASELINE = {"rev": "abc-sha", "params": {"params.yaml": {"data": {"data": {"source": "package", "train_limit": None,
                                                                             "test_limit": None}, **DEFAULTS}}},
            "metrics": run("abc", DEFAULTS, {"pseudo_label": 0.98, "fixmatch": 0.97})["revs"][0]["data"]["metrics"]}


def pseudo(name, per_class, seed, score, state="success", **kwargs):
    return run(name, {**DEFAULTS, "pseudo_label": section(per_class, seed, **kwargs)},
               {"pseudo_label": score, "fixmatch": 0.97}, state)  # fixmatch's metrics: the commit's, unchanged


def test_cells_average_the_label_draws_and_count_each_run_once():
    entries = shown(pseudo("p1", 100, 1, 0.96), pseudo("p2", 100, 2, 0.97), pseudo("p3", 1, 0, 0.1),
                    pseudo("p4", 1, 1, 0.2), pseudo("p5", 2, 0, 0.4), pseudo("p6", 2, 1, 0.9, state="failed"),
                    baseline=BASELINE)
    cells = collect(entries, ["pseudo_label", "fixmatch"], ["labels.per_class"])
    assert sorted(len(runs) for runs in cells["pseudo_label"].values()) == [1, 2, 3]
    assert [len(runs) for runs in cells["fixmatch"].values()] == [1], "the same fixmatch run in every experiment"
    text = render(cells, ["pseudo_label", "fixmatch"], ["labels.per_class"], "semi")
    ours = table_lines(section_of(text, "## Ours"))
    assert ours[0] == "| labels.per_class | pseudo_label | fixmatch |"
    assert ours[2:] == ["| 1 | 15.0 ± 7.1 x2 |  |", "| 2 | 40.0 |  |", "| 10 |  | 97.0 |", "| 100 | 97.0 ± 1.0 x3 |  |"]
    published = table_lines(section_of(text, "## Published"))
    assert published[2] == "| 1 | 11.35 |  |" and published[5] == "| 100 | 98.46 |  |"
    assert "seed lecture notes, 1,000 labels: Their best epoch" in text
    gap = table_lines(section_of(text, "## Ours minus published"))
    assert gap[2] == "| 1 | +3.7 |  |" and gap[5] == "| 100 | -1.5 |  |"


def test_a_cell_that_mixes_settings_is_an_error_naming_them():
    entries = shown(pseudo("p1", 100, 1, 0.96), pseudo("p2", 100, 2, 0.97, epochs=3), baseline=BASELINE)
    cells = collect(entries, ["pseudo_label"], ["labels.per_class"])
    with pytest.raises(UvlError, match=r"pseudo_label at 100: its runs differ in epochs"):
        render(cells, ["pseudo_label"], ["labels.per_class"], "semi")
