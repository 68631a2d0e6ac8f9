"""cluster-<method>: cluster the images of a clustering method's dataset, directly or through its trained model.

Writes data/outputs/<method>/assignments.npz (one int array per row, over all images, the headline row
first), run.json (the chain's stage records so far, the MLflow run that the evaluate stage continues) and,
for a trained method, features.npy (the model's embedding of every image) and the method's own figures
(*.png).
"""

import json
import time

import numpy as np

from uvl import methods
from uvl.errors import UvlError
from uvl.io import atomic_dir, save_npz
from uvl.stage import OUTPUTS, load_model, run_stage, stage_record, start_method_stage
from uvl.tracking import Run


def main() -> None:
    stage = start_method_stage(__doc__)
    name, params, section, method = stage.name, stage.params, stage.section, stage.method
    views, data = stage.task.views(section, params.data, name)
    images = views["train"].images  # (N, H, W[, C]) uint8, both splits

    started = time.perf_counter()
    features, device, meta = None, None, None  # the CPU, for a method without a model
    if methods.is_trained(method):
        from uvl.engine import embed_all, resolve_device  # the trained method's own module imports it too

        device = resolve_device(params.engine.device)
        model, meta = load_model(name, params, device)
        run = Run.resume(meta["mlflow_run_id"])
        features = embed_all(model, images, device)  # (N, D)
        rows = method.cluster(features, section, model)
    else:
        run = Run.start(name, stage="cluster", params={name: section.model_dump(), "data": params.data.model_dump()},
                        data=data)
        rows = method.cluster(images.reshape(len(images), -1).astype(np.float32) / 255.0, section)  # (N, D) in [0, 1]
    seconds = time.perf_counter() - started
    for row, assignment in rows.items():
        if assignment.shape != images.shape[:1] or not np.issubdtype(assignment.dtype, np.integer):
            raise UvlError(f"{name}: row '{row}' returned {assignment.dtype} {assignment.shape}, "
                           f"expected one integer cluster per image ({len(images)},)")
    if next(iter(rows)) != name:
        raise UvlError(f"{name}: its first row must be its headline row, named '{name}' (got {list(rows)})")
    run.log_metrics({"cluster_seconds": seconds})

    with atomic_dir(OUTPUTS / name) as out:
        save_npz(out / "assignments.npz", **rows)
        if features is not None:  # for the evaluate stage's linear probe, kNN and t-SNE
            np.save(out / "features.npy", features.astype(np.float32))
            model.figures(out)
        (out / "run.json").write_text(json.dumps({
            "seed": section.seed,
            "data": data,
            # from the pixels: the upstreams' training, this method's, and this clustering
            "train_seconds": round(seconds + (meta["upstream_seconds"] + meta["pretrain_seconds"] if meta else 0), 3),
            "stages": {
                **({"pretrain": {"seconds": meta["pretrain_seconds"], "peak_memory_mb": meta["peak_memory_mb"],
                                 "machine": meta["machine"]}} if meta else {}),
                "cluster": stage_record(seconds, device),
            },
            "mlflow_run_id": run.run_id,
        }, indent=2))


if __name__ == "__main__":
    run_stage(main)
