"""Convolution and pooling from scratch, in NumPy.

One dimension, in the lecture's notation: a kernel (filter) w of length m and a signal x of
length n, indexed from 0.

- :func:`convolve1d`, the discrete convolution (w * x)(k) = sum_i w(i) x(k - i), with x and
  w zero outside their support (output length n + m - 1, numpy's ``mode="full"``).
- :func:`correlate1d`, the cross-correlation (w star x)(k) = sum_{i=0}^{m-1} w(i) x(k + i),
  which machine learning calls "convolution", with the slides' boundary conditions:
  ``"circular"`` (x extended periodically, k = 0, ..., n - 1), ``"valid"`` (k = 0, ..., n - m,
  output size n - m + 1) and ``"same"`` (x(k + i - floor(m/2)) with x zero-padded, size n).
- :func:`circular_convolve1d`, (w * x)(k) = sum_i w(i) x((k - i) mod n): the convolution of
  the convolution theorem F(w * x) = F(w) F(x) for the discrete Fourier transform.
- :func:`correlation_matrix`, the matrix A with A x = w star x (a circulant matrix for
  circular boundaries, a banded Toeplitz matrix for the others).
- :func:`max_pool1d`, max pooling with stride p: (T_mp x)(k) = max_{i = kp, ..., (k+1)p - 1} x(i).

Two dimensions: :func:`correlate2d` (one channel, valid; plain loops, so it also works on
arrays of sympy symbols), :func:`im2col` and its adjoint :func:`col2im`, and two layers with
``forward`` and ``backward`` like :class:`nnbook.engine.layers.Linear`:

- :class:`Conv2d`, the convolution layer z_l = sum_k W_lk star x_k + b_l (the slide's
  sigma(sum_k W_lk * x_k + b_l) without sigma, which is an
  :class:`~nnbook.engine.layers.Activation`), with stride and zero padding;
- :class:`MaxPool2d`, max pooling over non-overlapping p x p windows; ``backward`` routes
  each output's gradient to the position of the maximum of its window.

Images are ``(n, channels, height, width)``, as in PyTorch, whose ``conv2d`` is the same
cross-correlation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._util import as_array, as_rng, one_of, positive_int
from .init import as_float_dtype
from .init import init as draw_weights
from .layers import Layer, Parameter

Array = np.ndarray

BOUNDARIES = ("circular", "valid", "same")

__all__ = [
    "BOUNDARIES",
    "convolve1d",
    "correlate1d",
    "circular_convolve1d",
    "correlation_matrix",
    "max_pool1d",
    "correlate2d",
    "conv_output_size",
    "im2col",
    "col2im",
    "Conv2d",
    "MaxPool2d",
    "Flatten",
]


# ------------------------------------------------------------------------------ one dimension


def _kernel_and_signal(w: Any, x: Any) -> tuple[Array, Array]:
    """w and x as 1-D float arrays with 1 <= len(w) <= len(x)."""
    w, x = as_array(w, "w", ndim=1), as_array(x, "x", ndim=1)
    if not 1 <= len(w) <= len(x):
        raise ValueError(
            f"expected a kernel w no longer than the signal x (m <= n), "
            f"got m = {len(w)}, n = {len(x)}"
        )
    return w, x


def convolve1d(w: Any, x: Any) -> Array:
    """The discrete convolution (w * x)(k) = sum_i w(i) x(k - i), k = 0, ..., n + m - 2.

    w (length m) and x (length n) are zero outside their support, so the sum runs over the
    i with 0 <= i < m and 0 <= k - i < n. Same as ``np.convolve(w, x)`` (``mode="full"``).
    """
    w, x = as_array(w, "w", ndim=1), as_array(x, "x", ndim=1)
    m, n = len(w), len(x)
    out = np.zeros(n + m - 1)
    for i in range(m):  # w(i) times x shifted right by i places: x(k - i) lands on k
        out[i : i + n] += w[i] * x
    return out


def correlate1d(w: Any, x: Any, boundary: str = "valid") -> Array:
    """The cross-correlation (w star x)(k) = sum_{i=0}^{m-1} w(i) x(k + i), with a boundary.

    - ``"circular"``: x extended periodically, x(j) = x(j mod n); k = 0, ..., n - 1.
    - ``"valid"``: only the k for which x(k + i) exists: k = 0, ..., n - m (size n - m + 1).
    - ``"same"``: sum_i w(i) x(k + i - floor(m/2)) with x = 0 outside 0..n-1; size n.
    """
    w, x = _kernel_and_signal(w, x)
    one_of(boundary, "boundary", BOUNDARIES)
    m = len(w)
    if boundary == "circular":  # k -> x((k + i) mod n) is x rolled left by i places
        return sum(w[i] * np.roll(x, -i) for i in range(m))
    if boundary == "same":  # pad floor(m/2) zeros on the left, the rest on the right
        x = np.concatenate([np.zeros(m // 2), x, np.zeros(m - 1 - m // 2)])
    size = len(x) - m + 1
    return sum(w[i] * x[i : i + size] for i in range(m))


def circular_convolve1d(w: Any, x: Any) -> Array:
    """The circular convolution (w * x)(k) = sum_{i=0}^{m-1} w(i) x((k - i) mod n), k = 0..n-1.

    This is the convolution of the convolution theorem for the discrete Fourier transform:
    F(w * x) = F(w) F(x), with w zero-padded to length n.
    """
    w, x = _kernel_and_signal(w, x)
    return sum(w[i] * np.roll(x, i) for i in range(len(w)))


def correlation_matrix(w: Any, n: int, boundary: str = "circular") -> Array:
    """The matrix A of the linear map x -> w star x on signals of length n.

    Column j of A is the image of the unit vector e_j, so A x = ``correlate1d(w, x,
    boundary)`` for every x. For ``"circular"`` A is n x n and circulant (each row is the
    row above shifted right by one place, wrapping around), the matrix on the slide; for
    ``"valid"`` ((n - m + 1) x n) and ``"same"`` (n x n) it is a banded Toeplitz matrix
    (constant along each diagonal) that does not wrap around.
    """
    n = positive_int(n, "n")
    columns = [correlate1d(w, np.eye(n)[j], boundary) for j in range(n)]
    return np.stack(columns, axis=1)


def max_pool1d(x: Any, p: int) -> Array:
    """Max pooling with stride p: (T_mp x)(k) = max_{i = kp, ..., (k+1)p - 1} x(i).

    Each window holds the p values x(kp), ..., x((k+1)p - 1); the output has floor(n / p)
    entries (a last incomplete window is dropped, as in PyTorch).
    """
    x, p = as_array(x, "x", ndim=1), positive_int(p, "p")
    return np.array([max(x[k * p : (k + 1) * p]) for k in range(len(x) // p)])


# ----------------------------------------------------------------------------- two dimensions


def correlate2d(w: Any, x: Any) -> Array:
    """The valid 2-D cross-correlation (w star x)(k, l) = sum_{i,j} w(i, j) x(k + i, l + j).

    w is m1 x m2 and x is n1 x n2; the output is (n1 - m1 + 1) x (n2 - m2 + 1). Written with
    plain sums, so that w and x may hold numbers or symbols (e.g. ``sympy`` symbols).
    """
    w, x = np.asarray(w), np.asarray(x)
    if w.ndim != 2 or x.ndim != 2 or w.shape[0] > x.shape[0] or w.shape[1] > x.shape[1]:
        raise ValueError(f"expected 2-D w no larger than 2-D x, got {w.shape} and {x.shape}")
    (m1, m2), (n1, n2) = w.shape, x.shape
    return np.array(
        [
            [
                sum(w[i, j] * x[k + i, l + j] for i in range(m1) for j in range(m2))
                for l in range(n2 - m2 + 1)
            ]
            for k in range(n1 - m1 + 1)
        ]
    )


def conv_output_size(n: int, m: int, stride: int = 1, padding: int = 0) -> int:
    """Output size floor((n + 2 padding - m) / stride) + 1 of a convolution or pooling."""
    return (n + 2 * padding - m) // stride + 1


def im2col(X: Array, m: int, stride: int = 1, padding: int = 0) -> Array:
    """Unfold the m x m patches of images X ``(N, C, H, W)`` into columns.

    Returns ``(N, C m m, H' W')``: column (k, l) of image n holds the patch
    x_c(k s + i, l s + j), c < C, i, j < m, of the zero-padded image (s = stride), so that a
    convolution becomes one matrix product, W.reshape(C_out, C m m) @ columns.
    """
    N, C, H, W = X.shape
    Ho, Wo = conv_output_size(H, m, stride, padding), conv_output_size(W, m, stride, padding)
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((N, C, m, m, Ho, Wo), dtype=X.dtype)
    for i in range(m):
        for j in range(m):
            cols[:, :, i, j] = Xp[:, :, i : i + stride * Ho : stride, j : j + stride * Wo : stride]
    return cols.reshape(N, C * m * m, Ho * Wo)


def col2im(cols: Array, shape: tuple[int, ...], m: int, stride: int = 1, padding: int = 0) -> Array:
    """The adjoint of :func:`im2col`: add each column back onto the patch it came from.

    ``cols`` is ``(N, C m m, H' W')`` and ``shape`` is (N, C, H, W); overlapping patches add
    up. This is how the gradient dR/dX is collected from the gradient of the columns.
    """
    N, C, H, W = shape
    Ho, Wo = conv_output_size(H, m, stride, padding), conv_output_size(W, m, stride, padding)
    cols = cols.reshape(N, C, m, m, Ho, Wo)
    Xp = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    for i in range(m):
        for j in range(m):
            Xp[:, :, i : i + stride * Ho : stride, j : j + stride * Wo : stride] += cols[:, :, i, j]
    return Xp[:, :, padding : padding + H, padding : padding + W]


def _check_images(X: Any, C: int, dtype: np.dtype) -> Array:
    X = as_array(X, "X", ndim=4, dtype=dtype)
    if X.shape[1] != C:
        raise ValueError(f"expected X of shape (n, {C}, height, width), got {X.shape}")
    return X


def _check_grad(G: Any, shape: tuple[int, ...] | None) -> Array:
    if shape is None:
        raise RuntimeError("call forward before backward: there is no cached input")
    G = as_array(G, "grad_out")
    if G.shape != shape:
        raise ValueError(
            f"expected grad_out of shape {shape} (the forward output's), got {G.shape}"
        )
    return G


class Conv2d(Layer):
    """A convolution layer: output channel l is z_l = sum_k W_lk star x_k + b_l.

    ``W`` has shape ``(C_out, C_in, m, m)``: W[l, k] is the m x m filter W_lk from input
    channel k to output channel l; ``b`` has shape ``(C_out,)``. The input X is
    ``(N, C_in, H, W)``, zero-padded by ``padding`` on each side; the filters move by
    ``stride``. Output ``(N, C_out, H', W')`` with H' = floor((H + 2 padding - m) / stride) + 1.
    The slide's layer sigma(sum_k W_lk * x_k + b_l) follows it with an Activation.

    Backward, with the columns U = im2col(X) and G = dR/dZ reshaped to ``(N, C_out, H' W')``:
    dR/dW = sum_n G_n U_n^T, dR/db_l = sum of G over n and positions, dR/dX = col2im(W^T G).
    """

    def __init__(
        self,
        C_in: int,
        C_out: int,
        m: int,
        *,
        stride: int = 1,
        padding: int = 0,
        init: str = "he",
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        self.C_in, self.C_out = positive_int(C_in, "C_in"), positive_int(C_out, "C_out")
        self.m, self.stride = positive_int(m, "m"), positive_int(stride, "stride")
        self.padding = positive_int(padding, "padding", minimum=0)
        self.dtype = as_float_dtype(dtype)
        fan_in = self.C_in * self.m * self.m
        W = draw_weights(init, fan_in, self.C_out, as_rng(rng), self.dtype)
        self.W = Parameter(W.reshape(self.C_out, self.C_in, self.m, self.m), "W")
        self.b = Parameter(np.zeros(self.C_out, dtype=self.dtype), "b")
        self._cols: Array | None = None
        self._shape: tuple[int, ...] | None = None
        self._out_shape: tuple[int, ...] | None = None

    def forward(self, X: Array) -> Array:
        """Z = W star X + b, shape ``(N, C_out, H', W')``; caches the columns of X."""
        X = _check_images(X, self.C_in, self.dtype)
        N, _, H, W = X.shape
        Ho = conv_output_size(H, self.m, self.stride, self.padding)
        Wo = conv_output_size(W, self.m, self.stride, self.padding)
        cols = im2col(X, self.m, self.stride, self.padding)  # (N, C_in m m, Ho Wo)
        Z = self.W.data.reshape(self.C_out, -1) @ cols + self.b.data[:, None]
        self._cols, self._shape = cols, X.shape
        self._out_shape = (N, self.C_out, Ho, Wo)
        return Z.reshape(self._out_shape)

    def backward(self, grad_out: Array) -> Array:
        """Add dR/dW and dR/db to the gradients; return dR/dX, shape ``(N, C_in, H, W)``."""
        cols, shape = self._cols, self._shape
        G = _check_grad(grad_out, self._out_shape).reshape(shape[0], self.C_out, -1)
        W2 = self.W.data.reshape(self.C_out, -1)  # (C_out, C_in m m)
        self.W.grad += (G @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(self.W.shape)
        self.b.grad += G.sum(axis=(0, 2))
        return col2im(W2.T @ G, shape, self.m, self.stride, self.padding)

    def parameters(self) -> list[Parameter]:
        """``[W, b]``."""
        return [self.W, self.b]

    def __repr__(self) -> str:
        return (
            f"Conv2d(C_in={self.C_in}, C_out={self.C_out}, m={self.m}, stride={self.stride}, "
            f"padding={self.padding})"
        )


def _windows(X: Array, p: int) -> Array:
    """The non-overlapping p x p windows of X ``(N, C, H, W)`` as ``(N, C, H//p, W//p, p p)``."""
    N, C, H, W = X.shape
    Ho, Wo = H // p, W // p
    blocks = X[:, :, : Ho * p, : Wo * p].reshape(N, C, Ho, p, Wo, p)
    return blocks.transpose(0, 1, 2, 4, 3, 5).reshape(N, C, Ho, Wo, p * p)


class MaxPool2d(Layer):
    """Max pooling over non-overlapping p x p windows (stride p), channel by channel.

    (T_mp x)(k, l) = max over i = kp, ..., (k+1)p - 1 and j = lp, ..., (l+1)p - 1 of x(i, j).
    Input ``(N, C, H, W)``, output ``(N, C, H // p, W // p)``. Backward: the output's gradient
    goes to the position of the maximum of its window (the first one, in row-major order, if
    the maximum is tied), and every other input gets 0.
    """

    def __init__(self, p: int = 2) -> None:
        self.p = positive_int(p, "p")
        self._argmax: Array | None = None
        self._shape: tuple[int, ...] | None = None

    def forward(self, X: Array) -> Array:
        """The maximum of each window; caches where it is."""
        X = as_array(X, "X", ndim=4, dtype=None)
        windows = _windows(X, self.p)
        self._argmax, self._shape = windows.argmax(axis=-1), X.shape
        return windows.max(axis=-1)

    def backward(self, grad_out: Array) -> Array:
        """dR/dX: grad_out at the argmax of each window, 0 elsewhere."""
        G = _check_grad(grad_out, None if self._shape is None else self._argmax.shape)
        (N, C, H, W), p = self._shape, self.p
        routed = np.zeros(G.shape + (p * p,), dtype=G.dtype)
        np.put_along_axis(routed, self._argmax[..., None], G[..., None], axis=-1)
        Ho, Wo = H // p, W // p
        dX = np.zeros((N, C, H, W), dtype=G.dtype)
        blocks = routed.reshape(N, C, Ho, Wo, p, p).transpose(0, 1, 2, 4, 3, 5)
        dX[:, :, : Ho * p, : Wo * p] = blocks.reshape(N, C, Ho * p, Wo * p)
        return dX

    def __repr__(self) -> str:
        return f"MaxPool2d(p={self.p})"


class Flatten(Layer):
    """Feature maps ``(N, C, H, W)`` as vectors ``(N, C H W)``, the input of T_fc; backward
    reshapes the gradient back."""

    def __init__(self) -> None:
        self._shape: tuple[int, ...] | None = None

    def forward(self, X: Array) -> Array:
        """X reshaped to ``(N, C H W)``."""
        X = as_array(X, "X", dtype=None)
        self._shape = X.shape
        return X.reshape(X.shape[0], -1)

    def backward(self, grad_out: Array) -> Array:
        """grad_out reshaped to the input's shape."""
        if self._shape is None:
            raise RuntimeError("call forward before backward: there is no cached input")
        return np.reshape(grad_out, self._shape)
