"""reports/ablations/<method>.md: a method's headline score over a grid of two of its params.

    dvc exp run --queue -S 'moco.queue_size=16,32,64,128' -S 'moco.momentum=0.9,0.99,0.999,0.9999' -S moco.epochs=3
    dvc queue start -j 1
    python -m uvl.reports.ablation moco momentum queue_size   # rows momentum, columns queue_size
    python -m uvl.reports.ablation moco momentum queue_size --rev <commit>   # experiments queued from <commit>

Any two params of a method's section, as dotted paths inside it (`augment.degrees`), and any method: the
command reads `dvc exp show --json` and takes the baseline commit and every successful experiment that has
the method's metrics (`metrics/<method>/<method>.json`, its headline row). Each fills the cell of its two
values in the table of its budget: one table per value of the method's `epochs` (when its section has one)
and of the data limits (`data.train_limit`, `data.test_limit`), a reduced budget said so. A cell is the
task's headline score (uvl.tasks: clustering ACC, test accuracy, target test accuracy), the mean over its
runs ("x3": three runs, e.g. seeds), with a second score in brackets (`SECOND`: clustering's kNN accuracy,
where the method has features to probe).

When the method's module has a `PUBLISHED_GRID` (uvl.published.PublishedGrid) over the same two params, in
either order, the report adds the published table ("Seed poster" for MoCo's) and ours minus it, in points,
where both have the cell.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from uvl.io import write_text
from uvl.reports import experiments
from uvl.tracking import project_root

# The score in brackets beside the headline score, by task
SECOND = {"clustering": "knn_acc", "classification": "validation_accuracy", "adaptation": "source_test_accuracy"}
MISSING = object()


def value_at(section: Any, path: str) -> Any:
    """The value at a dotted path inside a section (`augment.degrees`), or MISSING."""
    node = section
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    return tuple(node) if isinstance(node, list) else node  # a list (augment.scale) as a table coordinate


def collect(shown: list[dict], method: str, param_a: str, param_b: str):
    """One row per successful run with the method's metrics: its values of the two params, its budget and
    its scores."""
    import pandas as pd

    from uvl import methods

    second = SECOND.get(methods.get(method).TASK)
    headline = _task(method).HEADLINE
    rows = []
    for entry in shown:
        if entry.get("rev") == "workspace":  # HEAD's results again, or uncommitted ones
            continue
        baseline = ((((entry.get("data") or {}).get("params") or {}).get("params.yaml") or {}).get("data") or {})
        default_epochs = value_at(baseline.get(method), "epochs")
        for run in experiments.runs(entry):
            section = run.params.get(method)
            scores = experiments.method_scores(run.metrics, method).get(method)
            a, b = value_at(section, param_a), value_at(section, param_b)
            if not scores or scores.get(headline) is None or MISSING in (a, b):
                continue
            # the budget: its epochs, unless they are an axis of the grid
            epochs = MISSING if "epochs" in (param_a, param_b) else value_at(section, "epochs")
            data = run.params.get("data") or {}
            rows.append({"experiment": run.name, "rev": run.rev, "row_value": a, "column_value": b,
                         "epochs": None if epochs is MISSING else epochs,
                         "default_epochs": None if default_epochs is MISSING else default_epochs,
                         "train_limit": data.get("train_limit"), "test_limit": data.get("test_limit"),
                         "headline": scores[headline], "second": scores.get(second) if second else None,
                         "left_out": scores.get("left_out_accuracy")})
    columns = ["experiment", "rev", "row_value", "column_value", "epochs", "default_epochs", "train_limit",
               "test_limit", "headline", "second", "left_out"]
    # objects: a column of ints and nulls stays ints, not floats with NaN
    return pd.DataFrame(rows, columns=columns, dtype=object).drop_duplicates(subset=["rev", "experiment"])


def _task(method: str):
    from uvl import methods, tasks

    return tasks.of(methods.get(method))


def _title(task, key: str) -> str:
    return next((title for title, column in task.COLUMNS.items() if column == key), key)


def fmt(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, tuple):  # a list param: `augment.scale`, `labels.classes_left_out`
        return ", ".join(map(str, value)) or "none"
    return str(value)


def ordered(values) -> list:
    values = list(dict.fromkeys(values))
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=fmt)


def grid(rows: list, columns: list, cell, corner: str) -> list[str]:
    """A markdown table: `rows` down, `columns` across, `cell(row, column)` in each."""
    return [f"| {corner} | " + " | ".join(fmt(column) for column in columns) + " |",
            "|---:|" + "---:|" * len(columns),
            *(f"| {fmt(row)} | " + " | ".join(cell(row, column) for column in columns) + " |" for row in rows)]


def percent(mean: float, std: float, runs: int) -> str:
    return f"{100 * mean:.1f}" + (f" ± {100 * std:.1f}" if runs > 1 else "")


def budget_title(epochs, train_limit, test_limit) -> str:
    data = ("all images" if train_limit is None and test_limit is None else
            f"the first {fmt(train_limit) if train_limit is not None else 'all'} training and "
            f"{fmt(test_limit) if test_limit is not None else 'all'} test images")
    return f"Budget: {epochs} epochs, {data}" if epochs is not None else f"Budget: {data}"


def budget_note(epochs, default_epochs, train_limit, test_limit) -> str:
    notes = []
    if epochs is not None and default_epochs is not None and epochs != default_epochs:
        notes.append(f"{'Reduced' if epochs < default_epochs else 'Longer'} budget: {epochs} epochs (the "
                     f"default: {default_epochs}).")
    if train_limit is not None or test_limit is not None:
        notes.append("Reduced data (data limits): not comparable with published figures.")
    return " ".join(notes) or "Full default budget."


class Cell(NamedTuple):
    """A cell of ours: its runs' headline score, mean and sample standard deviation (0 for one run), the
    mean of their second scores, their number, and the left-out classes' accuracy (mean, std) where they
    have one."""

    mean: float
    std: float
    second: float | None
    runs: int
    left_out: tuple[float, float] | None


def mean_std(values) -> tuple[float, float]:
    values = np.array(values, dtype=float)
    return values.mean(), values.std(ddof=1) if len(values) > 1 else 0.0


def budgets(frame):
    """(epochs, train_limit, test_limit) -> {(row value, column value): Cell}, and each budget's default
    epochs."""
    tables: dict[tuple, dict] = {}
    defaults: dict[tuple, Any] = {}
    for run in frame.itertuples():
        key = (run.epochs, run.train_limit, run.test_limit)
        tables.setdefault(key, {}).setdefault((run.row_value, run.column_value), []).append(run)
        defaults.setdefault(key, run.default_epochs)
    cells = {}
    for key, table in tables.items():
        cells[key] = {}
        for coordinates, runs in table.items():
            seconds = [r.second for r in runs if r.second is not None]
            left_out = [r.left_out for r in runs if r.left_out is not None]
            cells[key][coordinates] = Cell(*mean_std([r.headline for r in runs]),
                                           sum(seconds) / len(seconds) if seconds else None, len(runs),
                                           mean_std(left_out) if left_out else None)
    order = sorted(cells, key=lambda key: tuple((value is None, value or 0) for value in key))  # None: all images
    return {key: cells[key] for key in order}, defaults


def render(frame, method: str, param_a: str, param_b: str, rev: str | None = None) -> str:
    from uvl import methods

    task = _task(method)
    headline, second = _title(task, task.HEADLINE), SECOND.get(methods.get(method).TASK)
    command = f"python -m uvl.reports.ablation {method} {param_a} {param_b}" + (f" --rev {rev}" if rev else "")
    corner = f"{param_a} \\ {param_b}"
    lines = [
        f"# Ablation: {method}, {param_a} x {param_b}",
        "",
        f"Generated by `{command}` from `dvc exp show --json`; do not edit by hand. Cells: {headline} (the "
        f"{methods.get(method).TASK} task's headline score) of {method}'s headline row, in percent, the mean over "
        "the runs in the cell"
        + (f", with {_title(task, second)} in brackets (where the method has it)" if second else "")
        + "; with more than one run (seeds, label draws), ± their standard deviation and their number (x3). Rows: "
        f"`{method}.{param_a}`; columns: `{method}.{param_b}`. One table per training budget "
        f"(`{method}.epochs`) and data limits.",
        "",
        "## Ours",
        "",
    ]
    ours, defaults = budgets(frame)
    if not ours:
        lines += [f"No finished experiment with {method} metrics yet: queue the grid (`dvc exp run --queue -S "
                  f"'{method}.{param_a}=...' -S '{method}.{param_b}=...'`), run it, and rerun `{command}`.", ""]
    for key, cells in ours.items():
        def cell(row, column, cells=cells):
            if (row, column) not in cells:
                return ""
            mine = cells[row, column]
            return (percent(mine.mean, mine.std, mine.runs)
                    + (f" ({100 * mine.second:.1f})" if mine.second is not None else "")
                    + (f" x{mine.runs}" if mine.runs > 1 else ""))

        rows, columns = ordered(r for r, _ in cells), ordered(c for _, c in cells)
        lines += [f"### {budget_title(*key)}", "", budget_note(key[0], defaults[key], *key[1:]), "",
                  *grid(rows, columns, cell, corner), ""]

    published = getattr(methods.get(method), "PUBLISHED_GRID", None)
    theirs = published.oriented(param_a, param_b) if published is not None else None
    if theirs is None:
        return "\n".join(lines)
    rows, columns = ordered(r for r, _ in theirs), ordered(c for _, c in theirs)
    lines += [f"## {published.source.split(',')[0].capitalize()}", "",
              f"{published.source[:1].upper()}{published.source[1:]}: {headline} in percent. {published.note}".strip(), "",
              *grid(rows, columns, lambda row, column: f"{100 * theirs[row, column]:.2f}"
                    if (row, column) in theirs else "", corner), "",
              f"## Ours minus {published.source.split(',')[0]}", "",
              f"{headline}, ours minus theirs, in points, where both have the cell.", ""]
    if not ours:
        lines += ["Nothing to compare yet: no finished experiment of ours.", ""]
    for key, cells in ours.items():
        both = [coordinates for coordinates in cells if coordinates in theirs]
        lines += [f"### {budget_title(*key)}", ""]
        if not both:
            lines += ["No cell of ours is on the published grid.", ""]
            continue
        rows, columns = ordered(r for r, _ in both), ordered(c for _, c in both)
        lines += [*grid(rows, columns, lambda row, column, cells=cells: f"{100 * (cells[row, column].mean - theirs[row, column]):+.1f}"
                        if (row, column) in cells and (row, column) in theirs else "", corner), ""]
    failures = published.oriented_failures(param_a, param_b)
    if failures and ours:
        lines += failure_rows(ours, theirs, failures, param_a, param_b, published.source.split(",")[0])
    return "\n".join(lines)


FAILURE_POINTS = 5  # a cell fails when it is more than this many points below the reference cell


def failure_rows(ours: dict, theirs: dict, failures: dict, param_a: str, param_b: str, source: str) -> list[str]:
    """A sentence per published failure: their figure and how it fails, ours, and whether ours fails too,
    each side against its own figure at the reference cell, the best published cell that is no failure."""
    reference = max((cell for cell in theirs if cell not in failures), key=theirs.get)
    lines = ["## Where it fails", "",
             f"A cell fails when it is more than {FAILURE_POINTS} points below the same side's figure at "
             f"{param_a} = {fmt(reference[0])}, {param_b} = {fmt(reference[1])} ({source}: "
             f"{100 * theirs[reference]:.2f}).", ""]
    for key, cells in ours.items():
        lines += [f"### {budget_title(*key)}", ""]
        for cell, how in failures.items():
            where = f"{param_a} = {fmt(cell[0])}, {param_b} = {fmt(cell[1])}"
            if cell not in cells:
                lines.append(f"- {where}: {source} {100 * theirs[cell]:.2f}% ({how}); no run of ours.")
                continue
            mine = cells[cell]
            left_out = (f"; its left-out classes' test accuracy {percent(*mine.left_out, mine.runs)}%"
                        if mine.left_out else "")
            if reference not in cells:
                verdict = "no run of ours at the reference cell to say whether it fails"
            else:
                below = 100 * (cells[reference].mean - mine.mean)  # points
                verdict = (f"ours {'fails too' if below > FAILURE_POINTS else 'does not fail'}, {below:.1f} points "
                           "below our reference")
            lines.append(f"- {where}: {source} {100 * theirs[cell]:.2f}% ({how}); ours "
                         f"{percent(mine.mean, mine.std, mine.runs)}%{f' x{mine.runs}' if mine.runs > 1 else ''}"
                         f"{left_out}: {verdict}.")
        lines.append("")
    return lines


def main() -> None:
    from uvl import methods
    from uvl.errors import UvlError
    from uvl.params import read_yaml

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.split("\n")[2:7]))
    parser.add_argument("method", help="the method whose grid it is, e.g. moco")
    parser.add_argument("param_a", help="the rows: a param of the method's section, dotted inside it, e.g. momentum")
    parser.add_argument("param_b", help="the columns, e.g. queue_size")
    parser.add_argument("--rev", help="the commit the experiments were queued from (default HEAD)")
    args = parser.parse_args()
    try:
        methods.get(args.method)
    except UvlError as err:
        sys.exit(f"uvl: error: {err}")
    if args.param_a == args.param_b:
        sys.exit("uvl: error: name two different params")
    section = read_yaml(Path(project_root()) / "params.yaml").get(args.method)
    for param in (args.param_a, args.param_b):
        if value_at(section, param) is MISSING:
            sys.exit(f"uvl: error: {args.method}.{param}: not a param of the {args.method} section of params.yaml")
    frame = collect(experiments.show(args.rev), args.method, args.param_a, args.param_b)
    write_text(Path(project_root()) / "reports" / "ablations" / f"{args.method}.md",
               render(frame, args.method, args.param_a, args.param_b, args.rev))


if __name__ == "__main__":
    main()
