"""reports/seeds.md and reports/seeds.json: each row's scores over several seeds, as mean and standard deviation.

    python -m uvl.reports.seeds queue 1 2     # one queued experiment per seed: every method's seeds set to it
    dvc queue start -j 1                      # on 2 CPU cores, one at a time (each is a whole `dvc repro`)
    python -m uvl.reports.seeds               # reads `dvc exp show --json`, writes reports/seeds.md and .json
    python -m uvl.reports.seeds --rewrite     # reads no experiment: rewrites both from seeds.md's rows alone

A queued seed sets each method's `seed` and, for a method that trains with labels (a `labels:` block), the
label draw's `labels.seed` too: the scores over seeds vary the draw of labelled images as well as the model's
seed. `--only moco dec` on both: the experiments set the seeds of those methods and of the models they start
from (the params' upstream fields, transitively: dec.autoencoder names sae), run only their chains
(`dvc exp run evaluate-moco evaluate-dec`), and the report replaces only their rows, keeping the others as an
earlier commit measured them. Each row names the commit its runs were queued from. `--rev <commit>` reads
the experiments of the commit they were queued from, when HEAD has moved on since. `--rewrite` keeps every
row of the existing seeds.md (also one written in the older single-table format) and writes it again in the
current format, with seeds.json beside it; nothing is measured.

A run counts when it succeeded and its params equal the baseline commit's in everything but the `seed` keys
(at any depth, so `labels.seed` too): the baseline commit itself (seed 0 by default) and its experiments. Runs
with the same seed count once, an experiment's before the commit's own metrics. One table per task, with
that task's columns (uvl.tasks' `COLUMNS`); each row is a metrics file `metrics/<method>/<row>.json`; the
machine is the one that fitted the run's model (records/<method>.json of the run's commit: its pretrain stage,
else its cluster or predict stage). The targets of the issues are means over 3 seeds; the table says where
fewer exist.

reports/seeds.json, which reports/results.md reads for its verdicts, holds every row of the tables:
`{row: {"method", "task", "seeds": [...], "commit", "scores": {score: {"mean", "std", "n"}}}}`, fractions, the
standard deviation with n - 1 (0.0 when n is 1).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from uvl.io import write_text
from uvl.reports import experiments
from uvl.tracking import project_root

NOT_RECORDED = "not recorded"  # a run whose records/<method>.json cannot be read at its commit
SEE_ITS_COMMIT = "see its commit"  # rows kept from a table written before rows named their machine
# The columns of the single table of the seeds.md files written before one table per task (all clustering)
OLD_COLUMNS = {"ACC": "cluster_acc", "test ACC": "test_cluster_acc", "linear probe": "linear_probe_acc",
               "kNN": "knn_acc"}


def score_keys() -> list[str]:
    """Every task's score keys, in the tasks' column order."""
    from uvl import tasks

    return list(dict.fromkeys(key for name in tasks.NAMES for key in tasks.get(name).COLUMNS.values()))


@dataclass
class Row:
    """One row of the tables: a metrics row over seeds."""

    row: str
    method: str
    task: str
    seeds: list[int]
    scores: dict[str, dict] = field(default_factory=dict)  # score key -> {"mean", "std", "n"} (fractions)
    published: str = ""
    machine: str = NOT_RECORDED
    commit: str = ""

    def summary(self) -> dict:
        """The row's entry of reports/seeds.json."""
        return {"method": self.method, "task": self.task, "seeds": self.seeds, "commit": self.commit,
                "scores": self.scores}


def without_seeds(value):
    """`value` without any `seed` key, at any depth (a section's `seed`, its `labels.seed`)."""
    if isinstance(value, dict):
        return {key: without_seeds(item) for key, item in value.items() if key != "seed"}
    return value


def read_record(rev: str, method: str) -> dict | None:
    """records/<method>.json as the commit `rev` holds it (an experiment's commit has its run's), or None."""
    result = subprocess.run(["git", "show", f"{rev}:records/{method}.json"], cwd=project_root(), capture_output=True,
                            text=True)
    if result.returncode != 0:
        return None
    try:
        return json.loads(result.stdout)
    except ValueError:
        return None


