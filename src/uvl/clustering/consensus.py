"""Best-of-K consensus (Goder and Filkov, ALENEX 2008): of several clusterings of the same points, the one
that agrees most with the others, by mean adjusted Rand index; and a Gaussian mixture selected that way.

Why a mixture needs it: EM from different starts ends in a few distinct local optima, and on learned
embeddings their log-likelihoods can differ by a hundredth of a nat per point while their partitions
differ by ten points of ACC. Keeping the start of highest likelihood (scikit-learn's `n_init`) is then
close to a coin toss between those optima; keeping the partition that most starts agree on picks the
optimum that EM reaches most often, and needs no labels. docs/methods/ae.md gives the figures.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture


def most_central(partitions: Sequence[np.ndarray]) -> int:
    """Index i of the partition maximising mean_j ARI(partitions[i], partitions[j]) (the medoid)."""
    agreement = [[adjusted_rand_score(a, b) for b in partitions] for a in partitions]
    return int(np.mean(agreement, axis=1).argmax())


def consensus_gmm(x: np.ndarray, n_components: int, covariance_type: str, n_starts: int, seed: int,
                  reg_covar: float = 1e-6) -> np.ndarray:
    """Component index per row of x (N, D): of `n_starts` mixtures fitted by EM from one start each, with
    starts derived from `seed`, the partition of the most central one. reg_covar: added to the diagonal of
    every component's covariance (scikit-learn's default 1e-6)."""
    starts = np.random.SeedSequence(seed).generate_state(n_starts)
    partitions = [GaussianMixture(n_components, covariance_type=covariance_type, reg_covar=reg_covar,
                                  random_state=int(start)).fit_predict(x) for start in starts]
    return partitions[most_central(partitions)]
