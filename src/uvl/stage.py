"""What every stage script shares: the method argument, the file layout, trained models, the records of a
stage (wall time, memory, machine) and one-line errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from uvl.errors import UvlError

MODELS = Path("models")  # pretrain-<method>: model.pt, run.json
OUTPUTS = Path("data/outputs")  # cluster-<method> / predict-<method>: assignments or predictions, run.json
METRICS = Path("metrics")  # evaluate-<method>: <row>.json per row, the task's scores only
RECORDS = Path("records")  # evaluate-<method>: <method>.json, what the chain cost and what it ran on
PLOTS = Path("plots")
REPORTS = Path("reports")


@dataclass(frozen=True)
class MethodStage:
    name: str
    params: object  # uvl.params.Params
    method: ModuleType  # uvl.methods.<name>
    task: ModuleType  # uvl.tasks.<its task>

    @property
    def section(self):
        return self.params.methods[self.name]


def start_method_stage(description: str, trained_only: bool = False) -> MethodStage:
    """The start of every per-method stage: the method named on the command line and the validated params."""
    from uvl import methods, tasks
    from uvl import params as uvl_params

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("method", help="a method name: a section of params.yaml and a module of uvl.methods")
    name = parser.parse_args().method
    params = uvl_params.load()
    if name not in params.pipeline.methods:
        raise UvlError(f"'{name}' is not in params.yaml's pipeline.methods")
    module = methods.get(name)
    if trained_only and not methods.is_trained(module):
        raise UvlError(f"'{name}' has no training (its module defines no `build`)")
    return MethodStage(name, params, module, tasks.of(module))


def upstreams(name: str, params) -> list[str]:
    """The methods whose trained models `name` starts from: its params' upstream fields, in order."""
    from uvl.params import upstream_fields

    section = params.methods[name]
    return [getattr(section, field) for field in upstream_fields(type(section))]


def build_model(name: str, params, device, upstream_weights: bool):
    """`name`'s untrained model, on top of the models its params name as upstreams, if any.

    upstream_weights: load the upstreams' trained weights from models/<upstream> (the pretrain stage starts
    from them); otherwise build only their architecture from their params (a later stage then loads
    `name`'s own state).
    """
    import torch

    from uvl import methods

    base = [load_model(upstream, params, device)[0] if upstream_weights
            else build_model(upstream, params, device, upstream_weights=False)
            for upstream in upstreams(name, params)]
    torch.manual_seed(params.methods[name].seed)  # the initial weights
    return methods.get(name).build(params.methods[name], *base).to(device)


def load_model(name: str, params, device):
    """The model and metadata (run.json) that pretrain-<name> wrote to models/<name>."""
    import json

    import torch

    try:
        meta = json.loads((MODELS / name / "run.json").read_text())
        state = torch.load(MODELS / name / "model.pt", map_location=device, weights_only=True)
        model = build_model(name, params, device, upstream_weights=False)
        model.load_state_dict(state)
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        raise UvlError(f"{MODELS / name}: missing or unreadable ({type(err).__name__}); "
                       f"run `dvc repro pretrain-{name}`") from None
    return model, meta


def peak_memory_mb() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports ru_maxrss in KiB)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine(device=None) -> str:
    """What ran a stage, for its records (results can differ between machines): the name of `device` if it
    is a GPU; else the CPU's model, family and model numbers, the vector instructions PyTorch's kernels use
    (AVX2, AVX512: they round differently) and the threads PyTorch runs on (the engine sets them to the
    cores this process may use, its share under torchrun)."""
    import platform

    import torch

    if device is not None and device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpuinfo = Path("/proc/cpuinfo")
    fields = dict(line.split(":", 1) for line in (cpuinfo.read_text().split("\n\n")[0].splitlines()
                                                 if cpuinfo.exists() else []) if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields:
        name += f" (family {fields['cpu family']} model {fields.get('model', '?')})"
    cores = torch.get_num_threads()
    return f"{name}, {torch.backends.cpu.get_cpu_capability()}, {cores} core{'s' if cores != 1 else ''}"


def stage_record(seconds: float, device=None) -> dict:
    """Wall time, peak memory and machine of the stage that calls it."""
    return {"seconds": round(seconds, 3), "peak_memory_mb": peak_memory_mb(), "machine": machine(device)}


def run_stage(stage: Callable[[], None]) -> None:
    """Run `stage`; a `UvlError` becomes `uvl: error: <one line>` on stderr and exit status 2."""
    try:
        stage()
    except UvlError as err:
        print(f"uvl: error: {err}", file=sys.stderr)
        sys.exit(2)
