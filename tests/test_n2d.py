import numpy as np
import umap
from threadpoolctl import threadpool_info, threadpool_limits

from uvl.clustering.n2d import UmapParams, umap_gmm


def test_umap_runs_on_one_thread_whatever_the_machine(monkeypatch):
    """UMAP's output changes with the number of BLAS/OpenMP threads (73.5% against 80.0% ACC on the same
    embedding), so uvl.clustering.n2d limits them to one: the clusters then do not depend on the machine's cores."""
    seen = []

    def fit_transform(self, features):
        seen.extend(pool["num_threads"] for pool in threadpool_info())
        return np.random.default_rng(0).normal(size=(len(features), self.n_components))

    monkeypatch.setattr(umap.UMAP, "fit_transform", fit_transform)
    features = np.random.default_rng(1).normal(size=(300, 8)).astype(np.float32)
    with threadpool_limits(limits=2):  # what a 2-core machine runs with by default
        clusters = umap_gmm(features, 3, UmapParams(umap_neighbors=5, umap_components=2, umap_min_dist=0.0), seed=0)
        assert all(pool["num_threads"] == 2 for pool in threadpool_info())  # the caller's limit is back
    assert seen and set(seen) == {1}
    assert clusters.shape == (300,) and set(np.unique(clusters)) <= {0, 1, 2}
