"""Reverse-mode automatic differentiation: backpropagation on a computational graph.

A :class:`Value` is one scalar node of a computational graph. Each operation builds its
output node and, right next to it, a small ``_backward`` closure that applies the chain
rule for that one operation: if ``out = g(a, b)`` then

    p_a += (d out / d a) * p_out,     p_b += (d out / d b) * p_out,

where ``p_v = dL/dv`` is the sensitivity of the final output L to the node v (the lecture's
``p_l``; it is stored in ``v.grad``). :meth:`Value.backward` sorts the graph topologically
and runs the closures from the output back to the leaves: this is exactly the backward
recursion ``p_l = [grad_{x_l} g_l]^T p_{l+1}`` of the backpropagation algorithm.

:class:`nnbook.engine.tensor.Tensor` is the same idea for NumPy arrays, and
:func:`nnbook.viz.graph.draw_graph` draws the graph.

The engine follows micrograd (A. Karpathy, ``micrograd/engine.py``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

__all__ = ["Value", "topological_order"]


# ---------------------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------------------


def _as_real(x: Any, name: str) -> float:
    """Return ``x`` as a float, or raise a TypeError naming what was expected."""
    if type(x) is float:  # the common case, checked first because it is fast
        return x
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        if isinstance(x, np.ndarray) and x.ndim == 0 and np.issubdtype(x.dtype, np.number):
            return _as_real(x.item(), name)
        shown = f" {x!r}" if isinstance(x, str) else ""
        raise TypeError(
            f"expected {name} to be a real number (int or float), got {type(x).__name__}{shown}"
        )
    return float(x)


class Value:
    """A scalar node of a computational graph, with its value and its gradient.

    ``data`` is the number computed in the forward pass; ``grad`` is the sensitivity
    ``p = dL/d(this node)`` filled in by :meth:`backward` on the output L. ``_prev`` holds
    the input nodes, ``_op`` the operation that made this node ('' for a leaf) and
    ``label`` an optional name used by :func:`draw_graph`.

    Supported: ``+ - * /``, ``** c`` (c a number), unary ``-``, :meth:`exp`, :meth:`log`,
    :meth:`tanh`, :meth:`sigmoid`, :meth:`relu`; plain numbers are accepted on either side
    (``2 * x``, ``1 - x``).

    >>> x = Value(3.0, label="x"); y = x * x + 1; y.backward(); x.grad
    6.0
    """

    def __init__(
        self, data: float, _children: Iterable[Value] = (), _op: str = "", label: str = ""
    ):
        self.data = _as_real(data, "data")
        self.grad = 0.0
        self._backward: Callable[[], None] = lambda: None  # a leaf has nothing to pass back
        self._prev: tuple[Value, ...] = tuple(_children)
        self._op = _op
        self.label = label

    @staticmethod
    def _lift(other: Any) -> Value:
        if isinstance(other, Value):
            return other
        if (
            isinstance(other, np.ndarray)
            or hasattr(other, "_prev")
            or not isinstance(other, numbers.Real)
        ):
            raise TypeError(
                f"cannot combine a Value with {type(other).__name__}; expected a Value or a real number"
            )
        return Value(other)

    # -- binary operations: forward value, then the local chain rule -------------------

    def __add__(self, other: Any) -> Value:
        """out = a + b;  p_a += p_out,  p_b += p_out."""
        other = self._lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __sub__(self, other: Any) -> Value:
        """out = a - b;  p_a += p_out,  p_b -= p_out."""
        other = self._lift(other)
        out = Value(self.data - other.data, (self, other), "-")

        def _backward():
            self.grad += out.grad
            other.grad -= out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Any) -> Value:
        """out = a b;  p_a += b p_out,  p_b += a p_out."""
        other = self._lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __truediv__(self, other: Any) -> Value:
        """out = a / b;  p_a += p_out / b,  p_b -= a p_out / b^2."""
        other = self._lift(other)
        if other.data == 0:
            raise ZeroDivisionError("Value division by zero: the divisor's data is 0")
        out = Value(self.data / other.data, (self, other), "/")

        def _backward():
            self.grad += out.grad / other.data
            other.grad -= self.data * out.grad / other.data**2

        out._backward = _backward
        return out

    def __pow__(self, k: Any) -> Value:
        """out = a^k for a constant number k;  p_a += k a^(k-1) p_out."""
        if isinstance(k, Value):
            raise TypeError(
                "Value ** Value is not supported; the exponent must be a number (write (y * x.log()).exp() for x ** y)"
            )
        k = _as_real(k, "the exponent")
        if self.data < 0 and not k.is_integer():
            raise ValueError(
                f"a negative base ({self.data}) to a non-integer power ({k}) is not a real number"
            )
        if self.data == 0 and k < 0:
            raise ZeroDivisionError(f"0 ** {k} is undefined")
        out = Value(self.data**k, (self,), f"**{k:g}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    # -- unary operations ---------------------------------------------------------------

    def __neg__(self) -> Value:
        """out = -a;  p_a -= p_out."""
        out = Value(-self.data, (self,), "neg")

        def _backward():
            self.grad -= out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        """out = e^a;  p_a += e^a p_out (the output is its own derivative)."""
        try:
            e = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp({self.data}) overflows a float") from None
        out = Value(e, (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        """out = log a (natural log, a > 0);  p_a += p_out / a."""
        if self.data <= 0:
            raise ValueError(f"log expects data > 0, got {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        """out = tanh(a);  p_a += (1 - tanh(a)^2) p_out."""
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        """out = sigma(a) = 1 / (1 + e^{-a});  p_a += sigma(a) (1 - sigma(a)) p_out."""
        a = self.data
        s = 1 / (1 + math.exp(-a)) if a >= 0 else math.exp(a) / (1 + math.exp(a))  # no overflow
        out = Value(s, (self,), "sigmoid")

        def _backward():
            self.grad += s * (1 - s) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        """out = max(0, a);  p_a += 1[a > 0] p_out (0 at the kink, as in PyTorch)."""
        out = Value(max(0.0, self.data), (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    # -- numbers on the left: 2 + x, 2 * x, 2 - x, 2 / x ---------------------------------

    def __radd__(self, other: Any) -> Value:
        return self._lift(other) + self

    def __rsub__(self, other: Any) -> Value:
        return self._lift(other) - self

    def __rmul__(self, other: Any) -> Value:
        return self._lift(other) * self

    def __rtruediv__(self, other: Any) -> Value:
        return self._lift(other) / self

    # -- the backward pass ----------------------------------------------------------------

    def backward(self) -> None:
        """Fill in ``grad`` = dL/dv for every node v that this output L depends on.

        Sets p_L = dL/dL = 1, then visits the nodes in reverse topological order (every
        node after all the nodes that use it) and applies each node's local chain rule.
        The sensitivities of the intermediate nodes start from 0 in every pass; those of
        the leaves (inputs, parameters) *accumulate* (``+=``), as in PyTorch: call
        :meth:`zero_grad` before a second backward pass if you do not want that.
        """
        order = topological_order(self)
        for node in order:
            if node._prev:
                node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def zero_grad(self) -> None:
        """Set ``grad = 0`` on this node and on every node it depends on."""
        for node in topological_order(self):
            node.grad = 0.0

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"


def topological_order(root: Any) -> list:
    """All nodes that ``root`` depends on (itself included), each after all of its inputs.

    A depth-first search that appends a node once all its inputs (``_prev``) have been
    appended. Written with an explicit stack instead of recursion, so that long chains
    (a sum of 10 000 terms) do not hit Python's recursion limit.
    """
    if not hasattr(root, "_prev"):
        raise TypeError(f"expected a Value or a Tensor, got {type(root).__name__}")
    order: list = []
    visited: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:  # every input of node is already in order
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for child in reversed(node._prev):  # reversed: the first input is appended first
            if id(child) not in visited:
                stack.append((child, False))
    return order
