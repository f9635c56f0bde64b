"""Tests for nnbook.exercises.ex10_6_tricks: the additive model, the helpers for partial
dependence, and the seven checks of Exercise 10.6.

Every check must accept the solution page's answer and other correct answers written
differently (scikit-learn instead of NumPy, the SD with ddof 1 instead of 0, ...), reject
plausible wrong answers (a scaler fitted on all the data, a split that is not stratified, n
where sqrt(n) belongs, ...) with a message that names the mistake, and report a stub as "not
attempted". The solution's answers are read from ``solutions/ex10_6_tricks.md`` and the stubs
from the exercise that ``tools/booktool.py`` generates from it. Reference values come from
independent computations: an explicit hat matrix, a direct minimisation of the penalised
likelihood with SciPy, SciPy's statistics and scikit-learn.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notebook_functions import fails, notebook_fixtures, stub
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedShuffleSplit, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    SplineTransformer,
    StandardScaler,
)

from nnbook.data.dataset import stratified_split as nnbook_split
from nnbook.exercises import ex10_6_tricks as ex
from nnbook.pytorch import train
from nnbook.pytorch.early_stopping import EarlyStopping
from nnbook.pytorch.models import make_mlp

matplotlib.use("Agg")

CHECKS = {
    "stratified_split": ex.check_stratified_split,
    "standardise": ex.check_standardise,
    "preprocess_default": ex.check_preprocess_default,
    "network_proba": ex.check_network_proba,
    "binomial_se": ex.check_binomial_se,
    "paired_difference": ex.check_paired_difference,
    "log_features": ex.check_log_features,
}
_FRAMES = ex._default_frames(1, categorical=True)
ARGS = {  # one call of each student function, to see that the stub raises
    "stratified_split": (np.array([0, 1, 0, 1, 0, 1]), 2, 0),
    "standardise": (np.ones((3, 2)), np.ones((2, 2))),
    "preprocess_default": _FRAMES,
    "network_proba": (np.ones((4, 2)), np.array([0, 1, 0, 1]), np.ones((2, 2))),
    "binomial_se": (0.1, 100),
    "paired_difference": (np.ones(3), np.zeros(3)),
    "log_features": (np.ones((2, 2)),),
}


# --------------------------------------------------------------------------- helpers
solution, exercise = notebook_fixtures(
    "ex10_6_tricks.md",
    CHECKS,
    {  # what the page's import cells define, and the settings cell TRAINING = ...
        "np": np,
        "pd": pd,
        "make_mlp": make_mlp,
        "train": train,
        "EarlyStopping": EarlyStopping,
        "fields": dataclasses.fields,
    },
    also=("TRAINING =",),
)


def _passes(check, answer, capsys) -> None:
    assert check(answer).passed
    assert "correct" in capsys.readouterr().out


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
    assert result.passed and result.cases >= 2
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("name", CHECKS)
def test_a_raising_answer_is_reported_readably(name):
    def broken(*args, **kwargs):
        raise ValueError("operands could not be broadcast together")

    fails(CHECKS[name], broken, "raised ValueError: operands could not be broadcast")


@pytest.mark.parametrize("name", ["standardise", "paired_difference", "log_features"])
def test_a_nan_answer_is_reported_readably(name):
    def nan_answer(*args, **kwargs):
        if name == "log_features":
            return np.full(np.shape(args[0]), np.nan)
        if name == "standardise":
            return np.full(np.shape(args[0]), np.nan), np.full(np.shape(args[1]), np.nan)
        return np.nan, np.nan

    fails(CHECKS[name], nan_answer, "NaN")


# --------------------------------------------------------------------------- (a) the split
def _largest_remainder_split(y, n_test, seed):
    """Per class, n_test n_c / n test points rounded by largest remainder; seeded."""
    g = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    share = counts * n_test / len(y)
    quota = np.floor(share).astype(int)
    quota[np.argsort(share - quota)[::-1][: n_test - quota.sum()]] += 1
    test = np.concatenate(
        [g.choice(np.flatnonzero(y == c), q, replace=False) for c, q in zip(classes, quota)]
    )
    return np.setdiff1d(np.arange(len(y)), test), test


def _sss_split(y, n_test, seed):
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_test, random_state=seed)
    return next(splitter.split(np.zeros(len(y)), y))


@pytest.mark.parametrize(
    "answer",
    [
        lambda y, n_test, seed: train_test_split(
            np.arange(len(y)), test_size=n_test, stratify=y, random_state=seed
        ),
        _sss_split,
        lambda y, n_test, seed: nnbook_split(y, n_test, seed=seed),
        _largest_remainder_split,
        lambda y, n_test, seed: [list(part) for part in _sss_split(y, n_test, seed)],
    ],
    ids=["train_test_split", "StratifiedShuffleSplit", "nnbook", "by hand", "lists"],
)
def test_stratified_split_accepts_other_correct_forms(answer, capsys):
    _passes(ex.check_stratified_split, answer, capsys)


def _plain_random(y, n_test, seed):
    order = np.random.default_rng(seed).permutation(len(y))
    return order[n_test:], order[:n_test]


def _masks(y, n_test, seed):
    return tuple(np.isin(np.arange(len(y)), part) for part in _sss_split(y, n_test, seed))


def _with_replacement(y, n_test, seed):
    test = np.random.default_rng(seed).choice(len(y), n_test, replace=True)
    return np.setdiff1d(np.arange(len(y)), test), test


def _fixed_seed(y, n_test, seed):
    return _largest_remainder_split(y, n_test, 0)  # the same split for every seed


@pytest.mark.parametrize(
    "answer, needles",
    [
        (_plain_random, ["not stratified", "expected"]),
        (_with_replacement, ["appears twice"]),
        (lambda y, n_test, seed: (np.arange(n_test, len(y)), np.arange(n_test)), ["stratified"]),
        (_fixed_seed, ["gave the same test set", "random"]),
        (lambda y, n_test, seed: _sss_split(y, n_test, seed)[::-1], ["(test_idx, train_idx)?"]),
        (lambda y, n_test, seed: _sss_split(y, n_test, seed)[1], ["expected a pair"]),
        (_masks, ["boolean mask", "flatnonzero"]),
        (lambda y, n_test, seed: _sss_split(y, n_test, np.random.randint(10**6)), ["seed"]),
    ],
    ids=[
        "not stratified",
        "with replacement",
        "first rows",
        "not random",
        "swapped",
        "one array",
        "masks",
        "ignores the seed",
    ],
)
def test_stratified_split_rejects_wrong_answers(answer, needles):
    fails(ex.check_stratified_split, answer, "Exercise 10.6(a) stratified_split", *needles)


# --------------------------------------------------------------------------- (a) standardise
def _standardise_numpy_ddof1(X_train, X_test):
    mean, sd = X_train.mean(axis=0), X_train.std(axis=0, ddof=1)
    return (X_train - mean) / sd, (X_test - mean) / sd


def _standardise_pandas(X_train, X_test):
    A, B = pd.DataFrame(X_train), pd.DataFrame(X_test)
    return (A - A.mean()) / A.std(), (B - A.mean()) / A.std()  # pandas: ddof = 1


def _standardise_scipy(X_train, X_test):
    mean, sd = X_train.mean(axis=0), np.sqrt(stats.describe(X_train).variance)
    return (X_train - mean) / sd, (X_test - mean) / sd


@pytest.mark.parametrize(
    "answer",
    [
        lambda A, B: (StandardScaler().fit(A).transform(A), StandardScaler().fit(A).transform(B)),
        _standardise_numpy_ddof1,
        _standardise_pandas,
        _standardise_scipy,
    ],
    ids=["StandardScaler", "numpy ddof 1", "pandas", "scipy"],
)
def test_standardise_accepts_other_correct_forms(answer, capsys):
    _passes(ex.check_standardise, answer, capsys)


def _fit_on_all(A, B):
    scaler = StandardScaler().fit(np.vstack([A, B]))
    return scaler.transform(A), scaler.transform(B)


def _fit_each(A, B):
    return StandardScaler().fit_transform(A), StandardScaler().fit_transform(B)


def _in_place(A, B):
    mean, sd = A.mean(axis=0), A.std(axis=0)
    A -= mean
    A /= sd
    B -= mean
    B /= sd
    return A, B


@pytest.mark.parametrize(
    "answer, needles",
    [
        (_fit_on_all, ["training and the test data together", "leaks"]),
        (_fit_each, ["their own mean and SD"]),
        (lambda A, B: (StandardScaler().fit_transform(A), B), ["test data are unchanged"]),
        (lambda A, B: ((A - A.mean(0)) / A.var(0), (B - A.mean(0)) / A.var(0)), ["variance"]),
        (lambda A, B: (A - A.mean(0), B - A.mean(0)), ["centred but not divided"]),
        (_in_place, ["changed its inputs in place"]),
        (lambda A, B: StandardScaler().fit(A).transform(B), ["expected a pair"]),
    ],
    ids=["fit on all", "fit each", "test untouched", "variance", "centred", "in place", "one"],
)
def test_standardise_rejects_wrong_answers(answer, needles):
    fails(ex.check_standardise, answer, "Exercise 10.6(a) standardise", *needles)


# --------------------------------------------------------------------------- (a) Default features
NUMERIC = ["balance", "income"]


def _preprocess_columns(df_train, df_test):
    encode = ColumnTransformer(
        [
            ("scale", StandardScaler(), NUMERIC),
            ("student", OneHotEncoder(drop=["No"], categories=[["No", "Yes"]]), ["student"]),
        ],
        sparse_threshold=0,
    )
    return encode.fit_transform(df_train), encode.transform(df_test)


def _preprocess_pandas(df_train, df_test):
    mean, sd = df_train[NUMERIC].mean(), df_train[NUMERIC].std()  # ddof = 1

    def encode(df):
        out = (df[NUMERIC] - mean) / sd
        out["student"] = (df["student"] == "Yes").astype(int)
        return out

    return encode(df_train), encode(df_test)


@pytest.mark.parametrize(
    "answer", [_preprocess_columns, _preprocess_pandas], ids=["ColumnTransformer", "pandas"]
)
def test_preprocess_default_accepts_other_correct_forms(answer, capsys):
    _passes(ex.check_preprocess_default, answer, capsys)


def _preprocess_with(scale, student):
    """A preprocessing that scales with ``scale(A, B)`` and encodes ``student(df)``."""

    def preprocess(df_train, df_test):
        A, B = df_train[NUMERIC].to_numpy(float), df_test[NUMERIC].to_numpy(float)
        Z_train, Z_test = scale(A, B)
        return (
            np.column_stack([Z_train, student(df_train)]),
            np.column_stack([Z_test, student(df_test)]),
        )

    return preprocess


def _yes(df):
    return (df["student"] == "Yes").to_numpy(float)


def _standardised_student(df_train, df_test):
    X_train, X_test = _preprocess_columns(df_train, df_test)
    scaler = StandardScaler().fit(X_train)  # all three columns, the dummy too
    return scaler.transform(X_train), scaler.transform(X_test)


@pytest.mark.parametrize(
    "answer, needles",
    [
        (_preprocess_with(_fit_on_all, _yes), ["leaks"]),
        (_preprocess_with(_fit_each, _yes), ["their own mean and SD"]),
        (_preprocess_with(_standardise_numpy_ddof1, lambda df: 1 - _yes(df)), ["'Yes' as 0"]),
        (_standardised_student, ["do not standardise it"]),
        (
            lambda a, b: tuple(X[:, [1, 0, 2]] for X in _preprocess_columns(a, b)),
            ["order income, balance"],
        ),
        (lambda a, b: tuple(X[:, :2] for X in _preprocess_columns(a, b)), ["shape", "(60, 3)"]),
    ],
    ids=["fit on all", "fit each", "Yes as 0", "student standardised", "swapped", "no student"],
)
def test_preprocess_default_rejects_wrong_answers(answer, needles):
    fails(ex.check_preprocess_default, answer, "Exercise 10.6(a) preprocess_default", *needles)


# --------------------------------------------------------------------------- (b) the network
def _logistic(X_train, y_train, X_test, **tricks):
    """Any classifier meets the contract: here one that ignores the tricks."""
    return LogisticRegression().fit(X_train, y_train).predict_proba(X_test)[:, 1]


def _sklearn_mlp(X_train, y_train, X_test, *, seed=0, **tricks):
    """scikit-learn's network, full-batch L-BFGS; alpha is its L2 penalty."""
    s = {"width": 10, "weight_decay": 0.0, **tricks}
    net = MLPClassifier(
        hidden_layer_sizes=(s["width"],),
        alpha=s["weight_decay"],
        solver="lbfgs",
        max_iter=300,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return net.fit(X_train, y_train).predict_proba(X_test)[:, 1]


@pytest.mark.parametrize("answer", [_logistic, _sklearn_mlp], ids=["logistic", "sklearn MLP"])
def test_network_proba_accepts_other_correct_forms(answer, capsys):
    _passes(ex.check_network_proba, answer, capsys)


def _unseeded(X_train, y_train, X_test, **tricks):
    rows = np.random.default_rng().choice(len(y_train), len(y_train))  # a fresh bootstrap
    return _logistic(X_train[rows], y_train[rows], X_test)


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda *a, **k: 1 - _logistic(*a, **k), ["P(y = 0 | x)", "not below the null rate"]),
        (lambda Xa, ya, Xb, **k: np.full(len(Xb), ya.mean()), ["not below the null rate"]),
        (lambda *a, **k: (_logistic(*a, **k) > 0.5).astype(float), ["not labels"]),
        (
            lambda Xa, ya, Xb, **k: LogisticRegression().fit(Xa, ya).predict_proba(Xb),
            ["the column [:, 1]"],
        ),
        (
            lambda Xa, ya, Xb, **k: LogisticRegression().fit(Xa, ya).decision_function(Xb),
            ["not probabilities"],
        ),
        (_unseeded, ["different probabilities", "seed"]),
        (lambda Xa, ya, Xb, **k: _logistic(Xa, ya, Xb)[:-1], ["shape (1000,)"]),
    ],
    ids=["P(y=0)", "constant", "labels", "two columns", "logits", "unseeded", "short"],
)
def test_network_proba_rejects_wrong_answers(answer, needles):
    fails(ex.check_network_proba, answer, "Exercise 10.6(b) network_proba", *needles)


