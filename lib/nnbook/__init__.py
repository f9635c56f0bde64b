"""nnbook: the library behind *Neural Networks: Fundamentals*.

Every object in here carries a docstring line saying which chapter introduced it;
the chapters show the library source with ``literalinclude`` so that the book and
the code cannot drift apart.

The only global state is the random seed, set explicitly with :func:`seed`.
"""

from __future__ import annotations

import os
import random

import numpy as np

__version__ = "0.1.0"

DEFAULT_SEED = 0


def seed(value: int = DEFAULT_SEED) -> np.random.Generator:
    """Seed Python, NumPy and (if installed) PyTorch, and return a NumPy Generator.

    Introduced in Chapter 1, Universal approximation. Every notebook calls
    ``nnbook.seed()`` first, so two builds print the same numbers.
    """
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"expected seed to be an int, got {type(value).__name__}")
    value = int(value)
    random.seed(value)
    np.random.seed(value % 2**32)
    os.environ.setdefault("PYTHONHASHSEED", str(value))
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency, but stay usable without it
        pass
    else:
        torch.manual_seed(value)
        torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(value)


__all__ = ["seed", "DEFAULT_SEED", "__version__"]
