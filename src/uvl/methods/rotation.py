"""Rotation prediction, a pretext task (Gidaris, Singh, Komodakis, ICLR 2018: RotNet).

Each image is shown at 0, 90, 180 and 270 degrees and the network must say which: a 4-way classification
whose labels cost nothing. To tell an upright digit from a turned one, the encoder has to learn what digits
look like: strokes, their layout, where the top is. The features are the encoder's; the classifier head on
top serves the pretext task only.

On digits the task has blind spots the paper's natural images do not: a 0, a 1 or an 8 turned by 180
degrees is (nearly) itself, and a 6 turned is a 9, so some labels are unlearnable and the loss has a floor
above zero.

Evaluation as MoCo's: the clusterings of uvl.clustering.features (row `rotation`: N2D's UMAP + GMM; k-means
rows `rotation_kmeans_whitened` and `rotation_kmeans`), then linear-probe and kNN accuracy.

Differences from the paper:
- The encoder is the seed poster's small ConvNet, not a Network-In-Network; the head is a 2-layer MLP
  (uvl.models.ssl.projection_head) on the encoder's output, not further convolutional blocks.
- Each image also gets a random affine map (MoCo's, milder by default) before its four rotations.

docs/methods/rotation.md has what was tried and measured.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from uvl.clustering.features import cluster_features
from uvl.data.augment import random_affine
from uvl.engine import Batch
from uvl.models.ssl import SelfSupervised, SelfSupervisedParams, projection_head

PUBLISHED = []  # the paper reports CIFAR-10 and ImageNet; we know of no MNIST figure (anchors)
TASK = "clustering"
SELECTED_ON = ("not tuned: MoCo's encoder and optimiser; the clustering rows' settings are MoCo's")
ROTATIONS = 4  # 0, 90, 180 and 270 degrees


def rotated(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """images (B, C, H, W), square -> the 4B images turned by 0, 90, 180, 270 degrees counter-clockwise, in
    blocks of B, and their labels (4B,): the number of quarter turns."""
    turns = torch.arange(ROTATIONS, device=images.device)
    return (torch.cat([torch.rot90(images, int(k), dims=(2, 3)) for k in turns]),
            turns.repeat_interleave(len(images)))


Params = SelfSupervisedParams


class Rotation(SelfSupervised):
    def __init__(self, params: Params):
        super().__init__(params, projection_head(params.feature_dim, params.feature_dim, ROTATIONS))  # the classifier

    def training_step(self, train: Batch):
        images, turns = rotated(random_affine(train.images, self.params.augment))
        logits = self.head(self.encoder(images))
        return F.cross_entropy(logits, turns), {"rotation_acc": (logits.argmax(dim=1) == turns).float().mean()}


def build(params: Params) -> Rotation:
    return Rotation(params)


def cluster(features: np.ndarray, params: Params, model: Rotation) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features from `Rotation.embed`."""
    return cluster_features("rotation", features, params, params.seed)
