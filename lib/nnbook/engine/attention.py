"""Attention and the Transformer encoder layer from scratch (Vaswani et al., 2017).

The slides write tokens as **rows**: a sequence of n tokens is a matrix X of shape
``(n, d_model)`` and a linear map is X W (W of shape ``(d_in, d_out)``). Every function
below also takes a batch of sequences, ``(B, n, d_model)``, by broadcasting over the
leading axes (PyTorch's ``batch_first`` layout).

Scaled dot-product attention (:func:`scaled_dot_product_attention`), for Q in R^{n x d_k},
K in R^{m x d_k}, V in R^{m x d_v}:

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V  in R^{n x d_v},

the softmax taken over each row (over the m keys). A boolean ``mask`` (n, m) says which
query may attend to which key (True = allowed, as in
``torch.nn.functional.scaled_dot_product_attention``); a forbidden score is set to -inf
before the softmax, so its weight is exactly 0. :func:`causal_mask` forbids the future.

Multi-head attention (:class:`MultiHeadAttention`):

    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,
    head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V),

with W_i^Q, W_i^K in R^{d_model x d_k}, W_i^V in R^{d_model x d_v}, W^O in R^{h d_v x d_model}
(stored side by side: ``W_Q`` is [W_1^Q, ..., W_h^Q], shape ``(d_model, h d_k)``) and, as in
PyTorch, a bias after each projection (the slides have none; ``bias=False`` drops them).

The encoder layer (:class:`EncoderLayer`) is post-norm, as on the slide: each sub-layer is
wrapped as LayerNorm(x + Sublayer(x)), first self-attention, then the position-wise
feed-forward network FFN(x) = max(0, x W_1 + b_1) W_2 + b_2 (:class:`PositionwiseFFN`), with
:class:`LayerNorm` (Ba et al., 2016) normalising each token over its d_model features.
:func:`sinusoidal_encoding` is the positional encoding, :func:`shift_matrix` the fixed linear
map taking PE(pos) to PE(pos + k).

Every layer has ``forward`` and ``backward`` (the co-state convention of
:mod:`nnbook.engine.layers`: ``backward(G)`` takes G = dR/d(output), adds to the parameters'
gradients and returns dR/d(input)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._util import as_array, as_rng, positive_float, positive_int
from .init import as_float_dtype
from .init import init as draw_weights
from .layers import Layer, Parameter, _check_grad

Array = np.ndarray

__all__ = [
    "softmax",
    "scaled_dot_product_attention",
    "attention_backward",
    "causal_mask",
    "MultiHeadAttention",
    "LayerNorm",
    "PositionwiseFFN",
    "EncoderLayer",
    "frequencies",
    "sinusoidal_encoding",
    "shift_matrix",
    "n_parameters",
]


# --------------------------------------------------------------------------- attention


def softmax(S: Array, axis: int = -1) -> Array:
    """softmax(s)_j = exp(s_j) / sum_l exp(s_l) along ``axis`` (computed as exp(s - max s);
    entries -inf get weight 0)."""
    E = np.exp(S - np.max(S, axis=axis, keepdims=True))
    return E / np.sum(E, axis=axis, keepdims=True)


def _check_qkv(Q: Any, K: Any, V: Any, mask: Any) -> tuple[Array, Array, Array, Array | None]:
    """Q (..., n, d_k), K (..., m, d_k), V (..., m, d_v) as float arrays; mask (n, m) bool."""
    Q, K, V = (_as_float(a, name) for a, name in [(Q, "Q"), (K, "K"), (V, "V")])
    if Q.ndim < 2 or K.ndim < 2 or V.ndim < 2:
        raise ValueError(
            f"expected Q (n, d_k), K (m, d_k), V (m, d_v), got {Q.shape}, {K.shape}, {V.shape}"
        )
    if K.shape[-1] != Q.shape[-1] or V.shape[-2] != K.shape[-2]:
        raise ValueError(
            f"expected Q (n, d_k), K (m, d_k) and V (m, d_v) with the same d_k and m, "
            f"got {Q.shape}, {K.shape}, {V.shape}"
        )
    if mask is None:
        return Q, K, V, None
    mask = np.asarray(mask)
    n, m = Q.shape[-2], K.shape[-2]
    if mask.dtype != bool or mask.shape[-2:] != (n, m):
        raise ValueError(
            f"expected a boolean mask of shape ({n}, {m}) (True = may attend), "
            f"got dtype {mask.dtype}, shape {mask.shape}"
        )
    if not mask.any(axis=-1).all():
        raise ValueError("expected every query to be allowed at least one key (a row of mask)")
    return Q, K, V, mask


def _as_float(x: Any, name: str) -> Array:
    if isinstance(x, np.ndarray) and x.dtype in (np.float32, np.float64):
        return x
    return as_array(x, name)


def scaled_dot_product_attention(Q: Any, K: Any, V: Any, mask: Any = None) -> tuple[Array, Array]:
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V, and the weights A = softmax(...).

    Q ``(..., n, d_k)``, K ``(..., m, d_k)``, V ``(..., m, d_v)``; ``mask`` ``(n, m)``, True
    where query i may attend to key j (forbidden scores become -inf). Returns the output
    ``(..., n, d_v)`` and A ``(..., n, m)``, whose rows sum to 1.
    """
    Q, K, V, mask = _check_qkv(Q, K, V, mask)
    d_k = Q.shape[-1]
    S = Q @ K.swapaxes(-1, -2) / math.sqrt(d_k)  # (1) Q K^T, (2) scaled
    if mask is not None:
        S = np.where(mask, S, -np.inf)  # illegal connections out, before the softmax
    A = softmax(S, axis=-1)  # (3) softmax over the m keys
    return A @ V, A  # (4) weight the values


