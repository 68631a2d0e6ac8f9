"""Clustering metrics: Hungarian-matched accuracy, NMI, ARI and the matched confusion matrix.

ACC = max over one-to-one mappings m of (1/n) Σ_i 1{l_i = m(c_i)}, with l_i the true label and c_i the
cluster of image i. The best mapping is found with the Hungarian algorithm on the cluster-by-label count
matrix. With more clusters than labels, the clusters left unmatched count as errors.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, confusion_matrix, normalized_mutual_info_score


def _contingency(labels: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """counts[c, l] = number of images in cluster c with label l; shape (n_clusters, n_labels)."""
    counts = np.zeros((clusters.max() + 1, labels.max() + 1), dtype=np.int64)
    np.add.at(counts, (clusters, labels), 1)
    return counts


def hungarian_mapping(labels: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """mapping[c] = the label matched to cluster c, or -1 for a cluster left unmatched."""
    labels, clusters = np.asarray(labels), np.asarray(clusters)
    if labels.shape != clusters.shape or labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"labels {labels.shape} and clusters {clusters.shape} must be equal, non-empty 1-D arrays")
    counts = _contingency(labels, clusters)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    mapping = np.full(len(counts), -1, dtype=np.int64)
    mapping[rows] = cols
    return mapping


def cluster_acc(labels: np.ndarray, clusters: np.ndarray) -> float:
    mapping = hungarian_mapping(labels, clusters)
    return float(np.mean(mapping[clusters] == labels))


def clustering_scores(labels: np.ndarray, clusters: np.ndarray) -> dict[str, float]:
    """{'acc', 'nmi', 'ari'} as fractions in [0, 1] (ARI can be slightly negative for random clusters)."""
    return {
        "acc": cluster_acc(labels, clusters),
        "nmi": float(normalized_mutual_info_score(labels, clusters)),
        "ari": float(adjusted_rand_score(labels, clusters)),
    }


def matched_confusion(labels: np.ndarray, clusters: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """confusion[l, p] = images of label l whose cluster is matched to label p (rows: true, columns: predicted)."""
    n_labels = int(labels.max()) + 1
    return confusion_matrix(labels, mapping[clusters], labels=np.arange(n_labels))


def most_confused_pairs(confusion: np.ndarray, top: int = 3) -> list[tuple[int, int, int]]:
    """The `top` unordered label pairs {a, b} with the most images of one predicted as the other, as (a, b, count)."""
    off_diagonal = confusion - np.diag(np.diag(confusion))
    symmetric = np.triu(off_diagonal + off_diagonal.T, k=1)
    order = np.argsort(symmetric, axis=None)[::-1][:top]
    pairs = [np.unravel_index(i, symmetric.shape) for i in order]
    return [(int(a), int(b), int(symmetric[a, b])) for a, b in pairs if symmetric[a, b] > 0]


def row_metrics(labels: np.ndarray, clusters: np.ndarray, test: slice) -> dict[str, float]:
    """Scores on all images (the standard clustering protocol) and, re-matched, on the test split alone."""
    scores = clustering_scores(labels, clusters)
    scores.update({f"test_{k}": v for k, v in clustering_scores(labels[test], clusters[test]).items()})
    return scores
