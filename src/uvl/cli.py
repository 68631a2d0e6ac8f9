"""What every stage script shares: one-line errors, the file layout, and the method argument."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from uvl.errors import UvlError

PREPARED = Path("data/prepared")
CLUSTERS = Path("data/clusters")
MODELS = Path("models")
METRICS = Path("metrics")
PLOTS = Path("plots")
REPORTS = Path("reports")


def start_method_stage(description: str, trained_only: bool = False):
    """The start of every per-method stage: the method named on the command line, the validated params,
    the prepared data. Returns (name, params, data)."""
    from uvl import params as uvl_params
    from uvl.data import load_prepared

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("method", help="a method name: a section of params.yaml and a module of uvl.methods")
    name = parser.parse_args().method
    params = uvl_params.load()
    listed = "trained" if trained_only else "methods"
    if name not in getattr(params.pipeline, listed):
        raise UvlError(f"'{name}' is not in params.yaml's pipeline.{listed}")
    data = load_prepared(PREPARED / "mnist.npz", params.data.train_limit, params.data.test_limit)
    return name, params, data


def build_model(name: str, params, device, upstream_weights: bool):
    """`name`'s untrained model, on top of its upstream's model if the method has one (`UPSTREAM`).

    upstream_weights: load the upstream's trained weights from models/<upstream> (pretrain@ starts from
    them); otherwise build only its architecture from its params (cluster@ then loads `name`'s own state).
    """
    import torch

    from uvl import methods

    module, section = methods.get(name), params.methods[name]
    upstream = getattr(module, "UPSTREAM", None)
    if upstream is None:
        base = ()
    elif upstream_weights:
        base = (load_model(upstream, params, device)[0],)
    else:
        base = (build_model(upstream, params, device, upstream_weights=False),)
    torch.manual_seed(section.seed)  # the initial weights
    return module.build(section, *base).to(device)


def load_model(name: str, params, device):
    """The model and metadata (run.json) that pretrain@<name> wrote to models/<name>."""
    import json

    import torch

    try:
        meta = json.loads((MODELS / name / "run.json").read_text())
        state = torch.load(MODELS / name / "model.pt", map_location=device, weights_only=True)
        model = build_model(name, params, device, upstream_weights=False)
        model.load_state_dict(state)
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        raise UvlError(f"{MODELS / name}: missing or unreadable ({type(err).__name__}); "
                       f"run `dvc repro pretrain@{name}`") from None
    return model, meta


def peak_memory_mb() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports ru_maxrss in KiB)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine(device=None) -> str:
    """What ran a stage, for its records (results can differ between machines): the name of `device` if it
    is a GPU; else the CPU's model, family and model numbers, the vector instructions PyTorch's kernels use
    (AVX2, AVX512: they round differently) and the cores this process runs on (its share under torchrun)."""
    import platform

    import torch

    from uvl.distributed import threads_per_process

    if device is not None and device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpuinfo = Path("/proc/cpuinfo")
    fields = dict(line.split(":", 1) for line in (cpuinfo.read_text().split("\n\n")[0].splitlines()
                                                 if cpuinfo.exists() else []) if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields:
        name += f" (family {fields['cpu family']} model {fields.get('model', '?')})"
    cores = threads_per_process()
    return f"{name}, {torch.backends.cpu.get_cpu_capability()}, {cores} core{'s' if cores != 1 else ''}"


def run_stage(stage: Callable[[], None]) -> None:
    """Run `stage`; a `UvlError` becomes `uvl: error: <one line>` on stderr and exit status 2."""
    try:
        stage()
    except UvlError as err:
        print(f"uvl: error: {err}", file=sys.stderr)
        sys.exit(2)
