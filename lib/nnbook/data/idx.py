"""The IDX file format of MNIST, read and written with NumPy alone (no pickle).

An IDX file is a 4-byte magic number ``00 00 <type> <ndim>``, then ``ndim`` big-endian
uint32 dimensions, then the array in C order, big-endian. MNIST's images are type
``0x08`` (unsigned byte) with ``ndim = 3`` (n, 28, 28); its labels are ``0x08`` with
``ndim = 1``. The files are usually gzip-compressed; :func:`read_idx` recognises gzip
by its own magic bytes, not by the file name.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["IDX_TYPES", "read_idx", "write_idx"]

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type code -> big-endian NumPy dtype."""

_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(source: str | os.PathLike[str] | bytes) -> np.ndarray:
    """Parse an IDX file (optionally gzip-compressed) into a NumPy array in native byte order.

    ``source`` is a path or the file's bytes. Raises ``ValueError`` naming the problem
    for a bad magic number, a truncated file or trailing bytes.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), "IDX data"
    else:
        path = Path(source)
        data, name = path.read_bytes(), str(path)
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise ValueError(f"{name}: corrupt or truncated gzip stream ({exc})") from None
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in IDX_TYPES or data[3] == 0:
        codes = ", ".join(f"0x{c:02X}" for c in IDX_TYPES)
        raise ValueError(
            f"{name}: not an IDX file: expected magic bytes 00 00 <type> <ndim> with type in "
            f"{{{codes}}} and ndim >= 1, got {data[:4].hex(' ') or 'an empty file'}"
        )
    dtype, ndim = IDX_TYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: truncated IDX header: expected {header} bytes, got {len(data)}")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    count = math.prod(shape)
    expected = header + count * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "trailing bytes after the"
        raise ValueError(
            f"{name}: {what} IDX data: shape {shape} needs {expected} bytes, got {len(data)}"
        )
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


def write_idx(
    path: str | os.PathLike[str], array: np.ndarray, *, compress: bool | None = None
) -> Path:
    """Write ``array`` as an IDX file; gzip it if ``compress`` (default: the name ends in ``.gz``).

    The inverse of :func:`read_idx`: ``read_idx(write_idx(p, a))`` equals ``a`` with the
    same dtype. Supported dtypes: uint8, int8, int16, int32, float32, float64.
    """
    arr = np.asarray(array)
    if arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"expected an array with 1..255 dimensions, got shape {arr.shape}")
    code = next(
        (c for c, dt in IDX_TYPES.items() if dt.newbyteorder("=") == arr.dtype.newbyteorder("=")),
        None,
    )
    if code is None:
        names = [str(d.newbyteorder("=")) for d in IDX_TYPES.values()]
        raise TypeError(f"expected dtype one of {names}, got {arr.dtype}")
    payload = (
        bytes([0, 0, code, arr.ndim])
        + struct.pack(f">{arr.ndim}I", *arr.shape)
        + np.ascontiguousarray(arr, dtype=IDX_TYPES[code]).tobytes()
    )
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        payload = gzip.compress(payload, mtime=0)
    path.write_bytes(payload)
    return path
