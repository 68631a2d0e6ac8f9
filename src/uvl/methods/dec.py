"""DEC: deep embedded clustering (Xie, Girshick, Farhadi, ICML 2016); the model and its self-training are
uvl.embedded_clustering's, shared with IDEC (idec.py), which keeps the decoder.

DEC starts from the stacked autoencoder that the `sae` method pretrained (UPSTREAM; models/sae), fits
k-means centres on its embeddings and sharpens them by minimising KL(P || Q).

The clustering phase's optimiser is a param: DEC's paper and DEC-keras use SGD (lr 0.01, momentum 0.9),
IDEC's MNIST runs Adam (lr 0.001). DEC uses SGD: from the same (then not denoising) autoencoders it gained
about 4 points over its k-means start on each of seeds 0-2, close to the papers' gain, where Adam gained
less than 1 (commits fdb527d and 39abe38).

Differences from the papers: the autoencoder's (sae.py).
"""

from __future__ import annotations

import numpy as np
from torch import nn

from uvl.embedded_clustering import DEC, Params, assign
from uvl.report import Published

PUBLISHED = [Published(row="dec", acc=0.843, source="DEC paper")]
UPSTREAM = "sae"  # the model this method starts from


def build(params: Params, autoencoder: nn.Module) -> DEC:
    return DEC(params, autoencoder)


def cluster(features: np.ndarray, params: Params, model: DEC) -> dict[str, np.ndarray]:
    """features: (N, D) embeddings z from `DEC.embed`."""
    return {"dec": assign(features, model)}
