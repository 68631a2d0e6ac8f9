"""Clustering: fitted on every image of the dataset, both splits, without labels (the standard protocol);
scored with Hungarian-matched clustering accuracy, NMI and ARI on all images and, re-matched, on the test
split alone. A trained method's features are also probed: a linear probe and a kNN classifier fitted on the
training split's labels, scored on the test split.

The stage after training, `cluster`, writes one assignment per image for each of the method's rows (its
headline row, named after it, then its variants: the same features clustered another way); the evaluate
stage scores them with uvl.eval.clustering.
"""

from __future__ import annotations

from uvl import tasks
from uvl.data import datasets, protocol
from uvl.params import ClusteringFields

STEP = "cluster"
HEADLINE = "cluster_acc"
COLUMNS = {"ACC": "cluster_acc", "NMI": "cluster_nmi", "ARI": "cluster_ari", "test ACC": "test_cluster_acc",
           "linear probe": "linear_probe_acc", "kNN": "knn_acc"}
PROTOCOL = ("Each method is fitted on all images of its dataset (training and test splits together, no labels: "
            "the standard clustering protocol) and scored with Hungarian-matched clustering accuracy (ACC), NMI "
            "and ARI, in percent; *test ACC* re-matches the same assignments on the test images alone. For a "
            "method that learns features: *linear probe* (logistic regression) and *kNN* (k = evaluation.knn_k, "
            "cosine similarity, exp(s/τ) votes) accuracy, fitted on the training split's labels and scored on "
            "the test split (plain accuracy, no matching).")


Fields = ClusteringFields  # what the method's section says of its data


class Scores(tasks.Scores):
    cluster_acc: float  # Hungarian-matched, all images
    cluster_nmi: float
    cluster_ari: float
    test_cluster_acc: float  # the same assignments, re-matched on the test split
    test_cluster_nmi: float
    test_cluster_ari: float
    linear_probe_acc: float | None = None  # a trained method's features, headline row only
    knn_acc: float | None = None


def views(section: Fields, data, name: str) -> tuple[dict[str, protocol.View], dict]:
    """The training views (one, `train`) and what the run's records say of them; data: params' `data`."""
    dataset = datasets.load(section.dataset, data.train_limit, data.test_limit)
    return {"train": protocol.clustering(dataset)}, protocol.record(None, dataset)
