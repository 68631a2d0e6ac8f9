"""SimCLR: a simple framework for contrastive learning of visual representations (Chen, Kornblith, Norouzi,
Hinton, ICML 2020).

Two augmented views of each of the N images in a batch; the encoder f and a projection head g map each
view to z = g(f(x)), and NT-Xent (uvl.losses.contrastive.nt_xent) asks each of the 2N views to pick the
other view of its image among the 2N − 1 others. The negatives are the rest of the batch: no queue and no
momentum encoder (MoCo's two devices for many consistent negatives), which is why SimCLR wants large
batches. The features are f's output; g serves the loss only (the paper's finding: the layer before the
projection keeps more of what the augmentations remove).

Evaluation as MoCo's: the clusterings of uvl.clustering.features (row `simclr`: N2D's UMAP + GMM; k-means
rows `simclr_kmeans_whitened` and `simclr_kmeans`), then linear-probe and kNN accuracy.

Differences from the paper:
- The encoder is the seed poster's small ConvNet (no BatchNorm), not a ResNet-50, and the head is MoCo
  v2's (uvl.models.ssl.projection_head), so that the comparison with MoCo is one of ideas, not networks.
- SGD with momentum and a cosine schedule, not LARS with warm-up, which the paper needs at batch 4,096.
- Digit augmentations: random affine maps (rotation, shift, zoom, shear); no crop-and-resize, flip,
  colour distortion or blur.
- Under torchrun the projections of all processes are gathered with their gradients, so the negatives
  are the whole global batch, as in the paper.

docs/methods/simclr.md has what was tried and measured.
"""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from pydantic import PositiveFloat, PositiveInt

from uvl import distributed
from uvl.clustering.features import cluster_features
from uvl.losses.contrastive import nt_xent
from uvl.models.ssl import SelfSupervisedParams, SelfSupervised, projection_head

PUBLISHED = []  # no MNIST figure in the paper (../shared/reference/anchors.md)
TASK = "clustering"
SELECTED_ON = ("not tuned: MoCo's encoder, head, optimiser and augmentations; τ the paper's best in its "
               "Table 5; the clustering rows' settings are MoCo's")


class Params(SelfSupervisedParams):
    projection_dim: PositiveInt  # z, the output of the head g (128 in the paper)
    temperature: PositiveFloat  # τ (the paper: 0.1 to 1; 0.5 on CIFAR-10)


class SimCLR(SelfSupervised):
    def __init__(self, params: Params):
        super().__init__(params, projection_head(params.feature_dim, params.feature_dim, params.projection_dim))

    def loss(self, first, second):
        """NT-Xent of the two views' projections, over the global batch under torchrun."""
        z_first, z_second = (distributed.gather_with_grad(F.normalize(z, dim=1)) for z in (first, second))
        loss, contrast_acc = nt_xent(z_first, z_second, self.params.temperature)
        return loss, {"contrast_acc": contrast_acc.detach()}


def build(params: Params) -> SimCLR:
    return SimCLR(params)


def cluster(features: np.ndarray, params: Params, model: SimCLR) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features from `SimCLR.embed`."""
    return cluster_features("simclr", features, params, params.seed)
