"""Data: MNIST from any of its sources, verified against the official checksums, and the prepared arrays."""

from uvl.data.mnist import Mnist, load_prepared, prepare

__all__ = ["Mnist", "load_prepared", "prepare"]
