"""Tests for nnbook.engine.rnn: the Elman RNN's forward pass and backpropagation through
time against PyTorch (``torch.nn.RNN`` and autograd) in float64, and the Jacobian products."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnbook.engine.rnn import RNN, jacobian_norms, state_jacobian

FAST = settings(max_examples=30, deadline=None)
TOL = 1e-10

TORCH_ACT = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "identity": lambda z: z,
}


def random_layer(d, M, activation, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    layer = RNN(d, M, activation, rng=rng)
    layer.W_hh.data[:] = scale * rng.standard_normal((M, M)) / np.sqrt(M)
    layer.b_h.data[:] = rng.standard_normal(M)
    return layer, rng


def torch_nn_rnn(layer):
    """torch.nn.RNN (float64) with the layer's weights: b_h in bias_ih, bias_hh = 0."""
    r = torch.nn.RNN(
        layer.d, layer.M, nonlinearity=layer.activation.name, batch_first=True, dtype=torch.float64
    )
    with torch.no_grad():
        r.weight_ih_l0.copy_(torch.tensor(layer.W_xh.data))
        r.weight_hh_l0.copy_(torch.tensor(layer.W_hh.data))
        r.bias_ih_l0.copy_(torch.tensor(layer.b_h.data))
        r.bias_hh_l0.zero_()
    return r


def torch_loop(X, W_xh, W_hh, b_h, h0, f):
    """h_t = f(W_hh h_{t-1} + W_xh x_t + b_h), one sequence at a time, in torch."""
    out = []
    for i in range(X.shape[0]):
        h, states = h0[i], []
        for t in range(X.shape[1]):
            h = f(W_hh @ h + W_xh @ X[i, t] + b_h)
            states.append(h)
        out.append(torch.stack(states))
    return torch.stack(out)


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0), 1e-300)
    return float(np.abs(a - b).max() / scale)


