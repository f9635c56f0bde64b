"""Tests of nnbook.chapters.ch01_approximation: random features, training, the sup-norm
error and the targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnbook.chapters import ch01_approximation as approx
from nnbook.engine import activations


def sine(X):
    """A simple continuous target, defined here independently of the library's targets."""
    return np.sin(2 * np.pi * X[:, 0])


def explicit_forward(w, b, beta, sigma, X):
    """f(x) = sum_m beta_m sigma(sum_j w_mj x_j + b_m), written out with loops."""
    out = np.zeros(len(X))
    for i, x in enumerate(X):
        for m in range(len(beta)):
            z = sum(w[m, j] * x[j] for j in range(len(x))) + b[m]
            out[i] += beta[m] * float(sigma(np.array(z)))
    return out


def test_random_hidden_weights_place_units_in_the_cube():
    rng = np.random.default_rng(2)
    w, b = approx.random_hidden_weights(1, 50, rng, scale=3.0)
    kinks = -b / w[:, 0]
    assert np.all((kinks >= 0) & (kinks <= 1)) and np.allclose(np.abs(w), 3.0)
    w, b = approx.random_hidden_weights(1, 4, rng, spread="even")
    np.testing.assert_allclose(np.sort(-b / w[:, 0]), [0.125, 0.375, 0.625, 0.875])
    w, b = approx.random_hidden_weights(3, 20, rng, scale=2.0, spread="even")
    assert w.shape == (20, 3) and b.shape == (20,)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), 2.0)


# ----------------------------------------------------------------------------- fitting


@pytest.mark.parametrize("name, d", [("relu", 1), ("sigmoid", 1), ("tanh", 2)])
def test_random_features_recover_an_exactly_representable_target(name, d):
    """If f* is in H_linear (same fixed features), least squares finds its beta exactly."""
    x = approx.uniform_grid(60 if d == 1 else 12, d)
    M = 6
    w, b = approx.random_hidden_weights(
        d, M, np.random.default_rng(5), scale=approx.default_scale(name, M, d)
    )
    beta_true = np.array([1.5, -2.0, 0.5, 3.0, -1.0, 0.25])
    y = explicit_forward(w, b, beta_true, activations.get(name), x)
    fit = approx.random_features_fit(x, y, M, name, np.random.default_rng(5), ridge=0.0)
    np.testing.assert_allclose(fit.w, w)  # same seed, same fixed features
    np.testing.assert_allclose(fit.beta, beta_true, rtol=1e-6, atol=1e-8)
    assert fit.info["train_mse"] < 1e-20


def test_training_improves_on_its_start_and_is_deterministic():
    x = approx.uniform_grid(128)
    y = sine(x)
    a = approx.train_shallow(x, y, 6, "relu", steps=100, seed=4)
    b = approx.train_shallow(x, y, 6, "relu", steps=100, seed=4)
    assert a.info["train_mse"] <= a.info["train_mse_start"]
    assert (
        a.info["train_mse"] < 0.5 * a.info["train_mse_start"]
    )  # training must actually do something
    assert 0 < a.info["iterations"] <= 100
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_allclose(np.mean((a(x) - y) ** 2), a.info["train_mse"], rtol=1e-10)
    threads = torch.get_num_threads()
    approx.train_shallow(x, y, 3, "relu", steps=5, seed=0)
    assert torch.get_num_threads() == threads  # no global side effect


def test_sup_norm_error_of_trained_relu_networks_decreases_with_width():
    """The UAT at work: a wider network approximates a continuous target better."""
    x, fine = approx.uniform_grid(128), approx.uniform_grid(2001)
    y = sine(x)
    errs = [
        approx.sup_norm_error(
            approx.train_shallow(x, y, M, "relu", steps=150, seed=0, spread="even"), sine, fine
        )
        for M in (2, 8, 32)
    ]
    # piecewise-linear approximation error ~ M^-2: each 4x wider network should be far better
    assert errs[1] < 0.25 * errs[0] and errs[2] < 0.5 * errs[1], errs


