"""W-MSE: whitening for self-supervised representation learning (Ermolov, Siarohin, Sangineto, Sebe,
ICML 2021).

No negatives. The two views' projections are whitened (zero mean, identity covariance, by the Cholesky
factor of the covariance of a sub-batch) and then pulled together by the MSE of unit vectors
(uvl.losses.contrastive.w_mse_loss). Whitening scatters the embeddings over the unit sphere by
construction, so they cannot collapse to a point, and the loss needs no negatives to push them apart; the
positives alone say what should be close.

Evaluation as MoCo's: the clusterings of uvl.clustering.features (row `w_mse`: N2D's UMAP + GMM; k-means
rows `w_mse_kmeans_whitened` and `w_mse_kmeans`), then linear-probe and kNN accuracy.

Differences from the paper:
- The encoder is the seed poster's small ConvNet (no BatchNorm), not a ResNet-18; the head is two layers
  with BatchNorm as the paper's, 512 wide instead of 1,024.
- SGD with momentum and a cosine schedule, as the other encoders here, not Adam with warm-up and step
  decay; one whitening pass a step (the paper's w_iter 1), two views (W-MSE 2).
- Digit augmentations: random affine maps; no crop-and-resize, flip, colour distortion or blur.
- Under torchrun each process whitens sub-batches of its own slice of the batch, as the paper's code does
  on each GPU.

docs/methods/w_mse.md has what was tried and measured.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, PositiveInt, model_validator

from uvl.clustering.features import cluster_features
from uvl.losses.contrastive import w_mse_loss
from uvl.models.ssl import SelfSupervised, SelfSupervisedParams, projection_head

PUBLISHED = []  # the paper reports CIFAR, STL-10 and Tiny ImageNet; we know of no MNIST figure (anchors)
TASK = "clustering"
SELECTED_ON = ("not tuned: the paper's embedding and whitening sizes, MoCo's encoder, optimiser and "
               "augmentations; the clustering rows' settings are MoCo's")


class Params(SelfSupervisedParams):
    projection_dim: PositiveInt  # the whitened embedding's size (the paper: 64 on CIFAR)
    hidden_dim: PositiveInt  # the head's hidden width (the paper: 1,024)
    whitening_size: PositiveInt  # rows whitened together (the paper: 128 on CIFAR); > projection_dim
    shrinkage: float = Field(ge=0, lt=1)  # ε of (1 − ε)·Σ + ε·I (the paper: 0)

    @model_validator(mode="after")
    def _whitening_fits(self):
        if self.whitening_size <= self.projection_dim:
            raise ValueError(f"whitening_size ({self.whitening_size}) must exceed projection_dim "
                             f"({self.projection_dim}): the covariance of fewer rows than dimensions is singular")
        if self.batch_size % self.whitening_size:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of whitening_size "
                             f"({self.whitening_size})")
        return self


class WMSE(SelfSupervised):
    def __init__(self, params: Params):
        super().__init__(params, projection_head(params.feature_dim, params.hidden_dim, params.projection_dim,
                                                 batch_norm=True))

    def loss(self, first, second):
        return w_mse_loss(first, second, self.params.whitening_size, self.params.shrinkage), {}


def build(params: Params) -> WMSE:
    return WMSE(params)


def cluster(features: np.ndarray, params: Params, model: WMSE) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features from `WMSE.embed`."""
    return cluster_features("w_mse", features, params, params.seed)
