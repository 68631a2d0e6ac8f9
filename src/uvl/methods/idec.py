"""IDEC: improved deep embedded clustering (Guo, Gao, Liu, Yin, IJCAI 2017).

DEC (dec.py) with the decoder kept through the clustering phase, so the embedding keeps the structure of
the data: L = L_rec + γ·KL(P || Q). It starts from the same pretrained autoencoder (models/sae) as DEC,
as the paper starts from DEC's; everything else, and the differences from the paper, as in dec.py.
"""

from __future__ import annotations

import numpy as np
from pydantic import PositiveFloat

from uvl.methods import dec
from uvl.methods.sae import StackedAutoencoder
from uvl.report import Published

PUBLISHED = [Published(row="idec", acc=0.881, source="IDEC paper")]
UPSTREAM = dec.UPSTREAM


class Params(dec.Params):
    gamma: PositiveFloat  # γ, weight of the clustering loss beside the reconstruction (0.1)


def build(params: Params, autoencoder: StackedAutoencoder) -> dec.DEC:
    return dec.DEC(params, autoencoder, gamma=params.gamma)


def cluster(features: np.ndarray, params: Params, model: dec.DEC) -> dict[str, np.ndarray]:
    """features: (N, D) embeddings z from `DEC.embed`."""
    return {"idec": dec.assign(features, model)}
