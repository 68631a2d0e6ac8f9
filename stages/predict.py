"""predict-<method>: the trained classifier's class for every image of its task's scored splits.

Writes data/outputs/<method>/predictions.npz (one int array per split: test, validation; for adaptation
target_test, source_test, validation) and run.json (the chain's stage records so far, the MLflow run that
the evaluate stage continues). Labels play no part here.
"""

import json
import time

from uvl.engine import classify_all, resolve_device
from uvl.io import atomic_dir, save_npz
from uvl.stage import OUTPUTS, load_model, run_stage, stage_record, start_method_stage


def main() -> None:
    stage = start_method_stage(__doc__, trained_only=True)
    name, params, section = stage.name, stage.params, stage.section
    device = resolve_device(params.engine.device)
    started = time.perf_counter()
    model, meta = load_model(name, params, device)
    predictions = {split: classify_all(model, images, device)
                   for split, (images, _) in stage.task.scored(section, params.data, name).items()}
    seconds = time.perf_counter() - started

    with atomic_dir(OUTPUTS / name) as out:
        save_npz(out / "predictions.npz", **predictions)
        model.figures(out)
        (out / "run.json").write_text(json.dumps({
            "seed": section.seed,
            "data": meta["data"],
            "train_seconds": round(meta["upstream_seconds"] + meta["pretrain_seconds"], 3),
            "stages": {
                "pretrain": {"seconds": meta["pretrain_seconds"], "peak_memory_mb": meta["peak_memory_mb"],
                             "machine": meta["machine"]},
                "predict": stage_record(seconds, device),
            },
            "mlflow_run_id": meta["mlflow_run_id"],
        }, indent=2))


if __name__ == "__main__":
    run_stage(main)
