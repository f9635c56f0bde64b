"""Thin loaders for the ISLP data sets used with the lecture: Default, Hitters, NYSE.

The data ship inside the ``ISLP`` package (no download). ``pandas`` and ``ISLP`` are
in the ``[data]`` extra: ``pip install 'nnbook[data]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._util import positive_int
from .dataset import Dataset

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["NYSE_COLUMNS", "load_default", "load_hitters", "load_nyse", "nyse_lagged"]

NYSE_COLUMNS: tuple[str, ...] = ("DJ_return", "log_volume", "log_volatility")
"""The three daily series of the NYSE data, in the order of ISLP's lab."""


def _load(name: str) -> pd.DataFrame:
    try:
        from ISLP import load_data
    except ImportError as exc:  # pragma: no cover - ISLP is in the [data] extra
        raise ImportError(
            f"loading {name} needs the ISLP package: pip install 'nnbook[data]'"
        ) from exc
    return load_data(name)


def load_default() -> pd.DataFrame:
    """ISL's Default data: 10,000 credit-card customers, a ``pandas.DataFrame`` of shape (10000, 4).

    Columns ``default`` (Yes/No, the response; 333 Yes), ``student`` (Yes/No),
    ``balance`` and ``income`` (floats). ISL Exercise 10.10.7 (asked for in the
    lecture's Exercise 10.6) fits a one-hidden-layer network with K = 10 units and
    dropout to predict ``default``, and compares it with logistic regression.
    """
    return _load("Default")


def load_hitters(*, dropna: bool = True) -> pd.DataFrame:
    """ISL's Hitters data: baseball players' statistics and 1987 ``Salary`` (the response).

    A ``pandas.DataFrame`` with 20 columns (16 numeric statistics, the categorical
    ``League``, ``Division``, ``NewLeague``, and ``Salary``). 59 players have no salary;
    ``dropna=True`` (default, as in ISL's lab 10.9.1) drops them, leaving 263 rows;
    ``dropna=False`` returns all 322.
    """
    df = _load("Hitters")
    return df.dropna().copy() if dropna else df


def load_nyse() -> pd.DataFrame:
    """ISL's NYSE data: 6,051 trading days, 1962-12-03 to 1986-12-31, indexed by date.

    Columns ``day_of_week`` (categorical mon..fri), ``DJ_return``, ``log_volume``,
    ``log_volatility`` and ``train`` (bool: True for the 4,281 days up to 1979-12-31,
    the training period of ISL Section 10.5.2; the test period starts 1980-01-02). See :func:`nyse_lagged` for the
    lecture's lagged design.
    """
    return _load("NYSE")


def nyse_lagged(
    *,
    lags: int = 5,
    day_of_week: bool = False,
    as_sequence: bool = False,
) -> Dataset:
    """The autoregressive design of ISL Section 10.5.2: predict ``log_volume`` from L past days.

    With v_t = (DJ_return_t, log_volume_t, log_volatility_t), each series standardised
    over the whole record (mean 0, variance 1, as in ISLP's lab), the input for day t is

        x_t = (v_{t-1}, v_{t-2}, ..., v_{t-L})  in R^{3L},    target y_t = log_volume_t,

    for t = L+1, ..., T (the first L days have no full history and are dropped). The
    split is the data set's own ``train`` column: 4,276 training and 1,770 test days
    for L = 5. Columns are named ``"{series}_{lag}"`` ordered lag 1 (all three
    series), lag 2, ... as in ISLP; ``day_of_week=True`` appends five one-hot columns
    ``mon``..``fri`` of day t. ``as_sequence=True`` instead returns X of shape
    ``(n, L, 3)``, oldest day first (v_{t-L}, ..., v_{t-1}), the input of an RNN.

    A linear AR(5) model fit by least squares on this design gives test R^2 = 0.413
    (0.460 with ``day_of_week``), the numbers in ISLP's lab: "AR(5) ~ RNN".
    """
    lags = positive_int(lags, "lags")
    if as_sequence and day_of_week:
        raise ValueError("expected at most one of as_sequence and day_of_week to be True")
    df = load_nyse()
    if lags >= len(df):
        raise ValueError(f"expected lags < {len(df)} (the number of days), got {lags}")
    V = df[list(NYSE_COLUMNS)].to_numpy(dtype=np.float64)
    V = (V - V.mean(axis=0)) / V.std(axis=0)  # population std, as sklearn's StandardScaler
    T = len(V)
    y = V[lags:, NYSE_COLUMNS.index("log_volume")].copy()
    past = np.stack(
        [V[lags - ell : T - ell] for ell in range(1, lags + 1)], axis=1
    )  # (n, L, 3), lag 1 first
    if as_sequence:
        X = np.ascontiguousarray(past[:, ::-1, :])
        names = tuple(f"{c}_{ell}" for ell in range(lags, 0, -1) for c in NYSE_COLUMNS)
    else:
        X = past.reshape(len(past), 3 * lags)
        names = tuple(f"{c}_{ell}" for ell in range(1, lags + 1) for c in NYSE_COLUMNS)
        if day_of_week:
            days = df["day_of_week"].iloc[lags:]
            levels = list(days.cat.categories)
            onehot = (days.to_numpy()[:, None] == np.array(levels)[None, :]).astype(np.float64)
            X = np.hstack([X, onehot])
            names += tuple(levels)
    train = df["train"].to_numpy(dtype=bool)[lags:]
    note = (
        f"ISLP NYSE, AR({lags}) design of ISL 10.5.2: {int(train.sum()):,} train / "
        f"{int((~train).sum()):,} test days (the data set's own split), series standardised"
        + (", day-of-week one-hot" if day_of_week else "")
    )
    return Dataset(
        X[train], y[train], X[~train], y[~train], source="islp-nyse", note=note, feature_names=names
    )
