import yaml
from conftest import ROOT

from uvl import params as uvl_params
from uvl.profile import merged, set_arguments


def test_merge_replaces_leaves_only():
    assert merged({"a": {"x": 1, "y": 2}, "b": 3}, {"a": {"y": 5}}) == {"a": {"x": 1, "y": 5}, "b": 3}


def test_set_arguments_for_dvc_exp_run():
    assert set_arguments({"data": {"train_limit": 1500, "source": "package"}, "gmm": {"tol": 0.01}}) == [
        "-S", "data.train_limit=1500", "-S", "data.source=package", "-S", "gmm.tol=0.01"]


def test_quick_profile_is_valid_and_covers_every_method(tmp_path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    quick = yaml.safe_load((ROOT / "profiles" / "quick.yaml").read_text())
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(merged(params, quick)))
    loaded = uvl_params.load(path)
    assert loaded.data.train_limit and loaded.data.test_limit
    method_sections = set(params) - set(uvl_params.FIXED_SECTIONS)
    assert method_sections <= set(quick), "every method needs quick settings"
