"""Exercise 10.4: the implicit regularisation of gradient descent on least squares.

The setting of the exercise: ``A`` in R^{m x n} with m < n and full row rank, ``b`` in R^m,

    R(x) = 1/2 ||Ax - b||^2,   grad R(x) = A^T (Ax - b),   x^(k+1) = x^(k) - eta grad R(x^(k)).

This module holds

* :func:`make_problem`, a random full-row-rank system (the exercise's 20 x 100 by default);
* reference answers computed independently of the solution page, mostly with
  ``numpy.linalg.lstsq``: :func:`reference_project_row`, :func:`reference_project_null`,
  :func:`reference_gradient`, :func:`reference_min_norm`, :func:`reference_rate`,
  :func:`reference_limit`, and plain gradient descent :func:`gd_iterates`;
* one check per function the student writes: :func:`check_project_row`,
  :func:`check_project_null`, :func:`check_gradient`, :func:`check_gradient_descent`,
  :func:`check_min_norm_solution`, :func:`check_rate` and :func:`check_limit`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._util import as_array, as_rng, positive_float, positive_int
from .checks import CheckFailed, Result, as_numeric, call, fail, passed, run, shape_of


# --------------------------------------------------------------------------- the problem
def make_problem(m: int = 20, n: int = 100, seed: int | np.random.Generator | None = 0):
    """A random system Ax = b: ``A`` (m, n) with N(0, 1/n) entries, ``b`` (m,) with N(0, 1) entries.

    For m < n such an A has full row rank with probability 1 (checked), and its singular
    values lie near 1 +- sqrt(m/n).
    """
    m, n = positive_int(m, "m"), positive_int(n, "n")
    if m >= n:
        raise ValueError(f"expected an underdetermined system, m < n, got m={m}, n={n}")
    rng = as_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(n)
    b = rng.standard_normal(m)
    if np.linalg.matrix_rank(A) < m:  # probability zero
        raise RuntimeError("the random A is rank deficient; try another seed")
    return A, b


def _matrix(A) -> np.ndarray:
    A = as_array(A, "A", shape=(None, None))
    if A.shape[0] > A.shape[1]:
        raise ValueError(f"expected A of shape (m, n) with m <= n, got {A.shape}")
    return A


def risk(A, b, x) -> float:
    """R(x) = 1/2 ||Ax - b||^2."""
    A = _matrix(A)
    return 0.5 * float(np.sum((A @ np.asarray(x, float) - np.asarray(b, float)) ** 2))


# --------------------------------------------------------------------------- references
def reference_project_row(A, x) -> np.ndarray:
    """P_row x, the orthogonal projection of x onto row(A), as A^+ (A x).

    ``lstsq`` returns the minimum-norm z with Az = Ax, and that z is the row-space part of x.
    """
    A = _matrix(A)
    x = as_array(x, "x", shape=(A.shape[1],))
    return np.linalg.lstsq(A, A @ x, rcond=None)[0]


def reference_project_null(A, x) -> np.ndarray:
    """P_null x = x - P_row x, the component of x in the null space N(A)."""
    return np.asarray(x, float) - reference_project_row(A, x)


def reference_gradient(A, b, x) -> np.ndarray:
    """grad R(x) = A^T (Ax - b) for R(x) = 1/2 ||Ax - b||^2."""
    A = _matrix(A)
    return A.T @ (A @ np.asarray(x, float) - np.asarray(b, float))


def reference_min_norm(A, b) -> np.ndarray:
    """x* = A^T (A A^T)^{-1} b = A^+ b, the minimum-norm solution of Ax = b (by ``lstsq``)."""
    A = _matrix(A)
    b = as_array(b, "b", shape=(A.shape[0],))
    return np.linalg.lstsq(A, b, rcond=None)[0]


def reference_rate(A, eta: float) -> float:
    """rho(eta) = max_i |1 - eta sigma_i^2| over the m nonzero singular values of A.

    The sigma_i^2 are the eigenvalues of the m x m matrix A A^T (by ``eigvalsh``).
    """
    A = _matrix(A)
    eta = positive_float(eta, "eta")
    lam = np.linalg.eigvalsh(A @ A.T)
    return float(np.max(np.abs(1.0 - eta * lam)))


def reference_limit(A, b, x0) -> np.ndarray:
    """The limit of GD from x0: the solution of Ax = b closest to x0, x0 + A^+ (b - A x0)."""
    A = _matrix(A)
    x0 = as_array(x0, "x0", shape=(A.shape[1],))
    return x0 + reference_min_norm(A, b - A @ x0)


def gd_iterates(A, b, x0, eta: float, K: int) -> np.ndarray:
    """The iterates x^(0), ..., x^(K) of GD on R(x) = 1/2 ||Ax - b||^2, shape (K + 1, n).

    x^(k+1) = x^(k) - eta A^T (A x^(k) - b)
    """
    A = _matrix(A)
    b = as_array(b, "b", shape=(A.shape[0],))
    x = as_array(x0, "x0", shape=(A.shape[1],)).copy()
    eta, K = positive_float(eta, "eta"), positive_int(K, "K", minimum=0)
    xs = [x]
    for _ in range(K):
        x = x - eta * (A.T @ (A @ x - b))
        xs.append(x)
    return np.array(xs)


__all__ = [
    "make_problem",
    "risk",
    "reference_project_row",
    "reference_project_null",
    "reference_gradient",
    "reference_min_norm",
    "reference_rate",
    "reference_limit",
    "gd_iterates",
]


# =========================================================================== the checks
# Each check calls the student's function on several matrices A (not only 20 x 100), compares
# with the reference above, and when the answer is wrong says which A, what was expected, and,
# where it recognises a common slip, what it is.

_ROW = "Exercise 10.4(a) project_row"
_NULL = "Exercise 10.4(a) project_null"
_GRAD = "Exercise 10.4(b) grad_R"
_GD = "Exercise 10.4(c) gradient_descent"
_MIN = "Exercise 10.4(d) min_norm_solution"
_RATE = "Exercise 10.4(d) contraction_rate"
_LIMIT = "Exercise 10.4(e) gd_limit"
_RTOL = 1e-8  # ||got - expected|| <= _RTOL * (size of the numbers involved)


def _test_matrices() -> list[tuple[str, np.ndarray]]:
    """Full-row-rank test matrices of several shapes and kinds, the same on every call."""
    g = np.random.default_rng(104)
    ints = g.integers(-3, 4, size=(4, 6)).astype(float)
    while np.linalg.matrix_rank(ints) < 4:  # depends on the seed only
        ints = g.integers(-3, 4, size=(4, 6)).astype(float)
    scaled = g.standard_normal((5, 40)) * np.logspace(-1, 1, 5)[:, None]
    nearly = g.standard_normal((6, 9))
    nearly[5] = nearly[4] + 1e-3 * g.standard_normal(9)
    return [
        ("A of shape (3, 7)", g.standard_normal((3, 7))),
        ("A = [[1, 2]] of shape (1, 2)", np.array([[1.0, 2.0]])),
        ("the exercise's A of shape (20, 100)", make_problem(20, 100, seed=g)[0]),
        ("an integer A of shape (4, 6)", ints),
        ("A of shape (5, 40) with rows of lengths 0.1 to 10", scaled),
        ("A of shape (6, 9) with two nearly parallel rows", nearly),
    ]


def _short(v: np.ndarray) -> str:
    """A vector as [0.1234, -0.5, ...] (the first four entries and the length)."""
    v = np.ravel(v)
    head = ", ".join(f"{float(t):.4g}" for t in v[:4])
    return f"[{head}{', ...' if v.size > 4 else ''}] ({v.size} entries)"


def _size(*arrays) -> float:
    return max([1.0] + [float(np.linalg.norm(a)) for a in arrays])


def _call(title: str, func: Callable, A: np.ndarray, *args: Any) -> Any:
    """``call`` with copies of the inputs and a hint for shape errors and singular matrices."""
    try:
        copies = (a.copy() if isinstance(a, np.ndarray) else a for a in args)
        return call(title, func, A.copy(), *copies)
    except CheckFailed as exc:
        msg = str(exc)
        m, n = A.shape
        if "LinAlgError" in msg:
            msg += (
                f"\n  Hint: A^T A is n x n = {n} x {n} but has rank m = {m}, so it is singular; "
                f"the m x m matrix A A^T = {m} x {m} is invertible."
            )
        elif "ValueError" in msg and ("mismatch" in msg or "shape" in msg or "align" in msg):
            msg += (
                f"\n  Hint: A has shape (m, n) = {A.shape}: x, and every vector of row(A) and "
                f"N(A), has n = {n} entries; b and Ax have m = {m}."
            )
        raise CheckFailed(msg) from None


def _vector(title: str, got: Any, n: int, what: str) -> np.ndarray:
    shape = shape_of(got)
    if shape is not None and shape != (n,) and int(np.prod(shape)) == n:
        raise fail(title, f"{what} should be a vector of shape ({n},), got shape {shape}")
    return as_numeric(title, got, what, shape=(n,))


def _compare(title, got, expected, what, where, scale, hints=()) -> float:
    """Raise a readable CheckFailed unless ``got`` equals ``expected``; return the error.

    ``hints`` are (vector, explanation) pairs of recognised wrong answers.
    """
    err = float(np.linalg.norm(got - expected))
    if err <= _RTOL * scale:
        return err / scale
    msg = (
        f"on {where}: expected {what} = {_short(expected)}, got {_short(got)}; "
        f"||got - expected|| = {err:.3g}."
    )
    for vec, text in hints:
        if np.linalg.norm(got - vec) <= 1e-6 * scale:
            msg += f" {text}"
            break
    raise fail(title, msg)


def check_project_row(project_row: Callable) -> Result:
    """Check ``project_row(A, x)`` = P_row x, the orthogonal projection of x onto row(A).

    Six matrices A of shapes (3, 7) to (20, 100), two random x each.
    """
    title = _ROW

    def body() -> Result:
        worst, cases = 0.0, 0
        for name, A in _test_matrices():
            g = np.random.default_rng(A.shape[0] * 100 + A.shape[1])
            for _ in range(2):
                x = 2.0 * g.standard_normal(A.shape[1])
                got = _vector(title, _call(title, project_row, A, x), A.shape[1], "P_row x")
                row, null = reference_project_row(A, x), reference_project_null(A, x)
                off = (
                    f" (here ||A(x - P_row x)|| = {np.linalg.norm(A @ (x - got)):.2g}, "
                    "which should be 0)"
                )
                hints = [
                    (null, "That is the null-space part P_null x: P_row x = x - P_null x."),
                    (
                        x,
                        "You returned x itself: with mode='complete' the QR of A^T gives a basis "
                        "of all of R^n; the reduced QR (the default) gives the m columns "
                        "spanning row(A).",
                    ),
                    (
                        A.T @ (A @ x),
                        "A^T A x is the projection only if the rows of A are orthonormal: "
                        "orthonormalise them first (QR of A^T, or the SVD).",
                    ),
                    (np.zeros_like(x), "You returned the zero vector."),
                ]
                where = f"{name} and a random x"
                err = _compare(title, got, row, "P_row x", where + off, _size(x), hints)
                worst, cases = max(worst, err), cases + 1
        return passed(title, cases, f"Largest ||got - P_row x|| / ||x|| = {worst:.1g}.")

    return run(title, body)


def check_project_null(project_null: Callable) -> Result:
    """Check ``project_null(A, x)`` = P_null x = x - P_row x, the component of x in N(A)."""
    title = _NULL

    def body() -> Result:
        worst, cases = 0.0, 0
        for name, A in _test_matrices():
            g = np.random.default_rng(A.shape[0] * 100 + A.shape[1] + 1)
            for _ in range(2):
                x = 2.0 * g.standard_normal(A.shape[1])
                got = _vector(title, _call(title, project_null, A, x), A.shape[1], "P_null x")
                row, null = reference_project_row(A, x), reference_project_null(A, x)
                off = f" (here ||A P_null x|| = {np.linalg.norm(A @ got):.2g}, which should be 0)"
                hints = [
                    (row, "That is the row-space part P_row x: P_null x = x - P_row x."),
                    (
                        np.zeros_like(x),
                        "You returned the zero vector: with mode='complete' the QR of A^T "
                        "spans all of R^n, so x - Q Q^T x = 0; use the reduced QR.",
                    ),
                    (
                        x - A.T @ (A @ x),
                        "I - A^T A is a projection only if the rows of A are orthonormal.",
                    ),
                    (x, "You returned x itself."),
                ]
                where = f"{name} and a random x"
                err = _compare(title, got, null, "P_null x", where + off, _size(x), hints)
                worst, cases = max(worst, err), cases + 1
        return passed(title, cases, f"Largest ||got - P_null x|| / ||x|| = {worst:.1g}.")

    return run(title, body)


def check_gradient(grad_R: Callable) -> Result:
    """Check ``grad_R(A, b, x)`` = A^T (Ax - b), the gradient of R(x) = 1/2 ||Ax - b||^2."""
    title = _GRAD

    def body() -> Result:
        cases = 0
        for name, A in _test_matrices()[:3]:
            g = np.random.default_rng(A.shape[1] + 7)
            for _ in range(2):
                b, x = g.standard_normal(A.shape[0]), g.standard_normal(A.shape[1])
                got = _vector(title, _call(title, grad_R, A, b, x), A.shape[1], "grad R(x)")
                exp = reference_gradient(A, b, x)
                hints = [
                    (-exp, "The sign is wrong: R grows along A^T (Ax - b), GD steps against it."),
                    (2 * exp, "R has a factor 1/2, which cancels the 2 from the square."),
                    (0.5 * exp, "The 1/2 in R cancels the 2 of the square: no 1/2 remains."),
                    (exp / A.shape[0], "R(x) is a sum of squares, not a mean: no 1/m."),
                    (A.T @ (A @ x), "You forgot b."),
                ]
                scale = _size(exp, A.T @ (A @ x), A.T @ b)
                _compare(title, got, exp, "grad R(x)", f"{name}, random b and x", scale, hints)
                cases += 1
        return cases

    return run(title, body)


def check_gradient_descent(gradient_descent: Callable) -> Result:
    """Check ``gradient_descent(A, b, x0, eta, K)``: the iterates x^(0), ..., x^(K).

    The result has shape (K + 1, n), one iterate per row.
    """
    title = _GD
    mats = _test_matrices()

    def body() -> Result:
        cases = 0
        for (name, A), start, step, K in (
            (mats[0], "random", 0.5, 4),
            (mats[2], "zero", 1.0, 3),
            (mats[1], "random", 1.5, 5),
        ):
            m, n = A.shape
            g = np.random.default_rng(n)
            b = g.standard_normal(m)
            x0 = g.standard_normal(n) if start == "random" else np.zeros(n)
            eta = step / np.linalg.norm(A, 2) ** 2
            got = _call(title, gradient_descent, A, b, x0, eta, K)
            exp = gd_iterates(A, b, x0, eta, K)
            shape = shape_of(got)
            where = f"{name}, a {start} x0, eta = {eta:.4g} and K = {K}"
            wrong_shape = {
                (K, n): f"got {K} rows; return K + 1 = {K + 1} rows, x^(0) first",
                (n, K + 1): f"got shape {shape}, expected {exp.shape}: transpose it",
                (n,): f"return every iterate, shape {exp.shape}, not only x^(K)",
            }
            if shape in wrong_shape:
                raise fail(title, f"on {where}: {wrong_shape[shape]}.")
            got = as_numeric(title, got, "the iterates", shape=exp.shape)
            scale = _size(*exp)
            err = np.linalg.norm(got - exp, axis=1)
            if np.all(err <= _RTOL * scale):
                cases += 1
                continue
            k = int(np.argmax(err > _RTOL * scale))
            msg = (
                f"on {where}: row k = {k} should be x^({k}) = {_short(exp[k])}, got "
                f"{_short(got[k])}."
            )
            if np.allclose(got, got[-1]) and not np.allclose(exp, exp[-1]):
                msg += (
                    " All rows are equal: did you store x and then change it in place "
                    "(x -= ...)? Store a copy, or write x = x - eta * g."
                )
            elif np.allclose(got, gd_iterates(A, b, x0, eta, K + 1)[1:]):
                msg += " Your rows are x^(1), ..., x^(K+1): row 0 should be x^(0)."
            elif np.allclose(got, _ascent(A, b, x0, eta, K)):
                msg += " You stepped along +grad R: GD subtracts eta grad R(x^(k))."
            elif k == 0:
                msg += " Row 0 is the start x^(0) = x0."
            raise fail(title, msg)
        return cases

    return run(title, body)


def _ascent(A, b, x0, eta, K) -> np.ndarray:
    xs = [np.asarray(x0, float)]
    for _ in range(K):
        xs.append(xs[-1] + eta * reference_gradient(A, b, xs[-1]))
    return np.array(xs)


def check_min_norm_solution(min_norm_solution: Callable) -> Result:
    """Check ``min_norm_solution(A, b)`` = x*, the solution of Ax = b of smallest norm."""
    title = _MIN

    def body() -> Result:
        cases = 0
        for name, A in _test_matrices():
            b = np.random.default_rng(A.shape[1] + 11).standard_normal(A.shape[0])
            got = _vector(title, _call(title, min_norm_solution, A, b), A.shape[1], "x*")
            exp = reference_min_norm(A, b)
            scale = _size(exp, b)
            if np.linalg.norm(got - exp) <= _RTOL * scale:
                cases += 1
                continue
            res = float(np.linalg.norm(A @ got - b))
            where = f"on {name} and a random b"
            if res > 1e-6 * scale:
                msg = f"{where}: your x does not solve Ax = b, ||Ax - b|| = {res:.3g}."
                if np.allclose(got, A.T @ b):
                    msg += " A^T b lies in row(A) but solves Ax = b only if A A^T = I."
                else:
                    msg += (
                        " (If you used (A^T A)^{-1} A^T b: that is the formula for m > n; "
                        f"here A^T A is {A.shape[1]} x {A.shape[1]} of rank {A.shape[0]}, "
                        "singular.)"
                    )
                raise fail(title, msg)
            null = float(np.linalg.norm(reference_project_null(A, got)))
            raise fail(
                title,
                f"{where}: your x solves Ax = b, but ||x|| = {np.linalg.norm(got):.6g} > "
                f"||x*|| = {np.linalg.norm(exp):.6g}: it has a null-space part of norm "
                f"{null:.3g}, and the minimum-norm solution has none (part (a)).",
            )
        return cases

    return run(title, body)


def _rate_cases() -> list[tuple[str, np.ndarray, float, str]]:
    cases = []
    for name, A in (_test_matrices()[i] for i in (0, 2, 4)):
        s2 = np.linalg.svd(A, compute_uv=False) ** 2
        best = 2 / (s2.min() + s2.max())
        for eta, label in (
            (0.3 / s2.max(), "0.3 / sigma_max^2"),
            (best, "2 / (sigma_min^2 + sigma_max^2)"),
            (1.95 / s2.max(), "1.95 / sigma_max^2"),
            (2.1 / s2.max(), "2.1 / sigma_max^2"),
        ):
            cases.append((name, A, float(eta), label))
    return cases


def check_rate(contraction_rate: Callable) -> Result:
    """Check ``contraction_rate(A, eta)`` = max_i |1 - eta sigma_i^2| (nonzero sigma_i of A)."""
    title = _RATE

    def body() -> int:
        for name, A, eta, label in _rate_cases():
            got = call(title, contraction_rate, A.copy(), eta)
            got = float(as_numeric(title, got, "the rate", shape=()))
            exp = reference_rate(A, eta)
            if abs(got - exp) <= 1e-8:
                continue
            s = np.linalg.svd(A, compute_uv=False)
            s2min, s2max = s.min() ** 2, s.max() ** 2
            msg = (
                f"on {name} (sigma_min^2 = {s2min:.4g}, sigma_max^2 = {s2max:.4g}) with "
                f"eta = {label} = {eta:.4g}: expected rho = {exp:.6g}, got {got:.6g}."
            )
            hints = [
                (
                    1.0,
                    f" Did you include the n - m = {A.shape[1] - A.shape[0]} zero eigenvalues "
                    "of A^T A? The error x^(k) - x* has no component in N(A) (parts (b), (c)), "
                    "so only the m nonzero sigma_i count.",
                ),
                (
                    1 - eta * s2min,
                    " That is 1 - eta sigma_min^2, the factor of the slowest direction only; "
                    "here |1 - eta sigma_max^2| is larger.",
                ),
                (abs(1 - eta * s2max), " That is |1 - eta sigma_max^2| only."),
                (
                    max(abs(1 - eta * s.min()), abs(1 - eta * s.max())),
                    " Square the singular values: A^T A has eigenvalues sigma_i^2.",
                ),
            ]
            for value, text in hints:
                if abs(got - value) <= 1e-6:
                    msg += text
                    break
            raise fail(title, msg)
        return len(_rate_cases())

    return run(title, body)


def check_limit(gd_limit: Callable) -> Result:
    """Check ``gd_limit(A, b, x0)`` = A^+ b + (I - A^+ A) x0, the limit of GD from x0."""
    title = _LIMIT

    def body() -> int:
        cases = 0
        for name, A in _test_matrices():
            g = np.random.default_rng(A.shape[1] + 13)
            b, x0 = g.standard_normal(A.shape[0]), 2.0 * g.standard_normal(A.shape[1])
            got = _vector(title, _call(title, gd_limit, A, b, x0), A.shape[1], "the limit")
            exp = reference_limit(A, b, x0)
            xstar = reference_min_norm(A, b)
            hints = [
                (
                    xstar,
                    "That is A^+ b, the limit from x0 = 0. From x0 != 0 the null-space part "
                    "of x0 is never changed by GD (part (b)): add (I - A^+ A) x0.",
                ),
                (
                    xstar + reference_project_row(A, x0),
                    "You added A^+ A x0, the row-space part of x0; GD keeps the null-space "
                    "part, (I - A^+ A) x0.",
                ),
                (
                    xstar + x0,
                    "A^+ b + x0 does not solve Ax = b; only the null-space part of x0 survives.",
                ),
                (x0, "GD does move: x0 is not a solution of Ax = b."),
            ]
            where = f"{name}, a random b and a random x0"
            _compare(title, got, exp, "the limit", where, _size(exp, x0), hints)
            cases += 1
        return cases

    return run(title, body)


__all__ += [
    "check_project_row",
    "check_project_null",
    "check_gradient",
    "check_gradient_descent",
    "check_min_norm_solution",
    "check_rate",
    "check_limit",
]
