"""IDEC: improved deep embedded clustering (Guo, Gao, Liu, Yin, IJCAI 2017).

DEC with the decoder kept through the clustering phase, so the embedding keeps the structure of the data:
L = L_rec + γ·KL(P || Q); the model and its self-training are uvl.embedded_clustering's. It starts from
the same pretrained autoencoder (models/sae) as DEC, as the paper starts from DEC's; everything else, and
the differences from the paper, as in dec.py.
"""

from __future__ import annotations

import numpy as np
from pydantic import PositiveFloat
from torch import nn

from uvl import embedded_clustering
from uvl.embedded_clustering import DEC, assign
from uvl.report import Published

PUBLISHED = [Published(row="idec", acc=0.881, source="IDEC paper")]
UPSTREAM = "sae"  # the model this method starts from


class Params(embedded_clustering.Params):
    gamma: PositiveFloat  # γ, weight of the clustering loss beside the reconstruction (0.1)


def build(params: Params, autoencoder: nn.Module) -> DEC:
    return DEC(params, autoencoder, gamma=params.gamma)


def cluster(features: np.ndarray, params: Params, model: DEC) -> dict[str, np.ndarray]:
    """features: (N, D) embeddings z from `DEC.embed`."""
    return {"idec": assign(features, model)}
