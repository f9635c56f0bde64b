"""The shallow (single-hidden-layer) network of the lecture, in NumPy.

    hidden layer   h_m(X) = sigma(w_m^T X + b_m),            m = 1, ..., M
    output layer   f(X)   = sum_{m=1}^M beta_m h_m(X)          (output bias b_0 = 0)

with parameters theta = {w_m in R^d, b_m in R, beta_m in R}: (d + 2) M numbers in all.
Inputs are arrays of shape ``(n_samples, d)``; outputs have shape ``(n_samples,)``.
:func:`least_squares_beta` fits the output weights beta for fixed hidden features.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._util import as_array, positive_float, positive_int
from . import activations as _act

Array = np.ndarray


def n_parameters(d: int, M: int) -> int:
    """Number of parameters of a shallow network, (d + 2) M.

    Each of the M hidden units has d input weights w_mj, one bias b_m and one output
    weight beta_m (the output bias b_0 is set to zero, as in the lecture).
    """
    d = positive_int(d, "d")
    M = positive_int(M, "M")
    return (d + 2) * M


# --------------------------------------------------------------------------- the model


@dataclass
class ShallowNet:
    """A single-hidden-layer network f(X) = sum_m beta_m sigma(w_m^T X + b_m) (NumPy).

    ``w`` has shape ``(M, d)`` (row m is w_m), ``b`` shape ``(M,)``, ``beta`` shape ``(M,)``.
    ``activation`` names sigma (see :mod:`nnbook.engine.activations`). ``info`` holds optional
    notes from fitting (e.g. the final training loss); it does not affect predictions.
    """

    w: Array
    b: Array
    beta: Array
    activation: str = "relu"
    info: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.w = as_array(self.w, "w", ndim=2)
        M, d = self.w.shape
        if M < 1 or d < 1:
            raise ValueError(f"expected w of shape (M, d) with M, d >= 1, got {self.w.shape}")
        self.b = as_array(self.b, "b", shape=(M,))
        self.beta = as_array(self.beta, "beta", shape=(M,))
        self.activation = _act.get(self.activation).name

    @property
    def M(self) -> int:
        """Number of hidden units (the width)."""
        return self.w.shape[0]

    @property
    def d(self) -> int:
        """Input dimension."""
        return self.w.shape[1]

    def hidden(self, X) -> Array:
        """Hidden features h_m(X) = sigma(w_m^T X + b_m), shape ``(n_samples, M)``."""
        X = as_array(X, "X", shape=(None, self.d))
        sigma = _act.get(self.activation)
        return sigma(X @ self.w.T + self.b)

    def forward(self, X) -> Array:
        """Network output f(X) = sum_m beta_m h_m(X), shape ``(n_samples,)``."""
        return self.hidden(X) @ self.beta

    __call__ = forward
    predict = forward

    def parameters(self) -> list[Array]:
        """The parameters theta as a list ``[w, b, beta]`` (the arrays themselves, not copies)."""
        return [self.w, self.b, self.beta]

    @property
    def n_parameters(self) -> int:
        """Number of parameters, counted from the arrays (equals (d + 2) M)."""
        return sum(p.size for p in self.parameters())


def least_squares_beta(H, y, *, ridge: float = 0.0) -> Array:
    """Output weights minimising sum_i (y_i - sum_m beta_m H_im)^2 + ridge * ||beta||^2.

    ``H`` is the ``(n_samples, M)`` matrix of hidden features, ``y`` the ``(n_samples,)``
    targets. With ``ridge = 0`` this is the minimum-norm least-squares solution.
    """
    H = as_array(H, "H", ndim=2)
    y = as_array(y, "y", shape=(H.shape[0],))
    ridge = positive_float(ridge, "ridge", allow_zero=True)
    if ridge > 0:
        M = H.shape[1]
        A = np.vstack([H, np.sqrt(ridge) * np.eye(M)])
        y = np.concatenate([y, np.zeros(M)])
        H = A
    beta, *_ = np.linalg.lstsq(H, y, rcond=None)
    return beta


__all__ = ["ShallowNet", "n_parameters", "least_squares_beta"]
