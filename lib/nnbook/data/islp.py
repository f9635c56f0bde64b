"""ISL's data sets used with the lecture: Default, Hitters and NYSE, from verified CSV files.

The files are the CSVs of the ISLP package (the Python companion of ISL), looked for in
this order (the first verified copy wins; :func:`nnbook.data.fetch`):

1. the data folder and the user cache (:func:`nnbook.data.data_dir`,
   :func:`nnbook.data.cache_dir`);
2. the copy bundled with the ``ISLP`` package, when it is installed (the book's offline
   source; it is read as a file, the package is not imported);
3. a download with pooch from ``ISLP_MIRRORS``: ISLP's GitHub repository at a pinned
   commit, then the jsDelivr mirror of that commit.

A copy is accepted if its bytes are ISLP's (size and SHA-256 in ``ISLP_FILES``) or, for a
copy already on disk, if its parsed table is ISLP's (same columns, types and values: a
digest of the parsed numbers and strings). The loaders return the same ``DataFrame`` as
``ISLP.load_data`` (columns, dtypes, categories, index, row order), so the numbers agree.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .._util import positive_int
from .dataset import Dataset
from .download import DEFAULT_TIMEOUT, LOG, DataUnavailableError, RemoteFile, fetch, verify_file

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ISLP_FILES",
    "ISLP_MIRRORS",
    "NYSE_COLUMNS",
    "load_default",
    "load_hitters",
    "load_islp",
    "load_nyse",
    "nyse_lagged",
    "read_islp_csv",
]

NYSE_COLUMNS: tuple[str, ...] = ("DJ_return", "log_volume", "log_volatility")
"""The three daily series of the NYSE data, in the order of ISLP's lab."""

ISLP_COMMIT = "a1f4e43ca88d4c9a6f186930181d628b9270015d"
"""The commit of github.com/intro-stat-learning/ISLP the download URLs are pinned to."""

ISLP_MIRRORS: tuple[str, ...] = (
    f"https://raw.githubusercontent.com/intro-stat-learning/ISLP/{ISLP_COMMIT}/ISLP/data/",
    f"https://cdn.jsdelivr.net/gh/intro-stat-learning/ISLP@{ISLP_COMMIT}/ISLP/data/",
)
"""Where the CSV files are downloaded from, tried in order."""

# Sizes and SHA-256 of the CSV files bundled with ISLP 0.6.0 (ISLP/data/<Name>.csv).
ISLP_FILES: dict[str, RemoteFile] = {
    "Default": RemoteFile(
        "Default.csv", 404710, "d113590204485565bdd692b2d8430e7c2fcc72ec323df92314a745c99a0eefe9"
    ),
    "Hitters": RemoteFile(
        "Hitters.csv", 21003, "ebf7b9dff89366b0544fea09c0ac2df9abdbf5b4ce8d96651316c2c12793d952"
    ),
    "NYSE": RemoteFile(
        "NYSE.csv", 371105, "4bb3e2e9872b2f7e6e8701afb8873cd9f4b7e66ee0b1ba62c116ff2b3a2eec60"
    ),
}
"""The three CSV files: name -> (file name, size in bytes, SHA-256)."""

# Digests of the parsed tables (:func:`_content_digest`) of the same files; the same
# under pandas 2.3 and 3.1.
_CONTENT_SHA256 = {
    "Default": "02c29d792b4658d3670e8d19fa8ab41c44c27922a474243d59030509f769e924",
    "Hitters": "2175a00f28136145044c2b2f82ccbbbde78a98e077558ef76c540a9f7e03dffc",
    "NYSE": "d090ab127d8689e8c0218d760fb069be135519ed035f87838928fe54bec2e97d",
}
# How ISLP.load_data turns the table into its DataFrame: categorical columns (None: the
# categories are the sorted values) and the index column.
_CATEGORIES: dict[str, dict[str, tuple[str, ...] | None]] = {
    "Default": {"default": None, "student": None},
    "Hitters": {"League": None, "Division": None, "NewLeague": None},
    "NYSE": {"day_of_week": ("mon", "tues", "wed", "thur", "fri")},
}
_INDEX = {"NYSE": "date"}


def _pandas():
    try:
        import pandas
    except ImportError as exc:  # pandas is a dependency of nnbook
        raise ImportError("the ISL data sets need pandas: pip install pandas") from exc
    return pandas


def _canonical_number(text: str) -> str:
    """A numeral in one spelling (``"475.0"``, ``"475"``, ``"4.75e2"`` -> ``"475"``)."""
    try:
        return str(Decimal(text.strip()).normalize())
    except InvalidOperation:
        return text


