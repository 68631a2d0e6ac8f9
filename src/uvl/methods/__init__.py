"""Methods, found by name: `uvl.methods.<name>` is the module of the `<name>:` section in params.yaml.

A method module defines `Params` (a `uvl.params.Section` schema), `PUBLISHED` (the figures it is compared
with in the report) and `cluster`, which returns named cluster assignments for every image; the first name
is the method's headline row, named after the method. A method that clusters pixels directly defines
`cluster(pixels, params)`. A trained method also defines `build(params) -> uvl.engine.Method`, which the
`pretrain@` stage trains, and `cluster(features, params, model)`, with the model's `embed` features.
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


def upstream(name: str) -> str | None:
    """The method whose trained model `name` starts from (its module's `UPSTREAM`, e.g. idec: sae), or None."""
    return getattr(get(name), "UPSTREAM", None)
