"""Tests for nnbook.exercises.ex10_4_implicit_regularization (Exercise 10.4).

Every check must accept the solution page's answer and other correct answers written
differently, reject plausible wrong answers with a message that says what is wrong, and report
a stub (raising NotImplementedError) as "not attempted". The solution's functions are taken from
``solutions/ex10_4_implicit_regularization.md`` and the stubs from the exercise that
``tools/booktool.py`` generates from it. The reference answers are compared with independent
computations: scipy's orthonormal bases, torch autograd and ``torch.optim.SGD``, and the KKT
system of the closest-point problem.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given
from hypothesis import strategies as st
from notebook_functions import fails, notebook_fixtures, stub

from nnbook.exercises import ex10_4_implicit_regularization as ir

STUDENT_FUNCTIONS = (
    "project_row",
    "project_null",
    "grad_R",
    "gradient_descent",
    "min_norm_solution",
    "contraction_rate",
    "gd_limit",
)
CHECKS = {
    "project_row": ir.check_project_row,
    "project_null": ir.check_project_null,
    "grad_R": ir.check_gradient,
    "gradient_descent": ir.check_gradient_descent,
    "min_norm_solution": ir.check_min_norm_solution,
    "contraction_rate": ir.check_rate,
    "gd_limit": ir.check_limit,
}
A37 = np.random.default_rng(0).standard_normal((3, 7))  # a small full-row-rank test matrix


# --------------------------------------------------------------------------- helpers
solution, exercise = notebook_fixtures(
    "ex10_4_implicit_regularization.md", STUDENT_FUNCTIONS, {"np": np}
)


def _row_basis(A):
    """An orthonormal basis of row(A) from scipy (independent of the module's lstsq)."""
    return scipy.linalg.orth(A.T)


def _kkt_closest(A, b, x0):
    """argmin ||x - x0|| subject to Ax = b, from the KKT system [[I, A^T], [A, 0]]."""
    m, n = A.shape
    K = np.block([[np.eye(n), A.T], [A, np.zeros((m, m))]])
    return np.linalg.solve(K, np.r_[x0, b])[:n]


def _torch_gd(A, b, x0, eta, K):
    """GD by torch.optim.SGD (full batch, no momentum) on R(x) = ||Ax - b||^2 / 2."""
    At, bt = torch.from_numpy(A), torch.from_numpy(b)
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=eta)
    xs = [x.detach().numpy().copy()]
    for _ in range(K):
        opt.zero_grad()
        (0.5 * ((At @ x - bt) ** 2).sum()).backward()
        opt.step()
        xs.append(x.detach().numpy().copy())
    return np.array(xs)


# --------------------------------------------------------------------------- stubs and solution
@pytest.mark.parametrize("name", STUDENT_FUNCTIONS)
def test_a_stub_is_not_attempted_and_does_not_raise(name, capsys):
    result = CHECKS[name](stub)
    assert result.status == "not attempted" and not result.passed
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("name", STUDENT_FUNCTIONS)
def test_the_generated_exercise_stubs_are_not_attempted(name, exercise, capsys):
    args = {
        "project_row": (A37, np.ones(7)),
        "project_null": (A37, np.ones(7)),
        "grad_R": (A37, np.ones(3), np.ones(7)),
        "gradient_descent": (A37, np.ones(3), np.zeros(7), 0.1, 2),
        "min_norm_solution": (A37, np.ones(3)),
        "contraction_rate": (A37, 0.1),
        "gd_limit": (A37, np.ones(3), np.ones(7)),
    }[name]
    with pytest.raises(NotImplementedError):
        exercise[name](*args)
    assert CHECKS[name](exercise[name]).status == "not attempted"
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("name", STUDENT_FUNCTIONS)
def test_the_solution_notebook_passes(name, solution, capsys):
    result = CHECKS[name](solution[name])
    assert result.passed and result.cases >= 3
    assert "correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- the problem
