"""Tests for nnbook.engine.layers (Linear, Activation, Dropout, Parameter) and
nnbook.engine.init."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnbook.engine import activations
from nnbook.engine.init import ALIASES, INITIALIZERS, init
from nnbook.engine.layers import Activation, Dropout, Linear, Parameter

FAST = settings(max_examples=25, deadline=None)

# The PyTorch function for each activation: an independent implementation to compare with.
TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "softplus": torch.nn.functional.softplus,
    "gelu": torch.nn.functional.gelu,
    "identity": lambda z: z,
}


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0))
    return 0.0 if scale == 0 else float(np.abs(a - b).max() / scale)


# ---------------------------------------------------------------------------- Linear


def test_linear_matches_the_slide_formula_sample_by_sample():
    layer = Linear(4, 3, rng=0)
    layer.b.data[:] = [0.5, -1.0, 2.0]
    F = np.random.default_rng(1).standard_normal((5, 4))
    Z = layer.forward(F)
    assert layer.W.shape == (3, 4) and layer.b.shape == (3,)
    for i in range(5):  # W_l f_l + b_l for each sample, one at a time
        expected = [
            sum(layer.W.data[j, k] * F[i, k] for k in range(4)) + layer.b.data[j] for j in range(3)
        ]
        np.testing.assert_allclose(Z[i], expected, rtol=1e-13, atol=1e-13)


@FAST
@given(
    n=st.integers(1, 9),
    d_in=st.integers(1, 9),
    d_out=st.integers(1, 9),
    seed=st.integers(0, 2**31 - 1),
)
def test_linear_forward_backward_match_torch_float64(n, d_in, d_out, seed):
    rng = np.random.default_rng(seed)
    layer = Linear(d_in, d_out, init="xavier_normal", rng=rng)
    layer.b.data[:] = rng.standard_normal(d_out)
    F = rng.standard_normal((n, d_in))
    G = rng.standard_normal((n, d_out))

    W_t = torch.tensor(layer.W.data, requires_grad=True)
    b_t = torch.tensor(layer.b.data, requires_grad=True)
    F_t = torch.tensor(F, requires_grad=True)
    Z_t = torch.nn.functional.linear(F_t, W_t, b_t)
    Z_t.backward(torch.tensor(G))

    layer.zero_grad()
    Z = layer.forward(F)
    dF = layer.backward(G)
    assert rel_err(Z, Z_t.detach().numpy()) <= 1e-12
    assert rel_err(layer.W.grad, W_t.grad.numpy()) <= 1e-10
    assert rel_err(layer.b.grad, b_t.grad.numpy()) <= 1e-10
    assert rel_err(dF, F_t.grad.numpy()) <= 1e-10


def test_linear_gradients_accumulate_until_zero_grad():
    rng = np.random.default_rng(0)
    layer = Linear(3, 2, rng=rng)
    F, G = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer.forward(F)
    layer.backward(G)
    once = [g.copy() for g in layer.grads()]
    np.testing.assert_allclose(once[0], G.T @ F)
    np.testing.assert_allclose(once[1], G.sum(axis=0))
    layer.backward(G)
    np.testing.assert_allclose(layer.W.grad, 2 * once[0])
    layer.zero_grad()
    assert not layer.W.grad.any() and not layer.b.grad.any()
    layer.backward(G)
    np.testing.assert_allclose(layer.W.grad, once[0])


def test_a_gradient_written_by_hand_after_zero_grad_is_kept():
    # zero_grad lets backward overwrite instead of add; a user's own write must switch that off.
    rng = np.random.default_rng(0)
    layer = Linear(3, 2, rng=rng)
    F, G = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer.zero_grad()
    layer.W.grad[...] = 1.0
    layer.forward(F)
    layer.backward(G)
    np.testing.assert_allclose(layer.W.grad, 1.0 + G.T @ F)


def test_linear_input_grad_can_be_skipped():
    layer = Linear(3, 2, rng=0)
    layer.forward(np.ones((4, 3)))
    assert layer.backward(np.ones((4, 2)), input_grad=False) is None
    assert layer.W.grad.any()


def test_linear_float32_stays_float32():
    layer = Linear(5, 3, rng=0, dtype=np.float32)
    F = np.ones((4, 5), dtype=np.float32)
    Z = layer.forward(F)
    dF = layer.backward(np.ones((4, 3), dtype=np.float32))
    assert Z.dtype == dF.dtype == layer.W.grad.dtype == layer.b.grad.dtype == np.float32


def test_linear_rejects_bad_input_with_a_message_naming_the_expectation():
    layer = Linear(784, 10, rng=0)
    with pytest.raises(ValueError, match=r"expected F of shape \(n, 784\), got \(784,\)"):
        layer.forward(np.zeros(784))
    with pytest.raises(ValueError, match=r"expected F of shape \(n, 784\), got \(2, 783\)"):
        layer.forward(np.zeros((2, 783)))
    with pytest.raises(TypeError, match="expected F of dtype float64.*got float32"):
        layer.forward(np.zeros((2, 784), dtype=np.float32))
    with pytest.raises(TypeError, match="numeric"):
        layer.forward("pixels")
    with pytest.raises(RuntimeError, match="forward before backward"):
        Linear(3, 2).backward(np.zeros((1, 2)))
    layer.forward(np.zeros((2, 784)))
    with pytest.raises(ValueError, match=r"expected grad_out of shape \(2, 10\)"):
        layer.backward(np.zeros((2, 9)))
    with pytest.raises(ValueError, match="d_in"):
        Linear(0, 3)
    with pytest.raises(TypeError, match="float32 or float64"):
        Linear(3, 2, dtype=np.int64)


def test_integer_input_is_converted_not_rejected():
    layer = Linear(3, 2, rng=0)
    Z = layer.forward(np.array([[1, 2, 3]], dtype=np.uint8))
    assert Z.dtype == np.float64
    np.testing.assert_allclose(Z, layer.forward(np.array([[1.0, 2.0, 3.0]])))


# ---------------------------------------------------------------------------- Activation


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
def test_activation_layer_matches_torch_autograd(name):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((6, 5)) * 3
    g = rng.standard_normal((6, 5))
    z_t = torch.tensor(z, requires_grad=True)
    out_t = TORCH_ACT[name](z_t)
    out_t.backward(torch.tensor(g))
    layer = Activation(name)
    out = layer.forward(z)
    dz = layer.backward(g)
    assert rel_err(out, out_t.detach().numpy()) <= 1e-12
    assert rel_err(dz, z_t.grad.numpy()) <= 1e-10


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
def test_activation_layer_keeps_float32(name):
    layer = Activation(name)
    z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    out = layer.forward(z)
    dz = layer.backward(np.ones_like(z))
    assert out.dtype == dz.dtype == np.float32
    # and agrees with the float64 computation to float32 accuracy
    ref = Activation(name)
    np.testing.assert_allclose(out, ref.forward(z.astype(np.float64)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dz, ref.backward(np.ones((3, 4))), rtol=1e-5, atol=1e-6)


def test_relu_derivative_at_zero_is_zero_like_pytorch():
    layer = Activation("relu")
    layer.forward(np.array([[-1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(layer.backward(np.ones((1, 3))), [[0.0, 0.0, 1.0]])


def test_activation_rejects_bad_input():
    with pytest.raises(ValueError, match="activation name"):
        Activation("swish")
    layer = Activation("tanh")
    with pytest.raises(RuntimeError, match="forward before backward"):
        layer.backward(np.ones((2, 2)))
    layer.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expected grad_out of shape \(2, 3\)"):
        layer.backward(np.ones((3, 2)))


# ---------------------------------------------------------------------------- Dropout


def test_dropout_drops_with_probability_phi_and_keeps_the_mean():
    phi = 0.3
    layer = Dropout(phi, rng=0)
    h = np.ones((2000, 50))
    out = layer.forward(h)
    dropped = np.mean(out == 0)
    assert abs(dropped - phi) < 0.01  # binomial s.d. is about 0.0015
    assert np.allclose(out[out != 0], 1 / (1 - phi))  # kept units scaled by 1/(1 - phi)
    assert abs(out.mean() - 1.0) < 0.02  # E[h~] = h


def test_dropout_backward_uses_the_forward_mask():
    rng = np.random.default_rng(0)
    layer = Dropout(0.5, rng=1)
    h = rng.standard_normal((30, 20))
    out = layer.forward(h)
    g = rng.standard_normal((30, 20))
    dh = layer.backward(g)
    kept = out != 0
    np.testing.assert_allclose(dh[kept], 2 * g[kept])
    assert not dh[~kept].any()
    np.testing.assert_allclose(out, h * layer.mask)


def test_dropout_eval_mode_is_the_identity_and_seeds_reproduce():
    h = np.random.default_rng(0).standard_normal((10, 10))
    layer = Dropout(0.4, rng=7).eval()
    np.testing.assert_array_equal(layer.forward(h), h)
    np.testing.assert_array_equal(layer.backward(h), h)
    a = Dropout(0.4, rng=7).forward(h)
    b = Dropout(0.4, rng=7).forward(h)
    c = Dropout(0.4, rng=8).forward(h)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert layer.train().training


def test_dropout_float32_and_bad_phi():
    out = Dropout(0.5, rng=0).forward(np.ones((4, 4), dtype=np.float32))
    assert out.dtype == np.float32
    for phi in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"\[0, 1\)"):
            Dropout(phi)
    with pytest.raises(TypeError, match="number"):
        Dropout("0.5")


# ---------------------------------------------------------------------------- Parameter


def test_parameter_grad_setter_checks_the_shape():
    p = Parameter(np.zeros((2, 3)), "W")
    p.grad = np.ones((2, 3))
    assert p.grad.sum() == 6
    with pytest.raises(ValueError, match=r"expected grad of W of shape \(2, 3\)"):
        p.grad = np.ones(3)


# ---------------------------------------------------------------------------- init


def test_every_initialiser_has_the_slide_shape_and_dtype():
    for name in list(INITIALIZERS) + list(ALIASES):
        for dtype in (np.float32, np.float64):
            W = init(name, d_in=7, d_out=5, rng=0, dtype=dtype)
            assert W.shape == (5, 7) and W.dtype == dtype


@pytest.mark.parametrize(
    "name, variance",
    [
        ("small", lambda d_in, d_out: 0.01**2),
        ("xavier_uniform", lambda d_in, d_out: 2 / (d_in + d_out)),
        ("xavier_normal", lambda d_in, d_out: 2 / (d_in + d_out)),
        ("he", lambda d_in, d_out: 2 / d_in),
        ("pytorch", lambda d_in, d_out: 1 / (3 * d_in)),
    ],
)
def test_initialiser_variances_match_their_formulas(name, variance):
    d_in, d_out = 300, 500
    W = init(name, d_in, d_out, rng=1)
    assert abs(W.mean()) < 0.01 * np.sqrt(variance(d_in, d_out)) * 10
    assert W.var() == pytest.approx(variance(d_in, d_out), rel=0.02)


def test_uniform_initialisers_respect_their_bounds_like_torch():
    d_in, d_out = 40, 60
    W = init("xavier_uniform", d_in, d_out, rng=0)
    W_t = torch.empty(d_out, d_in, dtype=torch.float64)
    torch.nn.init.xavier_uniform_(W_t)  # PyTorch's bound, an independent reference
    assert np.abs(W).max() <= np.sqrt(6 / (d_in + d_out))
    assert np.abs(W).max() == pytest.approx(W_t.abs().max().item(), rel=0.05)


def test_init_is_seeded_and_float32_is_float64_rounded():
    a = init("he", 20, 10, rng=3)
    np.testing.assert_array_equal(a, init("he", 20, 10, rng=np.random.default_rng(3)))
    assert not np.array_equal(a, init("he", 20, 10, rng=4))
    np.testing.assert_array_equal(init("he", 20, 10, rng=3, dtype=np.float32), a.astype(np.float32))
    assert not init("zeros", 3, 2).any()


def test_init_rejects_unknown_names_and_bad_sizes():
    with pytest.raises(ValueError, match="expected init to be one of"):
        init("lecun", 3, 2)
    with pytest.raises(ValueError, match="d_out"):
        init("he", 3, 0)
    with pytest.raises(TypeError, match="rng"):
        init("he", 3, 2, rng="seed")


def test_activation_layers_leave_their_inputs_alone():
    rng = np.random.default_rng(0)
    z, g = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    for name in ("relu", "tanh"):
        layer = Activation(name)
        z2, g2 = z.copy(), g.copy()
        out = layer.forward(z2)
        dz = layer.backward(g2)
        assert out is not z2 and dz is not g2
        np.testing.assert_array_equal(z2, z)
        np.testing.assert_array_equal(g2, g)


def test_parameter_wraps_float_arrays_without_copying():
    theta = np.array([1.0, 2.0])
    p = Parameter(theta, "theta")
    assert p.data is theta  # an optimiser step changes the caller's array
    q = Parameter([1, 2])
    assert q.data.dtype == np.float64
    g = np.ones(2)
    p.grad = g
    p.accumulate(np.ones(2))
    assert g.tolist() == [1.0, 1.0]  # the setter copied
    assert p.grad.tolist() == [2.0, 2.0]
