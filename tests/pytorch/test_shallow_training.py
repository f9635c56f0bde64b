"""Tests of nnbook.pytorch.shallow: L-BFGS, and training all parameters of a shallow network."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnbook.engine.shallow import random_features_fit
from nnbook.pytorch.shallow import lbfgs, train_shallow


def grid(n):
    return np.linspace(0, 1, n)[:, None]


def sine(X):
    """A simple continuous target, defined here independently of the library's targets."""
    return np.sin(2 * np.pi * X[:, 0])


def sup_error(net, f, X):
    return float(np.max(np.abs(net(X) - f(X))))


def test_lbfgs_finds_the_least_squares_solution():
    """On a convex problem L-BFGS reaches the minimiser that numpy's lstsq computes."""
    rng = np.random.default_rng(0)
    A, y = rng.standard_normal((50, 4)), rng.standard_normal(50)
    model = torch.nn.Linear(4, 1, bias=False, dtype=torch.float64)
    At, yt = torch.from_numpy(A), torch.from_numpy(y)
    iterations = lbfgs(model, lambda: torch.mean((model(At)[:, 0] - yt) ** 2), 100)
    expected, *_ = np.linalg.lstsq(A, y, rcond=None)
    found = model.weight.detach().numpy()[0]
    np.testing.assert_allclose(found, expected, atol=1e-6)
    excess = np.mean((A @ found - y) ** 2) - np.mean((A @ expected - y) ** 2)
    assert -1e-15 <= excess < 1e-12  # the loss is quadratic near its minimum: tiny excess
    assert 0 < iterations < 100  # stopped because it converged, not at the cap
    assert lbfgs(model, lambda: torch.mean((model(At)[:, 0] - yt) ** 2), 0) == 0


def test_training_improves_on_its_random_features_start_and_is_deterministic():
    x = grid(128)
    y = sine(x)
    a = train_shallow(x, y, 6, "relu", steps=100, seed=4)
    b = train_shallow(x, y, 6, "relu", steps=100, seed=4)
    start = random_features_fit(x, y, 6, "relu", np.random.default_rng(4))
    assert a.info["train_mse_start"] == pytest.approx(start.info["train_mse"], rel=1e-12)
    assert a.info["train_mse"] < 0.5 * start.info["train_mse"]  # training must do something
    assert 0 < a.info["iterations"] <= 100
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p, q)
    # the reported loss is the NumPy network's mean squared error
    np.testing.assert_allclose(np.mean((a(x) - y) ** 2), a.info["train_mse"], rtol=1e-10)
    threads = torch.get_num_threads()
    train_shallow(x, y, 3, "relu", steps=5, seed=0)
    assert torch.get_num_threads() == threads  # no global side effect


def test_trained_network_is_a_stationary_point_of_the_training_loss():
    """At the end the gradient of the loss with respect to beta (linear in beta, so a closed
    form: (2/n) H^T (H beta - y)) is small compared with its size at the start."""
    x = grid(100)
    y = sine(x)
    net = train_shallow(x, y, 5, "sigmoid", steps=300, seed=1)
    start = random_features_fit(x, y, 5, "sigmoid", np.random.default_rng(1))
    H = net.hidden(x)
    grad_beta = 2 / len(y) * H.T @ (H @ net.beta - y)
    assert np.linalg.norm(grad_beta) < 1e-6 * max(1.0, np.linalg.norm(net.beta))
    assert net.info["train_mse"] < start.info["train_mse"]


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_sup_error_of_trained_networks_decreases_with_width(activation):
    """The UAT at work: a wider trained network approximates a continuous target better."""
    x, fine = grid(128), grid(2001)
    y = sine(x)
    errs = [
        sup_error(train_shallow(x, y, M, activation, steps=150, seed=0, spread="even"), sine, fine)
        for M in (2, 8, 32)
    ]
    if activation == "relu":  # piecewise-linear error ~ M^-2: each 4x wider network is far better
        assert errs[1] < 0.25 * errs[0] and errs[2] < 0.5 * errs[1], errs
    else:  # sigmoids get accurate quickly, then training, not width, limits them
        assert errs[1] < 0.1 * errs[0] and errs[2] < 0.1 * errs[0] and errs[2] < 0.02, errs


def test_bad_input_names_what_was_expected():
    x = grid(10)
    with pytest.raises(ValueError, match=r"expected x of shape"):
        train_shallow(np.ones(10), np.ones(10), 3)
    with pytest.raises(ValueError, match=r"expected y of shape \(10,\)"):
        train_shallow(x, np.ones(9), 3)
    with pytest.raises(ValueError, match="steps"):
        train_shallow(x, x[:, 0], 3, steps=-1)
    with pytest.raises(TypeError, match="seed"):
        train_shallow(x, x[:, 0], 3, seed=True)
    with pytest.raises(ValueError, match="expected M to be an int >= 1"):
        train_shallow(x, x[:, 0], 0)
