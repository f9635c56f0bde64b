"""Tests for nnbook.engine.losses: values and gradients against PyTorch and direct formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from nnbook.engine import losses
from nnbook.engine.losses import (
    BCEWithLogits,
    CrossEntropy,
    SquaredError,
    binary_cross_entropy,
    binary_cross_entropy_grad,
    cross_entropy,
    cross_entropy_grad,
    l2_penalty,
    log_softmax,
    one_hot,
    softmax,
    squared_error,
    squared_error_grad,
)

FAST = settings(max_examples=25, deadline=None)


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0))
    return 0.0 if scale == 0 else float(np.abs(a - b).max() / scale)


shapes = st.tuples(st.integers(1, 12), st.integers(1, 8))


# ---------------------------------------------------------------------------- softmax


@FAST
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), scale=st.sampled_from([0.1, 1.0, 30.0]))
def test_softmax_and_log_softmax_match_scipy_and_torch(shape, seed, scale):
    Z = np.random.default_rng(seed).standard_normal(shape) * scale
    expected_log = Z - logsumexp(Z, axis=1, keepdims=True)
    assert rel_err(log_softmax(Z), expected_log) <= 1e-12
    assert rel_err(softmax(Z), torch.softmax(torch.tensor(Z), dim=1).numpy()) <= 1e-12
    np.testing.assert_allclose(softmax(Z).sum(axis=1), 1.0, rtol=1e-12)


def test_softmax_is_stable_for_huge_logits():
    Z = np.array([[1000.0, 0.0, -1000.0], [-1e308, 0.0, 1e3]])
    P = softmax(Z)
    assert np.all(np.isfinite(P))
    np.testing.assert_allclose(P[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(log_softmax(Z)[0], [0.0, -1000.0, -2000.0])
    Z32 = np.array([[100.0, 0.0]], dtype=np.float32)
    assert softmax(Z32).dtype == log_softmax(Z32).dtype == np.float32
    assert np.all(np.isfinite(log_softmax(Z32)))


# ---------------------------------------------------------------------------- cross-entropy


@FAST
@given(
    shape=shapes,
    seed=st.integers(0, 2**31 - 1),
    one_hot_labels=st.booleans(),
    reduction=st.sampled_from(["mean", "sum"]),
)
def test_cross_entropy_matches_torch_value_and_autograd(shape, seed, one_hot_labels, reduction):
    n, K = shape
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, K)) * 3
    y = rng.integers(0, K, n)
    target = one_hot(y, K) if one_hot_labels else y
    Z_t = torch.tensor(Z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(Z_t, torch.tensor(y), reduction=reduction)
    ref.backward()
    assert cross_entropy(Z, target, reduction) == pytest.approx(ref.item(), rel=1e-12, abs=1e-14)
    assert rel_err(cross_entropy_grad(Z, target, reduction), Z_t.grad.numpy()) <= 1e-10
    loss = CrossEntropy(reduction)
    assert loss(Z, target) == pytest.approx(ref.item(), rel=1e-12, abs=1e-14)
    assert rel_err(loss.backward(), Z_t.grad.numpy()) <= 1e-10


def test_cross_entropy_is_the_slides_negative_log_likelihood():
    Z = np.array([[2.0, 1.0, 0.1], [0.0, 0.0, 3.0]])
    y = np.array([0, 2])
    f = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)  # the softmax f_m(X), written out
    Y = np.eye(3)[y]
    slides = -np.sum(Y * np.log(f))  # R = -sum_i sum_m y_im log f_m(x_i)
    assert cross_entropy(Z, y, reduction="sum") == pytest.approx(slides, rel=1e-13)
    assert cross_entropy(Z, y) == pytest.approx(slides / 2, rel=1e-13)


def test_cross_entropy_is_stable_and_exact_for_huge_logits():
    Z = np.array([[1000.0, -1000.0]])
    assert cross_entropy(Z, [0]) == 0.0
    assert cross_entropy(Z, [1]) == pytest.approx(2000.0)
    np.testing.assert_allclose(cross_entropy_grad(Z, [1]), [[1.0, -1.0]])


def test_soft_labels_match_torch_probabilities():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((5, 4))
    P = rng.random((5, 4))
    P /= P.sum(axis=1, keepdims=True)
    ref = torch.nn.functional.cross_entropy(torch.tensor(Z), torch.tensor(P))
    assert cross_entropy(Z, P) == pytest.approx(ref.item(), rel=1e-12)


def test_cross_entropy_float32_stays_float32():
    Z = np.random.default_rng(0).standard_normal((8, 10)).astype(np.float32)
    y = np.arange(8)
    loss = CrossEntropy()
    value = loss(Z, y)
    assert isinstance(value, float)
    assert loss.backward().dtype == np.float32
    assert cross_entropy_grad(Z, y).dtype == np.float32
    assert value == pytest.approx(cross_entropy(Z.astype(np.float64), y), rel=1e-5)


def test_cross_entropy_rejects_bad_labels_with_clear_messages():
    Z = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels in 0\.\.3"):
        cross_entropy(Z, [0, 1, 4])
    with pytest.raises(
        ValueError, match=r"expected y of shape \(3,\) \(integer labels\) or \(3, 4\)"
    ):
        cross_entropy(Z, [0, 1])
    with pytest.raises(ValueError, match=r"\(3, 4\) \(one-hot\)"):
        cross_entropy(Z, np.zeros((3, 3)))
    with pytest.raises(TypeError, match="integer class labels"):
        cross_entropy(Z, [0.5, 1, 2])
    with pytest.raises(ValueError, match=r"expected logits Z of shape \(n, K\)"):
        cross_entropy(np.zeros(4), [1])
    assert cross_entropy(Z, [0.0, 1.0, 2.0]) == pytest.approx(np.log(4))  # integral floats are fine
    with pytest.raises(RuntimeError, match="forward before backward"):
        CrossEntropy().backward()
    with pytest.raises(ValueError, match="reduction"):
        CrossEntropy("average")


# ---------------------------------------------------------------------------- squared error


@FAST
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), reduction=st.sampled_from(["mean", "sum"]))
def test_squared_error_is_half_the_squared_residual_averaged_over_samples(shape, seed, reduction):
    n, K = shape
    rng = np.random.default_rng(seed)
    f, y = rng.standard_normal((n, K)), rng.standard_normal((n, K))
    f_t = torch.tensor(f, requires_grad=True)
    ref = 0.5 * ((torch.tensor(y) - f_t) ** 2).sum() / (n if reduction == "mean" else 1)
    ref.backward()
    assert squared_error(f, y, reduction) == pytest.approx(ref.item(), rel=1e-12)
    assert rel_err(squared_error_grad(f, y, reduction), f_t.grad.numpy()) <= 1e-12
    loss = SquaredError(reduction)
    assert loss(f, y) == pytest.approx(ref.item(), rel=1e-12)
    assert rel_err(loss.backward(), f_t.grad.numpy()) <= 1e-12


def test_squared_error_versus_torch_mse_convention():
    rng = np.random.default_rng(0)
    f, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    mse = torch.nn.functional.mse_loss(torch.tensor(f), torch.tensor(y)).item()
    assert squared_error(f, y) == pytest.approx(3 / 2 * mse, rel=1e-12)  # ours = (K/2) MSELoss


def test_squared_error_shapes():
    f = np.array([[1.0], [2.0], [3.0]])
    assert squared_error(f, [1.0, 2.0, 5.0]) == pytest.approx(
        0.5 * 4 / 3
    )  # (n,) target for (n, 1) output
    assert squared_error_grad(f, [1.0, 2.0, 5.0]).shape == (3, 1)
    with pytest.raises(ValueError, match=r"expected y of shape \(3, 1\)"):
        squared_error(f, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="finite"):
        squared_error(f, [1.0, np.nan, 2.0])


# ---------------------------------------------------------------------------- binary cross-entropy


@FAST
@given(n=st.integers(1, 12), K=st.sampled_from([None, 1, 3]), seed=st.integers(0, 2**31 - 1))
def test_bce_matches_torch_value_and_autograd(n, K, seed):
    rng = np.random.default_rng(seed)
    shape = (n,) if K is None else (n, K)
    z = rng.standard_normal(shape) * 4
    y = rng.random(shape).round()
    z_t = torch.tensor(z, requires_grad=True)
    # torch averages over all n*K entries; ours sums over the K outputs and averages over n
    ref = (
        torch.nn.functional.binary_cross_entropy_with_logits(z_t, torch.tensor(y), reduction="sum")
        / n
    )
    ref.backward()
    assert binary_cross_entropy(z, y) == pytest.approx(ref.item(), rel=1e-12)
    assert rel_err(binary_cross_entropy_grad(z, y), z_t.grad.numpy()) <= 1e-12
    loss = BCEWithLogits()
    assert loss(z, y) == pytest.approx(ref.item(), rel=1e-12)
    assert rel_err(loss.backward(), z_t.grad.numpy()) <= 1e-12


def test_bce_is_the_log_likelihood_and_stable():
    z, y = np.array([0.3, -1.2]), np.array([1.0, 0.0])
    s = 1 / (1 + np.exp(-z))
    direct = -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s))
    assert binary_cross_entropy(z, y) == pytest.approx(direct, rel=1e-13)
    big = np.array([800.0, -800.0])
    assert binary_cross_entropy(big, [1.0, 0.0]) == 0.0
    assert binary_cross_entropy(big, [0.0, 1.0]) == pytest.approx(800.0)
    np.testing.assert_allclose(binary_cross_entropy_grad(big, [0.0, 1.0]), [0.5, -0.5])


# ---------------------------------------------------------------------------- misc


def test_l2_penalty_is_half_lambda_times_squared_norm():
    a, b = np.array([1.0, 2.0]), np.array([[3.0]])
    assert l2_penalty([a, b], 0.1) == pytest.approx(0.05 * 14)


def test_get_loss_by_name():
    assert isinstance(losses.get("cross_entropy"), CrossEntropy)
    assert isinstance(losses.get("bce"), BCEWithLogits)
    assert losses.get("squared_error", "sum").reduction == "sum"
    with pytest.raises(ValueError, match="loss name"):
        losses.get("hinge")


def test_one_hot():
    np.testing.assert_array_equal(one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