@FAST
@given(
    n=st.integers(1, 5),
    T=st.integers(1, 9),
    d=st.integers(1, 4),
    M=st.integers(1, 6),
    activation=st.sampled_from(["tanh", "relu"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_forward_and_bptt_match_torch_nn_rnn(n, T, d, M, activation, seed):
    layer, rng = random_layer(d, M, activation, seed)
    X, h0, G = (rng.standard_normal(s) for s in [(n, T, d), (n, M), (n, T, M)])
    H = layer.forward(X, h0)
    dX = layer.backward(G)

    r = torch_nn_rnn(layer)
    Xt = torch.tensor(X, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    Ht, h_last = r(Xt, h0t)
    (Ht * torch.tensor(G)).sum().backward()  # R = sum_t <G_t, h_t>, so dR/dH = G

    assert H.shape == (n, T, M) and dX.shape == (n, T, d)
    assert np.abs(H - Ht.detach().numpy()).max() < TOL
    np.testing.assert_allclose(H[:, -1], h_last[0].detach().numpy(), rtol=0, atol=TOL)
    assert np.abs(dX - Xt.grad.numpy()).max() < TOL
    assert np.abs(layer.grad_h0 - h0t.grad[0].numpy()).max() < TOL
    assert np.abs(layer.W_xh.grad - r.weight_ih_l0.grad.numpy()).max() < TOL
    assert np.abs(layer.W_hh.grad - r.weight_hh_l0.grad.numpy()).max() < TOL
    assert np.abs(layer.b_h.grad - r.bias_ih_l0.grad.numpy()).max() < TOL


@FAST
@given(
    n=st.integers(1, 3),
    T=st.integers(1, 7),
    d=st.integers(1, 3),
    M=st.integers(1, 4),
    activation=st.sampled_from(["sigmoid", "identity", "tanh"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_bptt_matches_autograd_of_a_plain_loop(n, T, d, M, activation, seed):
    # activations torch.nn.RNN does not offer: compare with autograd through a loop
    layer, rng = random_layer(d, M, activation, seed)
    X, G = rng.standard_normal((n, T, d)), rng.standard_normal((n, T, M))
    H = layer.forward(X)
    dX = layer.backward(G)
    params = [torch.tensor(p.data, requires_grad=True) for p in layer.parameters()]
    Xt = torch.tensor(X, requires_grad=True)
    Ht = torch_loop(Xt, *params, torch.zeros(n, M, dtype=torch.float64), TORCH_ACT[activation])
    (Ht * torch.tensor(G)).sum().backward()
    assert np.abs(H - Ht.detach().numpy()).max() < TOL
    assert rel_err(dX, Xt.grad.numpy()) < TOL
    for p, q in zip(layer.parameters(), params):
        assert rel_err(p.grad, q.grad.numpy()) < TOL, p.name


def test_bptt_matches_finite_differences():
    layer, rng = random_layer(2, 3, "tanh", 7)
    X, G = rng.standard_normal((2, 6, 2)), rng.standard_normal((2, 6, 3))

    def R():
        return float(np.sum(layer.forward(X) * G))

    layer.forward(X)
    layer.backward(G)
    eps = 1e-6
    for p in layer.parameters():
        num = np.zeros_like(p.data)
        for idx in np.ndindex(p.shape):
            old = p.data[idx]
            p.data[idx] = old + eps
            up = R()
            p.data[idx] = old - eps
            down = R()
            p.data[idx] = old
            num[idx] = (up - down) / (2 * eps)
        assert rel_err(p.grad, num) < 1e-7, p.name


def test_type_1_loss_reaches_every_step():
    # a loss on h_T only (type 1): G is zero except at the last step, and still every
    # earlier input receives a gradient through the chain of states
    layer, rng = random_layer(2, 4, "tanh", 3)
    X = rng.standard_normal((3, 5, 2))
    G = np.zeros((3, 5, 4))
    G[:, -1] = rng.standard_normal((3, 4))
    layer.forward(X)
    dX = layer.backward(G)
    assert np.all(np.abs(dX).sum(axis=2) > 0)


def test_gradients_accumulate_and_zero_grad_resets():
    layer, rng = random_layer(2, 3, "tanh", 4)
    X, G = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 4, 3))
    layer.forward(X)
    layer.backward(G)
    once = [p.grad.copy() for p in layer.parameters()]
    layer.backward(G)
    for p, g in zip(layer.parameters(), once):
        np.testing.assert_allclose(p.grad, 2 * g, rtol=1e-14, atol=0)
    layer.zero_grad()
    assert all(np.all(p.grad == 0) for p in layer.parameters())


def test_parameter_count_does_not_depend_on_the_length():
    layer = RNN(3, 12, rng=0)
    assert layer.n_parameters() == 12 * 3 + 12 * 12 + 12
    r = torch_nn_rnn(layer)
    # torch keeps two bias vectors, b_ih and b_hh, whose sum is b_h: M more numbers
    assert sum(p.numel() for p in r.parameters()) == layer.n_parameters() + 12


def test_float32_layer_stays_float32():
    layer = RNN(2, 3, rng=0, dtype=np.float32)
    H = layer.forward(np.ones((1, 4, 2)))
    assert H.dtype == np.float32
    assert layer.backward(np.ones((1, 4, 3), dtype=np.float32)).dtype == np.float32


@FAST
@given(
    n=st.integers(1, 3),
    T=st.integers(1, 8),
    M=st.integers(1, 5),
    activation=st.sampled_from(["tanh", "identity", "sigmoid"]),
    seed=st.integers(0, 2**31 - 1),
    data=st.data(),
)
def test_state_jacobian_matches_autograd(n, T, M, activation, seed, data):
    t = data.draw(st.integers(0, T), label="t")
    layer, rng = random_layer(2, M, activation, seed, scale=1.5)
    X = rng.standard_normal((n, T, 2))
    H = layer.forward(X)
    P = state_jacobian(layer.W_hh.data, layer.preactivations, t, activation)
    assert P.shape == (n, M, M)
    W_xh, W_hh, b_h = (torch.tensor(p.data) for p in layer.parameters())
    f = TORCH_ACT[activation]

    def run_from(h, xs):  # h_t -> h_T through the steps t+1, ..., T
        for x_s in xs:
            h = f(W_hh @ h + W_xh @ x_s + b_h)
        return h

    for i in range(n):
        h_t = torch.zeros(M, dtype=torch.float64) if t == 0 else torch.tensor(H[i, t - 1])

        x = torch.tensor(X[i])
        J = torch.autograd.functional.jacobian(lambda h, x=x: run_from(h, x[t:]), h_t).numpy()
        assert np.abs(P[i] - J).max() < TOL * max(1.0, np.abs(J).max())


def test_jacobian_norms_are_the_norms_of_the_products():
    layer, rng = random_layer(2, 4, "tanh", 5, scale=2.0)
    layer.forward(rng.standard_normal((3, 7, 2)))
    Z = layer.preactivations
    norms = jacobian_norms(layer.W_hh.data, Z)
    assert norms.shape == (3, 8)
    for k in range(8):  # column k is the distance T - t = k
        P = state_jacobian(layer.W_hh.data, Z, 7 - k)
        np.testing.assert_allclose(norms[:, k], [np.linalg.svd(p)[1][0] for p in P], rtol=1e-12)


def test_linear_rnn_jacobian_is_a_matrix_power():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 4))
    Z = rng.standard_normal((1, 6, 4))  # any pre-activations: f' = 1 for the identity
    for t in range(7):
        np.testing.assert_allclose(
            state_jacobian(W, Z, t, "identity")[0], np.linalg.matrix_power(W, 6 - t), rtol=1e-12
        )


@pytest.mark.parametrize(
    ("X", "h0", "match"),
    [
        (np.zeros((2, 3)), None, r"expected X of shape \(n, T, 2\)"),
        (np.zeros((2, 3, 5)), None, r"expected X of shape \(n, T, 2\)"),
        (np.zeros((2, 0, 2)), None, "T >= 1"),
        (np.zeros((2, 3, 2)), np.zeros((2, 4)), r"expected h0 of shape \(2, 3\)"),
        (np.full((1, 2, 2), np.nan), None, "finite"),
    ],
)
def test_forward_rejects_bad_input(X, h0, match):
    with pytest.raises(ValueError, match=match):
        RNN(2, 3, rng=0).forward(X, h0)


def test_backward_needs_forward_and_the_right_shape():
    layer = RNN(2, 3, rng=0)
    with pytest.raises(RuntimeError, match="call forward before backward"):
        layer.backward(np.zeros((1, 4, 3)))
    layer.forward(np.zeros((1, 4, 2)))
    with pytest.raises(ValueError, match=r"expected grad_out of shape \(1, 4, 3\)"):
        layer.backward(np.zeros((1, 4, 2)))
    with pytest.raises(ValueError, match="t <= T"):
        state_jacobian(layer.W_hh.data, layer.preactivations, 5)


def test_constructor_validates():
    with pytest.raises(ValueError, match="M"):
        RNN(2, 0)
    with pytest.raises(ValueError, match="activation name"):
        RNN(2, 3, "swish")
