"""Scores of predicted classes: plain accuracy, never re-matched (a classifier that permutes the classes
scores low), and the confusion matrix of a split; the classification task's evaluation (`evaluate`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix

from uvl.eval.figures import confusion_csv, confusion_png
from uvl.params import ClassificationFields
from uvl.tasks import classification


def accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    """(1/n) Σ_i 1{predicted_i = label_i}."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    if labels.shape != predicted.shape or labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"labels {labels.shape} and predictions {predicted.shape} must be equal, non-empty 1-D arrays")
    return float(np.mean(labels == predicted))


def accuracy_on(classes: list[int], labels: np.ndarray, predicted: np.ndarray) -> float:
    """The accuracy on the images whose label is one of `classes`."""
    chosen = np.isin(labels, classes)
    return accuracy(labels[chosen], predicted[chosen])


def score_predictions(outputs: Path, truth: dict[str, np.ndarray], confusion_split: str, plots: Path,
                      title: str) -> dict[str, float]:
    """`<split>_accuracy` for each split of outputs/predictions.npz, against `truth[split]`; the confusion
    matrix of `confusion_split` into `plots` (confusion.csv for `dvc plots`, confusion.png)."""
    with np.load(outputs / "predictions.npz") as npz:
        predicted = {split: npz[split] for split in truth}
    scores = {f"{split}_accuracy": accuracy(truth[split], predicted[split]) for split in truth}
    labels, guesses = truth[confusion_split], predicted[confusion_split]
    classes = np.arange(max(labels.max(), guesses.max()) + 1)
    confusion_png(confusion_matrix(labels, guesses, labels=classes),
                  f"{title}: {confusion_split.replace('_', ' ')}, accuracy {scores[f'{confusion_split}_accuracy']:.1%}",
                  plots / "confusion.png", xlabel="predicted class")
    confusion_csv(labels, guesses, plots / "confusion.csv")
    return scores


def evaluate(name: str, section: ClassificationFields, data, evaluation, outputs: Path, plots: Path,
             selected_on: str) -> dict[str, classification.Scores]:
    truth = {split_name: labels for split_name, (_, labels) in classification.scored(section, data, name).items()}
    scores = score_predictions(outputs, truth, "test", plots, name)
    if left_out := section.labels.classes_left_out:
        with np.load(outputs / "predictions.npz") as npz:
            scores["left_out_accuracy"] = accuracy_on(left_out, truth["test"], npz["test"])
    return {name: classification.Scores(**scores, selected_on=selected_on)}
