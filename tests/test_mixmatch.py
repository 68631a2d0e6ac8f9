"""MixMatch's parts against hand-computed values: sharpening, MixUp with λ' = max(λ, 1 − λ), the two losses;
and a short run."""

import pytest
import torch
from test_methods import in_project, prepared, train  # noqa: F401 (the fixtures: a prepared project)

from uvl.models.mixup import mixup, sharpen, soft_cross_entropy, squared_error


def test_sharpening_by_hand():
    p = torch.tensor([[0.6, 0.3, 0.1], [0.5, 0.5, 0.0]])
    # T = 0.5 squares: (0.36, 0.09, 0.01) / 0.46
    assert torch.allclose(sharpen(p, 0.5), torch.tensor([[0.36 / 0.46, 0.09 / 0.46, 0.01 / 0.46], [0.5, 0.5, 0.0]]))
    assert torch.allclose(sharpen(p, 1.0), p)


def test_mixup_keeps_the_larger_share_for_the_first_image():
    images, other = torch.ones(2, 1, 2, 2), torch.zeros(2, 1, 2, 2)
    targets, other_targets = torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    mixed, mixed_targets = mixup(images, targets, other, other_targets, torch.tensor([0.3, 0.8]))
    # λ' = max(λ, 1 − λ) = 0.7 and 0.8
    assert torch.allclose(mixed[:, 0, 0, 0], torch.tensor([0.7, 0.8]))
    assert torch.allclose(mixed_targets, torch.tensor([[0.7, 0.3], [0.8, 0.2]]))


def test_the_losses_by_hand():
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.25]]))
    assert soft_cross_entropy(logits, torch.tensor([[0.5, 0.5, 0.0]])).item() == pytest.approx(
        -(0.5 * torch.log(torch.tensor(0.5)) + 0.5 * torch.log(torch.tensor(0.25))).item())
    # squared error: ((0.5 - 1)^2 + 0.25^2 + 0.25^2) / 3
    assert squared_error(logits, torch.tensor([[1.0, 0.0, 0.0]])).item() == pytest.approx(0.375 / 3)


def test_a_short_run_ramps_the_unlabelled_weight():
    _, _, history = train("mixmatch", epochs=3, ramp_epochs=2)
    assert len(history["epoch_validation_accuracy"]) == 3
    assert 0 < history["ramp"][0] < history["ramp"][1] < history["ramp"][2] == 1.0
