"""Clustering metrics: Hungarian-matched accuracy, NMI, ARI and the matched confusion matrix; the clustering
task's evaluation (`evaluate`).

ACC = max over one-to-one mappings m of (1/n) Σ_i 1{l_i = m(c_i)}, with l_i the true label and c_i the
cluster of image i. The best mapping is found with the Hungarian algorithm on the cluster-by-label count
matrix. With more clusters than labels, the clusters left unmatched count as errors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, confusion_matrix, normalized_mutual_info_score

from uvl.data import datasets
from uvl.eval.figures import confusion_csv, confusion_png, tsne_png
from uvl.eval.probes import knn_accuracy, linear_probe_accuracy
from uvl.params import ClusteringFields
from uvl.tasks.clustering import Scores


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
    """{'cluster_acc', 'cluster_nmi', 'cluster_ari'} as fractions in [0, 1] (ARI can be slightly negative for
    random clusters)."""
    return {
        "cluster_acc": cluster_acc(labels, clusters),
        "cluster_nmi": float(normalized_mutual_info_score(labels, clusters)),
        "cluster_ari": float(adjusted_rand_score(labels, clusters)),
    }


def matched_confusion(labels: np.ndarray, clusters: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """confusion[l, p] = images of label l whose cluster is matched to label p (rows: true, columns: predicted)."""
    n_labels = int(labels.max()) + 1
    return confusion_matrix(labels, mapping[clusters], labels=np.arange(n_labels))


def row_metrics(labels: np.ndarray, clusters: np.ndarray, test: slice) -> dict[str, float]:
    """Scores on all images (the standard clustering protocol) and, re-matched, on the test split alone."""
    scores = clustering_scores(labels, clusters)
    scores.update({f"test_{k}": v for k, v in clustering_scores(labels[test], clusters[test]).items()})
    return scores


def evaluate(name: str, section: ClusteringFields, data, evaluation, outputs: Path, plots: Path,
             selected_on: str) -> dict[str, Scores]:
    """Scores of every row in outputs/assignments.npz; writes the headline row's confusion matrix and, for
    a trained method, a t-SNE map of its test features into `plots`."""
    dataset = datasets.load(section.dataset, data.train_limit, data.test_limit)
    labels = np.concatenate([dataset.train_labels, dataset.test_labels])
    test = slice(dataset.n_train, len(labels))
    with np.load(outputs / "assignments.npz") as npz:
        rows = {row: npz[row] for row in npz.files}
    headline = name
    scores = {row: row_metrics(labels, assignment, test) for row, assignment in rows.items()}
    features_file = outputs / "features.npy"
    probes = {}
    if features_file.exists():
        features = np.load(features_file)
        train = slice(0, dataset.n_train)
        probes = {
            "linear_probe_acc": linear_probe_accuracy(features[train], labels[train], features[test], labels[test],
                                                      evaluation.probe_max_iter, section.seed),
            "knn_acc": knn_accuracy(features[train], labels[train], features[test], labels[test],
                                    evaluation.knn_k, evaluation.knn_temperature),
        }
        sample = np.arange(dataset.n_train, len(labels))[: evaluation.tsne_samples]
        tsne_png(features[sample], labels[sample], f"{name}: t-SNE of {len(sample)} test embeddings",
                 plots / "tsne.png", section.seed)

    truth, clusters = labels[test], rows[headline][test]
    mapping = hungarian_mapping(truth, clusters)
    confusion_png(matched_confusion(truth, clusters, mapping),
                  f"{headline}: test split, ACC {scores[headline]['test_cluster_acc']:.1%}", plots / "confusion.png",
                  xlabel="predicted (Hungarian-matched cluster)")
    confusion_csv(truth, mapping[clusters], plots / "confusion.csv")
    return {row: Scores(**values, **(probes if row == headline else {}), selected_on=selected_on)
            for row, values in scores.items()}

