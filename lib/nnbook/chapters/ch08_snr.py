"""Signal-to-noise: when does a neural network beat a linear model?

The experiment behind the lecture's claim "best results [for deep learning] when the
signal-to-noise ratio is high and data sets are large": draw data

    y = f*(x) + epsilon,   x ~ Uniform[0, 1]^d,   epsilon ~ N(0, sigma^2),

from a known nonlinear f* (:func:`friedman1`), with the noise level set by the
signal-to-noise ratio SNR = Var f*(X) / sigma^2; fit a small MLP (:class:`MLPRegressor`)
and a linear model (:class:`LeastSquares`) to the same training data, and compare their
test R^2 (:func:`r2_score`) over a sweep of SNRs and sample sizes (:func:`snr_sweep`).
Even a perfect model cannot have a test R^2 above SNR / (1 + SNR) (the noise is
unpredictable), so that curve is the ceiling both approach.

Also here, for the NYSE example: :func:`paired_difference`, the mean of a paired difference
with its standard error (optionally by batch means, for serially correlated errors such as
daily stock data), and :func:`f_test` and :func:`lag_groups`, which read the correlated lags
of an autoregressive model as groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from scipy import stats

from .._util import as_array, positive_float, positive_int

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "friedman1",
    "FRIEDMAN1_VARIANCE",
    "noise_sd",
    "make_data",
    "r2_score",
    "LeastSquares",
    "MLPRegressor",
    "paired_difference",
    "PairedDifference",
    "f_test",
    "FTest",
    "lag_groups",
    "SNRSweep",
    "snr_sweep",
    "advantage_vanishes",
]


# --------------------------------------------------------------------------------------
# The data: a known f* plus noise at a chosen signal-to-noise ratio
# --------------------------------------------------------------------------------------


def friedman1(X: Any) -> np.ndarray:
    """Friedman's first test function (Friedman, 1991), a smooth nonlinear part plus a linear part.

        f*(x) = 10 sin(pi x_1 x_2) + 20 (x_3 - 1/2)^2 + 10 x_4 + 5 x_5,

    for ``X`` of shape ``(n, d)`` with d >= 5 (inputs x_6, ..., x_d are irrelevant).
    Returns ``(n,)``. A linear model captures the last two terms and part of the first two.
    """
    X = as_array(X, "X", ndim=2)
    if X.shape[1] < 5:
        raise ValueError(f"expected X of shape (n, d) with d >= 5, got {X.shape}")
    x1, x2, x3, x4, x5 = X[:, :5].T
    return 10 * np.sin(np.pi * x1 * x2) + 20 * (x3 - 0.5) ** 2 + 10 * x4 + 5 * x5


def _friedman1_variance() -> float:
    """Var f*(X) for X ~ Uniform[0, 1]^d, exactly (quadrature for the sine, closed forms else).

    The five terms depend on disjoint inputs, so their variances add:
    Var 10 sin(pi x1 x2) (2-D Gauss-Legendre, 64 x 64 nodes, exact to rounding for this
    smooth integrand) + 400 Var (x3 - 1/2)^2 = 400 (1/80 - 1/144) + 100/12 + 25/12.
    """
    t, w = np.polynomial.legendre.leggauss(64)
    u, w = (t + 1) / 2, w / 2  # nodes and weights on [0, 1]
    s = np.sin(np.pi * np.outer(u, u))
    mean = w @ s @ w
    second = w @ s**2 @ w
    return 100 * (second - mean**2) + 400 * (1 / 80 - 1 / 144) + 100 / 12 + 25 / 12


#: Var f*(X) of :func:`friedman1` for X ~ Uniform[0, 1]^d (about 23.84).
FRIEDMAN1_VARIANCE: float = _friedman1_variance()


def noise_sd(snr: float) -> float:
    """The noise level sigma that gives SNR = Var f*(X) / sigma^2 for :func:`friedman1`.

    sigma = sqrt(Var f*(X) / SNR). The best possible test R^2 is then SNR / (1 + SNR).
    """
    snr = positive_float(snr, "snr")
    return float(np.sqrt(FRIEDMAN1_VARIANCE / snr))


def make_data(n: int, *, snr: float, d: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Draw n samples y = f*(x) + sigma epsilon with x ~ Uniform[0, 1]^d and epsilon ~ N(0, 1).

    sigma = :func:`noise_sd` (snr). Returns ``X`` of shape ``(n, d)`` and ``y`` of shape
    ``(n,)``. The same ``seed`` draws the same x and epsilon whatever the SNR, so a sweep
    over SNRs changes only the noise scale (common random numbers: smoother curves).
    """
    n = positive_int(n, "n")
    d = positive_int(d, "d", minimum=5)
    sigma = noise_sd(snr)
    rng = np.random.default_rng(_check_seed(seed))
    X = rng.uniform(size=(n, d))
    eps = rng.standard_normal(n)
    return X, friedman1(X) + sigma * eps


