"""Several processes: two gloo processes under torchrun follow one process that trains on the same global
batch, and each process runs as many threads as the cores it may use allow."""

import pytest
import torch

from sandbox import Sandbox

pytestmark = pytest.mark.slow

TORCHRUN = "torchrun --standalone --nproc_per_node 2"
# no augmentation and no masking noise, so that both runs see the same inputs (each process draws its own)
NO_AUGMENT = {"degrees": 0, "translate": 0.0, "scale": [1.0, 1.0], "shear": 0}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    box = Sandbox(tmp_path_factory.mktemp("distributed"), overrides={
        "pipeline": {"methods": ["ae", "moco"]},
        "moco": {"epochs": 2, "queue_size": 384, "augment": NO_AUGMENT},  # the queue wraps within the run
        "ae": {"corruption": 0.0},
    })
    box.run("dvc", "repro", "prepare-mnist")
    return box


def train(box: Sandbox, method: str, launcher: str) -> dict[str, torch.Tensor]:
    result = box.run(*launcher.split(), "stages/pretrain.py", method)
    assert "resuming" not in result.stderr  # a fresh run each time (different fingerprints)
    return torch.load(box.root / "models" / method / "model.pt", weights_only=True)


@pytest.mark.parametrize("method", ["ae", "moco"])
def test_two_processes_match_one(sandbox, method):
    single = train(sandbox, method, "python")
    double = train(sandbox, method, TORCHRUN)
    initial = train_init(sandbox, method)
    assert single.keys() == double.keys()
    for name, tensor in single.items():
        # measured against how far training moved the tensor, not per element: on an AMD EPYC the two
        # reduction orders alone moved a few MoCo components near zero by 1.6e-5, which no per-element
        # rtol absorbs. Measured here: at most 1.4e-3 of the distance (MoCo), 2.8e-2 with the all-reduce removed
        moved = (tensor - initial[name]).norm()
        assert moved > 0, f"{name}: training did not move it, so the comparison would be vacuous"
        error = ((double[name] - tensor).norm() / moved).item()
        assert error < 5e-3, f"{name}: 2 processes end {error:.1e} of the distance trained away from 1 process"


def train_init(box: Sandbox, method: str) -> dict[str, torch.Tensor]:
    """The untrained weights, to show that training moved them (the comparison above is not vacuous)."""
    from uvl import params
    from uvl.stage import build_model

    loaded = params.load(box.root / "params.yaml")
    return build_model(method, loaded, torch.device("cpu"), upstream_weights=False).state_dict()


def test_batch_that_does_not_split_is_a_clear_error(sandbox):
    params = sandbox.params()
    params["ae"]["batch_size"] = 255
    sandbox.write_params(params)
    try:
        result = sandbox.run(*TORCHRUN.split(), "stages/pretrain.py", "ae", check=False)
    finally:
        params["ae"]["batch_size"] = 256
        sandbox.write_params(params)
    assert result.returncode != 0
    assert "uvl: error: ae: the train stream's batch of 255 does not split evenly over 2 processes" in result.stderr


@pytest.mark.parametrize("processes, threads", [(None, 3), ("2", 1), ("4", 1)])
def test_threads_are_the_cores_this_process_may_use_shared_among_processes(monkeypatch, processes, threads):
    """Under taskset, a container's cpuset or a scheduler's allocation, the machine has more cores than
    the process may use; threads beyond those only contend for them."""
    from uvl.distributed import threads_per_process

    monkeypatch.setattr("os.cpu_count", lambda: 16)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {2, 5, 7}, raising=False)
    if processes:
        monkeypatch.setenv("LOCAL_WORLD_SIZE", processes)
    else:
        monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    assert threads_per_process() == threads


def test_machine_names_the_cpu_the_kernels_it_dispatches_to_and_the_cores(monkeypatch):
    from uvl.stage import machine

    # the cores are the threads PyTorch runs on, which the engine sets to this process's share of the cores
    monkeypatch.setattr(torch, "get_num_threads", lambda: 3)
    assert machine().endswith(f", {torch.backends.cpu.get_cpu_capability()}, 3 cores")
    assert machine(torch.device("cpu")) == machine()
