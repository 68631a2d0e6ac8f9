"""InfoGAN: code sampling, the information loss, the sample grid, candidates, resume with the discriminator's
optimiser."""

import os
import signal

import numpy as np
import pytest
import torch
import yaml
from conftest import ROOT, cpu_engine

from uvl import methods
from uvl import params as uvl_params
from uvl.data.protocol import View
from uvl.engine import Batch, Stream, derive_seed
from uvl.errors import UvlError
from uvl.tracking import Run

INFOGAN = methods.get("infogan")
SECTION = yaml.safe_load((ROOT / "params.yaml").read_text())["infogan"]
ENGINE = cpu_engine(checkpoint_every=2)


def build(**overrides):
    """A model and its params: params.yaml's section, one run (no candidates) unless `overrides` say otherwise."""
    params = uvl_params.validate_section("infogan", {**SECTION, "candidates": 1, **overrides}, INFOGAN.Params)
    torch.manual_seed(0)
    return INFOGAN.build(params), params


def batch(size: int) -> Batch:
    """A batch of `size` random images, as the engine hands the clustering task's `train` stream to a step."""
    return Batch(torch.rand(size, 1, 28, 28), None, torch.arange(size))


def views(images: np.ndarray) -> dict[str, View]:
    """The clustering task's views of `images`: one, `train`, without labels."""
    return {"train": View(images, None, np.arange(len(images)))}


def test_code_sampling_shapes_and_ranges():
    torch.manual_seed(0)
    noise, categorical, continuous = INFOGAN.sample_codes(10_000)
    assert noise.shape == (10_000, 62) and continuous.shape == (10_000, 2) and categorical.shape == (10_000,)
    assert noise.min() >= -1 and noise.max() <= 1 and continuous.min() >= -1 and continuous.max() <= 1
    assert abs(noise.mean()) < 0.02 and abs(continuous.mean()) < 0.03  # uniform on (-1, 1), not normal
    assert set(categorical.tolist()) == set(range(10))
    assert np.bincount(categorical.numpy()).min() > 900  # uniform over the 10 values
    z = INFOGAN.generator_input(noise[:4], categorical[:4], continuous[:4])
    assert z.shape == (4, 74) and torch.equal(z[:, 62:72].sum(dim=1), torch.ones(4))


