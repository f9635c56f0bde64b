"""Exercise 10.6, the tricks of the trade on real data: ISL Exercise 10.10.7 (the Default data)
and ESL Exercise 11.7 (the spam data), and the checks of the student's answers.

This module holds

* the published numbers the page prints beside ours (:data:`ISL_TABLE_4_3`,
  :data:`ISL_NULL_RATE`, :data:`ESL_SPAM_ERRORS`), each with its section;
* :class:`AdditiveLogistic`, the additive logistic regression of ESL Section 9.1.2,

      logit P(y = 1 | x) = alpha + sum_j f_j(x_j),

  each f_j a cubic spline whose roughness penalty lambda_j gives it a nominal four degrees of
  freedom, fitted with scikit-learn's ``SplineTransformer`` and ``LogisticRegression``
  (:func:`smoother_df`, :func:`lambda_for_df`, :func:`second_difference_penalty`);
* :func:`logit` and :func:`replace_column`, for partial dependence by hand;
* the figures (:func:`plot_default_curves`, :func:`plot_partial_effects`);
* the checks, ``check_<function>(student_function)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import SplineTransformer

from .._util import as_array, positive_float, positive_int
from ..viz.plots import PALETTE
from .checks import Result, as_numeric, call, fail, fmt, passed, run

Array = np.ndarray

# --------------------------------------------------------------------------- published numbers
#: ISL (2nd ed.) Table 4.3, Section 4.3.4: logistic regression of ``default`` on ``balance``
#: (dollars), ``income`` (thousands of dollars) and ``student[Yes]``, fitted to all 10,000 rows.
ISL_TABLE_4_3: dict[str, float] = {
    "intercept": -10.8690,
    "balance": 0.0057,
    "income (per $1000)": 0.0030,
    "student[Yes]": -0.6468,
}

#: ISL Section 4.4.2: "only 3.33% of the individuals in the training sample defaulted", the
#: error rate of the null classifier that always predicts "no default".
ISL_NULL_RATE: float = 0.0333

#: Test error rates ESL reports on the spam data (its own split, 3,065 training and 1,536 test
#: e-mails), with the place where each is stated.
ESL_SPAM_ERRORS: dict[str, tuple[float, str]] = {
    "additive logistic regression": (0.053, "Section 9.1.2, text"),
    "additive logistic regression (Table 9.1)": (0.055, "Table 9.1 caption; Section 10.8"),
    "linear logistic regression": (0.076, "Section 9.1.2"),
    "gradient boosting": (0.045, "Section 10.8"),
    "MARS": (0.055, "Section 10.8"),
    "CART, pruned by cross-validation": (0.087, "Section 10.8"),
}

#: ESL Section 10.8: "The standard error of these estimates is around 0.6%".
ESL_SPAM_SE: float = 0.006


# --------------------------------------------------------------------------- the additive model
def second_difference_penalty(m: int) -> Array:
    """P = D^T D for the second differences (D beta)_k = beta_k - 2 beta_{k+1} + beta_{k+2}.

    On B-spline coefficients beta with equally spaced knots, beta^T P beta is the discrete
    analogue of the roughness int f''(x)^2 dx (a P-spline): zero for constant and linear f,
    and large for wiggly ones. Shape ``(m, m)``, rank m - 2.
    """
    m = positive_int(m, "m", minimum=3)
    D = np.diff(np.eye(m), n=2, axis=0)
    return D.T @ D


def smoother_df(B: Any, P: Any, lam: float) -> float:
    """ESL's degrees of freedom of a penalised spline smoother, df = trace(S_lambda) - 1.

    S_lambda = B (B^T B + lambda P)^{-1} B^T maps responses y to the fitted values of
    min ||y - B beta||^2 + lambda beta^T P beta, for the basis B (n, m) evaluated at the
    observed x_i. The constant is not counted (ESL Section 9.1.2: trace[S_j] - 1 = 4).
    """
    B = as_array(B, "B", shape=("n", "m"))
    BtB = B.T @ B
    return float(np.trace(np.linalg.solve(BtB + lam * np.asarray(P), BtB))) - 1.0


def lambda_for_df(
    B: Any, P: Any, df: float, *, log10_range: tuple[float, float] = (-8, 8)
) -> float:
    """The penalty lambda with ``smoother_df(B, P, lambda) = df``, found by bisection (Brent).

    df falls from (rank B) - 1 at lambda -> 0 to 1 (a straight line) at lambda -> infinity. If
    even the smallest lambda in ``log10_range`` gives less than ``df`` (a feature with few
    distinct values), that lambda is returned.
    """
    df = positive_float(df, "df")

    def excess(t: float) -> float:
        return smoother_df(B, P, 10.0**t) - df

    lo, hi = log10_range
    if excess(lo) <= 0:
        return 10.0**lo
    if excess(hi) >= 0:
        return 10.0**hi
    return 10.0 ** optimize.brentq(excess, lo, hi, xtol=1e-8)


class AdditiveLogistic:
    """Additive logistic regression with penalised cubic splines (ESL Section 9.1.2).

    The model is logit P(y = 1 | x) = alpha + sum_j f_j(x_j) with f_j(x) = b_j(x)^T beta_j, a
    cubic B-spline basis b_j with ``n_knots`` equally spaced knots over the training range of
    x_j (linear beyond it). It maximises the penalised log-likelihood

        sum_i log P(y_i | x_i) - (1/2) sum_j lambda_j beta_j^T P beta_j,

    with P the second-difference penalty (:func:`second_difference_penalty`). As in ESL, each
    lambda_j is set once, before the fit, so that the smoother of feature j alone has
    ``df`` = 4 degrees of freedom (:func:`smoother_df`, :func:`lambda_for_df`); ``df_`` holds
    the values reached and ``lambdas_`` the penalties.

    The fit is scikit-learn's ``LogisticRegression`` (Newton's method), whose penalty is
    (1/2)||w||^2 with C = 1. To make that penalty equal the one above, each f_j is written in
    new coordinates: with P = U diag(e) U^T, the columns b_j(x)^T U_k / sqrt(lambda_j e_k) for
    the m - 2 eigenvalues e_k > 0 carry the penalised part, and the standardised x_j, scaled by
    ``LINEAR_SCALE``, the linear part that P leaves unpenalised (its penalty shrinks to
    (1/2) w^2 / LINEAR_SCALE^2, negligible). The constant of each f_j is the intercept's job.
    """

    #: How much the unpenalised linear column of each feature is scaled up.
    LINEAR_SCALE = 100.0

    def __init__(self, df: float = 4.0, n_knots: int = 8) -> None:
        self.df = positive_float(df, "df")
        self.n_knots = positive_int(n_knots, "n_knots", minimum=2)

    def _feature(self, x: Array) -> dict[str, Any]:
        """The spline basis, penalty, lambda and change of coordinates of one feature."""
        spline = SplineTransformer(n_knots=self.n_knots, degree=3, extrapolation="linear")
        B = spline.fit_transform(x[:, None])
        P = second_difference_penalty(B.shape[1])
        lam = lambda_for_df(B, P, self.df)
        e, U = np.linalg.eigh(P)
        keep = e > 1e-9 * e.max()  # the m - 2 penalised directions
        return dict(
            spline=spline,
            lam=lam,
            df=smoother_df(B, P, lam),
            coords=U[:, keep] / np.sqrt(lam * e[keep]),
            centre=x.mean(),
            scale=x.std() if x.std() > 0 else 1.0,
        )

    def _columns(self, j: int, x: Array) -> Array:
        f = self.features_[j]
        B = f["spline"].transform(np.asarray(x, dtype=float)[:, None])
        linear = self.LINEAR_SCALE * (x - f["centre"]) / f["scale"]
        return np.column_stack([B @ f["coords"], linear])

    def design(self, X: Any) -> Array:
        """The columns of all features, side by side: the input of the logistic regression."""
        X = as_array(X, "X", shape=("n", self.n_features_in_))
        return np.hstack([self._columns(j, X[:, j]) for j in range(X.shape[1])])

    def fit(self, X: Any, y: Any) -> AdditiveLogistic:
        """Fit to ``X`` (n, d) and labels ``y`` in {0, 1} (n,); returns ``self``."""
        X = as_array(X, "X", shape=("n", "d"))
        y = as_array(y, "y", shape=(X.shape[0],))
        self.n_features_in_ = X.shape[1]
        self.features_ = [self._feature(X[:, j]) for j in range(X.shape[1])]
        self.lambdas_ = np.array([f["lam"] for f in self.features_])
        self.df_ = np.array([f["df"] for f in self.features_])
        self.logistic_ = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-10)
        self.logistic_.fit(self.design(X), y)
        return self

    def decision_function(self, X: Any) -> Array:
        """The logit alpha + sum_j f_j(x_j) for each row of ``X``, shape ``(n,)``."""
        return self.logistic_.decision_function(self.design(X))

    def predict_proba(self, X: Any) -> Array:
        """P(y = 0 | x) and P(y = 1 | x) for each row, shape ``(n, 2)``."""
        return self.logistic_.predict_proba(self.design(X))

    def predict(self, X: Any) -> Array:
        """The class with the larger probability, shape ``(n,)``."""
        return self.logistic_.predict(self.design(X))

    def partial_effect(self, j: int, x: Any) -> Array:
        """f_j(x) at the values ``x`` (k,) of feature j, on the logit scale (up to a constant)."""
        x = as_array(x, "x", ndim=1)
        start = sum(f["coords"].shape[1] + 1 for f in self.features_[:j])
        cols = self._columns(j, x)
        return cols @ self.logistic_.coef_[0, start : start + cols.shape[1]]


# --------------------------------------------------------------------------- partial dependence
def logit(p: Any, eps: float = 1e-6) -> Array:
    """log(p / (1 - p)), with p clipped to [eps, 1 - eps] (float32 probabilities can be 1.0)."""
    p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


def replace_column(X: Any, j: int, values: Any) -> Array:
    """Copies of ``X`` (n, d) with column j set to each of ``values`` (k,), stacked: (k n, d).

    Rows ``i n ... (i + 1) n - 1`` hold all of X with x_j = values[i]. The network's average
    logit over each block is its partial dependence on x_j at values[i] (ESL Section 10.13.2).
    """
    X = as_array(X, "X", shape=("n", "d"))
    values = as_array(values, "values", ndim=1)
    out = np.repeat(X[None], len(values), axis=0)
    out[:, :, j] = values[:, None]
    return out.reshape(-1, X.shape[1])


# --------------------------------------------------------------------------- figures
def plot_default_curves(ax, balance, p_logistic, p_average, p_no_dropout, p_networks) -> None:
    """P(default) against balance: logistic regression (solid), each base network (thin dotted),
    their average (dashed) and the average of the networks without dropout (dash-dotted), with
    the threshold 0.5 (grey)."""
    ax.plot(balance, p_logistic, color=PALETTE["blue"], lw=2.2, label="logistic regression")
    for k, p in enumerate(p_networks):
        label = r"networks, $\phi = 0.4$, one per seed" if k == 0 else None
        ax.plot(balance, p, ":", color=PALETTE["orange"], lw=0.9, label=label)
    ax.plot(balance, p_average, "--", color=PALETTE["vermillion"], lw=2.2, label="their average")
    ax.plot(
        balance, p_no_dropout, "-.", color=PALETTE["green"], lw=2.2, label="no dropout, average"
    )
    ax.axhline(0.5, color="0.5", lw=0.8)
    ax.set(xlabel="balance (dollars)", ylabel="P(default)", ylim=(-0.02, 1.02))
    ax.legend(loc="upper left", fontsize=8)


#: Where :func:`plot_partial_effects` puts its ticks, in the original units of a feature.
TICKS = (0, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000)


def plot_partial_effects(axes, names, grids, additive, network, rugs) -> None:
    """One panel per feature: the additive model's f_j (solid) and the network's partial
    dependence (dashed), both centred, against the feature x on the log(x + 0.1) scale (ticks
    labelled in the original units), with a rug of training values along the bottom."""
    for ax, name, x, f, g, rug in zip(axes.flat, names, grids, additive, network, rugs):
        u = np.log(np.asarray(x) + 0.1)
        ax.plot(u, f, color=PALETTE["blue"], lw=2, label="additive model $f_j$")
        ax.plot(u, g, "--", color=PALETTE["vermillion"], lw=2, label="network: partial dep.")
        rug_u = np.log(np.asarray(rug)[np.asarray(rug) <= np.max(x)] + 0.1)
        bottom = ax.get_xaxis_transform()  # x in data units, y in axes units
        ax.plot(rug_u, 0 * rug_u, "|", color="black", ms=8, alpha=0.3, transform=bottom)
        ticks = [t for t in TICKS if np.min(x) <= t <= np.max(x)]
        ax.set_xticks(np.log(np.array(ticks) + 0.1), [f"{t:g}" for t in ticks])
        ax.set(title=name, xlabel=f"{name} (log scale)", ylabel="effect on the logit")
    axes.flat[0].legend(fontsize=8)


__all__ = [
    "ISL_TABLE_4_3",
    "ISL_NULL_RATE",
    "ESL_SPAM_ERRORS",
    "ESL_SPAM_SE",
    "second_difference_penalty",
    "smoother_df",
    "lambda_for_df",
    "AdditiveLogistic",
    "logit",
    "replace_column",
    "plot_default_curves",
    "plot_partial_effects",
]


# =========================================================================== the checks
# Each check calls the student's function on inputs drawn from a fixed seed, tests the property
# that any correct answer has (a partition that keeps the class proportions, a scaler whose
# parameters are the training statistics, ...), and names the input that went wrong. When the
# answer matches a known mistake (the scaler fitted on all the data, n where sqrt(n) belongs,
# ...) it says so.

_SPLIT = "Exercise 10.6(a) stratified_split"
_STANDARDISE = "Exercise 10.6(a) standardise"
_PREPROCESS = "Exercise 10.6(a) preprocess_default"
_NETWORK = "Exercise 10.6(b) network_proba"
_BINOMIAL = "Exercise 10.6(c) binomial_se"
_PAIRED = "Exercise 10.6(c) paired_difference"
_LOG = "Exercise 10.6(d) log_features"


def _pair(title: str, got: Any, what: str) -> tuple[Any, Any]:
    """The two parts of a returned pair (a tuple, a list or an array of length 2)."""
    if isinstance(got, np.ndarray) and got.ndim >= 1 and len(got) == 2:
        return got[0], got[1]
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        shown = type(got).__name__ if not isinstance(got, (tuple, list)) else f"{len(got)} items"
        raise fail(title, f"expected a pair {what}, got {shown}")
    return got[0], got[1]


def _hint(got: Array, candidates: dict[str, Any], rtol: float = 1e-6) -> str:
    """The first known mistake whose result equals ``got``, as a sentence ('' if none)."""
    for message, value in candidates.items():
        value = np.asarray(value, dtype=float)
        if value.shape == got.shape and np.allclose(got, value, rtol=rtol, atol=1e-9):
            return " " + message
    return ""


def _scalar(got: Any) -> Any:
    """A one-element list or array as a 0-d array (a scalar in a box is still right)."""
    if isinstance(got, (list, tuple, np.ndarray)) and np.size(got) == 1:
        return np.reshape(np.asarray(got, dtype=float), ())
    return got


# --------------------------------------------------------------------------- (a) the split
def _split_cases() -> list[tuple[Array, int, int]]:
    """(y, n_test, seed): classes sorted by label, 30% positives, three classes, Default-like."""
    g = np.random.default_rng(610)
    sorted_rare = np.r_[np.zeros(970), np.ones(30)].astype(int)  # all positives at the end
    thirty = (g.random(3000) < 0.3).astype(int)
    three = g.choice(3, size=500, p=[0.5, 0.3, 0.2])
    default_like = g.permutation(np.r_[np.zeros(9667), np.ones(333)].astype(int))
    return [(sorted_rare, 300, 0), (thirty, 1000, 1), (three, 123, 2), (default_like, 3000, 3)]


def _indices(title: str, value: Any, n: int, what: str) -> Array:
    """An index array into range(n), or a failure saying what it is instead."""
    arr = np.asarray(value)
    if arr.dtype == bool:
        raise fail(title, f"{what} is a boolean mask: return index arrays (np.flatnonzero(mask))")
    arr = as_numeric(title, value, what)
    if (
        arr.ndim != 1
        or np.any(arr != np.round(arr))
        or (arr.size and (arr.min() < 0 or arr.max() >= n))
    ):
        raise fail(title, f"{what} should be a 1-D array of indices 0..{n - 1}")
    return arr.astype(int)


def _one_split(title: str, fn: Callable, y: Array, n_test: int, seed: int) -> tuple[Array, Array]:
    n = len(y)
    where = f"for y with {n} labels, n_test = {n_test}, seed = {seed}"
    train, test = _pair(title, call(title, fn, y.copy(), n_test, seed), "(train_idx, test_idx)")
    train = _indices(title, train, n, f"train_idx {where}")
    test = _indices(title, test, n, f"test_idx {where}")
    if len(test) != n_test:
        swapped = " Did you return (test_idx, train_idx)?" if len(train) == n_test else ""
        raise fail(title, f"{where}: test_idx has {len(test)} indices, expected {n_test}.{swapped}")
    if len(np.unique(test)) < len(test) or len(np.unique(train)) < len(train):
        raise fail(title, f"{where}: an index appears twice: draw without replacement")
    both = np.intersect1d(train, test)
    if both.size:
        raise fail(title, f"{where}: index {both[0]} is in both sets: they must not overlap")
    if len(train) + len(test) != n:
        raise fail(title, f"{where}: the two sets hold {len(train) + len(test)} of the {n} points")
    for c in np.unique(y):
        n_c, got_c = int(np.sum(y == c)), int(np.sum(y[test] == c))
        share = n_test * n_c / n
        if abs(got_c - share) > 1:
            raise fail(
                title,
                f"{where}: the test set has {got_c} points of class {c}, expected "
                f"{share:.1f} (n_test x {n_c}/{n}), up to rounding: the split is not stratified",
            )
    return train, test


def check_stratified_split(stratified_split: Callable) -> Result:
    """Check ``stratified_split(y, n_test, seed)``: a pair (train_idx, test_idx) of index arrays
    that partition range(len(y)), with n_test test points, each class's share of the test set
    within one point of n_test n_c / n, the same split for the same seed and another for
    another seed."""
    title = _SPLIT

    def body() -> Result:
        cases = _split_cases()
        for y, n_test, seed in cases:
            _, test = _one_split(title, stratified_split, y, n_test, seed)
            _, again = _one_split(title, stratified_split, y, n_test, seed)
            if set(test) != set(again):
                raise fail(title, f"seed = {seed} gave two different splits: use the seed")
            _, other = _one_split(title, stratified_split, y, n_test, seed + 1)
            if set(test) == set(other):
                raise fail(
                    title,
                    f"seeds {seed} and {seed + 1} gave the same test set: the split must be "
                    "random (drawn with the seed), not the first points of each class",
                )
        return passed(title, len(cases), "Each a partition that keeps the class proportions.")

    return run(title, body)


# --------------------------------------------------------------------------- (a) standardise
_LEAK = (
    "The scaler was fitted on the training and the test data together: the test set leaks "
    "into the preprocessing. Fit the mean and SD on X_train only."
)
_OWN = (
    "The test data were standardised with their own mean and SD: use the TRAINING mean and SD "
    "for both sets (the test set plays the part of data not seen yet)."
)


def _standardise_cases() -> list[tuple[Array, Array]]:
    """Training and test data whose means and SDs differ, column by column."""
    g = np.random.default_rng(611)
    out = [
        (
            g.normal([5.0, -2.0, 100.0], [2.0, 0.5, 30.0], size=(40, 3)),
            g.normal([8.0, 0.0, 50.0], [1.0, 2.0, 10.0], size=(25, 3)),
        ),
        (g.exponential(3.0, size=(12, 1)), g.exponential(1.0, size=(7, 1)) + 4.0),
        (g.normal(0.0, 1.0, size=(200, 5)) * [1, 10, 0.1, 3, 1], g.normal(1.0, 2.0, size=(9, 5))),
    ]
    return out


def _scaled(A: Array, mean: Array, sd: Array) -> Array:
    return (A - mean) / sd


def _standardise_mistakes(X_train: Array, X_test: Array) -> dict[str, Array]:
    """What a few plausible mistakes give for the standardised test data."""
    all_ = np.vstack([X_train, X_test])
    mean, sd = X_train.mean(0), X_train.std(0)
    return {
        _LEAK: _scaled(X_test, all_.mean(0), all_.std(0)),
        _LEAK + " ": _scaled(X_test, all_.mean(0), all_.std(0, ddof=1)),
        _OWN: _scaled(X_test, X_test.mean(0), X_test.std(0)),
        _OWN + " ": _scaled(X_test, X_test.mean(0), X_test.std(0, ddof=1)),
        "The test data are unchanged: transform them with the training mean and SD.": X_test,
        "Divide by the standard deviation, not the variance.": _scaled(X_test, mean, sd**2),
        "The data were centred but not divided by the SD.": X_test - mean,
    }


def _compare_standardised(title: str, got: Any, X_train: Array, X_test: Array, where: str):
    """Accept the training statistics with the SD of ddof 0 or 1; otherwise name the mistake."""
    Z_train, Z_test = _pair(title, got, "(Z_train, Z_test)")
    Z_train = as_numeric(title, Z_train, f"Z_train {where}", shape=X_train.shape)
    Z_test = as_numeric(title, Z_test, f"Z_test {where}", shape=X_test.shape)
    mean = X_train.mean(0)
    for ddof in (0, 1):
        sd = X_train.std(0, ddof=ddof)
        expected = (_scaled(X_train, mean, sd), _scaled(X_test, mean, sd))
        if np.allclose(Z_train, expected[0], atol=1e-8) and np.allclose(
            Z_test, expected[1], atol=1e-8
        ):
            return
    expected = _scaled(X_test, mean, X_train.std(0))
    hint = _hint(Z_test, _standardise_mistakes(X_train, X_test)).rstrip()
    if not hint and not np.allclose(Z_train, _scaled(X_train, mean, X_train.std(0)), atol=1e-8):
        hint = " The training data themselves are not standardised (mean 0, SD 1 per column)."
    raise fail(
        title,
        f"{where}: expected Z_test = (X_test - training mean) / training SD = "
        f"{fmt(expected[:2])} (first rows), got {fmt(Z_test[:2])}.{hint}",
    )


def check_standardise(standardise: Callable) -> Result:
    """Check ``standardise(X_train, X_test)``: it returns (Z_train, Z_test), both standardised
    with the mean and standard deviation (ddof 0 or 1) of X_train's columns, and leaves its
    inputs unchanged. The test data have other statistics, so a scaler fitted on all the data,
    or on each set separately, is caught."""
    title = _STANDARDISE

    def body() -> Result:
        cases = _standardise_cases()
        for X_train, X_test in cases:
            where = f"for X_train of shape {X_train.shape} and X_test of shape {X_test.shape}"
            A, B = X_train.copy(), X_test.copy()
            got = call(title, standardise, A, B)
            if not (np.array_equal(A, X_train) and np.array_equal(B, X_test)):
                raise fail(title, f"{where}: your function changed its inputs in place")
            _compare_standardised(title, got, X_train, X_test, where)
        return passed(title, len(cases), "Fitted on the training data only.")

    return run(title, body)


# --------------------------------------------------------------------------- (a) Default features
def _default_frames(seed: int, categorical: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and test frames like ISLP's Default, with different statistics."""
    g = np.random.default_rng(seed)

    def frame(n, balance, income, p_student):
        student = np.where(g.random(n) < p_student, "Yes", "No")
        df = pd.DataFrame(
            {
                "default": np.where(g.random(n) < 0.1, "Yes", "No"),
                "student": student,
                "balance": np.abs(g.normal(*balance, size=n)),
                "income": np.abs(g.normal(*income, size=n)),
            }
        )
        if categorical:
            for col in ("default", "student"):
                df[col] = pd.Categorical(df[col], categories=["No", "Yes"])
        return df

    return frame(60, (800, 450), (33000, 13000), 0.3), frame(30, (1500, 200), (20000, 5000), 0.7)


