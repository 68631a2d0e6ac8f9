"""PIRL: pretext-invariant representation learning (Misra & van der Maaten, CVPR 2020).

Where the jigsaw task (uvl.methods.jigsaw) asks the features to say how an image was shuffled, PIRL asks
them not to care: the representation of an image and that of its shuffled tiles should be the same. The
image goes through the encoder (f(v_I)); its 9 tiles, shuffled, go through the same encoder one by one and
a linear layer maps their concatenated features to one vector (g(v_I^t)). Both are pulled to the image's
entry m_I in a memory bank of f(v_I) and pushed from m other entries (uvl.methods.memory_bank; its code,
uvl.models.memory_bank, is PIRL's too):

    L = λ·L(m_I, g(v_I^t)) + (1 − λ)·L(m_I, f(v_I))

the first term makes the representation invariant to the shuffle, the second keeps f itself discriminative.
The bank's entries move towards f(v_I) after each step, μ = 0.5.

Evaluation as MoCo's, on f's features of whole images: the clusterings of uvl.clustering.features (row
`pirl`: N2D's UMAP + GMM; k-means rows `pirl_kmeans_whitened` and `pirl_kmeans`), then linear-probe and kNN
accuracy.

Differences from the paper:
- The encoder is the seed poster's small ConvNet, so each 8 x 8 tile is scaled up to 28 x 28 before it
  (uvl.data.puzzles); f is its 128 features, without the paper's extra linear layer.
- Each term is the sampled softmax over the image's entry and the m others (InfoNCE), the memory bank's
  default; the paper's NCE adds a term per negative. No proximal term, as in the paper.
- Each image's tiles are shuffled by a uniformly drawn permutation of the 9, after a random affine map of
  the whole image (the paper also jitters colour and crops each tile).

docs/methods/pirl.md has what was tried and measured.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from uvl.clustering.features import cluster_features
from uvl.data.augment import random_affine
from uvl.data.puzzles import GRID, tiles
from uvl.engine import Batch
from uvl.models.memory_bank import MemoryBank, MemoryBankParams

PUBLISHED = []  # the paper reports ImageNet and its transfers; we know of no MNIST figure (anchors)
TASK = "clustering"
SELECTED_ON = ("not tuned: the paper's λ, m's scale and τ, the memory bank's settings, MoCo's encoder and "
               "optimiser; the clustering rows' settings are MoCo's")


class Params(MemoryBankParams):
    invariance_weight: float = Field(ge=0, le=1)  # λ, the weight of the shuffled tiles' term (0.5 in the paper)


def shuffled(images: torch.Tensor) -> torch.Tensor:
    """images (B, C, H, W) -> their tiles (B, GRID², C, H, W), each image's in its own uniformly drawn order."""
    order = torch.argsort(torch.rand(len(images), GRID * GRID, device=images.device), dim=1)
    return tiles(images)[torch.arange(len(images), device=images.device).unsqueeze(1), order]


class PIRL(MemoryBank):
    def __init__(self, params: Params):
        super().__init__(params)
        self.tile_head = nn.Linear(GRID * GRID * params.feature_dim, params.feature_dim)  # g's last layer

    def training_step(self, train: Batch):
        images = random_affine(train.images, self.params.augment)
        features = F.normalize(self.encoder(images), dim=1)  # f(v_I)
        puzzle = shuffled(images)
        transformed = F.normalize(self.tile_head(self.encoder(puzzle.flatten(0, 1)).view(len(images), -1)), dim=1)
        entries, noise = self.memory[train.indices], self.draw_noise()  # m_I, m_I'
        invariance = self.discrimination(transformed, entries, noise)  # L(m_I, g(v_I^t))
        discrimination = self.discrimination(features, entries, noise)  # L(m_I, f(v_I))
        weight = self.params.invariance_weight
        self._update = (train.indices, features.detach())
        return (weight * invariance + (1 - weight) * discrimination,
                {"invariance": invariance.detach(), "discrimination": discrimination.detach()})


def build(params: Params) -> PIRL:
    return PIRL(params)


def cluster(features: np.ndarray, params: Params, model: PIRL) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features of whole images from `PIRL.embed`."""
    return cluster_features("pirl", features, params, params.seed)