def test_generator_and_discriminator_shapes():
    model, _ = build()
    images = model.generator(INFOGAN.generator_input(*INFOGAN.sample_codes(5)))
    assert images.shape == (5, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
    assert model.real_or_fake(model.trunk(images)).shape == (5, 1)
    assert model.embed(images).shape == (5, 128)


def test_information_loss_is_small_when_q_reads_the_codes_and_weighs_the_continuous_ones():
    model, _ = build()
    categorical = torch.tensor([3])
    continuous = torch.tensor([[0.5, -0.5]])
    with torch.no_grad():
        model.code_output.weight.zero_()
        model.code_output.bias.copy_(torch.tensor([0.0] * 3 + [20.0] + [0.0] * 6 + [0.5, -0.5]))
    model.eval()
    features = model.trunk(torch.rand(1, 1, 28, 28))
    assert model.information_loss(features, categorical, continuous).item() == pytest.approx(0.0, abs=1e-6)
    # a continuous guess off by 1 costs continuous_weight * 1/2
    off = torch.tensor([[1.5, -0.5]])
    assert model.information_loss(features, categorical, off).item() == pytest.approx(0.5, abs=1e-6)
    model.params = model.params.model_copy(update={"continuous_weight": 0.1})
    assert model.information_loss(features, categorical, off).item() == pytest.approx(0.05, abs=1e-6)


def test_sample_grid_rows_are_categories_and_columns_sweep_a_code(tmp_path):
    model, _ = build()
    grid = model.sample_grid()
    assert grid.shape == (100, 1, 28, 28)
    model.figures(tmp_path)
    assert (tmp_path / "samples.png").stat().st_size > 1000


def test_the_generator_step_draws_its_own_codes(monkeypatch):
    model, _ = build()
    drawn = []
    sample = INFOGAN.sample_codes
    monkeypatch.setattr(INFOGAN, "sample_codes", lambda *args: drawn.append(sample(*args)) or drawn[-1])
    torch.manual_seed(0)
    model.training_step(train=batch(16))
    assert len(drawn) == 2  # the discriminator's batch of codes, then the generator's
    assert not torch.equal(drawn[0][0], drawn[1][0]) and not torch.equal(drawn[0][2], drawn[1][2])


def test_a_step_updates_both_networks():
    model, params = build()
    optimizer = model.configure_optimizer(params)
    before = {k: v.clone() for k, v in model.state_dict().items() if torch.is_tensor(v)}
    loss, scalars = model.training_step(train=batch(16))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    after = model.state_dict()
    assert not torch.equal(before["generator.0.weight"], after["generator.0.weight"])
    assert not torch.equal(before["trunk.0.weight"], after["trunk.0.weight"])
    assert set(scalars) == {"discriminator_loss", "generator_loss", "information_loss", "real_code_information"}


def test_the_information_weight_warms_up_linearly_over_its_epochs():
    model, _ = build(info_weight=2.0, information_warmup_epochs=2, batch_size=10)
    # 100 images, 10 steps an epoch: the warm-up is 20 steps
    streams = {"train": Stream(torch.zeros(100, 28, 28, dtype=torch.uint8), None, batch_size=10)}
    weights = [model.before_step(step, streams) and model.information_weight for step in (0, 5, 10, 20, 30)]
    assert weights == [0.0, 0.5, 1.0, 2.0, 2.0]
    model.before_step(0, streams)
    loss, scalars = model.training_step(train=batch(16))
    assert loss.item() == scalars["generator_loss"].item()  # the first step: no information term
    model, _ = build(info_weight=2.0, information_warmup_epochs=0)
    assert model.before_step(0, streams) and model.information_weight == 2.0


def test_the_real_code_information_gauge_reads_q_and_leaves_its_batchnorm_alone():
    model, _ = build()
    batchnorm = model.code_hidden[1]
    tracked = batchnorm.num_batches_tracked.item()
    _, scalars = model.training_step(train=batch(16))
    # Q's head sees G's images twice (the discriminator's step, the generator's); the gauge's pass moves nothing
    assert batchnorm.num_batches_tracked.item() == tracked + 2 and model.code_hidden.training
    assert 0 <= scalars["real_code_information"] <= np.log(10)

    model.code_hidden = torch.nn.Identity()  # features straight into Q's output layer: logit k = 1e4 * feature k
    with torch.no_grad():
        model.code_output.weight.zero_()
        model.code_output.bias.zero_()
        model.code_output.weight[torch.arange(10), torch.arange(10)] = 1e4
    sure = torch.zeros(20, 128)
    sure[torch.arange(20), torch.arange(20) % 10] = 1.0  # each image sure of its category, each category twice
    assert model.real_code_information(sure).item() == pytest.approx(np.log(10), abs=1e-5)
    assert model.real_code_information(sure[:1].repeat(20, 1)).item() == pytest.approx(0.0, abs=1e-5)  # one category
    assert model.real_code_information(torch.zeros(20, 128)).item() == pytest.approx(0.0, abs=1e-5)  # unsure


def test_candidates_train_a_prefix_each_and_the_best_reader_of_real_images_trains_on(isolated_root):
    images = np.random.default_rng(0).integers(0, 256, (64, 28, 28), dtype=np.uint8)
    chosen, params = build(batch_size=16, epochs=3, candidates=2, selection_epochs=1)
    history = chosen.fit("infogan", views(images), params, ENGINE, "fp", Run())

    # each candidate as a one-run default of its own seed, uninterrupted
    seeds = [params.seed, derive_seed(params.seed, 1)]
    alone = []
    for seed in seeds:
        single = params.model_copy(update={"seed": seed, "candidates": 1})
        torch.manual_seed(seed)
        model = INFOGAN.build(single)
        alone.append((model, model.fit("infogan", views(images), single, ENGINE, f"alone{seed}", Run())))
    scores = [run_history["real_code_information"][0] for _, run_history in alone]
    assert scores[0] != scores[1]
    winner, winner_history = alone[int(np.argmax(scores))]
    assert history == winner_history  # the chosen run continued exactly; no curve of the loser in it
    for key, value in winner.state_dict().items():
        if torch.is_tensor(value):
            assert torch.equal(value, chosen.state_dict()[key]), key
    assert not list((isolated_root / "checkpoints").glob("*.pt"))  # the candidates' checkpoints are gone


def test_candidates_need_a_selection_before_the_last_epoch():
    with pytest.raises(UvlError, match="selection_epochs"):
        build(epochs=6, candidates=2, selection_epochs=6)
    build(epochs=6, candidates=1, selection_epochs=6)  # one run: no selection to make


ONE_RUN = dict(batch_size=16, epochs=2)  # 4 steps an epoch on 64 images
CANDIDATES = dict(batch_size=16, epochs=3, candidates=2, selection_epochs=1)  # calls 1-4: candidate 0, 5-8: 1


@pytest.mark.parametrize("settings, signal_at_call, stopped_at", [
    (ONE_RUN, 5, "step 5/8"),
    (CANDIDATES, 6, "step 2/12"),  # in the second candidate's epoch
    (CANDIDATES, 10, "step 6/12"),  # in the chosen one's continuation
])
def test_a_resumed_run_ends_as_the_uninterrupted_one(monkeypatch, settings, signal_at_call, stopped_at):
    """SIGTERM at the `signal_at_call`-th step, then a rerun: the same history and weights, the
    discriminator's optimiser included."""
    images = np.random.default_rng(0).integers(0, 256, (64, 28, 28), dtype=np.uint8)
    reference, params = build(**settings)
    expected = reference.fit("infogan", views(images), params, ENGINE, "fp", Run())

    original, calls = INFOGAN.InfoGAN.training_step, {"n": 0}

    def training_step(self, train):
        calls["n"] += 1
        if calls["n"] == signal_at_call:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, train=train)

    monkeypatch.setattr(INFOGAN.InfoGAN, "training_step", training_step)
    with pytest.raises(UvlError, match=f"terminated at {stopped_at}"):
        build(**settings)[0].fit("infogan", views(images), params, ENGINE, "fp", Run())
    monkeypatch.setattr(INFOGAN.InfoGAN, "training_step", original)
    resumed, _ = build(**settings)
    assert resumed.fit("infogan", views(images), params, ENGINE, "fp", Run()) == expected
    for key, value in reference.state_dict().items():
        if torch.is_tensor(value):
            assert torch.equal(value, resumed.state_dict()[key]), key