def check_preprocess_default(preprocess_default: Callable) -> Result:
    """Check ``preprocess_default(df_train, df_test)`` on data frames with the columns of ISLP's
    Default: it returns (X_train, X_test) with the columns balance, income (standardised with
    the training mean and SD, ddof 0 or 1) and student (1 for "Yes", 0 for "No")."""
    title = _PREPROCESS

    def body() -> Result:
        cases = [_default_frames(612, categorical=True), _default_frames(613, categorical=False)]
        for train, test in cases:
            where = f"for a training frame of {len(train)} rows and a test frame of {len(test)}"
            got = call(title, preprocess_default, train.copy(), test.copy())
            X_train, X_test = _pair(title, got, "(X_train, X_test)")
            for name, X, n in (("X_train", X_train, len(train)), ("X_test", X_test, len(test))):
                shape = np.shape(X)
                if shape != (n, 3):
                    raise fail(
                        title,
                        f"{where}: {name} should have shape ({n}, 3), columns balance, income, "
                        f"student; got {shape}",
                    )
            X_train = as_numeric(title, X_train, f"X_train {where}")
            X_test = as_numeric(title, X_test, f"X_test {where}")
            s_train = (train["student"] == "Yes").to_numpy(float)
            s_test = (test["student"] == "Yes").to_numpy(float)
            for col, name in ((2, "student"),):
                if not np.array_equal(X_test[:, col], s_test) or not np.array_equal(
                    X_train[:, col], s_train
                ):
                    hint = ""
                    if np.array_equal(X_test[:, col], 1 - s_test):
                        hint = " You coded 'Yes' as 0: code a student as 1, a non-student as 0."
                    elif not set(np.unique(X_test[:, col])) <= {0.0, 1.0}:
                        hint = " Keep it a 0/1 dummy variable: do not standardise it."
                    raise fail(title, f"{where}: column 3 should be {name} = 1 for 'Yes'.{hint}")
            numeric = ["balance", "income"]
            A, B = train[numeric].to_numpy(float), test[numeric].to_numpy(float)
            if np.allclose(X_test[:, :2], _scaled(B, A.mean(0), A.std(0))[:, ::-1], atol=1e-8):
                raise fail(title, f"{where}: the columns are in the order income, balance")
            _compare_standardised(title, (X_train[:, :2], X_test[:, :2]), A, B, where)
        return passed(title, len(cases), "Scaled with the training statistics only.")

    return run(title, body)


