"""The multi-layer perceptron, assembled from layers, in the slides' notation.

    f_0(x) = x,   f_{l+1}(x) = sigma(W_l f_l(x) + b_l)  for l = 0, ..., L-1,
    f(x) = beta^T f_L(x) + beta_0,

with W_l of shape (d_{l+1}, d_l), b_l of shape (d_{l+1},), d_0 = d, and a linear output layer
with K outputs: beta of shape (d_L, K), stored (like every weight) as the ``(K, d_L)``
matrix W_L = beta^T, with bias b_L = beta_0. ``sizes = [d, d_1, ..., d_L, K]``.

Arrays are ``(n_samples, n_features)``: ``forward`` maps X of shape ``(n, d)`` to the
outputs (logits, for classification) of shape ``(n, K)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._util import as_rng, positive_int
from . import activations
from .init import as_float_dtype
from .layers import Activation, Dropout, Layer, Linear, Parameter, _check_features

Array = np.ndarray


# ---------------------------------------------------------------------------- parameter count


class ParameterCount(NamedTuple):
    """The number of trainable parameters, in total and per layer.

    ``per_layer[l]`` is a dict with keys ``"layer"`` (``"W_0, b_0"``, ...), ``"shape"`` (of W_l),
    ``"weights"``, ``"biases"`` and ``"total"``. ``int(count.total)`` is the total.
    """

    total: int
    per_layer: list[dict]

    def __str__(self) -> str:
        rows = [f"{'layer':<10}{'W shape':>14}{'weights':>12}{'biases':>9}{'total':>12}"]
        for r in self.per_layer:
            rows.append(
                f"{r['layer']:<10}{str(r['shape']):>14}{r['weights']:>12,}{r['biases']:>9,}{r['total']:>12,}"
            )
        rows.append(f"{'total':<10}{'':>14}{'':>12}{'':>9}{self.total:>12,}")
        return "\n".join(rows)


def _check_sizes(sizes: Any) -> tuple[int, ...]:
    if (
        isinstance(sizes, (str, bytes))
        or not isinstance(sizes, Sequence)
        and not isinstance(sizes, np.ndarray)
    ):
        raise TypeError(
            f"expected sizes to be a list [d, d_1, ..., d_L, K] of ints, got {type(sizes).__name__}"
        )
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(
            f"expected sizes = [d, d_1, ..., d_L, K] with at least 2 entries (d and K), got {sizes}"
        )
    return tuple(positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes))


def _check_dropout(dropout: Any, L: int) -> list[float]:
    """phi for each of the L hidden layers, from one number or a list of L numbers."""
    if isinstance(dropout, (int, float, np.integer, np.floating)) and not isinstance(dropout, bool):
        phis = [float(dropout)] * L
    elif isinstance(dropout, Sequence) and not isinstance(dropout, str) and len(dropout) == L:
        phis = [float(p) for p in dropout]
    else:
        raise ValueError(
            f"expected dropout to be a number or a list of {L} numbers (one per hidden layer), "
            f"got {dropout!r}"
        )
    for phi in phis:
        if not 0.0 <= phi < 1.0:
            raise ValueError(
                f"expected each dropout phi to be a drop probability in [0, 1), got {phi}"
            )
    return phis


def count_parameters(sizes: Sequence[int]) -> ParameterCount:
    """The number of parameters of an MLP with layer widths ``sizes = [d, d_1, ..., d_L, K]``:
    sum over the layers of d_{l+1} d_l weights plus d_{l+1} biases.

    >>> count_parameters([784, 256, 128, 10]).total   # the lecture's MNIST network
    235146
    """
    sizes = _check_sizes(sizes)
    per_layer = []
    for l, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        per_layer.append(
            {
                "layer": f"W_{l}, b_{l}",
                "shape": (d_out, d_in),
                "weights": d_out * d_in,
                "biases": d_out,
                "total": d_out * d_in + d_out,
            }
        )
    return ParameterCount(sum(r["total"] for r in per_layer), per_layer)


# ---------------------------------------------------------------------------- the model


class MLP:
    """A fully connected feed-forward network with L hidden layers and a linear output layer.

    f_{l+1} = sigma(W_l f_l + b_l) for the hidden layers, f = W_L f_L + b_L = beta^T f_L + beta_0.

    Parameters
    ----------
    sizes : ``[d, d_1, ..., d_L, K]``; ``[d, K]`` is a linear model (L = 0).
    activation : sigma, a name from :mod:`nnbook.engine.activations` (``"relu"``, ``"tanh"``, ...).
    init : weight initialiser, a name from :mod:`nnbook.engine.init` (``"he"``, ``"xavier"``, ...).
    dropout : phi, the drop probability after each hidden layer: one number, or one per
        hidden layer (a list of length L). 0 means no dropout layer.
    rng : a NumPy Generator or an int seed (None means ``nnbook.DEFAULT_SEED``); draws the
        initial weights, then the dropout masks.
    dtype : ``np.float64`` (default; exact gradient checks) or ``np.float32`` (fast training).

    Attributes: ``layers`` (all layers, in order), ``hidden`` (the L ``Linear`` layers holding
    W_l, b_l), ``output`` (the ``Linear`` layer holding W_L = beta^T and b_L = beta_0).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        init: str = "he",
        dropout: float | Sequence[float] = 0.0,
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        self.sizes = _check_sizes(sizes)
        self.dtype = as_float_dtype(dtype)
        self.activation = activations.get(activation).name
        self.init = init
        L = len(self.sizes) - 2
        phis = _check_dropout(dropout, L)
        self.dropout = tuple(phis)
        self.rng = as_rng(rng)
        self.training = True

        self.layers: list[Layer] = []
        self.hidden: list[Linear] = []
        for l in range(L):
            linear = Linear(
                self.sizes[l], self.sizes[l + 1], init=init, rng=self.rng, dtype=self.dtype
            )
            self.hidden.append(linear)
            self.layers += [linear, Activation(self.activation)]
            if phis[l] > 0:
                self.layers.append(Dropout(phis[l], rng=self.rng))
        self.output = Linear(
            self.sizes[-2], self.sizes[-1], init=init, rng=self.rng, dtype=self.dtype
        )
        self.layers.append(self.output)
        for i, p in enumerate(self.parameters()):
            p.name = f"{'W' if i % 2 == 0 else 'b'}_{i // 2}"

    # -- shapes ---------------------------------------------------------------------------

    @property
    def d(self) -> int:
        """The input dimension d = d_0."""
        return self.sizes[0]

    @property
    def K(self) -> int:
        """The number of outputs K."""
        return self.sizes[-1]

    @property
    def L(self) -> int:
        """The number of hidden layers (the depth)."""
        return len(self.sizes) - 2

    @property
    def linears(self) -> list[Linear]:
        """The L + 1 affine layers: W_0, ..., W_{L-1}, then W_L = beta^T."""
        return [*self.hidden, self.output]

    def n_parameters(self) -> int:
        """The number of trainable parameters (see :func:`count_parameters`)."""
        return sum(p.size for p in self.parameters())

    # -- forward and backward -------------------------------------------------------------

    def forward(self, X: Array) -> Array:
        """The outputs f(x_i) for the rows x_i of X: shape ``(n, d)`` -> ``(n, K)``.

        Each layer caches what ``backward`` needs; dropout is active in training mode.
        """
        out = _check_features(X, "X", self.d, self.dtype)
        for layer in self.layers:
            out = layer.forward(out)
        return out

    __call__ = forward

    def backward(self, grad_out: Array, input_grad: bool = False) -> Array | None:
        """Backpropagation: given p_{L+1} = dR/df (shape ``(n, K)``, e.g. ``loss.backward()``),
        run the co-states p_l backwards through the layers and add dR/dW_l, dR/db_l to each
        parameter's ``grad``. Returns dR/dX if ``input_grad`` (else None, and the first
        layer skips that product).
        """
        p = grad_out
        for layer in reversed(self.layers[1:]):
            p = layer.backward(p)
        return self.layers[0].backward(p, input_grad=input_grad)

    def predict(self, X: Array) -> Array:
        """The outputs f(X) in evaluation mode (no dropout), shape ``(n, K)``."""
        was_training = self.training
        self.eval()
        try:
            return self.forward(X)
        finally:
            if was_training:
                self.train()

    def predict_labels(self, X: Array) -> Array:
        """Class labels: argmax_m f_m(x) if K > 1, else 1 where the logit f(x) > 0."""
        out = self.predict(X)
        return out.argmax(axis=1) if self.K > 1 else (out[:, 0] > 0).astype(np.intp)

    # -- parameters and modes -------------------------------------------------------------

    def parameters(self) -> list[Parameter]:
        """``[W_0, b_0, W_1, b_1, ..., W_L, b_L]`` (the same order as ``torch.nn.Sequential``)."""
        return [p for linear in self.linears for p in linear.parameters()]

    def grads(self) -> list[Array]:
        """The gradients of :meth:`parameters`, in the same order."""
        return [p.grad for p in self.parameters()]

    def zero_grad(self) -> None:
        """Reset every gradient to 0."""
        for p in self.parameters():
            p.zero_grad()

    def train(self) -> MLP:
        """Training mode: dropout active. Returns the model."""
        self.training = True
        for layer in self.layers:
            layer.train()
        return self

    def eval(self) -> MLP:
        """Evaluation mode: dropout off. Returns the model."""
        self.training = False
        for layer in self.layers:
            layer.eval()
        return self

    def state_dict(self) -> dict[str, Array]:
        """Copies of the parameters: ``{"W_0": ..., "b_0": ..., ..., "W_L": ..., "b_L": ...}``."""
        return {p.name: p.data.copy() for p in self.parameters()}

    def load_state_dict(self, state: dict[str, Any]) -> MLP:
        """Copy the arrays of ``state`` (from :meth:`state_dict`) into the parameters, in place."""
        params = {p.name: p for p in self.parameters()}
        if set(state) != set(params):
            raise ValueError(f"expected the keys {sorted(params)}, got {sorted(state)}")
        for name, p in params.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(f"expected {name} of shape {p.shape}, got {value.shape}")
            p.data[...] = value
        return self

    def __repr__(self) -> str:
        drop = f", dropout={list(self.dropout)}" if any(self.dropout) else ""
        sizes = f"sizes={list(self.sizes)}, activation={self.activation!r}"
        return f"MLP({sizes}{drop}, dtype={self.dtype})"


__all__ = ["MLP", "count_parameters", "ParameterCount"]
