"""params.yaml, validated when a stage starts.

Every hyper-parameter lives in params.yaml only: the schemas below and each method's `Params` carry the
types and allowed ranges, never a default value, so a missing key is an error rather than a silent default.
A mistake (unknown key, wrong type, out-of-range value, unknown method) becomes one `UvlError` line that
names the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    model_validator,
)

from uvl.errors import UvlError

PARAMS_FILE = "params.yaml"


class YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, but a float's exponent needs neither a dot nor a sign before it, as in YAML 1.2:
    `dvc exp run -S ae.weight_decay=1e-5` writes `1e-05` into params.yaml (DVC writes YAML 1.2), which
    YAML 1.1 reads as the string '1e-05'."""


YamlLoader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(\.[0-9_]*)?[eE][-+]?[0-9]+$"),
                                 list("-+0123456789"))


def read_yaml(path: Path) -> Any:
    """A YAML file (params.yaml, a profile) as DVC reads and writes it."""
    return yaml.load(path.read_text(), YamlLoader)


class Section(BaseModel):
    """Base of every params section: unknown keys and type coercions are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DataParams(Section):
    source: str = Field(min_length=1)  # 'package' (offline), 'torchvision' (download), or a folder of IDX files
    train_limit: PositiveInt | None  # use only the first N training images (quick profile); null = all 60,000
    test_limit: PositiveInt | None  # use only the first N test images; null = all 10,000


class PipelineParams(Section):
    methods: list[str] = Field(min_length=1)  # what `dvc repro` runs, in report order (dvc.yaml: python -m uvl.dag)

    @model_validator(mode="after")
    def _each_once(self):
        if duplicates := sorted({name for name in self.methods if self.methods.count(name) > 1}):
            raise ValueError(f"methods: {', '.join(duplicates)} listed more than once")
        return self


DatasetName = Literal["mnist", "digits8"]  # the datasets uvl.data.datasets prepares


class UpstreamModel:
    """Marks a params field whose value names another method whose trained model this one starts from:
    uvl.dag makes the stage depend on models/<that method> (`dec.autoencoder: sae`)."""


Upstream = Annotated[str, UpstreamModel()]


def upstream_fields(schema: type[BaseModel]) -> list[str]:
    """The fields of a method's params schema that name upstream models, in declaration order."""
    return [name for name, field in schema.model_fields.items()
            if any(isinstance(marker, UpstreamModel) for marker in field.metadata)]


class LabelDraw(Section):
    """The `labels:` block of a section whose method trains with labels (uvl.data.protocol draws them)."""

    per_class: PositiveInt | None  # labelled training images per class; null = every one left after validation
    classes_left_out: list[NonNegativeInt]  # classes with no labelled image (novel-class discovery)
    noise_rate: float = Field(ge=0, lt=1)  # fraction of drawn labels (validation too) replaced by a wrong class
    # symmetric: any other class, uniformly; pair: c -> c + 1 (mod K); asymmetric: the digits' map
    # 2 -> 7, 3 -> 8, 5 <-> 6, 7 -> 1, a fraction noise_rate of each mapped class (uvl.data.protocol)
    noise_kind: Literal["symmetric", "pair", "asymmetric"]
    validation_per_class: PositiveInt  # labelled training images per class held out for every choice
    seed: NonNegativeInt  # the draw's own seed, so a seeds grid can vary it apart from the model's


# The fields a method's section takes from its task (uvl.tasks): which data it sees.
class ClusteringFields(Section):
    dataset: DatasetName  # the images clustered: both splits, without labels


class ClassificationFields(Section):
    dataset: DatasetName
    labels: LabelDraw  # which training images come with labels, and how noisy


class AdaptationFields(Section):
    source: DatasetName  # labelled
    target: DatasetName  # unlabelled in training; its test split is the score
    labels: LabelDraw  # the draw from the source's training split


