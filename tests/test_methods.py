"""The contract every method in params.yaml keeps; a new method is checked here without being listed."""

import functools

import numpy as np
import pytest
import torch
import yaml
from conftest import ROOT, cpu_engine

from uvl import methods, tasks
from uvl import params as uvl_params
from uvl.data import datasets, digits, sources
from uvl.data.augment import mask_pixels
from uvl.engine import Batch, classify_all, embed_all
from uvl.eval.classification import accuracy
from uvl.eval.clustering import cluster_acc
from uvl.profile import merged
from uvl.tracking import Run

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
QUICK = merged(PARAMS, yaml.safe_load((ROOT / "profiles" / "quick.yaml").read_text()))
METHODS = [name for name in PARAMS if name not in uvl_params.FIXED_SECTIONS]  # in the pipeline or not
TRAINED = [name for name in METHODS if methods.is_trained(methods.get(name))]
CLUSTERING = [name for name in METHODS if methods.get(name).TASK == "clustering"]
ENGINE = cpu_engine(checkpoint_every=1000)
DATA = uvl_params.DataParams(source="package", train_limit=600, test_limit=200)
# Exceptions, each with its reason. A GAN's categorical code means nothing before thousands of steps, and
# its generator loss need not fall while the discriminator learns; its information loss does fall.
# DEC's and IDEC's KL(P || Q) rises when a refresh sharpens the target P; their assignments' uncertainty falls.
SLOW_TO_CLUSTER = {"infogan"}
# MixMatch's loss rises with the ramp of its unlabelled weight; its labelled loss falls.
LEARNING_SIGNAL = {"infogan": "information_loss", "dec": "uncertainty", "idec": "uncertainty",
                   "mixmatch": "labelled_loss"}
# Pseudo-labelling on 10 labels a class confirms its own mistakes once α(t) > 0, and its labelled loss rises
# (the notes' failure with few labels; test_pseudo_label checks that phase); its labelled epochs must learn.
# DINO's teacher follows the student slowly: 12 steps of 256 images do not lower its loss, 108 steps of 32 do.
LEARNING_OVERRIDES = {"pseudo_label": {"ramp_start": 6, "ramp_end": 6}, "dino": {"batch_size": 32}}
# 600 training images, about 60 a class: a validation slice of 20 a class, and 10 labelled ones a class for a
# section that draws a number of them (the others label every image left)
FEW_LABELS = {"validation_per_class": 20}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, mnist_arrays):
    """A project folder whose data/prepared holds MNIST and digits8, as the prepare stages write them."""
    root = tmp_path_factory.mktemp("project")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        sources.write("mnist", mnist_arrays)
        sources.write("digits8", digits.arrays())
    return root


@pytest.fixture(autouse=True)
def in_project(prepared, monkeypatch):
    monkeypatch.chdir(prepared)


def section_of(name: str, **overrides):
    module = methods.get(name)
    labelled = {}
    if "labels" in module.Params.model_fields:
        drawn = QUICK[name]["labels"]["per_class"]
        labelled = {"labels": {**QUICK[name]["labels"], **FEW_LABELS, "per_class": drawn and 10}}
    return uvl_params.validate_section(name, {**QUICK[name], **labelled, **overrides}, module.Params)


def train(name: str, **overrides):
    """The pretrain stage's work for `name`, in process, on top of its upstream models trained the same way.
    Returns the model, its params section and the per-epoch history."""
    module = methods.get(name)
    section = section_of(name, **overrides)
    base = [train(getattr(section, field))[0] for field in uvl_params.upstream_fields(module.Params)]
    views, _ = tasks.of(module).views(section, DATA, name)
    torch.manual_seed(section.seed)
    model = module.build(section, *base)
    return model, section, model.fit(name, views, section, ENGINE, fp="test", run=Run())


