"""Forward-mode automatic differentiation with dual numbers, and what each mode costs.

A dual number ``a + a' eps`` with ``eps^2 = 0`` carries a value a and a derivative a'
(a *tangent*) together; every operation updates both, e.g.

    (a + a' eps)(b + b' eps) = ab + (a' b + a b') eps.

Evaluating f on ``x + v eps`` therefore gives ``f(x) + (J v) eps`` in one forward pass:
the Jacobian-vector product J v. Forward mode needs one pass per input direction, so the
full Jacobian of f: R^n -> R^m costs n passes; reverse mode (:class:`nnbook.engine.autodiff.Value`)
needs one backward pass per output, m passes. :func:`jacobian_costs` measures both on the
family f(x) = W_1 tanh(W_0 x): forward mode wins when n << m, reverse mode when m << n,
as for a neural network's loss (m = 1 output, many parameters).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial, reduce
from typing import Any

import numpy as np

from .._util import as_array, best_times, positive_int, real_number
from .autodiff import Value, topological_order

__all__ = [
    "Dual",
    "OpCounter",
    "derivative",
    "jvp",
    "JacobianResult",
    "jacobian_forward",
    "jacobian_reverse",
    "TanhNetwork",
    "jacobian_costs",
]


class OpCounter:
    """Counts elementary operations: pass one to the :class:`Dual` inputs of a computation.

    Every operation on a Dual that carries the counter adds 1 to ``n``; the result carries
    the counter on. No global state: two counters never see each other's operations.
    """

    def __init__(self) -> None:
        self.n = 0

    def __repr__(self) -> str:
        return f"OpCounter(n={self.n})"


class Dual:
    """A dual number ``value + deriv * eps`` with ``eps^2 = 0``: a value and its derivative.

    If the inputs are seeded with tangents (``Dual(x, 1.0)`` for d/dx), every operation
    applies the chain rule forwards, ``(g(a))' = g'(a) a'``, so the output's ``deriv`` is
    the derivative of the output along the seeded direction. Supported: ``+ - * /``,
    ``** c`` (c a number), unary ``-``, :meth:`exp`, :meth:`log`, :meth:`tanh`,
    :meth:`sigmoid`, :meth:`relu`, with plain numbers (constants, derivative 0) on either
    side. An optional :class:`OpCounter` counts the operations.

    >>> x = Dual(3.0, 1.0); y = x * x + 1; (y.value, y.deriv)
    (10.0, 6.0)
    """

    __slots__ = ("value", "deriv", "counter")

    def __init__(self, value: float, deriv: float = 0.0, counter: OpCounter | None = None):
        self.value = real_number(value, "value")
        self.deriv = real_number(deriv, "deriv")
        if counter is not None and not isinstance(counter, OpCounter):
            raise TypeError(
                f"expected counter to be an OpCounter or None, got {type(counter).__name__}"
            )
        self.counter = counter

    @staticmethod
    def _lift(other: Any) -> Dual:
        if isinstance(other, Dual):
            return other
        if isinstance(other, Value) or not isinstance(other, numbers.Real):
            raise TypeError(
                f"cannot combine a Dual with {type(other).__name__}; "
                "expected a Dual or a real number"
            )
        return Dual(other)  # a constant: derivative 0

    def _out(self, value: float, deriv: float, other: Dual | None = None) -> Dual:
        """The result of one operation; counts it if an input carries a counter."""
        counter = (
            self.counter
            if self.counter is not None
            else (other.counter if other is not None else None)
        )
        if counter is not None:
            counter.n += 1
        out = Dual.__new__(Dual)  # skip the input checks: value and deriv are floats already
        out.value, out.deriv, out.counter = value, deriv, counter
        return out

    # (a + a' eps) op (b + b' eps), keeping only the terms up to eps
    def __add__(self, other: Any) -> Dual:
        """(a + b)' = a' + b'."""
        o = self._lift(other)
        return self._out(self.value + o.value, self.deriv + o.deriv, o)

    def __sub__(self, other: Any) -> Dual:
        """(a - b)' = a' - b'."""
        o = self._lift(other)
        return self._out(self.value - o.value, self.deriv - o.deriv, o)

    def __mul__(self, other: Any) -> Dual:
        """(a b)' = a' b + a b'."""
        o = self._lift(other)
        return self._out(self.value * o.value, self.deriv * o.value + self.value * o.deriv, o)

    def __truediv__(self, other: Any) -> Dual:
        """(a / b)' = (a' b - a b') / b^2."""
        o = self._lift(other)
        if o.value == 0:
            raise ZeroDivisionError("Dual division by zero: the divisor's value is 0")
        return self._out(
            self.value / o.value, (self.deriv * o.value - self.value * o.deriv) / o.value**2, o
        )

    def __pow__(self, k: Any) -> Dual:
        """(a^k)' = k a^(k-1) a' for a constant number k."""
        if isinstance(k, Dual):
            raise TypeError("Dual ** Dual is not supported; the exponent must be a number")
        k = real_number(k, "the exponent")
        if self.value < 0 and not k.is_integer():
            raise ValueError(
                f"a negative base ({self.value}) to a non-integer power ({k}) is not a real number"
            )
        if self.value == 0 and k < 0:
            raise ZeroDivisionError(f"0 ** {k} is undefined")
        return self._out(self.value**k, k * self.value ** (k - 1) * self.deriv)

    def __neg__(self) -> Dual:
        """(-a)' = -a'."""
        return self._out(-self.value, -self.deriv)

    def exp(self) -> Dual:
        """(e^a)' = e^a a'."""
        try:
            e = math.exp(self.value)
        except OverflowError:
            raise OverflowError(f"exp({self.value}) overflows a float") from None
        return self._out(e, e * self.deriv)

    def log(self) -> Dual:
        """(log a)' = a' / a, for a > 0."""
        if self.value <= 0:
            raise ValueError(f"log expects value > 0, got {self.value}")
        return self._out(math.log(self.value), self.deriv / self.value)

    def tanh(self) -> Dual:
        """(tanh a)' = (1 - tanh(a)^2) a'."""
        t = math.tanh(self.value)
        return self._out(t, (1 - t * t) * self.deriv)

    def sigmoid(self) -> Dual:
        """(sigma(a))' = sigma(a) (1 - sigma(a)) a'."""
        a = self.value
        s = 1 / (1 + math.exp(-a)) if a >= 0 else math.exp(a) / (1 + math.exp(a))
        return self._out(s, s * (1 - s) * self.deriv)

    def relu(self) -> Dual:
        """(max(0, a))' = 1[a > 0] a' (0 at the kink, as in PyTorch)."""
        return self._out(max(0.0, self.value), self.deriv if self.value > 0 else 0.0)

    def __radd__(self, other: Any) -> Dual:
        return self._lift(other) + self

    def __rsub__(self, other: Any) -> Dual:
        return self._lift(other) - self

    def __rmul__(self, other: Any) -> Dual:
        return self._lift(other) * self

    def __rtruediv__(self, other: Any) -> Dual:
        return self._lift(other) / self

    def __repr__(self) -> str:
        return f"Dual(value={self.value:.6g}, deriv={self.deriv:.6g})"


