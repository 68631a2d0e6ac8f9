"""cluster@<method>: cluster the prepared images, directly or through the method's trained model.

Writes data/clusters/<method>/assignments.npz (one int array per row, over all images of the run),
run.json (row order, seed, wall times and peak memory per stage, the MLflow run that the evaluate@ stage continues) and, for a
trained method, features.npy (the model's embedding of every image) and the method's own figures (*.png).
"""

import json
import time

import numpy as np

from uvl import methods
from uvl.cli import CLUSTERS, load_model, machine, peak_memory_mb, run_stage, start_method_stage
from uvl.engine import embed_all, resolve_device
from uvl.errors import UvlError
from uvl.io import atomic_dir, save_npz
from uvl.tracking import Run


def main() -> None:
    name, params, data = start_method_stage(__doc__)
    method, section = methods.get(name), params.methods[name]

    started = time.perf_counter()
    features = None
    device = None  # the CPU, for a method without a model
    if methods.is_trained(method):
        device = resolve_device(params.engine.device)
        model, meta = load_model(name, params, device)
        run = Run.resume(meta["mlflow_run_id"])
        features = embed_all(model, data.images, device)  # (N, D)
        rows = method.cluster(features, section, model)
    else:
        meta = None
        run = Run.start(name, stage="cluster", params={name: section.model_dump(), "data": params.data.model_dump()})
        rows = method.cluster(data.pixels(), section)
    seconds = time.perf_counter() - started
    for row, assignment in rows.items():
        if assignment.shape != data.labels.shape or not np.issubdtype(assignment.dtype, np.integer):
            raise UvlError(f"{name}: row '{row}' returned {assignment.dtype} {assignment.shape}, "
                           f"expected one integer cluster per image {data.labels.shape}")
    run.log_metrics({"cluster_seconds": seconds})

    with atomic_dir(CLUSTERS / name) as out:
        save_npz(out / "assignments.npz", **rows)
        if features is not None:  # for evaluate@'s linear probe, kNN and t-SNE
            np.save(out / "features.npy", features.astype(np.float32))
            model.figures(out)
        (out / "run.json").write_text(json.dumps({
            "rows": list(rows),
            "seed": section.seed,
            # from the pixels: the upstream's training, this method's, and this clustering
            "train_seconds": round(seconds + (meta["upstream_seconds"] + meta["pretrain_seconds"] if meta else 0), 3),
            "stages": {
                # models trained before run.json named the machine have none
                **({"pretrain": {"seconds": meta["pretrain_seconds"], "peak_memory_mb": meta["peak_memory_mb"],
                                 **({"machine": meta["machine"]} if "machine" in meta else {})}}
                   if meta else {}),
                "cluster": {"seconds": round(seconds, 3), "peak_memory_mb": peak_memory_mb(), "machine": machine(device)},
            },
            "mlflow_run_id": run.run_id,
        }, indent=2))


if __name__ == "__main__":
    run_stage(main)
