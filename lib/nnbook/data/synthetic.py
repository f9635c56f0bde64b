"""Generated data sets: small problems whose structure is known.

* :func:`make_spirals` draws K interleaved spiral arms, a classification problem that no
  linear model can solve.
* :data:`TARGETS` holds continuous target functions f*: [0, 1]^d -> R (:class:`Target`)
  for regression and approximation experiments: ``"wiggle"`` (d = 1, smooth with one
  kink) and ``"bump2d"`` (d = 2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._util import as_array, as_rng, positive_float, positive_int

Array = np.ndarray


def make_spirals(
    n_per_class: int = 200,
    K: int = 3,
    noise: float = 0.2,
    rng: np.random.Generator | int | None = None,
) -> tuple[Array, Array]:
    """K interleaved spiral arms in the plane, a small classification problem that a linear
    model cannot solve: class m has the points r (sin t, cos t) with r in [0, 1] evenly
    spaced, t = 4 r + 2 pi m / K + noise * N(0, 1). Returns X of shape ``(K n, 2)`` and
    integer labels y of shape ``(K n,)`` in 0..K-1.
    """
    n, K = positive_int(n_per_class, "n_per_class"), positive_int(K, "K", minimum=2)
    noise = positive_float(noise, "noise", allow_zero=True)
    rng = as_rng(rng)
    r = np.tile(np.linspace(0.0, 1.0, n), K)
    y = np.repeat(np.arange(K), n)
    t = 4.0 * r + 2 * np.pi * y / K + noise * rng.standard_normal(K * n)
    return np.column_stack([r * np.sin(t), r * np.cos(t)]), y


@dataclass(frozen=True)
class Target:
    """A continuous target function f*: [0, 1]^d -> R, with its formula (LaTeX) for display.

    ``target(X)`` maps an ``(n_samples, d)`` array to ``(n_samples,)`` values.
    """

    name: str
    d: int
    f: Callable[[Array], Array]
    formula: str

    def __call__(self, X) -> Array:
        X = as_array(X, "X", shape=(None, self.d))
        return self.f(X)


def _wiggle(X: Array) -> Array:
    x = X[:, 0]
    return np.sin(2 * np.pi * x) + 0.5 * np.abs(x - 0.6)


def _bump2d(X: Array) -> Array:
    r2 = (X[:, 0] - 0.35) ** 2 + (X[:, 1] - 0.6) ** 2
    return np.exp(-r2 / 0.05) + 0.5 * np.sin(np.pi * X[:, 0]) * X[:, 1]


#: name -> target function: "wiggle", f*(x) = sin(2 pi x) + |x - 0.6| / 2 on [0, 1], and
#: "bump2d", f*(x) = exp(-||x - (0.35, 0.6)||^2 / 0.05) + sin(pi x_1) x_2 / 2 on [0, 1]^2.
TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        Target("wiggle", 1, _wiggle, r"f^*(x) = \sin(2\pi x) + \tfrac12 |x - 0.6|"),
        Target(
            "bump2d",
            2,
            _bump2d,
            r"f^*(x) = e^{-\|x - (0.35, 0.6)\|^2/0.05} + \tfrac12 \sin(\pi x_1)\, x_2",
        ),
    ]
}

__all__ = ["make_spirals", "Target", "TARGETS"]
