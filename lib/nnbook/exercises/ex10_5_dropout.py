"""Exercise 10.5, dropout as adaptive regularisation: exact expectations over masks, SGD with
dropout, and the checks of the student's answers.

Notation of the exercise: inverted dropout maps h in R^d to

    h~ = m * h / p,        m_j ~ Bernoulli(p) independent,

where p is the KEEP probability. (The lecture's dropout slide, Chapter 6 and
``layers.Dropout(phi)`` use the drop probability phi = 1 - p; ``torch.nn.Dropout(p)`` also
takes the drop probability.)

Expectations over the mask are computed exactly by enumerating all 2^d masks
m in {0, 1}^d, each with probability P(m) = p^{|m|} (1 - p)^{d - |m|}, |m| = sum_j m_j.
The checks compare the student's formulas with these enumerations: they never use the
formulas the student is asked to derive.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.ticker import FuncFormatter

from .._util import as_array, as_rng, positive_float, positive_int
from ..engine.layers import Dropout
from ..viz.plots import PALETTE
from .checks import Result, as_numeric, call, fail, fmt, passed, run

Array = np.ndarray
MAX_ENUMERATION_DIM = 16  # 2^16 masks: the largest d that all_masks enumerates


# --------------------------------------------------------------------------- validation
def _keep_probability(p: Any) -> float:
    p = positive_float(p, "p")
    if p > 1:
        raise ValueError(f"expected the keep probability p in (0, 1], got {p}")
    return p


def _check_Xy(X: Any, y: Any) -> tuple[Array, Array]:
    X = as_array(X, "X", shape=("N", "d"))
    y = as_array(y, "y", shape=(X.shape[0],))
    return X, y


# --------------------------------------------------------------------------- exact expectations
def all_masks(d: int) -> Array:
    """All 2^d masks m in {0, 1}^d, one per row, as floats: shape ``(2**d, d)``.

    Row k is the binary expansion of k (the first coordinate is the most significant bit), so
    row 0 drops every unit and the last row keeps them all.
    """
    d = positive_int(d, "d")
    if d > MAX_ENUMERATION_DIM:
        raise ValueError(f"expected d <= {MAX_ENUMERATION_DIM} (2^d masks), got {d}")
    return np.array(list(itertools.product((0.0, 1.0), repeat=d)))


def mask_probabilities(masks: Any, p: float) -> Array:
    """P(m) = prod_j p^{m_j} (1 - p)^{1 - m_j} = p^{|m|} (1 - p)^{d - |m|} for each row m.

    ``masks`` is ``(K, d)`` with entries 0 or 1; returns ``(K,)``.
    """
    masks = as_array(masks, "masks", shape=("K", "d"))
    p = _keep_probability(p)
    if not np.all((masks == 0) | (masks == 1)):
        raise ValueError("expected masks with entries 0 or 1")
    return np.prod(np.where(masks == 1, p, 1.0 - p), axis=1)


def expectation_over_masks(f: Callable[[Array], Any], d: int, p: float) -> Array:
    """E_m[f(m)] = sum over all 2^d masks of P(m) f(m), exactly (up to rounding).

    ``f`` maps one mask, a float array of shape ``(d,)`` with entries 0 or 1, to a number or
    an array (the same shape for every mask).
    """
    masks = all_masks(d)
    probs = mask_probabilities(masks, p)
    return sum(P * np.asarray(f(m.copy()), dtype=float) for P, m in zip(probs, masks))


def exact_expected_loss(w: Any, h: Any, y_star: float, p: float) -> float:
    """E_m[(w^T h~ - y*)^2] with h~ = m * h / p, by enumerating all 2^d masks.

    ``w`` and ``h`` have shape ``(d,)``; ``y_star`` is the target y*.
    """
    h = as_array(h, "h", shape=("d",))
    w = as_array(w, "w", shape=h.shape)
    y_star = float(as_array(y_star, "y_star", shape=()))
    p = _keep_probability(p)
    masks = all_masks(len(h))
    y = (masks * h / p) @ w  # the output w^T h~ for every mask
    return float(mask_probabilities(masks, p) @ (y - y_star) ** 2)


def exact_dropout_minimiser(X: Any, y: Any, p: float) -> Array:
    """argmin_w sum_i E[(w^T x~_i - y_i)^2], x~_i = m_i * x_i / p, with E computed by enumeration.

    The expected loss is quadratic in w: its gradient is 2 (A w - b) with
    A = sum_i E[x~_i x~_i^T] and b = sum_i y_i E[x~_i], and both expectations are sums over the
    2^d masks (the sum over samples does not care whether the masks are shared or independent).
    Returns the solution of A w = b, shape ``(d,)``; ``X`` is ``(N, d)`` and ``y`` is ``(N,)``.
    """
    X, y = _check_Xy(X, y)
    p = _keep_probability(p)
    masks = all_masks(X.shape[1])
    A = np.zeros((X.shape[1], X.shape[1]))
    b = np.zeros(X.shape[1])
    for P, m in zip(mask_probabilities(masks, p), masks):
        X_tilde = X * m / p  # the same mask on every row
        A += P * X_tilde.T @ X_tilde
        b += P * X_tilde.T @ y
    return np.linalg.solve(A, b)


# --------------------------------------------------------------------------- data
def scaled_regression(
    n: int, scales: Any, w: Any, noise: float, rng: np.random.Generator | int | None = None
) -> tuple[Array, Array]:
    """n samples of linear regression with features of different scales.

        x_ij = s_j z_ij,     y_i = w^T x_i + sigma eps_i,     z_ij, eps_i ~ N(0, 1) independent,

    with s = ``scales`` (d positive numbers) and sigma = ``noise``. Returns ``X`` of shape
    ``(n, d)`` and ``y`` of shape ``(n,)``.
    """
    n = positive_int(n, "n")
    scales = as_array(scales, "scales", shape=("d",))
    if np.any(scales <= 0):
        raise ValueError("expected scales > 0, one per feature")
    w = as_array(w, "w", shape=scales.shape)
    noise = positive_float(noise, "noise", allow_zero=True)
    rng = as_rng(rng)
    X = rng.standard_normal((n, len(scales))) * scales
    return X, X @ w + noise * rng.standard_normal(n)


# --------------------------------------------------------------------------- SGD with dropout
@dataclass
class SGDRun:
    """The result of :func:`sgd_with_dropout`.

    ``iterates[t]`` is w^(t) (shape ``(steps + 1, d)``), ``w`` the average of the iterates of
    the second half of the run (Polyak-Ruppert averaging).
    """

    iterates: Array
    w: Array


def sgd_with_dropout(
    X: Any,
    y: Any,
    p: float,
    *,
    lr: float,
    steps: int = 4000,
    batch_size: int = 10,
    rng: np.random.Generator | int | None = None,
) -> SGDRun:
    """Minibatch SGD from w = 0 on the linear model y ~ w^T x~ with inverted dropout on x.

    Each step draws a batch B of ``batch_size`` rows, a fresh mask for every row
    (``layers.Dropout`` with drop probability phi = 1 - p), and takes

        w <- w - eta (2 / |B|) X~_B^T (X~_B w - y_B),     eta = ``lr``,

    a step on the mean squared loss of the batch. With a constant step the iterates keep
    fluctuating; their average over the second half of the run (``SGDRun.w``) approaches
    the minimiser of the expected loss.
    """
    X, y = _check_Xy(X, y)
    p = _keep_probability(p)
    lr = positive_float(lr, "lr")
    steps = positive_int(steps, "steps")
    batch_size = positive_int(batch_size, "batch_size")
    rng = as_rng(rng)
    drop = Dropout(1.0 - p, rng=rng)  # layers.Dropout takes the drop probability phi
    w = np.zeros(X.shape[1])
    iterates = [w]
    for _ in range(steps):
        batch = rng.integers(0, X.shape[0], size=batch_size)
        X_tilde = drop.forward(X[batch])
        w = w - lr * 2.0 / batch_size * X_tilde.T @ (X_tilde @ w - y[batch])
        iterates.append(w)
    iterates = np.array(iterates)
    return SGDRun(iterates, iterates[steps // 2 :].mean(axis=0))


# --------------------------------------------------------------------------- figures
def plot_loss_against_p(ax, p_line, formula, p_dots, exact, original: float) -> None:
    """E[(y - y*)^2] against the keep probability p on a log scale: the formula of (b) as a
    line, the exact sums over masks as circles, the original loss (w^T h - y*)^2 dashed."""
    ax.semilogy(p_line, formula, color=PALETTE["blue"], label="formula of (b)")
    ax.semilogy(
        p_dots, exact, "o", color=PALETTE["orange"], mec="black", label="exact: sum over masks"
    )
    ax.axhline(original, color=PALETTE["black"], ls="--", lw=1.2, label="original loss")
    ax.set(xlabel="keep probability $p$", ylabel=r"$\mathbb{E}[(y - y^*)^2]$ (log scale)")
    plain = FuncFormatter(lambda v, _: f"{v:g}")  # 20, not 2 x 10^1
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.legend()


def plot_penalty_and_shrinkage(
    axes, scales, lam_dropout, lam_ridge: float, shrink_dropout, shrink_ridge, p: float
) -> None:
    """Two panels against the feature scale s_j. Left: the penalty weight on w_j^2, dropout's
    lambda_j (circles, solid) and ridge's lambda (squares, dashed). Right: the shrinkage
    w_j / w_j^OLS of each method, with its prediction for uncorrelated features with
    (X^T X)_jj = N s_j^2 and lambda = N (1 - p)/p: p for dropout (dotted) and
    s^2 / (s^2 + (1 - p)/p) for ridge (dashed)."""
    blue, vermillion = PALETTE["blue"], PALETTE["vermillion"]
    ax0, ax1 = axes
    ax0.loglog(scales, lam_dropout, "o-", color=blue, label=r"dropout, $\lambda_j$")
    ridge_line = np.full(len(scales), lam_ridge)
    ax0.loglog(scales, ridge_line, "s--", color=vermillion, label=r"ridge, $\lambda$")
    ax0.set(xlabel="scale $s_j$ of feature $j$", ylabel=r"penalty weight on $w_j^2$")
    ax0.set_title("penalty weight")
    s = np.logspace(np.log10(np.min(scales)), np.log10(np.max(scales)), 100)
    ax1.semilogx(scales, shrink_dropout, "o", color=blue, label="dropout")
    ax1.semilogx(scales, shrink_ridge, "s", color=vermillion, label="ridge")
    ax1.semilogx(s, np.full_like(s, p), ":", color=blue, label="$p$")
    ridge_theory = s**2 / (s**2 + (1 - p) / p)
    ax1.semilogx(s, ridge_theory, "--", color=vermillion, label=r"$s^2 / (s^2 + (1-p)/p)$")
    ax1.set(xlabel="scale $s_j$ of feature $j$", ylabel=r"shrinkage $w_j / w_j^{OLS}$")
    ax1.set(title="shrinkage", ylim=(0, 1.08))
    for ax in axes:
        ax.legend(fontsize=8)


__all__ = [
    "all_masks",
    "mask_probabilities",
    "expectation_over_masks",
    "exact_expected_loss",
    "exact_dropout_minimiser",
    "scaled_regression",
    "SGDRun",
    "sgd_with_dropout",
    "plot_loss_against_p",
    "plot_penalty_and_shrinkage",
]


# =========================================================================== the checks
# Each check calls the student's function on inputs drawn from a fixed seed, compares with the
# truth computed by enumeration over masks, and names the input that went wrong. When the
# answer matches a known mistake (phi in place of p, a missing square, ...) it says so.

_DROPOUT = "Exercise 10.5(a) inverted_dropout"
_MASK_PROB = "Exercise 10.5(a) mask_probability"
_LOSS = "Exercise 10.5(b) expected_squared_loss"
_PENALTY = "Exercise 10.5(c) dropout_penalty_weights"
_MINIMISER = "Exercise 10.5(c) dropout_ridge_minimiser"
_PHI_HINT = (
    " p is the keep probability: the lecture's phi = 1 - p (the drop probability) does not"
    " belong here."
)


def _arr(x: Array) -> str:
    return fmt(np.asarray(x, dtype=float))


def _hint(got: Array, candidates: dict[str, Any]) -> str:
    """The first known mistake whose result equals ``got``, as a sentence ('' if none)."""
    for message, value in candidates.items():
        value = np.asarray(value, dtype=float)
        if value.shape == got.shape and np.allclose(got, value, rtol=1e-6, atol=1e-9):
            return " " + message
    return ""


def _compare(title: str, got: Any, expected: Array, where: str, candidates: dict) -> Array:
    """``got`` as a float array equal to ``expected``, or a CheckFailed naming input and hint."""
    arr = as_numeric(title, got, f"the result {where}", shape=expected.shape)
    if not np.allclose(arr, expected, rtol=1e-7, atol=1e-9):
        raise fail(
            title,
            f"{where}: expected {_arr(expected)}, got {_arr(arr)}." + _hint(arr, candidates),
        )
    return arr


def _check_shape(title: str, got: Any, expected: Array, what: str, hints: dict) -> None:
    """A readable message when the array ``got`` has the wrong shape; ``hints`` maps a wrong
    shape to a sentence that says what probably went wrong."""
    if not isinstance(got, (list, tuple, np.ndarray)) and not hasattr(got, "shape"):
        return  # None, a string, a scalar...: as_numeric gives the message
    try:
        shape = tuple(np.shape(got))
    except Exception:  # a ragged list: as_numeric gives the message
        return
    if shape != expected.shape:
        extra = f" {hints[shape]}" if shape in hints else ""
        raise fail(title, f"{what} should have shape {expected.shape}, got {shape}.{extra}")


def _scalar(got: Any) -> Any:
    """A one-element list or array as a 0-d array (a scalar answer in a box is still right)."""
    if isinstance(got, (list, tuple, np.ndarray)) and np.size(got) == 1:
        return np.reshape(np.asarray(got), ())
    return got


def _cases(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- (a)
def check_inverted_dropout(inverted_dropout: Callable) -> Result:
    """Check ``inverted_dropout(h, m, p)`` = m * h / p, for one mask ``m`` of shape (d,) and for a
    stack of masks of shape (n, d), one per row; then E[h~] = h by enumerating all masks."""
    title = _DROPOUT

    def body() -> Result:
        g = _cases(510)
        cases = [
            (g.normal(size=5), np.array([1.0, 0.0, 1.0, 1.0, 0.0]), 0.3),
            (g.uniform(0.5, 2.0, 4), (g.random((6, 4)) < 0.6).astype(float), 0.8),
            (g.normal(size=3), np.ones(3), 1.0),
            (g.normal(size=4), np.array([0.0, 1.0, 0.0, 1.0]), 0.65),
        ]
        for h, m, p in cases:
            expected = m * h / p
            got = call(title, inverted_dropout, h.copy(), m.copy(), p)
            where = f"for h = {_arr(h)}, m = {_arr(m)}, p = {p}"
            _check_shape(title, got, expected, f"inverted_dropout(h, m, p) {where}", {})
            mistakes = {
                "You return m * h: scale the kept units by 1/p, or E[h~] = p h.": m * h,
                "You multiply by p: divide by p, so that E[h~] = h.": m * h * p,
                "m_j = 1 means unit j is KEPT: use m * h / p, not (1 - m) * h / p.": (1 - m)
                * h
                / p,
                "You forgot the mask: h~ = m * h / p.": h / p + 0 * m,
            }
            if p < 1:
                mistakes["You divide by 1 - p." + _PHI_HINT] = m * h / (1 - p)
            _compare(title, got, expected, where, mistakes)
        d, p = 4, 0.3
        h = np.array([1.5, -2.0, 0.5, 3.0])
        mean = expectation_over_masks(lambda m: call(title, inverted_dropout, h.copy(), m, p), d, p)
        return passed(
            title,
            len(cases),
            f"By enumeration of all 2^{d} masks at p = {p}, max_j |E[h~_j] - h_j| = "
            f"{np.max(np.abs(mean - h)):.1e}.",
        )

    return run(title, body)


def check_mask_probability(mask_probability: Callable) -> Result:
    """Check ``mask_probability(m, p)`` = p^{|m|} (1 - p)^{d - |m|} for one mask m of shape (d,)
    (a float array of 0s and 1s); the probabilities of all 2^d masks must sum to 1."""
    title = _MASK_PROB

    def body() -> Result:
        g = _cases(511)
        cases = [(m, 0.3) for m in all_masks(3)]
        cases += [((g.random(7) < 0.7).astype(float), 0.85), (np.ones(2), 1.0)]
        cases += [(np.array([1.0, 0.0, 0.0, 1.0, 1.0]), 0.6)]
        for m, p in cases:
            d, k = len(m), int(m.sum())
            expected = np.array(mask_probabilities(m[None, :], p)[0])
            got = _scalar(call(title, mask_probability, m.copy(), p))
            where = f"for m = {_arr(m)}, p = {p}"
            _check_shape(
                title,
                got,
                expected,
                f"mask_probability(m, p) {where}",
                {m.shape: "Return one number, the product of the d factors."},
            )
            _compare(
                title,
                got,
                expected,
                where,
                {
                    "You swapped p and 1 - p: a unit with m_j = 1 is kept, with probability p."
                    + _PHI_HINT: (1 - p) ** k * p ** (d - k),
                    "That is the probability of keeping k = |m| units in any order: the "
                    "binomial coefficient does not belong to one particular mask.": math.comb(d, k)
                    * p**k
                    * (1 - p) ** (d - k),
                    "The dropped units (m_j = 0) also contribute a factor 1 - p each.": p**k,
                },
            )
        d, p = 4, 0.35
        probs = [_scalar(call(title, mask_probability, m, p)) for m in all_masks(d)]
        total = float(np.sum(as_numeric(title, probs, "the probabilities of all masks")))
        if not np.isclose(total, 1.0):
            raise fail(title, f"the probabilities of the 2^{d} masks sum to {total:.6g}, not 1.")
        return passed(title, len(cases), f"The 2^{d} masks at p = {p} have total probability 1.")

    return run(title, body)


# --------------------------------------------------------------------------- (b)
def _loss_cases() -> list[tuple[Array, Array, float, float]]:
    g = _cases(512)
    out = []
    for d, p in [(1, 0.3), (2, 0.75), (3, 0.5), (5, 0.9), (6, 0.2), (4, 0.6), (3, 1.0), (7, 0.45)]:
        out.append((g.normal(size=d), g.normal(size=d) * g.uniform(0.5, 2.0), g.normal(), p))
    return out


def check_expected_squared_loss(expected_squared_loss: Callable) -> Result:
    """Check ``expected_squared_loss(w, h, y_star, p)`` against E_m[(w^T h~ - y*)^2], computed by
    enumerating all 2^d masks, for random w, h in R^d, y* and keep probabilities p."""
    title = _LOSS

    def body() -> Result:
        cases = _loss_cases()
        for w, h, y_star, p in cases:
            expected = np.array(exact_expected_loss(w, h, y_star, p))
            got = _scalar(call(title, expected_squared_loss, w.copy(), h.copy(), y_star, p))
            where = f"for w = {_arr(w)}, h = {_arr(h)}, y* = {y_star:.4g}, p = {p}"
            _check_shape(
                title,
                got,
                expected,
                f"expected_squared_loss(w, h, y_star, p) {where}",
                {w.shape: "Sum the penalty over j: the expected loss is one number."},
            )
            fit, c = (w @ h - y_star) ** 2, (1 - p) / p
            mistakes = {
                "The factor is (1 - p)/p = Var(m_j)/p^2, not 1/p: subtract the squared mean, "
                "E[m_j^2] - E[m_j]^2.": fit + np.sum(w**2 * h**2) / p,
                "Square w_j in the penalty: sum_j w_j^2 h_j^2.": fit + c * np.sum(w * h**2),
                "Square h_j in the penalty: sum_j w_j^2 h_j^2.": fit + c * np.sum(w**2 * h),
                "The penalty is a sum of squares, sum_j (w_j h_j)^2, not the square of the sum: "
                "the units are dropped independently.": fit + c * (w @ h) ** 2,
                "That is only the original loss (w^T h - y*)^2: the mask adds variance.": fit,
            }
            if p < 1:
                mistakes["The factor is (1 - p)/p, not p/(1 - p)." + _PHI_HINT] = fit + p / (
                    1 - p
                ) * np.sum(w**2 * h**2)
            _compare(
                title,
                got,
                expected,
                f"{where} (exact: the sum over all 2^{len(h)} masks)",
                mistakes,
            )
        return passed(title, len(cases), "Each agrees with the exact enumeration over masks.")

    return run(title, body)


# --------------------------------------------------------------------------- (c)
def _regression_cases() -> list[tuple[Array, Array, float]]:
    """(X, y, p): tall, wide (N < d) and one-feature designs, features of different scales."""
    g = _cases(513)
    out = []
    for N, d, p in [(20, 3, 0.7), (9, 5, 0.4), (4, 6, 0.6), (30, 1, 0.9), (12, 4, 0.25)]:
        X = g.normal(size=(N, d)) * g.uniform(0.2, 3.0, size=d)
        out.append((X, X @ g.normal(size=d) + 0.3 * g.normal(size=N), p))
    return out


def check_penalty_weights(dropout_penalty_weights: Callable) -> Result:
    """Check ``dropout_penalty_weights(X, p)``: the d weights lambda_j of the penalty
    sum_j lambda_j w_j^2 that dropout adds to the sum of squares ||y - X w||^2. The truth is
    found by enumerating the masks: the expected loss at w = e_j minus its sum of squares."""
    title = _PENALTY

    def body() -> Result:
        cases = _regression_cases()
        for X, _, p in cases:
            N, d = X.shape
            expected = np.array(
                [
                    sum(exact_expected_loss(np.eye(d)[j], x, 0.0, p) for x in X)
                    - np.sum(X[:, j] ** 2)
                    for j in range(d)
                ]
            )
            got = call(title, dropout_penalty_weights, X.copy(), p)
            where = f"for X of shape {X.shape}, p = {p}"
            _check_shape(
                title,
                got,
                expected,
                f"dropout_penalty_weights(X, p) {where}",
                {(N,): "One weight per feature j: sum over the samples i (axis 0)."},
            )
            D, c = np.sum(X**2, axis=0), (1 - p) / p
            mistakes = {
                "That is diag(X^T X) alone: multiply by the factor (1 - p)/p.": D,
                "The loss is the SUM over samples, ||y - X w||^2, so lambda_j uses the sum of "
                "x_ij^2, not the mean.": c * D / N,
                "Square the features: lambda_j = (1 - p)/p sum_i x_ij^2.": c * X.sum(axis=0),
                "Square each x_ij before summing: (sum_i x_ij)^2 is not sum_i x_ij^2.": c
                * X.sum(axis=0) ** 2,
            }
            if p < 1:
                mistakes["The factor is (1 - p)/p, not p/(1 - p)." + _PHI_HINT] = D / c
            _compare(title, got, expected, where, mistakes)
        return passed(title, len(cases), "Including a design with fewer samples than features.")

    return run(title, body)


def _ridge(X: Array, y: Array, weights: Array) -> Array:
    """argmin ||y - X w||^2 + sum_j weights_j w_j^2 (least squares of minimum norm if singular)."""
    return np.linalg.lstsq(X.T @ X + np.diag(weights), X.T @ y, rcond=None)[0]


def check_dropout_ridge(dropout_ridge_minimiser: Callable) -> Result:
    """Check ``dropout_ridge_minimiser(X, y, p)`` against the minimiser of the expected dropout
    loss sum_i E[(w^T x~_i - y_i)^2], computed by enumerating the masks (no formula)."""
    title = _MINIMISER

    def body() -> Result:
        cases = _regression_cases()
        for X, y, p in cases:
            N, d = X.shape
            expected = exact_dropout_minimiser(X, y, p)
            got = call(title, dropout_ridge_minimiser, X.copy(), y.copy(), p)
            where = f"for X of shape {X.shape}, p = {p}"
            _check_shape(
                title,
                got,
                expected,
                f"dropout_ridge_minimiser(X, y, p) {where}",
                {(d, 1): "Return a vector of shape (d,), e.g. with .ravel()."},
            )
            D, c = np.sum(X**2, axis=0), (1 - p) / p
            w_ols = np.linalg.lstsq(X, y, rcond=None)[0]
            mistakes = {
                "That is least squares: dropout adds the penalty sum_j lambda_j w_j^2.": w_ols,
                "That is plain ridge with lambda = (1 - p)/p: dropout's penalty weights "
                "lambda_j = (1 - p)/p (X^T X)_jj depend on the data.": _ridge(X, y, np.full(d, c)),
                "The penalty is (1 - p)/p diag(X^T X): the factor (1 - p)/p is missing.": _ridge(
                    X, y, D
                ),
                "The penalty uses the sum over samples, (X^T X)_jj, not the mean.": _ridge(
                    X, y, c * D / N
                ),
                "Only the diagonal of X^T X enters the penalty, not the whole matrix (that "
                "gives p times least squares).": p * w_ols,
            }
            if p < 1:
                mistakes["The factor is (1 - p)/p, not p/(1 - p)." + _PHI_HINT] = _ridge(
                    X, y, D / c
                )
            _compare(title, got, expected, where + " (exact: enumeration over masks)", mistakes)
        return passed(
            title,
            len(cases),
            "Including a design with fewer samples than features, where least squares has no "
            "unique solution.",
        )

    return run(title, body)


__all__ += [
    "check_inverted_dropout",
    "check_mask_probability",
    "check_expected_squared_loss",
    "check_penalty_weights",
    "check_dropout_ridge",
]
