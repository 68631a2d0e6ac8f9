"""Source only: the lower bound of domain adaptation. The supervised classifier (uvl.models.classifier) trained
on the source's labelled images alone, then scored on the target's test split; the target's training images
are not used. Every adaptation method must beat it on the same pair of domains.

The default pair is MNIST -> digits8 (scikit-learn's 8x8 digits in MNIST's frame, uvl.data.digits), built
offline. No published figure exists for it; tllib's source-only MNIST -> USPS, the nearest pair, is 82.1%.
"""

from __future__ import annotations

from uvl.models.classifier import Classifier, ClassifierParams
from uvl.params import AdaptationFields, TrainParams

PUBLISHED = []  # no published MNIST -> digits8 figure (anchors: MNIST -> USPS source-only 82.1%, tllib)
TASK = "adaptation"
# how the defaults were chosen (each metrics file's selected_on)
SELECTED_ON = "not tuned: the supervised baseline's settings; no setting chosen by looking at labels"


class Params(TrainParams, AdaptationFields, ClassifierParams):
    pass


def build(params: Params) -> Classifier:
    return Classifier(params)
