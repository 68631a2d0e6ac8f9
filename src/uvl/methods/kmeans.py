"""k-means with 10 clusters on raw pixels (scikit-learn, Lloyd's algorithm, k-means++ seeding).

The seed poster's first baseline. Pixels are scaled to [0, 1] and flattened to 784 dimensions.
Differences from the poster: none known; the poster does not state its preprocessing or restarts.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveInt
from sklearn.cluster import KMeans

from uvl.params import ClusteringFields
from uvl.published import Published

PUBLISHED = [
    Published(row="kmeans", value=0.752, source="seed poster",
              note="k-means with 10 clusters on raw MNIST pixels scores about 53% in the literature."),
]
TASK = "clustering"
# how the defaults were chosen (each metrics file's selected_on)
SELECTED_ON = ("label-free: k-means++ restarts kept by inertia; no setting chosen by looking at labels")


class Params(ClusteringFields):
    n_clusters: int = Field(ge=2)  # 10 digits
    n_init: PositiveInt  # k-means++ restarts; the best inertia wins (scikit-learn's default: 1 with k-means++)
    max_iter: PositiveInt  # Lloyd iterations per restart
    tol: NonNegativeFloat  # relative centre shift that stops a restart
    seed: NonNegativeInt


def cluster(pixels: np.ndarray, params: Params) -> dict[str, np.ndarray]:
    """pixels: (N, 784) in [0, 1]."""
    model = KMeans(
        n_clusters=params.n_clusters,
        n_init=params.n_init,
        max_iter=params.max_iter,
        tol=params.tol,
        random_state=params.seed,
    )
    return {"kmeans": model.fit_predict(pixels)}
