"""Where each dataset comes from: its arrays read, verified against their source's checksums and written in
the schema of uvl.data.datasets (the prepare stage).

    mnist    the official files' bytes (uvl.data.mnist; params data.source: the offline package, a download, a folder)
    digits8  scikit-learn's bundled 8x8 digits in MNIST's frame (uvl.data.digits)
"""

from __future__ import annotations

import json

import numpy as np

from uvl.data.datasets import ARRAYS, PREPARED, check_schema, checksums, folder
from uvl.errors import UvlError
from uvl.io import atomic_dir, save_npz


def source_arrays(name: str, mnist_source: str) -> dict[str, np.ndarray]:
    """The verified arrays of dataset `name`; mnist_source: params data.source."""
    from uvl.data import digits, mnist

    if name == "mnist":
        return mnist.arrays(mnist_source, PREPARED.parent / "raw")
    if name == "digits8":
        return digits.arrays()
    raise UvlError(f"unknown dataset '{name}'")


def prepare(name: str, mnist_source: str) -> None:
    write(name, source_arrays(name, mnist_source))


def write(name: str, arrays: dict[str, np.ndarray]) -> None:
    """data/prepared/<name>/ in the schema, whole or not at all."""
    check_schema(name, arrays)
    with atomic_dir(folder(name)) as out:
        save_npz(out / "arrays.npz", **{key: arrays[key] for key in ARRAYS})
        (out / "checksums.json").write_text(json.dumps(checksums(arrays), indent=2) + "\n")


