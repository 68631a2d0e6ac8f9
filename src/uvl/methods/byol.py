"""BYOL: bootstrap your own latent (Grill, Strub, Altché, Tallec, Richemond, Buchatskaya, Doersch, Pires,
Guo, Azar, Piot, Kavukcuoglu, Munos, Valko, NeurIPS 2020).

No negatives. An online network (encoder f, projector g, predictor q) predicts, from one view, the target
network's projection of another view of the same image; the loss is the squared distance of the unit
vectors (uvl.losses.contrastive.byol_loss), symmetrised over the two views. The target network (f', g')
gets no gradient: it is a moving average of the online one, θ' ← τ·θ' + (1 − τ)·θ, with τ rising from
τ_base to 1 along a cosine over training, τ = 1 − (1 − τ_base)·(cos(πk/K) + 1)/2 at step k of K. The
predictor and the slow target are what keep the online network from collapsing to a constant.

Evaluation as MoCo's: the clusterings of uvl.clustering.features (row `byol`: N2D's UMAP + GMM; k-means
rows `byol_kmeans_whitened` and `byol_kmeans`), then linear-probe and kNN accuracy.

Differences from the paper:
- The encoder is the seed poster's small ConvNet (no BatchNorm), not a ResNet-50; the projector and the
  predictor keep the paper's BatchNorm, 512 wide instead of 4,096.
- SGD with momentum and a cosine schedule, not LARS with warm-up.
- Digit augmentations: random affine maps; no crop-and-resize, flip, colour distortion, blur or solarise.
- Under torchrun each process's BatchNorm sees its own slice of the batch (the paper syncs it).

docs/methods/byol.md has what was tried and measured.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, PositiveInt
from torch import nn

from uvl.clustering.features import EncoderClusteringFields, cluster_features
from uvl.data.augment import AugmentParams, random_affine
from uvl.engine import Batch, Method, Stream
from uvl.losses.contrastive import byol_loss
from uvl.models.convnet import small_convnet
from uvl.models.ssl import cosine_momentum, ema_update, projection_head
from uvl.params import TrainParams
from uvl.published import Published

PUBLISHED = [Published(row="byol", value=0.9822, score="linear_probe_acc", source="MiniBYOL",
                       note="Another small CNN (three convolutions with BatchNorm), Adam, 25 epochs, τ 0.98 or 0.995.")]
TASK = "clustering"
SELECTED_ON = ("not tuned: the paper's τ_base and heads (narrower), MoCo's encoder, optimiser and "
               "augmentations; the clustering rows' settings are MoCo's")


class Params(TrainParams, EncoderClusteringFields):
    projection_dim: PositiveInt  # z, the projector's output (256 in the paper)
    hidden_dim: PositiveInt  # the projector's and the predictor's hidden layer (4,096 in the paper)
    target_momentum: float = Field(ge=0, lt=1)  # τ_base, the target's EMA at step 0 (0.996 in the paper)
    sgd_momentum: float = Field(ge=0, lt=1)
    augment: AugmentParams


class BYOL(Method):
    def __init__(self, params: Params):
        super().__init__()
        self.params = params
        dim, hidden, projected = params.feature_dim, params.hidden_dim, params.projection_dim
        self.online = nn.Sequential(small_convnet(dim), projection_head(dim, hidden, projected, batch_norm=True))  # g∘f
        self.predictor = nn.Sequential(nn.Linear(projected, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                                       nn.Linear(hidden, projected))  # q
        self.target = copy.deepcopy(self.online)  # g'∘f', starts as a copy
        self.target.requires_grad_(False)
        self.momentum = params.target_momentum  # τ of the coming step (before_step sets it)

    def before_step(self, step: int, streams: dict[str, Stream]) -> bool:
        total_steps = self.params.epochs * streams["train"].steps_per_epoch
        self.momentum = cosine_momentum(step, total_steps, self.params.target_momentum)
        return True

    def training_step(self, train: Batch):
        first = random_affine(train.images, self.params.augment)
        second = random_affine(train.images, self.params.augment)
        predictions = [self.predictor(self.online(view)) for view in (first, second)]
        with torch.no_grad():
            targets = [self.target(view) for view in (first, second)]
        loss = byol_loss(predictions[0], targets[1]) + byol_loss(predictions[1], targets[0])
        return loss, {"target_momentum": torch.tensor(self.momentum)}

    def after_step(self):
        ema_update(self.target, self.online, self.momentum)

    def configure_optimizer(self, params: Params):
        trained = [*self.online.parameters(), *self.predictor.parameters()]
        return torch.optim.SGD(trained, lr=params.lr, momentum=params.sgd_momentum, weight_decay=params.weight_decay)

    @property
    def encoder(self) -> nn.Module:
        """The online f, without projector and predictor."""
        return self.online[0]

    def embed(self, images):
        return F.normalize(self.encoder(images), dim=1)


def build(params: Params) -> BYOL:
    return BYOL(params)


def cluster(features: np.ndarray, params: Params, model: BYOL) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features from `BYOL.embed`."""
    return cluster_features("byol", features, params, params.seed)
