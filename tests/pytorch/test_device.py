"""Tests for nnbook.pytorch.device: which device fit trains on.

The choice is tested with the availability of CUDA and MPS simulated; the devices themselves
are exercised in test_train.py, parametrised over the devices of the machine.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch_fixtures import DEVICES

from nnbook.pytorch import device as D


@pytest.fixture
def machine(monkeypatch):
    """Pretend the machine has the given accelerators: machine(cuda=True, mps=False)."""
    monkeypatch.delenv("NNBOOK_DEVICE", raising=False)

    def set_up(cuda=False, mps=False):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return set_up


@pytest.mark.parametrize(
    ("cuda", "mps", "dtype", "expected"),
    [
        (True, True, torch.float32, "cuda"),  # CUDA first
        (True, False, torch.float64, "cuda"),
        (False, True, torch.float32, "mps"),  # then Apple's GPU
        (False, True, torch.float64, "cpu"),  # which has no float64
        (False, False, torch.float32, "cpu"),  # then the CPU
    ],
)
def test_auto_takes_cuda_then_mps_then_cpu(machine, cuda, mps, dtype, expected):
    machine(cuda=cuda, mps=mps)
    assert D.choose_device("auto", dtype) == torch.device(expected)
    assert D.choose_device(dtype=dtype) == torch.device(expected)  # "auto" is the default


def test_available_devices_lists_the_cpu_first(machine):
    machine()
    assert D.available_devices() == ["cpu"]
    machine(cuda=True, mps=True)
    assert D.available_devices() == ["cpu", "cuda", "mps"]


@pytest.mark.parametrize("value", ["cpu", "CPU", " cpu "])
def test_nnbook_device_replaces_auto_only(machine, monkeypatch, value):
    machine(cuda=True)
    monkeypatch.setenv("NNBOOK_DEVICE", value)
    assert D.choose_device("auto") == torch.device("cpu")
    assert D.choose_device("cuda") == torch.device("cuda")  # an explicit choice stays


def test_an_empty_nnbook_device_means_auto(machine, monkeypatch):
    machine(cuda=True)
    monkeypatch.setenv("NNBOOK_DEVICE", "")
    assert D.choose_device() == torch.device("cuda")


def test_explicit_devices(machine):
    machine(cuda=True)
    assert D.choose_device("cpu") == torch.device("cpu")
    assert D.choose_device(torch.device("cpu")) == torch.device("cpu")
    assert D.choose_device("cuda:1") == torch.device("cuda", 1)


@pytest.mark.parametrize("name", ["cuda", "mps", "cuda:0"])
def test_a_missing_device_is_an_error_naming_it(machine, name):
    machine()
    with pytest.raises(ValueError, match=rf"available here \(cpu\), got '{name}'"):
        D.choose_device(name)


@pytest.mark.parametrize("bad", ["gpu", "", 3.5, None])
def test_unknown_devices_are_rejected(machine, bad):
    machine()
    with pytest.raises(ValueError, match="expected device to be one of"):
        D.choose_device(bad)


def test_a_bad_nnbook_device_is_named_in_the_message(machine, monkeypatch):
    machine()
    monkeypatch.setenv("NNBOOK_DEVICE", "gpu")
    with pytest.raises(ValueError, match="expected NNBOOK_DEVICE to be one of"):
        D.choose_device()
    monkeypatch.setenv("NNBOOK_DEVICE", "cuda")
    with pytest.raises(ValueError, match="expected NNBOOK_DEVICE to be a device available"):
        D.choose_device()


@pytest.mark.parametrize("device", DEVICES)
def test_model_device(device):
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)).to(device)
    assert D.model_device(model).type == device
    assert D.model_device(nn.ReLU()) == torch.device("cpu")  # no parameters