def attention_backward(
    G: Array, Q: Array, K: Array, V: Array, A: Array
) -> tuple[Array, Array, Array]:
    """The gradients of R through O = A V, A = softmax(S), S = Q K^T / sqrt(d_k), given
    G = dR/dO and the weights A of the forward pass:

        dR/dV = A^T G,   dR/dA = G V^T,   dR/dS = A * (dR/dA - rowsum(A * dR/dA)),
        dR/dQ = dR/dS K / sqrt(d_k),   dR/dK = (dR/dS)^T Q / sqrt(d_k).
    """
    scale = 1.0 / math.sqrt(Q.shape[-1])
    dV = A.swapaxes(-1, -2) @ G
    dA = G @ V.swapaxes(-1, -2)
    dS = A * (dA - np.sum(A * dA, axis=-1, keepdims=True))  # the softmax's Jacobian, row-wise
    return dS @ K * scale, dS.swapaxes(-1, -2) @ Q * scale, dV


def causal_mask(n: int) -> Array:
    """The ``(n, n)`` boolean mask of masked (causal) self-attention: position i may attend to
    positions j <= i only (True on and below the diagonal)."""
    n = positive_int(n, "n")
    return np.tril(np.ones((n, n), dtype=bool))


# --------------------------------------------------------------------------- layers


def _flat(X: Array) -> Array:
    """All leading axes into one: ``(..., d)`` -> ``(N, d)`` (tokens as rows)."""
    return X.reshape(-1, X.shape[-1])


def _affine_backward(X: Array, G: Array, W: Parameter, b: Parameter | None) -> Array:
    """For Y = X W + b over any leading axes: W.grad += X^T G, b.grad += sum of the rows of G;
    returns dR/dX = G W^T."""
    W.grad += _flat(X).T @ _flat(G)
    if b is not None:
        b.grad += _flat(G).sum(axis=0)
    return G @ W.data.T


def _check_tokens(X: Any, name: str, d: int, dtype: np.dtype) -> Array:
    """X as a float array of shape ``(n, d)`` or ``(B, n, d)`` of the layer's dtype."""
    X = as_array(X, name, dtype=dtype)
    if X.ndim not in (2, 3) or X.shape[-1] != d or X.shape[-2] < 1:
        raise ValueError(f"expected {name} of shape (n, {d}) or (B, n, {d}), got {X.shape}")
    return X


