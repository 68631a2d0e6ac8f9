"""The engine's batch streams: a method that trains on several views takes a batch of each per step; each
stream follows its own seeded permutations, a resumed run continues every stream exactly, and a method of
one stream draws the batches and random numbers of the releases before streams."""

import os
import signal
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from conftest import cpu_engine

from uvl.data.protocol import View
from uvl.engine import Batch, Method, as_batch, checkpoint_dir, derive_seed, fit
from uvl.errors import UvlError
from uvl.params import TrainParams
from uvl.tracking import Run

ENGINE = cpu_engine(checkpoint_every=2)
PARAMS = TrainParams(epochs=3, batch_size=8, lr=1e-2, lr_schedule="cosine", weight_decay=0.0,
                     precision="fp32", seed=7)
RNG = np.random.default_rng(0)
# a: 40 images without labels, 5 batches of 8 an epoch; b: 14 labelled ones, 3 batches of 4 a cycle (2
# images left over each cycle), so the 15 steps of 3 epochs are 5 cycles of b. Each label is another
# number, so that a label that left its image shows. A view's `indices` are rows of a training split; a
# batch's indices are rows of the view.
A = View(RNG.integers(0, 256, (40, 28, 28), dtype=np.uint8), None, np.arange(100, 140))
B = View(RNG.integers(0, 256, (14, 28, 28), dtype=np.uint8), RNG.permutation(14) + 20, np.arange(500, 514))
STEPS_PER_EPOCH, STEPS_PER_CYCLE, STEPS = 5, 3, 15


@dataclass
class Step:
    """What one training step received: each stream's indices and labels, and the global RNG's state."""

    batches: dict[str, tuple[tuple[int, ...], tuple[int, ...] | None]]
    seed: int  # torch.initial_seed(): what the global RNG was last seeded with
    draw: tuple[float, ...]  # the step's first draws from it
    images: dict[str, torch.Tensor] = field(compare=False)


class Recorder(Method):
    """A tiny model whose loss reads every stream and the global RNG (as augmentation does), and that records
    what each step received. `streams`: its batch sizes by view; None: the default (the first view, at
    params.batch_size)."""

    def __init__(self, streams: dict[str, int] | None = None, sigterm_at_call: int | None = None):
        super().__init__()
        torch.manual_seed(0)
        self.layer = torch.nn.Linear(784, 4)
        self.streams, self.sigterm_at_call, self.steps = streams, sigterm_at_call, []

    def batch_sizes(self, params, views):
        return super().batch_sizes(params, views) if self.streams is None else dict(self.streams)

    def training_step(self, **batches: Batch):
        seed, draw = torch.initial_seed(), torch.rand(3)
        self.steps.append(Step(
            {name: (tuple(batch.indices.tolist()), None if batch.labels is None else tuple(batch.labels.tolist()))
             for name, batch in batches.items()},
            seed, tuple(draw.tolist()), {name: batch.images.clone() for name, batch in batches.items()}))
        if len(self.steps) == self.sigterm_at_call:
            os.kill(os.getpid(), signal.SIGTERM)
        loss = sum(self.layer((batch.images + 0.1 * torch.rand_like(batch.images)).flatten(1)).pow(2).mean()
                   for batch in batches.values())
        return loss, {"draw": draw.mean()}


def two_streams(**kwargs) -> Recorder:
    return Recorder({"a": 8, "b": 4}, **kwargs)


def train(model: Recorder, views=None, fp="fp", params=PARAMS) -> dict[str, list[float]]:
    return fit("streams", model, views or {"a": A, "b": B}, params, ENGINE, fp, Run())


def permutation(n: int, seed: int) -> list[int]:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()


def indices(steps: list[Step], stream: str) -> list[int]:
    return [i for step in steps for i in step.batches[stream][0]]


def cycles(steps: list[Step], stream: str, steps_per_cycle: int) -> list[list[int]]:
    """The stream's indices, one list per pass through its permutation."""
    flat, size = indices(steps, stream), steps_per_cycle * len(steps[0].batches[stream][0])
    return [flat[start:start + size] for start in range(0, len(flat), size)]


def states_equal(a, b) -> bool:
    return all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_each_step_takes_a_batch_of_every_stream_with_its_labels_and_images():
    model = two_streams()
    train(model)
    assert len(model.steps) == STEPS  # the first stream counts the epochs: 3 x 40 // 8
    for step in model.steps:
        (a_indices, a_labels), (b_indices, b_labels) = step.batches["a"], step.batches["b"]
        assert len(a_indices) == 8 and len(b_indices) == 4
        assert a_labels is None  # a stream without labels gets none
        assert b_labels == tuple(B.labels[list(b_indices)].tolist())  # labels travel with their images
        for name, view in (("a", A), ("b", B)):
            rows = list(step.batches[name][0])
            assert torch.equal(step.images[name], as_batch(torch.from_numpy(view.images[rows])))