def machine_of(record: dict | None) -> str:
    """The machine that fitted a run's model (its pretrain stage; cluster or predict for an untrained method):
    the same params and seed can give other figures on another CPU."""
    stages = (record or {}).get("stages") or {}
    stage = stages.get("pretrain") or stages.get("cluster") or stages.get("predict") or {}
    return stage.get("machine") or NOT_RECORDED


def published_text(module, row: str, section: dict) -> str:
    """The published headline figures of `row` that apply to the section's params, e.g. '75.2 (seed poster)'."""
    return "; ".join(f"{100 * p.value:.1f} ({p.source})" for p in module.PUBLISHED
                     if p.row == row and p.is_headline and p.applies(section))


def collect(shown: list[dict]):
    """One row per (row, seed): the runs of the newest baseline commit that differ from it only in seeds."""
    import pandas as pd

    from uvl import methods

    keys = score_keys()
    rows, records = [], {}
    for entry in shown:
        if entry.get("rev") == "workspace" or not entry.get("data"):
            continue
        runs = list(experiments.runs(entry))
        if not runs:
            continue
        reference = runs[0].params
        # experiments before the commit itself: a commit that changes the code may still hold the metrics of
        # the code before it, its seed-0 run retrained by an experiment
        for run in runs[1:] + runs[:1]:
            if without_seeds(run.params) != without_seeds(reference):
                continue
            for method in run.params["pipeline"]["methods"]:
                scores = experiments.method_scores(run.metrics, method)
                if not scores:
                    continue
                module = methods.get(method)
                if (run.rev, method) not in records:
                    records[run.rev, method] = read_record(run.rev, method)
                machine = machine_of(records[run.rev, method])
                # the headline row, then the others (e.g. moco_kmeans: the same features, another clustering)
                for row, values in scores.items():
                    rows.append({"method": method, "task": module.TASK, "row": row,
                                 "seed": run.params[method]["seed"], "run": run.name, "machine": machine,
                                 "published": published_text(module, row, reference.get(method) or {}),
                                 **{key: values.get(key) for key in keys}})
        break  # the newest commit only: older ones ran other code
    columns = ["method", "task", "row", "seed", "run", "machine", "published", *keys]
    return pd.DataFrame(rows, columns=columns).drop_duplicates(["row", "seed"])


def machines(runs) -> str:
    """The machine of the runs, or each machine with its seeds when they ran on several."""
    by_machine = runs.groupby("machine", sort=False).seed
    if by_machine.ngroups == 1:
        return runs.machine.iloc[0]
    return "; ".join(f"{machine} (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, sorted(seeds)))})"
                     for machine, seeds in by_machine)


def table_rows(frame, baseline: str) -> dict[str, Row]:
    """row -> its mean ± std of each of its task's scores over the row's runs in `frame`."""
    from uvl import tasks

    rows = {}
    for (method, row), runs in frame.groupby(["method", "row"], sort=False):
        task = runs.task.iloc[0]
        scores = {}
        for key in tasks.get(task).COLUMNS.values():
            values = runs[key].dropna().astype(float)
            if not values.empty:
                scores[key] = {"mean": float(values.mean()),
                               "std": float(values.std()) if len(values) > 1 else 0.0, "n": int(len(values))}
        rows[row] = Row(row, method, task, sorted(int(seed) for seed in runs.seed), scores,
                        runs.published.iloc[0], machines(runs), baseline)
    return rows


def method_of(row: str, known: list[str]) -> str | None:
    """The method a row belongs to: its headline row is named after it, its others `<method>_<what>`."""
    owners = [method for method in known if row == method or row.startswith(f"{method}_")]
    return max(owners, key=len) if owners else None


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _fraction_summary(cell: str, n_seeds: int) -> dict | None:
    """'53.7 ± 0.4' (percent, over the listed seeds) or '53.7' (one run) as a seeds.json score."""
    numbers = re.findall(r"-?\d+(?:\.\d+)?", cell)
    if not numbers:
        return None
    if "±" in cell and len(numbers) >= 2:
        return {"mean": round(float(numbers[0]) / 100, 6), "std": round(float(numbers[1]) / 100, 6), "n": n_seeds}
    return {"mean": round(float(numbers[0]) / 100, 6), "std": 0.0, "n": 1}


