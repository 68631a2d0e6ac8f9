"""The pretext tasks' inputs: rotation's turns, checked pixel by pixel, and inpainting's holes."""

import pytest
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


def test_inpainting_holes_are_one_square_each_and_the_loss_sees_only_them():
    inpainting = methods.get("inpainting")
    torch.manual_seed(0)
    holes = inpainting.random_holes(50, 28, 14)
    assert holes.shape == (50, 1, 28, 28) and (holes.sum(dim=(1, 2, 3)) == 14 * 14).all()
    rows, columns = holes.any(dim=3)[:, 0], holes.any(dim=2)[:, 0]  # (50, 28): which rows and columns
    assert (rows.sum(dim=1) == 14).all() and (columns.sum(dim=1) == 14).all()  # one contiguous square
    two = inpainting.random_holes(2, 28, 14)
    predicted = torch.where(two, 0.5, 5.0)  # off by 0.5 inside the holes, by 5 outside them
    assert inpainting.hole_loss(predicted, torch.zeros(2, 1, 28, 28), two).item() == pytest.approx(0.25)