class EngineParams(Section):
    """How trained methods run; shared by all of them."""

    device: Literal["auto", "cpu", "cuda"]  # auto = cuda when available
    checkpoint_every: PositiveInt  # optimiser steps between checkpoints
    channels_last: bool  # NHWC convolutions (faster on CPUs and tensor cores); same results up to rounding
    compile: bool  # torch.compile the training step (minutes of compiling first; pays off on long GPU runs)
    # what runs pretrain@: python, or torchrun for several processes (uvl.distributed), e.g.
    # "torchrun --standalone --nproc_per_node 2"; --standalone picks a free port, so queued runs never clash
    launcher: str = Field(pattern=r"^(python|torchrun( --?[a-z_-]+(=| )?[A-Za-z0-9_.:-]*)*)$")


class EvaluationParams(Section):
    """The `evaluation:` section: the protocol of the probes on a trained method's features."""

    knn_k: PositiveInt  # neighbours that vote (200 in InstDisc and MoCo)
    knn_temperature: PositiveFloat  # τ of the exp(s/τ) vote weights (0.1)
    probe_max_iter: PositiveInt  # L-BFGS iterations of the linear probe
    tsne_samples: PositiveInt  # test images in the t-SNE plot


class TrainParams(Section):
    """Fields every trained method's section has, beside its own."""

    epochs: PositiveInt
    batch_size: PositiveInt
    lr: PositiveFloat
    lr_schedule: Literal["constant", "cosine"]  # cosine: lr·(1 + cos(π·step/steps))/2, per step
    weight_decay: NonNegativeFloat
    # bf16: autocast of the training step's forward pass (master weights stay fp32). Part of the method's
    # section, not the engine's, because it changes the figures: fp32 is exact on the CPU
    precision: Literal["fp32", "bf16"]
    seed: NonNegativeInt


@dataclass(frozen=True)
class Params:
    """The whole params.yaml: fixed sections plus one section per method, validated by that method's schema."""

    data: DataParams
    pipeline: PipelineParams
    engine: EngineParams
    evaluation: EvaluationParams
    methods: dict[str, Section]


FIXED_SECTIONS = {"data": DataParams, "pipeline": PipelineParams, "engine": EngineParams,
                  "evaluation": EvaluationParams}


def describe_validation_error(err: ValidationError, section: str, schema: type[BaseModel]) -> str:
    """One line naming the first offending key, e.g. `kmeans.n_init: Input should be greater than 0 (got -1)`."""
    first = err.errors()[0]
    key = ".".join([section, *(str(part) for part in first["loc"])])
    if first["type"] == "extra_forbidden":
        allowed = ", ".join(schema.model_fields) if len(first["loc"]) == 1 else "see the schema"
        message = f"unknown key; allowed keys: {allowed}"
    elif first["type"] == "value_error" and not first["loc"]:  # a model validator's message names its keys
        return f"{section}.{first['ctx']['error']}"
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
        raw = read_yaml(path)
    except FileNotFoundError:
        raise UvlError(f"{path}: not found; run from the project root") from None
    except yaml.YAMLError as err:
        raise UvlError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None
    if not isinstance(raw, dict):
        raise UvlError(f"{path}: expected a mapping of sections")

    schemas = FIXED_SECTIONS
    for name in schemas:
        if name not in raw:
            raise UvlError(f"{path}: missing section '{name}'")
    fixed = {name: validate_section(name, raw[name], schema) for name, schema in schemas.items()}

    sections = {}
    for name, section in raw.items():
        if name not in schemas:
            sections[name] = validate_section(name, section, methods.get(name).Params)
    pipeline = fixed["pipeline"]
    for name in pipeline.methods:
        methods.get(name)  # an unknown method name is reported as such
        if name not in sections:
            raise UvlError(f"{path}: pipeline.methods lists '{name}' but there is no '{name}:' section")
    for name in pipeline.methods:
        section = sections[name]
        for field in upstream_fields(type(section)):
            upstream = getattr(section, field)
            if upstream not in pipeline.methods or not methods.is_trained(methods.get(upstream)):
                raise UvlError(f"{path}: {name}.{field}: '{upstream}' is not a trained method in pipeline.methods")
    return Params(**fixed, methods=sections)
