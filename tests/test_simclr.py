"""SimCLR's parts: NT-Xent against a naive loop and a hand computation, and what its step trains."""

import math

import pytest
import torch
import torch.nn.functional as F
import yaml
from conftest import ROOT

from uvl import methods
from uvl import params as uvl_params
from uvl.engine import Batch
from uvl.losses.contrastive import nt_xent

SIMCLR = methods.get("simclr")
SECTION = yaml.safe_load((ROOT / "params.yaml").read_text())["simclr"]


def test_nt_xent_matches_a_naive_loop():
    torch.manual_seed(0)
    first, second = (F.normalize(torch.randn(4, 6), dim=1) for _ in range(2))
    tau = 0.3
    views = torch.cat([first, second])
    expected = 0.0
    for i in range(8):
        partner = (i + 4) % 8
        denominator = sum(torch.exp(views[i] @ views[k] / tau) for k in range(8) if k != i)
        expected += -torch.log(torch.exp(views[i] @ views[partner] / tau) / denominator) / 8
    loss, accuracy = nt_xent(first, second, tau)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert 0 <= accuracy.item() <= 1


def test_nt_xent_hand_computed_value():
    # two images whose views coincide, orthogonal to each other: each view's partner has s = 1, its two
    # negatives s = 0, so each term is -log(e / (e + 2))
    first = second = torch.eye(2)
    loss, accuracy = nt_xent(first, second, temperature=1.0)
    assert loss.item() == pytest.approx(-math.log(math.e / (math.e + 2)), rel=1e-6)
    assert accuracy.item() == 1.0


def test_the_step_trains_encoder_and_head_and_features_leave_the_head_out():
    params = uvl_params.validate_section("simclr", SECTION, SIMCLR.Params)
    torch.manual_seed(0)
    model = SIMCLR.build(params)
    images = torch.rand(8, 1, 28, 28)
    loss, scalars = model.training_step(train=Batch(images, None, torch.arange(8)))
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    assert 0 <= scalars["contrast_acc"].item() <= 1
    features = model.embed(images)
    assert features.shape == (8, params.feature_dim)
    assert torch.allclose(features, F.normalize(model.encoder(images), dim=1))


def test_cluster_rows_are_named_after_the_method():
    import numpy as np

    params = uvl_params.validate_section("simclr", {**SECTION, "kmeans_n_init": 1, "umap_neighbors": 5,
                                                     "pca_components": 4}, SIMCLR.Params)
    features = np.random.default_rng(0).normal(size=(60, 128)).astype(np.float32)
    rows = SIMCLR.cluster(features, params, model=None)
    assert list(rows) == ["simclr", "simclr_kmeans_whitened", "simclr_kmeans"]
    assert all(len(assignment) == 60 for assignment in rows.values())
