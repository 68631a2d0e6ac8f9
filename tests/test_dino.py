"""DINO's parts: the loss against a naive loop, the centre's update, and what its step trains."""

import pytest
import torch
import yaml
from conftest import ROOT

from uvl import methods
from uvl import params as uvl_params
from uvl.engine import Batch
from uvl.losses.contrastive import dino_loss

DINO = methods.get("dino")
SECTION = yaml.safe_load((ROOT / "params.yaml").read_text())["dino"]


def build(**overrides):
    params = uvl_params.validate_section("dino", {**SECTION, **overrides}, DINO.Params)
    torch.manual_seed(0)
    return DINO.build(params)


def test_loss_matches_a_naive_loop_and_skips_a_view_against_itself():
    torch.manual_seed(0)
    student = [torch.randn(3, 5) for _ in range(4)]  # 2 global views, then 2 local
    teacher = [torch.randn(3, 5) for _ in range(2)]
    center, ts, tt = torch.randn(1, 5), 0.1, 0.04
    total, pairs = 0.0, 0
    for t in range(2):
        for v in range(4):
            if v == t:
                continue
            for b in range(3):
                p_t = torch.exp((teacher[t][b] - center[0]) / tt)
                p_t = p_t / p_t.sum()
                p_s = torch.exp(student[v][b] / ts)
                p_s = p_s / p_s.sum()
                total += -(p_t * torch.log(p_s)).sum() / 3
            pairs += 1
    assert pairs == 6
    assert dino_loss(student, teacher, center, ts, tt).item() == pytest.approx((total / pairs).item(), rel=1e-4)


def test_center_follows_the_teachers_mean_output_and_the_teacher_gets_no_gradient():
    model = build(local_views=1, center_momentum=0.9)
    loss, scalars = model.training_step(train=Batch(torch.rand(6, 1, 28, 28), None, torch.arange(6)))
    loss.backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(p.grad is not None for p in model.student.parameters())
    expected = 0.1 * model._teacher_mean
    model.after_step()
    assert torch.allclose(model.center, expected)  # from c = 0: c ← 0.9·0 + 0.1·mean
    assert 0 <= scalars["teacher_entropy"].item() <= torch.log(torch.tensor(float(SECTION["prototypes"]))).item() + 1e-4


def test_features_are_the_teachers_backbone():
    model = build()
    with torch.no_grad():
        model.teacher[0][0].weight.add_(1.0)  # the teacher apart from the student
    images = torch.rand(2, 1, 28, 28)
    assert torch.allclose(model.embed(images), torch.nn.functional.normalize(model.teacher[0](images), dim=1))
