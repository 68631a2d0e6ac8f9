"""The IDX format of the official MNIST files (http://yann.lecun.com/exdb/mnist/), for unsigned bytes.

Layout: two zero bytes, the type code 0x08 (uint8), the number of dimensions, each dimension as a
big-endian int32, then the values in C order.
"""

from __future__ import annotations

import numpy as np

from uvl.errors import UvlError

UINT8 = 0x08


def encode(array: np.ndarray) -> bytes:
    if array.dtype != np.uint8:
        raise ValueError(f"IDX encoding here is for uint8 arrays, got {array.dtype}")
    header = bytes([0, 0, UINT8, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    return header + np.ascontiguousarray(array).tobytes()


def decode(raw: bytes, name: str) -> np.ndarray:
    if len(raw) < 4 or raw[:3] != bytes([0, 0, UINT8]):
        raise UvlError(f"{name}: not an IDX file of unsigned bytes (bad magic number)")
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    body = raw[4 + 4 * ndim :]
    if len(body) != int(np.prod(shape)):
        raise UvlError(f"{name}: truncated or padded IDX file ({len(body)} bytes for shape {shape})")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)
