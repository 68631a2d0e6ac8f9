import re
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, copy_project, project_env

from uvl import params as uvl_params
from uvl.errors import UvlError


def real_params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def write(tmp_path, params: dict):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def test_the_committed_params_are_valid():
    params = uvl_params.load(ROOT / "params.yaml")
    assert set(params.pipeline.methods) <= set(params.methods)


@pytest.mark.parametrize("edit, message", [
    (lambda p: p["kmeans"].update(n_inits=3), r"kmeans.n_inits: unknown key; allowed keys: dataset, n_clusters, n_init"),
    (lambda p: p["kmeans"].update(n_init="ten"), r"kmeans.n_init: Input should be a valid integer \(got 'ten'\)"),
    (lambda p: p["kmeans"].update(n_init=2.5), r"kmeans.n_init: Input should be a valid integer"),
    (lambda p: p["kmeans"].update(n_init=-1), r"kmeans.n_init: Input should be greater than 0 \(got -1\)"),
    (lambda p: p["gmm"].update(covariance_type="ful"), r"gmm.covariance_type: Input should be 'full', 'tied', 'diag' or 'spherical'"),
    (lambda p: p["gmm"].update(tol="0.001"), r"gmm.tol: Input should be a valid number"),
    (lambda p: p["gmm"].pop("seed"), r"gmm.seed: missing key"),
    (lambda p: p.update(kmenas={"n_init": 1}), r"unknown method or params section 'kmenas'; known methods: .*kmeans"),
    (lambda p: p["pipeline"]["methods"].append("dbscan"), r"unknown method or params section 'dbscan'"),
    (lambda p: p["pipeline"]["methods"].append("gmm"), r"pipeline.methods: gmm listed more than once"),
    (lambda p: p["dec"].update(autoencoder="kmeans"), r"dec.autoencoder: 'kmeans' is not a trained method in pipeline.methods"),
    (lambda p: p["pipeline"]["methods"].remove("sae"), r"idec.autoencoder: 'sae' is not a trained method in pipeline.methods|dec.autoencoder"),
    (lambda p: p["kmeans"].update(dataset="usps"), r"kmeans.dataset: Input should be 'mnist' or 'digits8'"),
    (lambda p: p["supervised"]["labels"].update(per_class=0), r"supervised.labels.per_class: Input should be greater than 0"),
    (lambda p: p["supervised"]["labels"].update(noise_rate=1.0), r"supervised.labels.noise_rate: Input should be less than 1"),
    (lambda p: p["supervised"]["labels"].update(noise_kind="asym"), r"supervised.labels.noise_kind: Input should be 'symmetric', 'pair' or 'asymmetric'"),
    (lambda p: p["source_only"].pop("target"), r"source_only.target: missing key"),
    (lambda p: p["moco"].update(pca_components=256), r"moco.pca_components \(256\) must be at most feature_dim \(128\)"),
    (lambda p: p["moco"].update(momentum=1.0), r"moco.momentum: Input should be less than 1"),
    (lambda p: p["engine"].update(launcher="bash -c rm"), r"engine.launcher: String should match pattern"),
    (lambda p: p["engine"].update(device="tpu"), r"engine.device: Input should be 'auto', 'cpu' or 'cuda'"),
    (lambda p: p["ae"].update(lr=-0.1), r"ae.lr: Input should be greater than 0 \(got -0.1\)"),
    (lambda p: p.pop("gmm"), r"pipeline.methods lists 'gmm' but there is no 'gmm:' section"),
    (lambda p: p["data"].update(train_limit=0), r"data.train_limit: Input should be greater than 0"),
    (lambda p: p.update(kmeans=[1, 2]), r"kmeans: expected a mapping"),
])
def test_each_mistake_names_its_key(tmp_path, edit, message):
    params = real_params()
    edit(params)
    with pytest.raises(UvlError, match=message) as caught:
        uvl_params.load(write(tmp_path, params))
    assert "\n" not in str(caught.value)


def test_a_float_as_dvc_writes_it_is_a_number(tmp_path):
    # `dvc exp run -S ae.weight_decay=1e-5` writes `1e-05` (checked with DVC 3.67); `2E+3` is the same YAML 1.2
    # form with a capital E and a signed exponent. A quoted number stays a string (the gmm.tol case above)
    text = (ROOT / "params.yaml").read_text()
    start = text.index("\nae:")  # ae's own lines, whatever their current values
    ae = re.sub(r"^  weight_decay: \S+", "  weight_decay: 1e-05", text[start:], count=1, flags=re.MULTILINE)
    ae = re.sub(r"^  lr: \S+", "  lr: 2E+3", ae, count=1, flags=re.MULTILINE)
    path = tmp_path / "params.yaml"
    path.write_text(text[:start] + ae)
    params = uvl_params.load(path)
    assert params.methods["ae"].weight_decay == 1e-05 and params.methods["ae"].lr == 2000.0


def test_yaml_syntax_error_is_one_line(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("kmeans:\n  n_init: [1\n")
    with pytest.raises(UvlError, match="not valid YAML") as caught:
        uvl_params.load(path)
    assert "\n" not in str(caught.value)


def test_a_stage_with_bad_params_exits_non_zero_with_one_line_and_no_output(tmp_path):
    repo = copy_project(tmp_path, profile=None)
    params = real_params()
    params["kmeans"]["n_init"] = 0
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    result = subprocess.run([sys.executable, "stages/cluster.py", "kmeans"], cwd=repo, env=project_env(),
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == "uvl: error: params.yaml: kmeans.n_init: Input should be greater than 0 (got 0)"
    assert not (repo / "data").exists() and not (repo / "metrics" / "kmeans").exists()
