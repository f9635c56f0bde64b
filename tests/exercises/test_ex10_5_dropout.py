"""Tests for nnbook.exercises.ex10_5_dropout: the exact expectations over masks, SGD with
dropout, and the five checks of Exercise 10.5.

Every check must accept the solution page's answer and other correct answers written
differently, reject plausible wrong answers (the drop probability phi = 1 - p where the keep
probability p belongs, a missing square, no 1/p scaling, ...) with a message that names the
mistake, and report a stub as "not attempted". The solution's answers are read from
``solutions/ex10_5_dropout.md`` and the stubs from the exercise that ``tools/booktool.py``
generates from it. Reference values come from independent computations: SciPy's Bernoulli
pmf, Chapter 6's closed forms, scikit-learn's ridge, PyTorch's dropout and Monte Carlo.
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from notebook_functions import fails, notebook_fixtures, stub
from scipy import stats
from sklearn.linear_model import Ridge

from nnbook.engine import linear
from nnbook.exercises import ex10_5_dropout as ex

matplotlib.use("Agg")

CHECKS = {
    "inverted_dropout": ex.check_inverted_dropout,
    "mask_probability": ex.check_mask_probability,
    "expected_squared_loss": ex.check_expected_squared_loss,
    "dropout_penalty_weights": ex.check_penalty_weights,
    "dropout_ridge_minimiser": ex.check_dropout_ridge,
}
X3 = np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 1.5], [0.5, -2.0, 1.0], [2.0, 1.0, -1.0]])
ARGS = {  # one call of each student function, to see that the stub raises
    "inverted_dropout": (np.ones(3), np.array([1.0, 0.0, 1.0]), 0.5),
    "mask_probability": (np.array([1.0, 0.0, 1.0]), 0.5),
    "expected_squared_loss": (np.ones(3), np.ones(3), 0.0, 0.5),
    "dropout_penalty_weights": (X3, 0.5),
    "dropout_ridge_minimiser": (X3, np.ones(4), 0.5),
}


# --------------------------------------------------------------------------- helpers
solution, exercise = notebook_fixtures("ex10_5_dropout.md", CHECKS, {"np": np})


PHI = "lecture's phi = 1 - p (the drop probability) does not belong here"


# --------------------------------------------------------------------------- stubs and solution
@pytest.mark.parametrize("name", CHECKS)
def test_a_stub_is_not_attempted(name, capsys):
    result = CHECKS[name](stub)
    assert result.status == "not attempted" and not result.passed
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("name", CHECKS)
def test_the_generated_exercise_stubs_are_not_attempted(name, exercise, capsys):
    with pytest.raises(NotImplementedError):
        exercise[name](*ARGS[name])
    assert CHECKS[name](exercise[name]).status == "not attempted"
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("name", CHECKS)
def test_the_solution_page_passes(name, solution, capsys):
    result = CHECKS[name](solution[name])
    assert result.passed and result.cases >= 4
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("name", CHECKS)
def test_a_raising_answer_is_reported_readably(name):
    def broken(*args):
        raise ValueError("operands could not be broadcast together")

    fails(CHECKS[name], broken, "raised ValueError: operands could not be broadcast")


# --------------------------------------------------------------------------- library: masks
def test_all_masks_are_the_binary_expansions_of_0_to_2d_minus_1():
    d = 5
    masks = ex.all_masks(d)
    bits = (np.arange(2**d)[:, None] >> np.arange(d)[::-1]) & 1  # row k: the bits of k
    np.testing.assert_array_equal(masks, bits)
    assert masks.dtype == float and len({tuple(m) for m in masks}) == 2**d


@pytest.mark.parametrize("d, p", [(1, 0.3), (4, 0.7), (6, 1.0), (3, 0.05)])
def test_mask_probabilities_are_products_of_bernoulli_pmfs(d, p):
    masks = ex.all_masks(d)
    by_scipy = stats.bernoulli.pmf(masks, p).prod(axis=1)
    np.testing.assert_allclose(ex.mask_probabilities(masks, p), by_scipy, rtol=1e-13)
    assert math.isclose(ex.mask_probabilities(masks, p).sum(), 1.0, rel_tol=1e-12)


def test_expectation_over_masks_gives_the_bernoulli_moments():
    d, p = 5, 0.35
    np.testing.assert_allclose(ex.expectation_over_masks(lambda m: m, d, p), np.full(d, p))
    assert math.isclose(ex.expectation_over_masks(np.sum, d, p), d * p)  # binomial mean
    assert math.isclose(ex.expectation_over_masks(np.prod, d, p), p**d)  # all kept
    outer = ex.expectation_over_masks(lambda m: np.outer(m, m), d, p)
    np.testing.assert_allclose(outer, p**2 + (p - p**2) * np.eye(d))  # E[m_j m_k]


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: ex.all_masks(0), ValueError),
        (lambda: ex.all_masks(17), ValueError),
        (lambda: ex.all_masks(2.0), TypeError),
        (lambda: ex.mask_probabilities([[0.0, 2.0]], 0.5), ValueError),
        (lambda: ex.mask_probabilities([[0.0, 1.0]], 1.5), ValueError),
        (lambda: ex.mask_probabilities([[0.0, 1.0]], 0.0), ValueError),
        (lambda: ex.exact_expected_loss(np.ones(3), np.ones(2), 0.0, 0.5), ValueError),
        (lambda: ex.exact_dropout_minimiser(np.ones((4, 2)), np.ones(3), 0.5), ValueError),
    ],
)
def test_the_library_validates_its_inputs(call, error):
    with pytest.raises(error, match="expected"):
        call()


# --------------------------------------------------------------------------- library: loss
@settings(max_examples=40, deadline=None)
@given(
    d=st.integers(1, 8),
    p=st.floats(0.05, 1.0),
    seed=st.integers(0, 2**16),
)
def test_exact_expected_loss_matches_chapter_6s_closed_form(d, p, seed):
    g = np.random.default_rng(seed)
    w, h, y_star = g.normal(size=d), g.normal(size=d), float(g.normal())
    closed = linear.expected_dropout_loss(w, h[None, :], [y_star], phi=1 - p)[0]
    assert math.isclose(ex.exact_expected_loss(w, h, y_star, p), closed, rel_tol=1e-10)


def test_exact_expected_loss_agrees_with_torch_dropout_by_monte_carlo():
    g = np.random.default_rng(4)
    d, p, y_star, n = 4, 0.7, 0.3, 400_000
    w, h = g.normal(size=d), g.normal(size=d)
    torch.manual_seed(0)
    H = torch.nn.functional.dropout(torch.tensor(h).repeat(n, 1), p=1 - p, training=True)
    losses = (H.numpy() @ w - y_star) ** 2  # torch's p is the DROP probability
    se = losses.std(ddof=1) / np.sqrt(n)
    assert abs(losses.mean() - ex.exact_expected_loss(w, h, y_star, p)) < 4 * se


# --------------------------------------------------------------------------- library: minimiser
def _ridge_via_sklearn(X, y, p):
    """Dropout ridge = ridge with lambda = (1-p)/p on features scaled to unit energy."""
    norms = np.sqrt(np.sum(X**2, axis=0))
    model = Ridge(alpha=(1 - p) / p, fit_intercept=False, solver="svd").fit(X / norms, y)
    return model.coef_ / norms


@pytest.mark.parametrize("N, d, p", [(30, 3, 0.6), (5, 7, 0.4), (50, 1, 0.9), (12, 4, 0.1)])
def test_exact_dropout_minimiser_matches_chapter_6_and_sklearn(N, d, p):
    g = np.random.default_rng(N + d)
    X = g.normal(size=(N, d)) * g.uniform(0.1, 5.0, size=d)
    y = g.normal(size=N)
    w = ex.exact_dropout_minimiser(X, y, p)
    np.testing.assert_allclose(w, linear.dropout_ridge(X, y, phi=1 - p), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(w, _ridge_via_sklearn(X, y, p), rtol=1e-8, atol=1e-12)


def test_exact_dropout_minimiser_without_dropout_is_least_squares():
    g = np.random.default_rng(5)
    X, y = g.normal(size=(20, 3)), g.normal(size=20)
    np.testing.assert_allclose(
        ex.exact_dropout_minimiser(X, y, 1.0), np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-10
    )


def test_scaled_regression_has_the_scales_and_the_signal():
    scales, w = np.array([0.1, 1.0, 10.0]), np.array([1.0, -1.0, 0.5])
    X, y = ex.scaled_regression(20_000, scales, w, noise=0.0, rng=3)
    assert X.shape == (20_000, 3) and y.shape == (20_000,)
    np.testing.assert_allclose(X.std(axis=0), scales, rtol=0.02)
    np.testing.assert_allclose(y, X @ w)
    X2, y2 = ex.scaled_regression(20_000, scales, w, noise=0.0, rng=3)
    np.testing.assert_array_equal(X, X2)
    with pytest.raises(ValueError, match="scales > 0"):
        ex.scaled_regression(5, [1.0, 0.0], [1.0, 1.0], noise=0.1)


def test_sgd_with_dropout_approaches_the_minimiser_and_without_it_least_squares():
    X, y = ex.scaled_regression(200, [2.0, 1.0, 0.5], [1.0, -2.0, 3.0], noise=0.5, rng=0)
    w_star = ex.exact_dropout_minimiser(X, y, 0.6)
    w_ols = np.linalg.lstsq(X, y, rcond=None)[0]
    run = ex.sgd_with_dropout(X, y, 0.6, lr=0.01, steps=10_000, rng=1)
    assert run.iterates.shape == (10_001, 3) and np.all(run.iterates[0] == 0)
    assert np.linalg.norm(run.w - w_star) < 0.05 * np.linalg.norm(w_ols - w_star)
    plain = ex.sgd_with_dropout(X, y, 1.0, lr=0.01, steps=10_000, rng=1)
    assert np.linalg.norm(plain.w - w_ols) < 0.01 * np.linalg.norm(w_ols - w_star)
    again = ex.sgd_with_dropout(X, y, 0.6, lr=0.01, steps=10_000, rng=1)
    np.testing.assert_array_equal(run.w, again.w)


def test_the_plotting_helpers_draw_every_series():
    from nnbook.viz import plots

    fig, ax = plots.figure()
    ex.plot_loss_against_p(ax, [0.5, 1.0], [2.0, 1.0], [0.5, 1.0], [2.0, 1.0], 1.0)
    assert len(ax.get_lines()) == 3 and ax.get_xlabel() and ax.get_ylabel()
    fig, axes = plots.figure(ncols=2)
    s = np.array([0.1, 1.0, 10.0])
    ex.plot_penalty_and_shrinkage(axes, s, s**2, 1.0, [0.5] * 3, s**2 / (s**2 + 1), 0.5)
    assert [len(a.get_lines()) for a in axes] == [2, 4]
    assert all(a.get_xlabel() and a.get_ylabel() for a in axes)


# --------------------------------------------------------------------------- (a) inverted_dropout
def _dropout_loop(h, m, p):
    out = np.zeros(m.shape)
    for index in np.ndindex(m.shape):  # index[-1] is the unit j
        out[index] = h[index[-1]] / p if m[index] == 1 else 0.0
    return out


@pytest.mark.parametrize(
    "answer",
    [
        lambda h, m, p: np.where(m == 1, h / p, 0.0),
        lambda h, m, p: h * (m / p),
        lambda h, m, p: (torch.tensor(m) * torch.tensor(h) / p).numpy(),
        _dropout_loop,
    ],
    ids=["where", "reordered", "torch", "loop"],
)
def test_inverted_dropout_accepts_other_correct_forms(answer, capsys):
    assert ex.check_inverted_dropout(answer).passed


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda h, m, p: m * h / (1 - p), ["You divide by 1 - p", PHI]),
        (lambda h, m, p: m * h, ["scale the kept units by 1/p"]),
        (lambda h, m, p: m * h * p, ["You multiply by p"]),
        (lambda h, m, p: (1 - m) * h / p, ["m_j = 1 means unit j is KEPT"]),
        (lambda h, m, p: h / p, ["You forgot the mask"]),
        (lambda h, m, p: (m * h / p)[..., 0], ["should have shape (5,), got ()"]),
        (lambda h, m, p: np.full(np.shape(m), np.nan), ["NaN"]),
        (lambda h, m, p: None, ["did you forget a `return`"]),
    ],
    ids=["phi", "no-scaling", "times-p", "inverted-mask", "no-mask", "shape", "nan", "none"],
)
def test_inverted_dropout_rejects_wrong_answers(answer, needles):
    fails(ex.check_inverted_dropout, answer, "Exercise 10.5(a) inverted_dropout", *needles)


def test_inverted_dropout_must_handle_a_stack_of_masks():
    def one_mask_only(h, m, p):
        return np.array([m[j] * h[j] / p for j in range(len(h))])  # fails on (n, d)

    fails(ex.check_inverted_dropout, one_mask_only, "m = [[")


# --------------------------------------------------------------------------- (a) mask_probability
def _mask_probability_loop(m, p):
    prob = 1.0
    for mj in m:
        prob *= p if mj == 1 else 1 - p
    return prob


@pytest.mark.parametrize(
    "answer",
    [
        _mask_probability_loop,
        lambda m, p: stats.bernoulli.pmf(m, p).prod(),
        lambda m, p: np.prod(np.where(m == 1, p, 1 - p)),
        lambda m, p: [p ** m.sum() * (1 - p) ** (len(m) - m.sum())],
    ],
    ids=["loop", "scipy", "where", "one-element-list"],
)
def test_mask_probability_accepts_other_correct_forms(answer, capsys):
    assert ex.check_mask_probability(answer).passed


@pytest.mark.parametrize(
    "answer, needles",
    [
        (
            lambda m, p: (1 - p) ** m.sum() * p ** (len(m) - m.sum()),
            ["You swapped p and 1 - p", PHI],
        ),
        (
            lambda m, p: (
                math.comb(len(m), int(m.sum())) * p ** m.sum() * (1 - p) ** (len(m) - m.sum())
            ),
            ["binomial coefficient"],
        ),
        (lambda m, p: p ** m.sum(), ["also contribute a factor 1 - p"]),
        (lambda m, p: np.where(m == 1, p, 1 - p), ["should have shape ()", "Return one number"]),
        (lambda m, p: np.mean(np.where(m == 1, p, 1 - p)), ["for m = [0., 0., 0.], p = 0.3"]),
        (lambda m, p: np.nan, ["NaN"]),
        (lambda m, p: "0.5", ["should be numeric, got str"]),
    ],
    ids=["phi", "binomial", "kept-only", "vector", "mean", "nan", "string"],
)
def test_mask_probability_rejects_wrong_answers(answer, needles):
    fails(ex.check_mask_probability, answer, "Exercise 10.5(a) mask_probability", *needles)


# --------------------------------------------------------------------------- (b) expected loss
def _loss_loop(w, h, y_star, p):
    penalty = 0.0
    for wj, hj in zip(w, h):
        penalty += wj**2 * hj**2
    return (np.dot(w, h) - y_star) ** 2 + (1 - p) / p * penalty


def _loss_second_moment(w, h, y_star, p):
    """E[y^2] - 2 y* E[y] + y*^2 with E[m_j m_k] = p^2 (j != k) and p (j = k)."""
    d = len(w)
    second = (p**2 * np.ones((d, d)) + (p - p**2) * np.eye(d)) / p**2  # E[m m^T] / p^2
    a = w * h
    return a @ second @ a - 2 * y_star * (w @ h) + y_star**2


def _loss_bias_variance(w, h, y_star, p):
    values = (ex.all_masks(len(w)) * h / p) @ w  # y for every mask, weighted by hand below
    k = ex.all_masks(len(w)).sum(axis=1)
    probs = p**k * (1 - p) ** (len(w) - k)
    mean = probs @ values
    return (mean - y_star) ** 2 + probs @ (values - mean) ** 2


@pytest.mark.parametrize(
    "answer",
    [
        _loss_loop,
        _loss_second_moment,
        _loss_bias_variance,
        lambda w, h, y_star, p: np.array([_loss_loop(w, h, y_star, p)]),
    ],
    ids=["loop", "second-moment", "bias-variance", "one-element-array"],
)
def test_expected_squared_loss_accepts_other_correct_forms(answer, capsys):
    assert ex.check_expected_squared_loss(answer).passed


def _fit(w, h, y_star):
    return (w @ h - y_star) ** 2


@pytest.mark.parametrize(
    "answer, needles",
    [
        (
            lambda w, h, y, p: _fit(w, h, y) + p / (1 - p) * np.sum(w**2 * h**2),
            ["not p/(1 - p)", PHI],
        ),
        (lambda w, h, y, p: _fit(w, h, y) + (1 - p) / p * np.sum(w * h**2), ["Square w_j"]),
        (lambda w, h, y, p: _fit(w, h, y) + (1 - p) / p * np.sum(w**2 * h), ["Square h_j"]),
        (
            lambda w, h, y, p: _fit(w, h, y) + (1 - p) / p * (w @ h) ** 2,
            ["not the square of the sum"],
        ),
        (lambda w, h, y, p: _fit(w, h, y) + np.sum(w**2 * h**2) / p, ["not 1/p"]),
        (lambda w, h, y, p: _fit(w, h, y), ["only the original loss"]),
        (lambda w, h, y, p: _fit(w, h, y) + (1 - p) / p * w**2 * h**2, ["Sum the penalty over j"]),
        (lambda w, h, y, p: np.nan, ["NaN"]),
    ],
    ids=[
        "phi",
        "w-not-squared",
        "h-not-squared",
        "square-of-sum",
        "one-over-p",
        "no-penalty",
        "vector",
        "nan",
    ],
)
def test_expected_squared_loss_rejects_wrong_answers(answer, needles):
    fails(
        ex.check_expected_squared_loss, answer, "Exercise 10.5(b) expected_squared_loss", *needles
    )


# --------------------------------------------------------------------------- (c) penalty weights
def _penalty_loop(X, p):
    N, d = X.shape
    return np.array([(1 - p) / p * sum(X[i, j] ** 2 for i in range(N)) for j in range(d)])


@pytest.mark.parametrize(
    "answer",
    [
        _penalty_loop,
        lambda X, p: (1 - p) / p * np.diag(X.T @ X),
        lambda X, p: np.einsum("ij,ij->j", X, X) * (1 / p - 1),
    ],
    ids=["loop", "diag", "einsum"],
)
def test_penalty_weights_accept_other_correct_forms(answer, capsys):
    assert ex.check_penalty_weights(answer).passed


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda X, p: p / (1 - p) * np.sum(X**2, axis=0), ["not p/(1 - p)", PHI]),
        (lambda X, p: np.sum(X**2, axis=0), ["diag(X^T X) alone"]),
        (lambda X, p: (1 - p) / p * np.mean(X**2, axis=0), ["not the mean"]),
        (lambda X, p: (1 - p) / p * np.sum(X, axis=0), ["Square the features"]),
        (lambda X, p: (1 - p) / p * np.sum(X, axis=0) ** 2, ["Square each x_ij before summing"]),
        (
            lambda X, p: (1 - p) / p * np.sum(X**2, axis=1),
            ["should have shape (3,), got (20,)", "axis 0"],
        ),
        (lambda X, p: (1 - p) / p * X.T @ X, ["should have shape (3,), got (3, 3)"]),
        (lambda X, p: np.full(X.shape[1], np.nan), ["NaN"]),
    ],
    ids=["phi", "no-factor", "mean", "not-squared", "square-of-sum", "axis-1", "matrix", "nan"],
)
def test_penalty_weights_reject_wrong_answers(answer, needles):
    fails(ex.check_penalty_weights, answer, "Exercise 10.5(c) dropout_penalty_weights", *needles)


# --------------------------------------------------------------------------- (c) minimiser
def _minimiser_augmented(X, y, p):
    """Least squares on [X; sqrt(Lambda)] w ~ [y; 0]: the penalty as extra rows."""
    root = np.sqrt((1 - p) / p * np.sum(X**2, axis=0))
    A = np.vstack([X, np.diag(root)])
    return np.linalg.lstsq(A, np.r_[y, np.zeros(X.shape[1])], rcond=None)[0]


@pytest.mark.parametrize(
    "answer",
    [
        _minimiser_augmented,
        _ridge_via_sklearn,
        lambda X, y, p: linear.dropout_ridge(X, y, phi=1 - p),
        lambda X, y, p: np.linalg.inv(X.T @ X + np.diag(np.diag(X.T @ X)) * (1 - p) / p) @ X.T @ y,
    ],
    ids=["augmented-lstsq", "sklearn", "chapter-6", "inverse"],
)
def test_dropout_ridge_accepts_other_correct_forms(answer, capsys):
    assert ex.check_dropout_ridge(answer).passed


def _solve(X, y, weights):
    return np.linalg.solve(X.T @ X + np.diag(weights), X.T @ y)


def _energy(X):
    return np.sum(X**2, axis=0)


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda X, y, p: np.linalg.lstsq(X, y, rcond=None)[0], ["That is least squares"]),
        (lambda X, y, p: _solve(X, y, p / (1 - p) * _energy(X)), ["not p/(1 - p)", PHI]),
        (
            lambda X, y, p: _solve(X, y, np.full(X.shape[1], (1 - p) / p)),
            ["plain ridge", "depend on the data"],
        ),
        (lambda X, y, p: _solve(X, y, _energy(X)), ["the factor (1 - p)/p is missing"]),
        (lambda X, y, p: _solve(X, y, (1 - p) / p * _energy(X) / len(y)), ["not the mean"]),
        (
            lambda X, y, p: p * np.linalg.lstsq(X, y, rcond=None)[0],
            ["Only the diagonal of X^T X"],
        ),
        (lambda X, y, p: _minimiser_augmented(X, y, p)[:, None], ["got (3, 1)", ".ravel()"]),
        (lambda X, y, p: np.full(X.shape[1], np.nan), ["NaN"]),
    ],
    ids=["ols", "phi", "plain-ridge", "no-factor", "mean", "full-matrix", "column", "nan"],
)
def test_dropout_ridge_rejects_wrong_answers(answer, needles):
    fails(ex.check_dropout_ridge, answer, "Exercise 10.5(c) dropout_ridge_minimiser", *needles)


def test_dropout_ridge_check_includes_a_wide_design():
    """With N < d, X^T X is singular: an answer that needs it invertible must fail there."""

    def needs_invertible_gram(X, y, p):
        G = X.T @ X
        if np.linalg.matrix_rank(G) < G.shape[0]:
            raise np.linalg.LinAlgError("Singular matrix")
        return _minimiser_augmented(X, y, p)

    fails(ex.check_dropout_ridge, needs_invertible_gram, "raised LinAlgError")


def test_checks_do_not_let_the_answer_change_their_inputs(capsys):
    def mutating(X, y, p):
        w = _minimiser_augmented(X, y, p)
        X[:] = 0.0
        y[:] = 0.0
        return w

    assert ex.check_dropout_ridge(mutating).passed
    assert ex.check_dropout_ridge(_minimiser_augmented).passed  # the cases are intact
