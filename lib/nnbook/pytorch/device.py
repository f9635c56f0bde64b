"""Where the PyTorch stack computes: the CPU, an NVIDIA GPU (CUDA) or Apple's GPU (MPS).

:func:`choose_device` turns ``fit(device=...)`` into a ``torch.device``. ``"auto"`` takes
the first one available of CUDA (e.g. Colab's GPU runtime), MPS and the CPU; the
environment variable ``NNBOOK_DEVICE`` (e.g. ``cpu``), when set, replaces ``"auto"``, so
that builds and tests stay on the CPU. Results on a GPU can differ from the CPU's in the
last digits (other kernels, other orders of summation).
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn

#: The device names :func:`choose_device` accepts besides a ``torch.device``.
DEVICES = ("auto", "cpu", "cuda", "mps")


def available_devices() -> list[str]:
    """The device types this machine can compute on, the CPU always among them."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if torch.backends.mps.is_available():
        found.append("mps")
    return found


def choose_device(device: Any = "auto", dtype: torch.dtype = torch.float32) -> torch.device:
    """The ``torch.device`` to train on.

    ``device`` is ``"auto"``, ``"cpu"``, ``"cuda"`` (or ``"cuda:1"``), ``"mps"`` or a
    ``torch.device``. ``"auto"`` is the value of the environment variable ``NNBOOK_DEVICE``
    when it is set, else CUDA if available, then MPS (for models in ``dtype`` float32: MPS
    has no float64), then the CPU. Asking for a device this machine lacks is an error.
    """
    name = "device"
    if isinstance(device, str) and device == "auto" and os.environ.get("NNBOOK_DEVICE", "").strip():
        device, name = os.environ["NNBOOK_DEVICE"].strip().lower(), "NNBOOK_DEVICE"
    if isinstance(device, str) and device == "auto":
        found = available_devices()
        if "cuda" in found:
            return torch.device("cuda")
        if "mps" in found and dtype != torch.float64:
            return torch.device("mps")
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"expected {name} to be one of {list(DEVICES)} or a torch.device, got {device!r}"
        ) from None
    if chosen.type not in available_devices():
        raise ValueError(
            f"expected {name} to be a device available here ({', '.join(available_devices())}), "
            f"got {device!r}: torch finds no {chosen.type} device on this machine"
        )
    return chosen


def model_device(model: nn.Module) -> torch.device:
    """The device holding the model's parameters (the CPU for a model without any)."""
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


__all__ = ["DEVICES", "available_devices", "choose_device", "model_device"]
