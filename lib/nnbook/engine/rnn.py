"""The Elman recurrent network from scratch: forward over a sequence, and backpropagation
through time (BPTT).

A sequence x_1, ..., x_T with x_t in R^d is read one element at a time. The hidden state
h_t in R^M is updated with the *same* parameters theta = (W_xh, W_hh, b_h) at every step
(the lecture's appendix, "RNN: basic architecture"):

    h_0 given (0 by default),   z_t = W_hh h_{t-1} + W_xh x_t + b_h,   h_t = f(z_t),

which is the slide's h_t = g(h_{t-1}, x_t, theta) with g(h, x, theta) = f(W_hh h + W_xh x + b_h).
An output map o_t = u(h_t, phi), for example a :class:`~nnbook.engine.layers.Linear` layer,
reads the states: all of them for one output per step ("type 2"), only h_T for one output
per sequence ("type 1", o_T).

Backpropagation through time is backpropagation on the unrolled network, whose T layers
share their weights. With G_t = dR/dh_t through the output o_t only, the co-state
p_t = dR/dh_t (through o_t and through all later states) runs backwards in time:

    p_T = G_T,    delta_t = p_t * f'(z_t),    p_{t-1} = G_{t-1} + W_hh^T delta_t,

and the gradient of each shared parameter is the sum of its contributions at every step:

    dR/dW_hh = sum_t delta_t h_{t-1}^T,   dR/dW_xh = sum_t delta_t x_t^T,   dR/db_h = sum_t delta_t.

One step's Jacobian is dh_t/dh_{t-1} = diag(f'(z_t)) W_hh, so

    dh_T/dh_t = prod_{s=t+1}^{T} diag(f'(z_s)) W_hh    (the last factor on the left),

a product of T - t matrices whose norm can vanish or explode as T - t grows
(:func:`state_jacobian`, :func:`jacobian_norms`).

Batches are ``(n, T, d)`` (PyTorch's ``batch_first`` layout): row i of ``X[:, t]`` is x_t of
sequence i, so z_t reads, for the whole batch, Z_t = H_{t-1} W_hh^T + X_t W_xh^T + b_h.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._util import as_array, as_rng, positive_int
from . import activations
from .init import as_float_dtype
from .init import init as draw_weights
from .layers import Layer, Parameter, _check_grad

Array = np.ndarray

__all__ = ["RNN", "state_jacobian", "jacobian_norms"]


class RNN(Layer):
    """An Elman RNN layer: H = (h_1, ..., h_T) for a batch of sequences X.

    h_t = f(W_hh h_{t-1} + W_xh x_t + b_h), with ``W_xh`` ``(M, d)``, ``W_hh`` ``(M, M)``
    and ``b_h`` ``(M,)`` shared by all steps. ``forward(X, h0)`` takes X of shape
    ``(n, T, d)`` and returns H of shape ``(n, T, M)``; H[:, -1] is h_T. ``backward(G)``
    takes G = dR/dH through the outputs, ``(n, T, M)`` (zero except at the last step for a
    type-1 output), adds the BPTT sums to the gradients and returns dR/dX; dR/dh_0 is left
    in ``grad_h0``.

    f is ``activation`` (an activation name of :mod:`nnbook.engine.activations`, tanh by
    default). W_xh and W_hh are drawn with the scheme ``init``; b_h starts at 0.
    """

    def __init__(
        self,
        d: int,
        M: int,
        activation: str = "tanh",
        *,
        init: str = "xavier_uniform",
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        self.d, self.M = positive_int(d, "d"), positive_int(M, "M")
        self.activation = activations.get(activation)
        self.dtype = as_float_dtype(dtype)
        rng = as_rng(rng)
        self.W_xh = Parameter(draw_weights(init, self.d, self.M, rng, self.dtype), "W_xh")
        self.W_hh = Parameter(draw_weights(init, self.M, self.M, rng, self.dtype), "W_hh")
        self.b_h = Parameter(np.zeros(self.M, dtype=self.dtype), "b_h")
        self.grad_h0: Array | None = None
        self._cache: tuple[Array, Array, Array, Array] | None = None

    def forward(self, X: Array, h0: Array | None = None) -> Array:
        """H = (h_1, ..., h_T), shape ``(n, T, M)``: h_t = f(W_hh h_{t-1} + W_xh x_t + b_h)."""
        X, h = self._check_input(X, h0)
        n, T, M = X.shape[0], X.shape[1], self.M
        Z = np.empty((n, T, M), dtype=self.dtype)  # the pre-activations z_1, ..., z_T
        H = np.empty((n, T, M), dtype=self.dtype)  # the states h_1, ..., h_T
        self._cache = (X, h, Z, H)
        for t in range(T):  # rows are sequences: (h W_hh^T)_i = W_hh h_i
            Z[:, t] = h @ self.W_hh.data.T + X[:, t] @ self.W_xh.data.T + self.b_h.data
            h = self.activation.f(Z[:, t])
            H[:, t] = h
        return H

    def backward(self, G: Array) -> Array:
        """Backpropagation through time: G = dR/dH via the outputs only, ``(n, T, M)``.

        Adds sum_t delta_t h_{t-1}^T to W_hh.grad, sum_t delta_t x_t^T to W_xh.grad and
        sum_t delta_t to b_h.grad; returns dR/dX ``(n, T, d)`` and keeps dR/dh_0 in ``grad_h0``.
        """
        X, h0, Z, H = self._checked_cache()
        G = _check_grad(G, H.shape, H.dtype)
        dX = np.zeros_like(X)
        p = np.zeros_like(h0)  # W_hh^T delta_{T+1}: nothing comes back from after step T
        for t in reversed(range(X.shape[1])):
            p = p + G[:, t]  # p_t = G_t + W_hh^T delta_{t+1} = dR/dh_t
            delta = p * self.activation.df(Z[:, t])  # delta_t = dR/dz_t
            h_prev = H[:, t - 1] if t > 0 else h0
            self.W_hh.grad += delta.T @ h_prev  # + delta_t h_{t-1}^T, summed over the batch
            self.W_xh.grad += delta.T @ X[:, t]  # + delta_t x_t^T
            self.b_h.grad += delta.sum(axis=0)  # + delta_t
            dX[:, t] = delta @ self.W_xh.data  # dR/dx_t = W_xh^T delta_t
            p = delta @ self.W_hh.data  # W_hh^T delta_t, carried back to step t - 1
        self.grad_h0 = p
        return dX

    @property
    def preactivations(self) -> Array:
        """Z = (z_1, ..., z_T) of the last forward pass, shape ``(n, T, M)``."""
        return self._checked_cache()[2]

    def parameters(self) -> list[Parameter]:
        """``[W_xh, W_hh, b_h]``."""
        return [self.W_xh, self.W_hh, self.b_h]

    def n_parameters(self) -> int:
        """M d + M^2 + M, whatever the length T of the sequences."""
        return sum(p.size for p in self.parameters())

    def _check_input(self, X: Any, h0: Any) -> tuple[Array, Array]:
        """X as an ``(n, T, d)`` array of the layer's dtype, and h_0 ``(n, M)`` (0 by default)."""
        X = as_array(X, "X", dtype=self.dtype)
        if X.ndim != 3 or X.shape[2] != self.d or X.shape[1] < 1:
            raise ValueError(f"expected X of shape (n, T, {self.d}) with T >= 1, got {X.shape}")
        if h0 is None:
            return X, np.zeros((X.shape[0], self.M), dtype=self.dtype)
        return X, as_array(h0, "h0", shape=(X.shape[0], self.M), dtype=self.dtype)

    def _checked_cache(self) -> tuple[Array, Array, Array, Array]:
        if self._cache is None:
            raise RuntimeError("call forward before backward: there is no cached sequence")
        return self._cache

    def __repr__(self) -> str:
        return f"RNN(d={self.d}, M={self.M}, f={self.activation.name}, dtype={self.dtype})"


