"""Closed forms behind the tricks of the trade, and a small cross-validation helper.

For a linear model y ~ x^T w with the squared loss, three regularisers of the lecture have
exact closed forms, and all three are ridge regression:

- :func:`ridge` -- weight decay: argmin_w ||y - X w||^2 + lambda sum_j D_j w_j^2.
- :func:`map_linear_gaussian` -- the Bayesian view: with y = X w + eps, eps ~ N(0, s^2 I),
  and the prior w ~ N(0, tau^2 I), the posterior mode (= mean) is ridge with
  lambda = s^2 / tau^2. Computed here by Gaussian conditioning, independently of :func:`ridge`.
- :func:`dropout_ridge` -- dropout on the inputs h of a linear layer (keep probability
  p = 1 - phi): the expected loss is ridge with lambda = (1 - p) / p and the data-dependent
  diagonal D_j = sum_i h_ij^2 (Exercise 10.5); :func:`expected_dropout_loss` is that loss.
- :func:`noise_ridge` -- Gaussian input noise x -> x + eps, eps ~ N(0, sigma^2 I): the expected
  sum of squares is ridge with lambda = N sigma^2 (Bishop, 1995); :func:`noisy_copies` makes
  the augmented data set whose least-squares fit approaches it.

:func:`cross_validate` runs K-fold cross-validation over a grid of settings
(:func:`param_grid`, :func:`one_at_a_time`) and returns a :class:`CVResult`.

Arrays are ``(n_samples, n_features)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._util import as_array, as_rng, positive_float, positive_int
from ..engine.linear import _check_Xy, ridge

Array = np.ndarray


# --------------------------------------------------------------------------------------
# Weight decay: ridge and its Bayesian reading
# --------------------------------------------------------------------------------------


def map_linear_gaussian(X: Any, y: Any, *, noise_var: float, prior_var: float) -> Array:
    """The MAP estimate of w in the linear-Gaussian model, by Gaussian conditioning.

    Model: y = X w + eps with eps ~ N(0, s^2 I) (s^2 = ``noise_var``) and the prior
    w ~ N(0, tau^2 I) (tau^2 = ``prior_var``, i.e. precision lambda' = 1 / tau^2). Then
    (w, y) is jointly Gaussian with Cov(w, y) = tau^2 X^T and Cov(y) = tau^2 X X^T + s^2 I,
    so the posterior is Gaussian and its mode equals its mean

        w_MAP = E[w | y] = tau^2 X^T (tau^2 X X^T + s^2 I)^{-1} y.

    This is computed in the N x N form above, without the ridge formula; by the push-through
    identity it equals ``ridge(X, y, s^2 / tau^2)``: -log p(w | y) = ||y - X w||^2 / (2 s^2)
    + ||w||^2 / (2 tau^2) + const is the ridge objective divided by 2 s^2.

    ``X`` is ``(n, d)``, ``y`` is ``(n,)``; returns ``(d,)``.
    """
    X, y = _check_Xy(X, y)
    s2 = positive_float(noise_var, "noise_var")
    tau2 = positive_float(prior_var, "prior_var")
    n = X.shape[0]
    cov_y = tau2 * (X @ X.T) + s2 * np.eye(n)
    return tau2 * (X.T @ np.linalg.solve(cov_y, y))


# --------------------------------------------------------------------------------------
# Input noise (data augmentation)
# --------------------------------------------------------------------------------------


def noise_ridge(X: Any, y: Any, sigma: float) -> Array:
    """The minimiser of the expected sum of squares under Gaussian input noise: ridge.

    With x~_i = x_i + eps_i, eps_i ~ N(0, sigma^2 I),

        E sum_i (y_i - w^T x~_i)^2 = ||y - X w||^2 + N sigma^2 ||w||^2,

    so the minimiser is ``ridge(X, y, N * sigma**2)`` (sum-of-squares convention; for the
    mean squared error R = (1/N) sum_i (y_i - w^T x~_i)^2 it is R + sigma^2 ||w||^2, i.e.
    R + (lambda/2) ||w||^2 with lambda = 2 sigma^2). The identity is exact for a linear
    model; for a non-linear f it holds to first order in sigma^2 (Bishop, 1995).

    ``X`` is ``(n, d)``, ``y`` is ``(n,)``; returns ``(d,)``.
    """
    X, y = _check_Xy(X, y)
    sigma = positive_float(sigma, "sigma", allow_zero=True)
    return ridge(X, y, X.shape[0] * sigma**2)


def noisy_copies(
    X: Any, y: Any, sigma: float, copies: int, rng: np.random.Generator | int | None = None
) -> tuple[Array, Array]:
    """The augmented data set: ``copies`` noisy versions x_i + eps of every sample, labels kept.

    Returns ``(X_aug, y_aug)`` of shapes ``(copies * n, d)`` and ``(copies * n,)``, copy c in
    rows ``c * n .. (c + 1) * n - 1``; eps ~ N(0, sigma^2 I) drawn from ``rng`` (a Generator or
    an int seed). Least squares on it, divided by ``copies``, estimates the expected loss of
    :func:`noise_ridge`.
    """
    X, y = _check_Xy(X, y)
    sigma = positive_float(sigma, "sigma", allow_zero=True)
    copies = positive_int(copies, "copies")
    rng = as_rng(rng)
    X_aug = np.tile(X, (copies, 1)) + sigma * rng.standard_normal((copies * X.shape[0], X.shape[1]))
    return X_aug, np.tile(y, copies)


def l2_penalty(params: Any) -> float:
    """J(theta) = ||theta||^2 = sum_i theta_i^2 over all parameters.

    ``params`` is a ``torch.nn.Module`` (all its parameters), or an iterable of arrays/tensors.
    """
    if hasattr(params, "parameters") and callable(params.parameters):
        params = list(params.parameters())
    if isinstance(params, (str, bytes)):
        raise TypeError("expected a torch.nn.Module or an iterable of arrays")
    try:
        items = list(params)
    except TypeError:
        raise TypeError(
            f"expected a torch.nn.Module or an iterable of arrays, got {type(params).__name__}"
        ) from None
    total = 0.0
    for p in items:
        if hasattr(p, "detach"):
            p = p.detach().cpu().numpy()
        total += float(np.sum(np.asarray(p, dtype=np.float64) ** 2))
    return total


def draw_thinned_network(ax: Any, keep: Sequence[Any], names: Sequence[str] | None = None) -> Any:
    """Draw the thinned network of one dropout step; ``keep[l]`` says which units of layer l stay.

    Kept units are filled circles joined by black lines (input white, hidden blue, output
    orange); a dropped unit is grey with a cross, and every connection touching it is pale:
    it takes no part in that step. ``names`` label the layers. Returns the axes.
    """
    from ..viz.plots import PALETTE

    keep = [np.asarray(k, dtype=bool) for k in keep]
    ys = [np.linspace((len(k) - 1) / 2, -(len(k) - 1) / 2, len(k)) for k in keep]
    for l in range(len(keep) - 1):
        for i, j in itertools.product(range(len(keep[l])), range(len(keep[l + 1]))):
            on = keep[l][i] and keep[l + 1][j]
            style = dict(color=PALETTE["black"], lw=0.8) if on else dict(color="0.85", lw=0.5)
            ax.plot([l, l + 1], [ys[l][i], ys[l + 1][j]], zorder=1, **style)
    fills = ["white"] + [PALETTE["blue"]] * (len(keep) - 2) + [PALETTE["orange"]]
    for l, (k, y) in enumerate(zip(keep, ys)):
        ax.scatter([l] * int(k.sum()), y[k], s=220, color=fills[l], edgecolor="k", zorder=2)
        ax.scatter([l] * int((~k).sum()), y[~k], s=220, color="0.9", edgecolor="0.7", zorder=2)
        ax.scatter([l] * int((~k).sum()), y[~k], s=50, marker="x", color="0.5", zorder=3)
    ax.set_xticks(range(len(keep)), names or [f"layer {l}" for l in range(len(keep))])
    ax.set_yticks([])
    ax.grid(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    return ax


# --------------------------------------------------------------------------------------
# Cross-validation over a grid
# --------------------------------------------------------------------------------------


def kfold_indices(n: int, K: int = 5, *, seed: int = 0) -> list[tuple[Array, Array]]:
    """K folds of a seeded random permutation of ``0..n-1``: a list of (train_idx, val_idx).

    Every index is in exactly one validation fold; the fold sizes differ by at most one.
    """
    n = positive_int(n, "n")
    K = positive_int(K, "K", minimum=2)
    if n < K:
        raise ValueError(f"expected K <= n (at least one sample per fold), got K = {K} and n = {n}")
    order = np.random.default_rng(seed).permutation(n)
    folds = np.array_split(order, K)
    return [
        (np.sort(np.concatenate(folds[:k] + folds[k + 1 :])), np.sort(folds[k])) for k in range(K)
    ]


def param_grid(**values: Sequence[Any]) -> list[dict[str, Any]]:
    """All combinations of the values: ``param_grid(M=[8, 32], lam=[0, 1e-3])`` has 4 settings."""
    if not values:
        raise ValueError("expected at least one hyperparameter, e.g. param_grid(M=[8, 32])")
    for name, vals in values.items():
        if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence) or len(vals) == 0:
            raise ValueError(f"expected a non-empty list of values for {name}, got {vals!r}")
    names = list(values)
    return [dict(zip(names, combo)) for combo in itertools.product(*(values[k] for k in names))]


def one_at_a_time(base: Mapping[str, Any], **alternatives: Sequence[Any]) -> list[dict[str, Any]]:
    """The base setting, then each alternative value with all other hyperparameters at base.

    A grid that grows with the sum, not the product, of the numbers of values:
    ``one_at_a_time({"M": 32, "lam": 0}, M=[8, 128], lam=[1e-3])`` has 1 + 2 + 1 = 4 settings.
    """
    if not isinstance(base, Mapping):
        raise TypeError(f"expected base to be a dict of hyperparameters, got {type(base).__name__}")
    settings = [dict(base)]
    for name, vals in alternatives.items():
        if name not in base:
            raise ValueError(
                f"expected alternatives for hyperparameters in base {sorted(base)}, got {name!r}"
            )
        if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence):
            raise ValueError(f"expected a list of values for {name}, got {vals!r}")
        for v in vals:
            if v != base[name]:
                settings.append({**base, name: v})
    return settings


@dataclass
class CVResult:
    """The result of :func:`cross_validate`.

    ``settings[s]`` is the s-th hyperparameter setting, ``errors[s, k]`` its validation
    error on fold k (shape ``(S, K)``), ``mean[s]`` the CV error (1/K) sum_k errors[s, k] and
    ``se[s]`` its standard error std_k / sqrt(K). ``best_index`` minimises ``mean`` (the first
    one on ties) and ``best`` is that setting.
    """

    settings: list[dict[str, Any]]
    errors: Array

    @property
    def mean(self) -> Array:
        return self.errors.mean(axis=1)

    @property
    def se(self) -> Array:
        K = self.errors.shape[1]
        return self.errors.std(axis=1, ddof=1) / math.sqrt(K)

    @property
    def best_index(self) -> int:
        return int(np.argmin(self.mean))

    @property
    def best(self) -> dict[str, Any]:
        return dict(self.settings[self.best_index])

    def to_frame(self):
        """A ``pandas.DataFrame``: one row per setting, its hyperparameters, CV error and SE."""
        import pandas as pd

        df = pd.DataFrame(self.settings)
        df["cv_error"] = self.mean
        df["se"] = self.se
        return df


def cross_validate(
    score: Callable[..., float],
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
    X: Any,
    y: Any,
    *,
    K: int = 5,
    seed: int = 0,
) -> CVResult:
    """K-fold cross-validation of every setting in ``grid``; the best one minimises the CV error.

    ``grid`` is a dict of lists (all combinations, :func:`param_grid`) or a list of dicts
    (explicit settings, e.g. :func:`one_at_a_time`). The N samples are split once into K
    folds (:func:`kfold_indices` with ``seed``, the same folds for every setting), and for
    each setting s and fold k

        errors[s, k] = score(setting_s, X[train_k], y[train_k], X[val_k], y[val_k]),

    where ``score`` trains a model with that setting on the other K - 1 folds and returns its
    error on fold k. The CV error is CV(s) = (1/K) sum_k errors[s, k].

    ``X`` is ``(n, d)`` (or any array with n rows), ``y`` is ``(n,)``. Returns a
    :class:`CVResult` (``errors`` of shape ``(S, K)``, ``best``, ``to_frame()``).
    """
    if not callable(score):
        raise TypeError(
            "expected score to be a callable score(setting, X_train, y_train, X_val, y_val), "
            f"got {type(score).__name__}"
        )
    settings = _grid_settings(grid)
    X = as_array(X, "X", dtype=None)
    y = as_array(y, "y", dtype=None)
    if X.ndim < 2:
        raise ValueError(f"expected X of shape (n, d), got {X.shape}")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"expected y of shape ({X.shape[0]},) (one target per row of X), got {y.shape}"
        )
    folds = kfold_indices(X.shape[0], K, seed=seed)  # the same K folds for every setting
    return CVResult(settings, fold_errors(score, settings, X, y, folds))


def fold_errors(
    score: Callable[..., float],
    settings: Sequence[Mapping[str, Any]],
    X: Array,
    y: Array,
    folds: Sequence[tuple[Array, Array]],
) -> Array:
    """errors[s, k] = score(setting_s, X[train_k], y[train_k], X[val_k], y[val_k]).

    ``folds`` is a list of K pairs (train_idx, val_idx) (:func:`kfold_indices`). The CV error
    of setting s is the mean of row s, CV(s) = (1/K) sum_k errors[s, k].
    """
    errors = np.empty((len(settings), len(folds)))
    for s, setting in enumerate(settings):
        for k, (tr, va) in enumerate(folds):  # train on the other K - 1 folds, validate on fold k
            errors[s, k] = _check_score(
                score(dict(setting), X[tr], y[tr], X[va], y[va]), setting, k
            )
    return errors


def _grid_settings(grid: Any) -> list[dict[str, Any]]:
    """The settings of ``grid``: a dict of lists (all combinations) or a list of dicts."""
    if isinstance(grid, Mapping):
        return param_grid(**grid)
    if not (isinstance(grid, Sequence) and not isinstance(grid, (str, bytes)) and len(grid) > 0):
        raise TypeError(
            f"expected grid to be a dict of lists or a non-empty list of dicts, got {grid!r}"
        )
    for s in grid:
        if not isinstance(s, Mapping):
            raise TypeError(
                f"expected grid to be a dict of lists or a list of dicts, got an element {s!r}"
            )
    return [dict(s) for s in grid]


def _check_score(value: Any, setting: dict[str, Any], k: int) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"expected score to return a number, got {type(value).__name__}") from None
    if not math.isfinite(value):
        raise ValueError(f"expected a finite score, got {value} for setting {setting} on fold {k}")
    return value


__all__ = [
    "map_linear_gaussian",
    "noise_ridge",
    "noisy_copies",
    "l2_penalty",
    "draw_thinned_network",
    "kfold_indices",
    "param_grid",
    "one_at_a_time",
    "CVResult",
    "cross_validate",
    "fold_errors",
]
