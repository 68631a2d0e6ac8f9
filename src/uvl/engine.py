"""The training loop every trained method uses, and what makes its results trustworthy.

- Data: one or more named streams (uvl.data.protocol's views: `train`, `labelled`, `unlabelled`, `source`,
  `target`), each a uint8 tensor on the training device with its labels, if any, and its own batch size.
  Each step takes one batch of every stream, a gather of a permutation's next indices scaled to [0, 1];
  the method's `training_step` receives them as keyword arguments named after the streams. No DataLoader,
  no per-sample Python. The first stream counts the epochs; the others cycle through their own
  permutations as often as the first one's epochs need.
- Determinism: the first stream's permutation comes from (seed, epoch), another stream's from (seed,
  cycle, its position in the list, `STREAM`), and the global RNG is reseeded from (seed, step) before every step, so
  every random draw (augmentation, noise, dropout) is a function of the seed and the step alone. A run
  resumed at any step therefore continues exactly as an uninterrupted one, every stream included, with no
  RNG or iterator state to save. Deterministic algorithms are on.
- Memory: freed blocks are kept for reuse (`reuse_freed_memory`) and new tensors are not pre-filled;
  neither changes a bit of any result, both save time in every step.
- Checkpoints: every `checkpoint_every` steps and on SIGTERM, written atomically to
  <root>/checkpoints/<method>-<fingerprint>.pt, outside DVC's outputs (DVC deletes those before a stage
  runs) and outside a queued experiment's temporary folder. The fingerprint hashes everything that shapes
  the result, so two experiments never share a file and a checkpoint from other params is never resumed.
  Deleted when training completes; kept when it stops at `until_epoch`, for a later call to continue.
- Numerical faults: a NaN or infinite loss stops training with the method, epoch and step.
- Epoch selection: a method that selects its epoch on validation (`select_epoch_on_validation`) is scored on
  the task's `validation` view after every epoch (the curve `epoch_validation_accuracy`; evaluate logs the
  final `validation_accuracy`) and ends at its best epoch; the best weights so far are part of the checkpoint.
- Several processes (torchrun): each takes its slice of every global batch and the gradients are averaged
  before each step; see uvl.distributed. Rank 0 alone writes checkpoints.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import math
import os
import signal
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from uvl import distributed
from uvl.data.protocol import View
from uvl.errors import UvlError
from uvl.io import atomic_path
from uvl.params import EngineParams, TrainParams


@dataclass(frozen=True)
class Batch:
    """One stream's batch, as `training_step` receives it."""

    images: torch.Tensor  # (B, C, H, W) float in [0, 1]
    labels: torch.Tensor | None  # (B,) int64, or None for a stream without labels
    indices: torch.Tensor  # (B,) rows of the stream's view


@dataclass(frozen=True)
class Stream:
    """A whole view on the training device, as `before_step` sees it."""

    images: torch.Tensor  # (N, H, W[, C]) uint8
    labels: torch.Tensor | None  # (N,) int64
    batch_size: int  # global, over all processes

    def __len__(self) -> int:
        return len(self.images)

    @property
    def steps_per_epoch(self) -> int:
        """Full batches in one pass over the stream; the last, partial batch is dropped."""
        return len(self) // self.batch_size


class Method(torch.nn.Module):
    """What the engine trains. A method overrides `training_step` and `embed`; `batch_sizes` if it trains
    on more than its task's first view; `after_step` if it keeps state outside the gradient (EMA encoders,
    queues); `before_step` if it needs a whole stream at times (DEC's targets); `fit` if its training is not
    one loop (several phases, several optimisers). State that must survive a restart is a parameter or a
    registered buffer, so the checkpoint saves it.
    """

    # True: after each epoch the engine scores `classify` on the task's `validation` view and, once training
    # completes, leaves the model at the epoch of best validation accuracy (the first, on ties)
    select_epoch_on_validation = False

    def batch_sizes(self, params: TrainParams, views: Mapping[str, View]) -> dict[str, int]:
        """The streams to train on, of the task's `views`, with their batch sizes; the first counts epochs."""
        return {next(iter(views)): params.batch_size}

    def training_step(self, **batches: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """One `Batch` per stream, by name (`train`, `labelled`, `source`, ...).
        Returns the loss and detached scalars to log."""
        raise NotImplementedError

    def before_step(self, step: int, streams: dict[str, Stream]) -> bool:
        """Runs before each step with every whole stream. Returning False ends training early (a
        convergence test)."""
        return True

    def after_step(self) -> None:
        """Runs after each optimiser step."""

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """images: (B, C, H, W) in [0, 1] -> (B, D) features for clustering and evaluation."""
        raise NotImplementedError

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        """images: (B, C, H, W) in [0, 1] -> (B, K) class logits (classification and adaptation tasks)."""
        raise NotImplementedError

    def configure_optimizer(self, params: TrainParams) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=params.lr, weight_decay=params.weight_decay)

    def figures(self, folder: Path) -> None:
        """Write the method's own PNG figures (InfoGAN's samples) into `folder`; they reach plots/<method>/."""

    def fit(self, name: str, views: dict[str, View], params: TrainParams, engine: EngineParams, fp: str,
            run) -> dict[str, list[float]]:
        """Train on the task's `views`; the pretrain stage calls this."""
        return fit(name, self, views, params, engine, fp, run)


