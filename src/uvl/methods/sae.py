"""The stacked autoencoder of DEC and IDEC (Xie et al. 2016), trained once and shared by both.

A 784-500-500-2000-10 encoder with ReLU between its layers and a linear 10-d embedding z, a decoder that
mirrors it with a linear reconstruction, mean squared error, Adam. Its own row `sae` is k-means on z,
which is where DEC's and IDEC's clustering phases start (pipeline.trained: dec and idec read models/sae).

Differences from the papers: end-to-end pretraining with Adam for `epochs` epochs (DEC: greedy
layer-wise denoising pretraining with SGD, then fine-tuning; DEC-keras: end-to-end SGD for 300 epochs),
so that the default run fits the CPU budget.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, PositiveInt
from sklearn.cluster import KMeans
from torch import nn

from uvl.engine import Method
from uvl.models.mlp import mlp
from uvl.params import TrainParams

PUBLISHED = []  # the papers report no k-means-on-this-autoencoder figure with this training


class Params(TrainParams):
    hidden: list[PositiveInt] = Field(min_length=1)  # encoder widths; the decoder mirrors them (500, 500, 2000)
    embedding: PositiveInt  # z, 10 in DEC
    n_clusters: int = Field(ge=2)
    kmeans_n_init: PositiveInt  # k-means restarts on z (DEC: 20)


class StackedAutoencoder(Method):
    def __init__(self, params: Params):
        super().__init__()
        widths = [28 * 28, *params.hidden, params.embedding]
        self.encoder = mlp(widths)
        self.decoder = mlp(widths[::-1])

    def training_step(self, images, indices):
        return nn.functional.mse_loss(self.decoder(self.encoder(images)), images.flatten(1)), {}

    def embed(self, images):
        return self.encoder(images)  # (B, embedding)


def build(params: Params) -> StackedAutoencoder:
    return StackedAutoencoder(params)


def cluster(features: np.ndarray, params: Params, model: StackedAutoencoder) -> dict[str, np.ndarray]:
    """features: (N, embedding) from `StackedAutoencoder.embed`."""
    kmeans = KMeans(params.n_clusters, n_init=params.kmeans_n_init, random_state=params.seed)
    return {"sae": kmeans.fit_predict(features)}