def test_network_proba_must_accept_the_tricks():
    def no_tricks(X_train, y_train, X_test, *, seed=0):
        return _logistic(X_train, y_train, X_test)

    fails(ex.check_network_proba, no_tricks, "raised TypeError", "unexpected keyword")


def test_the_network_check_data_can_be_classified_below_the_null_rate():
    X_train, y_train, X_test, y_test = ex.network_check_data()
    assert X_train.shape == (1500, 3) and X_test.shape == (1000, 3)
    p = 1 / (1 + np.exp(-(-3.0 + 2.0 * X_test[:, 0] + 1.5 * X_test[:, 1] ** 2)))
    bayes = np.mean((p > 0.5) != y_test)
    null = min(y_test.mean(), 1 - y_test.mean())
    assert 0.1 < null < 0.4 and bayes < null - 0.1  # the check asks for something possible


# --------------------------------------------------------------------------- (c) standard errors
@pytest.mark.parametrize(
    "answer",
    [
        lambda e, n: math.sqrt(e * (1 - e) / n),
        lambda e, n: stats.binom.std(n, e) / n,
        lambda e, n: np.sqrt(e - e**2) / np.sqrt(n),
        lambda e, n: [np.sqrt(e * (1 - e) / n)],
    ],
    ids=["math", "scipy binom", "rewritten", "in a list"],
)
def test_binomial_se_accepts_other_correct_forms(answer, capsys):
    _passes(ex.check_binomial_se, answer, capsys)


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda e, n: e * (1 - e) / n, ["square root", "variance"]),
        (lambda e, n: np.sqrt(e * (1 - e)) / n, ["sqrt(n), not n"]),
        (lambda e, n: np.sqrt(e / n), ["e(1 - e), not e"]),
        (lambda e, n: np.sqrt(e * (1 - e)), ["SD of one 0/1 error"]),
        (lambda e, n: None, ["None"]),
        (lambda e, n: float("nan"), ["NaN"]),
    ],
    ids=["variance", "over n", "no 1 - e", "no n", "None", "NaN"],
)
def test_binomial_se_rejects_wrong_answers(answer, needles):
    fails(ex.check_binomial_se, answer, "Exercise 10.6(c) binomial_se", *needles)