def outcome(name: str, **overrides) -> tuple[dict[str, np.ndarray], dict, dict[str, np.ndarray]]:
    """The pipeline's work for one method, in process: pretrain (if trained), then the task's step.
    Returns the outputs by row (clustering) or split (classification, adaptation), the history and the labels."""
    module = methods.get(name)
    task = tasks.of(module)
    history = {}
    if module.TASK == "clustering":
        dataset = datasets.load(section_of(name).dataset, DATA.train_limit, DATA.test_limit)
        labels = np.concatenate([dataset.train_labels, dataset.test_labels])
        views, _ = task.views(section_of(name, **overrides), DATA, name)
        if not methods.is_trained(module):
            pixels = views["train"].images.reshape(len(labels), -1).astype(np.float32) / 255
            return module.cluster(pixels, section_of(name, **overrides)), history, {name: labels}
        model, section, history = train(name, **overrides)
        features = embed_all(model, views["train"].images, torch.device("cpu"))
        return module.cluster(features, section, model), history, {row: labels for row in [name]}
    model, section, history = train(name, **overrides)
    scored = task.scored(section, DATA, name)
    return ({split: classify_all(model, images, torch.device("cpu")) for split, (images, _) in scored.items()},
            history, {split: labels for split, (_, labels) in scored.items()})


@functools.cache
def default_outcome(name: str):
    """`outcome(name)`, computed once: the clustering contract and the same-seed test both look at it."""
    return outcome(name)


@pytest.mark.parametrize("name", CLUSTERING)
def test_clustering_contract(name):
    module = methods.get(name)
    rows, _, labels = default_outcome(name)
    truth = labels[name]
    assert rows and all(r.shape == truth.shape for r in rows.values())
    headline = next(iter(rows))
    assert headline == name, "the first row is the method's headline row, named after it"
    assert all(row.startswith(f"{name}_") for row in list(rows)[1:]), "variants are named <method>_<what>"
    assert len(np.unique(rows[headline])) > 1, "collapsed into one cluster"
    if name not in SLOW_TO_CLUSTER:
        assert cluster_acc(truth, rows[headline]) > 0.25, "far above chance (0.1) even on 800 images"
    assert all(p.row in rows for p in module.PUBLISHED)


@pytest.mark.parametrize("name", sorted(set(METHODS) - set(CLUSTERING)))
def test_classifier_contract(name):
    """A classifier's outputs are classes of the scored splits, scored without matching; trained on 100
    labels (10 a class) for a few epochs, it is far above chance on the test split."""
    module = methods.get(name)
    predictions, _, labels = outcome(name, epochs=8)
    assert set(predictions) == set(labels) and all(predictions[s].shape == labels[s].shape for s in labels)
    test = "test" if module.TASK == "classification" else "target_test"
    assert accuracy(labels[test], predictions[test]) > 0.3
    assert all(p.row == name for p in module.PUBLISHED)


@pytest.mark.parametrize("name", METHODS)
def test_same_seed_same_outputs(name):
    (first, _, _), (second, _, _) = default_outcome(name), outcome(name)
    assert all(np.array_equal(first[key], second[key]) for key in first)


@pytest.mark.parametrize("name", TRAINED)
def test_a_few_epochs_lower_the_loss(name):
    _, _, history = train(name, epochs=6, **LEARNING_OVERRIDES.get(name, {}))
    # from the second epoch: state such as MoCo's queue starts random, and the first real keys raise the loss
    signal = history[LEARNING_SIGNAL.get(name, "loss")]
    assert len(signal) >= 6 and signal[-1] < signal[1]


def test_ae_umap_gmm_row_clusters_the_same_embeddings():
    """The third row, off in the quick profile: N2D's UMAP + GMM on the autoencoder's embeddings."""
    rows, _, labels = outcome("ae", umap_gmm=True)
    assert list(rows) == ["ae", "ae_kmeans", "ae_umap_gmm"]
    # two epochs on 600 images make a weak embedding (0.25 here; UMAP + GMM on these pixels: 0.59);
    # random assignments score about 0.15
    assert len(np.unique(rows["ae_umap_gmm"])) == 10 and cluster_acc(labels["ae"], rows["ae_umap_gmm"]) > 0.2


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
    loss, _ = model.training_step(train=Batch(images, None, torch.arange(8)))
    torch.manual_seed(1)  # the same mask
    masked = mask_pixels(images, model.corruption)
    expected = torch.nn.functional.mse_loss(model.decoder(model.encoder(masked)), images.flatten(1))
    assert torch.equal(loss, expected)
    clean = torch.nn.functional.mse_loss(model.decoder(model.encoder(images)), images.flatten(1))
    assert not torch.equal(loss, clean)


def test_gmm_raw_diag_row_is_optional():
    rows, _, _ = outcome("gmm", raw_diag=False)
    assert list(rows) == ["gmm"]
