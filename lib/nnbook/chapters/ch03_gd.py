"""Empirical risk minimisation (ERM) and gradient descent (GD).

The ERM over a parameterised hypothesis space H = {f_theta : theta in Theta} is

    min_{theta in R^p}  R^(theta) = (1/N) sum_{i=1}^N R^(i)(theta),
    R^(i)(theta) = L(f_theta(x_i), y_i),

and gradient descent with learning rate eta runs K steps of

    theta^(k+1) = theta^(k) - eta_k grad R^(theta^(k)),     k = 0, ..., K-1

(eta_k = eta, or a learning-rate schedule). This module holds

* :class:`SNNRisk`: R^ for the shallow network f_theta(x) = sum_m beta_m sigma(w_m^T x + b_m),
  theta = (beta_m, w_mj, b_m) in R^p with p = (d + 2) M, and its gradient;
* :func:`gradient_descent`: GD for any differentiable function, returning the trajectory;
* :func:`quadratic_2d`: an ill-conditioned 2-D :class:`nnbook.engine.quadratic.Quadratic`;
* :class:`SineRegression`: the book's stand-in for the lecture's non-convex 1-D objective
  (ISL's Figure 10.17), R(theta) = 1/2 sum_i (y_i - sin(theta x_i))^2;
* tools to measure: directional derivatives, chord (convexity) gaps, contraction rates.

The learning-rate schedules (step, exponential, cosine) live in :mod:`nnbook.engine.optim`;
any of them can be passed to :func:`gradient_descent` as ``eta``.

Arrays are ``(n_samples, n_features)``; a parameter vector theta has shape ``(p,)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._util import as_array, one_of, positive_float, positive_int
from ..engine import activations as _act
from ..engine import losses as _losses
from ..engine.quadratic import Quadratic
from ..engine.shallow import ShallowNet

Array = np.ndarray

LOSSES = ("squared", "cross_entropy")


# =========================================================================== ERM for the SNN


def pack(w, b, beta) -> Array:
    """Stack the SNN parameters into one vector theta = (beta_m, w_mj, b_m) in R^p, p = (d + 2) M.

    ``w`` has shape ``(M, d)``, ``b`` and ``beta`` shape ``(M,)``; the order inside theta is
    beta_1..beta_M, then w_11..w_1d, ..., w_M1..w_Md (row by row), then b_1..b_M.
    """
    w = as_array(w, "w", ndim=2)
    M, _ = w.shape
    b = as_array(b, "b", shape=(M,))
    beta = as_array(beta, "beta", shape=(M,))
    return np.concatenate([beta, w.ravel(), b])


def unpack(theta, d: int, M: int) -> tuple[Array, Array, Array]:
    """Split theta in R^{(d+2)M} back into ``(w, b, beta)`` of shapes ``(M, d)``, ``(M,)``,
    ``(M,)``.

    The inverse of :func:`pack`.
    """
    d, M = positive_int(d, "d"), positive_int(M, "M")
    theta = as_array(theta, "theta", shape=((d + 2) * M,))
    beta = theta[:M]
    w = theta[M : M + M * d].reshape(M, d)
    b = theta[M + M * d :]
    return w, b, beta


class SNNRisk:
    """The empirical risk of a shallow network as a function of theta in R^p, p = (d + 2) M.

        f_theta(x) = sum_{m=1}^M beta_m sigma(w_m^T x + b_m),
        R^(theta)  = (1/N) sum_{i=1}^N R^(i)(theta),   R^(i)(theta) = L(f_theta(x_i), y_i),

    with the squared loss L(f, y) = (y - f)^2 / 2 (regression) or the cross-entropy
    L(f, y) = log(1 + e^f) - y f of the probability sigmoid(f), labels y in {0, 1}
    (classification). ``X`` has shape ``(N, d)``, ``y`` shape ``(N,)``.

    The gradient is written out by hand (the chain rule, Chapter 5 does it in general):
    with r_i = dL/df(f_theta(x_i), y_i) / N and h_im = sigma(z_im), z_im = w_m^T x_i + b_m,

        dR^/dbeta_m = sum_i r_i h_im,
        dR^/dw_mj   = sum_i r_i beta_m sigma'(z_im) x_ij,
        dR^/db_m    = sum_i r_i beta_m sigma'(z_im).
    """

    def __init__(self, X, y, M: int, activation: str = "tanh", loss: str = "squared") -> None:
        self.X = as_array(X, "X", ndim=2)
        N, d = self.X.shape
        if N < 1 or d < 1:
            raise ValueError(f"expected X of shape (N, d) with N, d >= 1, got {self.X.shape}")
        self.y = as_array(y, "y", shape=(N,))
        self.M = positive_int(M, "M")
        self.sigma = _act.get(activation)
        self.loss = one_of(loss, "loss", LOSSES)
        if loss == "cross_entropy" and not np.all((self.y == 0) | (self.y == 1)):
            raise ValueError("expected labels y in {0, 1} for loss='cross_entropy'")
        if loss == "squared":
            self._L, self._dL = _losses.squared_error, _losses.squared_error_grad
        else:
            self._L, self._dL = _losses.binary_cross_entropy, _losses.binary_cross_entropy_grad

    @property
    def N(self) -> int:
        """Number of samples."""
        return self.X.shape[0]

    @property
    def d(self) -> int:
        """Input dimension."""
        return self.X.shape[1]

    @property
    def p(self) -> int:
        """Number of parameters, p = (d + 2) M."""
        return (self.d + 2) * self.M

    def _split(self, theta) -> tuple[Array, Array, Array]:
        """:func:`unpack` with a light check (it runs at every GD step)."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.p,):
            raise ValueError(
                f"expected theta of shape ({self.p},) = ((d + 2) M,), got {theta.shape}"
            )
        M, d = self.M, self.d
        return theta[M : M + M * d].reshape(M, d), theta[M + M * d :], theta[:M]

    def net(self, theta) -> ShallowNet:
        """The network f_theta as a :class:`~nnbook.engine.shallow.ShallowNet`."""
        w, b, beta = unpack(theta, self.d, self.M)
        return ShallowNet(w.copy(), b.copy(), beta.copy(), self.sigma.name)

    def predict(self, theta, X=None) -> Array:
        """f_theta(x_i) for the rows of ``X`` (default: the training inputs), shape ``(n,)``."""
        w, b, beta = self._split(theta)
        X = self.X if X is None else as_array(X, "X", shape=(None, self.d))
        return self.sigma(X @ w.T + b) @ beta

    def per_sample(self, theta) -> Array:
        """The N terms R^(i)(theta) = L(f_theta(x_i), y_i), shape ``(N,)``."""
        f = self.predict(theta)
        return np.array([self._L(f[i : i + 1], self.y[i : i + 1]) for i in range(self.N)])

    def __call__(self, theta) -> float:
        """R^(theta) = (1/N) sum_i L(f_theta(x_i), y_i)."""
        return self._L(self.predict(theta), self.y)

    def grad(self, theta) -> Array:
        """grad R^(theta) in R^p, in the order of :func:`pack`."""
        w, b, beta = self._split(theta)
        Z = self.X @ w.T + b  # (N, M)
        H = self.sigma(Z)
        r = self._dL(H @ beta, self.y)  # (N,), already divided by N
        G = np.outer(r, beta) * self.sigma.df(Z)  # dR^/dz_im
        return np.concatenate([H.T @ r, (G.T @ self.X).ravel(), G.sum(axis=0)])

    def init(self, rng: np.random.Generator, scale: float = 1.0) -> Array:
        """A random theta^(0) with independent N(0, scale^2) entries, shape ``(p,)``."""
        scale = positive_float(scale, "scale")
        return scale * rng.standard_normal(self.p)

    def __repr__(self) -> str:
        sizes = f"N={self.N}, d={self.d}, M={self.M}"
        return f"SNNRisk({sizes}, activation={self.sigma.name!r}, loss={self.loss!r})"


