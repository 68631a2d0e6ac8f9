"""Profiles: files of overrides merged over params.yaml (profiles/quick.yaml: a run in seconds).

    dvc exp run $(python -m uvl.profile profiles/quick.yaml)   # prints -S key=value for each override
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from uvl.params import read_yaml


def merged(params: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """params with every leaf of overrides replaced; nested mappings merge key by key."""
    result = dict(params)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def set_arguments(overrides: Mapping[str, Any], prefix: str = "") -> list[str]:
    """`-S key.path=value` arguments for `dvc exp run`, one per leaf."""
    arguments = []
    for key, value in overrides.items():
        if isinstance(value, Mapping):
            arguments += set_arguments(value, f"{prefix}{key}.")
        else:
            arguments += ["-S", f"{prefix}{key}={yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}"]
    return arguments


if __name__ == "__main__":
    print(" ".join(set_arguments(read_yaml(Path(sys.argv[1])))))
