"""EqCo: equivalent rules for self-supervised contrastive learning (Zhu, Liu, Wang, Zhang, Li, Sun, 2021).

MoCo (uvl.methods.moco) with a margin m on the positive logit of InfoNCE:

    L = −log exp((q·k+ − m)/τ) / [exp((q·k+ − m)/τ) + Σ_{i=1..K} exp(q·k_i/τ)],   m = τ·log(α/K)

With this m, exp(−m/τ) = K/α scales the positive exactly as averaging the K negatives and counting them
α times would: the loss, and its gradients, behave as with α negatives whatever K is. The paper's claim:
with the margin, accuracy no longer depends on the number of negatives, so a short queue (or a small batch)
does as well as a long one. At K = α the margin is 0 and EqCo is MoCo.

Everything else (encoders, queue, momentum update, augmentations: uvl.models.momentum_contrast, and the
clustering rows `eqco`, `eqco_kmeans_whitened`, `eqco_kmeans`) is MoCo's, and so are its differences from
the paper.

docs/methods/eqco.md has what was tried and measured.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import PositiveInt

from uvl.clustering.features import cluster_features
from uvl.models.momentum_contrast import MomentumContrast, MomentumContrastParams

PUBLISHED = []  # the paper reports ImageNet and CIFAR; we know of no MNIST figure
TASK = "clustering"
SELECTED_ON = ("not tuned: MoCo's defaults; α is MoCo's queue size, so the margin stands in for the "
               "negatives the shorter queue lacks")


class Params(MomentumContrastParams):
    alpha: PositiveInt  # α, the number of negatives the loss behaves as if it had


def margin(temperature: float, alpha: int, negatives: int) -> float:
    """m = τ·log(α/K): 0 at K = α; negative (the positive weighs more) when K > α."""
    return temperature * math.log(alpha / negatives)


def build(params: Params) -> MomentumContrast:
    return MomentumContrast(params, margin(params.temperature, params.alpha, params.queue_size))


def cluster(features: np.ndarray, params: Params, model: MomentumContrast) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features from `MomentumContrast.embed`."""
    return cluster_features("eqco", features, params, params.seed)
