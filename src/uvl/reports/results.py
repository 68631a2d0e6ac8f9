"""reports/results.md: one table per task, each with that task's columns and protocol, our scores beside the
published figures, and what each chain cost; reports/charts/<task>.png and .csv (a DVC plot): each method's
headline score, over seeds where reports/seeds.json has them, with the published figure marked.

Every number comes from files the pipeline writes: metrics/<method>/<row>.json (scores), records/<method>.json
(seeds, times, machines), plots/<method>/confusion.csv. The published figures are each method module's
`PUBLISHED`. A verdict against a published figure ("matches it", "n points lower") is the mean ± std over
seeds from reports/seeds.json (`python -m uvl.reports.seeds`), never one seed: a row without seeds there gets
its one seed's figure and no verdict.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

MATCH_POINTS = 0.5  # |ours - published| below this many points counts as a match
STAGES = ["pretrain", "cluster", "predict", "evaluate"]  # a chain's stages, in order
BUDGET_MINUTES = 30  # what a method's default configuration may take on 2 CPU cores, from the pixels


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def verdict(row: str, headline: str, published, seeds: dict) -> str:
    """One line comparing `row` with `published`: over seeds when reports/seeds.json has them."""
    note = f" {published.note}" if published.note else ""
    theirs = f"{published.source} reports {_pct(published.value)}%"
    summary = seeds.get(row, {})
    score = summary.get("scores", {}).get(headline)
    if not score or score["n"] < 2:
        return (f"- **{row}**: {theirs}; ours has one seed here (no verdict until `python -m uvl.reports.seeds` has "
                f"its seeds).{note}")
    delta = 100 * (score["mean"] - published.value)
    judged = "matches it" if abs(delta) < MATCH_POINTS else f"is {abs(delta):.1f} points {'higher' if delta > 0 else 'lower'}"
    seed_list = ", ".join(str(seed) for seed in summary["seeds"])
    return (f"- **{row}**: {_pct(score['mean'])} ± {_pct(score['std'])}% over seeds {seed_list} (commit "
            f"{summary['commit']}); {theirs}: ours {judged}.{note}")


def headline_chart(task_name: str, bars: list[dict], folder: Path, score_title: str) -> None:
    """folder/<task>.csv (for `dvc plots`) and <task>.png: per method, its headline score in percent (the mean
    over its seeds), the standard deviation as an error bar, and the published figure as a marker."""
    import pandas as pd

    from uvl.eval.figures import _pyplot, _save

    frame = pd.DataFrame(bars, columns=["method", "score", "spread", "seeds", "published"])
    frame.to_csv(folder / f"{task_name}.csv", index=False)
    fig, ax = _pyplot().subplots(figsize=(7, 0.45 * len(frame) + 1.3))
    positions = np.arange(len(frame))[::-1]  # the first method at the top
    ax.barh(positions, frame["score"], xerr=frame["spread"], color="tab:blue", capsize=3, label="ours")
    published = frame["published"].notna()
    ax.scatter(frame["published"][published], positions[published.to_numpy()], marker="D", color="tab:red",
               zorder=3, label="published")
    ax.set(yticks=positions, yticklabels=[f"{m} ({n} seed{'s' if n > 1 else ''})" for m, n in
                                          zip(frame["method"], frame["seeds"])],
           ylim=(-0.6, len(frame) - 0.4), xlim=(0, 100), xlabel=f"{score_title} (%)")
    ax.set_title(task_name.capitalize(), loc="left")
    ax.legend(loc="lower right", bbox_to_anchor=(1, 1), ncol=2, frameon=False)
    _save(fig, folder / f"{task_name}.png")


def most_confused_pairs(confusion: np.ndarray, top: int = 3) -> list[tuple[int, int, int]]:
    """The `top` unordered label pairs {a, b} with the most images of one predicted as the other, as (a, b, count)."""
    off_diagonal = confusion - np.diag(np.diag(confusion))
    symmetric = np.triu(off_diagonal + off_diagonal.T, k=1)
    order = np.argsort(symmetric, axis=None)[::-1][:top]
    pairs = [np.unravel_index(i, symmetric.shape) for i in order]
    return [(int(a), int(b), int(symmetric[a, b])) for a, b in pairs if symmetric[a, b] > 0]


def confused_pairs(confusion_csv: Path) -> str:
    import pandas as pd
    from sklearn.metrics import confusion_matrix

    frame = pd.read_csv(confusion_csv)
    classes = range(int(max(frame["actual"].max(), frame["predicted"].max())) + 1)
    pairs = most_confused_pairs(confusion_matrix(frame["actual"], frame["predicted"], labels=classes))
    return ", ".join(f"{a}/{b} ({n})" for a, b, n in pairs) or "none"


def build(method_names: list[str], params: dict, metrics_dir: Path, records_dir: Path, plots_dir: Path,
          seeds: dict, charts_dir: Path) -> str:
    """params: params.yaml as a mapping; seeds: reports/seeds.json ({} when absent); charts_dir: where the
    headline charts go (reports/charts, beside results.md)."""
    import pandas as pd

    from uvl import methods, tasks

    tables: dict[str, list[dict]] = {}
    bars: dict[str, list[dict]] = {}  # task -> its methods' headline scores, for the charts
    comparisons: dict[str, list[str]] = {}
    confusions, figures, costs, over_budget, total_seconds = [], [], [], [], 0.0
    for name in method_names:
        module = methods.get(name)
        task = tasks.of(module)
        record = json.loads((records_dir / f"{name}.json").read_text())
        section = params[name]
        published = {p.row: p for p in module.PUBLISHED if p.is_headline and p.applies(section)}
        data = " → ".join(dataset for dataset, _ in record["data"]["datasets"])
        for row in record["rows"]:
            scores = json.loads((metrics_dir / name / f"{row}.json").read_text())
            headline = row == name
            tables.setdefault(module.TASK, []).append({
                "method": row, "data": data,
                **{column: _pct(scores.get(key)) for column, key in task.COLUMNS.items()},
                "seed": record["seed"],
                "fit time (s)": f"{record['train_seconds']:.1f}" if headline else "(with above)",
                "published": f"{_pct(published[row].value)} ({published[row].source})" if row in published else "",
            })
            if row in published:
                comparisons.setdefault(module.TASK, []).append(verdict(row, task.HEADLINE, published[row], seeds))
            if headline:
                over_seeds = seeds.get(row, {}).get("scores", {}).get(task.HEADLINE)
                mean, std, n = ((over_seeds["mean"], over_seeds["std"], over_seeds["n"]) if over_seeds else
                                (scores[task.HEADLINE], 0.0, 1))
                bars.setdefault(module.TASK, []).append({
                    "method": row, "score": 100 * mean, "spread": 100 * std, "seeds": n,
                    "published": 100 * published[row].value if row in published else None})

        stages = record["stages"]
        total_seconds += sum(cost["seconds"] for cost in stages.values())
        fitted_on = stages.get("pretrain", stages.get("cluster", {})).get("machine", "not recorded")
        from_pixels = (record["train_seconds"] + stages["evaluate"]["seconds"]) / 60
        costs.append({"method": name, **{f"{stage} {unit}": f"{stages[stage][key]:,.1f}" for stage in STAGES
                                         if stage in stages
                                         for key, unit in (("seconds", "(s)"), ("peak_memory_mb", "(MiB)"))},
                      "from the pixels (min)": f"{from_pixels:.1f}", "fitted on": fitted_on})
        if from_pixels > BUDGET_MINUTES:
            over_budget.append(f"{name} ({from_pixels:.1f})")
        confusion_csv = plots_dir / name / "confusion.csv"
        if confusion_csv.exists():
            confusions.append(f"- **{name}**: {confused_pairs(confusion_csv)}; matrix: "
                              f"[{confusion_csv.with_suffix('.png')}](../{confusion_csv.with_suffix('.png')})")
        own = sorted(p for p in (plots_dir / name).glob("*.png") if p.stem != "confusion")  # t-SNE, samples
        if own:
            figures.append(f"- **{name}**: " + ", ".join(f"[{p.stem}](../{p})" for p in own))

    lines = ["# Results", "", "Generated by `dvc repro report` from `metrics/`, `records/` and `plots/`; do not edit by "
             "hand. One seed per row (the seed column): the scores over seeds are in "
             "[seeds.md](seeds.md), and every verdict below comes from there.", ""]
    if params["data"]["train_limit"] or params["data"]["test_limit"]:
        lines += ["**These figures come from a reduced run (quick profile or data limits), not from the whole "
                  "datasets: do not compare them with published figures.**", ""]
    for task_name, table in tables.items():
        task = tasks.get(task_name)
        headline_chart(task_name, bars[task_name], charts_dir,
                       next(title for title, key in task.COLUMNS.items() if key == task.HEADLINE))
        lines += [f"## {task_name.capitalize()}", "", task.PROTOCOL, "", pd.DataFrame(table).to_markdown(index=False, disable_numparse=True),
                  "", f"![{task_name}: each method's headline score over its seeds, the published figure marked]"
                      f"(charts/{task_name}.png)"]
        if task_name in comparisons:
            lines += ["", "Against the published figures:", "", *comparisons[task_name]]
        lines += [""]
    if confusions:
        lines += ["## Most confused pairs of digits (test split, headline row)", "", *confusions, ""]
    if figures:
        lines += ["## Figures", "", "Each trained clustering method's t-SNE map of test embeddings coloured by the true "
                  "digit, and its own figures (InfoGAN's samples: rows the categorical code, columns a sweep of a "
                  "continuous code).", "", *figures, ""]
    lines += ["## Cost per stage", "", "Wall time and peak resident memory of each stage of each method's "
              f"chain; all stages together: {total_seconds / 60:.1f} minutes (what `dvc repro` takes from prepared "
              "data to the last metrics file). *fitted on*: the machine that trained the model (or clustered, "
              "for a method without one), as its stage recorded it; the same params and seed can give "
              "other results on another machine. *from the pixels*: the fit time of the tables above (with the "
              "models a method starts from) plus evaluation, what one method's chain costs alone. Budget: "
              f"{BUDGET_MINUTES} minutes per method on 2 CPU cores; over it in this run: "
              + (", ".join(over_budget) or "none") + ".", "",
              pd.DataFrame(costs).reindex(columns=["method", *(f"{stage} {unit}" for stage in STAGES
                                                               for unit in ("(s)", "(MiB)")),
                                                   "from the pixels (min)", "fitted on"])
              .dropna(axis=1, how="all").fillna("").to_markdown(index=False)]
    return "\n".join(lines) + "\n"
