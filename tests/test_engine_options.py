"""engine.channels_last and engine.compile change how the step runs, not what it computes."""

import numpy as np
import pytest
import torch
import yaml
from conftest import ROOT, cpu_engine

from uvl import methods
from uvl import params as uvl_params
from uvl.data.protocol import View
from uvl.engine import fit
from uvl.tracking import Run

IMAGES = np.random.default_rng(0).integers(0, 256, (192, 28, 28), dtype=np.uint8)
VIEWS = {"train": View(IMAGES, None, np.arange(len(IMAGES)))}  # the clustering task's view


def train(name: str, **engine):
    module = methods.get(name)
    section = yaml.safe_load((ROOT / "params.yaml").read_text())[name] | {"epochs": 2, "batch_size": 64}
    if name == "moco":
        section["queue_size"] = 128
    if name == "ae":  # compiled code draws its random numbers its own way, so the masks would differ
        section["corruption"] = 0.0
    params = uvl_params.validate_section(name, section, module.Params)
    torch.manual_seed(0)
    model = module.build(params)
    history = fit(name, model, VIEWS, params, cpu_engine(10**6, **engine), f"fp-{engine}", Run())
    return model, history


def assert_same_training(a, b):
    (model_a, history_a), (model_b, history_b) = a, b
    for key in history_a:
        np.testing.assert_allclose(history_b[key], history_a[key], rtol=1e-4, err_msg=key)
    for key, value in model_a.state_dict().items():
        torch.testing.assert_close(model_b.state_dict()[key], value, rtol=1e-3, atol=1e-5)


def test_channels_last_trains_moco_like_the_default_layout():
    contiguous = train("moco", channels_last=False)
    channels_last = train("moco", channels_last=True)
    assert channels_last[0].query_encoder[0][0].weight.is_contiguous(memory_format=torch.channels_last)
    assert_same_training(contiguous, channels_last)


@pytest.mark.slow  # inductor compiles C++ for the CPU: tens of seconds
def test_compiled_training_step_trains_like_the_eager_one():
    assert_same_training(train("ae", compile=False), train("ae", compile=True))
