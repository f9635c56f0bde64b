"""Tests for nnbook.data.idx: the IDX format of MNIST, against hand-written bytes."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import nnbook.data as D


def test_read_idx_matches_hand_written_bytes():
    # Spec: 00 00 <type> <ndim>, big-endian uint32 dims, big-endian data.
    raw = bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255])
    np.testing.assert_array_equal(
        D.read_idx(raw), np.array([[1, 2, 3], [4, 5, 255]], dtype=np.uint8)
    )
    raw16 = bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x00, 0xFF, 0xFE])  # 256, -2
    out = D.read_idx(gzip.compress(raw16))
    assert out.dtype == np.int16 and out.tolist() == [256, -2]


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", [".idx", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal((4, 3, 2)) * 50).astype(dtype)
    path = D.write_idx(tmp_path / f"a{suffix}", arr)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    back = D.read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


def test_idx_bad_magic_and_truncation_are_clear(tmp_path):
    with pytest.raises(ValueError, match="not an IDX file"):
        D.read_idx(b"PK\x03\x04 this is a zip file")
    with pytest.raises(ValueError, match="not an IDX file"):
        D.read_idx(b"")
    good = bytes([0, 0, 0x08, 1, 0, 0, 0, 5, 1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="truncated IDX data"):
        D.read_idx(good[:-1])
    with pytest.raises(ValueError, match="trailing bytes"):
        D.read_idx(good + b"\x00")
    with pytest.raises(ValueError, match="gzip"):
        D.read_idx(gzip.compress(good)[:-6])
    with pytest.raises(TypeError, match="expected dtype"):
        D.write_idx(tmp_path / "x.idx", np.array([1, 2], dtype=np.uint64))