# --------------------------------------------------------------------------- (b) the network
def network_check_data() -> tuple[Array, Array, Array, Array]:
    """(X_train, y_train, X_test, y_test) on which :func:`check_network_proba` trains: 1,500 and
    1,000 points in R^3 with logit P(y = 1 | x) = -3 + 2 x_1 + 1.5 x_2^2 (about 20% ones)."""
    g = np.random.default_rng(614)
    X = g.normal(size=(2500, 3))
    p = 1 / (1 + np.exp(-(-3.0 + 2.0 * X[:, 0] + 1.5 * X[:, 1] ** 2)))
    y = (g.random(2500) < p).astype(int)
    return X[:1500], y[:1500], X[1500:], y[1500:]


def _probabilities(title: str, got: Any, n: int, where: str) -> Array:
    shape = (
        np.shape(got)
        if isinstance(got, (list, tuple, np.ndarray)) or hasattr(got, "shape")
        else None
    )
    if shape == (n, 2):
        raise fail(
            title, f"{where}: return one probability per row, P(y = 1 | x): the column [:, 1]"
        )
    p = as_numeric(title, got, f"the result {where}", shape=(n,))
    if p.min() < 0 or p.max() > 1:
        raise fail(
            title,
            f"{where}: values from {p.min():.3g} to {p.max():.3g} are not probabilities "
            "(outputs Z before the softmax?): return P(y = 1 | x) in [0, 1]",
        )
    if np.all((p == 0) | (p == 1)):
        raise fail(title, f"{where}: all values are 0 or 1: return probabilities, not labels")
    return p


