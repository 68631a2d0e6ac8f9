"""A supervised classifier on one labelled stream: the seed poster's small ConvNet, a ReLU and a linear layer
to the classes, trained with cross-entropy on randomly transformed images. The `supervised` and
`source_only` methods are this network on their task's labelled view."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field, PositiveInt
from torch import nn

from uvl.data.augment import AugmentParams, random_affine
from uvl.engine import Batch, Method
from uvl.models.convnet import small_convnet
from uvl.params import Section


class ClassifierParams(Section):
    feature_dim: PositiveInt  # the ConvNet's output, before the ReLU and the class layer (128)
    n_classes: int = Field(ge=2)
    augment: AugmentParams  # one random affine transform per training image


class Classifier(Method):
    def __init__(self, params: ClassifierParams):
        super().__init__()
        self.augment = params.augment
        self.encoder = small_convnet(params.feature_dim)  # (B, 1, 28, 28) -> (B, feature_dim)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(params.feature_dim, params.n_classes))

    def training_step(self, **batches: Batch):
        (labelled,) = batches.values()  # the one stream it trains on: its task's labelled view
        logits = self.classify(random_affine(labelled.images, self.augment))  # (B, K)
        loss = F.cross_entropy(logits, labelled.labels)
        return loss, {"train_accuracy": (logits.detach().argmax(dim=1) == labelled.labels).float().mean()}

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(images))  # (B, K) logits

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images)  # (B, feature_dim), for methods that start from this one
