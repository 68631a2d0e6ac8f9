"""DEC and IDEC: the assignment and target against hand-computed values, convergence, resume, and the
stacked autoencoder they share."""

import os
import signal

import numpy as np
import pytest
import torch
import yaml
from conftest import ROOT, cpu_engine

from uvl import methods
from uvl import params as uvl_params
from uvl.clustering.embedded import initial_centres
from uvl.data.protocol import View
from uvl.engine import Stream, checkpoint_dir
from uvl.errors import UvlError
from uvl.losses.clustering import kl_divergence, student_t_assignment, target_distribution
from uvl.profile import merged
from uvl.stage import upstreams
from uvl.tracking import Run

PARAMS = merged(yaml.safe_load((ROOT / "params.yaml").read_text()),
                yaml.safe_load((ROOT / "profiles" / "quick.yaml").read_text()))
ENGINE = cpu_engine(checkpoint_every=4)


def test_student_t_hand_computed():
    z = torch.tensor([[0.0, 0.0]])
    centres = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    # α = 1: kernels (1 + 0)^-1 = 1 and (1 + 1)^-1 = 1/2, so q = (2/3, 1/3)
    assert torch.allclose(student_t_assignment(z, centres, alpha=1.0), torch.tensor([[2 / 3, 1 / 3]]))


def test_student_t_matches_a_naive_loop():
    torch.manual_seed(0)
    z, centres, alpha = torch.randn(6, 3), torch.randn(4, 3), 2.5
    expected = torch.zeros(6, 4)
    for i in range(6):
        kernels = [(1 + ((z[i] - centres[j]) ** 2).sum() / alpha) ** (-(alpha + 1) / 2) for j in range(4)]
        expected[i] = torch.stack(kernels) / sum(kernels)
    assert torch.allclose(student_t_assignment(z, centres, alpha), expected, atol=1e-6)


def test_target_distribution_hand_computed():
    q = torch.tensor([[2 / 3, 1 / 3], [1 / 3, 2 / 3]])
    # f = (1, 1); row 1: (4/9, 1/9) normalised = (0.8, 0.2)
    assert torch.allclose(target_distribution(q), torch.tensor([[0.8, 0.2], [0.2, 0.8]]))
    skewed = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4]])
    # f = (2.3, 0.7): the frequent cluster is damped, so p_i2 > q_i2² / Σ_j q_ij² for each row
    p = target_distribution(skewed)
    assert torch.allclose(p.sum(dim=1), torch.ones(3))
    assert (p[:, 1] > skewed[:, 1] ** 2 / (skewed**2).sum(dim=1)).all()


def test_kl_divergence_matches_the_formula():
    p = torch.tensor([[0.8, 0.2], [0.5, 0.5]])
    q = torch.tensor([[0.6, 0.4], [0.3, 0.7]])
    expected = (p * (p / q).log()).sum() / 2
    assert kl_divergence(p, q).item() == pytest.approx(expected.item(), rel=1e-6)


def autoencoder():
    section = uvl_params.validate_section("sae", PARAMS["sae"], methods.get("sae").Params)
    torch.manual_seed(0)
    return methods.get("sae").build(section)


def build(name="dec", **overrides):
    module = methods.get(name)
    params = uvl_params.validate_section(name, {**PARAMS[name], **overrides}, module.Params)
    return module.build(params, autoencoder()), params


def test_dec_and_idec_start_from_the_autoencoder_and_only_idec_keeps_its_decoder():
    base = autoencoder()
    project = uvl_params.load(ROOT / "params.yaml")
    for name in ("dec", "idec"):
        assert uvl_params.upstream_fields(methods.get(name).Params) == ["autoencoder"]
        assert upstreams(name, project) == ["sae"]  # what the pretrain stage builds it on
        model, params = build(name)
        assert params.autoencoder == "sae"
        assert all(torch.equal(a, b) for a, b in zip(model.encoder.state_dict().values(),
                                                     base.encoder.state_dict().values()))
        assert (model.decoder is None) == (name == "dec")
        assert model.encoder[1].weight.data_ptr() != base.encoder[1].weight.data_ptr()  # a copy, not shared


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_clustering_phase_uses_the_optimiser_its_params_name(optimizer):
    model, params = build(optimizer=optimizer, lr=0.05, momentum=0.8)
    chosen = model.configure_optimizer(params)
    assert isinstance(chosen, torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam)
    assert chosen.defaults["lr"] == 0.05
    assert (chosen.defaults["momentum"] if optimizer == "sgd" else chosen.defaults["betas"][0]) == 0.8
    assert {id(p) for group in chosen.param_groups for p in group["params"]} == {id(p) for p in model.parameters()}


