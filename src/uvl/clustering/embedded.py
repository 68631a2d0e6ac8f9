"""Deep embedded clustering's model and self-training (Xie, Girshick, Farhadi, ICML 2016), shared by the
`dec` and `idec` methods; IDEC (Guo et al. 2017) is the same model with the decoder kept.

Both start from the pretrained autoencoder that their `autoencoder` param names (`sae`: models/sae). The
cluster centres μ start from a clustering of the embeddings z of all images (`initial_centres`: k-means
restarts, or AE(GMM)'s mixture). The encoder and the centres then minimise KL(P || Q), where Q is the Student-t soft
assignment of each z to the centres and P the sharpened target, recomputed on the whole dataset every
`update_interval` steps and held fixed in between. Training stops when fewer than `tol` of the assignments
changed between two refreshes, or after `epochs`. The clusters are argmax_j q_ij. IDEC adds the
reconstruction: L = L_rec + γ·KL(P || Q).

A part rather than a method module, so that a stage declares it (dvc.yaml) instead of one method's module
importing another's.
"""

from __future__ import annotations

import copy
from typing import Literal

import numpy as np
import torch
from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import davies_bouldin_score
from torch import nn

from uvl.clustering.consensus import consensus_gmm
from uvl.data.protocol import View
from uvl.engine import Batch, Method, Stream, embed_all, embed_tensor, fit, resolve_device
from uvl.losses.clustering import kl_divergence, student_t_assignment, target_distribution
from uvl.params import ClusteringFields, EngineParams, TrainParams, Upstream


class Params(TrainParams, ClusteringFields):  # epochs, batch_size, lr, ...: the clustering phase
    autoencoder: Upstream  # the method whose pretrained autoencoder (`encoder`, `decoder`) it starts from (sae)
    n_clusters: int = Field(ge=2)
    alpha: PositiveFloat  # Student-t degrees of freedom (1)
    start: Literal["kmeans", "gmm"]  # what places the initial centres (`initial_centres`)
    kmeans_n_init: PositiveInt  # start kmeans: restarts of the k-means (20)
    kmeans_select: Literal["inertia", "davies_bouldin"]  # start kmeans: which restart places them
    gmm_n_init: PositiveInt  # start gmm: EM starts of the mixture (10)
    gmm_reg_covar: PositiveFloat  # start gmm: floor on its components' variances, in whitened units (0.03)
    update_interval: PositiveInt  # steps between target refreshes on the whole dataset (140)
    tol: NonNegativeFloat = Field(lt=1)  # stop when fewer than this fraction of assignments change (0.001)
    optimizer: Literal["sgd", "adam"]  # DEC: SGD; IDEC on MNIST: Adam
    momentum: float = Field(ge=0, lt=1)  # SGD's momentum (DEC-keras: 0.9), or Adam's β1 (Keras: 0.9)


