"""Generated data sets: small problems whose structure is known.

``make_spirals`` draws K interleaved spiral arms, a classification problem that no linear
model can solve.
"""

from __future__ import annotations

import numpy as np

from .._util import as_rng, positive_float, positive_int

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


__all__ = ["make_spirals"]
