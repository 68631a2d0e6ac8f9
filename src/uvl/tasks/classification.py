"""Classification: trained on labelled images of the training split (uvl.data.protocol's seeded draw:
`labels.per_class` per class, after a validation slice of `labels.validation_per_class`), scored with plain
accuracy on the test split, never re-matched. The validation slice is the only labelled data any choice may
look at; its accuracy is reported beside the test split's.

Views for training: `labelled` (images and their drawn labels), `unlabelled` (the training images not
drawn, without labels) and `validation` (the slice, for a method that selects its epoch on it); a supervised
method trains on the first, a semi-supervised one on the first two. The stage
after training, `predict`, writes the predicted class of every image of the scored splits.
"""

from __future__ import annotations

import numpy as np

from uvl import tasks
from uvl.data import datasets, protocol
from uvl.params import ClassificationFields

STEP = "predict"
HEADLINE = "test_accuracy"
COLUMNS = {"test accuracy": "test_accuracy", "validation accuracy": "validation_accuracy"}
PROTOCOL = ("Each method trains on a seeded draw of labelled images from the training split (`labels.per_class` "
            "per class; the rest of the split unlabelled) and is scored with plain accuracy, in percent, on the "
            "test split (*test accuracy*) and on the validation slice drawn from the training split before the "
            "labelled images (*validation accuracy*, what any choice of settings may look at). No Hungarian "
            "matching: a classifier's classes are the labels' classes.")


Fields = ClassificationFields  # what the method's section says of its data


class Scores(tasks.Scores):
    test_accuracy: float
    validation_accuracy: float
    left_out_accuracy: float | None = None  # on the test images of `labels.classes_left_out`, when there are any


def split(section: Fields, data, name: str) -> tuple[datasets.Dataset, protocol.LabelledSplit]:
    dataset = datasets.load(section.dataset, data.train_limit, data.test_limit)
    return dataset, protocol.draw(dataset, section.labels, f"{name}.labels")


def views(section: Fields, data, name: str) -> tuple[dict[str, protocol.View], dict]:
    dataset, drawn = split(section, data, name)
    views = {"labelled": drawn.labelled, "unlabelled": drawn.unlabelled, "validation": drawn.validation}
    return views, protocol.record(drawn, dataset)


def scored(section: Fields, data, name: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The splits the `predict` stage predicts and `evaluate` scores: (images, labels) by name."""
    dataset, drawn = split(section, data, name)
    return {"test": (dataset.test_images, dataset.test_labels),
            "validation": (drawn.validation.images, drawn.validation.labels)}
