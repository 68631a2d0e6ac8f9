"""MoCo: momentum contrast (He, Fan, Wu, Xie, Girshick, CVPR 2020; v2 head: Chen et al. 2020).

Two augmented views of each image; the query encoder f_q embeds one, the key encoder f_k the other. f_k
is not trained by gradients but follows f_q as θ_k ← m·θ_k + (1 − m)·θ_q, so keys change slowly and the
keys of past batches stay comparable. They are kept in a FIFO queue of `queue_size` (K) negatives, and
InfoNCE asks each query q to pick its own key k+ among them: L = −log exp(q·k+/τ) / Σ_k exp(q·k/τ), over
k+ and the K queued keys. The queue and f_k are module state (a buffer and a submodule), so checkpoints
carry them and the queue persists across epochs.

Evaluation: the clusterings of uvl.clustering.features on the encoder's features (N2D's UMAP + GMM, row
`moco`; k-means rows `moco_kmeans_whitened` and `moco_kmeans`), then linear-probe and kNN accuracy.

Differences from the paper:
- The encoder is the seed poster's small ConvNet, not a ResNet. It has no BatchNorm, so the contrastive
  task cannot cheat through batch statistics and several processes need no shuffled BN; their keys are
  gathered before they enter the queue, as in the paper.
- The queue is newest-first and works for any K, also K smaller than the batch (the poster's ablation
  goes down to K = 16); when K is a multiple of the batch size it holds the same keys as the paper's
  ring buffer.
- Augmentations are digit-appropriate random affine maps (rotation, shift, zoom, shear), no flips or colour.

docs/methods/moco.md has what was tried and measured.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, PositiveFloat, PositiveInt
from torch import nn

from uvl import distributed
from uvl.clustering.features import EncoderClusteringFields, cluster_features
from uvl.data.augment import AugmentParams, random_affine
from uvl.engine import Batch, Method
from uvl.losses.contrastive import info_nce
from uvl.models.convnet import small_convnet
from uvl.models.ssl import ema_update, projection_head
from uvl.params import TrainParams
from uvl.published import Published, PublishedGrid

PUBLISHED = [Published(row="moco", value=0.969, source="seed poster")]
# The seed poster's ablation, clustering ACC (python -m uvl.reports.ablation moco momentum queue_size)
PUBLISHED_GRID = PublishedGrid(
    row_param="momentum", column_param="queue_size",
    cells={(momentum, queue): acc / 100 for momentum, row in {
        0.9: (91.38, 95.11, 95.16, 95.31),
        0.99: (92.98, 93.27, 96.91, 96.14),
        0.999: (92.91, 94.29, 96.23, 94.87),
        0.9999: (91.2, 93.80, 94.46, 93.67),
    }.items() for queue, acc in zip((16, 32, 64, 128), row)},
    source="seed poster, MoCo ablation",
    note="The poster does not state the training budget (epochs, batch size) of its grid.")
TASK = "clustering"
# how the defaults were chosen (each metrics file's selected_on)
SELECTED_ON = ("headline row: N2D's published UMAP + GMM settings, untuned; row moco_kmeans_whitened: "
               "pca_components chosen on seed 0's labels of all images")


class Params(TrainParams, EncoderClusteringFields):
    mlp_head: bool  # MoCo v2: a 2-layer MLP projection on top of the encoder, used for the loss only
    queue_size: PositiveInt  # K, negatives in the queue (65536 on ImageNet, 4096 in the CIFAR demo)
    momentum: float = Field(ge=0, lt=1)  # m, key encoder EMA (0.999 in the paper, 0.99 in the CIFAR demo)
    temperature: PositiveFloat  # τ (0.07 in v1, 0.2 in v2, 0.1 in the CIFAR demo)
    sgd_momentum: float = Field(ge=0, lt=1)  # SGD momentum (0.9)
    augment: AugmentParams


class MoCo(Method):
    def __init__(self, params: Params):
        super().__init__()
        self.params = params
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
        """InfoNCE of the queries against their keys and the queue: the loss and the (B, 1+K) logits."""
        return info_nce(query, key, self.queue, self.params.temperature)

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

    def configure_optimizer(self, params: Params):
        return torch.optim.SGD(self.query_encoder.parameters(), lr=params.lr, momentum=params.sgd_momentum,
                               weight_decay=params.weight_decay)

    @property
    def encoder(self) -> nn.Module:
        """f_q without its head: the features `embed` normalises, which a method starting from MoCo fine-tunes."""
        return self.query_encoder[0]

    def embed(self, images):
        return F.normalize(self.encoder(images), dim=1)  # encoder features, without the head


def build(params: Params) -> MoCo:
    return MoCo(params)


def cluster(features: np.ndarray, params: Params, model: MoCo) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features from `MoCo.embed`."""
    return cluster_features("moco", features, params, params.seed)