# =========================================================================== gradient descent


def _check_gd(grad, theta0, eta, K) -> tuple[Array, Callable, Callable, int]:
    """theta^(0) (a copy), k -> eta_k and theta -> grad R(theta) (both checked at every
    call), and K."""
    if not callable(grad):
        raise TypeError(
            f"expected grad to be a function theta -> grad R(theta), got {type(grad).__name__}"
        )

    def checked_grad(theta: Array) -> Array:
        g = np.asarray(grad(theta), dtype=np.float64)
        if g.shape != theta.shape:
            raise ValueError(f"expected grad(theta) of shape {theta.shape}, got {g.shape}")
        return g

    if callable(eta):

        def schedule(k: int) -> float:
            return positive_float(eta(k), f"eta_{k} (the schedule at k={k})")
    else:
        eta_0 = positive_float(eta, "eta")

        def schedule(k: int) -> float:
            return eta_0

    theta = as_array(theta0, "theta0").copy()
    return theta, schedule, checked_grad, positive_int(K, "K", minimum=0)


def gradient_descent(
    grad: Callable[[Array], Array],
    theta0,
    eta: float | Callable[[int], float],
    K: int,
) -> Array:
    """Run K steps of GD and return the whole trajectory theta^(0), ..., theta^(K).

        theta^(k+1) = theta^(k) - eta_k grad(theta^(k)),   k = 0, 1, ..., K-1,

    with a constant learning rate eta_k = eta, or a schedule: ``eta`` may be any function
    k -> eta_k, e.g. ``nnbook.engine.optim.CosineDecay(eta0, K)``. ``grad`` maps an array of
    the shape of ``theta0`` to one of the same shape. The result has shape
    ``(K + 1, *theta0.shape)``; its last row is theta^(K). If an iterate overflows (GD
    diverged), it and the remaining rows are NaN.
    """
    theta, eta_k, grad, K = _check_gd(grad, theta0, eta, K)
    trajectory = np.full((K + 1, *theta.shape), np.nan)
    trajectory[0] = theta
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(K):
            theta = theta - eta_k(k) * grad(theta)
            if not np.all(np.isfinite(theta)):
                break  # GD diverged: this row and the ones after it stay NaN
            trajectory[k + 1] = theta
    return trajectory


