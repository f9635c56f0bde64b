"""Layers with ``forward`` and ``backward`` side by side.

A layer is one map x_{l+1} = g_l(x_l, W_l) of the slides' backward recursion. Its
``forward(x)`` computes the output and caches what the backward pass needs; its
``backward(p)`` takes the co-state p_{l+1} = dR/dx_{l+1} (``grad_out``), adds
[nabla_{W_l} g_l]^T p_{l+1} to the gradient of each parameter, and returns
p_l = [nabla_{x_l} g_l]^T p_{l+1}, the co-state of its input.

Arrays are ``(n_samples, n_features)``: a mini-batch of B inputs f_l is a matrix F of
shape ``(B, d_l)`` whose rows are the samples, so the slides' f_{l+1} = sigma(W_l f_l + b_l)
reads, for the whole batch, F_{l+1} = sigma(F_l W_l^T + b_l).

Gradients accumulate, as in PyTorch: call ``zero_grad()`` before each ``backward``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._util import as_array, as_rng, positive_int
from . import activations
from .init import as_float_dtype
from .init import init as draw_weights

Array = np.ndarray


class Parameter:
    """A trainable array theta (``data``) and its gradient dR/dtheta (``grad``), same shape.

    Like ``torch.nn.Parameter``: a layer's ``backward`` adds to ``grad``, an optimiser reads
    ``grad`` and updates ``data`` in place, and ``zero_grad()`` resets ``grad`` to 0.
    """

    def __init__(self, data: Array, name: str = "") -> None:
        if not (isinstance(data, np.ndarray) and data.dtype in (np.float32, np.float64)):
            data = as_array(data, name or "data", dtype=np.float64)  # a float copy
        self.data = data  # not copied: the optimisers update this very array
        self._grad = np.zeros_like(data)
        self.name = name

    @property
    def grad(self) -> Array:
        return self._grad

    @grad.setter
    def grad(self, value: Array) -> None:
        value = np.array(value, dtype=self.data.dtype)  # a copy: backward may add to it
        if value.shape != self.data.shape:
            what = self.name or "parameter"
            raise ValueError(
                f"expected grad of {what} of shape {self.data.shape}, got {value.shape}"
            )
        self._grad = value

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def zero_grad(self) -> None:
        """Set the gradient to 0."""
        self._grad[...] = 0

    def accumulate(self, g: Array) -> None:
        """grad += g."""
        self._grad += g

    def __repr__(self) -> str:
        return f"Parameter({self.name or '?'}, shape={self.data.shape}, dtype={self.data.dtype})"


class Layer:
    """Base class: a layer without parameters, in training mode."""

    training: bool = True

    def forward(self, x: Array) -> Array:
        raise NotImplementedError

    def backward(self, grad_out: Array) -> Array:
        raise NotImplementedError

    def __call__(self, x: Array) -> Array:
        return self.forward(x)

    def parameters(self) -> list[Parameter]:
        """The trainable parameters (none here)."""
        return []

    def grads(self) -> list[Array]:
        """The gradients of :meth:`parameters`, in the same order."""
        return [p.grad for p in self.parameters()]

    def zero_grad(self) -> None:
        """Reset every parameter's gradient to 0."""
        for p in self.parameters():
            p.zero_grad()

    def train(self) -> Layer:
        """Training mode (dropout active). Returns the layer."""
        self.training = True
        return self

    def eval(self) -> Layer:
        """Evaluation mode (dropout off). Returns the layer."""
        self.training = False
        return self


