"""MoCo training throughput: this project's engine against the conventional peer pipeline, same machine.

(a) engine: uvl.engine.fit, the images a uint8 tensor on the device, both views augmented per image with one
    affine_grid/grid_sample call per batch.
(b) conventional: torchvision.datasets.MNIST (PIL images) + per-sample torchvision.transforms.RandomAffine
    for each of the two views + DataLoader with worker processes, as peer libraries train; the same model,
    batch size, augmentation family, loss and optimiser step.

Also: the FLOPs of one training step (torch.utils.flop_counter), hence the achieved FLOP/s, against the
machine's measured fp32 matmul peak. The two pipelines run `--repeats` times, alternating, so that a slow
spell of the machine hits both; the report gives the medians and the range. Writes reports/bench.json and
reports/bench.md.

    make bench            # or: python bench/moco_throughput.py [--device cuda] [--steps N] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from uvl import methods
from uvl import params as uvl_params
from uvl.cli import machine
from uvl.data import mnist
from uvl.data.idx import encode
from uvl.engine import as_batch, fit, resolve_device
from uvl.io import write_json, write_text
from sandbox import ROOT
from uvl.tracking import Run


def moco_params(steps: int, batch_size: int) -> "methods.moco.Params":
    section = uvl_params.read_yaml(ROOT / "params.yaml")["moco"]
    return uvl_params.validate_section("moco", {**section, "epochs": 1, "batch_size": batch_size, "precision": "fp32"},
                                       methods.get("moco").Params)


def engine_params(device: torch.device) -> uvl_params.EngineParams:
    """params.yaml's engine section (memory format, compile) on `device`, without checkpoints."""
    section = uvl_params.read_yaml(ROOT / "params.yaml")["engine"]
    return uvl_params.EngineParams.model_validate(
        {**section, "device": device.type, "checkpoint_every": 10**9})


def engine_throughput(images: np.ndarray, params, engine: uvl_params.EngineParams, device: torch.device,
                      steps: int) -> float:
    subset = images[: steps * params.batch_size]
    torch.manual_seed(0)
    warmup = methods.get("moco").build(params)
    fit("bench", warmup, subset[: 3 * params.batch_size], params, engine, "warmup", Run())
    model = methods.get("moco").build(params)
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    fit("bench", model, subset, params, engine, "engine", Run())
    if device.type == "cuda":
        torch.cuda.synchronize()
    return len(subset) / (time.perf_counter() - started)


class TwoViews:
    """The peer libraries' TwoCropsTransform: the same per-sample transform applied twice."""

    def __init__(self, transform):
        self.transform = transform

    def __call__(self, image):
        return self.transform(image), self.transform(image)


def conventional_throughput(images: np.ndarray, labels: np.ndarray, params, device: torch.device, steps: int,
                            workers: int, memory_format: torch.memory_format) -> float:
    from torchvision import datasets, transforms

    with tempfile.TemporaryDirectory() as root:
        raw = Path(root) / "MNIST" / "raw"
        raw.mkdir(parents=True)
        (raw / "train-images-idx3-ubyte").write_bytes(encode(images))
        (raw / "train-labels-idx1-ubyte").write_bytes(encode(labels))
        (raw / "t10k-images-idx3-ubyte").write_bytes(encode(images[:10]))
        (raw / "t10k-labels-idx1-ubyte").write_bytes(encode(labels[:10]))
        augment = params.augment
        transform = transforms.Compose([
            transforms.RandomAffine(degrees=augment.degrees, translate=(augment.translate, augment.translate),
                                    scale=tuple(augment.scale), shear=augment.shear),
            transforms.ToTensor(),
        ])
        dataset = datasets.MNIST(root, train=True, download=False, transform=TwoViews(transform))
        loader = torch.utils.data.DataLoader(dataset, batch_size=params.batch_size, shuffle=True, drop_last=True,
                                             num_workers=workers, persistent_workers=workers > 0,
                                             pin_memory=device.type == "cuda")
        torch.manual_seed(0)
        model = methods.get("moco").build(params).to(device, memory_format=memory_format)  # as the engine's
        optimizer = model.configure_optimizer(params)
        done, started = 0, None
        for step, ((query_view, key_view), _) in enumerate(loader):
            if step == 3:  # after warm-up (worker start, first allocations)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                started = time.perf_counter()
            query_view, key_view = (view.to(device, non_blocking=True).contiguous(memory_format=memory_format)
                                    for view in (query_view, key_view))
            loss, _ = model.step_on_views(query_view, key_view)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            model.after_step()
            done += len(query_view) if started else 0
            if step == steps + 2:
                break
        if device.type == "cuda":
            torch.cuda.synchronize()
        return done / (time.perf_counter() - started)


def step_flops(params, device: torch.device) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    model = methods.get("moco").build(params).to(device)
    batch = as_batch(torch.randint(0, 256, (params.batch_size, 28, 28), dtype=torch.uint8, device=device))
    with FlopCounterMode(display=False) as counter:
        loss, _ = model.training_step(batch, torch.arange(len(batch), device=device))
        loss.backward()
    return float(counter.get_total_flops())


