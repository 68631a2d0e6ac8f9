"""reports/seeds.md: each method's scores over several seeds, as mean and standard deviation.

    python -m uvl.reports.seeds queue 1 2     # one queued experiment per seed: every method's `seed` set to it
    dvc queue start -j 1              # on 2 CPU cores, one at a time (each is a whole `dvc repro`)
    python -m uvl.reports.seeds               # reads `dvc exp show --json`, writes reports/seeds.md

`--only moco dec` on both: the experiments set the seeds of those methods and of the models they start from
(dec: sae), run only their chains (`dvc exp run evaluate@moco evaluate@dec`), and the report replaces only
their rows, keeping the others as an earlier commit measured them. Each row names the commit its runs were
queued from. `--rev <commit>` reads the experiments of the commit they were queued from, when HEAD has moved
on since.

A run counts for a method when it succeeded and its params equal the baseline commit's in everything but
the methods' seeds: the baseline commit itself (seed 0 by default) and its experiments. Runs with the same
seed count once, an experiment's before the commit's own metrics. The targets of the issues are means over
3 seeds; the table says where fewer exist.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from uvl.reports import experiments
from uvl.io import write_text
from uvl.sandbox import ROOT

SCORES = ["acc", "test_acc", "linear_probe_acc", "knn_acc"]


def without_seeds(params: dict) -> dict:
    return {section: ({k: v for k, v in values.items() if k != "seed"} if isinstance(values, dict) else values)
            for section, values in params.items()}


def collect(shown: list[dict]):
    """One row per (method, seed): the runs of the newest baseline commit that differ from it only in seeds."""
    import pandas as pd

    rows = []
    for entry in shown:
        if entry.get("rev") == "workspace" or not entry.get("data"):
            continue
        runs = list(experiments.runs(entry))
        if not runs:
            continue
        reference = without_seeds(runs[0][1])
        # experiments before the commit itself: a commit that changes the code may still hold the metrics of
        # the code before it, its seed-0 run retrained by an experiment
        for name, params, metrics in runs[1:] + runs[:1]:
            if without_seeds(params) != reference:
                continue
            for method in params["pipeline"]["methods"]:
                scores = metrics.get(f"metrics/{method}.json")
                if not scores:
                    continue
                # the headline row, then the variants (e.g. moco_kmeans: the same features, another clustering)
                for row, values in [(method, scores), *(scores.get("variants") or {}).items()]:
                    rows.append({"method": method, "row": row, "seed": params[method]["seed"], "run": name,
                                 "machine": machine_of(scores), **{score: values.get(score) for score in SCORES}})
        break  # the newest commit only: older ones ran other code
    columns = ["method", "row", "seed", "run", "machine", *SCORES]
    return pd.DataFrame(rows, columns=columns).drop_duplicates(["row", "seed"])


NOT_RECORDED = "not recorded"  # a run from before the metrics named their stages' machine


def machine_of(scores: dict) -> str:
    """The machine that fitted a run's model (its pretrain@ stage; cluster@ for the untrained methods): the
    same params and seed can give other figures on another CPU."""
    stages = scores.get("stages") or {}
    return (stages.get("pretrain") or stages.get("cluster") or {}).get("machine") or NOT_RECORDED


HEADER = ["| method | seeds | ACC | test ACC | linear probe | kNN | published ACC | machine | commit |",
          "|---|---|---:|---:|---:|---:|---|---|---|"]
OLD_HEADER = HEADER[0].replace(" machine |", "")  # the tables written before rows named their machine


def table_rows(frame, baseline: str) -> dict[str, str]:
    """row -> its table line: the mean ± std of each score over the row's runs in `frame`."""
    from uvl import methods

    def cell(values):
        values = values.dropna()
        if values.empty:
            return ""
        return f"{100 * values.mean():.1f} ± {100 * values.std():.1f}" if len(values) > 1 else f"{100 * values.iloc[0]:.1f}"

    rows = {}
    for (method, row), runs in frame.groupby(["method", "row"], sort=False):
        published = "; ".join(f"{100 * p.acc:.1f} ({p.source})" for p in methods.get(method).PUBLISHED
                              if p.row == row)
        seeds = ", ".join(str(s) for s in sorted(runs.seed)) + ("" if len(runs) >= 3 else " (fewer than 3)")
        rows[row] = (f"| {row} | {seeds} | " + " | ".join(cell(runs[s]) for s in SCORES)
                     + f" | {published} | {machines(runs)} | {baseline} |")
    return rows


def machines(runs) -> str:
    """The machine of the runs, or each machine with its seeds when they ran on several."""
    by_machine = runs.groupby("machine", sort=False).seed
    if by_machine.ngroups == 1:
        return runs.machine.iloc[0]
    return "; ".join(f"{machine} (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, sorted(seeds)))})"
                     for machine, seeds in by_machine)


