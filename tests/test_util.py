"""Tests for nnbook._util (validation, the thread limiter, the timer) and nnbook.seed."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

import nnbook
from nnbook import _util


# --------------------------------------------------------------------------- as_array
def test_as_array_converts_and_checks_shape():
    out = _util.as_array([[1, 2], [3, 4]], "X", shape=(None, 2))
    assert out.dtype == np.float64 and out.shape == (2, 2)
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 784\), got \(784,\)"):
        _util.as_array(np.zeros(784), "X", shape=(None, 784))
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 3\), got \(2, 2\)"):
        _util.as_array(np.zeros((2, 2)), "X", shape=("n", 3))
    with pytest.raises(ValueError, match=r"expected w of shape 2-D"):
        _util.as_array(np.zeros(3), "w", ndim=2)


@pytest.mark.parametrize("bad", ["abc", None, b"x", [1, "a"]])
def test_as_array_rejects_non_numeric(bad):
    with pytest.raises(TypeError, match="expected y to be a numeric array"):
        _util.as_array(bad, "y")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_as_array_and_require_finite_reject_nan_and_inf(value):
    with pytest.raises(ValueError, match="expected X to be finite, but it contains NaN or inf"):
        _util.as_array([1.0, value], "X")
    assert np.isnan(_util.as_array([1.0, np.nan], "X", finite=False)[1])
    with pytest.raises(ValueError, match="expected H to be finite"):
        _util.require_finite(np.array([[0.0, value]]), "H")
    ints = np.array([1, 2])
    assert _util.require_finite(ints, "k") is ints


# --------------------------------------------------------------------------- numbers
def test_real_number_accepts_numbers_and_names_what_it_wanted():
    assert _util.real_number(3, "a") == 3.0
    assert _util.real_number(np.float32(0.5), "a") == 0.5
    assert _util.real_number(np.array(2.0), "a") == 2.0
    for bad in (True, "1", [1.0], np.array([1.0, 2.0])):
        with pytest.raises(TypeError, match="expected the exponent to be a real number"):
            _util.real_number(bad, "the exponent")


def test_positive_int_and_float():
    assert _util.positive_int(np.int64(3), "k") == 3
    assert _util.positive_int(0, "k", minimum=0) == 0
    with pytest.raises(TypeError, match="expected k to be an int >= 1, got float"):
        _util.positive_int(2.0, "k")
    with pytest.raises(TypeError, match="got bool"):
        _util.positive_int(True, "k")
    with pytest.raises(ValueError, match="expected k to be an int >= 1, got 0"):
        _util.positive_int(0, "k")
    assert _util.positive_float(2, "eta") == 2.0
    assert _util.positive_float(0.0, "lam", allow_zero=True) == 0.0
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="expected eta > 0"):
            _util.positive_float(bad, "eta")
    with pytest.raises(ValueError, match="expected lam >= 0, got -0.1"):
        _util.positive_float(-0.1, "lam", allow_zero=True)
    with pytest.raises(TypeError, match="expected eta to be a number, got str"):
        _util.positive_float("0.1", "eta")


def test_one_of_lists_the_options():
    assert _util.one_of("relu", "activation", ["tanh", "relu"]) == "relu"
    with pytest.raises(ValueError, match=r"expected activation to be one of \['relu', 'tanh'\]"):
        _util.one_of("swish", "activation", ["tanh", "relu"])


def test_as_rng():
    g = np.random.default_rng(5)
    assert _util.as_rng(g) is g
    assert _util.as_rng(7).integers(10**9) == np.random.default_rng(7).integers(10**9)
    assert _util.as_rng(None).integers(10**9) == np.random.default_rng(
        nnbook.DEFAULT_SEED
    ).integers(10**9)
    with pytest.raises(
        TypeError, match="expected rng to be a numpy Generator, an int seed or None"
    ):
        _util.as_rng(1.5)


# --------------------------------------------------------------------------- threads
def test_limit_threads_limits_and_restores_torch_and_blas():
    before = torch.get_num_threads()
    with _util.limit_threads(1):
        assert torch.get_num_threads() == 1
        blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        assert blas and all(n == 1 for n in blas)
    assert torch.get_num_threads() == before
    with _util.limit_threads(1, torch_too=False):
        assert torch.get_num_threads() == before
    with _util.limit_threads(None):
        assert torch.get_num_threads() == before


def test_limit_threads_restores_after_an_exception():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), _util.limit_threads(1):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before


# --------------------------------------------------------------------------- timer
def test_best_times_takes_the_minimum_and_alternates():
    calls: list[str] = []
    durations = {"a": iter([0.5, 0.2, 0.9]), "b": iter([0.1, 0.3, 0.05])}
    clock_now = [0.0]

    def clock() -> float:
        return clock_now[0]

    def make(name):
        def fn():
            calls.append(name)
            clock_now[0] += next(durations[name])

        return fn

    best = _util.best_times([make("a"), make("b")], 3, clock)
    assert best == pytest.approx([0.2, 0.05])
    assert calls == ["a", "b"] * 3  # round r runs every function once


def test_best_times_with_the_real_clock():
    (t,) = _util.best_times([lambda: time.sleep(0.002)], 2)
    assert 0.0015 < t < 1.0


# --------------------------------------------------------------------------- seed
def test_seed_makes_python_numpy_and_torch_repeatable():
    rng = nnbook.seed(3)
    a = (random.random(), np.random.rand(), torch.rand(1).item(), rng.random())
    rng = nnbook.seed(3)
    b = (random.random(), np.random.rand(), torch.rand(1).item(), rng.random())
    assert a == b
    assert nnbook.seed(4).random() != nnbook.seed(3).random()


@pytest.mark.parametrize("bad", [1.5, "0", True, None])
def test_seed_rejects_what_is_not_an_int(bad):
    with pytest.raises(TypeError, match="expected seed to be an int"):
        nnbook.seed(bad)
