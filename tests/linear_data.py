"""Noisy linear-regression data for the tests of ridge regression: tests/engine/test_linear.py
(the engine's closed forms) and tests/chapters/test_ch06_regularization.py (Chapter 6's MAP,
input noise and cross-validation, compared with ridge)."""

from __future__ import annotations

import numpy as np


def linear_data(n=40, d=4, seed=0, noise=0.5):
    """X with n standard normal rows in d dimensions, y = X w + noise * N(0, 1), w ~ N(0, I)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d)
    y = X @ w + noise * rng.normal(size=n)
    return X, y
