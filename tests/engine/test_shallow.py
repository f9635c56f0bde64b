"""Tests of nnbook.engine.shallow: the shallow network f(x) = sum_m beta_m sigma(w_m^T x + b_m),
its parameter count (d + 2) M, the least-squares output weights and the random-features fit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnbook.engine import activations
from nnbook.engine.shallow import (
    ShallowNet,
    default_scale,
    least_squares_beta,
    n_parameters,
    random_features_fit,
    random_hidden_weights,
)


def explicit_forward(w, b, beta, sigma, X):
    """f(x) = sum_m beta_m sigma(sum_j w_mj x_j + b_m), written out with loops."""
    out = np.zeros(len(X))
    for i, x in enumerate(X):
        for m in range(len(beta)):
            z = sum(w[m, j] * x[j] for j in range(len(x))) + b[m]
            out[i] += beta[m] * float(sigma(np.array(z)))
    return out


@pytest.mark.parametrize("d, M", [(1, 1), (1, 7), (2, 8), (5, 3), (784, 100)])
def test_parameter_count_formula_matches_constructed_models(d, M):
    rng = np.random.default_rng(0)
    torch_model = torch.nn.Sequential(
        torch.nn.Linear(d, M), torch.nn.ReLU(), torch.nn.Linear(M, 1, bias=False)
    )
    n_torch = sum(p.numel() for p in torch_model.parameters())
    net = ShallowNet(rng.standard_normal((M, d)), rng.standard_normal(M), np.ones(M), "relu")
    assert n_parameters(d, M) == (d + 2) * M == n_torch == net.n_parameters


@pytest.mark.parametrize(
    "name", ["relu", "sigmoid", "tanh", "leaky_relu", "softplus", "gelu", "identity"]
)
def test_forward_matches_loops(name):
    rng = np.random.default_rng(1)
    d, M = 3, 5
    w, b, beta = rng.standard_normal((M, d)), rng.standard_normal(M), rng.standard_normal(M)
    X = rng.standard_normal((7, d))
    net = ShallowNet(w, b, beta, name)
    sigma = activations.get(name)
    np.testing.assert_allclose(
        net(X), explicit_forward(w, b, beta, sigma, X), rtol=1e-12, atol=1e-12
    )
    assert net.hidden(X).shape == (7, M) and net.forward(X).shape == (7,)


def test_least_squares_beta_matches_normal_equations():
    rng = np.random.default_rng(3)
    H, y = rng.standard_normal((40, 6)), rng.standard_normal(40)
    for ridge in [0.0, 0.7]:
        ref = np.linalg.solve(H.T @ H + ridge * np.eye(6), H.T @ y)
        np.testing.assert_allclose(least_squares_beta(H, y, ridge=ridge), ref, rtol=1e-10)


def test_bad_input_errors_name_what_was_expected():
    with pytest.raises(ValueError, match=r"expected b of shape \(3,\)"):
        ShallowNet(np.ones((3, 2)), np.ones(4), np.ones(3))
    with pytest.raises(ValueError, match=r"expected w of shape"):
        ShallowNet(np.ones(3), np.ones(3), np.ones(3))
    net = ShallowNet(np.ones((3, 2)), np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 2\), got \(5, 3\)"):
        net(np.ones((5, 3)))
    with pytest.raises(ValueError, match="activation name"):
        ShallowNet(np.ones((3, 2)), np.ones(3), np.ones(3), "swish")
    with pytest.raises(TypeError, match="expected M to be an int"):
        n_parameters(2, 3.5)


# ----------------------------------------------------------------------------- random features


def grid(n, d=1):
    """The n**d points of the regular grid on [0, 1]^d, written independently of the library."""
    axes = np.meshgrid(*([np.linspace(0, 1, n)] * d), indexing="ij")
    return np.stack([a.ravel() for a in axes], axis=1)


def test_random_hidden_weights_place_units_in_the_cube():
    rng = np.random.default_rng(2)
    w, b = random_hidden_weights(1, 50, rng, scale=3.0)
    kinks = -b / w[:, 0]
    assert np.all((kinks >= 0) & (kinks <= 1)) and np.allclose(np.abs(w), 3.0)
    w, b = random_hidden_weights(1, 4, rng, spread="even")
    np.testing.assert_allclose(np.sort(-b / w[:, 0]), [0.125, 0.375, 0.625, 0.875])
    w, b = random_hidden_weights(3, 20, rng, scale=2.0, spread="even")
    assert w.shape == (20, 3) and b.shape == (20,)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), 2.0)
    # an int seed and the Generator it names draw the same weights
    a, c = random_hidden_weights(2, 5, 7), random_hidden_weights(2, 5, np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], c[0])


def test_default_scale():
    assert default_scale("relu", 64) == 1.0
    assert default_scale("sigmoid", 64) == 64.0 and default_scale("sigmoid", 64, d=2) == 8.0
    assert default_scale("tanh", 64, d=2) == 4.0  # tanh(z) = 2 sigmoid(2z) - 1


@pytest.mark.parametrize("name, d", [("relu", 1), ("sigmoid", 1), ("tanh", 2)])
def test_random_features_recover_an_exactly_representable_target(name, d):
    """If f* is in H_linear (same fixed features), least squares finds its beta exactly."""
    x = grid(60 if d == 1 else 12, d)
    M = 6
    w, b = random_hidden_weights(d, M, np.random.default_rng(5), scale=default_scale(name, M, d))
    beta_true = np.array([1.5, -2.0, 0.5, 3.0, -1.0, 0.25])
    y = explicit_forward(w, b, beta_true, activations.get(name), x)
    fit = random_features_fit(x, y, M, name, np.random.default_rng(5), ridge=0.0)
    np.testing.assert_allclose(fit.w, w)  # same seed, same fixed features
    np.testing.assert_allclose(fit.beta, beta_true, rtol=1e-6, atol=1e-8)
    assert fit.info["train_mse"] < 1e-20


def test_random_features_beta_is_ridge_regression_on_the_features():
    """beta is scikit-learn's ridge regression (no intercept) on the fixed features."""
    from sklearn.linear_model import Ridge

    x = grid(80)
    y = np.sin(2 * np.pi * x[:, 0])
    fit = random_features_fit(x, y, 12, "relu", 3, ridge=1e-3)
    ref = Ridge(alpha=1e-3, fit_intercept=False, solver="svd").fit(fit.hidden(x), y)
    np.testing.assert_allclose(fit.beta, ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        fit.info["train_mse"], np.mean((ref.predict(fit.hidden(x)) - y) ** 2)
    )