def check_network_proba(network_proba: Callable) -> Result:
    """Check ``network_proba(X_train, y_train, X_test, *, width, dropout, weight_decay,
    patience, epochs, seed)`` on data of :func:`network_check_data`: it returns P(y = 1 | x) for
    each test row, in [0, 1], the same for the same seed, and its test error (threshold 0.5) is
    below the null rate, that of always predicting the majority class; with other settings
    (early stopping, weight decay, no dropout) too."""
    title = _NETWORK

    def body() -> Result:
        X_train, y_train, X_test, y_test = network_check_data()
        null = min(y_test.mean(), 1 - y_test.mean())
        settings = [
            dict(seed=0),
            dict(width=5, dropout=0.0, weight_decay=1e-3, patience=5, epochs=60, seed=1),
        ]
        results = []
        for options in settings:
            where = "with " + ", ".join(f"{k}={v}" for k, v in options.items())
            fn = functools.partial(network_proba, **options)
            got = call(title, fn, X_train.copy(), y_train.copy(), X_test.copy())
            p = _probabilities(title, got, len(y_test), where)
            error = float(np.mean((p > 0.5) != y_test))
            if error >= null:
                hint = ""
                if np.mean(((1 - p) > 0.5) != y_test) < null:
                    hint = " These look like P(y = 0 | x): take the column of class 1."
                raise fail(
                    title,
                    f"{where}: test error {error:.3f} is not below the null rate {null:.3f} "
                    f"(always predicting the majority class).{hint}",
                )
            results.append(p)
        fn = functools.partial(network_proba, **settings[0])
        again = call(title, fn, X_train.copy(), y_train.copy(), X_test.copy())
        if not np.allclose(np.asarray(again, dtype=float), results[0], atol=1e-6):
            raise fail(
                title,
                "two calls with seed=0 gave different probabilities: pass the seed to the "
                "initialisation (make_mlp(..., seed=seed)) and to the training "
                "(fit(..., seed=seed))",
            )
        return passed(
            title,
            len(settings),
            f"Test errors below the null rate {null:.3f} on {len(y_test):,} points; reproducible.",
        )

    return run(title, body)


