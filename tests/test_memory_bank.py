"""The memory bank: NCE against a hand computation, the bank's start and update, the constant Z."""

import math

import pytest
import torch
import torch.nn.functional as F
import yaml
from conftest import ROOT

from uvl import methods
from uvl import params as uvl_params
from uvl.engine import Batch, Stream
from uvl.losses.contrastive import instance_nce_loss

BANK = methods.get("memory_bank")
SECTION = yaml.safe_load((ROOT / "params.yaml").read_text())["memory_bank"]


def test_instance_nce_hand_computed():
    # one query equal to its entry (v·f = 1) and two noise entries orthogonal to it (v·f' = 0), τ = 1,
    # Z = 1, n = 4: m·P_n = 0.5, P(data) = e, P(noise) = 1
    v = torch.tensor([[1.0, 0.0, 0.0]])
    noise = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    expected = -(math.log(math.e / (math.e + 0.5)) + 2 * math.log(0.5 / (1 + 0.5)))
    assert instance_nce_loss(v, v, noise, 1.0, 1.0, 4).item() == pytest.approx(expected, rel=1e-6)


def test_bank_starts_as_seeded_unit_vectors_and_moves_towards_the_features():
    params = uvl_params.validate_section("memory_bank", {**SECTION, "noise_samples": 16, "objective": "nce"},
                                         BANK.Params)
    torch.manual_seed(0)
    model = BANK.build(params)
    stream = Stream(torch.zeros(40, 28, 28, dtype=torch.uint8), None, batch_size=8)
    model.before_step(0, {"train": stream})
    assert model.memory.shape == (40, 128) and torch.allclose(model.memory.norm(dim=1), torch.ones(40))
    before = model.memory.clone()
    indices = torch.tensor([3, 7])
    loss, scalars = model.training_step(train=Batch(torch.rand(2, 1, 28, 28), None, indices))
    z = model.normalizer.item()
    assert z > 0 and math.isfinite(loss.item())
    loss.backward()
    features = model._update[1]
    model.after_step()
    assert torch.allclose(model.memory[indices], F.normalize(0.5 * before[indices] + 0.5 * features, dim=1))
    assert torch.equal(model.memory[:3], before[:3])  # the other entries stay
    model.training_step(train=Batch(torch.rand(2, 1, 28, 28), None, indices))
    assert model.normalizer.item() == z  # estimated once