def state_jacobian(W_hh: Any, Z: Any, t: int, activation: str = "tanh") -> Array:
    """dh_T/dh_t = J_T J_{T-1} ... J_{t+1} with J_s = diag(f'(z_s)) W_hh, for 0 <= t <= T.

    ``Z`` holds the pre-activations z_1, ..., z_T of a batch, shape ``(n, T, M)`` (e.g.
    :attr:`RNN.preactivations`); returns the n Jacobians, shape ``(n, M, M)`` (the identity
    for t = T).
    """
    Z = as_array(Z, "Z", ndim=3)
    n, T, M = Z.shape
    W_hh = as_array(W_hh, "W_hh", shape=(M, M))
    t = positive_int(t, "t", minimum=0)
    if t > T:
        raise ValueError(f"expected 0 <= t <= T = {T}, got t = {t}")
    df = activations.get(activation).df
    P = np.broadcast_to(np.eye(M), (n, M, M))  # dh_t/dh_t = I
    for s in range(t + 1, T + 1):  # z_s is Z[:, s - 1]
        J = df(Z[:, s - 1])[:, :, None] * W_hh  # J_s = diag(f'(z_s)) W_hh
        P = J @ P  # dh_s/dh_t = J_s dh_{s-1}/dh_t
    return P


def jacobian_norms(W_hh: Any, Z: Any, activation: str = "tanh") -> Array:
    """||dh_T/dh_t||_2 (the largest singular value) for t = T, T-1, ..., 0, shape ``(n, T + 1)``.

    Column k is the distance T - t = k. The products are built from the end,
    dh_T/dh_{t-1} = (dh_T/dh_t) J_t, so all T + 1 of them cost T matrix products.
    """
    Z = as_array(Z, "Z", ndim=3)
    n, T, M = Z.shape
    W_hh = as_array(W_hh, "W_hh", shape=(M, M))
    df = activations.get(activation).df
    P = np.broadcast_to(np.eye(M), (n, M, M))
    norms = np.empty((n, T + 1))
    norms[:, 0] = 1.0
    for k in range(1, T + 1):  # t = T - k; J_{t+1} uses z_{t+1} = Z[:, T - k]
        P = P @ (df(Z[:, T - k])[:, :, None] * W_hh)
        norms[:, k] = np.linalg.norm(P, ord=2, axis=(1, 2))
    return norms
