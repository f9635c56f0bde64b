"""Tests for nnbook.pytorch.convert: the one optimiser registry of the PyTorch stack.

(The MLP and ShallowNet conversions are tested beside the engine's models for now.)
"""

from __future__ import annotations

import inspect

import torch

from nnbook.engine.optim import OPTIMIZERS, Momentum
from nnbook.pytorch.convert import TORCH_OPTIMIZERS


def test_registry_names_are_the_engines_plus_adamw():
    assert set(TORCH_OPTIMIZERS) == set(OPTIMIZERS) | {"adamw"}
    assert all(issubclass(c, torch.optim.Optimizer) for c in TORCH_OPTIMIZERS.values())


def test_momentum_is_sgd_with_the_engines_default_mu():
    """fit(optimizer="momentum") uses mu = 0.9 by default, the engine's Momentum default."""
    assert TORCH_OPTIMIZERS["momentum"] is torch.optim.SGD
    assert inspect.signature(Momentum).parameters["momentum"].default == 0.9
