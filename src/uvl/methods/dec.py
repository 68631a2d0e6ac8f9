"""DEC: deep embedded clustering (Xie, Girshick, Farhadi, ICML 2016). IDEC (idec.py) keeps the decoder.

Phase 1: a 784-500-500-2000-10 autoencoder learns to reconstruct the images (MSE).
Phase 2: the cluster centres μ start from k-means on the embeddings z of all images. The encoder and the
centres then minimise KL(P || Q), where Q is the Student-t soft assignment of each z to the centres and P
the sharpened target, recomputed on the whole dataset every `update_interval` steps and held fixed in
between. Training stops when fewer than `tol` of the assignments changed between two refreshes, or after
`cluster_epochs`. The clusters are argmax_j q_ij. IDEC adds the reconstruction: L = L_rec + γ·KL(P || Q).

Differences from the papers:
- End-to-end pretraining with Adam for `epochs` epochs (DEC: greedy layer-wise denoising pretraining with
  SGD; DEC-keras: end-to-end SGD for 300 epochs; IDEC: DEC's pretrained weights), so that the default run
  fits the CPU budget.
- The clustering phase uses Adam for both (DEC used SGD with lr 0.01).
"""

from __future__ import annotations

import numpy as np
import torch
from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt
from sklearn.cluster import KMeans
from torch import nn

from uvl.engine import Method, checkpoint_path, embed_all, embed_tensor, fit, resolve_device
from uvl.losses.clustering import kl_divergence, student_t_assignment, target_distribution
from uvl.params import EngineParams, TrainParams
from uvl.report import Published

PUBLISHED = [Published(row="dec", acc=0.843, source="DEC paper")]


class Params(TrainParams):  # epochs, batch_size, lr, ...: the autoencoder phase
    hidden: list[PositiveInt] = Field(min_length=1)  # encoder widths; the decoder mirrors them (500, 500, 2000)
    embedding: PositiveInt  # z, 10 in the paper
    n_clusters: int = Field(ge=2)
    alpha: PositiveFloat  # Student-t degrees of freedom (1)
    kmeans_n_init: PositiveInt  # restarts of the k-means that places the initial centres (20)
    cluster_epochs: PositiveInt  # at most this many epochs of the clustering phase
    cluster_lr: PositiveFloat  # Adam, clustering phase
    update_interval: PositiveInt  # steps between target refreshes on the whole dataset (140)
    tol: NonNegativeFloat = Field(lt=1)  # stop when fewer than this fraction of assignments change (0.001)


def mlp(widths: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them, none after the last."""
    layers = []
    for i, (width_in, width_out) in enumerate(zip(widths, widths[1:])):
        layers += [nn.Linear(width_in, width_out)] + ([nn.ReLU()] if i < len(widths) - 2 else [])
    return nn.Sequential(nn.Flatten(), *layers)


class Reconstruction(Method):
    """Phase 1: the autoencoder alone."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def training_step(self, images, indices):
        return nn.functional.mse_loss(self.decoder(self.encoder(images)), images.flatten(1)), {}


class DEC(Method):
    def __init__(self, params: Params, gamma: float | None = None):
        super().__init__()
        self.params, self.gamma = params, gamma  # gamma: IDEC's weight of the clustering loss; None = DEC
        widths = [28 * 28, *params.hidden, params.embedding]
        self.encoder = mlp(widths)
        self.decoder = mlp(widths[::-1])
        self.centres = nn.Parameter(torch.zeros(params.n_clusters, params.embedding))  # μ: (K, D)
        self.target = torch.empty(0, params.n_clusters)  # P: (N, K), held fixed between refreshes
        self.assignments = torch.empty(0, dtype=torch.long)  # argmax Q at the last refresh: (N,)

    # P and the last assignments depend on the dataset's size, so they travel as extra state, not buffers.
    def get_extra_state(self):
        return {"target": self.target, "assignments": self.assignments}

    def set_extra_state(self, state):
        self.target, self.assignments = state["target"], state["assignments"]

    def soft_assignment(self, embeddings: torch.Tensor) -> torch.Tensor:
        return student_t_assignment(embeddings, self.centres, self.params.alpha)  # Q: (B, K)

    def before_step(self, step, data):
        if step % self.params.update_interval:
            return True
        with torch.no_grad():
            q = self.soft_assignment(embed_tensor(self, data))  # (N, K) over the whole training set
        self.target = target_distribution(q)
        assignments = q.argmax(dim=1)
        changed = (assignments != self.assignments).float().mean().item() if len(self.assignments) else 1.0
        self.assignments = assignments
        return step == 0 or changed >= self.params.tol

    def training_step(self, images, indices):
        z = self.encoder(images)  # (B, D)
        clustering = kl_divergence(self.target[indices], self.soft_assignment(z))
        if self.gamma is None:
            return clustering, {"kl": clustering.detach()}
        reconstruction = nn.functional.mse_loss(self.decoder(z), images.flatten(1))
        return reconstruction + self.gamma * clustering, {"kl": clustering.detach(),
                                                          "reconstruction": reconstruction.detach()}

    def embed(self, images):
        return self.encoder(images)  # (B, D)

    def fit(self, name: str, images: np.ndarray, params: Params, engine: EngineParams, fp: str, run):
        device = resolve_device(engine.device)
        self.to(device)
        autoencoder = Reconstruction(self.encoder, self.decoder)
        history = fit(f"{name}-autoencoder", autoencoder, images, params, engine, fp, run, keep_checkpoint=True,
                      metric_prefix="autoencoder/")
        kmeans = KMeans(params.n_clusters, n_init=params.kmeans_n_init, random_state=params.seed)
        kmeans.fit(embed_all(self, images, device))
        with torch.no_grad():
            self.centres.copy_(torch.from_numpy(kmeans.cluster_centers_))
        clustering = params.model_copy(update={"epochs": params.cluster_epochs, "lr": params.cluster_lr,
                                               "lr_schedule": "constant"})
        history |= fit(name, self, images, clustering, engine, fp, run)
        checkpoint_path(f"{name}-autoencoder", fp).unlink(missing_ok=True)  # both phases are done
        return history


def build(params: Params) -> DEC:
    return DEC(params)


def assign(features: np.ndarray, model: DEC) -> np.ndarray:
    """argmax_j q_ij for embeddings (N, D)."""
    with torch.no_grad():
        q = model.soft_assignment(torch.from_numpy(features).to(model.centres.device))
    return q.argmax(dim=1).cpu().numpy()


def cluster(features: np.ndarray, params: Params, model: DEC) -> dict[str, np.ndarray]:
    """features: (N, D) embeddings z from `DEC.embed`."""
    return {"dec": assign(features, model)}
