"""Shared data, helpers and device parameters for the tests of nnbook.pytorch."""

from __future__ import annotations

import numpy as np
import pytest

from nnbook.pytorch.device import available_devices


def toy_classification(n=120, d=5, K=3, seed=0):
    """n samples in d dimensions with K classes from a noisy linear rule (float32, int labels)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(size=(d, K))
    y = np.argmax(X @ W + 0.5 * rng.normal(size=(n, K)), axis=1)
    return X.astype(np.float32), y


def params(model):
    return [p.detach().clone() for p in model.parameters()]


#: Every device type; those this machine lacks are skipped, with the reason.
DEVICES = [
    pytest.param(
        name,
        marks=pytest.mark.skipif(
            name not in available_devices(), reason=f"torch finds no {name} device here"
        ),
    )
    for name in ("cpu", "cuda", "mps")
]
