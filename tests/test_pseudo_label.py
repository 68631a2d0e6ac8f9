"""Pseudo-labelling's parts: the α(t) schedule at its breakpoints, the loss against its argmax targets,
the schedule's params, and a short run whose first epochs train on the labelled images alone."""

import pytest
import torch
import torch.nn.functional as F
from test_methods import in_project, prepared, section_of, train  # noqa: F401 (the fixtures: a prepared project)

from uvl import params as uvl_params
from uvl.errors import UvlError
from uvl.methods import pseudo_label
from uvl.methods.pseudo_label import alpha, pseudo_label_loss


@pytest.mark.parametrize(("epoch", "expected"), [(0, 0.0), (3, 0.0), (4, 0.0), (6, 1.5), (7, 2.25), (8, 3.0),
                                                 (20, 3.0)])
def test_alpha_is_zero_before_t1_linear_to_alpha_f_at_t2_then_flat(epoch, expected):
    assert alpha(epoch, ramp_start=4, ramp_end=8, alpha_final=3.0) == pytest.approx(expected)


def test_alpha_jumps_when_t1_is_t2():
    assert [alpha(epoch, 2, 2, 3.0) for epoch in range(4)] == [0.0, 0.0, 3.0, 3.0]


def test_the_loss_is_cross_entropy_against_the_argmax_held_fixed():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.3, 0.2]], requires_grad=True)
    loss = pseudo_label_loss(logits)
    loss.backward()
    reference = logits.detach().clone().requires_grad_()
    expected = F.cross_entropy(reference, torch.tensor([0, 1]))
    expected.backward()
    assert loss.item() == pytest.approx(expected.item())
    assert torch.allclose(logits.grad, reference.grad), "the targets are constants: softmax(logits) - onehot"


def test_the_ramp_must_fit_in_the_epochs():
    with pytest.raises(UvlError, match="ramp_start <= ramp_end <= epochs"):
        section_of("pseudo_label", ramp_start=3, ramp_end=2)
    with pytest.raises(UvlError, match="ramp_start <= ramp_end <= epochs"):
        uvl_params.validate_section("pseudo_label", {**section_of("pseudo_label").model_dump(), "ramp_end": 99},
                                    pseudo_label.Params)


def test_pseudo_labels_join_after_t1_and_the_best_validation_epoch_is_kept():
    model, section, history = train("pseudo_label", epochs=4, ramp_start=2, ramp_end=3)
    assert history["alpha"] == [0.0, 0.0, 0.0, 3.0]
    assert history["pseudo_label_loss"][:2] == [0.0, 0.0], "no unlabelled pass while α = 0"
    assert history["pseudo_label_loss"][3] > 0
    assert len(history["epoch_validation_accuracy"]) == 4
