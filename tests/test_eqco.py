"""EqCo's margin: zero at K = α, where the loss is MoCo's; elsewhere the loss InfoNCE would give α negatives."""

import math

import pytest
import torch
import torch.nn.functional as F
import yaml
from conftest import ROOT

from uvl import methods
from uvl import params as uvl_params
from uvl.losses.contrastive import info_nce

EQCO, MOCO = methods.get("eqco"), methods.get("moco")
SECTION = yaml.safe_load((ROOT / "params.yaml").read_text())["eqco"]


def test_margin_is_tau_log_alpha_over_k():
    assert EQCO.margin(0.1, 4096, 4096) == 0.0
    assert EQCO.margin(0.1, 4096, 256) == pytest.approx(0.1 * math.log(16))
    assert EQCO.margin(0.2, 16, 64) == pytest.approx(-0.2 * math.log(4))


def test_at_k_equal_to_alpha_eqco_is_moco():
    common = {**SECTION, "queue_size": 32}
    eqco = EQCO.build(uvl_params.validate_section("eqco", {**common, "alpha": 32}, EQCO.Params))
    moco = MOCO.build(uvl_params.validate_section("moco", {k: v for k, v in common.items() if k != "alpha"}, MOCO.Params))
    moco.queue.copy_(eqco.queue)
    torch.manual_seed(0)
    query, key = (F.normalize(torch.randn(6, 128), dim=1) for _ in range(2))
    assert torch.equal(eqco.contrast(query, key)[0], moco.contrast(query, key)[0])


def test_the_margin_makes_k_identical_negatives_count_as_alpha():
    # K copies of one negative with the margin give the loss of α copies without it
    torch.manual_seed(0)
    query, key, negative = (F.normalize(torch.randn(1, 8), dim=1) for _ in range(3))
    tau, k, alpha = 0.2, 4, 64
    with_margin, _ = info_nce(query, key, negative.expand(k, 8), tau, EQCO.margin(tau, alpha, k))
    as_alpha, _ = info_nce(query, key, negative.expand(alpha, 8), tau)
    assert with_margin.item() == pytest.approx(as_alpha.item(), rel=1e-5)
