"""Inpainting, a pretext task: context encoders (Pathak, Krähenbühl, Donahue, Darrell, Efros, CVPR 2016).

A square hole is cut out of each image and the network must paint it back from what is around it: an
encoder sees the image with the hole filled with zeros, a decoder predicts the pixels, and the loss is the
squared error inside the hole only. To fill in the missing part of a stroke, the encoder has to know which
digit the rest of the strokes make. The features are the encoder's; the decoder serves the pretext task.

Evaluation as MoCo's: the clusterings of uvl.clustering.features (row `inpainting`: N2D's UMAP + GMM;
k-means rows `inpainting_kmeans_whitened` and `inpainting_kmeans`), then linear-probe and kNN accuracy.

Differences from the paper:
- The encoder is the seed poster's small ConvNet and the decoder a 2-layer MLP to the 28 x 28 pixels, not
  AlexNet's layers and up-convolutions; no adversarial loss, the reconstruction loss alone (the paper's
  ablation shows the features need it more than the adversary).
- The hole is a square at a random place in each image (the paper's "random block" masks), after a random
  affine map; its size is a param.

docs/methods/inpainting.md has what was tried and measured.
"""

from __future__ import annotations

import numpy as np
import torch
from pydantic import PositiveInt

from uvl.clustering.features import cluster_features
from uvl.data.augment import random_affine
from uvl.engine import Batch
from uvl.models.ssl import SelfSupervised, SelfSupervisedParams, projection_head

PUBLISHED = []  # the paper reports PASCAL VOC transfer; we know of no MNIST figure (anchors)
TASK = "clustering"
SELECTED_ON = ("not tuned: MoCo's encoder and optimiser, the hole a quarter of the image's area as the "
               "paper's central region; the clustering rows' settings are MoCo's")


def random_holes(n: int, size: int, hole: int, device=None) -> torch.Tensor:
    """(n, 1, size, size) bool masks, True inside one hole x hole square per image at a uniform place."""
    top, left = (torch.randint(size - hole + 1, (n, 1, 1, 1), device=device) for _ in range(2))
    positions = torch.arange(size, device=device)
    rows = (positions.view(1, 1, size, 1) >= top) & (positions.view(1, 1, size, 1) < top + hole)
    columns = (positions.view(1, 1, 1, size) >= left) & (positions.view(1, 1, 1, size) < left + hole)
    return rows & columns


def hole_loss(predicted: torch.Tensor, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
    """The context encoder's reconstruction loss: ‖M ⊙ (x − F((1 − M) ⊙ x))‖² / ‖M‖₁, the mean squared error
    over the pixels of the holes M only."""
    return ((predicted - images) ** 2)[holes].mean()


class Params(SelfSupervisedParams):
    hole: PositiveInt  # the hole's side in pixels (14: a quarter of a 28 x 28 image)
    hidden_dim: PositiveInt  # the decoder's hidden width


class Inpainting(SelfSupervised):
    def __init__(self, params: Params):
        super().__init__(params, projection_head(params.feature_dim, params.hidden_dim, 28 * 28))  # the decoder

    def training_step(self, train: Batch):
        images = random_affine(train.images, self.params.augment)
        holes = random_holes(len(images), images.shape[-1], self.params.hole, images.device)
        predicted = torch.sigmoid(self.head(self.encoder(images.masked_fill(holes, 0.0)))).view_as(images)
        return hole_loss(predicted, images, holes), {}


def build(params: Params) -> Inpainting:
    return Inpainting(params)


def cluster(features: np.ndarray, params: Params, model: Inpainting) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features from `Inpainting.embed`."""
    return cluster_features("inpainting", features, params, params.seed)