def _paired_by_covariance(a, b):
    n = len(a)
    var = a.var(ddof=1) + b.var(ddof=1) - 2 * np.cov(a, b, ddof=1)[0, 1]
    return np.mean(a) - np.mean(b), np.sqrt(max(var, 0.0) / n)


@pytest.mark.parametrize(
    "answer",
    [
        lambda a, b: (np.mean(a - b), stats.sem(a - b)),
        lambda a, b: [np.mean(a - b), np.std(a - b) / np.sqrt(len(a))],  # ddof 0
        _paired_by_covariance,
        lambda a, b: np.array([np.mean(a - b), stats.sem(a - b)]),
    ],
    ids=["scipy sem", "ddof 0", "by covariance", "an array"],
)
def test_paired_difference_accepts_other_correct_forms(answer, capsys):
    _passes(ex.check_paired_difference, answer, capsys)


@pytest.mark.parametrize(
    "answer, needles",
    [
        (
            lambda a, b: (np.mean(a - b), np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))),
            ["ignores the pairing"],
        ),
        (lambda a, b: (np.mean(a - b), np.std(a - b, ddof=1) / len(a)), ["sqrt(n), not n"]),
        (lambda a, b: (np.mean(a - b), np.std(a - b, ddof=1)), ["SD of one difference"]),
        (lambda a, b: (np.mean(b - a), stats.sem(a - b)), ["loss_a - loss_b"]),
        (lambda a, b: np.mean(a - b), ["expected a pair"]),
    ],
    ids=["unpaired", "over n", "no sqrt n", "sign", "no SE"],
)
def test_paired_difference_rejects_wrong_answers(answer, needles):
    fails(ex.check_paired_difference, answer, "Exercise 10.6(c) paired_difference", *needles)