def _check_features(x: Any, name: str, d: int, dtype: np.dtype) -> Array:
    """Return ``x`` as an ``(n, d)`` array of ``dtype``; refuse another float precision."""
    if not isinstance(x, np.ndarray):
        x = as_array(x, name, ndim=2, dtype=dtype, finite=False)
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"expected {name} of shape (n, {d}), got {x.shape}")
    if x.dtype != dtype:
        if x.dtype.kind == "f":
            raise TypeError(
                f"expected {name} of dtype {dtype} (the layer's dtype), got {x.dtype}; convert "
                f"it with .astype(np.{dtype}) or build the model with dtype=np.{x.dtype}"
            )
        if x.dtype.kind not in "biu":
            raise TypeError(
                f"expected {name} to be a numeric array of dtype {dtype}, got dtype {x.dtype}"
            )
        x = x.astype(dtype)
    return x


def _as_float(x: Any, name: str) -> Array:
    """``x`` itself if it is a float array, else a float64 copy."""
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x
    return as_array(x, name, dtype=np.float64, finite=False)


def _check_grad(g: Any, shape: tuple[int, ...] | None, dtype: np.dtype) -> Array:
    """``g`` = dR/d(output) as an array of ``shape`` and ``dtype`` (``shape`` None: there
    was no forward pass)."""
    if shape is None:
        raise RuntimeError("call forward before backward: there is no cached input")
    if not isinstance(g, np.ndarray):
        g = as_array(g, "grad_out", dtype=dtype, finite=False)
    if g.shape != shape:
        raise ValueError(
            f"expected grad_out of shape {shape} (the shape of the forward output), got {g.shape}"
        )
    if g.dtype != dtype:
        if g.dtype.kind == "f":
            raise TypeError(
                f"expected grad_out of dtype {dtype} (the forward output's dtype), got {g.dtype}"
            )
        g = g.astype(dtype)
    return g


def _check_costate(g: Any, cached: Array | None, d_out: int | None = None) -> Array:
    """:func:`_check_grad` for a layer whose forward pass cached the input ``cached``: the
    output had the shape of ``cached`` (``d_out`` None) or ``(n, d_out)``."""
    if cached is None:
        return _check_grad(g, None, None)
    shape = cached.shape if d_out is None else (cached.shape[0], d_out)
    return _check_grad(g, shape, cached.dtype)


