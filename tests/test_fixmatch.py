"""FixMatch's parts: the threshold masks unconfident pseudo-labels, the loss against the weak view's argmax
held fixed, cutout's square, and a short run."""

import pytest
import torch
import torch.nn.functional as F
from test_methods import in_project, prepared, train  # noqa: F401 (the fixtures: a prepared project)

from uvl.models.weak_strong import confident_pseudo_label_loss, cutout


def test_the_threshold_masks_what_it_should():
    # softmax of the weak logits: image 0 confident (0.97 on class 2), image 1 not (0.6), image 2 at 0.95 exactly
    weak = torch.log(torch.tensor([[0.01, 0.02, 0.97], [0.6, 0.3, 0.1], [0.95, 0.04, 0.01]]))
    strong = torch.tensor([[0.0, 1.0, 2.0], [3.0, 0.0, 0.0], [1.0, 1.0, 1.0]], requires_grad=True)
    loss, mask = confident_pseudo_label_loss(strong, weak, threshold=0.95)
    assert mask.tolist() == [True, False, True]
    expected = (F.cross_entropy(strong[0:1], torch.tensor([2])) + F.cross_entropy(strong[2:3], torch.tensor([0]))) / 3
    assert loss.item() == pytest.approx(expected.item())
    loss.backward()
    assert torch.all(strong.grad[1] == 0), "an unconfident image trains nothing"


def test_the_weak_view_is_a_constant():
    weak = torch.tensor([[5.0, 0.0]], requires_grad=True)
    loss, _ = confident_pseudo_label_loss(torch.tensor([[0.0, 0.0]], requires_grad=True), weak, threshold=0.0)
    loss.backward()
    assert weak.grad is None


def test_cutout_sets_one_square_an_image_to_zero():
    torch.manual_seed(0)
    images = torch.ones(64, 1, 28, 28)
    out = cutout(images, 0.25)  # a 7-pixel side
    erased = (out == 0).sum(dim=(1, 2, 3))
    assert torch.all(erased <= 49) and torch.all(erased >= 16), "a 7x7 square, clipped at the borders to 4x4 at least"
    assert len(set(map(tuple, (out == 0).flatten(1).int().tolist()))) > 32, "each image its own square"
    assert torch.equal(cutout(images, 0.0), images)


def test_a_short_run_trains_both_streams():
    _, _, history = train("fixmatch", epochs=3, threshold=0.0)
    assert len(history["epoch_validation_accuracy"]) == 3
    assert all(loss > 0 for loss in history["unlabelled_loss"]), "with τ = 0 every pseudo-label trains"
    assert history["confident_fraction"] == [1.0, 1.0, 1.0]
