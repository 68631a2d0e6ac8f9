"""Barlow Twins' and W-MSE's losses against naive computations, and the whitening they rest on."""

import pytest
import torch
import torch.nn.functional as F
import yaml
from conftest import ROOT

from uvl import methods
from uvl import params as uvl_params
from uvl.errors import UvlError
from uvl.losses.contrastive import barlow_twins_loss, w_mse_loss, whiten


def test_barlow_twins_matches_a_naive_loop():
    torch.manual_seed(0)
    a, b, lam = torch.randn(16, 5), torch.randn(16, 5), 0.01
    n = len(a)

    def standardised(z, d):
        column = z[:, d]
        return (column - column.mean()) / column.std()

    expected = 0.0
    for i in range(5):
        for j in range(5):
            c = (standardised(a, i) * standardised(b, j)).sum() / n
            expected += (1 - c) ** 2 if i == j else lam * c ** 2
    assert barlow_twins_loss(a, b, lam).item() == pytest.approx(expected.item(), rel=1e-5)


def test_whitening_gives_zero_mean_and_identity_covariance():
    torch.manual_seed(0)
    points = torch.randn(200, 4, dtype=torch.float64) @ torch.randn(4, 4, dtype=torch.float64) + 3.0
    white = whiten(points)
    assert torch.allclose(white.mean(dim=0), torch.zeros(4, dtype=torch.float64), atol=1e-10)
    assert torch.allclose(torch.cov(white.T), torch.eye(4, dtype=torch.float64), atol=1e-10)


def test_w_mse_whitens_each_view_of_each_sub_batch_then_compares_unit_vectors():
    torch.manual_seed(0)
    first, second = torch.randn(12, 3), torch.randn(12, 3)
    torch.manual_seed(1)
    loss = w_mse_loss(first, second, whitening_size=6)
    torch.manual_seed(1)
    order = torch.randperm(12).view(2, 6)
    expected = sum(((F.normalize(whiten(first[rows]), dim=1) - F.normalize(whiten(second[rows]), dim=1)) ** 2)
                   .sum(dim=1).mean() for rows in order) / 2
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert w_mse_loss(first, first, whitening_size=6).item() == pytest.approx(0.0, abs=1e-5)


@pytest.mark.parametrize("field, value, message", [
    ("whitening_size", 64, r"w_mse.whitening_size \(64\) must exceed projection_dim \(64\)"),
    ("batch_size", 200, r"w_mse.batch_size \(200\) must be a multiple of whitening_size \(128\)"),
])
def test_w_mse_sizes_that_cannot_whiten_are_named(field, value, message):
    section = yaml.safe_load((ROOT / "params.yaml").read_text())["w_mse"]
    with pytest.raises(UvlError, match=message):
        uvl_params.validate_section("w_mse", {**section, field: value}, methods.get("w_mse").Params)
