"""Fault drills: each breaks the pipeline in one way, on a quick-profile copy of the project, and checks
what the system did and whether anything was lost.

    python bench/drills.py          # runs every drill, writes reports/reliability.md

tests/reliability/ runs each drill as a test (bench/ on its path). The drills train only the autoencoder chain, long enough
(`EPOCHS`) that a signal can land mid-training, and checkpoint often.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from uvl.io import write_text
from sandbox import ROOT, Sandbox

EPOCHS = 60  # 7 steps per epoch on the quick profile's 2,000 images: ~420 steps, a few seconds
OVERRIDES = {
    "pipeline": {"methods": ["ae"]},
    "ae": {"epochs": EPOCHS},
    "engine": {"checkpoint_every": 20},
}


@dataclass(frozen=True)
class Outcome:
    fault: str
    behaviour: str  # what the system did
    lost: str  # what was lost
    ok: bool


def wait_for_checkpoint(box: Sandbox, process, timeout: float = 300) -> Path:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = sorted((box.root / "checkpoints").glob("ae-*.pt"))
        if found:
            return found[0]
        if process.poll() is not None:
            raise RuntimeError(f"finished before a checkpoint appeared:\n{process.communicate()}")
        time.sleep(0.01)
    raise RuntimeError("no checkpoint appeared")


def sandbox(workdir: Path, name: str, overrides: dict = OVERRIDES) -> Sandbox:
    """A drill's copy of the project; all share one DVC cache, so `prepare` runs once and is restored after."""
    box = Sandbox(workdir / name, overrides, dvc_cache=workdir / "dvc-cache")
    box.run("dvc", "repro", "prepare-mnist")
    return box


def repro(box: Sandbox, *args: str, check: bool = True):
    """`dvc repro` that trains for real: the run-cache would restore an identical earlier training instead."""
    return box.run("dvc", "repro", "--no-run-cache", *args, check=check)


def reference(workdir: Path) -> dict:
    """An uninterrupted run's metrics: what every interrupted run must end with."""
    box = sandbox(workdir, "reference")
    repro(box)
    return box.metrics("ae")


def drill_determinism(workdir: Path, expected: dict) -> Outcome:
    box = sandbox(workdir, "determinism")
    repro(box)
    same = box.metrics("ae") == expected
    return Outcome("same params and seed, run again in another folder",
                   "identical metrics files (the records' wall times aside)" if same
                   else f"metrics differ: {box.metrics('ae')} / {expected}", "nothing", same)


def drill_signal(workdir: Path, expected: dict, sig: signal.Signals) -> Outcome:
    box = sandbox(workdir, f"signal-{sig.name}")
    if sig == signal.SIGTERM:  # what `kill` and schedulers send to the training process
        process = box.popen("python", "stages/pretrain.py", "ae")
    else:  # SIGKILL to the whole `dvc repro`: no chance to clean up
        process = box.popen("dvc", "repro", "--no-run-cache")
    wait_for_checkpoint(box, process)
    process.send_signal(sig) if sig == signal.SIGTERM else os.killpg(process.pid, sig)
    _, stderr = process.communicate(timeout=300)
    stopped = process.returncode != 0 and not (box.root / "metrics" / "ae").exists() \
        and not (box.root / "models" / "ae").exists()
    rerun = repro(box)
    resumed = "resuming ae from" in rerun.stderr + rerun.stdout
    same = box.metrics("ae") == expected
    said = " ".join(stderr.strip().splitlines()[-1:]) if sig == signal.SIGTERM else "killed"
    ok = stopped and resumed and same
    return Outcome(
        f"{sig.name} during training" + (" (to the stage)" if sig == signal.SIGTERM else " (to all of `dvc repro`)"),
        f"exit {process.returncode} ({said}), no outputs; `dvc repro` "
        + ("resumed from the checkpoint and ended with the uninterrupted run's metrics" if resumed and same
           else f"resumed={resumed}, same metrics={same}"),
        "the steps since the last checkpoint" if sig == signal.SIGKILL else "nothing", ok)


def drill_nan(workdir: Path) -> Outcome:
    box = sandbox(workdir, "nan", OVERRIDES | {"ae": {"epochs": EPOCHS, "lr": 1.0e30}})
    result = repro(box, check=False)
    message = next((line for line in result.stderr.splitlines() if "loss is" in line), "")
    ok = result.returncode != 0 and "ae: loss is nan at epoch" in message and box.metrics("ae") is None
    return Outcome("NaN loss (ae.lr = 1e30)", f"stage failed with `{message.strip()}`; no metrics file",
                   "nothing (no result recorded)", ok)


