"""The puzzles of tile-based pretext tasks (relative patch position, jigsaw, PIRL): an image cut into a
grid of tiles, each scaled back up to the encoder's input size, and the jigsaw's set of permutations."""

from __future__ import annotations

import itertools

import numpy as np
import torch
import torch.nn.functional as F

GRID = 3  # tiles per side


def tiles(images: torch.Tensor, gap: int = 1) -> torch.Tensor:
    """images (B, C, H, W) -> (B, GRID², C, H, W): a GRID x GRID grid of square tiles in row-major order,
    `gap` pixels apart (so that no tile's edge continues into its neighbour's, the paper's guard against
    trivial solutions), each scaled back to H x W for the encoder."""
    size = images.shape[-1]
    tile = (size - (GRID - 1) * gap) // GRID
    starts = [k * (tile + gap) for k in range(GRID)]
    cut = torch.stack([images[:, :, top:top + tile, left:left + tile] for top in starts for left in starts], dim=1)
    batch, count, channels = cut.shape[:3]
    scaled = F.interpolate(cut.reshape(batch * count, channels, tile, tile), size=images.shape[-2:],
                           mode="bilinear", align_corners=False)
    return scaled.view(batch, count, channels, *images.shape[-2:])


def jigsaw_permutations(count: int, seed: int) -> np.ndarray:
    """(count, GRID²) permutations of the tiles, chosen greedily so that each is as far as possible, in
    Hamming distance, from those chosen before it (Noroozi & Favaro's maximal set), starting from a seeded
    random one; row 0 is not the identity unless drawn."""
    every = np.array(list(itertools.permutations(range(GRID * GRID))), dtype=np.int8)  # 9! rows
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(len(every)))]
    distance = (every != every[chosen[0]]).sum(axis=1)  # to the nearest chosen permutation
    for _ in range(count - 1):
        chosen.append(int(distance.argmax()))  # the first of the farthest
        distance = np.minimum(distance, (every != every[chosen[-1]]).sum(axis=1))
    return every[chosen].astype(np.int64)
