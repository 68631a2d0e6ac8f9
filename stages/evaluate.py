"""evaluate@<method>: score the method's cluster assignments against the labels.

Writes metrics/<method>.json (the headline row at the top level, other rows under `variants`, wall time and
peak memory of each stage of the chain under `stages`) and the
headline row's test-split confusion matrix as plots/<method>/confusion.csv (for `dvc plots show`) and .png.
For a trained method, also the linear-probe and kNN accuracy of its features (fit on the training split,
scored on the test split) and a t-SNE map of test features, plots/<method>/tsne.png.
"""

import json
import shutil
import time

import numpy as np
import pandas as pd

from uvl.cli import CLUSTERS, METRICS, PLOTS, machine, peak_memory_mb, run_stage, start_method_stage
from uvl.errors import UvlError
from uvl.eval import hungarian_mapping, matched_confusion, row_metrics
from uvl.eval.figures import confusion_png, tsne_png
from uvl.eval.probes import knn_accuracy, linear_probe_accuracy
from uvl.io import atomic_path, write_json
from uvl.tracking import Run


def feature_metrics(features: np.ndarray, data, evaluation, seed: int) -> dict[str, float]:
    train, test = slice(0, data.n_train), data.test
    return {
        "linear_probe_acc": linear_probe_accuracy(features[train], data.labels[train], features[test],
                                                  data.labels[test], evaluation.probe_max_iter, seed),
        "knn_acc": knn_accuracy(features[train], data.labels[train], features[test], data.labels[test],
                                evaluation.knn_k, evaluation.knn_temperature),
    }


def main() -> None:
    started = time.perf_counter()
    name, params, data = start_method_stage(__doc__)
    try:
        meta = json.loads((CLUSTERS / name / "run.json").read_text())
        with np.load(CLUSTERS / name / "assignments.npz") as npz:
            rows = {row: npz[row] for row in meta["rows"]}
    except (OSError, KeyError, ValueError) as err:
        raise UvlError(f"{CLUSTERS / name}: missing or corrupted ({err}); run `dvc repro cluster@{name}`") from None
    if any(r.shape != data.labels.shape for r in rows.values()):
        raise UvlError(f"{CLUSTERS / name}: assignments do not match the data; run `dvc repro cluster@{name}`")

    scores = {row: row_metrics(data.labels, assignment, data.test) for row, assignment in rows.items()}
    headline, *others = meta["rows"]
    features_file = CLUSTERS / name / "features.npy"
    features = np.load(features_file) if features_file.exists() else None
    metrics = {
        **scores[headline],
        **(feature_metrics(features, data, params.evaluation, meta["seed"]) if features is not None else {}),
        "seed": meta["seed"],
        "train_seconds": meta["train_seconds"],
        "n_images": len(data.labels),
        "n_test": len(data.labels[data.test]),
    }
    if others:
        metrics["variants"] = {row: scores[row] for row in others}

    labels, clusters = data.labels[data.test], rows[headline][data.test]
    mapping = hungarian_mapping(labels, clusters)
    plots = PLOTS / name
    plots.mkdir(parents=True, exist_ok=True)
    with atomic_path(plots / "confusion.csv") as tmp:
        pd.DataFrame({"actual": labels, "predicted": mapping[clusters]}).to_csv(tmp, index=False)
    title = f"{headline}: test split, ACC {scores[headline]['test_acc']:.1%}"
    confusion_png(matched_confusion(labels, clusters, mapping), title, plots / "confusion.png")
    if features is not None:
        sample = np.arange(data.n_train, len(data.labels))[: params.evaluation.tsne_samples]
        tsne_png(features[sample], data.labels[sample], f"{name}: t-SNE of {len(sample)} test embeddings",
                 plots / "tsne.png", meta["seed"])

    for figure in (CLUSTERS / name).glob("*.png"):  # the method's own figures
        shutil.copyfile(figure, plots / figure.name)

    run = Run.resume(meta["mlflow_run_id"])
    run.log_metrics({f"{row}.{k}" if row != headline else k: v for row, s in scores.items() for k, v in s.items()})
    run.log_metrics({k: metrics[k] for k in ("linear_probe_acc", "knn_acc") if k in metrics})
    for png in sorted(plots.glob("*.png")):
        run.log_artifact(png, "plots")
    run.end()
    metrics["stages"] = {**meta["stages"], "evaluate": {"seconds": round(time.perf_counter() - started, 3),
                                                        "peak_memory_mb": peak_memory_mb(),
                                                        "machine": machine()}}
    write_json(METRICS / f"{name}.json", metrics)  # last: a metrics file means the whole chain succeeded


if __name__ == "__main__":
    run_stage(main)
