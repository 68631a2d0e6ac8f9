"""Momentum contrast, the machinery of MoCo (uvl.methods.moco) and EqCo (uvl.methods.eqco): a query encoder,
a key encoder that follows it by a moving average, and a queue of past keys as negatives for InfoNCE, with
EqCo's margin on the positive (0 for MoCo). The methods' modules say what each is and how it differs from
its paper."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from pydantic import Field, PositiveFloat, PositiveInt
from torch import nn

from uvl import distributed
from uvl.clustering.features import EncoderClusteringFields
from uvl.data.augment import AugmentParams, random_affine
from uvl.engine import Batch, Method
from uvl.losses.contrastive import info_nce
from uvl.models.convnet import small_convnet
from uvl.models.ssl import ema_update, projection_head
from uvl.params import TrainParams


class MomentumContrastParams(TrainParams, EncoderClusteringFields):
    mlp_head: bool  # MoCo v2: a 2-layer MLP projection on top of the encoder, used for the loss only
    queue_size: PositiveInt  # K, negatives in the queue (65536 on ImageNet, 4096 in the CIFAR demo)
    momentum: float = Field(ge=0, lt=1)  # m, key encoder EMA (0.999 in the paper, 0.99 in the CIFAR demo)
    temperature: PositiveFloat  # τ (0.07 in v1, 0.2 in v2, 0.1 in the CIFAR demo)
    sgd_momentum: float = Field(ge=0, lt=1)  # SGD momentum (0.9)
    augment: AugmentParams


class MomentumContrast(Method):
    def __init__(self, params: MomentumContrastParams, margin: float = 0.0):
        super().__init__()
        self.params = params
        self.margin = margin  # EqCo's m on the positive logit; 0: MoCo's InfoNCE
        dim = params.feature_dim
        head = projection_head(dim, dim, dim) if params.mlp_head else nn.Identity()
        self.query_encoder = nn.Sequential(small_convnet(params.feature_dim), head)  # f_q
        self.key_encoder = copy.deepcopy(self.query_encoder)  # f_k, starts as a copy of f_q
        self.key_encoder.requires_grad_(False)
        self.register_buffer("queue", F.normalize(torch.randn(params.queue_size, params.feature_dim), dim=1))  # (K, D)
        self._last_keys: torch.Tensor | None = None

    def training_step(self, train: Batch):
        return self.step_on_views(random_affine(train.images, self.params.augment),
                                  random_affine(train.images, self.params.augment))

    def step_on_views(self, query_view, key_view):
        """The loss on two views (B, 1, 28, 28) of the same images, however they were augmented."""
        query = F.normalize(self.query_encoder(query_view), dim=1)  # (B, D)
        with torch.no_grad():
            key = F.normalize(self.key_encoder(key_view), dim=1)  # (B, D)
        loss, logits = self.contrast(query, key)
        self._last_keys = key
        return loss, {"contrast_acc": (logits.argmax(dim=1) == 0).float().mean()}

    def contrast(self, query, key):
        """InfoNCE of the queries against their keys and the queue, with the margin: the loss and the
        (B, 1+K) logits."""
        return info_nce(query, key, self.queue, self.params.temperature, self.margin)

    @torch.no_grad()
    def after_step(self):
        self.momentum_update()
        self.enqueue(distributed.gather(self._last_keys))  # every process's keys, in the global batch's order

    def momentum_update(self):
        """θ_k ← m·θ_k + (1 − m)·θ_q"""
        ema_update(self.key_encoder, self.query_encoder, self.params.momentum)

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor):
        """Newest keys first; the oldest fall off the end, so the queue keeps K keys."""
        self.queue.copy_(torch.cat([keys.to(self.queue.dtype), self.queue])[: len(self.queue)])

    def configure_optimizer(self, params: MomentumContrastParams):
        return torch.optim.SGD(self.query_encoder.parameters(), lr=params.lr, momentum=params.sgd_momentum,
                               weight_decay=params.weight_decay)

    @property
    def encoder(self) -> nn.Module:
        """f_q without its head: the features `embed` normalises, which a method starting from MoCo fine-tunes."""
        return self.query_encoder[0]

    def embed(self, images):
        return F.normalize(self.encoder(images), dim=1)  # encoder features, without the head
