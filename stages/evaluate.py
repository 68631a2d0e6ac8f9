"""evaluate-<method>: score the outputs of the stage after training (cluster or predict) as the method's
task says (uvl.tasks).

Writes metrics/<method>/<row>.json (the task's scores, one file per row: the headline row named after the
method, then its variants), records/<method>.json (what the chain cost and ran on: seed, wall time, peak
memory and machine of each stage, the data it saw, the MLflow run) and plots/<method>/ (the task's
figures: a confusion matrix as CSV for `dvc plots` and PNG; a t-SNE map of a trained clustering method's
features; the method's own figures).
"""

import importlib
import json
import shutil
import time

from uvl.errors import UvlError
from uvl.io import atomic_dir, write_json
from uvl.stage import METRICS, OUTPUTS, PLOTS, RECORDS, run_stage, stage_record, start_method_stage
from uvl.tracking import Run


def main() -> None:
    started = time.perf_counter()
    stage = start_method_stage(__doc__)
    name, params, section = stage.name, stage.params, stage.section
    outputs = OUTPUTS / name
    try:
        meta = json.loads((outputs / "run.json").read_text())
    except (OSError, ValueError) as err:
        raise UvlError(f"{outputs}: missing or corrupted ({err}); run `dvc repro {stage.task.STEP}-{name}`") from None

    with atomic_dir(PLOTS / name) as plots:
        try:
            evaluation = importlib.import_module(f"uvl.eval.{stage.method.TASK}")  # the task's scoring
            scores = evaluation.evaluate(name, section, params.data, params.evaluation, outputs, plots,
                                         stage.method.SELECTED_ON)
        except (OSError, KeyError, ValueError) as err:
            raise UvlError(f"{outputs}: does not match the data ({type(err).__name__}: {err}); "
                           f"run `dvc repro {stage.task.STEP}-{name}`") from None
        for figure in outputs.glob("*.png"):  # the method's own figures
            shutil.copyfile(figure, plots / figure.name)
        figures = sorted(plots.glob("*.png"))
        run = Run.resume(meta["mlflow_run_id"])
        run.log_metrics({f"{row}.{key}" if row != name else key: value for row, values in scores.items()
                         for key, value in values.model_dump(exclude_none=True).items() if key != "selected_on"})
        for png in figures:
            run.log_artifact(png, "plots")
        run.end()

    write_json(RECORDS / f"{name}.json", {
        "task": stage.method.TASK,
        "rows": list(scores),
        **{key: meta[key] for key in ("seed", "data", "train_seconds", "mlflow_run_id")},
        "stages": {**meta["stages"], "evaluate": stage_record(time.perf_counter() - started)},
    })
    with atomic_dir(METRICS / name) as out:  # last: a metrics folder means the whole chain succeeded
        for row, values in scores.items():
            write_json(out / f"{row}.json", values.model_dump(exclude_none=True))


if __name__ == "__main__":
    run_stage(main)