def matmul_peak(device: torch.device, size: int = 4096, repeats: int = 10, trials: int = 3) -> float:
    """The best of `trials` timings of `repeats` products: a peak is what the machine can do at its best."""
    a, b = (torch.randn(size, size, device=device) for _ in range(2))
    torch.matmul(a, b)
    best = 0.0
    for _ in range(trials):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(repeats):
            torch.matmul(a, b)
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = max(best, 2 * size**3 * repeats / (time.perf_counter() - started))
    return best


def spread(runs: list[float]) -> str:
    """'2,433 (2,301-2,690)': the median and the range of several runs."""
    return f"{statistics.median(runs):,.0f} ({min(runs):,.0f}-{max(runs):,.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--steps", type=int, default=30, help="timed training steps per pipeline and repeat")
    parser.add_argument("--repeats", type=int, default=5, help="alternating runs of each pipeline")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="DataLoader workers for (b)")
    parser.add_argument("--out", default=str(ROOT / "reports" / "bench"), help="writes OUT.json and OUT.md")
    args = parser.parse_args()

    device = resolve_device(args.device)
    torch.set_num_threads(os.cpu_count() or 1)
    arrays = mnist.read_package()
    images, labels = arrays["train_images"], arrays["train_labels"]
    params = moco_params(args.steps, args.batch_size)

    settings = engine_params(device)
    memory_format = torch.channels_last if settings.channels_last else torch.contiguous_format
    engine_runs, conventional_runs = [], []
    for _ in range(args.repeats):
        engine_runs.append(engine_throughput(images, params, settings, device, args.steps))
        conventional_runs.append(conventional_throughput(images, labels, params, device, args.steps, args.workers,
                                                         memory_format))
    engine, conventional = statistics.median(engine_runs), statistics.median(conventional_runs)
    ratios = [a / b for a, b in zip(engine_runs, conventional_runs)]  # each repeat's pair, run back to back
    flops_per_image = step_flops(params, device) / params.batch_size
    peak = matmul_peak(device)
    result = {
        "ratio": engine / conventional,
        "engine_images_per_s": engine,
        "conventional_images_per_s": conventional,
        "engine_images_per_s_runs": engine_runs,
        "conventional_images_per_s_runs": conventional_runs,
        "paired_ratios": ratios,
        "engine_epoch_seconds": 60_000 / engine,
        "conventional_epoch_seconds": 60_000 / conventional,
        "step_flops_per_image": flops_per_image,
        "engine_flops_per_s": engine * flops_per_image,
        "matmul_peak_flops_per_s": peak,
        "fraction_of_peak": engine * flops_per_image / peak,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "machine": f"{machine()}, torch {torch.__version__}",  # the CPU, its vector ISA and cores
        "batch_size": params.batch_size,
        "timed_steps": args.steps,
        "repeats": args.repeats,
        "dataloader_workers": args.workers,
        "channels_last": settings.channels_last,
        "compile": settings.compile,
    }
    write_json(f"{args.out}.json", result)
    write_text(f"{args.out}.md", "\n".join([
        "# MoCo training throughput",
        "",
        "Generated by `make bench` (bench/moco_throughput.py); do not edit by hand.",
        "",
        f"Machine: {result['machine']}; device: {result['device']}. MoCo with the params.yaml model and "
        f"augmentation, batch {params.batch_size}, {args.steps} timed steps per pipeline after warm-up, "
        f"{args.repeats} alternating repeats (median, and the range in brackets); "
        f"engine settings from params.yaml (channels_last: {settings.channels_last}, compile: {settings.compile}), "
        "the model of (b) in the same memory format and in the same process (so with the engine's process "
        "settings: deterministic algorithms, no NaN fill of new tensors, freed memory kept for reuse), so the two "
        "differ only in how the data reaches the step.",
        "",
        "| pipeline | images/s | one epoch of 60,000 images (s) |",
        "|---|---:|---:|",
        f"| (a) uvl engine: uint8 tensor on the device, batched affine_grid/grid_sample | {spread(engine_runs)} | "
        f"{60_000 / engine:.1f} |",
        f"| (b) conventional: torchvision MNIST + per-sample RandomAffine + DataLoader ({args.workers} workers) | "
        f"{spread(conventional_runs)} | {60_000 / conventional:.1f} |",
        "",
        f"Ratio of the medians (a)/(b): **{result['ratio']:.3f}x**; the ratios of the {args.repeats} back-to-back "
        f"pairs range from {min(ratios):.3f} to {max(ratios):.3f}.",
        "",
        f"Arithmetic: {flops_per_image / 1e6:.1f} MFLOP per image per training step (both views, forward and "
        f"backward, counted by torch.utils.flop_counter), so (a) achieves {result['engine_flops_per_s'] / 1e9:.1f} "
        f"GFLOP/s against a measured fp32 matmul peak of {peak / 1e9:.1f} GFLOP/s "
        f"(4096x4096 torch.matmul, best of 3): **{100 * result['fraction_of_peak']:.0f}% of peak** (median engine run).",
        "",
        "Targets on a CPU: ratio >= 1.5 ({}) and >= 50% of peak ({}).".format(
            "met" if result["ratio"] >= 1.5 else "not met", "met" if result["fraction_of_peak"] >= 0.5 else "not met")
        if device.type == "cpu" else
        "Targets on a GPU: ratio >= 10 ({}) and one epoch under 2 s ({}).".format(
            "met" if result["ratio"] >= 10 else "not met", "met" if 60_000 / engine < 2 else "not met"),
        "",
    ]))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
