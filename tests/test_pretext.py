"""The pretext tasks' inputs: rotation's turns, checked pixel by pixel, and inpainting's holes."""

import pytest
import torch
import yaml
from conftest import ROOT

from uvl import methods
from uvl import params as uvl_params
from uvl.engine import Batch, Stream

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


def numbered_tiles_image():
    """A 1 x 1 x 28 x 28 image whose tile k (row-major, 8 x 8, 1 pixel apart) is filled with the value k."""
    image = torch.full((1, 1, 28, 28), -1.0)
    for k in range(9):
        top, left = 9 * (k // 3), 9 * (k % 3)
        image[0, 0, top:top + 8, left:left + 8] = float(k)
    return image


def test_tiles_are_the_grid_in_row_major_order_scaled_to_the_input_size():
    from uvl.data.puzzles import tiles

    grid = tiles(numbered_tiles_image())
    assert grid.shape == (1, 9, 1, 28, 28)
    assert all(torch.allclose(grid[0, k], torch.full((1, 28, 28), float(k))) for k in range(9))


def test_jigsaw_permutations_are_distinct_far_apart_and_seeded():
    from uvl.data.puzzles import jigsaw_permutations

    chosen = jigsaw_permutations(20, seed=0)
    assert chosen.shape == (20, 9) and all(sorted(row) == list(range(9)) for row in chosen.tolist())
    distances = (chosen[:, None, :] != chosen[None, :, :]).sum(axis=2)
    assert distances[~torch.eye(20, dtype=torch.bool).numpy()].min() >= 6  # no two differ by a swap or two
    assert (jigsaw_permutations(20, seed=0) == chosen).all() and not (jigsaw_permutations(20, seed=1) == chosen).all()


def test_jigsaw_label_names_the_permutation_of_the_tiles():
    jigsaw = methods.get("jigsaw")
    permutations = torch.tensor([list(range(9)), [8, 7, 6, 5, 4, 3, 2, 1, 0]])
    torch.manual_seed(0)
    puzzles, labels = jigsaw.shuffled_tiles(numbered_tiles_image().expand(6, 1, 28, 28), permutations)
    for puzzle, label in zip(puzzles, labels.tolist()):
        shown = [round(tile.mean().item()) for tile in puzzle]
        assert shown == permutations[label].tolist()
    assert set(labels.tolist()) == {0, 1}


def test_patch_position_pairs_the_centre_tile_with_the_neighbour_its_label_names():
    patch_position = methods.get("patch_position")
    torch.manual_seed(0)
    centre, neighbour, positions = patch_position.tile_pairs(numbered_tiles_image().expand(16, 1, 28, 28))
    assert torch.allclose(centre, torch.full_like(centre, 4.0))
    expected = torch.tensor(patch_position.NEIGHBOURS)[positions].float()
    assert torch.allclose(neighbour.mean(dim=(1, 2, 3)), expected, atol=1e-5)
    assert positions.min() >= 0 and positions.max() < 8 and len(set(positions.tolist())) > 4


def test_pirl_shuffles_each_images_tiles_on_its_own_and_weighs_its_two_terms():
    pirl = methods.get("pirl")
    torch.manual_seed(0)
    puzzles = pirl.shuffled(numbered_tiles_image().expand(8, 1, 28, 28))
    orders = [[round(tile.mean().item()) for tile in puzzle] for puzzle in puzzles]
    assert all(sorted(order) == list(range(9)) for order in orders) and len({tuple(o) for o in orders}) == 8

    section = yaml.safe_load((ROOT / "params.yaml").read_text())["pirl"]
    params = uvl_params.validate_section("pirl", {**section, "noise_samples": 16, "invariance_weight": 1.0},
                                         pirl.Params)
    model = pirl.build(params)
    model.before_step(0, {"train": Stream(torch.zeros(20, 28, 28, dtype=torch.uint8), None, batch_size=4)})
    loss, scalars = model.training_step(train=Batch(torch.rand(4, 1, 28, 28), None, torch.arange(4)))
    assert loss.item() == pytest.approx(scalars["invariance"].item())  # λ = 1: the shuffled tiles' term alone
    loss.backward()
    assert model.tile_head.weight.grad is not None
