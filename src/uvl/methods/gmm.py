"""Gaussian mixture fitted by EM (scikit-learn), on PCA-reduced pixels, plus a raw-pixel variant.

The seed poster's second baseline. Headline row `gmm`: PCA to `pca_components` dimensions, then a mixture
of `n_components` Gaussians with `covariance_type` covariances, initialised from k-means. Second row
`gmm_raw_diag` (when `raw_diag` is true): diagonal covariances on the 784 raw pixels, where full
covariances would be singular (many pixels are always 0).
Differences from the poster: the poster does not state its features or covariance type.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

from uvl.params import ClusteringFields
from uvl.published import Published

PUBLISHED = [Published(row="gmm", value=0.808, source="seed poster")]
TASK = "clustering"
# how the defaults were chosen (each metrics file's selected_on)
SELECTED_ON = ("label-free: EM initialisations kept by likelihood; no setting chosen by looking at labels")


class Params(ClusteringFields):
    n_components: int = Field(ge=2)  # mixture components = clusters (10 digits)
    pca_components: PositiveInt  # PCA size before EM for the headline row
    covariance_type: Literal["full", "tied", "diag", "spherical"]
    max_iter: PositiveInt  # EM iterations per initialisation
    n_init: PositiveInt  # EM initialisations; the best likelihood wins
    tol: PositiveFloat  # EM stops when the mean log-likelihood gains less than this
    reg_covar: PositiveFloat  # added to covariance diagonals; keeps constant pixels from being singular
    raw_diag: bool  # also fit the diagonal-covariance mixture on raw pixels (row gmm_raw_diag)
    seed: NonNegativeInt


def _fit_predict(features: np.ndarray, covariance_type: str, params: Params) -> np.ndarray:
    model = GaussianMixture(
        n_components=params.n_components,
        covariance_type=covariance_type,
        max_iter=params.max_iter,
        n_init=params.n_init,
        tol=params.tol,
        reg_covar=params.reg_covar,
        random_state=params.seed,
    )
    return model.fit_predict(features)


def cluster(pixels: np.ndarray, params: Params) -> dict[str, np.ndarray]:
    """pixels: (N, 784) in [0, 1]."""
    reduced = PCA(n_components=params.pca_components, random_state=params.seed).fit_transform(pixels)
    rows = {"gmm": _fit_predict(reduced, params.covariance_type, params)}
    if params.raw_diag:
        rows["gmm_raw_diag"] = _fit_predict(pixels, "diag", params)
    return rows
