"""Best-of-K consensus: the partition the others agree with wins, whatever its cluster names."""

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

from uvl.consensus import consensus_gmm, most_central


def test_the_partition_the_others_agree_with_wins_whatever_its_cluster_names():
    rng = np.random.default_rng(0)
    common = rng.integers(0, 5, 500)
    renamed = (common + 1) % 5  # the same partition under other names: ARI 1 with it
    perturbed = common.copy()
    perturbed[:100] = rng.integers(0, 5, 100)  # mostly the same
    partitions = [rng.integers(0, 5, 500), perturbed, common, rng.integers(0, 5, 500), renamed]
    assert most_central(partitions) in (2, 4)
    assert most_central(partitions[:1]) == 0


def test_consensus_gmm_keeps_one_of_its_starts():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 50)
    x = 5 * np.eye(4)[labels] + rng.normal(scale=0.5, size=(200, 4))
    chosen = consensus_gmm(x, 4, "full", n_starts=5, seed=3)
    assert adjusted_rand_score(labels, chosen) == 1.0
    starts = np.random.SeedSequence(3).generate_state(5)
    fits = [GaussianMixture(4, covariance_type="full", random_state=int(s)).fit_predict(x) for s in starts]
    assert any(np.array_equal(chosen, fit) for fit in fits)
    assert np.array_equal(chosen, consensus_gmm(x, 4, "full", n_starts=5, seed=3))
