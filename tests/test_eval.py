import itertools

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from uvl.eval.classification import accuracy, accuracy_on
from uvl.eval.clustering import cluster_acc, clustering_scores, hungarian_mapping, matched_confusion, row_metrics
from uvl.reports.results import most_confused_pairs


def brute_force_acc(labels, clusters):
    """ACC = max over one-to-one mappings m of (1/n) Σ 1{l_i = m(c_i)}, by trying every mapping."""
    k = max(labels.max(), clusters.max()) + 1
    return max(np.mean(np.asarray(perm)[clusters] == labels) for perm in itertools.permutations(range(k)))


@pytest.mark.parametrize("seed", range(5))
def test_acc_is_one_for_any_relabelling(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, 500)
    permutation = rng.permutation(10)
    assert cluster_acc(labels, permutation[labels]) == 1.0


def test_acc_hand_checked_example():
    # Cluster 0 = {0,0,1}, cluster 1 = {1,1,2}, cluster 2 = {2,2,0}: the best mapping 0→0, 1→1, 2→2 gets 6 of 9.
    labels = np.array([0, 0, 1, 1, 1, 2, 2, 2, 0])
    clusters = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert cluster_acc(labels, clusters) == pytest.approx(6 / 9)
    assert list(hungarian_mapping(labels, clusters)) == [0, 1, 2]


def test_acc_matches_brute_force_on_random_small_cases():
    rng = np.random.default_rng(0)
    for _ in range(30):
        labels, clusters = rng.integers(0, 5, 40), rng.integers(0, 5, 40)
        assert cluster_acc(labels, clusters) == pytest.approx(brute_force_acc(labels, clusters))


def test_extra_clusters_beyond_the_labels_count_as_errors():
    labels = np.array([0, 0, 1, 1])
    clusters = np.array([0, 1, 2, 3])  # four singleton clusters, only two labels to match
    assert cluster_acc(labels, clusters) == 0.5
    assert sorted(hungarian_mapping(labels, clusters)) == [-1, -1, 0, 1]


def test_nmi_and_ari_are_scikit_learns():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 1000)
    clusters = np.where(rng.random(1000) < 0.7, labels, rng.integers(0, 10, 1000))
    scores = clustering_scores(labels, clusters)
    assert scores["cluster_nmi"] == pytest.approx(normalized_mutual_info_score(labels, clusters))
    assert scores["cluster_ari"] == pytest.approx(adjusted_rand_score(labels, clusters))
    assert 0.7 < scores["cluster_acc"] < 0.8


def test_row_metrics_rematches_the_test_split():
    labels = np.array([0, 0, 1, 1, 0, 1])
    clusters = np.array([0, 0, 1, 1, 1, 0])  # train part matches 0→0; the test part alone matches 1→0
    scores = row_metrics(labels, clusters, slice(4, 6))
    assert scores["cluster_acc"] == pytest.approx(4 / 6)
    assert scores["test_cluster_acc"] == 1.0


def test_confusion_and_most_confused_pairs():
    labels = np.array([7, 7, 7, 9, 9, 9, 3, 5])
    clusters = np.array([0, 0, 1, 1, 1, 0, 2, 2])  # 7 and 9 swap one image each way; 3/5 share a cluster
    mapping = hungarian_mapping(labels, clusters)
    confusion = matched_confusion(labels, clusters, mapping)
    assert confusion.sum() == len(labels) - np.sum(mapping[clusters] < 0)
    pairs = most_confused_pairs(confusion)
    assert pairs[0] == (7, 9, 2)
    assert (3, 5, 1) in pairs


def test_a_classifiers_accuracy_is_not_hungarian_matched():
    """A classifier that names every class by the next one is always wrong; as a clustering it is perfect."""
    labels = np.repeat(np.arange(10), 5)
    permuted = (labels + 1) % 10
    assert accuracy(labels, permuted) == 0.0 and cluster_acc(labels, permuted) == 1.0
    assert accuracy(labels, labels) == 1.0


def test_a_classifier_is_scored_with_plain_accuracy_by_its_evaluate_stage(tmp_path):
    """The classification task's scoring, from the predict stage's file: a permuted classifier scores 0."""
    from uvl.eval.classification import score_predictions

    labels = {"test": np.repeat(np.arange(10), 3), "validation": np.arange(10)}
    np.savez(tmp_path / "predictions.npz", test=(labels["test"] + 1) % 10, validation=labels["validation"])
    scores = score_predictions(tmp_path, labels, "test", tmp_path, "permuted")
    assert scores == {"test_accuracy": 0.0, "validation_accuracy": 1.0}
    assert (tmp_path / "confusion.png").exists() and (tmp_path / "confusion.csv").exists()


def test_the_accuracy_on_the_classes_left_out_counts_their_images_alone():
    labels = np.array([7, 7, 7, 7, 1, 1, 2])
    predicted = np.array([7, 1, 1, 1, 1, 1, 2])  # one 7 in four; every other image right
    assert accuracy_on([7], labels, predicted) == 0.25
    assert accuracy_on([1, 2], labels, predicted) == 1.0
    with pytest.raises(ValueError):
        accuracy_on([5], labels, predicted)  # no image of the class: an error, not a silent 0 or NaN
