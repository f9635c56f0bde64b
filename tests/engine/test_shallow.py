"""Tests of nnbook.engine.shallow: the shallow network f(x) = sum_m beta_m sigma(w_m^T x + b_m),
its parameter count (d + 2) M and the least-squares output weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnbook.engine import activations
from nnbook.engine.shallow import ShallowNet, least_squares_beta, n_parameters


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
