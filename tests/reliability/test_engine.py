"""The engine's contracts: determinism, resume after SIGTERM, NaN detection, safe checkpoints."""

import os
import signal

import numpy as np
import pytest
import torch
from conftest import cpu_engine

from uvl.data.protocol import View
from uvl.engine import Batch, Method, checkpoint_dir, fit
from uvl.errors import UvlError
from uvl.params import TrainParams
from uvl.tracking import Run

ENGINE = cpu_engine(checkpoint_every=3)
PARAMS = TrainParams(epochs=4, batch_size=32, lr=1e-2, lr_schedule="cosine", weight_decay=0.0,
                     precision="fp32", seed=7)
IMAGES = np.random.default_rng(0).integers(0, 256, (200, 28, 28), dtype=np.uint8)  # 6 steps per epoch
VIEWS = {"train": View(IMAGES, None, np.arange(len(IMAGES)))}  # as the clustering task hands them over


class Noisy(Method):
    """A tiny model whose loss uses the global RNG, as augmentation and dropout do."""

    def __init__(self, fault_at_call: int | None = None, fault: str = "nan"):
        super().__init__()
        self.layer = torch.nn.Linear(784, 4)
        self.calls, self.fault_at_call, self.fault = 0, fault_at_call, fault

    def training_step(self, train: Batch):
        self.calls += 1
        images = train.images
        noise = torch.rand_like(images)  # drawn from the reseeded global RNG
        output = self.layer((images + 0.1 * noise).flatten(1))
        self.output_dtype = output.dtype
        loss = output.pow(2).mean()
        if self.calls == self.fault_at_call:
            if self.fault == "sigterm":
                os.kill(os.getpid(), signal.SIGTERM)
            else:
                loss = loss * float(self.fault)
        return loss, {"noise_mean": noise.mean().detach()}


def train(model, fp="fp-a", params=PARAMS):
    torch.manual_seed(0)
    model.layer.reset_parameters()
    return fit("noisy", model, VIEWS, params, ENGINE, fp, Run())


def states_equal(a, b):
    return all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_same_seed_gives_bitwise_identical_weights_and_history():
    first, second = Noisy(), Noisy()
    assert train(first) == train(second)
    assert states_equal(first, second)
    other = Noisy()
    train(other, params=PARAMS.model_copy(update={"seed": 8}))
    assert not states_equal(first, other)


@pytest.mark.parametrize("precision, arithmetic", [("fp32", torch.float32), ("bf16", torch.bfloat16)])
def test_the_sections_precision_sets_the_steps_arithmetic_and_weights_stay_fp32(precision, arithmetic):
    model = Noisy()
    train(model, params=PARAMS.model_copy(update={"precision": precision, "epochs": 1}))
    assert model.output_dtype == arithmetic
    assert model.layer.weight.dtype == torch.float32


@pytest.mark.parametrize("fault_at_call", [5, 6, 14])  # mid-epoch, at an epoch boundary, later epoch
def test_sigterm_checkpoints_and_resume_equals_an_uninterrupted_run(fault_at_call, capsys):
    reference = Noisy()
    expected_history = train(reference)

    interrupted = Noisy(fault_at_call=fault_at_call, fault="sigterm")
    with pytest.raises(UvlError, match=rf"noisy: terminated at step {fault_at_call}/24; checkpoint saved"):
        train(interrupted)
    assert len(list(checkpoint_dir().glob("noisy-fp-a.pt"))) == 1

    resumed = Noisy()
    assert train(resumed) == expected_history
    assert states_equal(resumed, reference)
    assert "resuming noisy from" in capsys.readouterr().err
    assert not list(checkpoint_dir().glob("*")), "the checkpoint is removed once training completes"


def test_a_checkpoint_from_other_params_is_ignored_with_a_message(capsys):
    with pytest.raises(UvlError):
        train(Noisy(fault_at_call=5, fault="sigterm"), fp="fp-a")
    # same file name, other fingerprint inside: as if the file had been copied or the hash collided
    os.replace(checkpoint_dir() / "noisy-fp-a.pt", checkpoint_dir() / "noisy-fp-b.pt")
    reference, fresh = Noisy(), Noisy()
    train(reference, fp="fp-c")
    train(fresh, fp="fp-b")
    assert "ignoring checkpoint" in capsys.readouterr().err
    assert states_equal(reference, fresh)


@pytest.mark.parametrize("fault", ["nan", "inf"])
def test_a_non_finite_loss_stops_with_method_epoch_and_step(fault):
    with pytest.raises(UvlError, match=rf"noisy: loss is {fault} at epoch 1 step 7 \(batch 1 of the epoch\)"):
        train(Noisy(fault_at_call=8, fault=fault))


def test_a_truncated_checkpoint_is_a_clear_error():
    with pytest.raises(UvlError):
        train(Noisy(fault_at_call=5, fault="sigterm"))
    path = checkpoint_dir() / "noisy-fp-a.pt"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(UvlError, match=r"checkpoint .*noisy-fp-a.pt is unreadable .*delete it to train from scratch"):
        train(Noisy())


def test_a_checkpoint_of_another_model_is_a_clear_error():
    with pytest.raises(UvlError):
        train(Noisy(fault_at_call=5, fault="sigterm"))
    changed = Noisy()
    changed.layer = torch.nn.Linear(784, 8)  # same params, other code: the model's shapes changed
    with pytest.raises(UvlError, match=r"checkpoint .*noisy-fp-a.pt does not fit noisy's model .*"
                                       r"delete it to train from scratch"):
        fit("noisy", changed, VIEWS, PARAMS, ENGINE, "fp-a", Run())


def test_checkpoints_never_unpickle_code():
    path = checkpoint_dir() / "noisy-fp-a.pt"
    path.parent.mkdir(parents=True)
    torch.save({"fingerprint": "fp-a", "payload": print}, path)  # a pickled callable
    with pytest.raises(UvlError, match="unreadable"):
        train(Noisy())


def test_batch_larger_than_the_data_is_a_clear_error():
    with pytest.raises(UvlError, match=r"noisy: the train stream's batch of 512 is larger than its 200 images"):
        train(Noisy(), params=PARAMS.model_copy(update={"batch_size": 512}))
