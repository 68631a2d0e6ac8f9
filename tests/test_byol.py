"""BYOL's parts: the loss against its two forms, the target's momentum schedule and what the step trains."""

import math

import pytest
import torch
import torch.nn.functional as F
import yaml
from conftest import ROOT

from uvl import methods
from uvl import params as uvl_params
from uvl.engine import Batch, Stream
from uvl.losses.contrastive import byol_loss
from uvl.models.ssl import cosine_momentum

BYOL = methods.get("byol")
SECTION = yaml.safe_load((ROOT / "params.yaml").read_text())["byol"]


def build(**overrides):
    params = uvl_params.validate_section("byol", {**SECTION, **overrides}, BYOL.Params)
    torch.manual_seed(0)
    return BYOL.build(params)


def test_loss_is_the_squared_distance_of_unit_vectors():
    torch.manual_seed(0)
    p, z = torch.randn(5, 7), torch.randn(5, 7)
    squared_distance = ((F.normalize(p, dim=1) - F.normalize(z, dim=1)) ** 2).sum(dim=1).mean()
    assert byol_loss(p, z).item() == pytest.approx(squared_distance.item(), rel=1e-5)
    # hand-computed: orthogonal vectors are √2 apart, opposite ones 2, whatever their lengths
    assert byol_loss(torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 0.5]])).item() == pytest.approx(2.0)
    assert byol_loss(torch.tensor([[1.0, 0.0]]), torch.tensor([[-2.0, 0.0]])).item() == pytest.approx(4.0)


def test_target_momentum_rises_from_base_to_one_along_a_cosine():
    assert cosine_momentum(0, 100, 0.996) == pytest.approx(0.996)
    assert cosine_momentum(50, 100, 0.996) == pytest.approx(0.998)
    assert cosine_momentum(100, 100, 0.996) == pytest.approx(1.0)
    assert cosine_momentum(25, 100, 0.9) == pytest.approx(1 - 0.1 * (math.cos(math.pi / 4) + 1) / 2)


def test_before_step_sets_the_momentum_of_the_step_from_the_whole_run():
    model = build(epochs=4)
    stream = Stream(torch.zeros(100, 28, 28, dtype=torch.uint8), None, batch_size=25)  # 4 steps an epoch, 16 in all
    model.before_step(8, {"train": stream})
    assert model.momentum == pytest.approx(cosine_momentum(8, 16, 0.996))


def test_only_the_online_network_and_predictor_learn_and_the_target_follows_by_ema():
    model = build()
    before = {k: v.clone() for k, v in model.target.state_dict().items()}
    loss, _ = model.training_step(train=Batch(torch.rand(8, 1, 28, 28), None, torch.arange(8)))
    loss.backward()
    assert all(p.grad is None for p in model.target.parameters())
    assert all(p.grad is not None for p in [*model.online.parameters(), *model.predictor.parameters()])
    optimizer = model.configure_optimizer(model.params)
    optimizer.step()
    model.momentum = 0.9
    model.after_step()
    online = dict(model.online.named_parameters())
    for name, value in model.target.named_parameters():
        assert torch.allclose(value, 0.9 * before[name] + 0.1 * online[name], atol=1e-7, rtol=1e-6)
    assert model.embed(torch.rand(3, 1, 28, 28)).shape == (3, model.params.feature_dim)
