"""DEC: deep embedded clustering (Xie, Girshick, Farhadi, ICML 2016); the model and its self-training are
uvl.clustering.embedded's, shared with IDEC (idec.py), which keeps the decoder.

DEC starts from the stacked autoencoder that the `sae` method pretrained (`dec.autoencoder: sae`: the
pretrain-dec stage reads models/sae), drops its decoder, places the cluster centres μ_j on its embeddings
z and sharpens them by minimising KL(P || Q) over the encoder and the centres, where Q is the Student-t
soft assignment q_ij ∝ (1 + ||z_i − μ_j||²/α)^(−(α+1)/2) and P the target p_ij ∝ q_ij² / Σ_i q_ij,
recomputed on the whole dataset every `update_interval` steps. Its row `dec` is argmax_j q_ij.

Differences from the paper:
- The autoencoder is sae.py's (denoising, trained end to end with Adam).
- The centres start at the clusters' means of AE(GMM)'s mixture on z (`start: gmm`: the consensus of 10
  full-covariance mixtures on the PCA-whitened embeddings with the variance floor 0.03), not at k-means'
  centres: the self-training ends in its start's basin, and the mixture's partition is the better start.
- With `start: kmeans`, the restart of lowest Davies-Bouldin index (`kmeans_select`), where the paper keeps
  the one of lowest inertia: k-means' restarts end in basins of nearly equal inertia and different ACC.
- The clustering phase's optimiser is a param (`optimizer`); DEC uses the paper's SGD (lr 0.01, momentum
  0.9), IDEC's MNIST runs used Adam.

docs/methods/dec.md has what was tried and measured.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from uvl.clustering.embedded import DEC, Params, assign
from uvl.published import Published

PUBLISHED = [Published(row="dec", value=0.843, source="DEC paper")]
TASK = "clustering"
# how the defaults were chosen (each metrics file's selected_on)
SELECTED_ON = ("labels of all 70,000 images: start gmm chosen with IDEC's on seed 0 and checked on seeds 0-2, "
               "optimizer by accuracy over seeds 0-2; not yet confirmed on unseen seeds")


def build(params: Params, autoencoder: nn.Module) -> DEC:
    return DEC(params, autoencoder)


def cluster(features: np.ndarray, params: Params, model: DEC) -> dict[str, np.ndarray]:
    """features: (N, D) embeddings z from `DEC.embed`."""
    return {"dec": assign(features, model)}
