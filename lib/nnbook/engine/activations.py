"""Activation functions sigma and their derivatives sigma'.

Each activation is an :class:`Activation` holding the function ``f`` and its derivative
``df`` side by side, both applied element-wise: ``[sigma(z)]_i = sigma(z_i)``. They accept
any array shape and return an array of the same shape (float64 unless the input is float32).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import sqrt

import numpy as np
from scipy.special import erf, expit

Array = np.ndarray


def _as_float(z) -> Array:
    z = np.asarray(z)
    if not (np.issubdtype(z.dtype, np.number) or z.dtype == bool):
        raise TypeError(f"expected z to be a numeric array, got dtype {z.dtype}")
    return z if z.dtype in (np.float32, np.float64) else z.astype(np.float64)


def sigmoid(z) -> Array:
    """sigma(z) = 1 / (1 + e^{-z}); range (0, 1). Numerically stable for large |z|."""
    return expit(_as_float(z))


def sigmoid_grad(z) -> Array:
    """sigma'(z) = sigma(z) (1 - sigma(z)); at most 1/4, and -> 0 as |z| -> inf."""
    s = sigmoid(z)
    return s * (1 - s)


def tanh(z) -> Array:
    """sigma(z) = tanh(z); range (-1, 1)."""
    return np.tanh(_as_float(z))


def tanh_grad(z) -> Array:
    """sigma'(z) = 1 - tanh(z)^2; at most 1, and -> 0 as |z| -> inf."""
    t = np.tanh(_as_float(z))
    return 1 - t * t


def relu(z) -> Array:
    """sigma(z) = max(0, z)."""
    z = _as_float(z)
    return np.maximum(z, 0)


def relu_grad(z) -> Array:
    """sigma'(z) = 1 for z > 0 and 0 otherwise (we take 0 at the kink z = 0, as PyTorch does)."""
    z = _as_float(z)
    return (z > 0).astype(z.dtype)


LEAKY_SLOPE = 0.01


def leaky_relu(z, slope: float = LEAKY_SLOPE) -> Array:
    """sigma(z) = z for z > 0 and slope * z otherwise (slope 0.01 by default)."""
    z = _as_float(z)
    return np.where(z > 0, z, slope * z)


def leaky_relu_grad(z, slope: float = LEAKY_SLOPE) -> Array:
    """sigma'(z) = 1 for z > 0 and slope otherwise: never exactly zero, so units cannot 'die'."""
    z = _as_float(z)
    return np.where(z > 0, 1.0, slope).astype(z.dtype)


def softplus(z) -> Array:
    """sigma(z) = log(1 + e^z), a smooth ReLU; computed stably as logaddexp(0, z)."""
    return np.logaddexp(0, _as_float(z))


def softplus_grad(z) -> Array:
    """sigma'(z) = 1 / (1 + e^{-z}), the logistic sigmoid."""
    return sigmoid(z)


def gelu(z) -> Array:
    """GELU, sigma(z) = z Phi(z) with Phi the standard normal CDF (the exact form, not the
    tanh fit)."""
    z = _as_float(z)
    return z * 0.5 * (1 + erf(z / sqrt(2)))


def gelu_grad(z) -> Array:
    """sigma'(z) = Phi(z) + z phi(z), with phi the standard normal density."""
    z = _as_float(z)
    cdf = 0.5 * (1 + erf(z / sqrt(2)))
    pdf = np.exp(-0.5 * z * z) / sqrt(2 * np.pi)
    return cdf + z * pdf


def identity(z) -> Array:
    """sigma(z) = z (a linear 'activation', used to show what nonlinearity buys)."""
    return _as_float(z)


def identity_grad(z) -> Array:
    """sigma'(z) = 1."""
    return np.ones_like(_as_float(z))


@dataclass(frozen=True)
class Activation:
    """An activation function with its derivative, side by side.

     ``f`` is sigma and ``df`` is sigma'; ``sigmoidal`` says whether
    sigma(z) -> 1 as z -> +inf and -> 0 as z -> -inf (the hypothesis of Theorem 1).
    """

    name: str
    f: Callable[[Array], Array]
    df: Callable[[Array], Array]
    sigmoidal: bool
    formula: str

    def __call__(self, z) -> Array:
        return self.f(z)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("sigmoid", sigmoid, sigmoid_grad, True, r"\frac{1}{1+e^{-z}}"),
        Activation("tanh", tanh, tanh_grad, False, r"\tanh(z)"),
        Activation("relu", relu, relu_grad, False, r"\max(0, z)"),
        Activation("leaky_relu", leaky_relu, leaky_relu_grad, False, r"\max(0.01z, z)"),
        Activation("softplus", softplus, softplus_grad, False, r"\log(1+e^{z})"),
        Activation("gelu", gelu, gelu_grad, False, r"z\,\Phi(z)"),
        Activation("identity", identity, identity_grad, False, r"z"),
    ]
}


def get(name: str | Activation) -> Activation:
    """Look an activation up by name (``"relu"``, ``"sigmoid"``, ...), or pass one through."""
    if isinstance(name, Activation):
        return name
    if name not in ACTIVATIONS:
        raise ValueError(f"expected an activation name in {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


__all__ = (
    ["Activation", "ACTIVATIONS", "get"]
    + [n for n in ACTIVATIONS]
    + [f"{n}_grad" for n in ACTIVATIONS]
)
