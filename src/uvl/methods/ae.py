"""Fully connected autoencoder, then a Gaussian mixture (and k-means) on its embeddings.

Seed poster, appendix: encoder 784 -> 128 -> 12, decoder the mirror, mean squared reconstruction error,
Adam. After training, a 10-component GMM on the 12-d embeddings of all images gives the clusters (row
`ae`, the poster's AE(GMM)), and k-means on the same embeddings a second row (`ae_kmeans`). With
`umap_gmm`, a third row `ae_umap_gmm` clusters the same embeddings with N2D's step (uvl.n2d: UMAP, then
the mixture), the step that MoCo's headline row uses; the quick profile turns it off (numba compiles UMAP
for about 20 s in each process, and the fault drills train this method many times).

Why the GMM sees PCA-whitened embeddings (`gmm_whiten`): a full-covariance mixture's likelihood does not
change under an invertible affine map of its data, so whitening leaves the model as it is and moves only
where EM starts: scikit-learn's k-means initialisation, which on the raw embeddings follows the few
directions of largest variance. Whitened, every direction counts the same. Measured on 3 autoencoders
(seeds 0-2, scratch runs on an AVX-512 EPYC, this GMM on the embeddings cast to float64; labels for the
comparison only), ACC raw -> whitened: 50 epochs 73.7 / 66.2 / 63.4 -> 75.6 / 71.8 / 76.4; 200 epochs
81.0 / 68.0 / 65.4 -> 76.6 / 77.2 / 75.8 (71.4 ± 8.3 -> 76.5 ± 0.7). More restarts on the raw embeddings do not help: 20
instead of 5 reach a higher likelihood and score 65.8 / 66.2 / 66.1 at 50 epochs. The pipeline's runs of
seeds 0-2 (reports/seeds.md), 50 epochs raw (71fef2b) against 200 whitened (0f20b68): 69.8 ± 8.8 against
80.51 / 79.42 / 75.76 = 78.6 ± 2.5; the ae_umap_gmm row, which does not whiten, moved from 87.3 ± 7.1 to
74.1 / 74.0 / 94.8 = 81.0 ± 12.0 (UMAP maps close embeddings to far-apart clusters from seed to seed).

Differences from the poster: the decoder ends in a sigmoid, so reconstructions stay in the pixels' [0, 1]
range (the poster does not say); epochs and learning rate are ours (params.yaml).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, PositiveInt
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from torch import nn

from uvl.engine import Method
from uvl.n2d import UmapParams, umap_gmm
from uvl.params import TrainParams
from uvl.report import Published

PUBLISHED = [Published(row="ae", acc=0.912, source="seed poster, AE(GMM)")]


class Params(TrainParams, UmapParams):  # UmapParams: the ae_umap_gmm row's UMAP
    hidden: PositiveInt  # 128 in the poster
    embedding: PositiveInt  # 12 in the poster
    n_clusters: int = Field(ge=2)
    gmm_covariance_type: Literal["full", "tied", "diag", "spherical"]
    gmm_n_init: PositiveInt  # EM initialisations on the embeddings
    gmm_whiten: bool  # the GMM sees the PCA-whitened embeddings (same likelihood, scale-free start)
    kmeans_n_init: PositiveInt  # k-means++ restarts for the second row
    umap_gmm: bool  # also the third row, ae_umap_gmm


class Autoencoder(Method):
    def __init__(self, hidden: int, embedding: int):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, embedding))
        self.decoder = nn.Sequential(nn.Linear(embedding, hidden), nn.ReLU(), nn.Linear(hidden, 784), nn.Sigmoid())

    def training_step(self, images, indices):
        reconstruction = self.decoder(self.encoder(images))  # (B, 784)
        loss = nn.functional.mse_loss(reconstruction, images.flatten(1))
        return loss, {}

    def embed(self, images):
        return self.encoder(images)  # (B, embedding)


def build(params: Params) -> Autoencoder:
    return Autoencoder(params.hidden, params.embedding)


def cluster(features: np.ndarray, params: Params, model: Autoencoder) -> dict[str, np.ndarray]:
    """features: (N, embedding) from `Autoencoder.embed`."""
    gmm = GaussianMixture(params.n_clusters, covariance_type=params.gmm_covariance_type,
                          n_init=params.gmm_n_init, random_state=params.seed)
    kmeans = KMeans(params.n_clusters, n_init=params.kmeans_n_init, random_state=params.seed)
    mixture_input = features
    if params.gmm_whiten:
        mixture_input = PCA(whiten=True, random_state=params.seed).fit_transform(features)
    rows = {"ae": gmm.fit_predict(mixture_input), "ae_kmeans": kmeans.fit_predict(features)}
    if params.umap_gmm:
        rows["ae_umap_gmm"] = umap_gmm(features, params.n_clusters, params, params.seed)
    return rows
