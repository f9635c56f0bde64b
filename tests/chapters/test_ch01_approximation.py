"""Tests of nnbook.chapters.ch01_approximation: the constructive 1-D sketch of the universal
approximation theorem (ReLU interpolation, sigmoid staircase), the sup-norm error and the grids."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from nnbook.chapters import ch01_approximation as approx


def sine(X):
    """A smooth target, max |f''| = 4 pi^2, defined here independently of the library's."""
    return np.sin(2 * np.pi * X[:, 0])


def kinked(X):
    """A continuous target with a kink at 0.3."""
    return np.abs(X[:, 0] - 0.3) + X[:, 0] ** 2


FINE = np.linspace(0, 1, 20001)


# ----------------------------------------------------------------------------- ReLU interpolation


@pytest.mark.parametrize("K", [1, 2, 7, 40])
def test_relu_interpolant_is_numpys_linear_interpolation(K):
    net = approx.relu_interpolant(kinked, K)
    assert net.M == K + 1 and net.activation == "relu" and net.n_parameters == 3 * (K + 1)
    nodes = np.linspace(0, 1, K + 1)
    expected = np.interp(FINE, nodes, kinked(nodes[:, None]))
    assert np.max(np.abs(net(FINE[:, None]) - expected)) < 1e-12 * max(1, K)


def error(net, f):
    return np.max(np.abs(net(FINE[:, None]) - f(FINE[:, None])))


@pytest.mark.parametrize("K", [4, 16, 64, 256])
def test_relu_interpolant_error_is_within_the_h_squared_bound(K):
    """max |f_K - f*| <= h^2 max|f''| / 8; for the sine the bound is nearly attained once the
    cells are short enough for f'' to be almost constant on each."""
    err = error(approx.relu_interpolant(sine, K), sine)
    bound = (4 * np.pi**2) / (8 * K**2)
    assert err <= bound * (1 + 1e-9)
    assert K < 16 or err > 0.95 * bound


def test_relu_interpolant_error_is_of_order_h_at_a_kink_inside_a_cell():
    """At the midpoint 0.3 of a cell, interpolating |x - 0.3| errs by h/2 and x^2 by h^2/4."""
    for K in [5, 25, 125]:  # 0.3 = 1.5/5 = 7.5/25 = 37.5/125 is the midpoint of a cell
        err = error(approx.relu_interpolant(kinked, K), kinked)
        assert abs(err - (1 / (2 * K) + 1 / (4 * K**2))) < 1e-9


# ----------------------------------------------------------------------------- sigmoid staircase


def test_sigmoid_staircase_is_the_written_out_sum():
    K, s = 6, 50.0
    net = approx.sigmoid_staircase(sine, K, s)
    t = np.linspace(0, 1, K + 1)
    ft = sine(t[:, None])
    x = FINE
    expected = ft[0] + sum(
        (ft[k] - ft[k - 1]) * expit(s * (x - (t[k] - 0.5 / K))) for k in range(1, K + 1)
    )
    assert net.M == K + 1 and net.activation == "sigmoid"
    assert np.max(np.abs(net(x[:, None]) - expected)) < 1e-12


def test_steep_sigmoid_staircase_tends_to_the_step_function():
    """Away from the steps, sigma(s(x - tau)) -> the unit step as s grows."""
    K = 8
    t = np.linspace(0, 1, K + 1)
    nearest = t[np.clip(np.round(FINE * K).astype(int), 0, K)]
    away = np.abs(FINE * K - np.round(FINE * K)) < 0.2  # at least 0.3 h from a midpoint
    steps = sine(nearest[:, None])
    errs = [
        np.max(np.abs(approx.sigmoid_staircase(sine, K, s)(FINE[:, None]) - steps)[away])
        for s in [100.0, 10_000.0]
    ]
    assert errs[1] < 1e-10 < errs[0] < 0.1


def test_sigmoid_staircase_error_shrinks_like_h_when_steps_sharpen():
    errs = [error(approx.sigmoid_staircase(sine, K, 20.0 * K), sine) for K in [10, 20, 40, 80]]
    ratios = np.array(errs[:-1]) / np.array(errs[1:])
    assert np.all((ratios > 1.8) & (ratios < 2.2)), ratios  # halving h halves the error
    assert errs[-1] < 2 * np.pi / (2 * 80)  # below max|f'| h / 2, the staircase's bound


# ----------------------------------------------------------------------------- measuring


def test_sup_norm_error_known_values():
    grid = approx.uniform_grid(101)
    assert approx.sup_norm_error(lambda X: X[:, 0], lambda X: np.zeros(len(X)), grid) == 1.0
    assert approx.sup_norm_error(
        sine, lambda X: sine(X) + 0.3 * X[:, 0] ** 2, grid
    ) == pytest.approx(0.3)
    assert approx.sup_norm_error(sine, sine, grid) == 0.0


def test_uniform_grid():
    g = approx.uniform_grid(5, 2)
    assert g.shape == (25, 2) and g.min() == 0.0 and g.max() == 1.0
    assert len({tuple(p) for p in g}) == 25
    np.testing.assert_array_equal(approx.uniform_grid(3)[:, 0], [0.0, 0.5, 1.0])


# ----------------------------------------------------------------------------- bad input


def test_bad_input_errors_name_what_was_expected():
    x = approx.uniform_grid(10)
    with pytest.raises(ValueError, match="expected K to be an int >= 1"):
        approx.relu_interpolant(sine, 0)
    with pytest.raises(ValueError, match="steepness > 0"):
        approx.sigmoid_staircase(sine, 4, 0.0)
    with pytest.raises(ValueError, match=r"expected f\(nodes\) of shape \(5,\)"):
        approx.relu_interpolant(lambda X: X, 4)
    with pytest.raises(ValueError, match=r"expected g\(grid\) of shape"):
        approx.sup_norm_error(sine, lambda X: np.zeros(3), x)
    with pytest.raises(ValueError, match="expected n to be an int >= 2"):
        approx.uniform_grid(1)