# --------------------------------------------------------------------------- (d) log features
@pytest.mark.parametrize(
    "answer",
    [
        lambda X: np.log(X + 0.1),
        lambda X: np.log1p(X - 0.9),
        lambda X: FunctionTransformer(lambda A: np.log(A + 0.1)).fit_transform(X),
        lambda X: pd.DataFrame(X).add(0.1).apply(np.log),
    ],
    ids=["numpy", "log1p", "FunctionTransformer", "pandas"],
)
def test_log_features_accepts_other_correct_forms(answer, capsys):
    _passes(ex.check_log_features, answer, capsys)


def _log_in_place(X):
    X += 0.1
    return np.log(X)


@pytest.mark.parametrize(
    "answer, needles",
    [
        (np.log1p, ["log(x + 1)"]),
        (lambda X: np.log10(X + 0.1), ["natural logarithm"]),
        (lambda X: np.log(X) + 0.1, ["log(0) = -inf"]),
        (_log_in_place, ["changed X in place"]),
        (lambda X: X + 0.1, ["Take the log"]),
    ],
    ids=["log1p", "log10", "log x", "in place", "no log"],
)
def test_log_features_rejects_wrong_answers(answer, needles):
    with np.errstate(divide="ignore"):
        fails(ex.check_log_features, answer, "Exercise 10.6(d) log_features", *needles)


