"""Best-of-K consensus: the partition the others agree with wins, whatever its cluster names."""

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

from uvl.clustering.consensus import consensus_gmm, most_central


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


def test_consensus_gmm_fits_its_mixtures_with_the_variance_floor_it_is_given():
    # four points per component, in 5-d: unfloored, each fits a component squeezed onto the points' own
    # 3-d span; a floor of 100 leaves every component near-spherical and wide, so the partitions differ
    rng = np.random.default_rng(0)
    x = np.repeat(rng.normal(scale=3, size=(6, 5)), 4, axis=0) + rng.normal(scale=0.5, size=(24, 5))
    starts = np.random.SeedSequence(1).generate_state(3)
    for reg_covar in (1e-6, 100.0):
        chosen = consensus_gmm(x, 6, "full", n_starts=3, seed=1, reg_covar=reg_covar)
        fits = [GaussianMixture(6, covariance_type="full", reg_covar=reg_covar, random_state=int(s)).fit_predict(x)
                for s in starts]
        assert any(np.array_equal(chosen, fit) for fit in fits)
    assert adjusted_rand_score(consensus_gmm(x, 6, "full", 3, 1, reg_covar=1e-6),
                               consensus_gmm(x, 6, "full", 3, 1, reg_covar=100.0)) < 1