def derivative(f: Callable[[Any], Any], x: float) -> float:
    """f'(x) for f: R -> R, in one forward pass: f(x + 1 eps) = f(x) + f'(x) eps.

    ``f`` must be written with operations a :class:`Dual` supports (``x.tanh()`` rather
    than ``math.tanh(x)``).
    """
    y = f(Dual(real_number(x, "x"), 1.0))
    if isinstance(y, Dual):
        return y.deriv
    real_number(y, "f(x)")
    return 0.0  # f returned a constant


def _outputs(y: Any, kind: type) -> list:
    """f's output as a list of scalars (a single scalar becomes a list of one)."""
    items = list(y) if isinstance(y, (list, tuple, np.ndarray)) else [y]
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            real_number(item, f"output {i} of f")  # a constant output is allowed
    return items


def jvp(
    f: Callable[[list], Any], x: Sequence[float], v: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Return f(x) and the Jacobian-vector product J_f(x) v, both of shape (m,), in one pass.

    Seeds input j with ``Dual(x_j, v_j)``: then f(x + v eps) = f(x) + (J v) eps. ``f``
    takes a list of n scalars and returns one scalar or a sequence of m scalars.
    """
    x = as_array(x, "x", ndim=1)
    v = as_array(v, "v", shape=(x.shape[0],))
    ys = _outputs(f([Dual(xj, vj) for xj, vj in zip(x, v)]), Dual)
    value = np.array([y.value if isinstance(y, Dual) else float(y) for y in ys])
    tangent = np.array([y.deriv if isinstance(y, Dual) else 0.0 for y in ys])
    return value, tangent


@dataclass
class JacobianResult:
    """A Jacobian J (shape (m, n), J[i, j] = d f_i / d x_j) and what computing it cost.

    ``passes`` is the number of sweeps through the computation (forward mode: n forward
    passes; reverse mode: m backward passes after one forward pass) and ``ops`` the number
    of elementary operations executed in total (each operation on a Dual, each node built
    in the forward pass, each node's chain rule applied in a backward pass).
    """

    jacobian: np.ndarray
    passes: int
    ops: int


def jacobian_forward(f: Callable[[list], Any], x: Sequence[float]) -> JacobianResult:
    """The Jacobian of f: R^n -> R^m in forward mode: column j is J e_j, one pass per input.

    n passes; pass j seeds ``Dual(x_j, 1)`` and ``Dual(x_k, 0)`` for k != j.
    """
    x = as_array(x, "x", ndim=1)
    n = x.shape[0]
    counter = OpCounter()
    columns = []
    for j in range(n):
        xs = [Dual(xk, 1.0 if k == j else 0.0, counter) for k, xk in enumerate(x)]
        ys = _outputs(f(xs), Dual)
        columns.append([y.deriv if isinstance(y, Dual) else 0.0 for y in ys])
    jac = np.array(columns, dtype=np.float64).T.reshape(-1, n)
    return JacobianResult(jac, passes=n, ops=counter.n)


def jacobian_reverse(f: Callable[[list], Any], x: Sequence[float]) -> JacobianResult:
    """The Jacobian of f: R^n -> R^m in reverse mode: row i is grad f_i, one backward pass
    per output.

    One forward pass builds the graph with :class:`~nnbook.engine.autodiff.Value` inputs; then,
    for each output y_i, the gradients are zeroed and ``y_i.backward()`` fills in
    ``x_j.grad = d y_i / d x_j``. m backward passes; ``ops`` counts the nodes built by the
    forward pass plus the local chain rules applied by the backward passes.
    """
    x = as_array(x, "x", ndim=1)
    xs = [Value(xj, label=f"x{j + 1}") for j, xj in enumerate(x)]
    ys = _outputs(f(xs), Value)  # the one forward pass, building the graph
    built: set[int] = set()  # the nodes that forward pass built (ops with inputs, not leaves)
    backward_ops = 0
    rows = []
    for y in ys:
        for v in xs:
            v.grad = 0.0
        if isinstance(y, Value):
            # what y.backward() does, counting the nodes it visits
            order = topological_order(y)
            for v in order:
                if v._prev:
                    v.grad = 0.0
            y.grad = 1.0
            for node in reversed(order):
                node._backward()
            inner = [id(v) for v in order if v._prev]
            built.update(inner)
            backward_ops += len(inner)  # one local chain rule per node
        rows.append([v.grad for v in xs])
    jac = np.array(rows, dtype=np.float64).reshape(-1, len(xs))
    ops = len(built) + backward_ops
    return JacobianResult(jac, passes=len(ys), ops=ops)


def _tanh(z: Any) -> Any:
    return z.tanh() if hasattr(z, "tanh") else math.tanh(z)


class TanhNetwork:
    """The test function f(x) = W_1 tanh(W_0 x) from R^n to R^m (a one-hidden-layer MLP).

    W_0 has shape (hidden, n) and W_1 shape (m, hidden), with entries drawn from
    N(0, 1/fan_in) by a seeded generator. Calling it on a list of n scalars (floats,
    :class:`Dual` or :class:`~nnbook.engine.autodiff.Value`) returns a list of m scalars of the same
    kind; :meth:`jacobian` gives the exact Jacobian W_1 diag(1 - tanh^2(W_0 x)) W_0 with NumPy,
    an independent check for both modes.
    """

    def __init__(self, n: int, m: int, hidden: int = 8, seed: int = 0):
        n, m = positive_int(n, "n"), positive_int(m, "m")
        hidden = positive_int(hidden, "hidden")
        rng = np.random.default_rng(seed)
        self.W_0 = rng.normal(0.0, 1 / math.sqrt(n), size=(hidden, n))
        self.W_1 = rng.normal(0.0, 1 / math.sqrt(hidden), size=(m, hidden))

    @staticmethod
    def _matvec(W: np.ndarray, xs: list) -> list:
        # row . xs = W[i, 0] x_0 + W[i, 1] x_1 + ..., one multiplication and one addition per term
        return [
            reduce(lambda acc, t: acc + t, (float(w) * x for w, x in zip(row, xs))) for row in W
        ]

    def __call__(self, xs: Sequence[Any]) -> list:
        if len(xs) != self.W_0.shape[1]:
            raise ValueError(f"expected x of length n = {self.W_0.shape[1]}, got {len(xs)}")
        h = [_tanh(z) for z in self._matvec(self.W_0, list(xs))]
        return self._matvec(self.W_1, h)

    def jacobian(self, x: Sequence[float]) -> np.ndarray:
        """The exact Jacobian W_1 diag(1 - tanh^2(W_0 x)) W_0, shape (m, n)."""
        x = as_array(x, "x", shape=(self.W_0.shape[1],))
        t = np.tanh(self.W_0 @ x)
        return self.W_1 @ ((1 - t**2)[:, None] * self.W_0)


def jacobian_costs(
    sizes: Iterable[tuple[int, int]],
    *,
    hidden: int = 8,
    seed: int = 0,
    repeats: int = 3,
    timing: bool = True,
) -> list[dict[str, float]]:
    """Measure the cost of the full Jacobian in forward and reverse mode for each (n, m).

    For each pair, f = :class:`TanhNetwork` (n inputs, m outputs) at a seeded random x.
    Returns one dict per pair with keys ``n, m, forward_passes, reverse_passes,
    forward_ops, reverse_ops, forward_seconds, reverse_seconds`` (best of ``repeats``
    wall-clock runs; NaN if ``timing`` is False) and ``max_abs_error``, the largest
    difference of either Jacobian from the exact one. The counts are deterministic; the
    timings depend on the machine. Expect forward_passes = n and reverse_passes = m, so
    forward mode is cheaper when n << m and reverse mode when m << n.
    """
    repeats = positive_int(repeats, "repeats")
    rows = []
    for pair in sizes:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise TypeError(f"expected sizes to hold (n, m) pairs, got {pair!r}")
        n, m = positive_int(pair[0], "n"), positive_int(pair[1], "m")
        f = TanhNetwork(n, m, hidden=hidden, seed=seed)
        x = np.random.default_rng(seed + 1).normal(size=n)
        fwd, rev = jacobian_forward(f, x), jacobian_reverse(f, x)
        exact = f.jacobian(x)
        if timing:
            runs = [partial(jacobian_forward, f, x), partial(jacobian_reverse, f, x)]
            t_fwd, t_rev = best_times(runs, repeats)
        else:
            t_fwd = t_rev = math.nan
        error = max(np.abs(fwd.jacobian - exact).max(), np.abs(rev.jacobian - exact).max())
        rows.append(
            {
                "n": n,
                "m": m,
                "forward_passes": fwd.passes,
                "reverse_passes": rev.passes,
                "forward_ops": fwd.ops,
                "reverse_ops": rev.ops,
                "forward_seconds": t_fwd,
                "reverse_seconds": t_rev,
                "max_abs_error": float(error),
            }
        )
    return rows
