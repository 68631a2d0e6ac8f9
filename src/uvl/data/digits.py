"""scikit-learn's bundled UCI 8x8 handwritten digits, brought into MNIST's frame: a second, offline digit domain.

MNIST digits fill a 20x20 box centred in a 28x28 frame, with 0..255 intensities; these 8x8 images (0..16)
are resized to 20x20 and padded by 4 pixels on every side to match.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from uvl.io import save_npz


def mnist_like_digits() -> tuple[np.ndarray, np.ndarray]:
    import torch
    from sklearn.datasets import load_digits
    from torchvision.transforms.v2 import functional as TF

    digits = load_digits()
    images = torch.from_numpy(digits.images).float().unsqueeze(1) / 16.0  # (1797, 1, 8, 8) in [0, 1]
    images = TF.resize(images, [20, 20], interpolation=TF.InterpolationMode.BILINEAR, antialias=True)
    images = TF.pad(images, [4])  # (1797, 1, 28, 28)
    images = (images.clamp(0, 1) * 255).round().to(torch.uint8).squeeze(1).numpy()
    return images, digits.target.astype(np.uint8)


def prepare(out: Path) -> None:
    images, labels = mnist_like_digits()
    save_npz(out, images=images, labels=labels)