def grad_norms(grad: Callable[[Array], Array], trajectory) -> Array:
    """||grad R(theta^(k))|| for every iterate of a trajectory (rows), shape ``(K + 1,)``."""
    trajectory = as_array(trajectory, "trajectory", finite=False)
    if trajectory.ndim < 1:
        raise ValueError(f"expected a trajectory of shape (K + 1, ...), got {trajectory.shape}")
    return np.array([np.linalg.norm(grad(t)) for t in trajectory])


def hessian(grad: Callable[[Array], Array], theta, h: float = 1e-5) -> Array:
    """The Hessian of R at theta by central differences of its gradient, symmetrised,
    shape ``(p, p)``:

        column j = (grad R(theta + h e_j) - grad R(theta - h e_j)) / (2 h).

    Its largest eigenvalue is the local curvature L(theta); GD decreases R when eta < 2/L.
    """
    theta = as_array(theta, "theta", ndim=1)
    h = positive_float(h, "h")
    p = theta.size
    H = np.empty((p, p))
    for j in range(p):
        e = np.zeros(p)
        e[j] = h
        H[:, j] = (np.asarray(grad(theta + e)) - np.asarray(grad(theta - e))) / (2 * h)
    return 0.5 * (H + H.T)


# ============================================================== the gradient is the steepest ascent


def random_unit_vectors(n: int, p: int, rng: np.random.Generator) -> Array:
    """n directions u drawn uniformly on the unit sphere of R^p, shape ``(n, p)``."""
    n, p = positive_int(n, "n"), positive_int(p, "p")
    U = rng.standard_normal((n, p))
    return U / np.linalg.norm(U, axis=1, keepdims=True)


def directional_derivative(R: Callable[[Array], float], theta, u, h: float = 1e-6) -> float:
    """The slope of R at theta in the direction u, by a central difference:

        D_u R(theta) ~ (R(theta + h u) - R(theta - h u)) / (2 h).

    It uses only values of R (no gradient), so it checks grad R independently:
    D_u R = grad R . u, largest (= ||grad R||) for u = grad R / ||grad R||.
    """
    theta = as_array(theta, "theta")
    u = as_array(u, "u", shape=theta.shape)
    h = positive_float(h, "h")
    return (R(theta + h * u) - R(theta - h * u)) / (2 * h)


