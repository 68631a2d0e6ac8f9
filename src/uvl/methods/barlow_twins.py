"""Barlow Twins: self-supervised learning via redundancy reduction (Zbontar, Jing, Misra, LeCun, Deny,
ICML 2021).

No negatives and no moving target. The two views' projections are standardised dimension by dimension
over the batch, and their cross-correlation matrix C (D x D) is pulled towards the identity
(uvl.losses.contrastive.barlow_twins_loss): diagonal entries to 1, so each dimension is the same for both
views (invariance); off-diagonal entries to 0 with weight λ, so the dimensions carry different
information (redundancy reduction), which is what rules out a collapsed, constant embedding.

Evaluation as MoCo's: the clusterings of uvl.clustering.features (row `barlow_twins`: N2D's UMAP + GMM;
k-means rows `barlow_twins_kmeans_whitened` and `barlow_twins_kmeans`), then linear-probe and kNN
accuracy.

Differences from the paper:
- The encoder is the seed poster's small ConvNet (no BatchNorm), not a ResNet-50; the projector is two
  layers 512 wide with BatchNorm (the paper: three layers 8,192 wide).
- SGD with momentum and a cosine schedule, not LARS with warm-up.
- Digit augmentations: random affine maps; no crop-and-resize, flip, colour distortion, blur or solarise.
- Under torchrun the projections of all processes are gathered with their gradients, so C is the global
  batch's, as the paper's all-reduce makes it.

docs/methods/barlow_twins.md has what was tried and measured.
"""

from __future__ import annotations

import numpy as np
from pydantic import PositiveFloat, PositiveInt

from uvl import distributed
from uvl.clustering.features import cluster_features
from uvl.losses.contrastive import barlow_twins_loss
from uvl.models.ssl import SelfSupervised, SelfSupervisedParams, projection_head

PUBLISHED = []  # the paper reports ImageNet; we know of no MNIST figure (anchors)
TASK = "clustering"
SELECTED_ON = ("not tuned: the paper's λ, MoCo's encoder, optimiser and augmentations; the clustering rows' "
               "settings are MoCo's")


class Params(SelfSupervisedParams):
    projection_dim: PositiveInt  # D, the projector's output and the size of C (8,192 in the paper)
    hidden_dim: PositiveInt  # the projector's hidden width (8,192 in the paper)
    off_diagonal_weight: PositiveFloat  # λ (5e-3 in the paper)


class BarlowTwins(SelfSupervised):
    def __init__(self, params: Params):
        super().__init__(params, projection_head(params.feature_dim, params.hidden_dim, params.projection_dim,
                                                 batch_norm=True))

    def loss(self, first, second):
        loss = barlow_twins_loss(distributed.gather_with_grad(first), distributed.gather_with_grad(second),
                                 self.params.off_diagonal_weight)
        return loss, {}


def build(params: Params) -> BarlowTwins:
    return BarlowTwins(params)


def cluster(features: np.ndarray, params: Params, model: BarlowTwins) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features from `BarlowTwins.embed`."""
    return cluster_features("barlow_twins", features, params, params.seed)
