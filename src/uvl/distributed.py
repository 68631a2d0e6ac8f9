"""Training in several processes: `torchrun --standalone --nproc_per_node N stages/pretrain.py <method>`.

Data parallel with the semantics of DistributedDataParallel: every process holds the whole model and the
whole dataset, takes its contiguous slice of each global batch of `batch_size` images, and the gradients
are averaged over the processes before every optimiser step, so N processes follow one process that
trains on the same global batch. The averaging is one all-reduce of a flat buffer per step rather than
the DistributedDataParallel wrapper, because methods train through `training_step` and not `forward`,
some run optimiser steps of their own inside it (InfoGAN's discriminator) and some leave parameters
without gradients for a whole phase (DEC's decoder); these helpers serve all of them alike.

Only rank 0 writes checkpoints, models and MLflow records. With one process (plain `python`), every
helper is a no-op and nothing here is imported by torch.distributed's machinery.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import torch
import torch.distributed as dist


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def local_device(device: torch.device) -> torch.device:
    """Under torchrun, each process of a node takes its own GPU (LOCAL_RANK)."""
    if device.type == "cuda" and world_size() > 1:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def setup(device: torch.device) -> None:
    """Join the process group that torchrun's environment describes (NCCL on GPUs, gloo on CPUs)."""
    if world_size() > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def threads_per_process() -> int:
    """The CPU cores this process may run on (its affinity: what taskset, a container's cpuset or a
    scheduler grants, not the machine's count), shared out among this node's processes."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))


def average_gradients(parameters: Iterable[torch.nn.Parameter]) -> None:
    """grad ← mean over processes of grad, for every parameter that has one, in one all-reduce."""
    if world_size() == 1:
        return
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world_size()
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
        offset += grad.numel()


def mean(values: torch.Tensor) -> torch.Tensor:
    """The element-wise mean of `values` over the processes (the input itself with one process)."""
    if world_size() == 1:
        return values
    values = values.detach().clone()
    dist.all_reduce(values)
    return values / world_size()


def any_true(flag: bool, device: torch.device) -> bool:
    """True on every process when `flag` is true on any of them (a SIGTERM seen by one process)."""
    if world_size() == 1:
        return flag
    value = torch.tensor([float(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def gather(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate every process's (B, ...) tensor in rank order: (N·B, ...), the global batch's order."""
    if world_size() == 1:
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(world_size())]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts)


def gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """`gather`, differentiable: each process's rows get back the gradients that every process's loss sends
    them. With each process computing the same loss on the gathered batch and `average_gradients` after,
    the step is one process's on the whole batch (SimCLR's in-batch negatives)."""
    if world_size() == 1:
        return tensor
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(tensor.contiguous()))


def barrier() -> None:
    if world_size() > 1 and dist.is_initialized():
        dist.barrier()


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