def existing_rows(text: str, known: list[str], summaries: dict | None = None) -> dict[str, Row]:
    """The rows of a seeds.md that this module wrote (one table per task, or the older single clustering
    table, with or without its machine column), for the rows an update keeps. `summaries`: the seeds.json
    written with it, whose unrounded scores replace the table's where the row's commit and seeds agree."""
    from uvl import methods, tasks

    lines, rows = text.splitlines(), {}
    for i, line in enumerate(lines[:-1]):
        titles = _cells(line)
        if not line.startswith("| ") or not lines[i + 1].startswith("|---") or titles[1:2] != ["seeds"]:
            continue
        for body in lines[i + 2:]:
            if not body.startswith("| "):
                break
            cells = dict(zip(titles, _cells(body)))
            row = cells[titles[0]]
            method = method_of(row, known)
            if method is None:
                continue
            task = methods.get(method).TASK
            columns = {**(OLD_COLUMNS if task == "clustering" else {}), **tasks.get(task).COLUMNS}
            seeds = [int(seed) for seed in re.findall(r"\d+", cells.get("seeds", "").split("(")[0])]
            scores = {key: summary for title, key in columns.items()
                      if (summary := _fraction_summary(cells.get(title) or "", len(seeds))) is not None}
            kept = Row(row, method, task, seeds, scores, cells.get("published", cells.get("published ACC", "")),
                       cells.get("machine") or SEE_ITS_COMMIT, cells.get("commit", ""))
            earlier = (summaries or {}).get(row) or {}
            if earlier.get("commit") == kept.commit and earlier.get("seeds") == kept.seeds and earlier.get("scores"):
                kept.scores = earlier["scores"]
            rows[row] = kept
    return rows


def render(rows: dict[str, Row]) -> str:
    """seeds.md: one table per task, in the order of the rows (each task's first row decides its place)."""
    from uvl import tasks

    lines = [
        "# Scores over seeds",
        "",
        "Generated by `python -m uvl.reports.seeds` from `dvc exp show --json` (reports/seeds.json holds the "
        "same figures unrounded); do not edit by hand. Each row: the runs of that metrics row at the params of "
        "the commit in its last column that differ only in the seeds (the methods' `seed` and, for a method "
        "trained with labels, the label draw's `labels.seed`); mean ± standard deviation (n - 1) in percent; "
        "*published*: the figures the row is compared with, in the task's headline score; the machine that "
        "fitted the runs (the same params and seed can score otherwise on another CPU). A method's headline "
        "row comes first, then its other rows, as in reports/results.md.",
        "",
    ]
    if not rows:
        return "\n".join(lines + ["No finished run yet.", ""])
    by_task: dict[str, list[Row]] = {}
    for row in rows.values():
        by_task.setdefault(row.task, []).append(row)
    for task_name, task_rows in by_task.items():
        task = tasks.get(task_name)
        titles = list(task.COLUMNS)
        lines += [f"## {task_name.capitalize()}", "", task.PROTOCOL, "",
                  "| row | seeds | " + " | ".join(titles) + " | published | machine | commit |",
                  "|---|---|" + "---:|" * len(titles) + "---|---|---|"]
        for row in task_rows:
            seeds = ", ".join(map(str, row.seeds)) + ("" if len(row.seeds) >= 3 else " (fewer than 3)")
            lines.append(f"| {row.row} | {seeds} | " + " | ".join(_cell(row.scores.get(key)) for key in task.COLUMNS.values())
                         + f" | {row.published} | {row.machine} | {row.commit} |")
        lines.append("")
    return "\n".join(lines)


def _cell(score: dict | None) -> str:
    if not score:
        return ""
    if score["n"] > 1:
        return f"{100 * score['mean']:.1f} ± {100 * score['std']:.1f}"
    return f"{100 * score['mean']:.1f}"


def summaries(rows: dict[str, Row]) -> dict:
    """reports/seeds.json: every row of the tables."""
    return {name: row.summary() for name, row in rows.items()}


def pipeline_params() -> dict:
    from uvl.params import read_yaml

    return read_yaml(project_root() / "params.yaml")


def check_known(only: list[str], known: list[str]) -> None:
    if unknown := sorted(set(only) - set(known)):
        sys.exit(f"uvl: error: --only {', '.join(unknown)}: not in params.yaml's pipeline.methods")