def _check_seed(seed: Any) -> int:
    return positive_int(seed, "seed", minimum=0)


def r2_score(y: Any, y_hat: Any) -> float:
    """Test R^2 = 1 - sum_i (y_i - yhat_i)^2 / sum_i (y_i - ybar)^2 (ybar: the mean of these y).

    1 is perfect; 0 is as good as predicting the mean; negative is worse. ``y`` and
    ``y_hat`` have shape ``(n,)``. (The definition of ``sklearn.metrics.r2_score`` and of
    ISL Section 10.5.2.)
    """
    y = as_array(y, "y", ndim=1)
    y_hat = as_array(y_hat, "y_hat", shape=(len(y),))
    if len(y) < 2:
        raise ValueError(f"expected at least 2 targets for R^2, got {len(y)}")
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot == 0:
        raise ValueError(
            "expected targets y that are not all equal (R^2 divides by their variance)"
        )
    return 1.0 - float(np.sum((y - y_hat) ** 2)) / ss_tot


# --------------------------------------------------------------------------------------
# The two models
# --------------------------------------------------------------------------------------


class LeastSquares:
    """The linear model f(x) = beta_0 + beta^T x, fit by least squares (or ridge).

    ``fit`` minimises sum_i (y_i - beta_0 - beta^T x_i)^2 + lambda ||beta||^2 (the intercept
    beta_0 is not penalised; ``lam=0``, the default, is ordinary least squares). ``X`` is
    ``(n, d)``, ``y`` is ``(n,)``. After ``fit``: ``beta_0`` (float) and ``beta`` ``(d,)``.
    For the NYSE data with five lags this is the linear AR(5) model of ISL Section 10.5.2.
    """

    def __init__(self, lam: float = 0.0) -> None:
        self.lam = positive_float(lam, "lam", allow_zero=True)
        self.beta_0: float | None = None
        self.beta: np.ndarray | None = None

    def fit(self, X: Any, y: Any) -> LeastSquares:
        """Fit beta_0 and beta; returns ``self``."""
        X = as_array(X, "X", ndim=2)
        y = as_array(y, "y", shape=(X.shape[0],))
        if X.shape[0] < 1:
            raise ValueError("expected at least one sample in X, got 0")
        x_bar, y_bar = X.mean(axis=0), y.mean()
        Xc, yc = X - x_bar, y - y_bar  # centring removes beta_0 from the problem
        if self.lam > 0:
            d = X.shape[1]
            Xc = np.vstack([Xc, np.sqrt(self.lam) * np.eye(d)])
            yc = np.concatenate([yc, np.zeros(d)])
        self.beta = np.linalg.lstsq(Xc, yc, rcond=None)[0]
        self.beta_0 = float(y_bar - x_bar @ self.beta)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """f(X) = beta_0 + X beta, shape ``(n,)``."""
        if self.beta is None:
            raise RuntimeError("call fit(X, y) before predict(X)")
        X = as_array(X, "X", shape=(None, len(self.beta)))
        return self.beta_0 + X @ self.beta

    def score(self, X: Any, y: Any) -> float:
        """R^2 of the predictions on ``(X, y)``; see :func:`r2_score`."""
        return r2_score(y, self.predict(X))