def _weight(d_in: int, d_out: int, init: str, rng: np.random.Generator, dtype, name: str):
    """A ``(d_in, d_out)`` Parameter for the row convention X W (the transpose of
    :func:`nnbook.engine.init.init`'s ``(d_out, d_in)``)."""
    return Parameter(np.ascontiguousarray(draw_weights(init, d_in, d_out, rng, dtype).T), name)


def _bias(d: int, dtype, name: str, use: bool) -> Parameter | None:
    return Parameter(np.zeros(d, dtype=dtype), name) if use else None


class MultiHeadAttention(Layer):
    """Multi-head attention, Concat(head_1, ..., head_h) W^O + b^O with
    head_i = Attention(X_q W_i^Q + b_i^Q, X_kv W_i^K + b_i^K, X_kv W_i^V + b_i^V).

    ``forward(X_q, X_kv=None, mask=None)``: self-attention when ``X_kv`` is None (queries,
    keys and values all from X_q), cross-attention otherwise (queries from X_q ``(..., n,
    d_model)``, keys and values from X_kv ``(..., m, d_model)``). Returns ``(..., n, d_model)``
    and keeps the weights of every head in ``weights`` ``(..., h, n, m)``. ``backward(G)``
    returns ``(dR/dX_q, dR/dX_kv)``; for self-attention dR/dX is their sum.

    d_k = d_v = d_model / h by default. The projections are drawn with ``init``, biases 0.
    """

    def __init__(
        self,
        d_model: int,
        h: int,
        d_k: int | None = None,
        d_v: int | None = None,
        *,
        bias: bool = True,
        init: str = "xavier_uniform",
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        self.d_model, self.h = positive_int(d_model, "d_model"), positive_int(h, "h")
        if (d_k is None or d_v is None) and self.d_model % self.h:
            raise ValueError(f"expected d_model divisible by h, got d_model={d_model}, h={h}")
        self.d_k = positive_int(d_k, "d_k") if d_k is not None else self.d_model // self.h
        self.d_v = positive_int(d_v, "d_v") if d_v is not None else self.d_model // self.h
        self.dtype, rng, D = as_float_dtype(dtype), as_rng(rng), self.d_model
        hk, hv = self.h * self.d_k, self.h * self.d_v
        self.W_Q = _weight(D, hk, init, rng, self.dtype, "W_Q")
        self.W_K = _weight(D, hk, init, rng, self.dtype, "W_K")
        self.W_V = _weight(D, hv, init, rng, self.dtype, "W_V")
        self.W_O = _weight(hv, D, init, rng, self.dtype, "W_O")
        self.b_Q, self.b_K = _bias(hk, self.dtype, "b_Q", bias), _bias(hk, self.dtype, "b_K", bias)
        self.b_V, self.b_O = _bias(hv, self.dtype, "b_V", bias), _bias(D, self.dtype, "b_O", bias)
        self.weights: Array | None = None
        self._cache: tuple | None = None

    def _split(self, Z: Array) -> Array:
        """``(..., n, h d)`` -> ``(..., h, n, d)``: one slice per head."""
        return np.moveaxis(Z.reshape(*Z.shape[:-1], self.h, -1), -2, -3)

    @staticmethod
    def _merge(Z: Array) -> Array:
        """``(..., h, n, d)`` -> ``(..., n, h d)``: Concat(head_1, ..., head_h)."""
        Z = np.moveaxis(Z, -3, -2)
        return Z.reshape(*Z.shape[:-2], -1)

    def _project(self, X: Array, W: Parameter, b: Parameter | None) -> Array:
        return X @ W.data + (b.data if b is not None else 0.0)

    def forward(self, X_q: Array, X_kv: Array | None = None, mask: Array | None = None) -> Array:
        """MultiHead(X_q, X_kv, X_kv), shape ``(..., n, d_model)``."""
        X_q = _check_tokens(X_q, "X_q", self.d_model, self.dtype)
        X_kv = X_q if X_kv is None else _check_tokens(X_kv, "X_kv", self.d_model, self.dtype)
        Q = self._split(self._project(X_q, self.W_Q, self.b_Q))  # (..., h, n, d_k)
        K = self._split(self._project(X_kv, self.W_K, self.b_K))  # (..., h, m, d_k)
        V = self._split(self._project(X_kv, self.W_V, self.b_V))  # (..., h, m, d_v)
        heads, self.weights = scaled_dot_product_attention(Q, K, V, mask)
        C = self._merge(heads)  # Concat(head_1, ..., head_h), (..., n, h d_v)
        self._cache = (X_q, X_kv, Q, K, V, C)
        return self._project(C, self.W_O, self.b_O)

    def __call__(self, X_q: Array, X_kv: Array | None = None, mask: Array | None = None) -> Array:
        return self.forward(X_q, X_kv, mask)

    def backward(self, G: Array) -> tuple[Array, Array]:
        """Adds the gradients of all projections; returns ``(dR/dX_q, dR/dX_kv)``."""
        if self._cache is None:
            raise RuntimeError("call forward before backward: there is no cached input")
        X_q, X_kv, Q, K, V, C = self._cache
        G = _check_grad(G, (*X_q.shape[:-1], self.d_model), self.dtype)
        dC = _affine_backward(C, G, self.W_O, self.b_O)
        dQ, dK, dV = attention_backward(self._split(dC), Q, K, V, self.weights)
        dX_q = _affine_backward(X_q, self._merge(dQ), self.W_Q, self.b_Q)
        dX_kv = _affine_backward(X_kv, self._merge(dK), self.W_K, self.b_K)
        dX_kv = dX_kv + _affine_backward(X_kv, self._merge(dV), self.W_V, self.b_V)
        return dX_q, dX_kv

    def parameters(self) -> list[Parameter]:
        """``[W_Q, W_K, W_V, W_O]``, each followed by its bias when there is one."""
        pairs = [(self.W_Q, self.b_Q), (self.W_K, self.b_K), (self.W_V, self.b_V)]
        pairs.append((self.W_O, self.b_O))
        return [p for pair in pairs for p in pair if p is not None]

    def __repr__(self) -> str:
        return (
            f"MultiHeadAttention(d_model={self.d_model}, h={self.h}, d_k={self.d_k}, "
            f"d_v={self.d_v}, bias={self.b_O is not None}, dtype={self.dtype})"
        )


class LayerNorm(Layer):
    """Layer normalisation of each token over its d features (Ba et al., 2016):

        LN(x) = gamma * (x - mu) / sqrt(s^2 + eps) + beta,
        mu = (1/d) sum_j x_j,  s^2 = (1/d) sum_j (x_j - mu)^2,

    gamma = 1 and beta = 0 at the start, eps = 1e-5 (PyTorch's default).
    """

    def __init__(self, d: int, eps: float = 1e-5, dtype: Any = np.float64) -> None:
        self.d, self.eps = positive_int(d, "d"), positive_float(eps, "eps")
        self.dtype = as_float_dtype(dtype)
        self.gamma = Parameter(np.ones(self.d, dtype=self.dtype), "gamma")
        self.beta = Parameter(np.zeros(self.d, dtype=self.dtype), "beta")
        self._cache: tuple[Array, Array] | None = None

    def forward(self, X: Array) -> Array:
        """gamma * x_hat + beta, x_hat = (x - mu) / sqrt(s^2 + eps), per token (last axis)."""
        X = as_array(X, "X", dtype=self.dtype)
        mu = X.mean(axis=-1, keepdims=True)
        sigma = np.sqrt(X.var(axis=-1, keepdims=True) + self.eps)
        X_hat = (X - mu) / sigma
        self._cache = (X_hat, sigma)
        return self.gamma.data * X_hat + self.beta.data

    def backward(self, G: Array) -> Array:
        """With g = G * gamma: dR/dx = (g - mean(g) - x_hat mean(g x_hat)) / sqrt(s^2 + eps)."""
        if self._cache is None:
            raise RuntimeError("call forward before backward: there is no cached input")
        X_hat, sigma = self._cache
        G = _check_grad(G, X_hat.shape, self.dtype)
        self.gamma.grad += _flat(G * X_hat).sum(axis=0)
        self.beta.grad += _flat(G).sum(axis=0)
        g = G * self.gamma.data
        mean_g = g.mean(axis=-1, keepdims=True)
        return (g - mean_g - X_hat * (g * X_hat).mean(axis=-1, keepdims=True)) / sigma

    def parameters(self) -> list[Parameter]:
        """``[gamma, beta]``."""
        return [self.gamma, self.beta]

    def __repr__(self) -> str:
        return f"LayerNorm(d={self.d}, eps={self.eps}, dtype={self.dtype})"


class PositionwiseFFN(Layer):
    """FFN(x) = max(0, x W_1 + b_1) W_2 + b_2, applied to each token separately and
    identically: W_1 ``(d_model, d_ff)``, W_2 ``(d_ff, d_model)``. Weights are drawn with
    ``init`` (PyTorch's ``nn.Linear`` default by default), biases start at 0."""

    def __init__(
        self,
        d_model: int,
        d_ff: int,
        *,
        init: str = "pytorch",
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        self.d_model, self.d_ff = positive_int(d_model, "d_model"), positive_int(d_ff, "d_ff")
        self.dtype, rng = as_float_dtype(dtype), as_rng(rng)
        self.W_1 = _weight(self.d_model, self.d_ff, init, rng, self.dtype, "W_1")
        self.b_1 = Parameter(np.zeros(self.d_ff, dtype=self.dtype), "b_1")
        self.W_2 = _weight(self.d_ff, self.d_model, init, rng, self.dtype, "W_2")
        self.b_2 = Parameter(np.zeros(self.d_model, dtype=self.dtype), "b_2")
        self._cache: tuple[Array, Array] | None = None

    def forward(self, X: Array) -> Array:
        """max(0, X W_1 + b_1) W_2 + b_2, row by row (shape of X)."""
        X = _check_tokens(X, "X", self.d_model, self.dtype)
        Z = X @ self.W_1.data + self.b_1.data  # (..., n, d_ff)
        self._cache = (X, Z)
        return np.maximum(0.0, Z) @ self.W_2.data + self.b_2.data

    def backward(self, G: Array) -> Array:
        """Adds the gradients of W_1, b_1, W_2, b_2; returns dR/dX."""
        if self._cache is None:
            raise RuntimeError("call forward before backward: there is no cached input")
        X, Z = self._cache
        G = _check_grad(G, X.shape, self.dtype)
        dH = _affine_backward(np.maximum(0.0, Z), G, self.W_2, self.b_2)
        return _affine_backward(X, dH * (Z > 0), self.W_1, self.b_1)

    def parameters(self) -> list[Parameter]:
        """``[W_1, b_1, W_2, b_2]``."""
        return [self.W_1, self.b_1, self.W_2, self.b_2]

    def __repr__(self) -> str:
        return f"PositionwiseFFN(d_model={self.d_model}, d_ff={self.d_ff}, dtype={self.dtype})"


class EncoderLayer(Layer):
    """One post-norm Transformer encoder layer, the slide's LayerNorm(x + Sublayer(x)) twice:

        Z = LayerNorm_1(X + MultiHead(X, X, X)),    Y = LayerNorm_2(Z + FFN(Z)).

    Attributes ``self_attn`` (:class:`MultiHeadAttention`), ``norm1``, ``ffn``
    (:class:`PositionwiseFFN`) and ``norm2``. ``forward(X, mask=None)`` takes X ``(n, d_model)``
    or ``(B, n, d_model)``; ``backward(G)`` returns dR/dX.
    """

    def __init__(
        self,
        d_model: int,
        h: int,
        d_ff: int,
        *,
        eps: float = 1e-5,
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        rng = as_rng(rng)
        self.self_attn = MultiHeadAttention(d_model, h, rng=rng, dtype=dtype)
        self.norm1 = LayerNorm(d_model, eps, dtype)
        self.ffn = PositionwiseFFN(d_model, d_ff, rng=rng, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps, dtype)

    def forward(self, X: Array, mask: Array | None = None) -> Array:
        """Y = LN_2(Z + FFN(Z)) with Z = LN_1(X + MultiHead(X, X, X)), the shape of X."""
        X = _check_tokens(X, "X", self.self_attn.d_model, self.self_attn.dtype)
        Z = self.norm1(X + self.self_attn(X, mask=mask))  # sub-layer 1: self-attention
        return self.norm2(Z + self.ffn(Z))  # sub-layer 2: position-wise FFN

    def __call__(self, X: Array, mask: Array | None = None) -> Array:
        return self.forward(X, mask)

    def backward(self, G: Array) -> Array:
        """dR/dX, through both residual connections; adds every parameter's gradient."""
        dU = self.norm2.backward(G)  # dR/d(Z + FFN(Z))
        dZ = dU + self.ffn.backward(dU)  # the residual path and the FFN path
        dV = self.norm1.backward(dZ)  # dR/d(X + MultiHead(X))
        dX_q, dX_kv = self.self_attn.backward(dV)
        return dV + dX_q + dX_kv  # X is query, key and value

    def parameters(self) -> list[Parameter]:
        """The parameters of ``self_attn``, ``norm1``, ``ffn`` and ``norm2``, in that order."""
        parts = [self.self_attn, self.norm1, self.ffn, self.norm2]
        return [p for part in parts for p in part.parameters()]

    def __repr__(self) -> str:
        a = self.self_attn
        return f"EncoderLayer(d_model={a.d_model}, h={a.h}, d_ff={self.ffn.d_ff}, dtype={a.dtype})"


def n_parameters(layer: Layer) -> int:
    """The number of trainable numbers in ``layer``: sum of the sizes of its parameters."""
    return sum(p.size for p in layer.parameters())


# --------------------------------------------------------------------------- positions


def frequencies(d_model: int, base: float = 10000.0) -> Array:
    """omega_i = base^(-2i / d_model), i = 0, ..., d_model/2 - 1 (``d_model`` even)."""
    d_model = positive_int(d_model, "d_model", minimum=2)
    if d_model % 2:
        raise ValueError(f"expected an even d_model (sin/cos pairs), got {d_model}")
    return positive_float(base, "base") ** (-np.arange(0, d_model, 2) / d_model)


def sinusoidal_encoding(n: int, d_model: int, base: float = 10000.0) -> Array:
    """The ``(n, d_model)`` sinusoidal positional encoding, positions pos = 0, ..., n - 1:

        PE(pos, 2i) = sin(pos omega_i),  PE(pos, 2i+1) = cos(pos omega_i),
        omega_i = base^(-2i / d_model),

    for i = 0, ..., d_model/2 - 1 (``d_model`` even): pair i oscillates at the frequency
    omega_i, from 1 down to about 1/base.
    """
    pos = np.arange(positive_int(n, "n"))[:, None]
    omega = frequencies(d_model, base)
    PE = np.empty((len(pos), len(omega) * 2))
    PE[:, 0::2] = np.sin(pos * omega)
    PE[:, 1::2] = np.cos(pos * omega)
    return PE


def shift_matrix(k: int, d_model: int, base: float = 10000.0) -> Array:
    """The ``(d_model, d_model)`` matrix R_k with PE(pos + k) = PE(pos) R_k for every pos.

    Block-diagonal, one 2 x 2 rotation per sin/cos pair: from sin(a + b) = sin a cos b +
    cos a sin b and cos(a + b) = cos a cos b - sin a sin b with b = k omega_i,

        [sin, cos](pos + k) = [sin, cos](pos) [[cos k omega_i, -sin k omega_i],
                                               [sin k omega_i,  cos k omega_i]].
    """
    omega = frequencies(d_model, base)
    c, s = np.cos(int(k) * omega), np.sin(int(k) * omega)
    R = np.zeros((2 * len(omega), 2 * len(omega)))
    i = np.arange(0, 2 * len(omega), 2)  # the sin entry of each pair
    R[i, i], R[i, i + 1], R[i + 1, i], R[i + 1, i + 1] = c, -s, s, c
    return R
