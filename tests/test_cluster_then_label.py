"""Cluster-then-label: the naming of clusters, its errors, and a short run that clusters at its first step,
trains on the named clusters, then on its confident predictions, and resumes exactly."""

import numpy as np
import pytest
import torch
from test_methods import DATA, ENGINE, in_project, prepared, section_of, train  # noqa: F401 (fixtures)

from uvl import tasks
from uvl.engine import fit
from uvl.errors import UvlError
from uvl.methods import cluster_then_label
from uvl.tracking import Run

ONE_LABEL = {"labels": {"per_class": 1, "classes_left_out": [], "noise_rate": 0.0, "noise_kind": "symmetric",
                        "validation_per_class": 20, "seed": 0}}
CENTRES = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])


def test_each_class_names_the_cluster_its_labelled_images_are_nearest():
    points = np.array([[0.5, 9.0], [9.0, 1.0], [1.0, 0.0]])  # classes 0, 1, 2 near clusters 2, 1, 0
    assert cluster_then_label.name_clusters(points, np.array([0, 1, 2]), CENTRES).tolist() == [2, 1, 0]


def test_two_labels_in_one_cluster_do_not_both_name_it():
    # classes 0 and 1 are both nearest cluster 0; class 1 is nearer it, class 0 takes the next nearest (2)
    points = np.array([[2.0, 3.0], [0.5, 0.0], [9.0, 0.0]])
    names = cluster_then_label.name_clusters(points, np.array([0, 1, 2]), CENTRES)
    assert names.tolist() == [1, 2, 0] and sorted(names) == [0, 1, 2]


def test_several_labels_a_class_name_by_their_mean_distance():
    points = np.array([[9.0, 0.0], [0.0, 4.0], [0.0, 9.0], [1.0, 1.0]])  # class 0: 9 from cluster 0, 1 from 1, ...
    names = cluster_then_label.name_clusters(points, np.array([0, 0, 1, 2]), CENTRES)
    assert names.tolist() == [2, 0, 1]


def test_a_clusters_core_is_its_densest_images():
    clusters = np.array([0, 0, 0, 0, 1, 1, 1])
    density = np.array([0.1, 0.9, 0.5, 0.7, -3.0, -1.0, -2.0])
    core = cluster_then_label.cluster_cores(density, clusters, 0.5)
    assert core.tolist() == [False, True, False, True, False, True, True]  # 2 of 4, round(1.5) = 2 of 3
    assert cluster_then_label.cluster_cores(density, clusters, 0.01).sum() == 2, "at least one image a cluster"


def test_the_core_loss_trains_the_cores_alone():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [5.0, -5.0]], requires_grad=True)
    loss, share = cluster_then_label.core_loss(logits, torch.tensor([0, -1, 1]))
    expected = (torch.nn.functional.cross_entropy(logits[[0, 2]], torch.tensor([0, 1]), reduction="sum") / 3)
    assert loss.item() == pytest.approx(expected.item()) and share.item() == pytest.approx(2 / 3)
    loss.backward()
    assert torch.all(logits.grad[1] == 0)


def test_a_class_without_a_labelled_image_is_an_error():
    with pytest.raises(UvlError, match=r"classes \[2\] have no labelled image"):
        cluster_then_label.name_clusters(CENTRES[:2], np.array([0, 1]), CENTRES)


def test_a_short_run_trains_on_the_named_clusters_then_on_its_confident_predictions():
    model, section, history = train("cluster_then_label", **ONE_LABEL)
    assert section.labels.per_class == 1 and section.cluster_epochs == 1
    views, _ = tasks.of(cluster_then_label).views(section, DATA, "cluster_then_label")
    assert model.cluster_labels.shape == (len(views["unlabelled"]),)
    assert np.unique(model.cluster_labels.numpy()).tolist() == list(range(-1, 10)), "every class names a core"
    in_a_core = (model.cluster_labels >= 0).float().mean().item()
    assert in_a_core == pytest.approx(section.core_fraction, abs=0.01), "each cluster's core, a fraction of it"
    assert history["trained_fraction"][0] == pytest.approx(in_a_core, abs=0.1), "the cores train, and nothing else"
    assert "epoch_validation_accuracy" not in history, "no choice looks at the validation slice"


@pytest.fixture(scope="module")
def upstream(prepared):
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(prepared)
        return train("moco")[0]


def test_it_starts_from_the_upstream_encoder(upstream):
    section = section_of("cluster_then_label")
    model = cluster_then_label.build(section, upstream)
    assert all(torch.equal(a, b) for a, b in zip(model.encoder.state_dict().values(),
                                                 upstream.encoder.state_dict().values()))


def test_a_resumed_run_keeps_its_clusters_and_continues_exactly(upstream):
    section = section_of("cluster_then_label", **ONE_LABEL)
    views, _ = tasks.of(cluster_then_label).views(section, DATA, "cluster_then_label")

    def trained(fp, until_epoch=None):
        torch.manual_seed(section.seed)
        model = cluster_then_label.build(section, upstream)
        fit("cluster_then_label", model, views, section, ENGINE, fp, Run(), until_epoch=until_epoch)
        return model

    uninterrupted = trained("whole")
    trained("parts", until_epoch=1)
    resumed = trained("parts")
    assert all(torch.equal(a, b) for a, b in zip(uninterrupted.state_dict().values(), resumed.state_dict().values()))
