"""Symmetric positive (semi-)definite test matrices with chosen eigenvalues, for the tests of the
quadratic risk: tests/engine/test_quadratic.py and tests/chapters/test_ch03_gd.py."""

from __future__ import annotations

import numpy as np


def spd(eigenvalues, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """A symmetric matrix with the given eigenvalues and random eigenvectors (the columns)."""
    rng = np.random.default_rng(seed)
    V, _ = np.linalg.qr(rng.standard_normal((len(eigenvalues), len(eigenvalues))))
    return V @ np.diag(eigenvalues) @ V.T, V