def drill_corrupt_data(workdir: Path) -> Outcome:
    box = sandbox(workdir, "corrupt")
    path = box.root / "data" / "prepared" / "mnist" / "arrays.npz"
    path.chmod(0o644)  # DVC may link outputs read-only from its cache
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0xFF
    path.unlink()
    path.write_bytes(bytes(raw))
    result = box.run("python", "stages/pretrain.py", "ae", check=False)
    ok = result.returncode == 2 and "mnist: corrupted" in result.stderr and not (box.root / "models").exists()
    return Outcome("one flipped byte in data/prepared/mnist/arrays.npz", f"exit {result.returncode}: "
                   f"`{result.stderr.strip().splitlines()[-1]}`", "nothing", ok)


def drill_truncated_checkpoint(workdir: Path) -> Outcome:
    box = sandbox(workdir, "truncated")
    process = box.popen("python", "stages/pretrain.py", "ae")
    checkpoint = wait_for_checkpoint(box, process)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=300)
    checkpoint.write_bytes(checkpoint.read_bytes()[:2000])
    result = box.run("python", "stages/pretrain.py", "ae", check=False)
    last = result.stderr.strip().splitlines()[-1]
    ok = result.returncode == 2 and "is unreadable" in last and not (box.root / "models").exists()
    return Outcome("a truncated checkpoint", f"exit {result.returncode}: `{last[:160]}…`",
                   "the checkpoint's steps (deleting it retrains from scratch)", ok)


def drill_unwritable_tracking(workdir: Path, expected: dict) -> Outcome:
    box = sandbox(workdir, "tracking")
    blocker = box.root / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    result = box.run("dvc", "repro", "--no-run-cache", MLFLOW_TRACKING_URI=f"sqlite:///{blocker}/mlflow.db")
    warned = "MLflow tracking off" in result.stderr + result.stdout
    same = box.metrics("ae") == expected
    return Outcome("MLflow store unwritable", "one warning per stage; every DVC output written, same metrics"
                   if warned and same else f"warned={warned}, same metrics={same}", "the MLflow run only", warned and same)


def drill_parallel_queue(workdir: Path) -> Outcome:
    from mlflow.tracking import MlflowClient

    box = sandbox(workdir, "queue")
    box.commit("baseline")
    box.run("dvc", "exp", "run", "--queue", "-S", "ae.seed=1,2")
    box.run_queue(jobs=2, timeout=600)
    shown = json.loads(box.run("dvc", "exp", "show", "--json").stdout)
    experiments = [exp for baseline in shown for exp in (baseline.get("experiments") or [])]
    succeeded = [exp for exp in experiments if exp.get("executor") is None or exp["executor"].get("state") == "success"]
    accuracies = {exp["revs"][0]["data"]["metrics"]["metrics/ae/ae.json"]["data"]["cluster_acc"] for exp in succeeded}
    client = MlflowClient(f"sqlite:///{box.root / 'mlflow' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("uvl").experiment_id])
    names = {run.data.tags.get("dvc.exp_name") for run in runs}
    ok = len(succeeded) == 2 and len(accuracies) == 2 and len(names - {"workspace"}) == 2 \
        and not list((box.root / "checkpoints").glob("*.pt"))
    return Outcome("two queued experiments at once (`dvc queue start -j 2`)",
                   f"{len(succeeded)} of 2 succeeded with distinct metrics; MLflow runs tagged "
                   f"{sorted(n for n in names if n)}; no checkpoint left over", "nothing", ok)



def run_all(workdir: Path) -> list[Outcome]:
    expected = reference(workdir)
    return [
        drill_determinism(workdir, expected),
        drill_signal(workdir, expected, signal.SIGTERM),
        drill_signal(workdir, expected, signal.SIGKILL),
        drill_nan(workdir),
        drill_corrupt_data(workdir),
        drill_truncated_checkpoint(workdir),
        drill_unwritable_tracking(workdir, expected),
        drill_parallel_queue(workdir),
    ]


def render(outcomes: list[Outcome]) -> str:
    import pandas as pd

    table = pd.DataFrame([{"fault": o.fault, "what the system did": o.behaviour, "what was lost": o.lost,
                           "as required": "yes" if o.ok else "**NO**"} for o in outcomes])
    return "\n".join([
        "# Reliability drills",
        "",
        "Generated by `python bench/drills.py`; do not edit by hand. Each fault was injected into a fresh "
        f"quick-profile copy of the project (autoencoder chain, {EPOCHS} epochs, a checkpoint every "
        f"{OVERRIDES['engine']['checkpoint_every']} steps); 'the uninterrupted run' is the same params run "
        "once without faults.",
        "",
        table.to_markdown(index=False),
        "",
    ])


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="uvl-drills-") as tmp:
        outcomes = run_all(Path(tmp))
    report = render(outcomes).replace(tmp, "<drill folder>")
    write_text(ROOT / "reports" / "reliability.md", report)
    print(report)
    raise SystemExit(0 if all(o.ok for o in outcomes) else 1)