def test_the_streams_permute_independently_and_deterministically():
    model, again = two_streams(), two_streams()
    train(model, fp="first")
    train(again, fp="second")
    assert model.steps == again.steps  # the same seed: the same batches of both streams, the same draws

    # a: each epoch a new permutation of all its images; the same as if it were the only stream
    epochs = cycles(model.steps, "a", STEPS_PER_EPOCH)
    assert len(epochs) == 3 and all(sorted(epoch) == list(range(40)) for epoch in epochs)
    assert len({tuple(epoch) for epoch in epochs}) == 3
    alone = Recorder({"a": 8})
    train(alone, views={"a": A}, fp="alone")
    assert indices(alone.steps, "a") == indices(model.steps, "a")

    # b: cycles through its 14 images as often as a's epochs need, each cycle a new permutation that
    # covers each of its 12 usable images (3 batches of 4) exactly once
    passes = cycles(model.steps, "b", STEPS_PER_CYCLE)
    assert len(passes) == 5
    for k, cycle in enumerate(passes):
        assert len(cycle) == len(set(cycle)) == 12 and set(cycle) <= set(range(14))
        # its own permutation, not a's: neither a's seed nor the order of a's epoch that it starts in
        assert cycle != permutation(14, derive_seed(PARAMS.seed, k))[:12]
        assert cycle != [i for i in epochs[k * STEPS_PER_CYCLE // STEPS_PER_EPOCH] if i < 14][:12]
    assert len({tuple(cycle) for cycle in passes}) == 5
    # ... and independent of a's: with 8 more images in a (6 steps an epoch, 18 steps, 6 cycles of b),
    # b's first 5 cycles are the same
    wider = View(np.concatenate([A.images, A.images[:8]]), None, np.arange(48))
    other = two_streams()
    train(other, views={"a": wider, "b": B}, fp="wider")
    assert cycles(other.steps, "b", STEPS_PER_CYCLE)[:5] == passes

    # another seed: other batches in both streams
    reseeded = two_streams()
    train(reseeded, fp="reseeded", params=PARAMS.model_copy(update={"seed": 8}))
    assert indices(reseeded.steps, "a") != indices(model.steps, "a")
    assert indices(reseeded.steps, "b") != indices(model.steps, "b")


def test_the_global_rng_is_seeded_from_the_first_streams_epoch_and_position():
    model = two_streams()
    train(model)
    for step_number, step in enumerate(model.steps):
        epoch, position = divmod(step_number, STEPS_PER_EPOCH)
        seed = derive_seed(PARAMS.seed, epoch, position)
        assert step.seed == seed
        assert step.draw == tuple(torch.rand(3, generator=torch.Generator().manual_seed(seed)).tolist())


# stopped at step: 3, in a's first epoch at b's cycle boundary; 5, at a's epoch boundary in b's second cycle;
# 7, inside both
@pytest.mark.parametrize("sigterm_at_call", [3, 5, 7])
def test_a_resumed_run_continues_both_streams_exactly(sigterm_at_call, capsys):
    reference = two_streams()
    expected = train(reference, fp="reference")

    interrupted = two_streams(sigterm_at_call=sigterm_at_call)
    with pytest.raises(UvlError, match=rf"streams: terminated at step {sigterm_at_call}/{STEPS}; checkpoint saved"):
        train(interrupted)
    assert len(interrupted.steps) == sigterm_at_call
    assert [p.name for p in checkpoint_dir().iterdir()] == ["streams-fp.pt"]

    resumed = two_streams()
    assert train(resumed) == expected
    assert f"resuming streams from {checkpoint_dir() / 'streams-fp.pt'} at step {sigterm_at_call}/" in capsys.readouterr().err
    assert interrupted.steps + resumed.steps == reference.steps  # every stream's batches, every draw
    assert states_equal(resumed, reference)
    assert not list(checkpoint_dir().iterdir())


def test_one_stream_draws_the_permutations_and_seeds_of_earlier_releases():
    """A method of one stream (the default `batch_sizes`) trains bit-identically to the releases before
    streams: epoch e's batches are the first whole batches of randperm(N) seeded with derive_seed(seed, e), and
    the global RNG is seeded with derive_seed(seed, epoch, position) before each step."""
    images = np.random.default_rng(1).integers(0, 256, (200, 28, 28), dtype=np.uint8)
    params = PARAMS.model_copy(update={"batch_size": 32})  # 6 steps an epoch, 8 images left over
    model = Recorder()
    train(model, views={"train": View(images, None, np.arange(200))}, params=params)
    assert len(model.steps) == 3 * 6
    assert all(list(step.batches) == ["train"] and len(step.batches["train"][0]) == 32
               and step.batches["train"][1] is None for step in model.steps)
    for epoch, order in enumerate(cycles(model.steps, "train", 6)):
        assert order == permutation(200, derive_seed(params.seed, epoch))[:192]
    for step_number, step in enumerate(model.steps):
        seed = derive_seed(params.seed, *divmod(step_number, 6))
        assert step.seed == seed
        assert step.draw == tuple(torch.rand(3, generator=torch.Generator().manual_seed(seed)).tolist())


def test_a_stream_smaller_than_its_batch_is_a_clear_error():
    few = View(B.images[:3], B.labels[:3], B.indices[:3])
    with pytest.raises(UvlError, match=r"streams: the b stream's batch of 4 is larger than its 3 images"):
        train(two_streams(), views={"a": A, "b": few})
