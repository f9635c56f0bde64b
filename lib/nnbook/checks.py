"""Immediate feedback for the exercises.

Introduced in Exercise 10.1, The expressive power of depth: XOR.

A check calls the student's function on a few inputs and compares with the truth:

* on an unfinished stub (it raises ``NotImplementedError``) it prints
  "not attempted yet" and lets the notebook run on;
* on a wrong answer it says what is wrong (which input, expected vs got, shapes)
  and raises ``AssertionError``;
* on a right answer it prints a confirmation.

Student code that raises, returns the wrong type or shape, or returns NaN gets one
readable message instead of a traceback storm. The exercise-specific checks are
defined at the bottom of this module, one small function per exercise part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

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


def _fmt(x: Any) -> str:
    if isinstance(x, np.generic):  # NumPy scalars print as 0.5, not np.float64(0.5)
        x = x.item()
    if isinstance(x, np.ndarray):
        return np.array2string(x, precision=4, suppress_small=True, separator=", ")
    if isinstance(x, float):
        return f"{x:.6g}"
    if isinstance(x, tuple):
        return "(" + ", ".join(_fmt(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    return repr(x)


def _fail(title: str, message: str) -> CheckFailed:
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
        raise _fail(title, f"expected a function, got {type(func).__name__}")
    try:
        return func(*args)
    except NotImplementedError:
        raise _NotAttempted() from None
    except Exception as exc:  # noqa: BLE001 - any student error becomes one readable message
        shown = ", ".join(_fmt(a) for a in args)
        raise _fail(title, f"your function raised {type(exc).__name__}: {exc} (on input {shown})") from None


def as_numeric(title: str, value: Any, what: str, *, shape: Sequence[int] | None = None) -> np.ndarray:
    """Check that ``value`` is numeric, finite and (optionally) of ``shape``; return it as float array."""
    if value is None:
        raise _fail(title, f"{what} is None: did you forget a `return`?")
    if isinstance(value, (str, bytes)):
        raise _fail(title, f"{what} should be numeric, got {type(value).__name__}: {value!r}")
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, possibly with requires_grad
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        raise _fail(title, f"{what} should be numeric, got {type(value).__name__}: {value!r}") from None
    if shape is not None and arr.shape != tuple(shape):
        raise _fail(title, f"{what} should have shape {tuple(shape)}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise _fail(title, f"{what} contains NaN or inf: {_fmt(arr)}")
    return arr


def close(title: str, got: Any, expected: Any, what: str, *, atol: float = 1e-6, rtol: float = 1e-6) -> None:
    """Raise a readable :class:`CheckFailed` unless ``got`` equals ``expected`` to tolerance."""
    exp = np.asarray(expected, dtype=float)
    arr = as_numeric(title, got, what, shape=exp.shape)
    if not np.allclose(arr, exp, atol=atol, rtol=rtol):
        raise _fail(title, f"{what}: expected {_fmt(exp)}, got {_fmt(arr)}")


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


__all__ = ["CheckFailed", "Result", "run", "call", "as_numeric", "close", "passed", "not_attempted"]


# =========================================================================== Exercise 10.1: XOR
# Each check calls the student's function, compares with the truth computed independently
# (the statement's formulas, evaluated by nnbook.xor), and says which input went wrong.

_XOR_FEATURES = "Exercise 10.1(b) feature_map"
_XOR_OUTPUT = "Exercise 10.1(b) output_weights"
_XOR_MLP = "Exercise 10.1(c) xor_mlp_weights"
_BOUNDARY_TOL = 1e-9  # |f(x) - 0.5| below this counts as "on the decision line"
_EXACT_TOL = 1e-8  # "f computes XOR exactly" up to this rounding


def _pt(x: Sequence[float]) -> str:
    """A point as (0, 1) or (0.3127, -0.5): short, without array brackets."""
    return "(" + ", ".join(f"{float(v):.4g}" for v in x) + ")"


def _shape_of(value: Any) -> tuple[int, ...] | None:
    """``np.shape(value)``, or None when ``value`` is ragged or not array-like."""
    try:
        return tuple(np.shape(value))
    except Exception:  # noqa: BLE001 - e.g. a ragged list; as_numeric then gives the message
        return None


def _xor_random_points() -> np.ndarray:
    """Fixed non-Boolean test inputs, so a hard-coded truth table cannot pass."""
    return np.round(np.random.default_rng(101).uniform(-1.0, 2.0, size=(6, 2)), 3)


def xor_feature_map(feature_map: Callable) -> Result:
    """Check ``feature_map(X)``: (n, 2) -> (n, 2), rows (a_1, a_2) = (sigma(x_1 + x_2 - 1.5), sigma(-x_1 - x_2 + 0.5)).

    Introduced in Exercise 10.1, The expressive power of depth: XOR. Tests the four XOR
    inputs and six other points; sigma is the ReLU max(0, z).
    """
    from . import xor

    title = _XOR_FEATURES

    def body() -> int:
        cases = 0
        for name, X in (("the four XOR inputs", np.array(xor.X_XOR)), ("other inputs", _xor_random_points())):
            expected = xor.reference_feature_map(X)
            got = call(title, feature_map, X.copy())
            if _shape_of(got) == expected.shape[::-1] and expected.shape[0] != expected.shape[1]:
                raise _fail(title, f"feature_map(X) should have shape {expected.shape} (one row (a1, a2) per "
                                   f"input row), got {_shape_of(got)}: is the result transposed?")
            arr = as_numeric(title, got, f"feature_map(X) on {name}", shape=expected.shape)
            bad = ~np.all(np.isclose(arr, expected, atol=1e-6, rtol=1e-6), axis=1)
            if bad.any():
                i = int(np.argmax(bad))
                msg = (f"at x = {_pt(X[i])} (row {i} of X, {name}) expected (a1, a2) = {_pt(expected[i])}, "
                       f"got {_pt(arr[i])}.")
                z = np.stack([X.sum(1) - 1.5, -X.sum(1) + 0.5], axis=1)
                if np.allclose(arr, expected[:, ::-1], atol=1e-6):
                    msg += " The columns are swapped: column 0 is a1 = sigma(x1 + x2 - 1.5), column 1 is a2."
                elif np.allclose(arr, z, atol=1e-6):
                    msg += " You returned the pre-activations z: apply sigma(z) = max(0, z)."
                elif np.allclose(arr, 1 / (1 + np.exp(-z)), atol=1e-6):
                    msg += " Here sigma is the ReLU max(0, z), not the logistic function."
                elif np.any(arr < -1e-12):
                    msg += " A ReLU output is never negative: did you apply sigma(z) = max(0, z)?"
                elif name == "other inputs":
                    msg += " It is right on the four XOR inputs: compute the formula for any x, not a table."
                raise _fail(title, msg)
            cases += len(X)
        return cases

    return run(title, body)


def xor_output_weights(output_weights: Callable) -> Result:
    """Check ``output_weights()`` -> (v1, v2, c): f = v1 a1 + v2 a2 + c > 0.5 exactly for the class-1 points.

    Introduced in Exercise 10.1, The expressive power of depth: XOR. The points are the four
    XOR inputs mapped by the statement's feature map; any correct (v1, v2, c) passes, as long as
    no point lies on the line f = 0.5.
    """
    from . import xor

    title = _XOR_OUTPUT

    def body() -> Result:
        got = call(title, output_weights)
        v1, v2, c = as_numeric(title, got, "output_weights() (it should return v1, v2, c)", shape=(3,))
        X, y = np.array(xor.X_XOR), np.array(xor.Y_XOR)
        A = xor.reference_feature_map(X)
        f = v1 * A[:, 0] + v2 * A[:, 1] + c
        rows = [f"  x = {_pt(x)} -> a = {_pt(a)}: f = {fi:.4g}, XOR = {int(t)}" for x, a, fi, t in zip(X, A, f, y)]
        on_line = np.abs(f - 0.5) < _BOUNDARY_TOL
        if on_line.any():
            i = int(np.argmax(on_line))
            raise _fail(title, f"with (v1, v2, c) = {_pt((v1, v2, c))} the point x = {_pt(X[i])} (a = {_pt(A[i])}) "
                               "lies on the line f = 0.5; choose weights that put every point strictly on its side.\n"
                               + "\n".join(rows))
        wrong = (f > 0.5) != (y == 1)
        if wrong.any():
            i = int(np.argmax(wrong))
            want = "> 0.5 (class 1)" if y[i] == 1 else "< 0.5 (class 0)"
            raise _fail(title, f"with (v1, v2, c) = {_pt((v1, v2, c))}, x = {_pt(X[i])} maps to a = {_pt(A[i])} "
                               f"and f = {f[i]:.4g}, but f should be {want}. "
                               f"{int(wrong.sum())} of 4 points are misclassified (rule: f > 0.5 means class 1):\n"
                               + "\n".join(rows))
        margin = float(np.min(np.abs(f - 0.5)))
        return passed(title, 4, f"f = {_fmt(f)} on the mapped points; the smallest |f - 0.5| is {margin:.3g}.")

    return run(title, body)


def xor_mlp(xor_mlp_weights: Callable) -> Result:
    """Check ``xor_mlp_weights()`` -> (W1, b1, W2, b2) with f(x) = W2 sigma(W1 x + b1) + b2 = XOR(x) exactly.

    Introduced in Exercise 10.1, The expressive power of depth: XOR. Shapes: W1 (2, 2),
    b1 (2,), W2 (1, 2), b2 (1,) (one row of weights per neuron, like ``torch.nn.Linear``);
    sigma is the ReLU.
    """
    from . import xor

    title = _XOR_MLP
    shapes = {"W1": (2, 2), "b1": (2,), "W2": (1, 2), "b2": (1,)}
    hints = {
        "W2": " W2 has one row per output neuron, like nn.Linear(2, 1).weight: write np.array([[v1, v2]]).",
        "b2": " b2 is a vector with one entry per output neuron: write np.array([c]).",
        "b1": " b1 has one entry per hidden neuron.",
        "W1": " Row j of W1 holds the two input weights of hidden neuron j.",
    }

    def body() -> Result:
        got = call(title, xor_mlp_weights)
        if got is None:
            raise _fail(title, "xor_mlp_weights() returned None: did you forget a `return`?")
        if not isinstance(got, (tuple, list)) or len(got) != 4:
            n = f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""
            raise _fail(title, f"xor_mlp_weights() should return the four arrays (W1, b1, W2, b2), "
                               f"got a {type(got).__name__}{n}")
        params = {}
        for (name, shape), value in zip(shapes.items(), got):
            got_shape = _shape_of(value)
            if value is not None and got_shape is not None and got_shape != shape:
                raise _fail(title, f"{name} should have shape {shape}, got {got_shape}.{hints[name]}")
            params[name] = as_numeric(title, value, name, shape=shape)
        W1, b1, W2, b2 = params.values()
        X, y = np.array(xor.X_XOR), np.array(xor.Y_XOR)
        f = xor.mlp_forward(X, W1, b1, W2, b2)[:, 0]
        if not np.allclose(f, y, atol=_EXACT_TOL, rtol=0):
            rows = "\n".join(f"  x = {_pt(x)}: XOR = {int(t)}, f = {fi:.6g}" for x, t, fi in zip(X, y, f))
            i = int(np.argmax(~np.isclose(f, y, atol=_EXACT_TOL, rtol=0)))
            msg = f"f(x) = W2 sigma(W1 x + b1) + b2 should equal XOR(x), but f{_pt(X[i])} = {f[i]:.6g}, not {int(y[i])}."
            f_t = xor.mlp_forward(X, W1.T, b1, W2, b2)[:, 0]
            if np.allclose(f_t, y, atol=_EXACT_TOL, rtol=0):
                msg += (" With W1 transposed it would be right: row j of W1 holds the weights of hidden "
                        "neuron j, z = W1 x + b1.")
            elif np.all((f > 0.5) == (y == 1)):
                msg += (" Your network classifies all four points correctly with the rule f > 0.5, but (c) asks "
                        "for f(x) = XOR(x) exactly: rescale the output weights and bias.")
            raise _fail(title, msg + "\n" + rows)
        return passed(title, 4, f"f(0,0), f(0,1), f(1,0), f(1,1) = {_fmt(f)}.")

    return run(title, body)


__all__ += ["xor_feature_map", "xor_output_weights", "xor_mlp"]