def resolve_device(name: str) -> torch.device:
    """engine.device as a torch device; under torchrun, this process's own GPU."""
    if name == "cuda" and not torch.cuda.is_available():
        raise UvlError("engine.device=cuda but no CUDA device is available; use auto or cpu")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return distributed.local_device(torch.device(name))


STREAM = 0x5EED5  # ends a later stream's permutation seed; a step's seed ends in its position or rank, far below it


def derive_seed(*entropy: int) -> int:
    return int(np.random.SeedSequence([int(e) for e in entropy]).generate_state(1, dtype=np.uint32)[0])


def fingerprint(*sections: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(sections, sort_keys=True, default=str).encode()).hexdigest()[:16]


def checkpoint_dir() -> Path:
    from uvl.tracking import project_root

    return project_root() / "checkpoints"


def learning_rate(params: TrainParams, step: int, total_steps: int) -> float:
    if params.lr_schedule == "cosine":
        return params.lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
    return params.lr


def checkpoint_path(name: str, fp: str) -> Path:
    return checkpoint_dir() / f"{name}-{fp}.pt"


def as_batch(images: torch.Tensor, memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
    """(B, H, W) or (B, H, W, C) uint8 -> (B, C, H, W) float32 in [0, 1]."""
    channels_first = images.unsqueeze(1) if images.dim() == 3 else images.permute(0, 3, 1, 2)
    return channels_first.float().div_(255.0).contiguous(memory_format=memory_format)


@torch.no_grad()
def in_batches(function, method: Method, images: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
    """`function` (a method of `method`) of (N, H, W[, C]) uint8 images on the model's device, batch by
    batch, in eval mode: (N, ...) float."""
    was_training = method.training
    method.eval()
    outputs = torch.cat([function(as_batch(images[i:i + batch_size])).float()
                         for i in range(0, len(images), batch_size)])
    method.train(was_training)
    return outputs


def embed_tensor(method: Method, images: torch.Tensor) -> torch.Tensor:
    """(N, H, W[, C]) uint8 on the model's device -> (N, D) `method.embed` features, in eval mode."""
    return in_batches(method.embed, method, images)


def embed_all(method: Method, images: np.ndarray, device: torch.device) -> np.ndarray:
    return embed_tensor(method, torch.from_numpy(images).to(device)).cpu().numpy()


def classify_all(method: Method, images: np.ndarray, device: torch.device) -> np.ndarray:
    """(N, H, W[, C]) uint8 -> (N,) int64, the argmax of `method.classify`, in eval mode."""
    return in_batches(method.classify, method, torch.from_numpy(images).to(device)).argmax(dim=1).cpu().numpy()


@contextlib.contextmanager
def _sigterm_flag() -> Iterator[list[bool]]:
    """Record SIGTERM (what `kill` and job schedulers send) so the loop can stop at a step boundary,
    where model and optimiser are consistent, and checkpoint there."""
    received = [False]

    def handler(signum, frame):
        received[0] = True

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


def _save(path: Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load(path: Path, fp: str, device: torch.device) -> dict | None:
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location=device, weights_only=True)  # never unpickles code
    except Exception as err:  # noqa: BLE001 - torch raises several types for a damaged file
        raise UvlError(f"checkpoint {path} is unreadable ({type(err).__name__}: "
                       f"{' '.join(str(err).split())[:200]}); delete it to train from scratch") from None
    if state.get("fingerprint") != fp:
        print(f"uvl: ignoring checkpoint {path}: it was written with other params", file=sys.stderr)
        return None
    return state


def reuse_freed_memory() -> None:
    """Make glibc's malloc keep freed blocks of up to 32 MiB (its maximum) for reuse.

    By default it serves large blocks with mmap and hands freed memory back to the kernel, so a training
    step that allocates the same activations and optimiser temporaries every time pays a page fault per
    page to touch them again (docs/methods/engine.md has the measurement, on InfoGAN's step). The cost is
    that the process keeps its peak heap instead of shrinking after it. Where memory comes from changes no
    arithmetic. Other C libraries (no `mallopt`) keep their own policy.
    """
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return
    trim_threshold, mmap_threshold = -1, -3  # glibc's M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
    mallopt(mmap_threshold, 32 << 20)
    mallopt(trim_threshold, 1 << 30)


def fit(name: str, method: Method, views: Mapping[str, View], params: TrainParams, engine: EngineParams,
        fp: str, run, until_epoch: int | None = None) -> dict[str, list[float]]:
    """Train `method` on the streams it asks for (`Method.batch_sizes`) of the task's `views`; returns the
    per-epoch means of the logged scalars.

    until_epoch: train only the schedule's first epochs and keep the checkpoint, so that a later call with
    the same `fp` continues exactly as an uninterrupted run (restarts that keep the best candidate).
    """
    device = resolve_device(engine.device)
    distributed.setup(device)
    rank, processes = distributed.rank(), distributed.world_size()
    torch.set_num_threads(distributed.threads_per_process())
    torch.use_deterministic_algorithms(True, warn_only=device.type == "cuda")
    # Deterministic mode also fills every new tensor with NaN, to make reads of uninitialised memory
    # reproducible. None of our steps read it (the tests retrain and compare bits), and the fill costs
    # each step a pass over every activation it allocates.
    torch.utils.deterministic.fill_uninitialized_memory = False
    reuse_freed_memory()
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    run.log_params({"engine.threads": torch.get_num_threads(), "engine.resolved_device": str(device),
                    "engine.processes": processes})

    streams = {}  # the whole of each stream on the device
    for stream, batch_size in method.batch_sizes(params, views).items():
        view = views[stream]
        if len(view) < batch_size:
            raise UvlError(f"{name}: the {stream} stream's batch of {batch_size} is larger than its {len(view)} images")
        if batch_size % processes:
            raise UvlError(f"{name}: the {stream} stream's batch of {batch_size} does not split evenly over "
                           f"{processes} processes")
        streams[stream] = Stream(torch.from_numpy(view.images).to(device),
                                 None if view.labels is None else torch.from_numpy(view.labels).to(device), batch_size)
    first = streams[next(iter(streams))]
    validation = views.get("validation") if method.select_epoch_on_validation else None
    if method.select_epoch_on_validation and validation is None:
        raise UvlError(f"{name}: selects its epoch on a validation view, and its task gives none")
    steps_per_epoch = first.steps_per_epoch
    total_steps = params.epochs * steps_per_epoch
    stop = total_steps if until_epoch is None else min(total_steps, until_epoch * steps_per_epoch)
    memory_format = torch.channels_last if engine.channels_last else torch.contiguous_format
    method.to(device, memory_format=memory_format)
    optimizer = method.configure_optimizer(params)
    # the gradients to average: those this optimiser steps (a method that steps others itself, like
    # InfoGAN's discriminator, averages theirs before its own step)
    stepped = [parameter for group in optimizer.param_groups for parameter in group["params"]]
    training_step = torch.compile(method.training_step) if engine.compile else method.training_step

    path = checkpoint_path(name, fp)
    state = _load(path, fp, device)
    step, history, sums = 0, {}, {}  # sums: this epoch's running totals of the logged scalars
    best = None  # {"epoch", "accuracy", "model"}: the epoch of best validation accuracy so far
    if state is not None:
        try:
            method.load_state_dict(state["model"])
        except RuntimeError as err:  # the params match but the code's model changed since it was written
            raise UvlError(f"checkpoint {path} does not fit {name}'s model ({' '.join(str(err).split())[:200]}); "
                           "delete it to train from scratch") from None
        optimizer.load_state_dict(state["optimizer"])
        step, history, sums, best = state["step"], state["history"], state["sums"], state.get("best")
        print(f"uvl: resuming {name} from {path} at step {step}/{total_steps}", file=sys.stderr)
        run.log_params({"engine.resumed_at_step": step})
        for epoch, means in enumerate(zip(*history.values())):  # this run gets the whole curve
            run.log_metrics(dict(zip(history, means)), step=epoch)

    def checkpoint() -> None:
        if distributed.is_main():
            _save(path, {"fingerprint": fp, "step": step, "model": method.state_dict(),
                         "optimizer": optimizer.state_dict(), "history": history, "sums": sums, "best": best})

    orders = {}  # stream -> (epoch or cycle, its permutation)

    def batch(k: int, stream_name: str, stream: Stream) -> Batch:
        """The stream's batch at `step`, this process's slice of it: position and permutation are functions
        of the step, so a resumed run draws the same batches."""
        cycle, position = divmod(step, stream.steps_per_epoch)  # the last, partial batch of a cycle is dropped
        if orders.get(stream_name, (None,))[0] != cycle:
            seed = derive_seed(params.seed, cycle) if k == 0 else derive_seed(params.seed, cycle, k, STREAM)
            permutation = torch.randperm(len(stream), generator=torch.Generator().manual_seed(seed))
            orders[stream_name] = (cycle, permutation.to(device))
        local = stream.batch_size // processes  # this process's slice of each global batch
        start = position * stream.batch_size + rank * local
        indices = orders[stream_name][1][start:start + local]  # (B / processes,)
        return Batch(as_batch(stream.images[indices], memory_format),
                     None if stream.labels is None else stream.labels[indices], indices)

    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=params.precision == "bf16")
    progress = tqdm(total=total_steps * first.batch_size, initial=step * first.batch_size, unit="img",
                    unit_scale=True, desc=name, mininterval=1 if sys.stderr.isatty() else 30, file=sys.stderr,
                    disable=not distributed.is_main())  # one bar, not one per process
    method.train()
    try:
        with _sigterm_flag() as terminated:
            while step < stop:
                if distributed.any_true(terminated[0], device):
                    checkpoint()
                    raise UvlError(f"{name}: terminated at step {step}/{total_steps}; "
                                   f"checkpoint saved to {path}, rerun to resume")
                if not method.before_step(step, streams):
                    print(f"uvl: {name} converged at step {step}/{total_steps}", file=sys.stderr)
                    break
                epoch, position = divmod(step, steps_per_epoch)
                batches = {key: batch(k, key, stream) for k, (key, stream) in enumerate(streams.items())}
                # each process draws its own augmentations; one process keeps the seeds of earlier releases
                torch.manual_seed(derive_seed(params.seed, epoch, position, *([rank] if processes > 1 else [])))
                for group in optimizer.param_groups:  # a function of the step, so resuming needs no state
                    group["lr"] = learning_rate(params, step, total_steps)
                with autocast:
                    loss, scalars = training_step(**batches)
                global_loss = distributed.mean(loss.detach())
                if not torch.isfinite(global_loss):
                    raise UvlError(f"{name}: loss is {global_loss.item()} at epoch {epoch} step {step} "
                                   f"(batch {position} of the epoch); nothing was written")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                distributed.average_gradients(stepped)
                optimizer.step()
                method.after_step()
                for key, value in {"loss": loss.detach(), **scalars}.items():
                    sums[key] = sums.get(key, 0) + value.detach().float()
                step += 1
                progress.update(first.batch_size)
                if step % steps_per_epoch == 0:
                    totals = distributed.mean(torch.stack(list(sums.values())))  # over the processes
                    means = {k: (v / steps_per_epoch).item() for k, v in zip(sums, totals)}
                    if validation is not None:
                        means["epoch_validation_accuracy"] = accuracy = float(
                            (classify_all(method, validation.images, device) == validation.labels).mean())
                        if best is None or accuracy > best["accuracy"]:
                            best = {"epoch": epoch, "accuracy": accuracy,
                                    "model": {k: v.detach().clone() for k, v in method.state_dict().items()}}
                    for key, value in means.items():
                        history.setdefault(key, []).append(value)
                    run.log_metrics(means, step=epoch)
                    progress.set_postfix(epoch=epoch, loss=f"{means['loss']:.4g}", refresh=False)
                    sums = {}
                if step % engine.checkpoint_every == 0 and step < total_steps:
                    checkpoint()
    finally:
        progress.close()
    if stop < total_steps:
        checkpoint()
        return history
    if distributed.is_main():
        path.unlink(missing_ok=True)
    if best is not None:
        method.load_state_dict(best["model"])
        print(f"uvl: {name} ends at epoch {best['epoch']}, its best validation accuracy "
              f"({best['accuracy']:.4f})", file=sys.stderr)
    return history
