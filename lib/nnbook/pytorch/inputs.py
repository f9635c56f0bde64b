"""Inputs to the PyTorch stack, checked once at the boundary.

NumPy arrays (or tensors, on any device) of shape ``(n_samples, n_features)`` become CPU
tensors in the model's dtype; labels are checked against the model's number of outputs K.
Also the one seeded context for torch's global generator.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from .._util import as_array, positive_int
from .device import model_device


@contextmanager
def _seeded(seed: int | None) -> Iterator[None]:
    """Run the body with torch's global CPU generator seeded, then restore its old state."""
    if seed is None:
        yield
        return
    seed = _check_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _check_seed(seed: Any) -> int:
    return positive_int(seed, "seed", minimum=0)


def _model_dtype(model: nn.Module) -> torch.dtype:
    for p in model.parameters():
        return p.dtype
    return torch.get_default_dtype()


def _input_size(model: nn.Module) -> int | None:
    for m in model.modules():
        if isinstance(m, nn.Linear):
            return m.in_features
    return None


def _as_tensor(x: Any, name: str) -> torch.Tensor:
    """A numeric CPU tensor (no grad) from a NumPy array, tensor (on any device) or nested list."""
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
        if t.dtype == torch.bool or t.is_complex():
            raise TypeError(f"expected {name} to be a real numeric array, got dtype {t.dtype}")
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise ValueError(f"expected {name} to be finite, but it contains NaN or inf")
        return t
    arr = as_array(x, name, dtype=None)
    if np.iscomplexobj(arr):
        raise TypeError(f"expected {name} to be a real numeric array, got dtype {arr.dtype}")
    return torch.from_numpy(np.ascontiguousarray(arr))


def _check_X(x: Any, name: str, model: nn.Module) -> torch.Tensor:
    """Inputs: at least 2-D ``(n, d)`` (or ``(n, channels, height, width)``), model's dtype."""
    t = _as_tensor(x, name)
    d = _input_size(model)
    if t.ndim < 2:
        want = f"(n, {d})" if d is not None else "(n, d)"
        raise ValueError(f"expected {name} of shape {want}, got {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"expected {name} to hold at least one sample, got shape {tuple(t.shape)}")
    return t.to(_model_dtype(model))


def _output_size(model: nn.Module, X: torch.Tensor, name: str) -> int:
    """Run the model on one sample to check that it accepts X, and return K (its outputs)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(X[:1].to(model_device(model)))
    except RuntimeError as exc:
        d = _input_size(model)
        want = f" of shape (n, {d})" if d is not None else ""
        raise ValueError(
            f"expected {name}{want} for this model, got {tuple(X.shape)} ({exc})"
        ) from None
    finally:
        model.train(was_training)
    if out.ndim != 2:
        raise ValueError(
            f"expected the model to return outputs of shape (n, K), got {tuple(out.shape)}"
        )
    return int(out.shape[1])


def _check_y(y: Any, name: str, n: int, loss: str, K: int, dtype: torch.dtype) -> torch.Tensor:
    """Targets: integer labels 0..K-1 for cross-entropy; real numbers (n,) or (n, K) for MSE."""
    t = _as_tensor(y, name)
    if t.ndim == 0 or t.shape[0] != n:
        got = "a scalar" if t.ndim == 0 else f"{t.shape[0]}"
        raise ValueError(f"expected {name} to hold one target per sample (n = {n}), got {got}")
    if loss == "cross_entropy":
        if t.ndim != 1:
            raise ValueError(
                f"expected {name} of shape (n,) holding class labels, got {tuple(t.shape)}"
            )
        if t.is_floating_point():
            raise TypeError(
                f"expected {name} to hold integer class labels 0..{K - 1}, got dtype {t.dtype} "
                "(convert with y.astype(int))"
            )
        lo, hi = int(t.min()), int(t.max())
        if lo < 0 or hi >= K:
            raise ValueError(
                f"expected {name} in {{0, ..., {K - 1}}} (the model has K = {K} outputs), "
                f"got labels from {lo} to {hi}"
            )
        return t.to(torch.long)
    # mse
    if t.ndim == 1:
        t = t.reshape(-1, 1)
    if t.ndim != 2 or t.shape[1] != K:
        raise ValueError(
            f"expected {name} of shape (n, {K}) (or (n,) when K = 1) for this model, "
            f"got {tuple(t.shape)}"
        )
    return t.to(dtype)
