"""IDEC: improved deep embedded clustering (Guo, Gao, Liu, Yin, IJCAI 2017).

DEC with the decoder kept through the clustering phase, so the embedding keeps the structure of the data:
L = L_rec + γ·KL(P || Q), L_rec the mean squared reconstruction error and KL(P || Q) DEC's clustering loss
(dec.py); the model and its self-training are uvl.clustering.embedded's. It starts from the same
pretrained autoencoder as DEC (`idec.autoencoder: sae`: the pretrain-idec stage reads models/sae), as the
paper starts from DEC's. Its row `idec` is argmax_j q_ij.

Differences from the paper: those of dec.py (the autoencoder, the start: the clusters' means of AE(GMM)'s
mixture on z, `start: gmm`), and the clustering phase's optimiser: SGD (lr 0.1, momentum 0.9) where
IDEC's MNIST runs use Adam (lr 0.001).

docs/methods/idec.md has what was tried and measured.
"""

from __future__ import annotations

import numpy as np
from pydantic import PositiveFloat
from torch import nn

from uvl.clustering import embedded
from uvl.clustering.embedded import DEC, assign
from uvl.published import Published

PUBLISHED = [Published(row="idec", value=0.881, source="IDEC paper")]
TASK = "clustering"
# how the defaults were chosen (each metrics file's selected_on)
SELECTED_ON = ("labels of all 70,000 images: start gmm chosen on seed 0 and checked on seeds 1-2, optimizer and lr "
               "by accuracy over seeds 0-2; not yet confirmed on unseen seeds")


class Params(embedded.Params):
    gamma: PositiveFloat  # γ, weight of the clustering loss beside the reconstruction (0.1)


def build(params: Params, autoencoder: nn.Module) -> DEC:
    return DEC(params, autoencoder, gamma=params.gamma)


def cluster(features: np.ndarray, params: Params, model: DEC) -> dict[str, np.ndarray]:
    """features: (N, D) embeddings z from `DEC.embed`."""
    return {"idec": assign(features, model)}