def test_make_problem_is_full_row_rank_and_reproducible():
    A, b = ir.make_problem(20, 100, seed=3)
    assert A.shape == (20, 100) and b.shape == (20,)
    assert np.linalg.matrix_rank(A) == 20
    A2, b2 = ir.make_problem(20, 100, seed=3)
    np.testing.assert_array_equal(A, A2)
    np.testing.assert_array_equal(b, b2)
    s = np.linalg.svd(ir.make_problem(200, 1000, seed=0)[0], compute_uv=False)
    assert 1 - np.sqrt(0.2) - 0.1 < s.min() and s.max() < 1 + np.sqrt(0.2) + 0.1


@pytest.mark.parametrize(
    "kwargs, match",
    [({"m": 5, "n": 5}, "m < n"), ({"m": 0, "n": 5}, "m to be an int >= 1")],
)
def test_make_problem_rejects_a_system_that_is_not_underdetermined(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ir.make_problem(**kwargs)


def test_the_test_matrices_are_full_row_rank_and_not_only_20_by_100():
    mats = ir._test_matrices()
    shapes = {A.shape for _, A in mats}
    assert len(shapes) == len(mats) >= 5 and (20, 100) in shapes and (1, 2) in shapes
    for _, A in mats:
        m, n = A.shape
        assert m < n and np.linalg.matrix_rank(A) == m


# --------------------------------------------------------------------------- references
@given(
    m=st.integers(1, 6),
    extra=st.integers(1, 8),
    seed=st.integers(0, 10_000),
)
def test_reference_projections_against_scipy_bases(m, extra, seed):
    g = np.random.default_rng(seed)
    A = g.standard_normal((m, m + extra))
    x = g.standard_normal(m + extra)
    Q, N = _row_basis(A), scipy.linalg.null_space(A)
    row, null = ir.reference_project_row(A, x), ir.reference_project_null(A, x)
    np.testing.assert_allclose(row, Q @ (Q.T @ x), atol=1e-10)
    np.testing.assert_allclose(null, N @ (N.T @ x), atol=1e-10)
    assert abs(row @ null) < 1e-10 * (1 + x @ x)


def test_reference_gradient_matches_torch_autograd():
    g = np.random.default_rng(1)
    A, b, x = g.standard_normal((5, 12)), g.standard_normal(5), g.standard_normal(12)
    xt = torch.tensor(x, requires_grad=True)
    (0.5 * ((torch.from_numpy(A) @ xt - torch.from_numpy(b)) ** 2).sum()).backward()
    np.testing.assert_allclose(ir.reference_gradient(A, b, x), xt.grad.numpy(), atol=1e-12)
    assert ir.risk(A, b, x) == pytest.approx(0.5 * np.sum((A @ x - b) ** 2))


def test_gd_iterates_match_torch_sgd():
    A, b = ir.make_problem(6, 15, seed=2)
    x0 = np.random.default_rng(2).standard_normal(15)
    eta = 0.7 / np.linalg.norm(A, 2) ** 2
    np.testing.assert_allclose(ir.gd_iterates(A, b, x0, eta, 30), _torch_gd(A, b, x0, eta, 30))


def test_reference_min_norm_is_scipy_pinv_and_smallest():
    g = np.random.default_rng(4)
    A, b = g.standard_normal((4, 9)), g.standard_normal(4)
    x = ir.reference_min_norm(A, b)
    np.testing.assert_allclose(x, scipy.linalg.pinv(A) @ b, atol=1e-12)
    z = scipy.linalg.null_space(A) @ g.standard_normal(5)  # another solution: x + z
    assert np.linalg.norm(x) < np.linalg.norm(x + z)


@pytest.mark.parametrize("step", [0.3, 1.0, 1.6, 1.95, 2.2])
def test_reference_rate_is_the_norm_of_gd_restricted_to_the_row_space(step):
    A = np.random.default_rng(5).standard_normal((4, 10))
    eta = step / np.linalg.norm(A, 2) ** 2
    Q = _row_basis(A)
    M = Q.T @ (np.eye(10) - eta * A.T @ A) @ Q  # one GD step on the error, in row(A)
    assert ir.reference_rate(A, eta) == pytest.approx(np.linalg.norm(M, 2), abs=1e-12)


def test_reference_limit_is_the_closest_solution_and_where_gd_goes():
    A, b = ir.make_problem(5, 12, seed=6)
    x0 = np.random.default_rng(6).standard_normal(12)
    lim = ir.reference_limit(A, b, x0)
    np.testing.assert_allclose(lim, _kkt_closest(A, b, x0), atol=1e-12)
    eta = 1 / np.linalg.norm(A, 2) ** 2
    np.testing.assert_allclose(_torch_gd(A, b, x0, eta, 2000)[-1], lim, atol=1e-9)


def test_references_validate_shapes():
    with pytest.raises(ValueError, match=r"expected x of shape \(7,\), got \(3,\)"):
        ir.reference_project_row(A37, np.ones(3))
    with pytest.raises(ValueError, match="m <= n"):
        ir.reference_min_norm(A37.T, np.ones(7))
    with pytest.raises(ValueError, match="eta > 0"):
        ir.reference_rate(A37, -0.1)


# --------------------------------------------------------------------------- (a) projections
def _row_svd(A, x):
    _, _, Vt = np.linalg.svd(A, full_matrices=False)
    return Vt.T @ (Vt @ x)


ROW_CORRECT = {
    "svd": _row_svd,
    "pinv": lambda A, x: np.linalg.pinv(A) @ (A @ x),
    "normal-equations": lambda A, x: A.T @ np.linalg.solve(A @ A.T, A @ x),
    "scipy-orth": lambda A, x: _row_basis(A) @ (_row_basis(A).T @ x),
    "list-output": lambda A, x: list(_row_svd(A, x)),
}


@pytest.mark.parametrize("answer", ROW_CORRECT.values(), ids=ROW_CORRECT.keys())
def test_project_row_accepts_correct_answers_written_differently(answer, capsys):
    assert ir.check_project_row(answer).passed


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda A, x: x - _row_svd(A, x), ["null-space part P_null x"]),
        (
            lambda A, x: (lambda Q: Q @ (Q.T @ x))(np.linalg.qr(A.T, mode="complete")[0]),
            ["returned x itself", "mode='complete'"],
        ),
        (lambda A, x: A.T @ (A @ x), ["orthonormal"]),
        (
            lambda A, x: (lambda Q: Q @ (Q.T @ x))(np.linalg.qr(A)[0]),  # column space
            ["raised ValueError", "Hint: A has shape (m, n) = (3, 7)"],
        ),
        (lambda A, x: _row_svd(A, x)[:, None], ["should be a vector of shape (7,)"]),
        (lambda A, x: np.full(A.shape[1], np.nan), ["NaN"]),
        (lambda A, x: None, ["did you forget a `return`"]),
    ],
    ids=["null-instead", "complete-qr", "unnormalised", "column-space", "column", "nan", "none"],
)
def test_project_row_rejects_wrong_answers(answer, needles):
    fails(ir.check_project_row, answer, "Exercise 10.4(a) project_row", *needles)