def existing_rows(text: str) -> dict[str, str]:
    """row -> line of a seeds.md that this module wrote, for the rows an `--only` update keeps."""
    lines = text.splitlines()
    header = next((header for header in (HEADER[0], OLD_HEADER) if header in lines), None)
    if header is None:
        return {}
    rows = {line.split("|")[1].strip(): line for line in lines[lines.index(header) + 2:] if line.startswith("| ")}
    if header == OLD_HEADER:  # their commits' messages name the machine
        rows = {row: " | see its commit | ".join(line.rsplit(" | ", 1)) for row, line in rows.items()}
    return rows


def render(rows: dict[str, str]) -> str:
    lines = [
        "# Scores over seeds",
        "",
        "Generated by `python -m uvl.reports.seeds` from `dvc exp show --json`; do not edit by hand. Each row: the "
        "runs of that method at the params of the commit in its last column that differ only in the methods' "
        "seeds; mean ± standard deviation (n - 1) in percent; the machine that fitted them (the same params "
        "and seed can score otherwise on another CPU). A method's headline row comes first, then its "
        "other rows, as in reports/results.md (the same features clustered another way). ACC: Hungarian-matched "
        "clustering accuracy on all 70,000 images; test ACC: the same assignments on the 10,000 test images; "
        "linear probe and kNN: trained on the training split's labels, scored on the test split.",
        "",
    ]
    if not rows:
        return "\n".join(lines + ["No finished run yet.", ""])
    return "\n".join(lines + HEADER + list(rows.values())) + "\n"


def pipeline_methods() -> list[str]:
    from uvl.params import read_yaml

    return list(read_yaml(ROOT / "params.yaml")["pipeline"]["methods"])


def check_known(only: list[str], known: list[str]) -> None:
    if unknown := sorted(set(only) - set(known)):
        sys.exit(f"uvl: error: --only {', '.join(unknown)}: not in params.yaml's pipeline.methods")


def with_upstreams(only: list[str]) -> list[str]:
    """`only` and the models each of them starts from (idec: sae), so that a seed reseeds a whole chain."""
    from uvl import methods

    chain = []
    for method in only:
        while method is not None and method not in chain:
            chain.append(method)
            method = methods.upstream(method)
    return chain


def queue(seeds: list[int], only: list[str]) -> None:
    """One experiment per seed; with `only`, just those methods' chains, their upstream models reseeded too."""
    known = pipeline_methods()
    check_known(only, known)
    targets = [f"evaluate@{method}" for method in only]  # none: the whole pipeline
    reseeded = with_upstreams(only) or known
    for seed in seeds:
        subprocess.run(["dvc", "exp", "run", "--queue", "--name", f"seed-{seed}", *targets,
                        *(arg for method in reseeded for arg in ("-S", f"{method}.seed={seed}"))],
                       cwd=ROOT, check=True)


def method_of(row: str, known: list[str]) -> str | None:
    """The method a row belongs to: its headline row is named after it, its variants `<method>_<what>`."""
    owners = [method for method in known if row == method or row.startswith(f"{method}_")]
    return max(owners, key=len) if owners else None


def report(frame, baseline: str, only: list[str], previous: str) -> str:
    """The seeds table: every method's rows from `frame`, or with `only`, those methods' rows over the others
    of `previous`."""
    check_known(only, known := pipeline_methods())
    fresh = table_rows(frame[frame.method.isin(only)] if only else frame, baseline)
    kept = {row: line for row, line in existing_rows(previous).items() if method_of(row, known) not in only}
    rows = {**kept, **fresh} if only else fresh
    ordered = [row for method in known for row in rows if method_of(row, known) == method]
    return render({row: rows[row] for row in ordered})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", choices=["queue", "report"], default="report")
    parser.add_argument("seeds", nargs="*", type=int, help="for `queue`: the seeds to queue")
    parser.add_argument("--only", nargs="+", default=[], metavar="METHOD",
                        help="queue and report these methods only (the report keeps the other rows)")
    parser.add_argument("--rev", help="for `report`: the commit the experiments were queued from (default HEAD)")
    args = parser.parse_args()
    if args.command == "queue":
        if not args.seeds:
            sys.exit("uvl: error: name the seeds to queue, e.g. python -m uvl.reports.seeds queue 1 2")
        queue(args.seeds, args.only)
        return
    baseline = subprocess.run(["git", "rev-parse", "--short", args.rev or "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    path = Path(ROOT) / "reports" / "seeds.md"
    previous = path.read_text() if path.exists() else ""
    write_text(path, report(collect(experiments.show(args.rev)), baseline, args.only, previous))


if __name__ == "__main__":
    main()
