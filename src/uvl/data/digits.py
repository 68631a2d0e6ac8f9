"""digits8: scikit-learn's bundled UCI 8x8 handwritten digits, brought into MNIST's frame; a second, offline
digit domain.

MNIST digits fill a 20x20 box centred in a 28x28 frame, with 0..255 intensities; these 8x8 images (0..16)
are resized to 20x20 and padded by 4 pixels on every side to match. The 1,797 images have no official
split: a fixed stratified draw (seed 0, not a param, so every run sees the same one) keeps 360 for testing.
The bundled arrays are checked against their SHA-256 before anything is made of them.
"""

from __future__ import annotations

import hashlib

import numpy as np

from uvl.errors import UvlError

SOURCE_SHA256 = {  # of scikit-learn 1.9's load_digits(): images as uint8 0..16, targets as uint8
    "images": "8f26b2bd9d135c256808f68f14fdabddde6d9c7f869ae419704b051f0f14b3b3",
    "target": "8ba4f891220f5e4c9c819638d1602d74b83618f167043c6da52a2a247841ddf0",
}
N_TEST = 360  # 20% of 1,797
SPLIT_SEED = 0


def bundled() -> tuple[np.ndarray, np.ndarray]:
    """(1797, 8, 8) uint8 in 0..16 and (1797,) uint8 labels, verified."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    arrays = {"images": digits.images.astype(np.uint8), "target": digits.target.astype(np.uint8)}
    for key, array in arrays.items():
        digest = hashlib.sha256(array.tobytes()).hexdigest()
        if digest != SOURCE_SHA256[key]:
            raise UvlError(f"digits8: scikit-learn's load_digits() {key} have SHA-256 {digest}, "
                           f"expected {SOURCE_SHA256[key]}")
    return arrays["images"], arrays["target"]


def mnist_frame(images: np.ndarray) -> np.ndarray:
    """(N, 8, 8) in 0..16 -> (N, 28, 28) uint8 in 0..255, the digit in the centred 20x20 box."""
    import torch
    from torchvision.transforms.v2 import functional as TF

    frames = torch.from_numpy(images).float().unsqueeze(1) / 16.0  # (N, 1, 8, 8) in [0, 1]
    frames = TF.resize(frames, [20, 20], interpolation=TF.InterpolationMode.BILINEAR, antialias=True)
    frames = TF.pad(frames, [4])  # (N, 1, 28, 28)
    return (frames.clamp(0, 1) * 255).round().to(torch.uint8).squeeze(1).numpy()


def arrays() -> dict[str, np.ndarray]:
    """The dataset schema's four arrays (uvl.data.datasets)."""
    from sklearn.model_selection import train_test_split

    images, labels = bundled()
    train, test = train_test_split(np.arange(len(labels)), test_size=N_TEST, stratify=labels,
                                   random_state=SPLIT_SEED)
    framed = mnist_frame(images)
    return {"train_images": framed[np.sort(train)], "train_labels": labels[np.sort(train)],
            "test_images": framed[np.sort(test)], "test_labels": labels[np.sort(test)]}
