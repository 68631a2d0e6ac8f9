"""Jigsaw puzzles, a pretext task (Noroozi & Favaro, ECCV 2016: "Unsupervised learning of visual
representations by solving jigsaw puzzles").

Each image is cut into a 3 x 3 grid of tiles, the tiles are shuffled by one of P permutations, and the
network must say which: a P-way classification. Every tile goes through the same encoder (the "context-free
network": no tile sees another), the nine feature vectors are concatenated in the shuffled order, and a
classifier on them names the permutation. To put the tiles back, the encoder must recognise what part of
which digit each tile shows. The permutations are a maximal-Hamming-distance set (uvl.data.puzzles), so
that no two are told apart by one misplaced tile.

Evaluation as MoCo's, on the encoder's features of whole images: the clusterings of
uvl.clustering.features (row `jigsaw`: N2D's UMAP + GMM; k-means rows `jigsaw_kmeans_whitened` and
`jigsaw_kmeans`), then linear-probe and kNN accuracy.

Differences from the paper:
- The encoder is the seed poster's small ConvNet, so each 8 x 8 tile is scaled up to 28 x 28 before it; the
  paper's AlexNet takes 64 x 64 tiles of a 225 x 225 crop as they are. Tiles are 1 pixel apart (the paper's
  gaps of up to 21 pixels, against edge continuity).
- P = 100 permutations (the paper's ablation: 100 to 1,000), a random affine map before the cut; no colour
  jitter or per-tile normalisation (the paper's guards against chromatic aberration, which digits lack).

docs/methods/jigsaw.md has what was tried and measured.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, PositiveInt

from uvl.clustering.features import cluster_features
from uvl.data.augment import random_affine
from uvl.data.puzzles import GRID, jigsaw_permutations, tiles
from uvl.engine import Batch
from uvl.models.ssl import SelfSupervised, SelfSupervisedParams, projection_head

PUBLISHED = []  # the paper reports PASCAL VOC and ImageNet transfer; we know of no MNIST figure (anchors)
TASK = "clustering"
SELECTED_ON = ("not tuned: the paper's smallest permutation set, MoCo's encoder and optimiser; the clustering "
               "rows' settings are MoCo's")


class Params(SelfSupervisedParams):
    permutations: int = Field(ge=2, le=1000)  # P, the classes of the puzzle (the paper's: 100 to 1,000)
    hidden_dim: PositiveInt  # the classifier's hidden width


def shuffled_tiles(images: torch.Tensor, permutations: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """images (B, C, H, W) -> their tiles (B, GRID², C, H, W), each image's shuffled by a permutation drawn
    uniformly from `permutations` (P, GRID²), and the drawn permutations' indices (B,): tile k of image b is
    tile permutations[label_b, k] of the original."""
    labels = torch.randint(len(permutations), (len(images),), device=images.device)
    return tiles(images)[torch.arange(len(images), device=images.device).unsqueeze(1), permutations[labels]], labels


class Jigsaw(SelfSupervised):
    def __init__(self, params: Params):
        super().__init__(params, projection_head(GRID * GRID * params.feature_dim, params.hidden_dim,
                                                 params.permutations))  # the classifier of permutations
        self.register_buffer("permutations", torch.from_numpy(jigsaw_permutations(params.permutations, params.seed)))

    def training_step(self, train: Batch):
        puzzles, labels = shuffled_tiles(random_affine(train.images, self.params.augment), self.permutations)
        features = self.encoder(puzzles.flatten(0, 1)).view(len(puzzles), -1)  # (B, GRID² · D), shuffled order
        logits = self.head(features)
        return F.cross_entropy(logits, labels), {"puzzle_acc": (logits.argmax(dim=1) == labels).float().mean()}


def build(params: Params) -> Jigsaw:
    return Jigsaw(params)


def cluster(features: np.ndarray, params: Params, model: Jigsaw) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features of whole images from `Jigsaw.embed`."""
    return cluster_features("jigsaw", features, params, params.seed)
