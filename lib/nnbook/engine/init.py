"""Weight initialisers: how theta^(0) is chosen.

Every initialiser returns a weight matrix W_l of shape ``(d_out, d_in)`` = (d_{l+1}, d_l),
the shape of the slides' W_l in f_{l+1} = sigma(W_l f_l + b_l). Biases b_l start at zero
for every scheme (see :class:`nnbook.engine.layers.Linear`).

The random numbers are always drawn in float64 and then rounded to ``dtype``, so a
float32 network and a float64 network built from the same seed hold the same weights
(up to rounding).

=================== ==================================================== =====================
name                distribution of each entry of W_l                    keeps variance of ...
=================== ==================================================== =====================
``zeros``           0                                                    (symmetry problem)
``small``           N(0, 0.01^2)                                         nothing: shrinks
``xavier_uniform``  U(-a, a), a = sqrt(6 / (d_in + d_out))               sigma = tanh, both ways
``xavier_normal``   N(0, 2 / (d_in + d_out))                             sigma = tanh, both ways
``he``              N(0, 2 / d_in)                                       sigma = ReLU, forward
``pytorch``         U(-1/sqrt(d_in), 1/sqrt(d_in))                       (torch.nn.Linear default)
=================== ==================================================== =====================

``xavier`` and ``glorot`` are other names for ``xavier_uniform`` (Glorot and Bengio used the
uniform form); ``glorot_uniform``, ``glorot_normal`` and ``he_normal`` are accepted too.
"""

from __future__ import annotations

from collections.abc import Callable
from math import sqrt
from typing import Any

import numpy as np

from .._util import as_rng, one_of, positive_int

Array = np.ndarray

SMALL_STD = 0.01


def as_float_dtype(dtype: Any) -> np.dtype:
    """Check that ``dtype`` is float32 or float64 and return it as a ``np.dtype``."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"expected dtype to be float32 or float64, got {dtype!r}") from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"expected dtype to be float32 or float64, got {dt}")
    return dt


def zeros(
    d_in: int, d_out: int, rng: np.random.Generator | int | None = None, dtype: Any = np.float64
) -> Array:
    """W_l = 0. Every hidden unit then computes the same function and receives the same
    gradient, so they stay identical forever: the symmetry problem.
    """
    return np.zeros((d_out, d_in), dtype=as_float_dtype(dtype))


def small(
    d_in: int, d_out: int, rng: np.random.Generator | int | None = None, dtype: Any = np.float64
) -> Array:
    """Small random values, [W_l]_{ij} ~ N(0, 0.01^2). Breaks the symmetry, but the signal
    shrinks by a factor of about 0.01 sqrt(d_in) per layer, so deep networks start dead.
    """
    return (SMALL_STD * as_rng(rng).standard_normal((d_out, d_in))).astype(as_float_dtype(dtype))


def xavier_uniform(
    d_in: int, d_out: int, rng: np.random.Generator | int | None = None, dtype: Any = np.float64
) -> Array:
    """Xavier/Glorot (uniform): [W_l]_{ij} ~ U(-a, a) with a = sqrt(6 / (d_l + d_{l+1})),
    so Var = 2 / (d_l + d_{l+1}): a compromise that keeps the variance of f_l (forward) and
    of p_l (backward) roughly constant for sigma = tanh near 0.
    """
    a = sqrt(6.0 / (d_in + d_out))
    return as_rng(rng).uniform(-a, a, (d_out, d_in)).astype(as_float_dtype(dtype))


def xavier_normal(
    d_in: int, d_out: int, rng: np.random.Generator | int | None = None, dtype: Any = np.float64
) -> Array:
    """Xavier/Glorot (normal): [W_l]_{ij} ~ N(0, 2 / (d_l + d_{l+1}))."""
    std = sqrt(2.0 / (d_in + d_out))
    return (std * as_rng(rng).standard_normal((d_out, d_in))).astype(as_float_dtype(dtype))


def he(
    d_in: int, d_out: int, rng: np.random.Generator | int | None = None, dtype: Any = np.float64
) -> Array:
    """He (normal): [W_l]_{ij} ~ N(0, 2 / d_l). ReLU zeroes half of its inputs, and the
    factor 2 makes up for it, so E|f_{l+1}|^2 stays roughly constant across depth.
    """
    std = sqrt(2.0 / d_in)
    return (std * as_rng(rng).standard_normal((d_out, d_in))).astype(as_float_dtype(dtype))


def pytorch(
    d_in: int, d_out: int, rng: np.random.Generator | int | None = None, dtype: Any = np.float64
) -> Array:
    """PyTorch's default for ``nn.Linear``: [W_l]_{ij} ~ U(-1/sqrt(d_l), 1/sqrt(d_l)),
    so Var = 1 / (3 d_l). (PyTorch also draws its biases this way; ours start at zero.)
    """
    a = 1.0 / sqrt(d_in)
    return as_rng(rng).uniform(-a, a, (d_out, d_in)).astype(as_float_dtype(dtype))


INITIALIZERS: dict[str, Callable[..., Array]] = {
    "zeros": zeros,
    "small": small,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he": he,
    "pytorch": pytorch,
}

ALIASES: dict[str, str] = {
    "xavier": "xavier_uniform",
    "glorot": "xavier_uniform",
    "glorot_uniform": "xavier_uniform",
    "glorot_normal": "xavier_normal",
    "he_normal": "he",
    "kaiming": "he",
}


def init(
    name: str,
    d_in: int,
    d_out: int,
    rng: np.random.Generator | int | None = None,
    dtype: Any = np.float64,
) -> Array:
    """Draw a weight matrix W_l of shape ``(d_out, d_in)`` with the scheme ``name``
    (one of ``INITIALIZERS`` or ``ALIASES``; see the table in the module docstring).

    >>> init("he", d_in=784, d_out=256, rng=0).shape
    (256, 784)
    """
    if not isinstance(name, str):
        raise TypeError(f"expected init to be a name (str), got {type(name).__name__}")
    name = ALIASES.get(name, name)
    one_of(name, "init", list(INITIALIZERS) + list(ALIASES))
    d_in = positive_int(d_in, "d_in")
    d_out = positive_int(d_out, "d_out")
    return INITIALIZERS[name](d_in, d_out, as_rng(rng), as_float_dtype(dtype))


__all__ = [
    "init",
    "INITIALIZERS",
    "ALIASES",
    "zeros",
    "small",
    "xavier_uniform",
    "xavier_normal",
    "he",
    "pytorch",
    "as_rng",
    "as_float_dtype",
]
