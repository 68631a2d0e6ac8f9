"""The contract every method in params.yaml keeps; a new method is checked here without being listed."""

import numpy as np
import pytest
import yaml

from conftest import ROOT
from uvl import methods, params as uvl_params
from uvl.data import Mnist
from uvl.eval import cluster_acc
from uvl.profile import merged

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
QUICK = merged(PARAMS, yaml.safe_load((ROOT / "profiles" / "quick.yaml").read_text()))


@pytest.fixture(scope="module")
def small_mnist(mnist_arrays) -> Mnist:
    images = np.concatenate([mnist_arrays["train_images"][:600], mnist_arrays["test_images"][:200]])
    labels = np.concatenate([mnist_arrays["train_labels"][:600], mnist_arrays["test_labels"][:200]])
    return Mnist(images=images, labels=labels.astype(np.int64), n_train=600)


@pytest.mark.parametrize("name", PARAMS["pipeline"]["methods"])
def test_method_contract(name, small_mnist):
    module = methods.get(name)
    section = uvl_params.validate_section(name, QUICK[name], module.Params)
    rows = module.cluster(small_mnist, section)
    assert rows and all(r.shape == small_mnist.labels.shape for r in rows.values())
    headline = next(iter(rows))
    assert headline == name, "the first row is the method's headline row, named after it"
    assert cluster_acc(small_mnist.labels, rows[headline]) > 0.3, "far above chance (0.1) even on 800 images"
    assert all(p.row in rows for p in module.PUBLISHED)


@pytest.mark.parametrize("name", PARAMS["pipeline"]["methods"])
def test_same_seed_same_assignments(name, small_mnist):
    module = methods.get(name)
    section = uvl_params.validate_section(name, QUICK[name], module.Params)
    first, second = module.cluster(small_mnist, section), module.cluster(small_mnist, section)
    assert all(np.array_equal(first[row], second[row]) for row in first)


def test_gmm_raw_diag_row_is_optional(small_mnist):
    section = uvl_params.validate_section("gmm", {**QUICK["gmm"], "raw_diag": False}, methods.get("gmm").Params)
    assert list(methods.get("gmm").cluster(small_mnist, section)) == ["gmm"]
