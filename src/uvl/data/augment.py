"""Batch augmentation with tensor ops: one random affine transform per image, one `grid_sample` per batch;
masking noise for the denoising autoencoders.

torchvision's batched transforms draw one random transform for the whole batch (pytorch/vision#8484);
contrastive learning needs a different one per image, so the per-image parameters are drawn here as tensors
and turned into sampling grids with `affine_grid`. No PIL, no per-sample Python. Randomness comes from the
global RNG, which the engine reseeds from (seed, step), so a given step always sees the same views.
No flips and no colour jitter: digits are neither mirror-invariant nor coloured.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field, NonNegativeFloat, field_validator

from uvl.params import Section


class AugmentParams(Section):
    degrees: NonNegativeFloat = Field(le=180)  # rotation drawn from U(-degrees, degrees)
    translate: NonNegativeFloat = Field(le=0.5)  # shift drawn from U(-t, t) times the image size, per axis
    scale: list[float] = Field(min_length=2, max_length=2)  # [min, max]: zoom drawn from U(min, max); > 1 enlarges
    shear: NonNegativeFloat = Field(lt=90)  # x-shear angle drawn from U(-shear, shear), degrees

    @field_validator("scale")
    @classmethod
    def _ordered_positive(cls, scale):
        if not 0 < scale[0] <= scale[1]:
            raise ValueError(f"needs 0 < min <= max (got {list(scale)})")
        return scale


def _uniform(n: int, low: float, high: float, device) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, device=device)


def random_affine_matrices(n: int, params: AugmentParams, device=None) -> torch.Tensor:
    """(n, 2, 3) forward transforms A·x + t in normalised coordinates ([-1, 1] across the image)."""
    angle = torch.deg2rad(_uniform(n, -params.degrees, params.degrees, device))
    shear = torch.tan(torch.deg2rad(_uniform(n, -params.shear, params.shear, device)))
    zoom = _uniform(n, *params.scale, device)
    shift = _uniform(2 * n, -2 * params.translate, 2 * params.translate, device).view(n, 2)  # image width = 2
    cos, sin = torch.cos(angle), torch.sin(angle)
    # A = zoom · R(angle) · [[1, shear], [0, 1]]
    matrix = torch.stack([
        torch.stack([cos, cos * shear - sin], dim=1),
        torch.stack([sin, sin * shear + cos], dim=1),
    ], dim=1) * zoom.view(n, 1, 1)  # (n, 2, 2)
    return torch.cat([matrix, shift.unsqueeze(2)], dim=2)  # (n, 2, 3)


def warp(images: torch.Tensor, forward: torch.Tensor) -> torch.Tensor:
    """Apply per-image forward affine maps (n, 2, 3) to images (n, C, H, W); pixels from outside are 0."""
    # affine_grid maps output coordinates to input coordinates, i.e. the inverse map: x = A⁻¹(y − t)
    inverse = torch.linalg.inv(forward[:, :, :2])  # (n, 2, 2)
    theta = torch.cat([inverse, -inverse @ forward[:, :, 2:]], dim=2)  # (n, 2, 3)
    grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_affine(images: torch.Tensor, params: AugmentParams) -> torch.Tensor:
    """images: (B, 1, H, W) float -> the same shape, each image under its own random affine transform."""
    return warp(images, random_affine_matrices(len(images), params, images.device))


def mask_pixels(images: torch.Tensor, fraction: float) -> torch.Tensor:
    """Masking noise (Vincent et al. 2008): each value of `images` set to 0 with probability `fraction`,
    the others unchanged (not rescaled, unlike dropout: the encoder sees pixels of the usual intensity)."""
    if fraction == 0:  # a plain autoencoder: no random draw and no copy in its training step
        return images
    return images * (torch.rand_like(images) >= fraction)
