"""The data protocol: the one module that hands images and labels to training.

- Clustering: every image of the dataset, training split then test split (the standard protocol), no labels.
- Methods that use labels: a seeded draw from the training split only (`LabelDraw`): per class, a
  validation slice first, then `per_class` labelled images (all the rest when null); classes in
  `classes_left_out` get no labelled image; a fraction `noise_rate` of the drawn labels (validation
  included: a noisy-label method is chosen on what it can see) is flipped, symmetrically (to any other
  class), pairwise (c -> c + 1) or asymmetrically (of the digits' map 2 -> 7, 3 -> 8, 5 <-> 6, 7 -> 1,
  the convention of Patrini et al. 2017 and Co-teaching: a fraction `noise_rate` of each mapped class's
  images flipped, the other classes clean). Every training image not drawn is in the unlabelled view. The draw's
  indices and labels are hashed (`digest`) into the run's records.
- Adaptation: the source's labelled draw, and the target's training split without labels.

The test split reaches training and selection nowhere: the views below hold training images only (but the
clustering view, which holds test images without their labels), and the validation view is the only one
that a choice may score.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from uvl.data.datasets import Dataset
from uvl.errors import UvlError
from uvl.params import LabelDraw


@dataclass(frozen=True)
class View:
    """What training sees of a dataset."""

    images: np.ndarray  # (N, H, W[, C]) uint8
    labels: np.ndarray | None  # (N,) int64; None: withheld
    indices: np.ndarray  # (N,) rows of the training split (clustering: of the training then the test split)

    def __len__(self) -> int:
        return len(self.images)


@dataclass(frozen=True)
class LabelledSplit:
    labelled: View
    unlabelled: View  # the training images not drawn, labels withheld
    validation: View
    digest: str  # SHA-256 of the labelled and validation indices and labels


def clustering(dataset: Dataset) -> View:
    images = np.concatenate([dataset.train_images, dataset.test_images])
    return View(images=images, labels=None, indices=np.arange(len(images)))


def draw(dataset: Dataset, params: LabelDraw, key: str = "labels") -> LabelledSplit:
    """The labelled, unlabelled and validation views of `dataset`'s training split; key: the params path
    of `params`, for errors."""
    labels = dataset.train_labels
    classes = np.unique(labels)
    if unknown := sorted(set(params.classes_left_out) - set(classes.tolist())):
        raise UvlError(f"{key}.classes_left_out: {unknown} not among {dataset.name}'s classes {classes.tolist()}")
    rng = np.random.default_rng(params.seed)
    labelled, validation = [], []
    for c in classes:
        members = rng.permutation(np.flatnonzero(labels == c))
        wanted = params.validation_per_class + (0 if c in params.classes_left_out else params.per_class or 0)
        if len(members) < wanted or len(members) == params.validation_per_class and params.per_class is None:
            raise UvlError(f"{key}: class {c} of {dataset.name}'s training split has {len(members)} images, "
                           f"fewer than validation_per_class + per_class ({wanted})")
        validation.append(members[:params.validation_per_class])
        if c not in params.classes_left_out:
            rest = members[params.validation_per_class:]
            labelled.append(rest if params.per_class is None else rest[:params.per_class])
    labelled_rows, validation_rows = np.sort(np.concatenate(labelled)), np.sort(np.concatenate(validation))
    unlabelled_rows = np.setdiff1d(np.arange(len(labels)), np.concatenate([labelled_rows, validation_rows]))

    noisy = flip(labels, np.concatenate([labelled_rows, validation_rows]), classes, params, key, dataset.name)
    labelled_view = View(dataset.train_images[labelled_rows], noisy[labelled_rows], labelled_rows)
    validation_view = View(dataset.train_images[validation_rows], noisy[validation_rows], validation_rows)
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(a, dtype=np.int64).tobytes() for a in (
        labelled_view.indices, labelled_view.labels, validation_view.indices, validation_view.labels))).hexdigest()
    return LabelledSplit(labelled=labelled_view,
                         unlabelled=View(dataset.train_images[unlabelled_rows], None, unlabelled_rows),
                         validation=validation_view, digest=digest)


def record(drawn: LabelledSplit | None, *used: Dataset) -> dict:
    """What a run's records say of its data: each dataset's name and digest, in order (source, then target),
    and, for a label draw, its digest and sizes."""
    return {"datasets": [[dataset.name, dataset.digest] for dataset in used],
            **({"label_draw": drawn.digest, "labelled_images": len(drawn.labelled),
                "validation_images": len(drawn.validation)} if drawn else {})}


# the asymmetric noise of the digits (Patrini et al. 2017; Co-teaching's MNIST): class -> the class it is confused with
ASYMMETRIC_DIGITS = {2: 7, 3: 8, 5: 6, 6: 5, 7: 1}


def flip(labels: np.ndarray, rows: np.ndarray, classes: np.ndarray, params: LabelDraw, key: str = "labels",
         dataset: str = "the dataset") -> np.ndarray:
    """`labels` with a fraction `noise_rate` of `rows` given a wrong class, drawn from the draw's seed
    (asymmetric: of the rows of the mapped classes)."""
    noisy = labels.copy()
    if params.noise_rate == 0:
        return noisy
    rng = np.random.default_rng([params.seed, 1])
    if params.noise_kind == "asymmetric":
        if classes.tolist() != list(range(10)):
            raise UvlError(f"{key}.noise_kind: asymmetric noise maps the digits 0-9 (2 -> 7, 3 -> 8, 5 <-> 6, "
                           f"7 -> 1), and {dataset}'s classes are {classes.tolist()}")
        mapped = rows[np.isin(labels[rows], list(ASYMMETRIC_DIGITS))]
        chosen = mapped[rng.random(len(mapped)) < params.noise_rate]
        noisy[chosen] = [ASYMMETRIC_DIGITS[label] for label in labels[chosen].tolist()]
        return noisy
    chosen = rows[rng.random(len(rows)) < params.noise_rate]
    position = np.searchsorted(classes, labels[chosen])  # each chosen label's place among the classes
    if params.noise_kind == "pair":
        shift = np.ones(len(chosen), dtype=np.int64)
    else:
        shift = rng.integers(1, len(classes), size=len(chosen))  # any class but its own
    noisy[chosen] = classes[(position + shift) % len(classes)]
    return noisy
