import gzip
import hashlib
import pickle

import numpy as np
import pytest

from uvl.data import datasets, digits, idx, mnist, sources
from uvl.errors import UvlError


def write_idx_folder(folder, arrays, compress=False):
    folder.mkdir(exist_ok=True)
    for name, key in mnist.ARRAY_OF_FILE.items():
        raw = idx.encode(arrays[key])
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw, compresslevel=1))  # level 9 takes seconds
        else:
            (folder / name).write_bytes(raw)


def test_package_source_reproduces_the_official_files(mnist_arrays):
    assert mnist_arrays["train_images"].shape == (60000, 28, 28)
    assert mnist_arrays["test_images"].shape == (10000, 28, 28)
    for name, key in mnist.ARRAY_OF_FILE.items():
        assert hashlib.md5(idx.encode(mnist_arrays[key])).hexdigest() == mnist.OFFICIAL_MD5[name]
    mnist.verify(mnist_arrays, "package")


def test_idx_round_trip():
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(idx.decode(idx.encode(array), "x"), array)
    with pytest.raises(UvlError, match="truncated"):
        idx.decode(idx.encode(array)[:-1], "x")


@pytest.mark.parametrize("compress", [False, True])
def test_idx_folder_source_verifies(tmp_path, mnist_arrays, compress):
    write_idx_folder(tmp_path / "idx", mnist_arrays, compress)
    arrays = mnist.read_source(str(tmp_path / "idx"), tmp_path / "raw")
    mnist.verify(arrays, "folder")


def test_one_flipped_byte_is_a_clear_error_and_nothing_is_written(tmp_path, mnist_arrays, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "idx"
    write_idx_folder(folder, mnist_arrays)
    raw = bytearray((folder / "t10k-images-idx3-ubyte").read_bytes())
    raw[5000] ^= 0x01
    (folder / "t10k-images-idx3-ubyte").write_bytes(bytes(raw))
    with pytest.raises(UvlError, match=r"integrity check failed for t10k-images-idx3-ubyte"):
        sources.prepare("mnist", str(folder))
    assert not (tmp_path / "data" / "prepared").exists() or not any((tmp_path / "data" / "prepared").iterdir())


def test_corrupted_gzip_is_a_clear_error(tmp_path, mnist_arrays):
    folder = tmp_path / "idx"
    write_idx_folder(folder, mnist_arrays, compress=True)
    path = folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(UvlError, match="train-labels-idx1-ubyte.gz: corrupted"):
        mnist.read_source(str(folder), tmp_path / "raw")


def test_corrupted_package_file_is_a_clear_error(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(mnist.package_file().read_bytes()[:100_000])
    with pytest.raises(UvlError, match="corrupted"):
        mnist.read_package(path)


def test_the_pickle_reader_refuses_anything_but_arrays(tmp_path):
    path = tmp_path / "evil.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(((print, "x"), (1, 2), (3, 4)), f)
    with pytest.raises(UvlError, match="refusing to unpickle builtins.print"):
        mnist.read_package(path)


def test_unknown_source_is_a_clear_error(tmp_path):
    with pytest.raises(UvlError, match="neither 'package', 'torchvision' nor a folder"):
        mnist.read_source("pakage", tmp_path)


@pytest.fixture
def prepared(tmp_path, monkeypatch, mnist_arrays):
    """data/prepared/mnist in a temporary project folder, written by the prepare stage's code."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(mnist, "read_package", lambda: mnist_arrays)
    sources.prepare("mnist", "package")
    return tmp_path / "data" / "prepared" / "mnist"


def test_prepared_dataset_loads_verified_with_limits(prepared, mnist_arrays):
    data = datasets.load("mnist", train_limit=100, test_limit=30)
    assert data.train_images.shape == (100, 28, 28) and data.test_images.shape == (30, 28, 28)
    assert np.array_equal(data.test_labels, mnist_arrays["test_labels"][:30]) and data.test_labels.dtype == np.int64
    assert data.digest != datasets.load("mnist").digest  # the limits are part of what the digest names


def test_preparing_twice_writes_the_same_bytes(prepared):
    """numpy's own npz stamps the time of writing; a rerun of prepare must not change its output's hash."""
    first = hashlib.sha256((prepared / "arrays.npz").read_bytes()).hexdigest()
    sources.prepare("mnist", "package")
    assert hashlib.sha256((prepared / "arrays.npz").read_bytes()).hexdigest() == first


def test_an_array_that_breaks_its_checksum_is_a_clear_error(prepared):
    with np.load(prepared / "arrays.npz") as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays["test_labels"] = arrays["test_labels"].copy()
    arrays["test_labels"][0] = (arrays["test_labels"][0] + 1) % 10  # a valid file, one label edited
    np.savez_compressed(prepared / "arrays.npz", **arrays)
    with pytest.raises(UvlError, match=r"test_labels does not match checksums.json"):
        datasets.load("mnist")


def test_corrupted_or_missing_dataset(prepared):
    raw = bytearray((prepared / "arrays.npz").read_bytes())
    raw[1000] ^= 0xFF  # inside the compressed training images
    (prepared / "arrays.npz").write_bytes(bytes(raw))
    with pytest.raises(UvlError, match="mnist: corrupted"):
        datasets.load("mnist")
    with pytest.raises(UvlError, match=r"not prepared; run `dvc repro prepare-digits8`"):
        datasets.load("digits8")


def test_digits8_in_mnist_frame_with_a_fixed_stratified_split():
    arrays = digits.arrays()
    images = np.concatenate([arrays["train_images"], arrays["test_images"]])
    assert images.shape == (1797, 28, 28) and images.dtype == np.uint8
    assert images[:, :4].max() == 0 and images[:, -4:].max() == 0  # the 4-pixel border, as in MNIST
    assert images.max() == 255 and len(arrays["test_labels"]) == 360
    assert np.bincount(arrays["test_labels"]).min() >= 35  # stratified: every digit in the test split
    again = digits.arrays()
    assert all(np.array_equal(arrays[key], again[key]) for key in arrays)  # the same split every time
    datasets.check_schema("digits8", arrays)


def test_torchvision_source_converts_and_verifies(tmp_path, monkeypatch, mnist_arrays):
    """The online path, with torchvision's MNIST class replaced by one serving the package's arrays."""
    import torch
    import torchvision.datasets

    calls = []

    class OfflineMNIST:
        def __init__(self, root, train, download):
            calls.append((root, train, download))
            split = "train" if train else "test"
            self.data = torch.from_numpy(mnist_arrays[f"{split}_images"])
            self.targets = torch.from_numpy(mnist_arrays[f"{split}_labels"].astype(np.int64))

    monkeypatch.setattr(torchvision.datasets, "MNIST", OfflineMNIST)
    arrays = mnist.read_source("torchvision", tmp_path / "raw")
    mnist.verify(arrays, "torchvision")
    assert calls == [(tmp_path / "raw", True, True), (tmp_path / "raw", False, True)]


def test_torchvision_download_failure_is_one_line(tmp_path, monkeypatch):
    import torchvision.datasets

    def unreachable(root, train, download):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://..., got:\n<urlopen error>")

    monkeypatch.setattr(torchvision.datasets, "MNIST", unreachable)
    with pytest.raises(UvlError, match="data.source=torchvision: download failed") as caught:
        mnist.read_source("torchvision", tmp_path)
    assert "\n" not in str(caught.value)
