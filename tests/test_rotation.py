"""Rotation prediction's labels: which image is turned how, checked pixel by pixel."""

import torch
import yaml
from conftest import ROOT

from uvl import methods
from uvl import params as uvl_params
from uvl.engine import Batch

ROTATION = methods.get("rotation")
SECTION = yaml.safe_load((ROOT / "params.yaml").read_text())["rotation"]


def test_each_image_comes_in_four_turns_labelled_by_the_number_of_quarter_turns():
    image = torch.zeros(1, 1, 3, 3)
    image[0, 0, 0, 2] = 1.0  # top right
    other = torch.zeros(1, 1, 3, 3)
    images, turns = ROTATION.rotated(torch.cat([image, other]))
    assert images.shape == (8, 1, 3, 3)
    assert turns.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    # counter-clockwise: top right -> top left -> bottom left -> bottom right
    corners = [(0, 2), (0, 0), (2, 0), (2, 2)]
    for k, (row, column) in enumerate(corners):
        assert images[2 * k, 0, row, column] == 1.0 and images[2 * k].sum() == 1.0
        assert images[2 * k + 1].sum() == 0.0


def test_the_step_classifies_four_turns_of_every_image():
    params = uvl_params.validate_section("rotation", SECTION, ROTATION.Params)
    torch.manual_seed(0)
    model = ROTATION.build(params)
    loss, scalars = model.training_step(train=Batch(torch.rand(5, 1, 28, 28), None, torch.arange(5)))
    assert abs(loss.item() - torch.log(torch.tensor(4.0)).item()) < 0.2  # about chance at the start
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    assert 0 <= scalars["rotation_acc"].item() <= 1