# --------------------------------------------------------------------------- (c) standard errors
def check_binomial_se(binomial_se: Callable) -> Result:
    """Check ``binomial_se(error, n)`` = sqrt(error (1 - error) / n), the standard error of an
    error rate measured on n independent test points."""
    title = _BINOMIAL

    def body() -> Result:
        cases = [(0.0333, 3000), (0.055, 1536), (0.5, 100), (0.25, 20), (0.9, 7), (0.0, 50)]
        for e, n in cases:
            expected = np.array(np.sqrt(e * (1 - e) / n))
            got = as_numeric(title, _scalar(call(title, binomial_se, e, n)), "the result", shape=())
            if not np.isclose(got, expected, rtol=1e-6, atol=1e-12):
                mistakes = {
                    "Take the square root: e(1 - e)/n is the variance.": e * (1 - e) / n,
                    "Divide by sqrt(n), not n: the SE shrinks like 1/sqrt(n).": np.sqrt(e * (1 - e))
                    / n,
                    "The variance of a Bernoulli(e) variable is e(1 - e), not e.": np.sqrt(e / n),
                    "Divide by sqrt(n): that is the SD of one 0/1 error.": np.sqrt(e * (1 - e)),
                    "Take the square root of e(1 - e) too.": e * (1 - e) / np.sqrt(n),
                }
                raise fail(
                    title,
                    f"for error = {e}, n = {n}: expected {fmt(expected)}, got {fmt(got)}."
                    + _hint(got, mistakes),
                )
        return passed(title, len(cases))

    return run(title, body)


