"""Domain adaptation: trained on a labelled draw of the source's training split (uvl.data.protocol) and the
target's training split without labels; scored with plain accuracy on the target's test split. The
source's test split and the source validation slice are scored too: the first says what adapting cost on
the source, the second is what any choice of settings may look at (the target's labels never are).

Views for training: `source` (images and drawn labels), `target` (images only) and `validation` (the
source's slice, for a method that selects its epoch on it). The stage after
training, `predict`, writes the predicted class of every image of the scored splits.
"""

from __future__ import annotations

import numpy as np

from uvl import tasks
from uvl.data import datasets, protocol
from uvl.params import AdaptationFields

STEP = "predict"
HEADLINE = "target_test_accuracy"
COLUMNS = {"target test accuracy": "target_test_accuracy",
           "source test accuracy": "source_test_accuracy", "validation accuracy": "validation_accuracy"}
PROTOCOL = ("Each method trains on a labelled draw of the source's training split and on the target's training "
            "images without labels, and is scored with plain accuracy, in percent, on the target's test split "
            "(*target test accuracy*), on the source's test split, and on the validation slice of the source's "
            "training split (what any choice of settings may look at; the target's labels never are).")


Fields = AdaptationFields  # what the method's section says of its data


class Scores(tasks.Scores):
    target_test_accuracy: float
    source_test_accuracy: float
    validation_accuracy: float


def load(section: Fields, data, name: str):
    source = datasets.load(section.source, data.train_limit, data.test_limit)
    target = datasets.load(section.target, data.train_limit, data.test_limit)
    return source, target, protocol.draw(source, section.labels, f"{name}.labels")


def views(section: Fields, data, name: str) -> tuple[dict[str, protocol.View], dict]:
    source, target, drawn = load(section, data, name)
    target_view = protocol.View(target.train_images, None, np.arange(target.n_train))
    return ({"source": drawn.labelled, "target": target_view, "validation": drawn.validation},
            protocol.record(drawn, source, target))


def scored(section: Fields, data, name: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    source, target, drawn = load(section, data, name)
    return {"target_test": (target.test_images, target.test_labels),
            "source_test": (source.test_images, source.test_labels),
            "validation": (drawn.validation.images, drawn.validation.labels)}