def test_refresh_stops_when_assignments_no_longer_change():
    model, _ = build(update_interval=2, tol=0.01)
    streams = {"train": Stream(torch.randint(0, 256, (50, 28, 28), dtype=torch.uint8), None, batch_size=10)}
    assert model.before_step(0, streams)  # first refresh: P and assignments set
    assert model.target.shape == (50, 10) and torch.allclose(model.target.sum(dim=1), torch.ones(50))
    assert model.before_step(1, streams)  # not a refresh step
    assert not model.before_step(2, streams)  # nothing changed since the last refresh: converged


IMAGES = np.random.default_rng(0).integers(0, 256, (96, 28, 28), dtype=np.uint8)
VIEWS = {"train": View(IMAGES, None, np.arange(len(IMAGES)))}  # the clustering task's view


@pytest.mark.parametrize("name", ["dec", "idec"])
def test_training_resumes_with_its_targets_and_centres(name, monkeypatch):
    overrides = {"batch_size": 32, "epochs": 3, "update_interval": 2, "tol": 0.0}
    reference, params = build(name, **overrides)
    expected = reference.fit(name, VIEWS, params, ENGINE, "fp", Run())

    interrupted, _ = build(name, **overrides)
    original = type(interrupted).training_step
    calls = {"n": 0}

    def training_step(self, train):
        calls["n"] += 1
        if calls["n"] == 5:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, train=train)

    monkeypatch.setattr(type(interrupted), "training_step", training_step)
    with pytest.raises(UvlError, match=f"{name}: terminated at step 5/9"):
        interrupted.fit(name, VIEWS, params, ENGINE, "fp", Run())
    monkeypatch.setattr(type(interrupted), "training_step", original)
    assert [p.name for p in checkpoint_dir().iterdir()] == [f"{name}-fp.pt"]

    resumed, _ = build(name, **overrides)
    assert resumed.fit(name, VIEWS, params, ENGINE, "fp", Run()) == expected
    for key, value in reference.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]) if torch.is_tensor(value) else True
    assert torch.equal(reference.target, resumed.target)
    assert not list(checkpoint_dir().iterdir())


@pytest.mark.parametrize("select", ["inertia", "davies_bouldin"])
def test_the_centres_come_from_the_restart_its_params_name(select):
    # a wide blob and two tight ones 4 apart: the restart of lowest inertia splits the wide blob and merges
    # the tight ones; the one of lowest Davies-Bouldin index gives the farther tight blob a centre of its own
    rng = np.random.default_rng(0)
    blobs = [(0, 4.0, 400), (12, 0.3, 100), (16, 0.3, 100)]
    points = np.concatenate([rng.normal([x, 0], scale, (n, 2)) for x, scale, n in blobs]).astype(np.float32)
    _, params = build(n_clusters=3, start="kmeans", kmeans_n_init=20, kmeans_select=select)
    centres = initial_centres(points, params)
    distance = np.linalg.norm(centres[:, None] - np.array([[12, 0], [16, 0]]), axis=2).min(axis=0)  # per tight blob
    if select == "davies_bouldin":
        assert distance[1] < 0.5
    else:
        assert (distance > 1).all() and ((centres[:, 0] > 12) & (centres[:, 0] < 16)).any()


@pytest.mark.parametrize("start", ["kmeans", "gmm"])
def test_the_gmm_start_gives_a_tight_cluster_beside_a_wide_one_its_own_centre(start):
    # a wide blob and a tight one 6 apart: k-means draws the boundary half-way between the centres, so the
    # tight blob's centre takes in the wide blob's near edge; AE(GMM)'s mixture gives each blob its own
    # covariance, and the centres (its clusters' means, in the embeddings' coordinates) sit on the blobs
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal([0, 0], 3, (500, 2)), rng.normal([6, 0], 0.3, (100, 2))]).astype(np.float32)
    _, params = build(n_clusters=2, start=start, kmeans_n_init=5, kmeans_select="inertia", gmm_n_init=3)
    tight_centre_error = np.linalg.norm(initial_centres(points, params) - [6, 0], axis=1).min()
    assert tight_centre_error < 0.1 if start == "gmm" else tight_centre_error > 1