# =========================================================================== quadratics


def quadratic_2d(L: float = 1.0, kappa: float = 10.0, angle: float = np.pi / 6) -> Quadratic:
    """A 2-D ill-conditioned quadratic R(theta) = 1/2 theta^T A theta with eigenvalues L and
    L/kappa,
    its eigenvectors rotated by ``angle`` from the axes (condition number kappa = L/mu).
    """
    L, kappa = positive_float(L, "L"), positive_float(kappa, "kappa")
    if kappa < 1:
        raise ValueError(f"expected kappa >= 1, got {kappa}")
    c, s = np.cos(angle), np.sin(angle)
    Q = np.array([[c, -s], [s, c]])
    return Quadratic(Q @ np.diag([L, L / kappa]) @ Q.T)


def measured_rate(errors, tail: int = 10) -> float:
    """The contraction factor measured from a sequence of errors e_k (e.g. ||theta^(k) - theta*||):
    the geometric mean of e_{k+1}/e_k over the last ``tail`` steps, (e_K / e_{K-tail})^(1/tail).
    """
    e = as_array(errors, "errors", ndim=1, finite=False)
    tail = positive_int(tail, "tail")
    if e.size <= tail:
        raise ValueError(f"expected more than tail={tail} errors, got {e.size}")
    if np.any(e[-tail - 1 :] <= 0) or not np.all(np.isfinite(e[-tail - 1 :])):
        raise ValueError(
            "expected positive, finite errors over the tail (GD diverged or converged exactly)"
        )
    return float((e[-1] / e[-tail - 1]) ** (1.0 / tail))


def convex_bound(k, L: float, dist0: float) -> Array:
    """The GD guarantee for a convex, L-smooth R with eta = 1/L:

        R(theta^(k)) - R* <= L ||theta^(0) - theta*||^2 / (2 k),

    so an error epsilon needs at most k = L ||theta^(0) - theta*||^2 / (2 epsilon)
    = O(1/epsilon) steps. ``dist0`` is ||theta^(0) - theta*||. (With a general eta <= 1/L
    the bound is dist0^2 / (2 eta k).)
    """
    k = as_array(k, "k")
    if np.any(k < 1):
        raise ValueError("expected iteration counts k >= 1")
    L = positive_float(L, "L")
    dist0 = positive_float(dist0, "dist0", allow_zero=True)
    return L * dist0**2 / (2 * k)


# =========================================================================== convexity


def chord_gaps(R: Callable[[Array], float], theta, theta_prime, lambdas) -> Array:
    """R(lambda theta + (1 - lambda) theta') - [lambda R(theta) + (1 - lambda) R(theta')] for each
    lambda.

    R is convex iff this is <= 0 for all theta, theta' and lambda in [0, 1]; a positive value is
    a pair that violates convexity (the graph lies above the chord).
    """
    theta = as_array(theta, "theta")
    theta_prime = as_array(theta_prime, "theta_prime", shape=theta.shape)
    lambdas = as_array(lambdas, "lambdas", ndim=1)
    if np.any((lambdas < 0) | (lambdas > 1)):
        raise ValueError("expected lambdas in [0, 1]")
    Ra, Rb = R(theta), R(theta_prime)
    return np.array(
        [R(lam * theta + (1 - lam) * theta_prime) - (lam * Ra + (1 - lam) * Rb) for lam in lambdas]
    )


@dataclass(frozen=True)
class ConvexityCheck:
    """Result of :func:`convexity_check`: the largest chord gap, how many pairs violate the
    chord inequality (gap > tol), and the worst pair.
    """

    n_pairs: int
    n_violating: int
    max_gap: float
    worst_pair: tuple[Array, Array]

    @property
    def fraction_violating(self) -> float:
        """Fraction of the pairs with a chord gap above the tolerance."""
        return self.n_violating / self.n_pairs


