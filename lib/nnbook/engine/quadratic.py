"""The quadratic risk, where gradient descent can be solved exactly.

    R(theta) = 1/2 theta^T A theta - b^T theta + c,      grad R(theta) = A theta - b,

with A symmetric positive semi-definite, eigenvalues 0 <= lambda_1 <= ... <= lambda_p.
Least squares, R(theta) = 1/(2N) ||X theta - y||^2, is the case A = X^T X / N,
b = X^T y / N, c = y^T y / (2N) (:meth:`Quadratic.least_squares`).

GD with a constant eta maps the error e = theta - theta* to (I - eta A) e, so along the
eigenvector v_i the error is multiplied by 1 - eta lambda_i at every step:

    v_i^T (theta^(k) - theta*) = (1 - eta lambda_i)^k v_i^T (theta^(0) - theta*).

GD converges from every theta^(0) iff 0 < eta < 2 / L, with L = lambda_p the smoothness
constant (grad R is L-Lipschitz); mu = lambda_1 is the strong-convexity constant.
"""

from __future__ import annotations

import numpy as np

from .._util import as_array, positive_float

Array = np.ndarray


class Quadratic:
    """R(theta) = 1/2 theta^T A theta - b^T theta + c, with A symmetric positive semi-definite.

    ``A`` has shape ``(p, p)``, ``b`` shape ``(p,)`` (default 0). The eigen-decomposition of A
    is kept: ``eigenvalues`` (ascending) and ``eigenvectors`` (the columns).
    """

    def __init__(self, A, b=None, c: float = 0.0) -> None:
        A = _check_psd(as_array(A, "A", ndim=2))
        self.A = 0.5 * (A + A.T)
        self.b = np.zeros(len(A)) if b is None else as_array(b, "b", shape=(len(A),))
        self.c = float(c)
        eigenvalues, self.eigenvectors = np.linalg.eigh(self.A)  # ascending
        self.eigenvalues = np.clip(eigenvalues, 0.0, None)  # rounding may leave -1e-17

    @classmethod
    def least_squares(cls, X, y, ridge: float = 0.0) -> Quadratic:
        """R(theta) = 1/(2N) ||X theta - y||^2 + ridge/2 ||theta||^2 as a :class:`Quadratic`."""
        X = as_array(X, "X", ndim=2)
        y = as_array(y, "y", shape=(len(X),))
        ridge = positive_float(ridge, "ridge", allow_zero=True)
        N, p = X.shape
        return cls(X.T @ X / N + ridge * np.eye(p), X.T @ y / N, y @ y / (2 * N))

    @property
    def p(self) -> int:
        """Dimension of theta."""
        return len(self.A)

    @property
    def L(self) -> float:
        """The smoothness constant L = lambda_max(A): grad R is L-Lipschitz."""
        return float(self.eigenvalues[-1])

    @property
    def mu(self) -> float:
        """The strong-convexity constant mu = lambda_min(A) (0: convex, not strongly)."""
        return float(self.eigenvalues[0])

    def __call__(self, theta) -> float | Array:
        """R(theta) for theta of shape ``(p,)``, or for a stack ``(..., p)`` of them."""
        theta = np.asarray(theta, dtype=np.float64)
        quad = 0.5 * np.sum((theta @ self.A) * theta, axis=-1)
        out = quad - theta @ self.b + self.c
        return float(out) if np.ndim(out) == 0 else out

    def grad(self, theta) -> Array:
        """grad R(theta) = A theta - b (also for a stack ``(..., p)``, row by row)."""
        return np.asarray(theta, dtype=np.float64) @ self.A - self.b

    def minimizer(self) -> Array:
        """theta* = A^+ b, the minimiser of smallest norm (the only one if A is invertible)."""
        return np.linalg.lstsq(self.A, self.b, rcond=None)[0]

    def minimum(self) -> float:
        """R* = min R = R(theta*)."""
        return self(self.minimizer())

    def contraction_factors(self, eta: float) -> Array:
        """|1 - eta lambda_i| for every eigenvalue lambda_i of A (ascending), shape ``(p,)``."""
        return np.abs(1.0 - positive_float(eta, "eta") * self.eigenvalues)

    def rate(self, eta: float) -> float:
        """rho(eta) = max_i |1 - eta lambda_i| over the eigenvalues lambda_i > 0.

        ||theta^(k) - theta*|| shrinks like rho^k (along the range of A; the null space
        of A does not move); GD converges iff rho < 1, i.e. eta < 2 / L.
        """
        factors = self.contraction_factors(eta)[self.eigenvalues > 1e-12 * self.L]
        return float(factors.max()) if factors.size else 1.0

    def gd_closed_form(self, theta0, eta: float, k) -> Array:
        """theta^(k) = theta* + (I - eta A)^k (theta^(0) - theta*), without iterating.

        Computed in the eigenbasis; ``k`` is an int or an array of ints, and the result
        has shape ``(*shape(k), p)``.
        """
        theta0 = as_array(theta0, "theta0", shape=(self.p,))
        eta = positive_float(eta, "eta")
        star = self.minimizer()
        coef = self.eigenvectors.T @ (theta0 - star)  # the error in the eigenbasis
        with np.errstate(over="ignore"):
            powers = (1.0 - eta * self.eigenvalues) ** np.asarray(k)[..., None]
        return star + (powers * coef) @ self.eigenvectors.T


def _check_psd(A: Array) -> Array:
    """A, if it is square, symmetric and positive semi-definite (to rounding)."""
    if A.shape[0] != A.shape[1] or A.shape[0] < 1:
        raise ValueError(f"expected a square matrix A of shape (p, p), got {A.shape}")
    scale = max(1.0, float(np.abs(A).max()))
    if not np.allclose(A, A.T, rtol=1e-10, atol=1e-12 * scale):
        raise ValueError("expected a symmetric matrix A")
    smallest = np.linalg.eigvalsh(0.5 * (A + A.T))[0]
    if smallest < -1e-10 * scale:
        raise ValueError(f"expected A positive semi-definite, got an eigenvalue {smallest:.3g}")
    return A


__all__ = ["Quadratic"]
