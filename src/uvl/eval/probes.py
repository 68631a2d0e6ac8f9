"""How well frozen features separate the classes: a linear probe and a weighted kNN, trained on the
training split's labels and scored on the test split."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def knn_accuracy(train_x, train_y, test_x, test_y, k: int, temperature: float) -> float:
    """Weighted kNN of InstDisc and MoCo's monitor: the k most cosine-similar training images vote for
    their label with weight exp(s/τ), s = cosine similarity."""
    classifier = KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute",
                                      weights=lambda distance: np.exp((1.0 - distance) / temperature))
    return float(classifier.fit(train_x, train_y).score(test_x, test_y))


def linear_probe_accuracy(train_x, train_y, test_x, test_y, max_iter: int, seed: int) -> float:
    """Multinomial logistic regression on standardised features (L-BFGS)."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, random_state=seed))
    return float(probe.fit(train_x, train_y).score(test_x, test_y))
