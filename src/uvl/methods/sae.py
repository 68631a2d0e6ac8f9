"""The stacked autoencoder of DEC and IDEC (Xie et al. 2016), trained once and shared by both.

A 784-500-500-2000-10 encoder with ReLU between its layers and a linear 10-d embedding z, a decoder that
mirrors it with a linear reconstruction, mean squared error, Adam. It is a denoising autoencoder, as DEC's
is: each training image reaches the encoder with a fraction `corruption` of its pixels zeroed (DEC: 20%),
and the decoder must reconstruct the clean image. Its own row `sae` is k-means on z (the restart of lowest
inertia). DEC and IDEC name it as their upstream model (`dec.autoencoder: sae`, `idec.autoencoder: sae`),
so their pretrain-dec and pretrain-idec stages read models/sae and start from a clustering of the same z
(their `start`).

Differences from the papers:
- End-to-end pretraining with Adam for `epochs` epochs (DEC: greedy layer-wise pretraining with SGD, then
  fine-tuning; DEC-keras: end-to-end SGD for 300 epochs).
- The corruption is on the input only, throughout training (DEC: each layer denoises its own input, and
  the fine-tuning is clean; DEC-keras: no corruption).
- 140 epochs in bf16 autocast (`precision`), so that the default run fits the CPU budget: the network is
  bound by its arithmetic on 2 cores, so the budget sets the epochs. On a CPU without bf16 arithmetic,
  `-S sae.precision=fp32 -S sae.epochs=80` keeps that budget.

docs/methods/sae.md has what was tried and measured.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, PositiveInt
from sklearn.cluster import KMeans
from torch import nn

from uvl.data.augment import mask_pixels
from uvl.engine import Batch, Method
from uvl.models.mlp import mlp
from uvl.params import ClusteringFields, TrainParams

PUBLISHED = []  # the papers report no k-means-on-this-autoencoder figure with this training
TASK = "clustering"
# how the defaults were chosen (each metrics file's selected_on)
SELECTED_ON = ("labels of all 70,000 images, seeds 0-2: epochs, precision and corruption compared by DEC's and "
               "IDEC's accuracy")


class Params(TrainParams, ClusteringFields):
    hidden: list[PositiveInt] = Field(min_length=1)  # encoder widths; the decoder mirrors them (500, 500, 2000)
    embedding: PositiveInt  # z, 10 in DEC
    n_clusters: int = Field(ge=2)
    kmeans_n_init: PositiveInt  # k-means restarts on z (DEC: 20)
    corruption: float = Field(ge=0, lt=1)  # fraction of each training input's pixels zeroed (DEC: 0.2)


class StackedAutoencoder(Method):
    def __init__(self, params: Params):
        super().__init__()
        widths = [28 * 28, *params.hidden, params.embedding]
        self.encoder = mlp(widths)
        self.decoder = mlp(widths[::-1])
        self.corruption = params.corruption

    def training_step(self, train: Batch):
        reconstruction = self.decoder(self.encoder(mask_pixels(train.images, self.corruption)))  # (B, 784)
        return nn.functional.mse_loss(reconstruction, train.images.flatten(1)), {}

    def embed(self, images):
        return self.encoder(images)  # (B, embedding)


def build(params: Params) -> StackedAutoencoder:
    return StackedAutoencoder(params)


def cluster(features: np.ndarray, params: Params, model: StackedAutoencoder) -> dict[str, np.ndarray]:
    """features: (N, embedding) from `StackedAutoencoder.embed`."""
    kmeans = KMeans(params.n_clusters, n_init=params.kmeans_n_init, random_state=params.seed)
    return {"sae": kmeans.fit_predict(features)}
