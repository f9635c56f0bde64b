"""Tests for nnbook.engine.linear: ridge in closed form, and dropout on a linear layer as ridge.

Each closed form is checked against an independent computation: numerical minimisation of the
penalised sum of squares, least squares, or Monte Carlo over dropout masks.
"""

from __future__ import annotations

import numpy as np
import pytest
from linear_data import linear_data
from scipy import optimize

from nnbook.engine import linear

# ---------------------------------------------------------------------------------------
# ridge
# ---------------------------------------------------------------------------------------


def test_ridge_minimises_the_penalised_sum_of_squares():
    X, y = linear_data()
    lam = 3.0
    w = linear.ridge(X, y, lam)

    def objective(v):
        return np.sum((y - X @ v) ** 2) + lam * np.sum(v**2)

    w_num = optimize.minimize(
        objective, np.zeros(X.shape[1]), method="BFGS", options={"gtol": 1e-10}
    ).x
    np.testing.assert_allclose(w, w_num, atol=1e-6)
    # lam = 0 is ordinary least squares
    np.testing.assert_allclose(
        linear.ridge(X, y, 0.0), np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-10
    )


def test_ridge_zero_penalty_weight_leaves_intercept_free():
    X, y = linear_data()
    X1 = np.column_stack([np.ones(len(y)), X])
    y = y + 10.0
    w = linear.ridge(X1, y, 1e6, penalty_weights=[0.0, 1, 1, 1, 1])
    # huge lambda kills the slopes; the free intercept becomes the mean of y
    assert np.max(np.abs(w[1:])) < 1e-3
    assert w[0] == pytest.approx(y.mean(), abs=1e-3)


# ---------------------------------------------------------------------------------------
# dropout as ridge (Exercise 10.5)
# ---------------------------------------------------------------------------------------


def test_dropout_identity_by_monte_carlo():
    rng = np.random.default_rng(2)
    d, phi = 6, 0.4
    p = 1 - phi
    h, w, y_star = rng.normal(size=d), rng.normal(size=d), 0.7
    n_mc = 400_000
    m = rng.random((n_mc, d)) < p
    h_tilde = m * h / p
    losses = (h_tilde @ w - y_star) ** 2
    mc, se = losses.mean(), losses.std() / np.sqrt(n_mc)
    closed = linear.expected_dropout_loss(w, h[None, :], [y_star], phi)[0]
    assert abs(mc - closed) < 5 * se
    # the penalty term is really there: the plain loss is far off
    assert abs(mc - (w @ h - y_star) ** 2) > 20 * se


def test_dropout_ridge_minimises_monte_carlo_dropout_loss():
    H, y = linear_data(n=30, d=3, seed=3)
    phi = 0.3
    rng = np.random.default_rng(4)
    copies = 4000
    masks = rng.random((copies, *H.shape)) < (1 - phi)
    H_drop = (masks * H / (1 - phi)).reshape(-1, H.shape[1])
    w_mc = np.linalg.lstsq(H_drop, np.tile(y, copies), rcond=None)[0]
    w_closed = linear.dropout_ridge(H, y, phi)
    w_ols = linear.ridge(H, y, 0.0)
    assert np.linalg.norm(w_mc - w_closed) < 0.1 * np.linalg.norm(w_ols - w_closed)
    # phi = 0 is least squares
    np.testing.assert_allclose(linear.dropout_ridge(H, y, 0.0), w_ols, atol=1e-12)


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------


def test_bad_input():
    X, y = linear_data()
    with pytest.raises(ValueError, match=r"expected X of shape \(n, d\)"):
        linear.ridge(X[0], y, 1.0)
    with pytest.raises(ValueError, match=r"expected y of shape \(40,\)"):
        linear.ridge(X, y[:-1], 1.0)
    with pytest.raises(ValueError, match="lam >= 0"):
        linear.ridge(X, y, -1.0)
    with pytest.raises(ValueError, match="penalty_weights >= 0"):
        linear.ridge(X, y, 1.0, penalty_weights=[1, -1, 1, 1])
    with pytest.raises(ValueError, match="singular"):
        linear.ridge(np.ones((5, 2)), np.ones(5), 0.0)
    with pytest.raises(ValueError, match=r"phi in \[0, 1\)"):
        linear.dropout_ridge(X, y, 1.0)
    with pytest.raises(ValueError, match=r"expected w of shape \(4,\)"):
        linear.expected_dropout_loss(np.ones(3), X, y, 0.5)
