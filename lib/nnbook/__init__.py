"""nnbook: the library behind *Neural Networks: Fundamentals*.

The package is laid out by what each part is for:

- ``nnbook.engine``: NumPy from scratch, what students study and reuse across chapters;
- ``nnbook.pytorch``: the PyTorch training stack used from Chapter 6 on;
- ``nnbook.chapters``: helpers for one page each, named after it (``ch02_depth``, ...);
- ``nnbook.exercises``: the feedback framework (``checks``) and one module per exercise;
- ``nnbook.data``: loaders, verified downloads and generated data sets;
- ``nnbook.viz``: the figure style, graph drawing and the interactive player.

The only global state is the random seed, set explicitly with :func:`seed`.
"""

from __future__ import annotations

import os
import random

import numpy as np

__version__ = "0.1.0"

DEFAULT_SEED = 0


def seed(value: int = DEFAULT_SEED) -> np.random.Generator:
    """Seed Python, NumPy and PyTorch, and return a NumPy Generator.

    Every notebook calls ``nnbook.seed()`` first, so two builds print the same numbers.
    """
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"expected seed to be an int, got {type(value).__name__}")
    value = int(value)
    random.seed(value)
    np.random.seed(value % 2**32)
    os.environ.setdefault("PYTHONHASHSEED", str(value))
    import torch

    torch.manual_seed(value)
    torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(value)


__all__ = ["seed", "DEFAULT_SEED", "__version__"]
