"""DINO: self-distillation with no labels (Caron, Touvron, Misra, Jégou, Mairal, Bojanowski, Joulin,
ICCV 2021).

A student network learns to output, for any view of an image, the teacher's distribution over K learned
prototypes for the image's global views (uvl.losses.contrastive.dino_loss). The teacher is a moving
average of the student (momentum rising along a cosine to 1, as BYOL's target). The student also sees
local views, small zoomed-in parts of the image, and must predict from them what the teacher sees in the
whole: "local-to-global" correspondence. Nothing but two operations on the teacher's output keeps the
networks from collapsing: centring (subtract c, an EMA of the teacher's mean output, so no prototype takes
every image) and sharpening (a low teacher temperature, so the targets are not uniform).

Evaluation as MoCo's: the clusterings of uvl.clustering.features (row `dino`: N2D's UMAP + GMM; k-means
rows `dino_kmeans_whitened` and `dino_kmeans`), then linear-probe and kNN accuracy.

Differences from the paper:
- The encoder is the seed poster's small ConvNet, not a ViT or ResNet; the head is the paper's (a 3-layer
  MLP with GELUs to an L2-normalised bottleneck, then cosine scores against K unit prototypes, the
  paper's norm_last_layer), narrower, with fewer prototypes, and with BatchNorm in its MLP (the official
  code's use_bn_in_head option), without which the teacher's outputs start nearly alike for every digit
  and centring flattens them to uniform targets (docs/methods/dino.md).
- The local views are random affine maps that zoom in (crop-and-resize done by the same batched warp), at
  the full 28 x 28, since the small ConvNet takes one input size; 2 of them, not 8, for the CPU budget.
- A constant teacher temperature (the paper warms it up from 0.04 to 0.07); SGD with momentum and a
  cosine schedule, not AdamW with a weight-decay schedule and gradient clipping; the last layer is not
  frozen in the first epoch.

docs/methods/dino.md has what was tried and measured.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt
from torch import nn

from uvl import distributed
from uvl.clustering.features import EncoderClusteringFields, cluster_features
from uvl.data.augment import AugmentParams, random_affine
from uvl.engine import Batch, Method, Stream
from uvl.losses.contrastive import dino_loss
from uvl.models.convnet import small_convnet
from uvl.models.ssl import cosine_momentum, ema_update
from uvl.params import TrainParams

PUBLISHED = []  # the paper reports ImageNet; an MNIST kNN of 98.3% comes from a hobby report (anchors)
TASK = "clustering"
SELECTED_ON = ("not tuned: the paper's temperatures and momenta, MoCo's encoder, optimiser and global views; "
               "the clustering rows' settings are MoCo's")
GLOBAL_VIEWS = 2


class Params(TrainParams, EncoderClusteringFields):
    hidden_dim: PositiveInt  # the head's MLP width (2,048 in the paper)
    bottleneck_dim: PositiveInt  # the L2-normalised layer before the prototypes (256 in the paper)
    prototypes: PositiveInt  # K (65,536 in the paper)
    student_temperature: PositiveFloat  # τ_s (0.1)
    teacher_temperature: PositiveFloat  # τ_t (0.04 to 0.07 in the paper)
    center_momentum: float = Field(ge=0, lt=1)  # m of c ← m·c + (1 − m)·mean teacher output (0.9)
    teacher_momentum: float = Field(ge=0, lt=1)  # the teacher's EMA at step 0, rising to 1 (0.996)
    local_views: NonNegativeInt  # zoomed-in views the student alone sees (8 in the paper)
    sgd_momentum: float = Field(ge=0, lt=1)
    augment: AugmentParams  # the global views
    local_augment: AugmentParams  # the local views: zooming in (scale > 1)


class PrototypeHead(nn.Module):
    """MLP (with BatchNorm) to an L2-normalised bottleneck, then cosine scores against K unit-length prototypes."""

    def __init__(self, in_features: int, hidden: int, bottleneck: int, prototypes: int):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_features, hidden), nn.BatchNorm1d(hidden), nn.GELU(),
                                 nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.GELU(),
                                 nn.Linear(hidden, bottleneck))
        self.prototypes = nn.Parameter(torch.randn(prototypes, bottleneck) / bottleneck ** 0.5)  # (K, bottleneck)

    def forward(self, features):
        return F.normalize(self.mlp(features), dim=1) @ F.normalize(self.prototypes, dim=1).T  # (B, K)


class DINO(Method):
    def __init__(self, params: Params):
        super().__init__()
        self.params = params
        self.student = nn.Sequential(small_convnet(params.feature_dim), PrototypeHead(
            params.feature_dim, params.hidden_dim, params.bottleneck_dim, params.prototypes))
        self.teacher = copy.deepcopy(self.student)
        self.teacher.requires_grad_(False)
        self.register_buffer("center", torch.zeros(1, params.prototypes))  # c
        self.momentum = params.teacher_momentum  # of the coming step (before_step sets it)
        self._teacher_mean: torch.Tensor | None = None

    def before_step(self, step: int, streams: dict[str, Stream]) -> bool:
        total_steps = self.params.epochs * streams["train"].steps_per_epoch
        self.momentum = cosine_momentum(step, total_steps, self.params.teacher_momentum)
        return True

    def training_step(self, train: Batch):
        images = train.images
        global_views = [random_affine(images, self.params.augment) for _ in range(GLOBAL_VIEWS)]
        local_views = random_affine(images.repeat(self.params.local_views, 1, 1, 1), self.params.local_augment)
        student = self.student(torch.cat([*global_views, local_views])).chunk(GLOBAL_VIEWS + self.params.local_views)
        with torch.no_grad():
            teacher = self.teacher(torch.cat(global_views))
        self._teacher_mean = teacher.mean(dim=0, keepdim=True)
        targets = teacher.chunk(GLOBAL_VIEWS)
        loss = dino_loss(list(student), list(targets), self.center, self.params.student_temperature,
                         self.params.teacher_temperature)
        with torch.no_grad():
            sharpened = F.softmax((teacher - self.center) / self.params.teacher_temperature, dim=1)
            entropy = -(sharpened * sharpened.clamp_min(1e-12).log()).sum(dim=1).mean()  # log K: uniform collapse
        return loss, {"teacher_entropy": entropy}

    @torch.no_grad()
    def after_step(self):
        ema_update(self.teacher, self.student, self.momentum)
        batch_mean = distributed.mean(self._teacher_mean)  # over the processes' slices
        self.center.mul_(self.params.center_momentum).add_(batch_mean, alpha=1 - self.params.center_momentum)

    def configure_optimizer(self, params: Params):
        return torch.optim.SGD(self.student.parameters(), lr=params.lr, momentum=params.sgd_momentum,
                               weight_decay=params.weight_decay)

    @property
    def encoder(self) -> nn.Module:
        """The teacher's backbone, which the paper evaluates (it is better than the student's throughout)."""
        return self.teacher[0]

    def embed(self, images):
        return F.normalize(self.encoder(images), dim=1)


def build(params: Params) -> DINO:
    return DINO(params)


def cluster(features: np.ndarray, params: Params, model: DINO) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features from `DINO.embed`."""
    return cluster_features("dino", features, params, params.seed)