def _paired_cases() -> list[tuple[Array, Array]]:
    """(loss_a, loss_b): 0/1 losses that mostly agree, correlated log-losses, a small sample."""
    g = np.random.default_rng(615)
    a = (g.random(400) < 0.05).astype(float)
    b = a.copy()
    flip = g.choice(400, size=9, replace=False)
    b[flip] = 1 - b[flip]  # two classifiers that disagree on 9 of 400 points
    z = g.exponential(size=60)
    return [
        (a, b),
        (z + 0.1 * g.normal(size=60), z + 0.05 + 0.1 * g.normal(size=60)),
        (g.normal(size=12), g.normal(size=12)),
        ((g.random(2000) < 0.03).astype(float), (g.random(2000) < 0.03).astype(float)),
    ]


def check_paired_difference(paired_difference: Callable) -> Result:
    """Check ``paired_difference(loss_a, loss_b)``: the mean of the differences
    D_i = loss_a[i] - loss_b[i] and its standard error s_D / sqrt(n) (s_D with ddof 0 or 1), for
    losses of two models on the same n test points."""
    title = _PAIRED

    def body() -> Result:
        cases = _paired_cases()
        for a, b in cases:
            n = len(a)
            where = f"for {n} pairs of losses"
            got = call(title, paired_difference, a.copy(), b.copy())
            mean, se = _pair(title, got, "(mean, se)")
            mean = as_numeric(title, _scalar(mean), f"the mean {where}", shape=())
            se = as_numeric(title, _scalar(se), f"the SE {where}", shape=())
            d = a - b
            if not np.isclose(mean, d.mean(), rtol=1e-6, atol=1e-12):
                hint = " The difference is loss_a - loss_b." if np.isclose(mean, -d.mean()) else ""
                raise fail(title, f"{where}: expected mean {d.mean():.6g}, got {fmt(mean)}.{hint}")
            right = [d.std(ddof=ddof) / np.sqrt(n) for ddof in (0, 1)]
            if not any(np.isclose(se, r, rtol=1e-6, atol=1e-12) for r in right):
                s = d.std(ddof=1)
                mistakes = {
                    "That ignores the pairing: the SE of a difference of two means of correlated "
                    "losses is the SD of the differences D_i over sqrt(n).": np.sqrt(
                        (a.var(ddof=1) + b.var(ddof=1)) / n
                    ),
                    "Divide the SD by sqrt(n), not n.": s / n,
                    "Divide the SD of the D_i by sqrt(n): that is the SD of one difference.": s,
                    "Take the square root of the variance.": s**2 / np.sqrt(n),
                }
                raise fail(
                    title,
                    f"{where}: expected SE {right[1]:.6g} (s_D / sqrt(n)), got {fmt(se)}."
                    + _hint(se, mistakes),
                )
        return passed(
            title, len(cases), "Including 0/1 losses of two classifiers that mostly agree."
        )

    return run(title, body)


