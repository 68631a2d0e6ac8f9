"""Batch augmentation: one transform per image, values in range, images stay with their labels; masking
noise."""

import pytest
import torch

from uvl.data.augment import AugmentParams, mask_pixels, random_affine, random_affine_matrices, warp
from uvl.engine import as_batch

DIGIT_AUGMENT = AugmentParams(degrees=20, translate=0.15, scale=[0.7, 1.2], shear=15)


def test_each_image_gets_its_own_transform():
    torch.manual_seed(0)
    matrices = random_affine_matrices(256, DIGIT_AUGMENT)  # (256, 2, 3)
    assert matrices.shape == (256, 2, 3)
    assert len(torch.unique(matrices.flatten(1), dim=0)) == 256


def test_parameters_stay_within_their_ranges():
    torch.manual_seed(0)
    params = AugmentParams(degrees=0, translate=0.1, scale=[0.9, 1.1], shear=0)
    matrices = random_affine_matrices(10_000, params)
    zoom = matrices[:, 0, 0]  # no rotation or shear: the diagonal is the zoom
    assert zoom.min() >= 0.9 and zoom.max() <= 1.1
    assert matrices[:, :, 2].abs().max() <= 0.2  # 0.1 of the width, which is 2 in normalised units


def test_identity_parameters_leave_images_unchanged():
    images = torch.rand(8, 1, 28, 28)
    identity = AugmentParams(degrees=0, translate=0, scale=[1, 1], shear=0)
    assert torch.allclose(random_affine(images, identity), images, atol=1e-5)


def test_a_shift_moves_the_pixel_where_expected():
    image = torch.zeros(1, 1, 28, 28)
    image[0, 0, 14, 10] = 1.0
    shift_right_7 = torch.tensor([[[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]]])  # 0.5 of the normalised width = 7 pixels
    moved = warp(image, shift_right_7)
    assert divmod(int(moved.flatten().argmax()), 28) == (14, 17)


def test_values_stay_in_range(mnist_arrays):
    images = as_batch(torch.from_numpy(mnist_arrays["test_images"][:512]))  # (512, 1, 28, 28)
    torch.manual_seed(0)
    views = random_affine(images, DIGIT_AUGMENT)
    assert views.shape == images.shape and views.min() >= 0 and views.max() <= 1
    assert 0.8 < views.mean() / images.mean() < 1.2  # digits are moved, not erased


def test_images_stay_in_their_batch_position():
    """Image i is a constant field of value i/511: whatever its transform, the centre of view i still reads
    i/511 (the centre maps inside the source image), so a mix-up of batch positions would show."""
    values = torch.arange(512, dtype=torch.float32) / 511
    images = values.view(512, 1, 1, 1).expand(512, 1, 28, 28).contiguous()
    torch.manual_seed(0)
    views = random_affine(images, DIGIT_AUGMENT)
    assert torch.allclose(views[:, 0, 13:15, 13:15].mean(dim=(1, 2)), values, atol=1e-5)


def test_same_global_seed_same_views():
    images = torch.rand(16, 1, 28, 28)
    torch.manual_seed(3)
    first = random_affine(images, DIGIT_AUGMENT)
    torch.manual_seed(3)
    assert torch.equal(first, random_affine(images, DIGIT_AUGMENT))


@pytest.mark.parametrize("scale", [[1.2, 0.8], [0.0, 1.0]])
def test_bad_scale_range_is_refused(scale):
    with pytest.raises(ValueError, match="needs 0 < min <= max"):
        AugmentParams(degrees=0, translate=0, scale=scale, shear=0)


def test_masking_noise_zeroes_about_its_fraction_and_leaves_the_rest_unchanged():
    torch.manual_seed(0)
    images = torch.rand(64, 1, 28, 28) + 0.5  # no pixel is 0 before masking
    masked = mask_pixels(images, 0.2)
    zeroed = masked == 0
    assert 0.19 < zeroed.float().mean().item() < 0.21
    assert torch.equal(masked[~zeroed], images[~zeroed])  # kept pixels are not rescaled
    assert torch.equal(mask_pixels(images, 0.0), images)
