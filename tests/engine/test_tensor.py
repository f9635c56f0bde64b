"""Tests of nnbook.engine.tensor: every gradient of Tensor against torch.autograd (float64)
and finite differences, and a tiny MLP trained with it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnbook.engine.autodiff import Value
from nnbook.engine.tensor import Tensor


def _pair(rng, shape, positive=False):
    a = rng.normal(size=shape)
    if positive:
        a = np.abs(a) + 0.5
    return Tensor(a), torch.tensor(a, dtype=torch.float64, requires_grad=True)


TENSOR_CASES = {
    "add_broadcast_row": (((4, 3), (3,)), lambda a, b: ((a + b) ** 2).sum()),
    "add_broadcast_col": (((4, 3), (4, 1)), lambda a, b: ((a + b) * (a - b)).mean()),
    "sub_mul": (((4, 3), (1, 3)), lambda a, b: ((a - b) * b * a).sum()),
    "div": (((4, 3), (4, 3)), lambda a, b: (a / b + 2.0 / b - a / 3.0).sum()),
    "matmul": (((4, 3), (3, 2)), lambda a, b: (a @ b).tanh().sum()),
    "transpose": (((4, 3), (4, 2)), lambda a, b: (a.T @ b).sigmoid().mean()),
    "exp_log": (((4, 3), (4, 3)), lambda a, b: ((a * 0.5).exp() + b.log()).sum()),
    "relu_pow": (((4, 3), (4, 3)), lambda a, b: (a.relu() ** 3 + b**-1).sum()),
    "neg_rsub": (((4, 3), (3,)), lambda a, b: ((1.0 - a) * (-b) + 2.0 * a).sum()),
    "sum_axis": (((4, 3), (4, 3)), lambda a, b: ((a * b).sum(axis=0) ** 2).sum()),
    "mean_axis": (((4, 3), (4, 3)), lambda a, b: ((a * b).mean(axis=1, keepdims=True) * a).sum()),
}


class T:
    """A torch tensor with the names of Tensor: .sum/.mean take axis, ** and @ as they are."""

    def __init__(self, t):
        self.t = t

    def _w(self, o):
        return o.t if isinstance(o, T) else o

    def __add__(self, o):
        return T(self.t + self._w(o))

    def __radd__(self, o):
        return T(o + self.t)

    def __sub__(self, o):
        return T(self.t - self._w(o))

    def __rsub__(self, o):
        return T(o - self.t)

    def __mul__(self, o):
        return T(self.t * self._w(o))

    def __rmul__(self, o):
        return T(o * self.t)

    def __truediv__(self, o):
        return T(self.t / self._w(o))

    def __rtruediv__(self, o):
        return T(o / self.t)

    def __matmul__(self, o):
        return T(self.t @ self._w(o))

    def __pow__(self, k):
        return T(self.t**k)

    def __neg__(self):
        return T(-self.t)

    @property
    def T(self):
        return T(self.t.T)

    def exp(self):
        return T(torch.exp(self.t))

    def log(self):
        return T(torch.log(self.t))

    def tanh(self):
        return T(torch.tanh(self.t))

    def sigmoid(self):
        return T(torch.sigmoid(self.t))

    def relu(self):
        return T(torch.relu(self.t))

    def sum(self, axis=None, keepdims=False):
        return T(self.t.sum() if axis is None else self.t.sum(dim=axis, keepdim=keepdims))

    def mean(self, axis=None, keepdims=False):
        return T(self.t.mean() if axis is None else self.t.mean(dim=axis, keepdim=keepdims))


def _torch_version(fn):
    """Run the same lambda on torch tensors (wrapped in T)."""
    return lambda a, b: fn(T(a), T(b)).t


@pytest.mark.parametrize("name", sorted(TENSOR_CASES))
def test_tensor_gradients_match_torch(name):
    (sa, sb), fn = TENSOR_CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    a, at = _pair(rng, sa)
    b, bt = _pair(rng, sb, positive=True)
    out = fn(a, b)
    out.backward()
    outt = _torch_version(fn)(at, bt)
    outt.backward()
    assert out.item() == pytest.approx(outt.item(), rel=1e-12)
    np.testing.assert_allclose(a.grad, at.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad, bt.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


def test_tensor_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    A, B = rng.normal(size=(3, 4)), rng.normal(size=(4,))

    def loss(a_data):
        return ((Tensor(a_data) + B).tanh() ** 2).mean()

    a = Tensor(A)
    out = ((a + B).tanh() ** 2).mean()
    out.backward()
    h, fd = 1e-6, np.zeros_like(A)
    for idx in np.ndindex(*A.shape):
        E = np.zeros_like(A)
        E[idx] = h
        fd[idx] = (loss(A + E).item() - loss(A - E).item()) / (2 * h)
    np.testing.assert_allclose(a.grad, fd, rtol=1e-6, atol=1e-9)


def test_tensor_backward_of_a_non_scalar_needs_a_grad_and_computes_a_vjp():
    rng = np.random.default_rng(1)
    a, at = _pair(rng, (3, 2))
    y = a.tanh()
    with pytest.raises(ValueError, match="needs a scalar output"):
        y.backward()
    u = rng.normal(size=(3, 2))
    y.backward(u)
    torch.tanh(at).backward(torch.tensor(u))
    np.testing.assert_allclose(a.grad, at.grad.numpy(), rtol=1e-12)


def test_tensor_bad_input():
    with pytest.raises(TypeError, match="expected data to be a numeric array"):
        Tensor("abc")
    with pytest.raises(ValueError, match=r"\(n, k\) @ \(k, m\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match="cannot combine a Tensor with a Value"):
        Tensor(np.ones(2)) + Value(1.0)


def _mlp_loss(params, X, y):
    """Mean squared error of a 2-layer tanh MLP, rows are samples:
    sigma(X W_0^T + b_0) W_1^T + b_1."""
    W0, b0, W1, b1 = params
    out = (X @ W0.T + b0).tanh() @ W1.T + b1
    return ((out - y) ** 2).mean()


def test_tiny_mlp_gradients_match_torch_and_training_fits_xor():
    rng = np.random.default_rng(0)
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    init = [rng.normal(0, 1, (8, 2)), np.zeros(8), rng.normal(0, 0.5, (1, 8)), np.zeros(1)]

    params = [Tensor(p) for p in init]
    loss = _mlp_loss(params, Tensor(X), Tensor(y))
    loss.backward()
    tparams = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in init]
    tloss = _mlp_loss(tparams, torch.tensor(X), torch.tensor(y))
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-14)

    eta = 0.1
    first = loss.item()
    for _ in range(300):
        for p in params:
            p.grad = np.zeros_like(p.data)
        loss = _mlp_loss(params, Tensor(X), Tensor(y))
        loss.backward()
        for p in params:
            p.data -= eta * p.grad
    assert loss.item() < 0.01 < 0.2 < first
