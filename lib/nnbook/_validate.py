"""Input checks shared by the public functions of nnbook.

Every public function checks its inputs and fails with a message that names what
was expected, e.g. ``expected X of shape (n, 784), got (784,)``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def _fmt_shape(shape: Sequence[int | str | None]) -> str:
    parts = ["n" if s is None else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def as_array(
    x: Any,
    name: str,
    *,
    ndim: int | None = None,
    shape: Sequence[int | str | None] | None = None,
    dtype: Any = np.float64,
    finite: bool = True,
) -> np.ndarray:
    """Convert ``x`` to a NumPy array and check it.

    ``shape`` may hold ints (must match), ``None`` (any size) or strings (any size,
    used only in the message, e.g. ``"n"``). Raises ``TypeError`` for non-numeric
    input and ``ValueError`` for a wrong shape or non-finite values.
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"expected {name} to be a numeric array, got {type(x).__name__}")
    try:
        arr = np.asarray(x, dtype=dtype) if dtype is not None else np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"expected {name} to be a numeric array, got {type(x).__name__}: {exc}") from None
    if dtype is None and not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"expected {name} to be a numeric array, got dtype {arr.dtype}")
    if shape is not None:
        ndim = len(shape)
    if ndim is not None and arr.ndim != ndim:
        want = _fmt_shape(shape) if shape is not None else f"{ndim}-D"
        raise ValueError(f"expected {name} of shape {want}, got {arr.shape}")
    if shape is not None:
        for want, got in zip(shape, arr.shape):
            if isinstance(want, (int, np.integer)) and want != got:
                raise ValueError(f"expected {name} of shape {_fmt_shape(shape)}, got {arr.shape}")
    if finite and np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise ValueError(f"expected {name} to be finite, but it contains NaN or inf")
    return arr


def positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Check that ``value`` is an integer >= ``minimum`` and return it as ``int``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"expected {name} to be an int >= {minimum}, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"expected {name} to be an int >= {minimum}, got {value}")
    return int(value)


def positive_float(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Check that ``value`` is a real number > 0 (or >= 0) and return it as ``float``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"expected {name} to be a number, got {type(value).__name__}")
    value = float(value)
    ok = value >= 0 if allow_zero else value > 0
    if not ok or not np.isfinite(value):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"expected {name} {bound}, got {value}")
    return value


def one_of(value: Any, name: str, options: Sequence[str]) -> str:
    """Check that ``value`` is one of ``options``."""
    if value not in options:
        raise ValueError(f"expected {name} to be one of {sorted(options)}, got {value!r}")
    return value
