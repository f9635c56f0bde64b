"""Tests for nnbook.engine.gradcheck: finite differences, and that they catch a wrong
backward pass."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnbook.engine import activations
from nnbook.engine.gradcheck import (
    gradcheck_mlp,
    gradient_errors,
    numerical_gradient,
    relative_error,
)
from nnbook.engine.layers import Activation
from nnbook.engine.losses import get as get_loss
from nnbook.engine.mlp import MLP

FAST = settings(max_examples=25, deadline=None)


def test_numerical_gradient_of_known_functions():
    theta = np.array([[0.3, -1.2], [2.0, 0.5]])
    before = theta.copy()
    g = numerical_gradient(lambda t: np.sum(np.sin(t)), theta)
    np.testing.assert_allclose(g, np.cos(before), rtol=1e-9)
    np.testing.assert_array_equal(theta, before)  # restored exactly
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = np.array([1.0, -1.0])
    np.testing.assert_allclose(numerical_gradient(lambda v: 0.5 * v @ A @ v, x), A @ x, rtol=1e-9)


def test_central_differences_are_second_order():
    # error of (f(x+e) - f(x-e)) / 2e for f = exp at 0 is e^2/6 + O(e^4)
    for eps in (1e-2, 1e-3):
        g = numerical_gradient(lambda t: float(np.exp(t[0])), np.array([0.0]), eps=eps)[0]
        assert g - 1 == pytest.approx(eps**2 / 6, rel=1e-3)


def test_relative_error():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert relative_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 2.2)
    assert relative_error(1e-20 * np.ones(3), 2e-20 * np.ones(3)) == pytest.approx(
        0.5
    )  # scale-free
    with pytest.raises(ValueError, match="same shape"):
        relative_error(np.ones(2), np.ones(3))


@FAST
@given(
    hidden=st.lists(st.integers(2, 6), min_size=0, max_size=3),
    activation=st.sampled_from(sorted(activations.ACTIVATIONS)),
    loss=st.sampled_from(["cross_entropy", "squared_error", "bce"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_backprop_agrees_with_finite_differences(hidden, activation, loss, seed):
    rng = np.random.default_rng(seed)
    K = 1 if loss == "bce" else 3
    model = MLP([3, *hidden, K], activation=activation, init="xavier_normal", rng=rng)
    for p in model.parameters()[1::2]:  # nonzero biases: no unit sits exactly on a kink (a dead
        p.data[:] = 0.5 * rng.standard_normal(p.shape)  # ReLU unit gives z = b exactly)
    X = rng.standard_normal((5, 3))
    y = {
        "cross_entropy": rng.integers(0, K, 5),
        "squared_error": rng.standard_normal((5, K)),
        "bce": rng.integers(0, 2, (5, 1)).astype(float),
    }[loss]
    errors = gradient_errors(model, loss, X, y, wrt_input=True)
    assert set(errors) == {p.name for p in model.parameters()} | {"X"}
    assert max(errors.values()) < 1e-2  # a wrong backward pass is off by order 1

    # Entry by entry: finite differences carry a rounding error of about 1e-16 |R| / eps
    # = 1e-10 |R| (gradients through several leaky-ReLU slopes of 0.01 are that small).
    loss_fn = get_loss(loss)
    model.zero_grad()
    R = loss_fn.forward(model.forward(X), y)
    model.backward(loss_fn.backward())
    for p in model.parameters():
        fd = numerical_gradient(lambda _: loss_fn.forward(model.forward(X), y), p.data)
        np.testing.assert_allclose(
            p.grad, fd, rtol=1e-5, atol=1e-8 * max(1.0, abs(R)), err_msg=p.name
        )


def test_gradcheck_catches_a_wrong_backward(monkeypatch):
    rng = np.random.default_rng(0)
    model = MLP([3, 4, 2], activation="tanh", rng=rng)
    X, y = rng.standard_normal((6, 3)), rng.integers(0, 2, 6)
    assert gradcheck_mlp(model, "cross_entropy", X, y) < 1e-7

    # a classic bug: forgetting sigma'(z) in the backward pass
    monkeypatch.setattr(Activation, "backward", lambda self, grad_out: grad_out)
    errors = gradient_errors(model, "cross_entropy", X, y)
    assert errors["W_0"] > 1e-2 and errors["b_0"] > 1e-2
    assert errors["W_1"] < 1e-7  # the output layer does not go through the bug
    assert gradcheck_mlp(model, "cross_entropy", X, y) > 1e-2


def test_gradcheck_switches_dropout_off_and_restores_the_mode():
    rng = np.random.default_rng(0)
    model = MLP([3, 8, 2], dropout=0.5, rng=rng)
    X, y = rng.standard_normal((6, 3)), rng.integers(0, 2, 6)
    assert gradcheck_mlp(model, "cross_entropy", X, y) < 1e-7
    assert model.training


def test_gradcheck_needs_float64():
    model = MLP([3, 2], dtype=np.float32)
    with pytest.raises(TypeError, match="float64"):
        gradcheck_mlp(model, "cross_entropy", np.zeros((2, 3), dtype=np.float32), [0, 1])
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda t: 0.0, np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda t: 0.0, [1.0, 2.0])
