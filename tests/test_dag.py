"""dvc.yaml is generated (uvl.dag) and declares exactly the code each stage runs."""

import json
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT

from uvl import dag, methods

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def test_the_committed_dvc_yaml_is_what_uvl_dag_writes():
    assert (ROOT / "dvc.yaml").read_text() == dag.stages_yaml(PARAMS), "run `python -m uvl.dag`"


def code(stage: str) -> set[str]:
    return {dep for dep in STAGES[stage]["deps"] if dep.startswith("src/")}


@pytest.mark.parametrize("name", methods.available())
def test_no_method_module_imports_another(name):
    others = {f"uvl.methods.{other}" for other in methods.available()} - {f"uvl.methods.{name}"}
    assert not dag.imports(dag.source(f"uvl.methods.{name}")) & others, "shared code belongs in a part"


def loaded_modules(script: str, *modules: str) -> set[str]:
    """The uvl modules a fresh interpreter holds after importing what `script` imports at its top and
    `modules`: measured, not read from the source as uvl.dag does."""
    program = (f"import ast, importlib, json, sys\nsys.path.insert(0, 'stages')\n"
               f"exec(compile(ast.Module([n for n in ast.parse(open({script!r}).read()).body "
               f"if isinstance(n, (ast.Import, ast.ImportFrom))], []), {script!r}, 'exec'))\n"
               f"[importlib.import_module(m) for m in {list(modules)!r}]\n"
               f"print(json.dumps(sorted(m for m in sys.modules if m.startswith('uvl'))))")
    out = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("name", PARAMS["pipeline"]["methods"])
def test_every_module_a_stage_loads_is_declared(name):
    """The other direction of the generator's closure: what actually gets imported is a declared input."""
    module = methods.get(name)
    kinds = [("pretrain", "stages/pretrain.py")] if methods.is_trained(module) else []
    step = "cluster" if module.TASK == "clustering" else "predict"
    for kind, script in [*kinds, (step, f"stages/{step}.py")]:
        loaded = loaded_modules(script, f"uvl.methods.{name}", f"uvl.tasks.{module.TASK}") - dag.NO_RESULT
        files = {dag.source(m).relative_to(ROOT).as_posix() for m in loaded if dag.source(m).name != "__init__.py"}
        missing = files - code(f"{kind}-{name}")
        assert not missing, f"{kind}-{name} runs {sorted(missing)} but dvc.yaml does not declare it"


def test_a_stage_does_not_depend_on_code_it_does_not_run():
    assert "src/uvl/engine.py" not in code("cluster-kmeans")  # k-means needs no training loop
    assert "src/uvl/engine.py" in code("cluster-moco")  # MoCo's cluster stage embeds with its model
    assert "src/uvl/clustering/n2d.py" in code("cluster-moco")
    assert "src/uvl/clustering/n2d.py" not in code("evaluate-moco")
    assert "src/uvl/eval/probes.py" not in code("cluster-ae") and "src/uvl/eval/probes.py" in code("evaluate-ae")
    assert "src/uvl/data/mnist.py" not in code("cluster-kmeans")  # it reads the prepared dataset, not the source
    assert "src/uvl/methods/sae.py" not in code("pretrain-dec")  # sae's code reaches DEC through models/sae


def test_params_choose_datasets_and_upstream_models():
    assert "data/prepared/${kmeans.dataset}" in STAGES["cluster-kmeans"]["deps"]
    assert "models/${dec.autoencoder}" in STAGES["pretrain-dec"]["deps"]
    assert {"data/prepared/${source_only.source}", "data/prepared/${source_only.target}"} <= set(
        STAGES["pretrain-source_only"]["deps"])
