"""Methods, found by name: `uvl.methods.<name>` is the module of the `<name>:` section in params.yaml.

A method module defines
- `TASK`: its task (uvl.tasks: clustering, classification, adaptation), which decides the data it sees,
  the stage after training and its scores;
- `Params`: its params schema (a `uvl.params.Section` with the task's fields, e.g. `ClusteringFields`; a
  field typed `Upstream` names another method whose trained model it starts from, e.g. `dec.autoencoder`);
- `PUBLISHED`: the figures its rows are compared with (uvl.published); `SELECTED_ON`: how its defaults
  were chosen;
- for a trained method, `build(params, *upstream_models) -> uvl.engine.Method`, which the pretrain stage
  trains;
- for a clustering method, `cluster`, which returns named cluster assignments for every image, its headline
  row first, named after the method: `cluster(pixels, params)` for a method without training,
  `cluster(features, params, model)` with the model's `embed` features for a trained one.
No registry: adding a module adds the method.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

from uvl.errors import UvlError


def available() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))


def get(name: str) -> ModuleType:
    """Import the method module `name`, or raise a one-line error listing the known methods."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name not in available():
        raise UvlError(f"unknown method or params section '{name}'; known methods: {', '.join(available())}")
    return importlib.import_module(f"{__name__}.{name}")


def is_trained(module: ModuleType) -> bool:
    return hasattr(module, "build")
