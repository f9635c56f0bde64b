"""The spam data of ESL Section 9.1.2 (UCI "Spambase"), downloaded, verified and cached.

4,601 e-mails, d = 57 features (48 word frequencies, 6 character frequencies, 3
statistics of runs of capital letters) and a label y = 1 for spam (1,813 of them).
Source: UCI Machine Learning Repository, dataset 94 (Spambase), CC BY 4.0.

Copies of ``spambase.data`` circulate with LF line endings or a header row, so a file
is accepted if its bytes are the UCI original (size and SHA-256) *or* its parsed content
is (shape (4601, 58), label sum 1813, total sum 1614895.538, and a digest of the parsed
numbers). A header row or any changed value is rejected.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .dataset import Dataset, stratified_split
from .download import DEFAULT_TIMEOUT, DataIntegrityError, RemoteFile, fetch, verify_file

__all__ = ["SPAM_FEATURES", "SPAM_FILE", "SPAM_MIRRORS", "load_spam", "read_spam"]

SPAM_FILE = RemoteFile(
    "spambase.data", 702942, "b1ef93de71f97714d3d7d4f58fc9f718da7bbc8ac8a150eff2778616a8097b12"
)
"""The UCI file: 4601 lines of 58 comma-separated numbers, CRLF line endings, no header."""

SPAM_MIRRORS: tuple[str, ...] = (
    "https://archive.ics.uci.edu/ml/machine-learning-databases/spambase/",
)
"""Where ``spambase.data`` is downloaded from."""

SPAM_SHAPE = (4601, 58)
SPAM_LABEL_SUM = 1813
SPAM_TOTAL_SUM = 1614895.538
# sha256 of the parsed values as little-endian float64, C order (from the verified UCI file).
SPAM_CONTENT_SHA256 = "706f0f74d9834f661de15274da6727d81955b258cdd7c50a4d80d15f15e5e5b4"

_WORDS = [
    "make",
    "address",
    "all",
    "3d",
    "our",
    "over",
    "remove",
    "internet",
    "order",
    "mail",
    "receive",
    "will",
    "people",
    "report",
    "addresses",
    "free",
    "business",
    "email",
    "you",
    "credit",
    "your",
    "font",
    "000",
    "money",
    "hp",
    "hpl",
    "george",
    "650",
    "lab",
    "labs",
    "telnet",
    "857",
    "data",
    "415",
    "85",
    "technology",
    "1999",
    "parts",
    "pm",
    "direct",
    "cs",
    "meeting",
    "original",
    "project",
    "re",
    "edu",
    "table",
    "conference",
]
SPAM_FEATURES: tuple[str, ...] = (
    tuple(f"word_freq_{w}" for w in _WORDS)
    + tuple(f"char_freq_{c}" for c in ";([!$#")
    + ("capital_run_length_average", "capital_run_length_longest", "capital_run_length_total")
)
"""The 57 feature names, in column order (from UCI's ``spambase.names``)."""


def _content_problem(table: np.ndarray) -> str | None:
    """Why a parsed table is not the spam data, or ``None`` if it is."""
    if table.shape != SPAM_SHAPE:
        return f"parsed shape {table.shape}, expected {SPAM_SHAPE}"
    labels = table[:, -1]
    if not np.all((labels == 0) | (labels == 1)):
        return "the last column is not a 0/1 label"
    if int(labels.sum()) != SPAM_LABEL_SUM:
        return f"label sum {int(labels.sum())}, expected {SPAM_LABEL_SUM}"
    total = round(float(table.sum()), 3)
    if total != SPAM_TOTAL_SUM:
        return f"sum of all entries {total}, expected {SPAM_TOTAL_SUM}"
    digest = hashlib.sha256(np.ascontiguousarray(table, dtype="<f8").tobytes()).hexdigest()
    if digest != SPAM_CONTENT_SHA256:
        return "the values differ from the UCI file (content digest mismatch)"
    return None


def _parse(path: str | os.PathLike[str]) -> np.ndarray:
    try:
        return np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise DataIntegrityError(
            f"{path} is not 58 comma-separated numbers per line ({first})"
        ) from None


def read_spam(path: str | os.PathLike[str]) -> np.ndarray:
    """Parse and verify a ``spambase.data`` file; return the (4601, 58) float64 table.

    The last column is the label. Raises :class:`~nnbook.data.DataIntegrityError` if the
    file does not parse (e.g. a header row) or its content is not the UCI data.
    """
    table = _parse(path)
    problem = _content_problem(table)
    if problem is not None:
        raise DataIntegrityError(f"{path}: {problem}")
    return table


def _verify(path: Path) -> str | None:
    """Accept the UCI bytes, or any file whose parsed content is the UCI data."""
    if verify_file(path, SPAM_FILE) is None:
        return None
    try:
        read_spam(path)
    except DataIntegrityError as exc:
        return str(exc).removeprefix(f"{path}: ")
    return None


def load_spam(
    *,
    n_test: int = 1536,
    seed: int = 0,
    download: bool = True,
    directory: str | os.PathLike[str] | None = None,
    mirrors: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool | None = None,
) -> Dataset:
    """Load the spam data: X of shape (4601, 57) float64, y in {0, 1} (1 = spam), split train/test.

    The file ``spambase.data`` is looked up in ``directory`` (default
    :func:`~nnbook.data.data_dir`; with ``NNBOOK_DATA=/path/to/folder`` a verified copy
    there is used and the network is never touched) and the user cache, verified, and
    otherwise downloaded from UCI with pooch (unless ``download=False`` or
    ``$NNBOOK_OFFLINE`` is set).

    ESL uses a fixed split of 3,065 training and 1,536 test e-mails (``spam.traintest``,
    not shipped here); this returns a *seeded stratified* split of the same sizes
    (``n_test``, default 1,536; ``n_test=0`` puts everything in the training set), so
    numbers will differ slightly from ESL's.
    """
    mirrors = SPAM_MIRRORS if mirrors is None else tuple(mirrors)
    path = fetch(
        SPAM_FILE,
        mirrors,
        directory=directory,
        download=download,
        timeout=timeout,
        progress=progress,
        verify=_verify,
    )
    table = read_spam(path)
    X, y = table[:, :-1], table[:, -1].astype(np.int64)
    train, test = stratified_split(y, n_test, seed=seed)
    exact = verify_file(path, SPAM_FILE) is None
    check = "SHA-256 verified" if exact else "content verified; bytes differ from the UCI original"
    note = (
        f"UCI Spambase (ESL 9.1.2), {len(y):,} e-mails from {path} ({check}), "
        f"split {len(train):,} train / {len(test):,} test, stratified, seed {seed}"
    )
    return Dataset(
        X[train],
        y[train],
        X[test],
        y[test],
        source="uci-spambase",
        note=note,
        feature_names=SPAM_FEATURES,
    )
