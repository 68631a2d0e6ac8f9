"""dvc.yaml declares the code its stages run: a method's module and every uvl module it imports."""

import ast
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from uvl import methods

# Modules that shape no result: errors, files, tracking, the params schema's base classes and the report's
# record type; and package __init__ files, which only gather their modules. Their imports are not followed.
INFRASTRUCTURE = {"uvl", "uvl.errors", "uvl.io", "uvl.tracking", "uvl.params", "uvl.report", "uvl.methods"}
# Imported by a stage kind without running there: pretrain@ trains, and n2d and consensus are clustering steps.
IMPORTED_ONLY = {"pretrain": {"uvl.clustering.n2d", "uvl.clustering.consensus"}}


def source(module: str) -> Path:
    path = ROOT / "src" / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def uvl_imports(module: str) -> set[str]:
    """The uvl modules that `module` imports anywhere in its file (`from uvl.x import y` counts uvl.x.y
    when that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(source(module).read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {name for name in names if name.startswith("uvl") and source(name).is_file()}
    return found


def reached(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current in seen or current in INFRASTRUCTURE:
            continue
        seen.add(current)
        todo += uvl_imports(current)
    return {m for m in seen if not source(m).name == "__init__.py"}


def declared(kind: str, method: str) -> list[str]:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    listing = stages[kind]["foreach"].removeprefix("${").removesuffix("}").split(".")[-1]
    item = params["pipeline"][listing][method]
    return [dep.replace("${key}", method).replace("${item}", item) for dep in stages[kind]["do"]["deps"]]


@pytest.mark.parametrize("name", methods.available())
def test_no_method_module_imports_another(name):
    others = {f"uvl.methods.{other}" for other in methods.available()} - {f"uvl.methods.{name}"}
    assert not uvl_imports(f"uvl.methods.{name}") & others, "shared code belongs in a part that dvc.yaml declares"


@pytest.mark.parametrize("kind", ["pretrain", "cluster"])
def test_each_stage_declares_the_modules_its_method_imports(kind):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    listed = params["pipeline"]["trained" if kind == "pretrain" else "methods"]
    for method in listed:
        deps = declared(kind, method)
        for module in reached(f"uvl.methods.{method}") - IMPORTED_ONLY.get(kind, set()):
            path = source(module).relative_to(ROOT).as_posix()
            assert any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps), \
                f"{kind}@{method} runs {path} but dvc.yaml does not declare it"