# --------------------------------------------------------------------------- the additive model
def _basis(n=60, n_knots=6, seed=0):
    x = np.sort(np.random.default_rng(seed).uniform(-2, 3, n))
    B = SplineTransformer(n_knots=n_knots, degree=3).fit_transform(x[:, None])
    return x, B


def test_second_difference_penalty_leaves_lines_alone_and_has_rank_m_minus_2():
    m = 9
    P = ex.second_difference_penalty(m)
    np.testing.assert_allclose(P @ np.ones(m), 0, atol=1e-12)
    np.testing.assert_allclose(P @ np.arange(m), 0, atol=1e-12)
    assert np.linalg.matrix_rank(P) == m - 2
    beta = np.random.default_rng(0).normal(size=m)
    assert math.isclose(beta @ P @ beta, np.sum(np.diff(beta, n=2) ** 2))


@settings(max_examples=25, deadline=None)
@given(log_lam=st.floats(-4, 4, allow_subnormal=False), seed=st.integers(0, 1000))
def test_smoother_df_is_the_trace_of_the_hat_matrix_minus_one(log_lam, seed):
    x, B = _basis(seed=seed)
    P = ex.second_difference_penalty(B.shape[1])
    lam = 10.0**log_lam
    S = B @ np.linalg.inv(B.T @ B + lam * P) @ B.T  # fitted values = S y
    assert math.isclose(ex.smoother_df(B, P, lam), np.trace(S) - 1, rel_tol=1e-8)


