"""Small shared utilities: input validation, one thread limiter and one timer.

Every public function that a student calls checks its inputs with :func:`as_array`,
:func:`positive_int`, :func:`positive_float` or :func:`one_of`, and fails with a message
that names what was expected, e.g. ``expected X of shape (n, 784), got (784,)``.
Inner engine objects trust their callers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from numbers import Real
from typing import Any

import numpy as np

from . import DEFAULT_SEED


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
        raise TypeError(
            f"expected {name} to be a numeric array, got {type(x).__name__}: {exc}"
        ) from None
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
    return require_finite(arr, name) if finite else arr


def require_finite(a: np.ndarray, name: str) -> np.ndarray:
    """Return the array ``a``, or raise a ``ValueError`` naming it if it holds NaN or inf."""
    if a.dtype.kind in "fc" and not np.isfinite(a).all():
        raise ValueError(f"expected {name} to be finite, but it contains NaN or inf")
    return a


def real_number(x: Any, name: str) -> float:
    """Return ``x`` (an int, a float, a NumPy scalar or 0-d array) as a float, or raise a
    ``TypeError`` naming what was expected."""
    if isinstance(x, np.ndarray) and x.ndim == 0 and np.issubdtype(x.dtype, np.number):
        x = x.item()
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, Real):
        shown = f" {x!r}" if isinstance(x, str) else ""
        raise TypeError(
            f"expected {name} to be a real number (int or float), got {type(x).__name__}{shown}"
        )
    return float(x)


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


@contextmanager
def limit_threads(n: int | None, *, torch_too: bool = True) -> Iterator[None]:
    """Limit NumPy's BLAS (through threadpoolctl, when installed) and, unless ``torch_too`` is
    False, PyTorch to ``n`` threads; restore both afterwards. ``n=None`` changes nothing."""
    if n is None:
        yield
        return
    old = None
    if torch_too:
        import torch

        old = torch.get_num_threads()
        torch.set_num_threads(n)
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # it comes with scikit-learn; without it, BLAS keeps its threads
            yield
        else:
            with threadpool_limits(limits=n):
                yield
    finally:
        if old is not None:
            import torch

            torch.set_num_threads(old)


def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Return a NumPy Generator: ``rng`` itself, a fresh one seeded with the int ``rng``,
    or (for ``None``) one seeded with ``nnbook.DEFAULT_SEED``: never hidden global state."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng(DEFAULT_SEED)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"expected rng to be a numpy Generator, an int seed or None, got {type(rng).__name__}"
    )


def best_times(
    fns: Sequence[Callable[[], Any]], repeats: int, clock: Callable[[], float] = time.perf_counter
) -> list[float]:
    """The best of ``repeats`` times of each function, timed in alternation (round r runs
    every function once), so that a passing load on the machine hits all of them alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = clock()
            fn()
            best[i] = min(best[i], clock() - start)
    return best
