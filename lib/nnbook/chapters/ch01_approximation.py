"""Chapter 1's helpers: the universal approximation theorem in one dimension, built and measured.

The shallow network of the lecture, f(X) = sum_{m=1}^M beta_m sigma(w_m^T X + b_m)
(:class:`nnbook.engine.shallow.ShallowNet`), with weights written down by construction:

* :func:`relu_interpolant` -- the piecewise-linear interpolant of f* on a grid of step h,
  exactly a shallow ReLU network; its sup error is at most h^2 max|f*''| / 8.
* :func:`sigmoid_staircase` -- steep sigmoids summing to a staircase that approximates f*;
  its sup error shrinks like h as the steps multiply and sharpen.

and measured: :func:`uniform_grid` (points of [0, 1]^d) and :func:`sup_norm_error`,
max_x |f(x) - f*(x)| on a grid, the quantity in the universal approximation theorem.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._util import as_array, positive_float, positive_int
from ..engine.shallow import ShallowNet

Array = np.ndarray


# --------------------------------------------------------------------------- constructions


def _values_at(f: Callable[[Array], Array], t: Array) -> Array:
    """f at the points t of [0, 1], called as f on an ``(n, 1)`` array."""
    return as_array(f(t[:, None]), "f(nodes)", shape=(t.shape[0],))


def relu_interpolant(f: Callable[[Array], Array], K: int) -> ShallowNet:
    """The piecewise-linear interpolant of f* at the nodes t_k = k h (h = 1/K, k = 0, ..., K),
    written exactly as a shallow ReLU network with M = K + 1 units:

        f_K(x) = f*(t_0) sigma(0 x + 1) + sum_{k=0}^{K-1} (s_k - s_{k-1}) sigma(x - t_k),

    with the slopes s_k = (f*(t_{k+1}) - f*(t_k)) / h and s_{-1} = 0. The first unit is the
    constant sigma(1) = 1 (w = 0, b = 1), so no output bias is needed; the unit at t_k adds
    the change of slope there. If f* has a bounded second derivative between the nodes,
    max_{x in [0, 1]} |f_K(x) - f*(x)| <= h^2 max|f*''| / 8.
    ``f`` maps an ``(n, 1)`` array to ``(n,)`` values.
    """
    K = positive_int(K, "K")
    t = np.linspace(0.0, 1.0, K + 1)
    values = _values_at(f, t)
    slopes = np.diff(values) * K  # s_0, ..., s_{K-1}
    beta = np.concatenate([[values[0]], np.diff(slopes, prepend=0.0)])
    w = np.concatenate([[0.0], np.ones(K)])[:, None]
    b = np.concatenate([[1.0], -t[:-1]])
    return ShallowNet(w, b, beta, "relu", {"nodes": t})


def sigmoid_staircase(f: Callable[[Array], Array], K: int, steepness: float) -> ShallowNet:
    """A staircase approximation of f* by M = K + 1 sigmoid units of steepness s:

        f_K(x) = 2 f*(t_0) sigma(0) + sum_{k=1}^K (f*(t_k) - f*(t_{k-1})) sigma(s (x - tau_k)),

    with nodes t_k = k h (h = 1/K) and steps at the midpoints tau_k = t_k - h/2. The first
    unit is the constant sigma(0) = 1/2 (w = 0, b = 0). As s grows, each sigma(s (x - tau_k))
    tends to the unit step at tau_k (this is where "sigmoidal" is used), and f_K to the
    staircase equal to f*(t_k) on the cell around t_k, which is within h max|f*'| / 2 of f*.
    ``f`` maps an ``(n, 1)`` array to ``(n,)`` values.
    """
    K = positive_int(K, "K")
    s = positive_float(steepness, "steepness")
    t = np.linspace(0.0, 1.0, K + 1)
    values = _values_at(f, t)
    beta = np.concatenate([[2.0 * values[0]], np.diff(values)])
    w = np.concatenate([[0.0], np.full(K, s)])[:, None]
    b = np.concatenate([[0.0], -s * (t[1:] - 0.5 / K)])
    return ShallowNet(w, b, beta, "sigmoid", {"nodes": t})


# --------------------------------------------------------------------------- measuring


def uniform_grid(n: int, d: int = 1) -> Array:
    """All points of the regular grid with n points per axis on [0, 1]^d, shape ``(n**d, d)``."""
    n = positive_int(n, "n", minimum=2)
    d = positive_int(d, "d")
    axes = np.meshgrid(*([np.linspace(0.0, 1.0, n)] * d), indexing="ij")
    return np.stack([a.ravel() for a in axes], axis=1)


def sup_norm_error(f: Callable[[Array], Array], g: Callable[[Array], Array], grid) -> float:
    """Sup-norm distance max_{x in grid} |f(x) - g(x)|, the error in the UAT.

    ``f`` and ``g`` map an ``(n_samples, d)`` array to ``(n_samples,)`` values; ``grid`` is
    an ``(n_samples, d)`` array of points (a fine grid stands in for the set C).
    """
    grid = as_array(grid, "grid", ndim=2)
    if grid.shape[0] < 1:
        raise ValueError("expected a grid with at least one point, got 0")
    fx = as_array(f(grid), "f(grid)", shape=(grid.shape[0],))
    gx = as_array(g(grid), "g(grid)", shape=(grid.shape[0],))
    return float(np.max(np.abs(fx - gx)))


__all__ = [
    "relu_interpolant",
    "sigmoid_staircase",
    "uniform_grid",
    "sup_norm_error",
]