def _content_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a CSV file's parsed table: column names, kinds and values, in order.

    The kind is the dtype ``pandas.read_csv`` infers (``i``, ``f``, ``b``, or ``S`` for
    text), so a copy that writes ``293`` as ``293.0`` (an int column turned float) does not
    match. Floats enter as their numerals in one spelling, not as parsed binary values:
    pandas 2 and 3 parse some numerals 1 ulp apart, and the digest must not depend on that.
    Everything else enters as the parsed value's string; a missing value as ``nan``.
    """
    pd = _pandas()
    parsed = pd.read_csv(path)
    text = pd.read_csv(path, dtype=str, keep_default_na=False)
    h = hashlib.sha256()
    for name in parsed.columns:
        column = parsed[name]
        kind = column.dtype.kind if pd.api.types.is_numeric_dtype(column.dtype) else "S"
        missing = column.isna().to_numpy()
        if kind == "f":
            cells = ["nan" if m else _canonical_number(t) for m, t in zip(missing, text[name])]
        else:
            cells = ["nan" if m else str(v) for m, v in zip(missing, column)]
        h.update(f"{name}\x1e{kind}\x1e".encode() + "\x1f".join(cells).encode() + b"\x1d")
    return h.hexdigest()


def _verifier(name: str):
    """Accept ISLP's bytes, or a table whose parsed content is ISLP's."""
    remote, content = ISLP_FILES[name], _CONTENT_SHA256[name]

    def verify(path: Path) -> str | None:
        if verify_file(path, remote) is None:
            return None
        try:
            digest = _content_digest(path)
        except (ValueError, UnicodeDecodeError, OSError) as exc:
            return f"it does not parse as a CSV table ({str(exc).splitlines()[0]})"
        return None if digest == content else "its values differ from ISLP's (content digest)"

    return verify


def _bundled(name: str) -> list[Path]:
    """The CSV bundled with the ISLP package, if it is installed (found without importing it)."""
    spec = importlib.util.find_spec("ISLP")
    if spec is None or not spec.submodule_search_locations:
        return []
    paths = [Path(p) / "data" / ISLP_FILES[name].name for p in spec.submodule_search_locations]
    return [p for p in paths if p.is_file()]


def read_islp_csv(name: str, path: str | os.PathLike[str]) -> pd.DataFrame:
    """Parse one of ISLP's CSV files into the ``DataFrame`` ``ISLP.load_data(name)`` returns.

    ``name`` is ``"Default"``, ``"Hitters"`` or ``"NYSE"``. The file is read with
    ``pandas.read_csv``; the categorical columns become ``pandas.Categorical`` (NYSE's
    ``day_of_week`` with the categories mon..fri in that order), and NYSE is indexed by
    ``date``. The file is not verified here (:func:`load_islp` does that).
    """
    if name not in ISLP_FILES:
        raise ValueError(f"expected name to be one of {sorted(ISLP_FILES)}, got {name!r}")
    pd = _pandas()
    table = pd.read_csv(path)
    for column, categories in _CATEGORIES[name].items():
        table[column] = pd.Categorical(table[column], categories=categories, ordered=False)
    return table.set_index(_INDEX[name]) if name in _INDEX else table


def load_islp(
    name: str,
    *,
    download: bool = True,
    directory: str | os.PathLike[str] | None = None,
    mirrors: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool | None = None,
) -> pd.DataFrame:
    """ISLP's data set ``name`` ("Default", "Hitters" or "NYSE") from a verified CSV file.

    Looks in ``directory`` (default :func:`~nnbook.data.data_dir`) and the user cache,
    then in the ``ISLP`` package if installed, then downloads from ``mirrors`` (default
    ``ISLP_MIRRORS``) unless ``download=False`` or ``$NNBOOK_OFFLINE`` is set. Raises
    :class:`~nnbook.data.DataUnavailableError` when no source is possible.
    """
    if name not in ISLP_FILES:
        raise ValueError(f"expected name to be one of {sorted(ISLP_FILES)}, got {name!r}")
    bundled = _bundled(name)
    try:
        path = fetch(
            ISLP_FILES[name],
            ISLP_MIRRORS if mirrors is None else tuple(mirrors),
            directory=directory,
            download=download,
            timeout=timeout,
            progress=progress,
            verify=_verifier(name),
            sources=bundled,
        )
    except DataUnavailableError as exc:
        if bundled:
            raise
        hint = "For an offline copy, install the ISLP package while online: pip install ISLP"
        raise DataUnavailableError(f"{exc}\n{hint}", exc.reasons) from exc
    LOG.info("ISLP %s from %s", name, path)
    return read_islp_csv(name, path)


def load_default(**kwargs) -> pd.DataFrame:
    """ISL's Default data: 10,000 credit-card customers, a ``pandas.DataFrame`` of shape (10000, 4).

    Columns ``default`` (Yes/No, the response; 333 Yes), ``student`` (Yes/No),
    ``balance`` and ``income`` (floats). ISL Exercise 10.10.7 (asked for in the
    lecture's Exercise 10.6) fits a one-hidden-layer network with K = 10 units and
    dropout to predict ``default``, and compares it with logistic regression. Keyword
    arguments go to :func:`load_islp` (where the file comes from).
    """
    return load_islp("Default", **kwargs)


def load_hitters(*, dropna: bool = True, **kwargs) -> pd.DataFrame:
    """ISL's Hitters data: baseball players' statistics and 1987 ``Salary`` (the response).

    A ``pandas.DataFrame`` with 20 columns (16 numeric statistics, the categorical
    ``League``, ``Division``, ``NewLeague``, and ``Salary``). 59 players have no salary;
    ``dropna=True`` (default, as in ISL's lab 10.9.1) drops them, leaving 263 rows;
    ``dropna=False`` returns all 322. Keyword arguments go to :func:`load_islp`.
    """
    df = load_islp("Hitters", **kwargs)
    return df.dropna().copy() if dropna else df


def load_nyse(**kwargs) -> pd.DataFrame:
    """ISL's NYSE data: 6,051 trading days, 1962-12-03 to 1986-12-31, indexed by date.

    Columns ``day_of_week`` (categorical mon..fri), ``DJ_return``, ``log_volume``,
    ``log_volatility`` and ``train`` (bool: True for the 4,281 days up to 1979-12-31,
    the training period of ISL Section 10.5.2; the test period starts 1980-01-02). See
    :func:`nyse_lagged` for the lecture's lagged design. Keyword arguments go to
    :func:`load_islp`.
    """
    return load_islp("NYSE", **kwargs)


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
