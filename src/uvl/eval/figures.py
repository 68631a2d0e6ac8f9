"""The figures of the evaluate stage: a confusion matrix (PNG, and CSV for `dvc plots`) and a t-SNE map, written
atomically."""

from __future__ import annotations

import numpy as np

from uvl.io import atomic_path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display on these machines
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> None:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    _pyplot().close(fig)


def confusion_png(confusion: np.ndarray, title: str, path, xlabel: str) -> None:
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = _pyplot().subplots(figsize=(6, 5.5))
    ConfusionMatrixDisplay(confusion).plot(ax=ax, colorbar=False, values_format="d")
    ax.set(title=title, xlabel=xlabel, ylabel="true label")
    _save(fig, path)


def confusion_csv(actual: np.ndarray, predicted: np.ndarray, path) -> None:
    """Pairs of true and predicted labels, for `dvc plots show`'s confusion template."""
    import pandas as pd

    with atomic_path(path) as tmp:
        pd.DataFrame({"actual": actual, "predicted": predicted}).to_csv(tmp, index=False)


def tsne_png(features: np.ndarray, labels: np.ndarray, title: str, path, seed: int) -> None:
    from sklearn.manifold import TSNE

    points = TSNE(n_components=2, init="pca", random_state=seed).fit_transform(features)  # (n, 2)
    fig, ax = _pyplot().subplots(figsize=(6, 6))
    scatter = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=3, vmin=-0.5, vmax=9.5)
    fig.colorbar(scatter, ax=ax, ticks=range(10), label="true label")
    ax.set(title=title, xticks=[], yticks=[])
    _save(fig, path)
