"""params.yaml, validated when a stage starts.

Every hyper-parameter lives in params.yaml only: the schemas below and each method's `Params` carry the
types and allowed ranges, never a default value, so a missing key is an error rather than a silent default.
A mistake (unknown key, wrong type, out-of-range value, unknown method) becomes one `UvlError` line that
names the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError

from uvl.errors import UvlError

PARAMS_FILE = "params.yaml"


class Section(BaseModel):
    """Base of every params section: unknown keys and type coercions are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DataParams(Section):
    source: str = Field(min_length=1)  # 'package' (offline), 'torchvision' (download), or a folder of IDX files
    train_limit: PositiveInt | None  # use only the first N training images (quick profile); null = all 60,000
    test_limit: PositiveInt | None  # use only the first N test images; null = all 10,000


class PipelineParams(Section):
    methods: list[str] = Field(min_length=1)  # run by `dvc repro`, in report order


class Params(BaseModel):
    """The whole params.yaml: fixed sections plus one section per method, validated by that method's schema."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    data: DataParams
    pipeline: PipelineParams
    methods: dict[str, Section]


FIXED_SECTIONS = {"data": DataParams, "pipeline": PipelineParams}


def describe_validation_error(err: ValidationError, section: str, schema: type[BaseModel]) -> str:
    """One line naming the first offending key, e.g. `kmeans.n_init: Input should be greater than 0 (got -1)`."""
    first = err.errors()[0]
    key = ".".join([section, *(str(part) for part in first["loc"])])
    if first["type"] == "extra_forbidden":
        allowed = ", ".join(schema.model_fields) if len(first["loc"]) == 1 else "see the schema"
        message = f"unknown key; allowed keys: {allowed}"
    elif first["type"] == "missing":
        message = "missing key (every hyper-parameter must be set in params.yaml)"
    else:
        message = f"{first['msg']} (got {first['input']!r})"
    more = len(err.errors()) - 1
    return f"{key}: {message}" + (f" [and {more} more problem(s)]" if more else "")


def validate_section(name: str, raw: Any, schema: type[Section]) -> Section:
    if not isinstance(raw, dict):
        raise UvlError(f"{PARAMS_FILE}: {name}: expected a mapping of keys to values (got {raw!r})")
    try:
        return schema.model_validate(raw)
    except ValidationError as err:
        raise UvlError(f"{PARAMS_FILE}: {describe_validation_error(err, name, schema)}") from None


def load(path: str | Path = PARAMS_FILE) -> Params:
    """Read and validate the whole params file; the first problem raises `UvlError`."""
    from uvl import methods  # parts of the params schema live in the method modules

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UvlError(f"{path}: not found; run from the project root") from None
    except yaml.YAMLError as err:
        raise UvlError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None
    if not isinstance(raw, dict):
        raise UvlError(f"{path}: expected a mapping of sections")

    for name in FIXED_SECTIONS:
        if name not in raw:
            raise UvlError(f"{path}: missing section '{name}'")
    fixed = {name: validate_section(name, raw[name], schema) for name, schema in FIXED_SECTIONS.items()}

    sections = {}
    for name, section in raw.items():
        if name in FIXED_SECTIONS:
            continue
        sections[name] = validate_section(name, section, methods.get(name).Params)
    for name in fixed["pipeline"].methods:
        if name not in sections:
            methods.get(name)  # an unknown method name is reported as such
            raise UvlError(f"{path}: pipeline.methods lists '{name}' but there is no '{name}:' section")
    return Params(**fixed, methods=sections)
