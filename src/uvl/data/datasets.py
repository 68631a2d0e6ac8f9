"""Datasets in one schema, prepared once and verified on every load.

A dataset is a folder `data/prepared/<name>/` holding `arrays.npz` (uint8 `train_images`, `test_images` of
shape (N, H, W) or (N, H, W, C), and uint8 `train_labels`, `test_labels`) and `checksums.json` (the SHA-256
of each array's bytes, with its dtype and shape). `prepare` verifies the source (MNIST against the official
files' MD5, digits8 against scikit-learn's bundled arrays) and writes both; `load` checks every array
against its checksum, so a damaged or hand-edited file stops the stage with its name. Where each dataset
comes from, and how it is verified before it is written, is uvl.data.sources'.

    mnist    the official 60,000 / 10,000 split (uvl.data.mnist; params data.source picks where from)
    digits8  scikit-learn's 8x8 digits in MNIST's 28x28 frame, a fixed seeded 1,437 / 360 split (uvl.data.digits)
"""

from __future__ import annotations

import hashlib
import json
import typing
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from uvl.errors import UvlError
from uvl.params import DatasetName

PREPARED = Path("data/prepared")
ARRAYS = ("train_images", "train_labels", "test_images", "test_labels")
NAMES = typing.get_args(DatasetName)  # uvl.data.sources makes each


def folder(name: str) -> Path:
    return PREPARED / name


def checksums(arrays: dict[str, np.ndarray]) -> dict[str, dict]:
    return {key: {"sha256": hashlib.sha256(np.ascontiguousarray(arrays[key]).tobytes()).hexdigest(),
                  "dtype": str(arrays[key].dtype), "shape": list(arrays[key].shape)} for key in ARRAYS}


def check_schema(name: str, arrays: dict[str, np.ndarray]) -> None:
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.dtype != np.uint8 or labels.dtype != np.uint8 or images.ndim not in (3, 4) \
                or labels.shape != images.shape[:1]:
            raise UvlError(f"{name}: {split} arrays break the schema (images {images.dtype} {images.shape}, "
                           f"labels {labels.dtype} {labels.shape}; want uint8 (N, H, W[, C]) and (N,))")


@dataclass(frozen=True)
class Dataset:
    name: str
    train_images: np.ndarray  # (N, H, W[, C]) uint8
    train_labels: np.ndarray  # (N,) int64
    test_images: np.ndarray
    test_labels: np.ndarray
    digest: str  # SHA-256 of the checksums file and the limits: names these exact arrays (MLflow's dataset digest)

    @property
    def n_train(self) -> int:
        return len(self.train_labels)


def load(name: str, train_limit: int | None = None, test_limit: int | None = None) -> Dataset:
    """Dataset `name`, verified, keeping the first `train_limit` / `test_limit` images of each split."""
    path = folder(name)
    try:
        expected_text = (path / "checksums.json").read_text()
        expected = json.loads(expected_text)
        with zipfile.ZipFile(path / "arrays.npz") as archive:  # np.load stops before a member's end, where its CRC is checked
            if (bad := archive.testzip()) is not None:
                raise ValueError(f"CRC mismatch in {bad}")
        with np.load(path / "arrays.npz") as npz:
            arrays = {key: npz[key] for key in ARRAYS}
    except FileNotFoundError:
        raise UvlError(f"{path}: not prepared; run `dvc repro prepare-{name}`") from None
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile, zlib.error) as err:
        raise UvlError(f"{path}: corrupted, cannot be read ({err}); run `dvc repro -f prepare-{name}`") from None
    found = checksums(arrays)
    for key in ARRAYS:
        if found[key] != expected.get(key):
            raise UvlError(f"{path / 'arrays.npz'}: {key} does not match checksums.json; "
                           f"run `dvc repro -f prepare-{name}`")
    train, test = slice(train_limit), slice(test_limit)
    limits = "" if train_limit is None and test_limit is None else f"first {train_limit} / {test_limit}"
    return Dataset(name=name, train_images=arrays["train_images"][train],
                   train_labels=arrays["train_labels"][train].astype(np.int64),
                   test_images=arrays["test_images"][test], test_labels=arrays["test_labels"][test].astype(np.int64),
                   digest=hashlib.sha256((expected_text + limits).encode()).hexdigest())