def test_project_row_is_tested_beyond_20_by_100():
    """A projection that is right only for the 20 x 100 case is caught on another shape."""

    def only_20x100(A, x):
        return _row_svd(A, x) if A.shape == (20, 100) else x

    fails(ir.check_project_row, only_20x100, "A of shape (3, 7)")


def test_project_row_cannot_change_the_checks_matrices():
    def mutating(A, x):
        out = _row_svd(A, x)
        A[:] = 0.0
        x[:] = 0.0
        return out

    assert ir.check_project_row(mutating).passed


NULL_CORRECT = {
    "scipy-null-space": lambda A, x: (lambda N: N @ (N.T @ x))(scipy.linalg.null_space(A)),
    "pinv": lambda A, x: x - np.linalg.pinv(A) @ A @ x,
    "projector-matrix": lambda A, x: (np.eye(A.shape[1]) - A.T @ np.linalg.inv(A @ A.T) @ A) @ x,
}


@pytest.mark.parametrize("answer", NULL_CORRECT.values(), ids=NULL_CORRECT.keys())
def test_project_null_accepts_correct_answers_written_differently(answer, capsys):
    assert ir.check_project_null(answer).passed


@pytest.mark.parametrize(
    "answer, needles",
    [
        (_row_svd, ["row-space part P_row x"]),
        (lambda A, x: np.zeros(A.shape[1]), ["zero vector", "mode='complete'"]),
        (lambda A, x: x - A.T @ (A @ x), ["only if the rows of A are orthonormal"]),
        (lambda A, x: x - A @ np.linalg.pinv(A) @ x, ["raised ValueError", "n = 7 entries"]),
        (lambda A, x: x, ["returned x itself"]),
        (lambda A, x: np.full(A.shape[1], np.inf), ["NaN or inf"]),
    ],
    ids=["row-instead", "zero", "unnormalised", "wrong-P", "identity", "inf"],
)
def test_project_null_rejects_wrong_answers(answer, needles):
    fails(ir.check_project_null, answer, "Exercise 10.4(a) project_null", *needles)