def with_upstreams(only: list[str], params: dict) -> list[str]:
    """`only` and the models each of them starts from (idec: sae, by `idec.autoencoder`), transitively, so
    that a seed reseeds a whole chain."""
    from uvl import methods
    from uvl.params import upstream_fields

    chain: list[str] = []

    def visit(method: str) -> None:
        if method in chain:
            return
        chain.append(method)
        for name in upstream_fields(methods.get(method).Params):
            visit(params[method][name])

    for method in only:
        visit(method)
    return chain


def seed_args(method: str, seed: int, params: dict) -> list[str]:
    """`-S` arguments that set the method's seed and, when its section has a `labels:` block, the label
    draw's seed."""
    args = ["-S", f"{method}.seed={seed}"]
    if isinstance((params.get(method) or {}).get("labels"), dict):
        args += ["-S", f"{method}.labels.seed={seed}"]
    return args


def queue(seeds: list[int], only: list[str]) -> None:
    """One experiment per seed; with `only`, just those methods' chains, their upstream models reseeded too."""
    params = pipeline_params()
    known = list(params["pipeline"]["methods"])
    check_known(only, known)
    targets = [f"evaluate-{method}" for method in only]  # none: the whole pipeline
    reseeded = with_upstreams(only, params) or known
    for seed in seeds:
        subprocess.run(["dvc", "exp", "run", "--queue", "--name", f"seed-{seed}", *targets,
                        *(arg for method in reseeded for arg in seed_args(method, seed, params))],
                       cwd=project_root(), check=True)


def report(frame, baseline: str, only: list[str], previous: str = "", previous_summaries: dict | None = None,
           keep_all: bool = False) -> dict[str, Row]:
    """The rows of the seeds tables: every row of `frame`, or with `only`, those methods' rows over the other
    rows of the earlier seeds.md `previous` (with `keep_all`, over all of them), in pipeline order."""
    known = list(pipeline_params()["pipeline"]["methods"])
    check_known(only, known)
    fresh = table_rows(frame[frame.method.isin(only)] if only else frame, baseline)
    if only or keep_all:
        kept = {row: kept for row, kept in existing_rows(previous, known, previous_summaries).items()
                if kept.method not in only}
        rows = {**kept, **fresh}
    else:
        rows = fresh
    return {row: rows[row] for method in known for row in rows if rows[row].method == method}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.split("\n")[2:6]))
    parser.add_argument("command", nargs="?", choices=["queue", "report"], default="report")
    parser.add_argument("seeds", nargs="*", type=int, help="for `queue`: the seeds to queue")
    parser.add_argument("--only", nargs="+", default=[], metavar="METHOD",
                        help="queue and report these methods only (the report keeps the other rows)")
    parser.add_argument("--rev", help="for `report`: the commit the experiments were queued from (default HEAD)")
    parser.add_argument("--rewrite", action="store_true",
                        help="for `report`: read no experiment; rewrite seeds.md and seeds.json from the rows of "
                             "the existing seeds.md")
    args = parser.parse_args()
    if args.command == "queue":
        if not args.seeds:
            sys.exit("uvl: error: name the seeds to queue, e.g. python -m uvl.reports.seeds queue 1 2")
        queue(args.seeds, args.only)
        return
    if args.rewrite and (args.only or args.rev):
        sys.exit("uvl: error: --rewrite reads no experiment: it takes neither --only nor --rev")
    path, json_path = Path(project_root()) / "reports" / "seeds.md", Path(project_root()) / "reports" / "seeds.json"
    previous = path.read_text() if path.exists() else ""
    previous_summaries = json.loads(json_path.read_text()) if json_path.exists() else {}
    if args.rewrite:
        rows = report(collect([]), "", [], previous, previous_summaries, keep_all=True)
    else:
        baseline = subprocess.run(["git", "rev-parse", "--short", args.rev or "HEAD"], cwd=project_root(), capture_output=True,
                                  text=True, check=True).stdout.strip()
        rows = report(collect(experiments.show(args.rev)), baseline, args.only, previous, previous_summaries)
    write_text(path, render(rows))
    write_text(json_path, json.dumps(summaries(rows), indent=2) + "\n")


if __name__ == "__main__":
    main()
