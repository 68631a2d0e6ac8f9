"""Relative patch position, a pretext task (Doersch, Gupta, Efros, ICCV 2015: "Unsupervised visual
representation learning by context prediction").

From a 3 x 3 grid of tiles, the centre tile and one of its 8 neighbours are shown, and the network must say
where the neighbour lies: above-left, above, above-right, ..., an 8-way classification. Both tiles go
through the same encoder, their features are concatenated and a classifier names the position. To tell
where a part of a digit lies relative to another, the encoder must recognise the parts and how digits
are put together.

Evaluation as MoCo's, on the encoder's features of whole images: the clusterings of
uvl.clustering.features (row `patch_position`: N2D's UMAP + GMM; k-means rows
`patch_position_kmeans_whitened` and `patch_position_kmeans`), then linear-probe and kNN accuracy.

Differences from the paper:
- The encoder is the seed poster's small ConvNet, so each 8 x 8 tile is scaled up to 28 x 28 before it
  (uvl.data.puzzles); the paper's tiles are 96 x 96 patches of large images, with gaps and jitter between
  them and colour-dropping against chromatic aberration, which digits lack. Tiles here are 1 pixel apart,
  after a random affine map of the whole image.

docs/methods/patch_position.md has what was tried and measured.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import PositiveInt

from uvl.clustering.features import cluster_features
from uvl.data.augment import random_affine
from uvl.data.puzzles import GRID, tiles
from uvl.engine import Batch
from uvl.models.ssl import SelfSupervised, SelfSupervisedParams, projection_head

PUBLISHED = []  # the paper reports PASCAL VOC transfer; we know of no MNIST figure (anchors)
TASK = "clustering"
SELECTED_ON = ("not tuned: MoCo's encoder and optimiser; the clustering rows' settings are MoCo's")
CENTRE = GRID * GRID // 2  # tile 4 of the row-major 3 x 3 grid
NEIGHBOURS = [k for k in range(GRID * GRID) if k != CENTRE]  # class c: tile NEIGHBOURS[c]


class Params(SelfSupervisedParams):
    hidden_dim: PositiveInt  # the classifier's hidden width


def tile_pairs(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """images (B, C, H, W) -> the centre tiles (B, C, H, W), one neighbour tile each (B, C, H, W), drawn
    uniformly, and its position (B,): the index into NEIGHBOURS."""
    grid = tiles(images)
    positions = torch.randint(len(NEIGHBOURS), (len(images),), device=images.device)
    neighbour_tiles = torch.tensor(NEIGHBOURS, device=images.device)[positions]
    return grid[:, CENTRE], grid[torch.arange(len(images), device=images.device), neighbour_tiles], positions


class PatchPosition(SelfSupervised):
    def __init__(self, params: Params):
        super().__init__(params, projection_head(2 * params.feature_dim, params.hidden_dim, len(NEIGHBOURS)))

    def training_step(self, train: Batch):
        centre, neighbour, positions = tile_pairs(random_affine(train.images, self.params.augment))
        features = self.encoder(torch.cat([centre, neighbour])).chunk(2)  # the same encoder for both
        logits = self.head(torch.cat(features, dim=1))
        return F.cross_entropy(logits, positions), {"position_acc": (logits.argmax(dim=1) == positions).float().mean()}


def build(params: Params) -> PatchPosition:
    return PatchPosition(params)


def cluster(features: np.ndarray, params: Params, model: PatchPosition) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features of whole images from `PatchPosition.embed`."""
    return cluster_features("patch_position", features, params, params.seed)
