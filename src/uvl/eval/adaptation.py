"""The adaptation task's evaluation: plain accuracy of the predicted classes on the target's test split, the
source's test split and the source validation slice."""

from __future__ import annotations

from pathlib import Path

from uvl.eval.classification import score_predictions
from uvl.params import AdaptationFields
from uvl.tasks import adaptation


def evaluate(name: str, section: AdaptationFields, data, evaluation, outputs: Path, plots: Path,
             selected_on: str) -> dict[str, adaptation.Scores]:
    truth = {split_name: labels for split_name, (_, labels) in adaptation.scored(section, data, name).items()}
    scores = score_predictions(outputs, truth, "target_test", plots, name)
    return {name: adaptation.Scores(**scores, selected_on=selected_on)}