class MLPRegressor:
    """A small MLP for regression, trained with early stopping: the network of the SNR experiment.

    The network is :func:`nnbook.pytorch.models.make_mlp` ``([d, *hidden, 1])`` with ReLU units,
    f(x) = beta^T f_L(x) + beta_0, f_{l+1} = sigma(W_l f_l + b_l). ``fit`` standardises the
    inputs and the target (statistics of the training set), holds out a seeded fraction
    ``val_fraction`` of the training set for validation, and runs :func:`nnbook.pytorch.train.fit`
    (Adam, squared-error loss, mini-batches of B = ``batch_size`` or about 1/8 of the data)
    for at most ``epochs`` epochs, stopping when the validation loss has not improved for
    ``patience`` epochs and restoring the best weights (:class:`~nnbook.pytorch.early_stopping.
    EarlyStopping`). Everything is drawn from ``seed``. ``device`` goes to ``fit``.
    """

    def __init__(
        self,
        hidden: Sequence[int] = (32, 32),
        *,
        lr: float = 1e-2,
        epochs: int = 200,
        patience: int = 10,
        batch_size: int | None = None,
        val_fraction: float = 0.2,
        seed: int = 0,
        device: Any = "auto",
    ) -> None:
        self.hidden = [positive_int(m, "hidden width") for m in hidden]
        self.lr = positive_float(lr, "lr")
        self.epochs = positive_int(epochs, "epochs")
        self.patience = positive_int(patience, "patience")
        self.batch_size = None if batch_size is None else positive_int(batch_size, "batch_size")
        self.val_fraction = positive_float(val_fraction, "val_fraction")
        if not self.val_fraction < 1:
            raise ValueError(f"expected val_fraction in (0, 1), got {val_fraction}")
        self.seed = _check_seed(seed)
        self.device = device
        self.model = None
        self.history = None

    def _standardize(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """z-scores of X and y with the statistics of this training set (kept for predict)."""
        X = as_array(X, "X", ndim=2)
        y = as_array(y, "y", shape=(X.shape[0],))
        self._x_mean, self._x_sd = X.mean(axis=0), X.std(axis=0) + 1e-12
        self._y_mean, self._y_sd = y.mean(), y.std() + 1e-12
        Z = ((X - self._x_mean) / self._x_sd).astype(np.float32)
        t = ((y - self._y_mean) / self._y_sd).astype(np.float32)
        return Z, t

    def _split(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices (train, validation) of a seeded split, ``val_fraction`` for validation."""
        n_val = int(round(self.val_fraction * n))
        if n_val < 1 or n - n_val < 1:
            raise ValueError(
                f"expected enough samples for a validation split of {self.val_fraction}, "
                f"got n = {n}"
            )
        perm = np.random.default_rng(self.seed).permutation(n)
        return perm[n_val:], perm[:n_val]

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train on ``X`` ``(n, d)`` and ``y`` ``(n,)``; returns ``self``."""
        from ..pytorch import train  # torch is imported only when a network is trained
        from ..pytorch.early_stopping import EarlyStopping
        from ..pytorch.models import make_mlp

        Z, t = self._standardize(X, y)
        tr, val = self._split(len(t))
        self.model = make_mlp([Z.shape[1], *self.hidden, 1], "relu", seed=self.seed)
        self.history = train.fit(
            self.model,
            Z[tr],
            t[tr],
            X_val=Z[val],
            y_val=t[val],
            loss="mse",
            epochs=self.epochs,
            batch_size=self.batch_size or max(16, len(tr) // 8),
            lr=self.lr,
            optimizer="adam",
            early_stopping=EarlyStopping(self.patience),
            eval_train=False,
            seed=self.seed,
            device=self.device,
        )
        return self

    def predict(self, X: Any) -> np.ndarray:
        """f(X) in the original units of y, shape ``(n,)``."""
        from ..pytorch import train

        if self.model is None:
            raise RuntimeError("call fit(X, y) before predict(X)")
        X = as_array(X, "X", shape=(None, len(self._x_mean)))
        Z = ((X - self._x_mean) / self._x_sd).astype(np.float32)
        return train.predict(self.model, Z).astype(np.float64) * self._y_sd + self._y_mean

    def score(self, X: Any, y: Any) -> float:
        """R^2 of the predictions on ``(X, y)``; see :func:`r2_score`."""
        return r2_score(y, self.predict(X))


# --------------------------------------------------------------------------------------
# Comparing the two: paired differences and the sweep
# --------------------------------------------------------------------------------------


class PairedDifference(NamedTuple):
    """Mean of the paired differences a_i - b_i, its standard error, and how many units it used."""

    mean: float
    se: float
    n: int


def paired_difference(a: Any, b: Any, *, block: int = 1) -> PairedDifference:
    """Mean of the paired differences D_i = a_i - b_i and its standard error.

    With ``block=1`` the D_i are treated as independent: SE = s_D / sqrt(n), s_D their
    sample standard deviation. For serially correlated D_i (errors on consecutive days)
    use ``block=b > 1``, batch means: split D into J = floor(n / b) consecutive blocks of
    b (dropping the last n - J b), average each block, and use SE = s_J / sqrt(J) of the J
    block means, which stay nearly independent if the correlation dies out within a block.
    ``n`` in the result is the number of units the SE is based on (n or J).
    """
    a = as_array(a, "a", ndim=1)
    b = as_array(b, "b", shape=(len(a),))
    block = positive_int(block, "block")
    D = a - b
    if block > 1:
        J = len(D) // block
        D = D[: J * block].reshape(J, block).mean(axis=1)
    if len(D) < 2:
        raise ValueError(
            f"expected at least 2 (blocks of) paired differences for a standard error, got {len(D)}"
        )
    return PairedDifference(float(D.mean()), float(D.std(ddof=1) / np.sqrt(len(D))), len(D))


class FTest(NamedTuple):
    """The F statistic of :func:`f_test`, its degrees of freedom (q, n - p - 1) and p-value."""

    F: float
    q: int
    df: int
    p_value: float


def f_test(X: Any, X_0: Any, y: Any) -> FTest:
    """F-test of a smaller linear model against a larger one (ISL Section 3.2.2, eq. (3.24)).

    Both models are fit by least squares with an intercept: the full model on ``X`` ``(n, p)``,
    the smaller one on ``X_0`` ``(n, p - q)``, whose columns lie in the span of those of ``X``
    (e.g. some columns dropped). With RSS and RSS_0 their residual sums of squares,

        F = ((RSS_0 - RSS) / q) / (RSS / (n - p - 1)),

    which has an F(q, n - p - 1) distribution if the smaller model holds (Gaussian errors);
    the p-value is Pr(F(q, n - p - 1) > F). p and q are counted as ranks.
    """
    X = as_array(X, "X", ndim=2)
    X_0 = as_array(X_0, "X_0", shape=(X.shape[0], None))
    y = as_array(y, "y", shape=(X.shape[0],))
    n, p = len(y), np.linalg.matrix_rank(X - X.mean(axis=0))
    q = p - np.linalg.matrix_rank(X_0 - X_0.mean(axis=0))
    if q < 1 or n - p - 1 < 1:
        raise ValueError(
            f"expected X_0 with fewer effective columns than X and n > p + 1, got "
            f"q = {q}, n = {n}, p = {p}"
        )
    rss = np.sum((y - LeastSquares().fit(X, y).predict(X)) ** 2)
    rss_0 = np.sum((y - LeastSquares().fit(X_0, y).predict(X_0)) ** 2)
    F = float(((rss_0 - rss) / q) / (rss / (n - p - 1)))
    return FTest(F, int(q), int(n - p - 1), float(stats.f.sf(F, q, n - p - 1)))


def lag_groups(X: pd.DataFrame, y: Any, series: Sequence[str], lags: int) -> pd.DataFrame:
    """Read the lags of each series in an AR model as a group: one row per series.

    ``X`` is a DataFrame with columns ``"{s}_1"``, ..., ``"{s}_L"`` for every series s (the
    names of :func:`nnbook.data.nyse_lagged`), ``y`` the target. For the least-squares fit of
    y on all columns, with beta_{s,l} the coefficient of series s at lag l, the columns are:

    - ``corr min``, ``corr max``: the smallest and largest correlation between two lags of s;
    - ``coef sum``: sum_l beta_{s,l}, the change of the forecast when s is higher by 1 on all
      L days (its level);
    - ``F group``, ``p group``: :func:`f_test` of the model without the L lags of s (q = L);
    - ``F sum``, ``p sum``: :func:`f_test` of the model with sum_l beta_{s,l} = 0, in which s
      enters only through its changes x_{s,l} - x_{s,L} (q = 1).
    """
    lags = positive_int(lags, "lags", minimum=2)
    groups = {s: [f"{s}_{l}" for l in range(1, lags + 1)] for s in series}
    missing = [c for cols in groups.values() for c in cols if c not in getattr(X, "columns", ())]
    if missing:
        raise ValueError(f"expected X to be a DataFrame with columns {missing}")
    beta = dict(zip(X.columns, LeastSquares().fit(X, y).beta))
    rows = {}
    for s, cols in groups.items():
        C = X[cols].corr().to_numpy()[np.triu_indices(lags, 1)]  # corr of two different lags
        rest = X.drop(columns=cols)
        changes = X[cols[:-1]].to_numpy() - X[[cols[-1]]].to_numpy()  # x_l - x_L, l < L
        group = f_test(X, rest, y)
        level = f_test(X, np.hstack([rest.to_numpy(), changes]), y)
        total = sum(beta[c] for c in cols)
        rows[s] = [C.min(), C.max(), total, group.F, group.p_value, level.F, level.p_value]
    columns = ["corr min", "corr max", "coef sum", "F group", "p group", "F sum", "p sum"]
    return _frame(rows, columns, "series")


def _frame(rows: dict, columns: list[str], index_name: str) -> pd.DataFrame:
    import pandas as pd  # pandas comes with the data extra; imported when a table is made

    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis(index_name)


def advantage_vanishes(snrs: Any, diffs: Any) -> float | None:
    """The highest SNR at which the network's advantage is no longer clear.

    ``snrs`` has shape ``(S,)``; ``diffs`` has shape ``(S, R)``: the paired differences
    R^2_net - R^2_linear of R seeds at each SNR. Going from the highest SNR down, return
    the first SNR where the mean difference is at most one standard error above zero,
    mean <= SE (the two models are within one SE, or the linear model is ahead); ``None``
    if the network stays ahead by more than one SE at every SNR.
    """
    snrs = as_array(snrs, "snrs", ndim=1)
    diffs = as_array(diffs, "diffs", shape=(len(snrs), None))
    if diffs.shape[1] < 2:
        raise ValueError(
            "expected at least 2 seeds (columns of diffs) for a standard error, "
            f"got {diffs.shape[1]}"
        )
    for k in np.argsort(-snrs, kind="stable"):
        mean = diffs[k].mean()
        se = diffs[k].std(ddof=1) / np.sqrt(diffs.shape[1])
        if mean <= se:
            return float(snrs[k])
    return None


@dataclass
class SNRSweep:
    """The results of :func:`snr_sweep`: test R^2 of both models for every (n, SNR, seed).

    ``r2_net`` and ``r2_linear`` have shape ``(len(n_train), len(snrs), len(seeds))``.
    ``ceiling`` is SNR / (1 + SNR), the best test R^2 any model can expect.
    """

    snrs: np.ndarray
    n_train: list[int]
    seeds: list[int]
    r2_net: np.ndarray
    r2_linear: np.ndarray
    d: int = 10
    n_test: int = 5000
    ceiling: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.ceiling = self.snrs / (1 + self.snrs)

    def advantage(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard error over seeds of R^2_net - R^2_linear.

        Each has shape ``(len(n_train), len(snrs))``."""
        D = self.r2_net - self.r2_linear
        return D.mean(axis=2), D.std(axis=2, ddof=1) / np.sqrt(D.shape[2])

    def vanishing_snr(self) -> dict[int, float | None]:
        """For each n, the SNR where the network's advantage ends (:func:`advantage_vanishes`)."""
        D = self.r2_net - self.r2_linear
        return {n: advantage_vanishes(self.snrs, D[i]) for i, n in enumerate(self.n_train)}

    def verdicts(self) -> pd.DataFrame:
        """The lecture's three claims, one row each, and this sweep's evidence, one column per n.

        MLP - linear is the mean paired difference of test R^2 over seeds, +- its SE. Rows:
        the difference at the highest SNR; the highest SNR at which it is at most one SE
        (:meth:`vanishing_snr`); the difference at the lowest SNR, "MLP worse" when it is
        more than one SE below 0, "a tie" within one SE, "MLP ahead" otherwise.
        """
        mean, se = self.advantage()
        hi, lo = int(np.argmax(self.snrs)), int(np.argmin(self.snrs))
        vanish = self.vanishing_snr()
        rows = {
            "best results when the SNR is high": [],
            "... and the data set is large": [],
            "noisier data: simpler models as good or better": [],
        }
        for i, n in enumerate(self.n_train):
            m, s = mean[i, lo], se[i, lo]
            word = "MLP worse" if m + s < 0 else "a tie" if m - s <= 0 else "MLP ahead"
            gone = "never gone" if vanish[n] is None else f"gone at SNR {vanish[n]:g}"
            cells = [
                f"MLP - linear = {mean[i, hi]:+.3f} ± {se[i, hi]:.3f} at SNR {self.snrs[hi]:g}",
                f"advantage {gone}",
                f"{m:+.3f} ± {s:.3f} at SNR {self.snrs[lo]:g}: {word}",
            ]
            for row, cell in zip(rows, cells):
                rows[row].append(cell)
        return _frame(rows, [f"n = {n}" for n in self.n_train], "the lecture")

    def rows(self) -> list[dict[str, float]]:
        """One dict per (n, SNR): the ceiling, mean R^2 of each model, the advantage and its SE."""
        mean, se = self.advantage()
        out = []
        for i, n in enumerate(self.n_train):
            for k, s in enumerate(self.snrs):
                out.append(
                    {
                        "n": n,
                        "SNR": float(s),
                        "ceiling": float(self.ceiling[k]),
                        "R2 linear": float(self.r2_linear[i, k].mean()),
                        "R2 MLP": float(self.r2_net[i, k].mean()),
                        "MLP - linear": float(mean[i, k]),
                        "SE": float(se[i, k]),
                    }
                )
        return out


def snr_sweep(
    snrs: Sequence[float],
    n_train: Sequence[int],
    *,
    seeds: int | Sequence[int] = 5,
    d: int = 10,
    n_test: int = 5000,
    **mlp_kwargs: Any,
) -> SNRSweep:
    """Fit :class:`MLPRegressor` and :class:`LeastSquares` for every sample size, SNR and seed.

    For sample size n, SNR s and seed r: training data ``make_data(n, snr=s, d=d, seed=r)``,
    test data ``make_data(n_test, snr=s, d=d, seed=10**6 + r)``; the network gets seed r
    (initialisation, validation split, mini-batches). Both models see the same data, so
    R^2_net - R^2_linear is a paired difference. ``seeds`` is a count (seeds 0..R-1) or a
    list. Extra keyword arguments go to :class:`MLPRegressor`.
    """
    snrs = as_array(snrs, "snrs", ndim=1)
    for s in snrs:
        positive_float(float(s), "snr")
    if isinstance(n_train, (int, np.integer)):
        n_train = [n_train]
    n_train = [positive_int(n, "n_train", minimum=10) for n in n_train]
    seeds = (
        list(range(positive_int(seeds, "seeds")))
        if isinstance(seeds, (int, np.integer))
        else [_check_seed(r) for r in seeds]
    )
    if len(seeds) < 1:
        raise ValueError("expected at least one seed")
    r2_net = np.empty((len(n_train), len(snrs), len(seeds)))
    r2_lin = np.empty_like(r2_net)
    for i, n in enumerate(n_train):
        for k, s in enumerate(snrs):
            for j, r in enumerate(seeds):
                X, y = make_data(n, snr=s, d=d, seed=r)
                X_test, y_test = make_data(n_test, snr=s, d=d, seed=10**6 + r)
                r2_lin[i, k, j] = LeastSquares().fit(X, y).score(X_test, y_test)
                r2_net[i, k, j] = MLPRegressor(seed=r, **mlp_kwargs).fit(X, y).score(X_test, y_test)
    return SNRSweep(snrs, n_train, seeds, r2_net, r2_lin, d=d, n_test=n_test)