def test_sup_norm_error_of_trained_sigmoid_networks_decreases_with_width():
    x, fine = approx.uniform_grid(128), approx.uniform_grid(2001)
    y = sine(x)
    errs = [
        approx.sup_norm_error(
            approx.train_shallow(x, y, M, "sigmoid", steps=150, seed=0, spread="even"), sine, fine
        )
        for M in (2, 8, 32)
    ]
    # sigmoid networks get very accurate quickly, then training, not width, limits them:
    # require a large gain over M = 2 and no real loss after that
    assert errs[1] < 0.1 * errs[0] and errs[2] < 0.1 * errs[0], errs
    assert errs[2] < 0.02, errs


def test_sup_norm_error_of_random_features_decreases_with_width():
    x, fine = approx.uniform_grid(200), approx.uniform_grid(2001)
    errs = [
        approx.sup_norm_error(
            approx.random_features_fit(x, sine(x), M, "relu", spread="even"), sine, fine
        )
        for M in (4, 16, 64)
    ]
    assert errs[1] < 0.3 * errs[0] and errs[2] < 0.3 * errs[1], errs


# ----------------------------------------------------------------------------- measuring


def test_sup_norm_error_known_values():
    grid = approx.uniform_grid(101)
    assert approx.sup_norm_error(lambda X: X[:, 0], lambda X: np.zeros(len(X)), grid) == 1.0
    assert approx.sup_norm_error(
        sine, lambda X: sine(X) + 0.3 * X[:, 0] ** 2, grid
    ) == pytest.approx(0.3)
    assert approx.sup_norm_error(sine, sine, grid) == 0.0


def test_uniform_grid_and_loglog_slope():
    g = approx.uniform_grid(5, 2)
    assert g.shape == (25, 2) and g.min() == 0.0 and g.max() == 1.0
    assert len({tuple(p) for p in g}) == 25
    M = np.array([2, 4, 8, 16, 32])
    assert approx.loglog_slope(M, 3.0 * M**-1.5) == pytest.approx(-1.5)


def test_targets_are_continuous_functions_on_the_cube():
    for t in approx.TARGETS.values():
        X = approx.uniform_grid(50 if t.d == 1 else 20, t.d)
        y = t(X)
        assert y.shape == (len(X),) and np.all(np.isfinite(y)) and t.formula


# ----------------------------------------------------------------------------- bad input


def test_bad_input_errors_name_what_was_expected():
    rng = np.random.default_rng(0)
    x = approx.uniform_grid(10)
    with pytest.raises(ValueError, match="expected M to be an int >= 1"):
        approx.random_features_fit(x, x[:, 0], 0)
    with pytest.raises(ValueError, match=r"expected y of shape \(10,\)"):
        approx.random_features_fit(x, np.ones(9), 3)
    with pytest.raises(ValueError, match=r"expected x of shape"):
        approx.train_shallow(np.ones(10), np.ones(10), 3)
    with pytest.raises(ValueError, match="finite"):
        approx.random_features_fit(x, np.full(10, np.nan), 3)
    with pytest.raises(ValueError, match="spread"):
        approx.random_hidden_weights(1, 3, rng, spread="grid")
    with pytest.raises(TypeError, match="Generator"):
        approx.random_hidden_weights(1, 3, 0)
    with pytest.raises(ValueError, match="scale > 0"):
        approx.random_hidden_weights(1, 3, rng, scale=-1.0)
    with pytest.raises(ValueError, match="steps"):
        approx.train_shallow(x, x[:, 0], 3, steps=-1)
    with pytest.raises(TypeError, match="seed"):
        approx.train_shallow(x, x[:, 0], 3, seed=True)
    with pytest.raises(ValueError, match=r"expected g\(grid\) of shape"):
        approx.sup_norm_error(sine, lambda X: np.zeros(3), x)
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 2\)"):
        approx.TARGETS["bump2d"](x)
    with pytest.raises(ValueError, match="positive"):
        approx.loglog_slope([1, 2], [0.1, 0.0])
