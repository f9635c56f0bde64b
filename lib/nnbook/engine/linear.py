"""Closed forms for linear models: ridge regression, and dropout on a linear layer.

:func:`ridge` is weight decay solved exactly; :func:`expected_dropout_loss` and
:func:`dropout_ridge` show that inverted dropout in front of a linear layer is, in
expectation, a ridge penalty whose weight on w_j grows with the energy of feature j.
Chapter 6 and Exercise 10.5 use them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._util import as_array, positive_float

Array = np.ndarray


def _check_Xy(X: Any, y: Any, x_name: str = "X") -> tuple[Array, Array]:
    X = as_array(X, x_name, shape=("n", "d"))
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"expected {x_name} of shape (n, d) with n, d >= 1, got {X.shape}")
    y = as_array(y, "y")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"expected y of shape ({X.shape[0]},) (one target per row of {x_name}), got {y.shape}"
        )
    return X, y


def _check_phi(phi: Any) -> float:
    phi = positive_float(phi, "phi", allow_zero=True)
    if phi >= 1:
        raise ValueError(f"expected the dropout rate phi in [0, 1), got {phi}")
    return phi


def ridge(X: Any, y: Any, lam: float, *, penalty_weights: Any = None) -> Array:
    """Ridge regression in closed form: the minimiser of the penalised sum of squares.

        w_lambda = argmin_w  ||y - X w||^2 + lambda sum_j D_j w_j^2
                 = (X^T X + lambda D)^{-1} X^T y,        D = diag(D_1, ..., D_d),

    with D = I (``penalty_weights=None``), the L2 penalty J(w) = ||w||^2 of weight decay.
    Give ``penalty_weights`` (d non-negative numbers) for a diagonal penalty: a zero leaves
    that coefficient unpenalised (e.g. an intercept column of ones), and D_j = sum_i x_ij^2
    gives the dropout penalty of :func:`dropout_ridge`.

    Convention: this is the sum of squares (RSS) over all N samples plus lambda J(w). The
    penalised mean squared error R_lambda' = R + (lambda'/2) J, R = (1/N) sum_i (y_i - x_i^T w)^2
    (Chapter 6's convention), is RSS + lambda J divided by N for lambda = N lambda' / 2: the
    same minimiser.

    ``X`` is ``(n, d)``, ``y`` is ``(n,)``; returns w of shape ``(d,)``.
    """
    X, y = _check_Xy(X, y)
    lam = positive_float(lam, "lam", allow_zero=True)
    d = X.shape[1]
    if penalty_weights is None:
        D = np.ones(d)
    else:
        D = as_array(penalty_weights, "penalty_weights", shape=(d,))
        if np.any(D < 0):
            raise ValueError("expected penalty_weights >= 0 (one per column of X)")
    A = X.T @ X + lam * np.diag(D)
    try:
        return np.linalg.solve(A, X.T @ y)
    except np.linalg.LinAlgError:
        raise ValueError(
            "X^T X + lambda D is singular: use lam > 0 with positive penalty_weights, "
            "or X of full column rank"
        ) from None


def expected_dropout_loss(w: Any, H: Any, y: Any, phi: float) -> Array:
    """E over the mask of the squared loss of a linear layer after inverted dropout, per sample.

    With keep probability p = 1 - phi, h~ = m * h / p, m_j ~ Bernoulli(p) independent, and
    the output w^T h~ for the target y*, Exercise 10.5 gives

        E[(w^T h~ - y*)^2] = (w^T h - y*)^2 + (1 - p)/p sum_j w_j^2 h_j^2.

    ``w`` is ``(d,)``, ``H`` is ``(n, d)`` (one h per row), ``y`` is ``(n,)`` (the targets y*);
    returns the ``(n,)`` expected losses.
    """
    H, y = _check_Xy(H, y, "H")
    w = as_array(w, "w", shape=(H.shape[1],))
    phi = _check_phi(phi)
    p = 1.0 - phi
    return (H @ w - y) ** 2 + (1.0 - p) / p * ((H**2) @ (w**2))


def dropout_ridge(H: Any, y: Any, phi: float) -> Array:
    """The minimiser of the expected dropout loss of a linear layer: a diagonal ridge solution.

    Summing :func:`expected_dropout_loss` over the N samples,

        sum_i E[(w^T h~_i - y_i)^2] = ||y - H w||^2 + (1 - p)/p sum_j D_j w_j^2,
        D_j = sum_i h_ij^2,

    so the minimiser is ``ridge(H, y, (1 - p)/p, penalty_weights=D)`` with p = 1 - phi: an
    L2 penalty whose weight on w_j grows with the energy of feature j (adaptive ridge).

    ``H`` is ``(n, d)``, ``y`` is ``(n,)``; returns ``(d,)``.
    """
    H, y = _check_Xy(H, y, "H")
    phi = _check_phi(phi)
    p = 1.0 - phi
    return ridge(H, y, (1.0 - p) / p, penalty_weights=(H**2).sum(axis=0))


__all__ = ["ridge", "expected_dropout_loss", "dropout_ridge"]
