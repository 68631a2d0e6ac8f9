"""Co-teaching's parts: the kept share's schedule, and each network learning from the other's small-loss
images."""

import pytest
import torch
import torch.nn.functional as F

from uvl.methods.coteaching import cross_update_loss, kept_share


def test_the_kept_share_falls_linearly_to_one_minus_the_forget_rate():
    assert [kept_share(epoch, 0.5, 10) for epoch in (0, 5, 10, 20)] == pytest.approx([1.0, 0.75, 0.5, 0.5])
    assert kept_share(0, 0.2, 0) == pytest.approx(0.8)


def test_each_network_learns_from_the_others_small_loss_images():
    labels = torch.tensor([0, 0, 0, 0])
    # network a is sure of images 0 and 1, network b of images 2 and 3
    logits_a = torch.tensor([[5.0, 0], [4.0, 0], [0, 1.0], [0, 2.0]], requires_grad=True)
    logits_b = torch.tensor([[0, 2.0], [0, 1.0], [4.0, 0], [5.0, 0]], requires_grad=True)
    loss, kept_by_a, kept_by_b = cross_update_loss(logits_a, logits_b, labels, keep=2)
    assert sorted(kept_by_a.tolist()) == [0, 1] and sorted(kept_by_b.tolist()) == [2, 3]
    expected = (F.cross_entropy(logits_a[[3, 2]], labels[:2]) + F.cross_entropy(logits_b[[0, 1]], labels[:2]))
    assert loss.item() == pytest.approx(expected.item())
    loss.backward()
    assert torch.all(logits_a.grad[:2] == 0) and torch.all(logits_b.grad[2:] == 0), "a learns only from b's picks"
