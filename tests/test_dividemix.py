"""DivideMix's parts: the GMM division on a synthetic bimodal loss distribution, the uniform-prior penalty,
and short runs: the division after warm-up, and a resumed run equal to an uninterrupted one."""

import numpy as np
import pytest
import torch
from test_methods import ENGINE, DATA, in_project, prepared, section_of, train  # noqa: F401 (fixtures)

from uvl import tasks
from uvl.engine import fit
from uvl.methods import dividemix
from uvl.methods.dividemix import clean_probability, prior_penalty
from uvl.tracking import Run


def test_the_division_finds_the_low_loss_mode():
    rng = np.random.default_rng(0)
    losses = np.concatenate([rng.normal(0.1, 0.05, 700), rng.normal(2.0, 0.3, 300)]).clip(0)  # clean, then noisy
    w = clean_probability(losses, seed=0)
    assert (w[:700] > 0.5).mean() > 0.99 and (w[700:] < 0.5).mean() > 0.99
    assert w.min() >= 0 and w.max() <= 1


def test_the_prior_penalty_is_zero_for_a_balanced_batch_and_positive_for_a_collapsed_one():
    balanced = torch.log(torch.eye(4) * 0.97 + 0.01)  # each class once
    assert prior_penalty(balanced).item() == pytest.approx(0.0, abs=1e-6)
    collapsed = torch.log(torch.tensor([[0.97, 0.01, 0.01, 0.01]] * 4))
    assert prior_penalty(collapsed).item() > 0.5


def test_warm_up_then_division_on_noisy_labels():
    _, _, history = train("dividemix", epochs=3, warmup_epochs=1)
    assert history["clean_fraction"][0] == 1.0 and 0 < history["clean_fraction"][2] < 1
    assert history["unlabelled_loss"][0] == 0 and history["unlabelled_loss"][2] > 0


def test_a_resumed_run_continues_exactly(tmp_path):
    section = section_of("dividemix", epochs=2, warmup_epochs=1)
    views, _ = tasks.of(dividemix).views(section, DATA, "dividemix")

    def trained(fp, until_epoch=None):
        torch.manual_seed(section.seed)
        model = dividemix.build(section)
        fit("dividemix", model, views, section, ENGINE, fp, Run(), until_epoch=until_epoch)
        return model

    uninterrupted = trained("whole")
    trained("parts", until_epoch=1)  # up to the first division; the resumed run makes it
    resumed = trained("parts")
    assert all(torch.equal(a, b) for a, b in zip(uninterrupted.state_dict().values(), resumed.state_dict().values()))
