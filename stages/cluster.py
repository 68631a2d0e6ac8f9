"""cluster@<method>: fit the method's clustering on the prepared images.

Writes data/clusters/<method>/assignments.npz (one int array per row, over all images of the run) and
run.json (row order, seed, wall time, the MLflow run that later stages of the chain continue).
"""

import json
import time

import numpy as np

from uvl import methods
from uvl import params as uvl_params
from uvl.cli import CLUSTERS, PREPARED, method_argument, run_stage
from uvl.data import load_prepared
from uvl.errors import UvlError
from uvl.io import atomic_dir, save_npz
from uvl.tracking import Run


def main() -> None:
    name = method_argument(__doc__)
    params = uvl_params.load()
    method, section = methods.get(name), params.methods.get(name)
    if section is None:
        raise UvlError(f"params.yaml has no '{name}:' section")
    data = load_prepared(PREPARED / "mnist.npz", params.data.train_limit, params.data.test_limit)

    run = Run.start(name, stage="cluster", params={name: section.model_dump(), "data": params.data.model_dump()})
    started = time.perf_counter()
    rows = method.cluster(data, section)
    seconds = time.perf_counter() - started
    for row, assignment in rows.items():
        if assignment.shape != data.labels.shape or not np.issubdtype(assignment.dtype, np.integer):
            raise UvlError(f"{name}: row '{row}' returned {assignment.dtype} {assignment.shape}, "
                           f"expected one integer cluster per image {data.labels.shape}")
    run.log_metrics({"train_seconds": seconds})

    with atomic_dir(CLUSTERS / name) as out:
        save_npz(out / "assignments.npz", **rows)
        (out / "run.json").write_text(json.dumps({
            "rows": list(rows),
            "seed": section.seed,
            "train_seconds": round(seconds, 3),
            "mlflow_run_id": run.run_id,
        }, indent=2))


if __name__ == "__main__":
    run_stage(main)
