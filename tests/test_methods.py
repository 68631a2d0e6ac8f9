"""The contract every method in params.yaml keeps; a new method is checked here without being listed."""

import numpy as np
import pytest
import torch
import yaml
from conftest import ROOT, cpu_engine

from uvl import methods
from uvl import params as uvl_params
from uvl.data import Mnist
from uvl.data.augment import mask_pixels
from uvl.engine import embed_all
from uvl.eval import cluster_acc
from uvl.profile import merged
from uvl.tracking import Run

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
QUICK = merged(PARAMS, yaml.safe_load((ROOT / "profiles" / "quick.yaml").read_text()))
METHODS = [name for name in PARAMS if name not in uvl_params.FIXED_SECTIONS]  # in the pipeline or not
TRAINED = [name for name in METHODS if methods.is_trained(methods.get(name))]
ENGINE = cpu_engine(checkpoint_every=1000)
# Exceptions, each with its reason. A GAN's categorical code means nothing before thousands of steps, and
# its generator loss need not fall while the discriminator learns; its information loss does fall.
# DEC's and IDEC's KL(P || Q) rises when a refresh sharpens the target P; their assignments' uncertainty falls.
SLOW_TO_CLUSTER = {"infogan"}
LEARNING_SIGNAL = {"infogan": "information_loss", "dec": "uncertainty", "idec": "uncertainty"}


def train(name: str, data: Mnist, **overrides):
    """pretrain@<name> in process, on top of the upstream method's model trained the same way.
    Returns the model, its params section and the per-epoch history."""
    module = methods.get(name)
    section = uvl_params.validate_section(name, {**QUICK[name], **overrides}, module.Params)
    upstream = methods.upstream(name)
    base = (train(upstream, data)[0],) if upstream else ()
    torch.manual_seed(section.seed)
    model = module.build(section, *base)
    return model, section, model.fit(name, data.images, section, ENGINE, fp="test", run=Run())


def fit_and_cluster(name: str, data: Mnist, **overrides) -> tuple[dict[str, np.ndarray], dict]:
    """The pipeline's work for one method, in process: pretrain (if trained), then cluster."""
    module = methods.get(name)
    if not methods.is_trained(module):
        section = uvl_params.validate_section(name, {**QUICK[name], **overrides}, module.Params)
        return module.cluster(data.pixels(), section), {}
    model, section, history = train(name, data, **overrides)
    features = embed_all(model, data.images, torch.device("cpu"))
    return module.cluster(features, section, model), history


@pytest.fixture(scope="module")
def small_mnist(mnist_arrays) -> Mnist:
    images = np.concatenate([mnist_arrays["train_images"][:600], mnist_arrays["test_images"][:200]])
    labels = np.concatenate([mnist_arrays["train_labels"][:600], mnist_arrays["test_labels"][:200]])
    return Mnist(images=images, labels=labels.astype(np.int64), n_train=600)


@pytest.mark.parametrize("name", METHODS)
def test_method_contract(name, small_mnist):
    module = methods.get(name)
    rows, _ = fit_and_cluster(name, small_mnist)
    assert rows and all(r.shape == small_mnist.labels.shape for r in rows.values())
    headline = next(iter(rows))
    assert headline == name, "the first row is the method's headline row, named after it"
    assert all(row.startswith(f"{name}_") for row in list(rows)[1:]), "variants are named <method>_<what>"
    assert len(np.unique(rows[headline])) > 1, "collapsed into one cluster"
    if name not in SLOW_TO_CLUSTER:
        assert cluster_acc(small_mnist.labels, rows[headline]) > 0.25, "far above chance (0.1) even on 800 images"
    assert all(p.row in rows for p in module.PUBLISHED)


@pytest.mark.parametrize("name", METHODS)
def test_same_seed_same_assignments(name, small_mnist):
    (first, _), (second, _) = fit_and_cluster(name, small_mnist), fit_and_cluster(name, small_mnist)
    assert all(np.array_equal(first[row], second[row]) for row in first)


@pytest.mark.parametrize("name", TRAINED)
def test_a_few_epochs_lower_the_loss(name, small_mnist):
    _, history = fit_and_cluster(name, small_mnist, epochs=6)
    # from the second epoch: state such as MoCo's queue starts random, and the first real keys raise the loss
    signal = history[LEARNING_SIGNAL.get(name, "loss")]
    assert len(signal) >= 6 and signal[-1] < signal[1]


def test_ae_umap_gmm_row_clusters_the_same_embeddings(small_mnist):
    """The third row, off in the quick profile: N2D's UMAP + GMM on the autoencoder's embeddings."""
    rows, _ = fit_and_cluster("ae", small_mnist, umap_gmm=True)
    assert list(rows) == ["ae", "ae_kmeans", "ae_umap_gmm"]
    # two epochs on 600 images make a weak embedding (0.25 here; UMAP + GMM on these pixels: 0.59);
    # random assignments score about 0.15
    assert len(np.unique(rows["ae_umap_gmm"])) == 10 and cluster_acc(small_mnist.labels, rows["ae_umap_gmm"]) > 0.2


@pytest.mark.parametrize("select", ["consensus", "likelihood"])
def test_ae_mixture_starts_from_whitened_embeddings(select):
    """Ten tight clusters along 10 axes, plus one axis of pure noise with 100 times their spread: on the raw
    embeddings k-means, and so the mixture's start, cuts along the noise; whitened, every axis counts the same."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 100)
    clusters = 3 * np.eye(10)[labels] + rng.normal(scale=0.3, size=(1000, 10))
    embeddings = np.concatenate([clusters, rng.normal(scale=100, size=(1000, 1))], axis=1)

    def mixture_acc(whiten: bool) -> float:
        overrides = {"gmm_whiten": whiten, "gmm_select": select, "gmm_n_init": 3}
        section = uvl_params.validate_section("ae", {**QUICK["ae"], **overrides}, methods.get("ae").Params)
        return cluster_acc(labels, methods.get("ae").cluster(embeddings, section, model=None)["ae"])

    assert mixture_acc(whiten=True) == 1.0 and mixture_acc(whiten=False) < 0.9


@pytest.mark.parametrize("name", ["ae", "sae"])
def test_denoising_autoencoders_reconstruct_the_clean_image_from_the_masked_one(name):
    module = methods.get(name)
    torch.manual_seed(0)
    model = module.build(uvl_params.validate_section(name, PARAMS[name], module.Params))
    assert model.corruption == PARAMS[name]["corruption"] > 0
    images = torch.rand(8, 1, 28, 28)
    torch.manual_seed(1)
    loss, _ = model.training_step(images, torch.arange(8))
    torch.manual_seed(1)  # the same mask
    masked = mask_pixels(images, model.corruption)
    expected = torch.nn.functional.mse_loss(model.decoder(model.encoder(masked)), images.flatten(1))
    assert torch.equal(loss, expected)
    clean = torch.nn.functional.mse_loss(model.decoder(model.encoder(images)), images.flatten(1))
    assert not torch.equal(loss, clean)


def test_gmm_raw_diag_row_is_optional(small_mnist):
    section = uvl_params.validate_section("gmm", {**QUICK["gmm"], "raw_diag": False}, methods.get("gmm").Params)
    assert list(methods.get("gmm").cluster(small_mnist.pixels(), section)) == ["gmm"]