# --------------------------------------------------------------------------- (b) gradient
GRAD_CORRECT = {
    "sum-over-rows": lambda A, b, x: sum((a @ x - bi) * a for a, bi in zip(A, b)),
    "row-vector-form": lambda A, b, x: (A @ x - b) @ A,
    "expanded": lambda A, b, x: A.T @ A @ x - A.T @ b,
}


@pytest.mark.parametrize("answer", GRAD_CORRECT.values(), ids=GRAD_CORRECT.keys())
def test_gradient_accepts_correct_answers_written_differently(answer, capsys):
    assert ir.check_gradient(answer).passed


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda A, b, x: A.T @ (b - A @ x), ["sign is wrong"]),
        (lambda A, b, x: 2 * A.T @ (A @ x - b), ["factor 1/2"]),
        (lambda A, b, x: A.T @ (A @ x - b) / len(b), ["not a mean"]),
        (lambda A, b, x: A.T @ (A @ x), ["You forgot b"]),
        (lambda A, b, x: A.T @ A @ x - b, ["raised ValueError", "b and Ax have m = 3"]),
        (lambda A, b, x: np.full(A.shape[1], np.nan), ["NaN"]),
    ],
    ids=["sign", "missing-half", "mean", "no-b", "shape", "nan"],
)
def test_gradient_rejects_wrong_answers(answer, needles):
    fails(ir.check_gradient, answer, "Exercise 10.4(b) grad_R", *needles)


# --------------------------------------------------------------------------- (c) GD
def _gd_prealloc(A, b, x0, eta, K):
    xs = np.empty((K + 1, len(x0)))
    xs[0] = x0
    for k in range(K):
        xs[k + 1] = xs[k] - eta * A.T @ (A @ xs[k] - b)
    return xs


def _gd_matrix(A, b, x0, eta, K):
    """x^(k+1) = M x^(k) + c with M = I - eta A^T A and c = eta A^T b, as a list of arrays."""
    M, c = np.eye(A.shape[1]) - eta * A.T @ A, eta * A.T @ b
    xs = [np.array(x0, dtype=float)]
    for _ in range(K):
        xs.append(M @ xs[-1] + c)
    return xs


def _gd_in_place(A, b, x0, eta, K):
    x = np.array(x0, dtype=float)
    xs = [x]
    for _ in range(K):
        x -= eta * A.T @ (A @ x - b)  # changes the arrays already stored
        xs.append(x)
    return np.array(xs)


