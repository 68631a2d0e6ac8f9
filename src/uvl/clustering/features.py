"""The clusterings every self-supervised encoder reports on its features, rows named after the method.

- `<method>`, the headline: N2D's step (uvl.clustering.n2d: UMAP, then a full-covariance Gaussian mixture)
  with N2D's published settings, not tuned on our labels.
- `<method>_kmeans_whitened`: k-means on the first `pca_components` whitened PCA components.
- `<method>_kmeans`: k-means on the L2-normalised features themselves.

k-means alone is not the headline: it hinges on the features' global geometry, and on some seeds its
lowest-inertia solution splits the 1s (a continuum of slants) and merges the 8s and 9s
(docs/methods/moco.md has the measurements).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, PositiveInt, model_validator
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

from uvl.clustering.n2d import UmapParams, umap_gmm
from uvl.params import ClusteringFields


class EncoderClusteringFields(ClusteringFields, UmapParams):  # UmapParams: the headline row's UMAP
    """The fields of a section whose encoder's features are clustered by `cluster_features`."""

    feature_dim: PositiveInt  # the encoder's output: the features clustered and probed
    n_clusters: int = Field(ge=2)
    pca_components: PositiveInt  # whitened PCA components of the <method>_kmeans_whitened row (<= feature_dim)
    kmeans_n_init: PositiveInt  # restarts of the k-means rows

    @model_validator(mode="after")
    def _pca_fits(self):
        if self.pca_components > self.feature_dim:
            raise ValueError(f"pca_components ({self.pca_components}) must be at most feature_dim ({self.feature_dim})")
        return self


def cluster_features(name: str, features: np.ndarray, params: EncoderClusteringFields,
                     seed: int) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features. Returns the three rows, the headline `name` first."""
    whitened = PCA(params.pca_components, whiten=True, random_state=seed).fit_transform(features)

    def kmeans(points):
        return KMeans(params.n_clusters, n_init=params.kmeans_n_init, random_state=seed).fit_predict(points)

    return {name: umap_gmm(features, params.n_clusters, params, seed),
            f"{name}_kmeans_whitened": kmeans(whitened), f"{name}_kmeans": kmeans(features)}