def test_smoother_df_falls_from_the_basis_size_to_a_straight_line():
    x, B = _basis()
    P = ex.second_difference_penalty(B.shape[1])
    dfs = [ex.smoother_df(B, P, 10.0**t) for t in range(-6, 9)]
    assert all(a > b for a, b in zip(dfs, dfs[1:]))
    assert math.isclose(dfs[0], B.shape[1] - 1, rel_tol=1e-4)
    assert math.isclose(dfs[-1], 1.0, rel_tol=1e-4)  # a line: constant + slope, minus 1


@pytest.mark.parametrize("df", [1.5, 3.0, 4.0, 6.0])
def test_lambda_for_df_reaches_the_requested_df(df):
    x, B = _basis()
    P = ex.second_difference_penalty(B.shape[1])
    assert math.isclose(ex.smoother_df(B, P, ex.lambda_for_df(B, P, df)), df, abs_tol=1e-6)


def test_lambda_for_df_returns_the_smallest_lambda_when_df_is_out_of_reach():
    x, B = _basis()
    P = ex.second_difference_penalty(B.shape[1])
    assert ex.lambda_for_df(B, P, 50.0) == 1e-8


def _additive_data(n=300, seed=3):
    g = np.random.default_rng(seed)
    X = g.uniform(-2, 2, size=(n, 2))
    logit = 0.5 + np.sin(2 * X[:, 0]) + 0.8 * X[:, 1]
    return X, (g.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


def test_additive_logistic_maximises_the_penalised_likelihood():
    """Against a direct minimisation, in the B-spline coefficients, of
    -loglik + (1/2) sum_j lambda_j beta_j^T P beta_j (intercept and lines unpenalised)."""
    X, y = _additive_data()
    gam = ex.AdditiveLogistic(df=4, n_knots=6).fit(X, y)
    Bs = [
        SplineTransformer(n_knots=6, degree=3, extrapolation="linear").fit_transform(X[:, [j]])
        for j in range(2)
    ]
    P = ex.second_difference_penalty(Bs[0].shape[1])
    lams = [ex.lambda_for_df(B, P, 4.0) for B in Bs]
    np.testing.assert_allclose(gam.lambdas_, lams, rtol=1e-6)
    D = np.column_stack([np.ones(len(y)), *Bs])  # intercept, then both bases
    m = Bs[0].shape[1]
    penalty = np.zeros((1 + 2 * m, 1 + 2 * m))
    for j, lam in enumerate(lams):
        penalty[1 + j * m : 1 + (j + 1) * m, 1 + j * m : 1 + (j + 1) * m] = lam * P
    theta = np.zeros(1 + 2 * m)
    for _ in range(50):  # Newton's method on -loglik + (1/2) theta^T penalty theta
        p = 1 / (1 + np.exp(-D @ theta))
        gradient = D.T @ (p - y) + penalty @ theta
        hessian = D.T @ (D * (p * (1 - p))[:, None]) + penalty
        theta -= np.linalg.solve(hessian, gradient)
    assert np.max(np.abs(gradient)) < 1e-9
    np.testing.assert_allclose(gam.decision_function(X), D @ theta, atol=1e-4)
    np.testing.assert_allclose(gam.df_, 4.0, atol=1e-6)


def test_additive_logistic_is_the_sum_of_its_partial_effects():
    X, y = _additive_data()
    gam = ex.AdditiveLogistic(df=4, n_knots=6).fit(X, y)
    parts = sum(gam.partial_effect(j, X[:, j]) for j in range(2))
    np.testing.assert_allclose(gam.decision_function(X), gam.logistic_.intercept_[0] + parts)
    proba = gam.predict_proba(X)[:, 1]
    np.testing.assert_allclose(proba, 1 / (1 + np.exp(-gam.decision_function(X))))
    np.testing.assert_array_equal(gam.predict(X), (proba > 0.5).astype(int))
    grid = np.linspace(-2, 2, 50)
    assert np.corrcoef(gam.partial_effect(0, grid), np.sin(2 * grid))[0, 1] > 0.9  # the truth


def test_additive_logistic_validates_its_inputs():
    with pytest.raises(ValueError, match="expected"):
        ex.AdditiveLogistic(df=0.0)
    gam = ex.AdditiveLogistic().fit(*_additive_data())
    with pytest.raises(ValueError, match="expected X of shape"):
        gam.predict(np.ones((3, 5)))


# --------------------------------------------------------------------------- partial dependence
def test_logit_inverts_the_sigmoid_and_clips():
    z = np.linspace(-8, 8, 17)
    np.testing.assert_allclose(ex.logit(1 / (1 + np.exp(-z))), z, atol=1e-9)
    assert np.all(np.isfinite(ex.logit([0.0, 1.0])))
    assert ex.logit([1.0])[0] == pytest.approx(np.log((1 - 1e-6) / 1e-6))


def test_replace_column_stacks_one_copy_per_value():
    X = np.arange(12.0).reshape(4, 3)
    Q = ex.replace_column(X, 1, [10.0, 20.0])
    assert Q.shape == (8, 3)
    np.testing.assert_array_equal(Q[:4, [0, 2]], X[:, [0, 2]])
    np.testing.assert_array_equal(Q[:4, 1], 10.0)
    np.testing.assert_array_equal(Q[4:, 1], 20.0)
    np.testing.assert_array_equal(X, np.arange(12.0).reshape(4, 3))  # unchanged


def test_partial_dependence_of_an_additive_model_is_its_component():
    X, y = _additive_data()
    gam = ex.AdditiveLogistic(df=4, n_knots=6).fit(X, y)
    grid = np.linspace(-1.5, 1.5, 7)
    pd_curve = gam.decision_function(ex.replace_column(X, 0, grid)).reshape(7, -1).mean(axis=1)
    f = gam.partial_effect(0, grid)
    np.testing.assert_allclose(pd_curve - pd_curve.mean(), f - f.mean(), atol=1e-10)


# --------------------------------------------------------------------------- numbers, figures
def test_the_published_numbers_are_error_rates_with_a_source():
    assert pytest.approx(333 / 10000, abs=5e-5) == ex.ISL_NULL_RATE
    for rate, where in ex.ESL_SPAM_ERRORS.values():
        assert 0 < rate < 0.1 and ("Section" in where or "Table" in where)
    assert set(ex.ISL_TABLE_4_3) == {"intercept", "balance", "income (per $1000)", "student[Yes]"}


def test_the_plotting_helpers_draw_every_series():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    b = np.linspace(0, 2700, 10)
    curves = [1 / (1 + np.exp(-(b - c) / 200)) for c in (1900, 2100, 1950)]
    ex.plot_default_curves(ax, b, *curves, np.array([curves[1], curves[1] + 0.01]))
    assert len(ax.lines) == 1 + 2 + 1 + 1 + 1  # logistic, 2 networks, average, other, 0.5
    plt.close(fig)
    fig, axes = plt.subplots(2, 2)
    grids = [np.linspace(0, 5, 8)] * 4
    curves = [np.sin(g) for g in grids]
    ex.plot_partial_effects(axes, list("abcd"), grids, curves, curves, [np.arange(5.0)] * 4)
    assert all(len(ax.lines) == 3 for ax in axes.flat)
    plt.close(fig)


def _effective_df(gam, X):
    """tr((Z^T W Z + Pen)^{-1} Z^T W Z) of the fitted logistic regression, Z with intercept."""
    Z = np.column_stack([np.ones(len(X)), gam.design(X)])
    p = gam.predict_proba(X)[:, 1]
    ZtWZ = Z.T @ (Z * (p * (1 - p))[:, None])
    penalty = np.eye(Z.shape[1])
    penalty[0, 0] = 0.0  # the intercept is not penalised
    return np.trace(np.linalg.solve(ZtWZ + penalty, ZtWZ))


def test_additive_logistic_agrees_with_pygam():
    """pygam's LogisticGAM (installed with ISLP) fits the same kind of model with its own basis
    and penalty scale. At about the same effective degrees of freedom of the joint fit, the
    fitted logits must agree closely (not exactly)."""
    pygam = pytest.importorskip("pygam")
    X, y = _additive_data(n=600, seed=5)
    gam = ex.AdditiveLogistic(df=4, n_knots=8).fit(X, y)
    edf = _effective_df(gam, X)
    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lam in (1.0, 3.0, 10.0, 30.0, 100.0):
            fits.append(pygam.LogisticGAM(pygam.s(0) + pygam.s(1), lam=lam).fit(X, y))
    theirs = min(fits, key=lambda f: abs(f.statistics_["edof"] - edf))
    assert abs(theirs.statistics_["edof"] - edf) < 0.25 * edf
    logit_theirs = ex.logit(theirs.predict_proba(X))
    assert np.corrcoef(gam.decision_function(X), logit_theirs)[0, 1] > 0.98
