"""Tests for nnbook.data.sequences: the adding problem and its reference points."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnbook.data as D
from nnbook.data.sequences import (
    ADDING_BASELINE_MSE,
    ADDING_TOLERANCE,
    adding_accuracy,
    make_adding,
)


@given(n=st.integers(1, 30), T=st.integers(2, 40), seed=st.integers(0, 2**31))
def test_adding_structure(n, T, seed):
    X, y, pos = make_adding(n, T, rng=seed)
    assert X.shape == (n, T, 2) and y.shape == (n,) and pos.shape == (n, 2)
    values, markers = X[..., 0], X[..., 1]
    assert np.all((values >= 0) & (values < 1))
    assert set(np.unique(markers)) <= {0.0, 1.0}
    # exactly two markers, one in each half {0..T//2-1} and {T//2..T-1}
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, : T // 2].sum(axis=1) == 1)
    assert np.all(markers[:, T // 2 :].sum(axis=1) == 1)
    np.testing.assert_array_equal(np.flatnonzero(markers[0]), pos[0])
    # the target is the marked sum, read from X alone
    np.testing.assert_allclose(y, np.einsum("nt,nt->n", values, markers), rtol=0, atol=1e-15)


def test_adding_is_seeded():
    a, b, c = make_adding(50, 10, rng=3), make_adding(50, 10, rng=3), make_adding(50, 10, rng=4)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    gen = np.random.default_rng(3)
    np.testing.assert_array_equal(make_adding(50, 10, rng=gen).X, a.X)


def test_adding_positions_cover_each_half_uniformly():
    T = 10
    pos = make_adding(50_000, T, rng=0).positions
    for col, lo, hi in [(0, 0, T // 2), (1, T // 2, T)]:
        counts = np.bincount(pos[:, col], minlength=T)[lo:hi]
        assert counts.sum() == 50_000 and np.all(counts > 0)
        expected = 50_000 / (hi - lo)  # chi-square goodness of fit, 4 degrees of freedom
        chi2 = np.sum((counts - expected) ** 2 / expected)
        assert chi2 < 18.5  # the 0.999 quantile of chi2(4)


def test_baseline_mse_is_the_variance_of_the_target():
    y = make_adding(400_000, 8, rng=1).y
    # Monte Carlo: the mean is 1 and the MSE of predicting 1 is 1/6, each to about 5 SE
    assert abs(y.mean() - 1.0) < 5 * np.sqrt(ADDING_BASELINE_MSE / len(y))
    assert abs(np.mean((y - 1.0) ** 2) - ADDING_BASELINE_MSE) < 2e-3
    assert pytest.approx(1 / 6) == ADDING_BASELINE_MSE


def test_accuracy_of_the_constant_prediction():
    # y = U1 + U2 has the triangular density 1 - |y - 1| on [0, 2], so
    # P(|y - 1| < tol) = 1 - (1 - tol)^2
    y = make_adding(400_000, 6, rng=2).y
    chance = 1 - (1 - ADDING_TOLERANCE) ** 2
    assert abs(adding_accuracy(y, np.ones_like(y)) - chance) < 3e-3


def test_accuracy_counts_strictly_within_tolerance():
    y = np.array([1.0, 1.0, 1.0, 1.0])
    y_hat = np.array([1.0, 1.039, 0.9, 1.5])
    assert adding_accuracy(y, y_hat) == 0.5
    assert adding_accuracy(y, y_hat, tol=0.2) == 0.75


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((0, 5), ValueError, "n_samples"),
        ((5, 1), ValueError, "T to be an int >= 2"),
        ((5, 2.5), TypeError, "T"),
    ],
)
def test_make_adding_rejects(args, error, match):
    with pytest.raises(error, match=match):
        make_adding(*args)


def test_accuracy_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="y_hat of shape"):
        adding_accuracy(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="finite"):
        adding_accuracy(np.zeros(2), np.array([0.0, np.nan]))


def test_exported_from_the_package():
    assert D.make_adding is make_adding
    assert {"make_adding", "adding_accuracy", "ADDING_BASELINE_MSE"} <= set(D.__all__)
