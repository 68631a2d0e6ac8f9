"""N2D's clustering step (McConville et al. 2020): UMAP of learned features, then a Gaussian mixture.

k-means, or a mixture fitted on the features themselves, depends on their global geometry: a few
directions of large variance, or one class spread along a continuum (the slants of the 1s), and the
lowest-cost solution splits one digit and merges two others. UMAP (`umap_neighbors` neighbours, to
`umap_components` dimensions, points packed as tightly as `umap_min_dist` lets) keeps each class one
compact region; a full-covariance mixture then fits the regions, elongated ones included. N2D's
published settings are 20 neighbours, n_clusters components and min_dist 0.

UMAP's result depends on the number of BLAS/OpenMP threads, even with its seed fixed, so the step runs on
one thread, and a machine with more cores gives the same clusters; it costs little (docs/methods/ae.md
has the measurements).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, PositiveInt
from sklearn.mixture import GaussianMixture

from uvl.params import Section


class UmapParams(Section):
    """The fields of a section whose method clusters with `umap_gmm`."""

    umap_neighbors: int = Field(ge=2)  # UMAP's neighbourhood size (N2D: 20)
    umap_components: PositiveInt  # UMAP's output dimensions, where the mixture is fitted (N2D: n_clusters)
    umap_min_dist: float = Field(ge=0, le=1)  # how tightly UMAP packs neighbours (N2D: 0, for clustering)


def umap_mixture(features: np.ndarray, n_clusters: int, params: UmapParams,
                 seed: int) -> tuple[np.ndarray, GaussianMixture, np.ndarray]:
    """The UMAP embedding (N, umap_components) of features (N, D), the full-covariance GMM fitted on it and
    each row's component."""
    import umap  # numba compiles it on import: seconds that only the stages using it should pay
    from threadpoolctl import threadpool_limits

    # a fixed random_state makes UMAP's own loops single-threaded; one thread for the libraries it calls too
    with threadpool_limits(limits=1):  # BLAS and OpenMP
        manifold = umap.UMAP(n_components=params.umap_components, n_neighbors=params.umap_neighbors,
                             min_dist=params.umap_min_dist, random_state=seed, n_jobs=1).fit_transform(features)
        mixture = GaussianMixture(n_clusters, covariance_type="full", random_state=seed)
        return manifold, mixture, mixture.fit_predict(manifold)


def umap_gmm(features: np.ndarray, n_clusters: int, params: UmapParams, seed: int) -> np.ndarray:
    """Cluster index per row of features (N, D): a full-covariance GMM on their UMAP embedding."""
    return umap_mixture(features, n_clusters, params, seed)[2]
