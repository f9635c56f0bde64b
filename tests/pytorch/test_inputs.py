"""Tests for nnbook.pytorch.inputs: arrays checked once at the boundary of the PyTorch stack."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_fixtures import DEVICES

from nnbook.pytorch.inputs import _as_tensor, _check_X, _check_y, _output_size, _seeded
from nnbook.pytorch.models import make_mlp


@pytest.mark.parametrize("device", DEVICES)
def test_tensors_on_any_device_come_back_on_the_cpu(device):
    x = torch.arange(6.0).reshape(3, 2).to(device).requires_grad_()
    t = _as_tensor(x, "X")
    assert t.device.type == "cpu" and not t.requires_grad
    np.testing.assert_array_equal(t.numpy(), np.arange(6.0).reshape(3, 2))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
@pytest.mark.parametrize("wrap", [np.array, torch.tensor, lambda a: a])
def test_non_finite_values_are_rejected_naming_the_array(bad, wrap):
    with pytest.raises(ValueError, match="expected X_val to be finite"):
        _as_tensor(wrap([[1.0, bad]]), "X_val")


def test_bool_and_complex_arrays_are_rejected():
    with pytest.raises(TypeError, match="real numeric array"):
        _as_tensor(torch.tensor([True, False]), "y")
    with pytest.raises(TypeError, match="real numeric array"):
        _as_tensor(np.array([1 + 2j]), "y")
    with pytest.raises(TypeError, match="numeric array"):
        _as_tensor("pixels", "X")


def test_inputs_take_the_models_dtype_and_labels_become_long():
    model = make_mlp([2, 3, 4], dtype=torch.float64, seed=0)
    X = _check_X(np.zeros((5, 2), dtype=np.float32), "X", model)
    assert X.dtype == torch.float64
    K = _output_size(model, X, "X")
    assert K == 4
    y = _check_y(np.array([0, 3, 1, 2, 0], dtype=np.int32), "y", 5, "cross_entropy", K, X.dtype)
    assert y.dtype == torch.long
    t = _check_y(np.zeros(5), "y", 5, "mse", 1, torch.float64)
    assert t.shape == (5, 1)


@pytest.mark.parametrize("device", DEVICES)
def test_output_size_runs_the_model_on_its_device(device):
    model = make_mlp([2, 3, 4], seed=0).to(device)
    assert _output_size(model, torch.zeros(5, 2), "X") == 4
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 2\)"):
        _output_size(model, torch.zeros(5, 3), "X")


def test_seeded_restores_the_global_generator():
    torch.manual_seed(1)
    expected = torch.rand(2)
    torch.manual_seed(1)
    with _seeded(5):
        inside = torch.rand(2)
    with _seeded(5):
        assert torch.equal(torch.rand(2), inside)  # the seed decides
    assert torch.equal(torch.rand(2), expected)  # the global stream is untouched
