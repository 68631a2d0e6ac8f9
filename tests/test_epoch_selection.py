"""The engine's epoch selection: a method that selects its epoch on validation is scored on the task's
validation view after every epoch and ends at its best epoch, also when the run was interrupted."""

import numpy as np
import pytest
import torch
from conftest import cpu_engine

from uvl.data.protocol import View
from uvl.engine import Batch, Method, fit
from uvl.errors import UvlError
from uvl.params import TrainParams
from uvl.tracking import Run

ENGINE = cpu_engine(checkpoint_every=3)
PARAMS = TrainParams(epochs=3, batch_size=4, lr=1e-2, lr_schedule="constant", weight_decay=0.0,
                     precision="fp32", seed=3)
STEPS_PER_EPOCH = 5
TRAIN = View(np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8), np.zeros(20, dtype=np.int64),
             np.arange(20))
# four validation images of class 0 whose first pixel is 0, 64, 128 and 192: a threshold on it decides how
# many of them the model calls 0
VALIDATION = View(np.zeros((4, 28, 28), dtype=np.uint8), np.zeros(4, dtype=np.int64), np.arange(4))
VALIDATION.images[:, 0, 0] = [0, 64, 128, 192]
THRESHOLDS = [0.3, 1.0, 0.6]  # by epoch: 2, 4 and 3 of the 4 right
ACCURACIES = [0.5, 1.0, 0.75]


class Scheduled(Method):
    """Trains a linear layer (so that the weights differ by epoch) and classifies the validation images by a
    threshold that depends on the epoch it has reached."""

    select_epoch_on_validation = True

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.layer = torch.nn.Linear(784, 2)
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.int64))

    def training_step(self, train: Batch):
        return torch.nn.functional.cross_entropy(self.layer(train.images.flatten(1)), train.labels), {}

    def after_step(self):
        self.steps_done += 1

    def classify(self, images):
        threshold = THRESHOLDS[(int(self.steps_done) - 1) // STEPS_PER_EPOCH]
        is_zero = images[:, 0, 0, 0] < threshold
        return torch.stack([is_zero.float(), (~is_zero).float()], dim=1)


def train(model, fp, until_epoch=None):
    return fit("selection", model, {"train": TRAIN, "validation": VALIDATION}, PARAMS, ENGINE, fp, Run(),
               until_epoch=until_epoch)


def test_ends_at_the_epoch_of_best_validation_accuracy():
    model = Scheduled()
    history = train(model, "full")
    assert history["epoch_validation_accuracy"] == ACCURACIES
    assert int(model.steps_done) == 2 * STEPS_PER_EPOCH, "the model is the one after epoch 1, the best"
    after_two_epochs = Scheduled()
    train(after_two_epochs, "two", until_epoch=2)  # stops there and keeps its weights
    assert torch.equal(model.layer.weight, after_two_epochs.layer.weight)


def test_an_interrupted_run_keeps_its_best_epoch():
    uninterrupted = Scheduled()
    train(uninterrupted, "uninterrupted")
    interrupted = Scheduled()
    train(interrupted, "interrupted", until_epoch=2)  # the best epoch is behind it when it resumes
    resumed = Scheduled()
    history = train(resumed, "interrupted")
    assert history["epoch_validation_accuracy"] == ACCURACIES
    assert torch.equal(resumed.layer.weight, uninterrupted.layer.weight)
    assert int(resumed.steps_done) == 2 * STEPS_PER_EPOCH


def test_selecting_needs_a_validation_view():
    with pytest.raises(UvlError, match="validation view"):
        fit("selection", Scheduled(), {"train": TRAIN}, PARAMS, ENGINE, "none", Run())
