"""Immediate feedback for the exercises.

A check calls the student's function on a few inputs and compares with the truth:

* on an unfinished stub (it raises ``NotImplementedError``) it prints
  "not attempted yet" and lets the notebook run on;
* on a wrong answer it says what is wrong (which input, expected vs got, shapes)
  and raises ``AssertionError``;
* on a right answer it prints a confirmation.

Student code that raises, returns the wrong type or shape, or returns NaN gets one
readable message instead of a traceback storm. The checks of each exercise live in its
own module (``nnbook.exercises.ex10_1_xor``, ...), one small function per part, built
from the pieces defined here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PASS = "✅"
TODO = "⏳"
FAIL = "❌"


class CheckFailed(AssertionError):
    """Raised by a check when the answer is wrong. Its message says what is wrong."""


@dataclass
class Result:
    """What a check found: ``status`` is "passed" or "not attempted" (failures raise)."""

    title: str
    status: str
    cases: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __repr__(self) -> str:  # a short line if a notebook displays the result
        return f"Result({self.title!r}: {self.status})"


def fmt(x: Any) -> str:
    if isinstance(x, np.generic):  # NumPy scalars print as 0.5, not np.float64(0.5)
        x = x.item()
    if isinstance(x, np.ndarray):
        return np.array2string(x, precision=4, suppress_small=True, separator=", ")
    if isinstance(x, float):
        return f"{x:.6g}"
    if isinstance(x, tuple):
        return "(" + ", ".join(fmt(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    return repr(x)


def fail(title: str, message: str) -> CheckFailed:
    return CheckFailed(f"{FAIL} {title}: {message}")


def not_attempted(title: str) -> Result:
    """Print the 'not attempted yet' notice and return a Result saying so."""
    print(f"{TODO} {title}: not attempted yet. Fill in the code above, then re-run this cell.")
    return Result(title, "not attempted")


def passed(title: str, cases: int, detail: str = "") -> Result:
    """Print the confirmation and return a passing Result."""
    extra = f" {detail}" if detail else ""
    print(f"{PASS} {title}: correct ({cases} case{'s' if cases != 1 else ''} checked).{extra}")
    return Result(title, "passed", cases)


class _NotAttempted(Exception):
    pass


def call(title: str, func: Callable, *args: Any) -> Any:
    """Call the student's ``func(*args)``; turn its failures into readable messages.

    Raises :class:`_NotAttempted` (caught by :func:`run`) for a ``NotImplementedError`` and
    :class:`CheckFailed` for any other exception.
    """
    if not callable(func):
        raise fail(title, f"expected a function, got {type(func).__name__}")
    try:
        return func(*args)
    except NotImplementedError:
        raise _NotAttempted() from None
    except Exception as exc:  # any student error becomes one readable message
        shown = ", ".join(fmt(a) for a in args)
        raise fail(
            title, f"your function raised {type(exc).__name__}: {exc} (on input {shown})"
        ) from None


def as_numeric(
    title: str, value: Any, what: str, *, shape: Sequence[int] | None = None
) -> np.ndarray:
    """Check that ``value`` is numeric, finite and (optionally) of ``shape``; return floats."""
    if value is None:
        raise fail(title, f"{what} is None: did you forget a `return`?")
    if isinstance(value, (str, bytes)):
        raise fail(title, f"{what} should be numeric, got {type(value).__name__}: {value!r}")
    if hasattr(value, "detach") and hasattr(
        value, "cpu"
    ):  # a torch tensor, possibly with requires_grad
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        raise fail(
            title, f"{what} should be numeric, got {type(value).__name__}: {value!r}"
        ) from None
    if shape is not None and arr.shape != tuple(shape):
        raise fail(title, f"{what} should have shape {tuple(shape)}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise fail(title, f"{what} contains NaN or inf: {fmt(arr)}")
    return arr


def as_tuple(title: str, value: Any, n: int, what: str, wanted: str) -> tuple:
    """Check that the student's call returned a tuple (or list) of ``n`` results; return it.

    ``what`` is the call (``"backward(...)"``) and ``wanted`` names the results in the message
    (``"the four gradients (dW, db, dbeta, dbeta0)"``).
    """
    if value is None:
        raise fail(title, f"{what} returned None: did you forget a `return`?")
    if not isinstance(value, (tuple, list)) or len(value) != n:
        length = f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""
        raise fail(title, f"{what} should return {wanted}, got a {type(value).__name__}{length}")
    return tuple(value)


def shape_of(value: Any) -> tuple[int, ...] | None:
    """``np.shape(value)``, or None when ``value`` is ragged or not array-like.

    A check compares the shape first to say what a wrong shape means; on None it leaves the
    message to :func:`as_numeric`.
    """
    try:
        return tuple(np.shape(value))
    except Exception:  # e.g. a ragged list
        return None


def close(
    title: str, got: Any, expected: Any, what: str, *, atol: float = 1e-6, rtol: float = 1e-6
) -> None:
    """Raise a readable :class:`CheckFailed` unless ``got`` equals ``expected`` to tolerance."""
    exp = np.asarray(expected, dtype=float)
    arr = as_numeric(title, got, what, shape=exp.shape)
    if not np.allclose(arr, exp, atol=atol, rtol=rtol):
        raise fail(title, f"{what}: expected {fmt(exp)}, got {fmt(arr)}")


def run(title: str, body: Callable[[], Result | int | None]) -> Result:
    """Run a check's ``body``: it returns the number of cases (or a Result) when all pass.

    A ``NotImplementedError`` raised anywhere in the student's code makes this print
    "not attempted yet" and return instead of failing.
    """
    try:
        out = body()
    except _NotAttempted:
        return not_attempted(title)
    if isinstance(out, Result):
        return out
    return passed(title, int(out or 1))


__all__ = [
    "CheckFailed",
    "Result",
    "run",
    "call",
    "as_numeric",
    "as_tuple",
    "shape_of",
    "close",
    "passed",
    "not_attempted",
    "fail",
    "fmt",
]
