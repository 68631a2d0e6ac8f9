"""A memory bank of one feature per training image, the machinery of instance discrimination
(uvl.methods.memory_bank) and PIRL (uvl.methods.pirl): the bank, its seeded start and its moving-average
update, the draw of negatives, and the two ways of scoring a feature against its image's entry (NCE or the
sampled softmax). The methods' modules say what each is and how it differs from its paper."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt

from uvl import distributed
from uvl.data.augment import random_affine
from uvl.engine import Batch, Stream
from uvl.losses.contrastive import info_nce, instance_nce_loss
from uvl.models.per_image import register_per_image_buffer
from uvl.models.ssl import SelfSupervised, SelfSupervisedParams


class MemoryBankParams(SelfSupervisedParams):
    objective: Literal["softmax", "nce"]  # how the n-way softmax over all images is approximated
    noise_samples: PositiveInt  # m, bank entries drawn as negatives (noise) each step (4,096 in the paper)
    temperature: PositiveFloat  # τ (0.07 in the paper)
    memory_momentum: float = Field(ge=0, lt=1)  # μ of the bank's update (0.5 in the official code)
    proximal_weight: NonNegativeFloat  # λ of λ‖v_i − f_i‖² (the paper's curves: 0 to 50)


class MemoryBank(SelfSupervised):
    def __init__(self, params: MemoryBankParams):
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
