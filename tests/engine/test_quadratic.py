"""Tests for nnbook.engine.quadratic (the quadratic risk and its exact GD closed form).

References are independent of the code under test: matrix powers, a plain GD loop, the
pseudo-inverse and scipy's least squares, PyTorch autograd, and matrices built from chosen
eigenvalues.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from spd_matrices import spd

from nnbook.engine.quadratic import Quadratic


def plain_gd(A, b, theta0, eta, K) -> np.ndarray:
    """theta^(k+1) = theta^(k) - eta (A theta^(k) - b), written out here."""
    out = [np.asarray(theta0, dtype=float)]
    for _ in range(K):
        out.append(out[-1] - eta * (A @ out[-1] - b))
    return np.array(out)


def test_value_and_gradient_match_torch_autograd():
    A, _ = spd([0.5, 1.0, 3.0], seed=1)
    b, c = np.array([1.0, -1.0, 0.5]), 0.7
    Q = Quadratic(A, b, c)
    theta = np.array([2.0, 0.0, -1.0])
    t = torch.tensor(theta, requires_grad=True)
    value = 0.5 * t @ torch.tensor(A) @ t - torch.tensor(b) @ t + c
    value.backward()
    assert Q(theta) == pytest.approx(value.item(), rel=1e-14)
    np.testing.assert_allclose(Q.grad(theta), t.grad.numpy(), rtol=1e-13)


def test_a_stack_of_thetas_is_evaluated_row_by_row():
    A, _ = spd([0.5, 2.0], seed=2)
    Q = Quadratic(A, np.array([1.0, 2.0]))
    stack = np.random.default_rng(0).standard_normal((4, 3, 2))
    values = Q(stack)
    assert values.shape == (4, 3)
    assert values[2, 1] == pytest.approx(Q(stack[2, 1]), rel=1e-14)
    np.testing.assert_allclose(Q.grad(stack)[3, 0], A @ stack[3, 0] - Q.b, rtol=1e-14)


def test_gd_closed_form_equals_matrix_powers_and_a_plain_loop():
    A, _ = spd([0.3, 1.0, 2.5, 4.0])
    b = np.array([1.0, 0.0, -2.0, 0.5])
    Q = Quadratic(A, b)
    theta0 = np.array([1.0, -2.0, 0.5, 3.0])
    eta, K = 0.3, 25
    star = np.linalg.solve(A, b)
    powers = np.array(
        [star + np.linalg.matrix_power(np.eye(4) - eta * A, k) @ (theta0 - star) for k in range(K)]
    )
    closed = Q.gd_closed_form(theta0, eta, np.arange(K))
    assert closed.shape == (K, 4)
    np.testing.assert_allclose(closed, powers, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(closed, plain_gd(A, b, theta0, eta, K - 1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(Q.gd_closed_form(theta0, eta, 7), powers[7], rtol=1e-10)


@pytest.mark.parametrize("eta_L", [0.5, 1.5, 1.9, 2.1])
def test_contraction_factors_are_the_signed_ratios_of_a_plain_loop(eta_L):
    lam = np.array([0.2, 1.0])
    A, V = spd(lam, seed=3)
    Q = Quadratic(A)
    eta = eta_L / lam.max()
    coords = plain_gd(A, np.zeros(2), V @ np.ones(2), eta, 10) @ V  # along the eigenvectors
    ratios = coords[1:] / coords[:-1]
    np.testing.assert_allclose(ratios, np.broadcast_to(1 - eta * lam, ratios.shape), rtol=1e-8)
    np.testing.assert_allclose(Q.contraction_factors(eta), np.abs(1 - eta * lam), rtol=1e-12)
    assert Q.rate(eta) == pytest.approx(max(abs(1 - eta * lam)), rel=1e-12)
    assert (Q.rate(eta) < 1) == (eta < 2 / Q.L)


def test_rate_ignores_the_null_space_of_A():
    Q = Quadratic(np.diag([0.0, 1.0, 4.0]))
    assert Q.mu == 0.0 and Q.L == 4.0
    assert Q.rate(0.25) == pytest.approx(0.75)  # |1 - 1/4|, not |1 - 0| from lambda = 0


def test_least_squares_matches_the_normal_equations_and_scipy():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    Q = Quadratic.least_squares(X, y)
    theta = rng.standard_normal(4)
    assert Q(theta) == pytest.approx(0.5 * np.mean((X @ theta - y) ** 2), rel=1e-12)
    np.testing.assert_allclose(Q.grad(theta), X.T @ (X @ theta - y) / 30, rtol=1e-12)
    ref = scipy.linalg.lstsq(X, y)[0]
    np.testing.assert_allclose(Q.minimizer(), ref, rtol=1e-10)
    assert Q.minimum() == pytest.approx(0.5 * np.mean((X @ ref - y) ** 2), rel=1e-10)
    ridge = Quadratic.least_squares(X, y, ridge=0.3)
    np.testing.assert_allclose(
        ridge.minimizer(), np.linalg.solve(X.T @ X / 30 + 0.3 * np.eye(4), X.T @ y / 30)
    )
    assert ridge.mu == pytest.approx(np.linalg.eigvalsh(X.T @ X / 30).min() + 0.3)


def test_underdetermined_least_squares_has_the_min_norm_minimiser():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((5, 12)), rng.standard_normal(5)  # N < p: a singular Hessian
    Q = Quadratic.least_squares(X, y)
    assert Q.mu == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(Q.minimizer(), np.linalg.pinv(X) @ y, atol=1e-10)
    assert Q.minimum() == pytest.approx(0.0, abs=1e-12)  # interpolation


def test_bad_input_fails_with_a_message():
    with pytest.raises(ValueError, match="square matrix"):
        Quadratic(np.ones((2, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        Quadratic(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="positive semi-definite"):
        Quadratic(np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"b of shape \(2,\)"):
        Quadratic(np.eye(2), np.ones(3))
    with pytest.raises(ValueError, match="eta"):
        Quadratic(np.eye(2)).rate(0.0)
    with pytest.raises(ValueError, match=r"y of shape \(3,\)"):
        Quadratic.least_squares(np.ones((3, 2)), np.ones(2))
    with pytest.raises(ValueError, match="ridge"):
        Quadratic.least_squares(np.ones((3, 2)), np.ones(3), ridge=-1.0)
