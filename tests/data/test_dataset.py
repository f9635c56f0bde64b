"""Tests for nnbook.data.dataset: the Dataset record and the seeded stratified split."""

from __future__ import annotations

import numpy as np
import pytest

import nnbook.data as D


def test_stratified_split_sizes():
    y = np.array([0] * 70 + [1] * 30)
    train, test = D.stratified_split(y, 10, seed=3)
    assert len(test) == 10 and np.sum(y[test] == 1) == 3
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))
    with pytest.raises(ValueError, match="n_test"):
        D.stratified_split(y, 101)


def test_stratified_split_is_seeded():
    y = np.arange(200) % 4
    a, b, c = (D.stratified_split(y, 40, seed=s) for s in (0, 0, 1))
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(np.sort(a[1]), np.sort(c[1]))
    assert np.bincount(y[a[1]]).tolist() == [10] * 4


def test_dataset_checks_lengths_and_unpacks():
    X, y = np.zeros((5, 2)), np.zeros(5)
    data = D.Dataset(X, y, X[:2], y[:2], source="test")
    X_train, y_train, X_test, y_test = data
    assert (data.n_train, data.n_test) == (5, 2) and X_test.shape == (2, 2)
    with pytest.raises(ValueError, match=r"len\(X_train\) == len\(y_train\)"):
        D.Dataset(X, y[:4], X, y, source="test")