class Linear(Layer):
    """An affine layer z = W_l f_l + b_l, batch form Z = F W_l^T + b_l.

    ``W`` has shape ``(d_out, d_in)`` = (d_{l+1}, d_l) as on the slides, ``b`` shape
    ``(d_out,)``. Input F has shape ``(n, d_in)``, output Z shape ``(n, d_out)``. W is
    drawn with :func:`nnbook.engine.init.init` (scheme ``init``), b starts at 0.

    Backward, with G = dR/dZ of shape ``(n, d_out)``:

    * dR/dW_l = G^T F   (summing the per-sample outer products p_{l+1} f_l^T),
    * dR/db_l = sum_i G_i   (column sums of G),
    * dR/dF   = G W_l     (the co-state p_l, returned).
    """

    def __init__(
        self,
        d_in: int,
        d_out: int,
        init: str = "he",
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        self.d_in = positive_int(d_in, "d_in")
        self.d_out = positive_int(d_out, "d_out")
        self.dtype = as_float_dtype(dtype)
        self.W = Parameter(draw_weights(init, self.d_in, self.d_out, as_rng(rng), self.dtype), "W")
        self.b = Parameter(np.zeros(self.d_out, dtype=self.dtype), "b")
        self._F: Array | None = None

    def forward(self, F: Array) -> Array:
        """Z = F W^T + b, shape ``(n, d_out)``; caches F for the backward pass."""
        self._F = _check_features(F, "F", self.d_in, self.dtype)
        return self._F @ self.W.data.T + self.b.data

    def backward(self, G: Array, input_grad: bool = True) -> Array | None:
        """Add G^T F to W.grad and sum_i G_i to b.grad; return the co-state G W (or None
        without ``input_grad``: a network's first layer need not compute dR/dX)."""
        G = _check_costate(G, self._F, self.d_out)
        self.W.grad += G.T @ self._F  # dR/dW_l = G^T F
        self.b.grad += G.sum(axis=0)  # dR/db_l = sum over the batch of G
        return G @ self.W.data if input_grad else None  # p_l = G W_l

    def parameters(self) -> list[Parameter]:
        """``[W, b]``."""
        return [self.W, self.b]

    def __repr__(self) -> str:
        return f"Linear(d_in={self.d_in}, d_out={self.d_out}, dtype={self.dtype})"


class Activation(Layer):
    """The element-wise nonlinearity f_{l+1} = sigma(z), [sigma(z)]_i = sigma(z_i).

    ``name`` is any activation of :mod:`nnbook.engine.activations` (``"relu"``,
    ``"sigmoid"``, ``"tanh"``, ``"leaky_relu"``, ``"softplus"``, ``"gelu"``,
    ``"identity"``) or an :class:`nnbook.engine.activations.Activation`. Backward:
    dR/dz = dR/df * sigma'(z), element-wise. Works on any shape; keeps float32 as float32.
    """

    def __init__(self, name: str | activations.Activation = "relu") -> None:
        self.activation = activations.get(name)
        self.name = self.activation.name
        self._z: Array | None = None

    def forward(self, z: Array) -> Array:
        """sigma(z), same shape; caches z for the backward pass."""
        self._z = _as_float(z, "z")
        return self.activation.f(self._z)

    def backward(self, grad_out: Array) -> Array:
        """dR/dz = grad_out * sigma'(z), element-wise."""
        g = _check_costate(grad_out, self._z)
        return g * self.activation.df(self._z)

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


class Dropout(Layer):
    """Inverted dropout with drop probability phi.

    In training mode each unit is set to 0 independently with probability phi and the
    kept units are scaled by 1/(1 - phi): h~ = m * h / (1 - phi), m_j ~ Bernoulli(1 - phi),
    so E[h~] = h. In evaluation mode (``eval()``) it is the identity. Backward uses the
    same mask: dR/dh = m * dR/dh~ / (1 - phi). ``rng`` (a Generator or an int seed)
    draws the masks, so runs are reproducible.
    """

    def __init__(self, phi: float = 0.5, rng: np.random.Generator | int | None = None) -> None:
        if isinstance(phi, bool) or not isinstance(phi, (int, float, np.integer, np.floating)):
            raise TypeError(f"expected phi to be a number in [0, 1), got {type(phi).__name__}")
        if not 0.0 <= float(phi) < 1.0:
            raise ValueError(f"expected phi to be a drop probability in [0, 1), got {phi}")
        self.phi = float(phi)
        self.rng = as_rng(rng)
        self.training = True
        self._mask: Array | None = None
        self._shape: tuple[int, ...] | None = None

    def forward(self, h: Array) -> Array:
        """m * h / (1 - phi) in training mode, h in evaluation mode."""
        h = _as_float(h, "h")
        self._shape = h.shape
        if not self.training or self.phi == 0.0:
            self._mask = None
            return h
        keep = self.rng.random(h.shape, dtype=h.dtype) >= self.phi  # P(keep) = 1 - phi
        self._mask = keep * h.dtype.type(1.0 / (1.0 - self.phi))  # m / (1 - phi)
        return h * self._mask

    def backward(self, grad_out: Array) -> Array:
        """dR/dh = grad_out * m / (1 - phi) (grad_out itself in evaluation mode)."""
        if self._shape is None:
            raise RuntimeError("call forward before backward: there is no cached mask")
        g = np.asarray(grad_out)
        if g.shape != self._shape:
            raise ValueError(
                f"expected grad_out of shape {self._shape} (the shape of the forward output), "
                f"got {g.shape}"
            )
        return g if self._mask is None else g * self._mask

    @property
    def mask(self) -> Array | None:
        """The last mask m / (1 - phi) (None in evaluation mode)."""
        return self._mask

    def __repr__(self) -> str:
        return f"Dropout(phi={self.phi})"


__all__ = ["Parameter", "Layer", "Linear", "Activation", "Dropout"]