class DEC(Method):
    def __init__(self, params: Params, autoencoder: nn.Module, gamma: float | None = None):
        """autoencoder: the pretrained model with `encoder` and `decoder` (the sae method's);
        gamma: IDEC's weight of the clustering loss beside the reconstruction; None = DEC."""
        super().__init__()
        self.params, self.gamma = params, gamma
        self.encoder = copy.deepcopy(autoencoder.encoder)
        self.decoder = copy.deepcopy(autoencoder.decoder) if gamma is not None else None  # DEC drops it
        embedding = self.encoder[-1].out_features
        self.centres = nn.Parameter(torch.zeros(params.n_clusters, embedding))  # μ: (K, D)
        self.target = torch.empty(0, params.n_clusters)  # P: (N, K), held fixed between refreshes
        self.assignments = torch.empty(0, dtype=torch.long)  # argmax Q at the last refresh: (N,)

    # P and the last assignments depend on the dataset's size, so they travel as extra state, not buffers.
    def get_extra_state(self):
        return {"target": self.target, "assignments": self.assignments}

    def set_extra_state(self, state):
        self.target, self.assignments = state["target"], state["assignments"]

    def configure_optimizer(self, params: Params) -> torch.optim.Optimizer:
        if params.optimizer == "sgd":
            return torch.optim.SGD(self.parameters(), lr=params.lr, momentum=params.momentum,
                                   weight_decay=params.weight_decay)
        return torch.optim.Adam(self.parameters(), lr=params.lr, betas=(params.momentum, 0.999),
                                weight_decay=params.weight_decay)

    def soft_assignment(self, embeddings: torch.Tensor) -> torch.Tensor:
        return student_t_assignment(embeddings, self.centres, self.params.alpha)  # Q: (B, K)

    def before_step(self, step, streams: dict[str, Stream]):
        if step % self.params.update_interval:
            return True
        with torch.no_grad():
            q = self.soft_assignment(embed_tensor(self, streams["train"].images))  # (N, K) over the whole training set
        self.target = target_distribution(q)
        assignments = q.argmax(dim=1)
        changed = (assignments != self.assignments).float().mean().item() if len(self.assignments) else 1.0
        self.assignments = assignments
        return step == 0 or changed >= self.params.tol

    def training_step(self, train: Batch):
        z = self.encoder(train.images)  # (B, D)
        q = self.soft_assignment(z)
        clustering = kl_divergence(self.target[train.indices], q)
        # KL(P || Q) need not fall across refreshes, as each makes P sharper; the assignments' uncertainty
        # 1 − mean_i max_j q_ij is what self-training drives down
        scalars = {"kl": clustering.detach(), "uncertainty": 1 - q.detach().max(dim=1).values.mean()}
        if self.gamma is None:
            return clustering, scalars
        reconstruction = nn.functional.mse_loss(self.decoder(z), train.images.flatten(1))
        return reconstruction + self.gamma * clustering, {**scalars, "reconstruction": reconstruction.detach()}

    def embed(self, images):
        return self.encoder(images)  # (B, D)

    def fit(self, name: str, views: dict[str, View], params: Params, engine: EngineParams, fp: str, run):
        """Centres from a clustering of the pretrained embeddings, then the engine's loop. On a resume the
        checkpoint replaces the centres; the clustering runs again regardless, as it is seeded and cheap."""
        device = resolve_device(engine.device)
        centres = initial_centres(embed_all(self.to(device), views["train"].images, device), params)
        with torch.no_grad():
            self.centres.copy_(torch.from_numpy(centres))
        return fit(name, self, views, params, engine, fp, run)


def initial_centres(embeddings: np.ndarray, params: Params) -> np.ndarray:
    """Centres (K, D) for embeddings (N, D). Start gmm: the means of the clusters of AE(GMM)'s mixture (ae.py):
    of `gmm_n_init` full-covariance mixtures fitted to the PCA-whitened embeddings with the variance floor
    `gmm_reg_covar`, the most central (uvl.clustering.consensus). Start kmeans: of `kmeans_n_init` k-means restarts,
    those of the lowest inertia (scikit-learn's choice), or of the lowest Davies-Bouldin index: the mean over
    clusters of the largest (s_i + s_j) / d(μ_i, μ_j), s being a cluster's mean distance to its centre.

    Why not the lowest inertia: the self-training sharpens the partition it starts from, so DEC ends in the
    basin of its start, and the restart of lowest inertia is not the best start. docs/methods/dec.md and
    docs/methods/idec.md give the figures."""
    if params.start == "gmm":
        whitened = PCA(whiten=True, random_state=params.seed).fit_transform(embeddings)
        labels = consensus_gmm(whitened, params.n_clusters, "full", params.gmm_n_init, params.seed,
                               params.gmm_reg_covar)
        return np.stack([embeddings[labels == cluster].mean(axis=0) for cluster in range(params.n_clusters)])
    if params.kmeans_select == "inertia":
        kmeans = KMeans(params.n_clusters, n_init=params.kmeans_n_init, random_state=params.seed)
        return kmeans.fit(embeddings).cluster_centers_
    starts = np.random.SeedSequence(params.seed).generate_state(params.kmeans_n_init)
    restarts = [KMeans(params.n_clusters, n_init=1, random_state=int(start)).fit(embeddings) for start in starts]
    return min(restarts, key=lambda kmeans: davies_bouldin_score(embeddings, kmeans.labels_)).cluster_centers_


def assign(features: np.ndarray, model: DEC) -> np.ndarray:
    """argmax_j q_ij for embeddings (N, D) from `DEC.embed`."""
    with torch.no_grad():
        q = model.soft_assignment(torch.from_numpy(features).to(model.centres.device))
    return q.argmax(dim=1).cpu().numpy()
