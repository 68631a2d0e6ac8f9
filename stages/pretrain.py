"""pretrain@<method>: train the method's model on the prepared images with the shared engine.

Writes models/<method>/model.pt (the state dict) and run.json (seed, wall time, the MLflow run that the
chain's later stages continue). A failure (NaN loss, SIGTERM, bad params) writes neither; an interrupted
run resumes from its checkpoint when the stage runs again.
"""

import json
import time

import torch

from uvl import methods
from uvl.cli import MODELS, run_stage, start_method_stage
from uvl.engine import fingerprint, resolve_device
from uvl.errors import UvlError
from uvl.io import atomic_dir
from uvl.tracking import Run


def main() -> None:
    name, params, data = start_method_stage(__doc__, trained_only=True)
    method, section = methods.get(name), params.methods[name]
    device = resolve_device(params.engine.device)
    fp = fingerprint(name, section.model_dump(), params.data.model_dump(), params.engine.precision, device.type)

    run = Run.start(name, stage="pretrain", params={name: section.model_dump(), "data": params.data.model_dump(),
                                                     "engine": params.engine.model_dump()})
    torch.manual_seed(section.seed)  # the initial weights
    model = method.build(section)
    started = time.perf_counter()
    try:
        history = model.fit(name, data.images, section, params.engine, fp, run)
    except BaseException:
        run.end(failed=True)
        raise
    seconds = time.perf_counter() - started
    run.log_metrics({"pretrain_seconds": seconds})

    with atomic_dir(MODELS / name) as out:
        torch.save(model.state_dict(), out / "model.pt")
        (out / "run.json").write_text(json.dumps({
            "seed": section.seed,
            "pretrain_seconds": round(seconds, 3),
            "final_loss": history.get("loss", [None])[-1],
            "mlflow_run_id": run.run_id,
        }, indent=2))


if __name__ == "__main__":
    run_stage(main)