@pytest.mark.parametrize(
    "answer",
    [_gd_prealloc, _gd_matrix, lambda A, b, x0, eta, K: _torch_gd(A, b, x0, float(eta), K)],
    ids=["preallocated", "matrix-form", "torch-sgd"],
)
def test_gradient_descent_accepts_correct_answers_written_differently(answer, capsys):
    assert ir.check_gradient_descent(answer).passed


@pytest.mark.parametrize(
    "answer, needles",
    [
        (_gd_in_place, ["All rows are equal", "in place"]),
        (lambda A, b, x0, eta, K: _gd_prealloc(A, b, x0, eta, K)[1:], ["got 4 rows"]),
        (lambda A, b, x0, eta, K: _gd_prealloc(A, b, x0, eta, K + 1)[1:], ["row 0 should be"]),
        (lambda A, b, x0, eta, K: _gd_prealloc(A, b, x0, -eta, K), ["+grad R"]),
        (
            lambda A, b, x0, eta, K: _gd_prealloc(A, b, np.zeros_like(x0), eta, K),
            ["row k = 0", "Row 0 is the start"],
        ),
        (lambda A, b, x0, eta, K: _gd_prealloc(A, b, x0, eta, K).T, ["transpose"]),
        (lambda A, b, x0, eta, K: _gd_prealloc(A, b, x0, eta, K)[-1], ["every iterate"]),
        (lambda A, b, x0, eta, K: np.full((K + 1, len(x0)), np.nan), ["NaN"]),
    ],
    ids=["in-place", "no-start", "shifted", "ascent", "ignores-x0", "transposed", "last", "nan"],
)
def test_gradient_descent_rejects_wrong_answers(answer, needles):
    fails(ir.check_gradient_descent, answer, "Exercise 10.4(c) gradient_descent", *needles)


# --------------------------------------------------------------------------- (d) x* and the rate
def _min_norm_qr(A, b):
    Q, R = np.linalg.qr(A.T)  # A^T = QR, so A = R^T Q^T and x* = Q R^{-T} b
    return Q @ np.linalg.solve(R.T, b)


MIN_CORRECT = {
    "pinv": lambda A, b: np.linalg.pinv(A) @ b,
    "lstsq": lambda A, b: np.linalg.lstsq(A, b, rcond=None)[0],
    "qr": _min_norm_qr,
}


@pytest.mark.parametrize("answer", MIN_CORRECT.values(), ids=MIN_CORRECT.keys())
def test_min_norm_solution_accepts_correct_answers_written_differently(answer, capsys):
    assert ir.check_min_norm_solution(answer).passed


def _some_solution(A, b):
    m, n = A.shape
    return np.r_[np.linalg.solve(A[:, :m], b), np.zeros(n - m)]


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda A, b: A.T @ b, ["does not solve Ax = b", "A^T b lies in row(A)"]),
        (_some_solution, ["solves Ax = b, but ||x||", "null-space part"]),
        (lambda A, b: np.linalg.inv(A.T @ A) @ A.T @ b, ["(A^T A)^{-1} A^T b"]),
        (lambda A, b: np.linalg.solve(A @ A.T, b), ["should have shape (7,), got (3,)"]),
        (lambda A, b: np.full(A.shape[1], np.nan), ["NaN"]),
    ],
    ids=["AT-b", "a-solution", "normal-equations-wrong-way", "coefficients", "nan"],
)
def test_min_norm_solution_rejects_wrong_answers(answer, needles):
    fails(ir.check_min_norm_solution, answer, "Exercise 10.4(d) min_norm_solution", *needles)


def test_min_norm_solution_names_a_singular_matrix():
    def pseudo_inverse_of_ATA(A, b):
        return scipy.linalg.solve(A.T @ A, A.T @ b, assume_a="pos")  # raises: singular

    message = fails(ir.check_min_norm_solution, pseudo_inverse_of_ATA, "raised")
    assert "LinAlgError" in message and "A A^T" in message


