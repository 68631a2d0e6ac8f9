"""MoCo's parts: InfoNCE against a naive loop, the queue, the momentum update, the encoder's layer order."""

import copy

import pytest
import torch
import torch.nn.functional as F
import yaml
from conftest import ROOT, cpu_engine

from uvl import methods
from uvl import params as uvl_params
from uvl.engine import Batch
from uvl.losses.contrastive import info_nce

MOCO = methods.get("moco")
SECTION = yaml.safe_load((ROOT / "params.yaml").read_text())["moco"]


def build(**overrides):
    params = uvl_params.validate_section("moco", {**SECTION, **overrides}, MOCO.Params)
    torch.manual_seed(0)
    return MOCO.build(params)


def test_info_nce_matches_a_naive_loop():
    torch.manual_seed(0)
    q, k, n = (F.normalize(torch.randn(*shape), dim=1) for shape in [(5, 8), (5, 8), (7, 8)])
    tau = 0.2
    expected = 0.0
    for i in range(5):
        positive = torch.exp(q[i] @ k[i] / tau)
        negatives = sum(torch.exp(q[i] @ n[j] / tau) for j in range(7))
        expected += -torch.log(positive / (positive + negatives)) / 5
    loss, logits = info_nce(q, k, n, tau)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert logits.shape == (5, 8)


def test_info_nce_hand_computed_value():
    q = k = torch.tensor([[1.0, 0.0]])
    n = torch.tensor([[0.0, 1.0]])
    loss, _ = info_nce(q, k, n, temperature=1.0)  # -log(e / (e + 1))
    assert loss.item() == pytest.approx(-torch.log(torch.tensor(torch.e / (torch.e + 1))).item(), rel=1e-6)


def test_queue_is_fifo_keeps_its_size_and_lives_in_the_state_dict():
    model = build(queue_size=6)
    first, second = torch.ones(4, 128), 2 * torch.ones(4, 128)
    model.enqueue(first)
    model.enqueue(second)
    assert model.queue.shape == (6, 128)
    assert model.queue[:4].eq(2).all() and model.queue[4:].eq(1).all()  # newest first, oldest dropped
    assert torch.equal(model.state_dict()["queue"], model.queue)


def test_queue_smaller_than_the_batch_keeps_the_newest_keys():
    model = build(queue_size=3)
    model.enqueue(torch.arange(5.0).unsqueeze(1).expand(5, 128))
    assert model.queue[:, 0].tolist() == [0.0, 1.0, 2.0]


def test_queue_persists_across_epochs_of_the_engine(tmp_path):
    import numpy as np

    from uvl.data.protocol import View
    from uvl.engine import fit
    from uvl.tracking import Run

    params = uvl_params.validate_section("moco", {**SECTION, "queue_size": 64, "batch_size": 16, "epochs": 2},
                                         MOCO.Params)
    model = MOCO.build(params)
    initial = model.queue.clone()
    images = np.random.default_rng(0).integers(0, 256, (32, 28, 28), dtype=np.uint8)  # 2 steps per epoch
    engine = cpu_engine(checkpoint_every=100)
    fit("moco", model, {"train": View(images, None, np.arange(len(images)))}, params, engine, "fp", Run())
    # 4 steps x 16 keys replaced the 64 random keys exactly once: none of the initial keys is left
    assert not any(torch.equal(row, old) for row in model.queue for old in initial)


def test_key_encoder_starts_as_a_copy_and_follows_by_exact_ema():
    model = build(momentum=0.9)
    for key_param, query_param in zip(model.key_encoder.parameters(), model.query_encoder.parameters()):
        assert torch.equal(key_param, query_param) and not key_param.requires_grad
    before = copy.deepcopy(model.key_encoder.state_dict())
    with torch.no_grad():
        for p in model.query_encoder.parameters():
            p.add_(1.0)
    model.momentum_update()
    for name, value in model.key_encoder.state_dict().items():
        query_value = model.query_encoder.state_dict()[name]
        assert torch.allclose(value, 0.9 * before[name] + 0.1 * query_value, atol=1e-7, rtol=1e-6)


def test_key_encoder_receives_no_gradient():
    model = build(queue_size=32)
    loss, scalars = model.training_step(train=Batch(torch.rand(8, 1, 28, 28), None, torch.arange(8)))
    loss.backward()
    assert all(p.grad is None for p in model.key_encoder.parameters())
    assert all(p.grad is not None for p in model.query_encoder[0].parameters())
    assert 0 <= scalars["contrast_acc"].item() <= 1


@pytest.mark.parametrize("field, value, message", [
    ("momentum", 1.0, "moco.momentum: Input should be less than 1"),
    ("momentum", -0.1, "moco.momentum: Input should be greater than or equal to 0"),
    ("temperature", 0.0, "moco.temperature: Input should be greater than 0"),
    ("queue_size", 0, "moco.queue_size: Input should be greater than 0"),
])
def test_out_of_range_values_are_named(field, value, message):
    from uvl.errors import UvlError

    with pytest.raises(UvlError, match=message):
        uvl_params.validate_section("moco", {**SECTION, field: value}, MOCO.Params)


def test_flattening_follows_the_channels_last_layout_so_it_copies_nothing():
    from uvl.models.convnet import small_convnet

    net = small_convnet(16).to(memory_format=torch.channels_last)
    images = torch.rand(4, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    features = net[:5](images)  # (4, 64, 11, 11), the last ReLU's output
    flat = net[5:7](features)
    assert flat.shape == (4, 64 * 11 * 11)
    assert flat.data_ptr() == features.data_ptr()  # a view: the same memory, not a copy
    assert torch.equal(flat[:, :64], features[:, :, 0, 0])  # channels fastest: pixel (0, 0)'s 64 channels first


def test_pooling_before_the_first_relu_changes_no_bit_of_outputs_or_gradients():
    """small_convnet pools before its first ReLU (the cheaper order); conv-ReLU-pool is the reference."""
    from torch import nn

    from uvl.models.convnet import small_convnet

    torch.manual_seed(0)
    net = small_convnet(16)
    conv, pool, relu, *rest = net
    assert isinstance(pool, nn.MaxPool2d) and isinstance(relu, nn.ReLU)
    reference = nn.Sequential(conv, relu, pool, *rest)  # the same modules, so the same weights
    images = torch.randn(64, 1, 28, 28)  # also negative pixels: windows that are all negative or hold zeros
    images[:8, :, :4] = 0
    grads = []
    for model in (net, reference):
        model.zero_grad()
        out = model(images)
        out.square().sum().backward()
        grads.append((out.detach(), [p.grad.clone() for p in model.parameters()]))
    (out, grad), (out_ref, grad_ref) = grads
    assert torch.equal(out, out_ref)
    assert all(torch.equal(a, b) for a, b in zip(grad, grad_ref))