def convexity_check(
    R: Callable[[Array], float],
    center,
    n_pairs: int,
    rng: np.random.Generator,
    scale: float = 1.0,
    lambdas=(0.25, 0.5, 0.75),
    tol: float = 1e-10,
) -> ConvexityCheck:
    """Test the chord inequality of R on random pairs theta, theta' = center + scale * N(0, I).

    A pair violates it if max over ``lambdas`` of :func:`chord_gaps` exceeds ``tol`` (relative to
    max(1, |R(theta)|, |R(theta')|)). One violating pair proves R is not convex; none proves
    nothing.
    """
    center = as_array(center, "center", ndim=1)
    n_pairs = positive_int(n_pairs, "n_pairs")
    scale = positive_float(scale, "scale")
    tol = positive_float(tol, "tol", allow_zero=True)
    worst, worst_pair, bad = -np.inf, None, 0
    for _ in range(n_pairs):
        a = center + scale * rng.standard_normal(center.shape)
        b = center + scale * rng.standard_normal(center.shape)
        gap = float(np.max(chord_gaps(R, a, b, lambdas)))
        bad += gap > tol * max(1.0, abs(R(a)), abs(R(b)))
        if gap > worst:
            worst, worst_pair = gap, (a, b)
    return ConvexityCheck(n_pairs, int(bad), float(worst), worst_pair)


# ======================================================================= the non-convex 1-D example


class SineRegression:
    """A non-convex 1-D objective, the book's stand-in for the one the lecture shows (ISL's
    Figure 10.17): fit f_theta(x) = sin(theta x) to points (x_i, y_i) by

        R(theta) = 1/2 sum_{i=1}^n (y_i - sin(theta x_i))^2,
        R'(theta) = -sum_i (y_i - sin(theta x_i)) x_i cos(theta x_i).

    One parameter, yet R has many local minima: f_theta is periodic-like in theta.
    Calls accept a scalar theta, an array of thetas (evaluated elementwise), or a ``(1,)`` vector
    (so it works with :func:`gradient_descent`).
    """

    def __init__(self, x, y) -> None:
        self.x = as_array(x, "x", ndim=1)
        self.y = as_array(y, "y", shape=self.x.shape)
        if self.x.size < 1:
            raise ValueError("expected at least one point x")

    def __call__(self, theta) -> float | Array:
        """R(theta), elementwise over an array of thetas."""
        t = as_array(theta, "theta", finite=False)
        r = self.y - np.sin(t[..., None] * self.x)
        out = 0.5 * np.sum(r**2, axis=-1)
        return float(out) if out.ndim == 0 else out

    def grad(self, theta) -> Array:
        """R'(theta), elementwise (same shape as ``theta``)."""
        t = as_array(theta, "theta", finite=False)
        z = t[..., None] * self.x
        return -np.sum((self.y - np.sin(z)) * self.x * np.cos(z), axis=-1)

    def curvature_bound(self) -> float:
        """A bound on |R''(theta)| valid for every theta: sum_i x_i^2 (|y_i| + 1).

        R'' = sum_i x_i^2 [cos^2(theta x_i) + (y_i - sin(theta x_i)) sin(theta x_i)], so GD with
        eta < 1 / curvature_bound() decreases R at every step.
        """
        return float(np.sum(self.x**2 * (np.abs(self.y) + 1.0)))


def grid_minima(R: Callable[[Array], Array], grid) -> Array:
    """The points of an increasing 1-D grid where R is smaller than at both neighbours
    (candidate local minima, to grid accuracy), found from values of R only.
    """
    grid = as_array(grid, "grid", ndim=1)
    if grid.size < 3 or np.any(np.diff(grid) <= 0):
        raise ValueError("expected an increasing grid of at least 3 points")
    v = np.asarray(R(grid), dtype=np.float64)
    inner = (v[1:-1] < v[:-2]) & (v[1:-1] < v[2:])
    return grid[1:-1][inner]


__all__ = [
    "LOSSES",
    "pack",
    "unpack",
    "SNNRisk",
    "gradient_descent",
    "grad_norms",
    "hessian",
    "random_unit_vectors",
    "directional_derivative",
    "quadratic_2d",
    "measured_rate",
    "convex_bound",
    "chord_gaps",
    "ConvexityCheck",
    "convexity_check",
    "SineRegression",
    "grid_minima",
]