RATE_CORRECT = {
    "eigvalsh": lambda A, eta: np.max(np.abs(1 - eta * np.linalg.eigvalsh(A @ A.T))),
    "two-ends": lambda A, eta: max(
        abs(1 - eta * np.linalg.svd(A, compute_uv=False).min() ** 2),
        abs(1 - eta * np.linalg.norm(A, 2) ** 2),
    ),
    "as-array": lambda A, eta: np.array(
        np.max(np.abs(1 - eta * np.linalg.svd(A, compute_uv=False) ** 2))
    ),
}


@pytest.mark.parametrize("answer", RATE_CORRECT.values(), ids=RATE_CORRECT.keys())
def test_rate_accepts_correct_answers_written_differently(answer, capsys):
    assert ir.check_rate(answer).passed


def _s(A):
    return np.linalg.svd(A, compute_uv=False)


@pytest.mark.parametrize(
    "answer, needles",
    [
        (
            lambda A, eta: np.max(np.abs(1 - eta * np.linalg.eigvalsh(A.T @ A))),
            ["expected rho = 0.9661", "got 1.", "zero eigenvalues"],
        ),
        (lambda A, eta: 1 - eta * _s(A).min() ** 2, ["slowest direction only"]),
        (lambda A, eta: np.max(np.abs(1 - eta * _s(A))), ["Square the singular values"]),
        (lambda A, eta: abs(1 - eta * _s(A).max() ** 2), ["|1 - eta sigma_max^2| only"]),
        (lambda A, eta: np.nan, ["NaN"]),
        (lambda A, eta: [0.5, 0.6], ["should have shape (), got (2,)"]),
    ],
    ids=["zero-eigenvalues", "slow-only", "unsquared", "fast-only", "nan", "vector"],
)
def test_rate_rejects_wrong_answers(answer, needles):
    fails(ir.check_rate, answer, "Exercise 10.4(d) contraction_rate", *needles)


def test_rate_cases_cover_both_branches_and_divergence():
    slow = fast = diverging = 0
    for _, A, eta, _ in ir._rate_cases():
        s2 = _s(A) ** 2
        rho = ir.reference_rate(A, eta)
        slow += np.isclose(rho, 1 - eta * s2.min()) and not np.isclose(rho, eta * s2.max() - 1)
        fast += np.isclose(rho, eta * s2.max() - 1) and not np.isclose(rho, 1 - eta * s2.min())
        diverging += rho > 1
    assert slow >= 3 and fast >= 3 and diverging >= 3


# --------------------------------------------------------------------------- (e) the limit
def _pinv_null(A, x0):
    return x0 - np.linalg.pinv(A) @ (A @ x0)


LIMIT_CORRECT = {
    "pinv": lambda A, b, x0: np.linalg.pinv(A) @ b + _pinv_null(A, x0),
    "corrected-start": lambda A, b, x0: x0 + A.T @ np.linalg.solve(A @ A.T, b - A @ x0),
    "kkt": _kkt_closest,
}


@pytest.mark.parametrize("answer", LIMIT_CORRECT.values(), ids=LIMIT_CORRECT.keys())
def test_limit_accepts_correct_answers_written_differently(answer, capsys):
    assert ir.check_limit(answer).passed


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda A, b, x0: np.linalg.pinv(A) @ b, ["That is A^+ b", "(I - A^+ A) x0"]),
        (
            lambda A, b, x0: np.linalg.pinv(A) @ b + (x0 - _pinv_null(A, x0)),
            ["row-space part of x0"],
        ),
        (lambda A, b, x0: np.linalg.pinv(A) @ b + x0, ["does not solve Ax = b"]),
        (lambda A, b, x0: x0, ["GD does move"]),
        (lambda A, b, x0: np.full(A.shape[1], np.nan), ["NaN"]),
    ],
    ids=["no-x0-term", "row-part", "plus-x0", "start", "nan"],
)
def test_limit_rejects_wrong_answers(answer, needles):
    fails(ir.check_limit, answer, "Exercise 10.4(e) gd_limit", *needles)
