"""Parts the self-supervised encoders share: the projection head, the moving average of a network, and
`SelfSupervised`, an encoder and a head trained by a method's loss, on two augmented views of each image unless the method says otherwise."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from uvl.clustering.features import EncoderClusteringFields
from uvl.data.augment import AugmentParams, random_affine
from uvl.engine import Batch, Method
from uvl.models.convnet import small_convnet
from uvl.params import TrainParams


def projection_head(in_features: int, hidden: int, out_features: int, batch_norm: bool = False) -> nn.Sequential:
    """g of MoCo v2 and SimCLR: ReLU, Linear, ReLU, Linear on the encoder's output (B, in_features), which
    ends in a Linear layer, hence the leading ReLU; BYOL's, Barlow Twins' and W-MSE's put BatchNorm before
    the second ReLU (`batch_norm`). Used for the loss only; the features are the encoder's."""
    return nn.Sequential(nn.ReLU(), nn.Linear(in_features, hidden), *([nn.BatchNorm1d(hidden)] if batch_norm else []),
                         nn.ReLU(), nn.Linear(hidden, out_features))


@torch.no_grad()
def ema_update(target: nn.Module, online: nn.Module, momentum: float) -> None:
    """θ_target ← m·θ_target + (1 − m)·θ_online, parameter by parameter (MoCo's key encoder, BYOL's target)."""
    for target_param, online_param in zip(target.parameters(), online.parameters()):
        target_param.mul_(momentum).add_(online_param.detach(), alpha=1 - momentum)


def cosine_momentum(step: int, total_steps: int, base: float) -> float:
    """A target network's EMA momentum at step k of K, rising along a cosine from `base` at k = 0 to 1 at
    k = K (BYOL, DINO): 1 − (1 − base)·(cos(πk/K) + 1)/2."""
    return 1 - (1 - base) * (math.cos(math.pi * step / total_steps) + 1) / 2


class SelfSupervisedParams(TrainParams, EncoderClusteringFields):
    """The fields of a section whose method is a `SelfSupervised`."""

    sgd_momentum: float = Field(ge=0, lt=1)
    augment: AugmentParams  # each view's random affine map


class SelfSupervised(Method):
    """The seed poster's small ConvNet f and a head g, trained with SGD; by default on two augmented views of
    each image, with the method's `loss` of the two views' head outputs (a pretext task overrides
    `training_step`). The features are f's, L2-normalised."""

    def __init__(self, params: SelfSupervisedParams, head: nn.Module):
        super().__init__()
        self.params = params
        self.encoder = small_convnet(params.feature_dim)  # f
        self.head = head  # g

    def training_step(self, train: Batch):
        first, second = (self.head(self.encoder(random_affine(train.images, self.params.augment))) for _ in range(2))
        return self.loss(first, second)

    def loss(self, first: torch.Tensor, second: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The loss of the head's outputs (B, D) on the two views, and detached scalars to log."""
        raise NotImplementedError

    def configure_optimizer(self, params: SelfSupervisedParams):
        return torch.optim.SGD(self.parameters(), lr=params.lr, momentum=params.sgd_momentum,
                               weight_decay=params.weight_decay)

    def embed(self, images):
        return F.normalize(self.encoder(images), dim=1)
