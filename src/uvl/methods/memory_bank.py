"""Instance discrimination with a memory bank (Wu, Xiong, Yu, Lin, CVPR 2018: "Unsupervised feature learning
via non-parametric instance discrimination").

Every training image is its own class. The classifier has no weights: the "class vector" of image i is
its own feature f_i, kept in a memory bank of one L2-normalised vector per training image, so the score of
a feature v for image i is v·f_i/τ. The n-way softmax over all images is approximated from m entries
drawn from the bank at random: by NCE in the paper (`objective: nce`,
uvl.losses.contrastive.instance_nce_loss: the feature must tell its image's entry, data, from the m
entries, noise), or by the softmax over its entry and the m others (`objective: softmax`, InfoNCE, as
MoCo's paper runs the memory bank it compares with; the default, see below). After each step the batch's entries move towards the new features,
f_i ← normalise(μ·f_i + (1 − μ)·v_i). Because an image's entry is refreshed only once an epoch, training
oscillates; the proximal term λ‖v_i − f_i‖² holds each feature close to its previous value.

Evaluation as MoCo's: the clusterings of uvl.clustering.features (row `memory_bank`: N2D's UMAP + GMM;
k-means rows `memory_bank_kmeans_whitened` and `memory_bank_kmeans`), then linear-probe and kNN accuracy.

Differences from the paper:
- The encoder is the seed poster's small ConvNet, its 128 features L2-normalised (the paper: a ResNet
  with a 128-d linear layer).
- Digit augmentations: one random affine map per image a step; no crop, flip or colour jitter.
- The default objective is the sampled softmax, not NCE: NCE's normaliser Z, estimated on the first step
  and then fixed (as the official code does), is estimated against the random bank, and once the bank
  holds real features, which on digits start out nearly alike, the noise entries score far above it and
  the loss diverges (docs/methods/memory_bank.md). The bank starts as random unit vectors from the seed.
- SGD with momentum and a cosine schedule (the paper: step decay).

docs/methods/memory_bank.md has what was tried and measured.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt

from uvl import distributed
from uvl.clustering.features import cluster_features
from uvl.data.augment import random_affine
from uvl.engine import Batch, Stream
from uvl.losses.contrastive import info_nce, instance_nce_loss
from uvl.models.per_image import register_per_image_buffer
from uvl.models.ssl import SelfSupervised, SelfSupervisedParams

PUBLISHED = []  # the paper reports CIFAR-10 and ImageNet; we know of no MNIST figure (anchors)
TASK = "clustering"
SELECTED_ON = ("not tuned: the paper's m, τ and λ, the official code's μ, MoCo's encoder and optimiser; the "
               "clustering rows' settings are MoCo's")


class Params(SelfSupervisedParams):
    objective: Literal["softmax", "nce"]  # how the n-way softmax over all images is approximated
    noise_samples: PositiveInt  # m, bank entries drawn as negatives (noise) each step (4,096 in the paper)
    temperature: PositiveFloat  # τ (0.07 in the paper)
    memory_momentum: float = Field(ge=0, lt=1)  # μ of the bank's update (0.5 in the official code)
    proximal_weight: NonNegativeFloat  # λ of λ‖v_i − f_i‖² (the paper's curves: 0 to 50)


class MemoryBank(SelfSupervised):
    def __init__(self, params: Params):
        super().__init__(params, torch.nn.Identity())  # the features themselves are scored against the bank
        register_per_image_buffer(self, "memory")  # (n, D) f, one unit vector per training image
        self.register_buffer("normalizer", torch.zeros(()))  # NCE's Z, estimated on the first step
        self._update: tuple[torch.Tensor, torch.Tensor] | None = None

    def before_step(self, step: int, streams: dict[str, Stream]) -> bool:
        if len(self.memory) == 0:
            generator = torch.Generator().manual_seed(self.params.seed)
            bank = torch.randn(len(streams["train"]), self.params.feature_dim, generator=generator)
            self.memory = F.normalize(bank, dim=1).to(streams["train"].images.device)
        return True

    def training_step(self, train: Batch):
        features = F.normalize(self.encoder(random_affine(train.images, self.params.augment)), dim=1)  # v
        entries, noise = self.memory[train.indices], self.draw_noise()  # f_i, f'
        discrimination = self.discrimination(features, entries, noise)
        proximal = (features - entries).pow(2).sum(dim=1).mean()
        self._update = (train.indices, features.detach())
        return (discrimination + self.params.proximal_weight * proximal,
                {"discrimination": discrimination.detach(), "proximal": proximal.detach()})

    def draw_noise(self) -> torch.Tensor:
        """m bank entries drawn uniformly: (m, D)."""
        return self.memory[torch.randint(len(self.memory), (self.params.noise_samples,), device=self.memory.device)]

    def discrimination(self, features: torch.Tensor, entries: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """How well each feature (B, D) picks its image's entry (B, D) against the noise entries (m, D)."""
        if self.params.objective == "softmax":
            return info_nce(features, entries, noise, self.params.temperature)[0]
        if self.normalizer == 0:
            with torch.no_grad():  # Z ≈ n·E[exp(v·f'/τ)] (the official code's estimate), over every process
                mean = distributed.mean(torch.exp(features @ noise.T / self.params.temperature).mean())
                self.normalizer.fill_(len(self.memory) * mean)
        return instance_nce_loss(features, entries, noise, self.params.temperature, self.normalizer, len(self.memory))

    @torch.no_grad()
    def after_step(self):
        indices, features = (distributed.gather(part) for part in self._update)  # every process's rows
        momentum = self.params.memory_momentum
        self.memory[indices] = F.normalize(momentum * self.memory[indices] + (1 - momentum) * features, dim=1)


def build(params: Params) -> MemoryBank:
    return MemoryBank(params)


def cluster(features: np.ndarray, params: Params, model: MemoryBank) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features from `MemoryBank.embed`."""
    return cluster_features("memory_bank", features, params, params.seed)