def test_sup_error_of_random_features_decreases_with_width():
    x, fine = grid(200), grid(2001)
    sine = np.sin(2 * np.pi * fine[:, 0])
    errs = [
        np.max(
            np.abs(
                random_features_fit(x, np.sin(2 * np.pi * x[:, 0]), M, spread="even")(fine) - sine
            )
        )
        for M in (4, 16, 64)
    ]
    assert errs[1] < 0.3 * errs[0] and errs[2] < 0.3 * errs[1], errs


def test_random_features_bad_input_names_what_was_expected():
    rng = np.random.default_rng(0)
    x = grid(10)
    with pytest.raises(ValueError, match="expected M to be an int >= 1"):
        random_features_fit(x, x[:, 0], 0)
    with pytest.raises(ValueError, match=r"expected y of shape \(10,\)"):
        random_features_fit(x, np.ones(9), 3)
    with pytest.raises(ValueError, match=r"expected x of shape"):
        random_features_fit(np.ones(10), np.ones(10), 3)
    with pytest.raises(ValueError, match="finite"):
        random_features_fit(x, np.full(10, np.nan), 3)
    with pytest.raises(ValueError, match="at least one sample"):
        random_features_fit(np.ones((0, 1)), np.ones(0), 3)
    with pytest.raises(ValueError, match="spread"):
        random_hidden_weights(1, 3, rng, spread="grid")
    with pytest.raises(TypeError, match="Generator"):
        random_hidden_weights(1, 3, "seed")
    with pytest.raises(ValueError, match="scale > 0"):
        random_hidden_weights(1, 3, rng, scale=-1.0)