# --------------------------------------------------------------------------- (d) log features
def check_log_features(log_features: Callable) -> Result:
    """Check ``log_features(X)`` = log(X + 0.1) elementwise (ESL Section 9.1.2), without
    changing X."""
    title = _LOG

    def body() -> Result:
        g = np.random.default_rng(616)
        cases = [
            np.where(g.random((30, 4)) < 0.6, 0.0, g.exponential(2.0, size=(30, 4))),
            np.where(g.random((5, 57)) < 0.7, 0.0, g.exponential(50.0, size=(5, 57))),
        ]
        for X in cases:
            where = f"for X of shape {X.shape}"
            A = X.copy()
            got = call(title, log_features, A)
            if not np.array_equal(A, X):
                raise fail(title, f"{where}: your function changed X in place")
            arr = np.asarray(got, dtype=float) if np.shape(got) == X.shape else None
            if arr is not None and np.any(np.isneginf(arr) & (X == 0)):
                raise fail(title, f"{where}: -inf where x = 0: log(0) = -inf; ESL adds 0.1 first")
            arr = as_numeric(title, got, f"the result {where}", shape=X.shape)
            expected = np.log(X + 0.1)
            if not np.allclose(arr, expected, rtol=1e-6, atol=1e-9):
                mistakes = {
                    "That is log(x + 1): ESL adds 0.1.": np.log1p(X),
                    "Use the natural logarithm, np.log.": np.log10(X + 0.1),
                    "Take the log of x + 0.1.": X + 0.1,
                }
                raise fail(
                    title,
                    f"{where}: expected log(X + 0.1), e.g. {fmt(expected[0, :3])} in the first "
                    f"row, got {fmt(arr[0, :3])}." + _hint(arr, mistakes),
                )
        return passed(title, len(cases), "Zeros map to log(0.1).")

    return run(title, body)


__all__ += [
    "network_check_data",
    "check_stratified_split",
    "check_standardise",
    "check_preprocess_default",
    "check_network_proba",
    "check_binomial_se",
    "check_paired_difference",
    "check_log_features",
]
