"""pretrain-<method>: train the method's model on its task's views of the data with the shared engine.

Writes models/<method>/model.pt (the state dict) and run.json (seed, wall time, the upstream models'
training time, peak memory, machine, the data it saw, the MLflow run that the chain's later stages
continue). A failure (NaN loss, SIGTERM, bad params) writes neither; an interrupted run resumes from its
checkpoint when the stage runs again. Under torchrun (engine.launcher) every process trains and rank 0
alone tracks and writes.
"""

import hashlib
import json
import time

import torch

from uvl import distributed
from uvl.engine import fingerprint, resolve_device
from uvl.io import atomic_dir
from uvl.stage import MODELS, build_model, machine, peak_memory_mb, run_stage, start_method_stage, upstreams
from uvl.tracking import Run


def main() -> None:
    stage = start_method_stage(__doc__, trained_only=True)
    name, params, section, engine = stage.name, stage.params, stage.section, stage.params.engine
    views, data = stage.task.views(section, params.data, name)
    device = resolve_device(engine.device)
    model = build_model(name, params, device, upstream_weights=True)
    starts_from = upstreams(name, params)
    upstream_weights = [hashlib.sha256((MODELS / up / "model.pt").read_bytes()).hexdigest() for up in starts_from]
    # the upstreams' training time (and theirs), so that a method's time counts all it needs
    upstream_seconds = 0.0
    for up in starts_from:
        meta = json.loads((MODELS / up / "run.json").read_text())
        upstream_seconds += meta["pretrain_seconds"] + meta["upstream_seconds"]
    # everything that shapes the result, so a checkpoint of other params or other upstream models is never resumed
    fp = fingerprint(name, section.model_dump(), params.data.model_dump(), engine.channels_last,
                     engine.compile, device.type, distributed.world_size(), upstream_weights)
    run = (Run.start(name, stage="pretrain", params={name: section.model_dump(), "data": params.data.model_dump(),
                                                      "engine": engine.model_dump()}, data=data)
           if distributed.is_main() else Run())  # the other processes track nothing
    started = time.perf_counter()
    try:
        history = model.fit(name, views, section, engine, fp, run)
    except BaseException:
        run.end(failed=True)
        raise
    finally:
        distributed.teardown()
    seconds = time.perf_counter() - started
    if not distributed.is_main():
        return
    run.log_metrics({"pretrain_seconds": seconds})
    trained_on = machine(device)
    run.log_params({"machine": trained_on})

    with atomic_dir(MODELS / name) as out:
        torch.save(model.state_dict(), out / "model.pt")
        (out / "run.json").write_text(json.dumps({
            "seed": section.seed,
            "pretrain_seconds": round(seconds, 3),
            "upstream_seconds": round(upstream_seconds, 3),
            "peak_memory_mb": peak_memory_mb(),
            "machine": trained_on,
            "data": data,
            "final_loss": history.get("loss", [None])[-1],
            # the epoch the model is at, when the method selects it on the validation slice (uvl.engine)
            **({"selected_epoch": curve.index(max(curve))}
               if (curve := history.get("epoch_validation_accuracy")) else {}),
            "mlflow_run_id": run.run_id,
        }, indent=2))


if __name__ == "__main__":
    run_stage(main)
