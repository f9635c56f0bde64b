"""Reverse-mode automatic differentiation on scalars, after micrograd's ``engine.py``.

A :class:`Value` is one node of a computational graph. Each operation builds its output
node ``out = g(a, b)`` and, next to it, a ``_backward`` closure with the chain rule for
that one operation: p_a += (d out / d a) p_out and p_b += (d out / d b) p_out, where
p_v = dL/dv (stored in ``v.grad``). :meth:`Value.backward` visits the graph in reverse
topological order and runs the closures: the backward recursion
p_l = [grad_{x_l} g_l]^T p_{l+1} of backpropagation.
"""

from __future__ import annotations

import math
from typing import Any

from .._util import real_number

__all__ = ["Value", "topological_order"]


class Value:
    """A scalar node: ``data`` (forward value), ``grad`` (p = dL/d this node, after
    :meth:`backward`), the inputs ``_prev``, the operation ``_op`` ('' for a leaf) and an
    optional ``label``. Operations: ``+ - * /``, ``** c`` (c a number), unary ``-``,
    :meth:`exp`, :meth:`log`, :meth:`tanh`, :meth:`sigmoid`, :meth:`relu`; plain numbers
    work on either side (``2 * x``, ``1 - x``).

    >>> x = Value(3.0); y = x * x + 1; y.backward(); x.grad
    6.0
    """

    def __init__(self, data: float, _children: tuple = (), _op: str = "", label: str = ""):
        self.data = real_number(data, "data")
        self.grad = 0.0
        self._backward = lambda: None  # a leaf has nothing to pass back
        self._prev = tuple(_children)
        self._op = _op
        self.label = label

    @staticmethod
    def _lift(other: Any) -> Value:
        if isinstance(other, Value):
            return other
        if hasattr(other, "_prev") or getattr(other, "ndim", 0) > 0:  # a Tensor or an array
            raise TypeError(f"cannot combine a Value with {type(other).__name__}")
        try:
            return Value(other)
        except TypeError:
            raise TypeError(f"cannot combine a Value with {type(other).__name__}") from None

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
        out = Value(self.data / other.data, (self, other), "/")  # ZeroDivisionError if b = 0

        def _backward():
            self.grad += out.grad / other.data
            other.grad -= self.data * out.grad / other.data**2

        out._backward = _backward
        return out

    def __pow__(self, k: Any) -> Value:
        """out = a^k for a number k;  p_a += k a^(k-1) p_out."""
        if isinstance(k, Value):
            raise TypeError("the exponent must be a number (write (y * x.log()).exp() for x**y)")
        k = real_number(k, "the exponent")
        if self.data < 0 and not k.is_integer():
            raise ValueError(f"{self.data} ** {k} is not a real number")
        out = Value(self.data**k, (self,), f"**{k:g}")  # ZeroDivisionError for 0 ** -1

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def __neg__(self) -> Value:
        """out = -a;  p_a -= p_out."""
        out = Value(-self.data, (self,), "neg")

        def _backward():
            self.grad -= out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        """out = e^a;  p_a += e^a p_out."""
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        """out = log a (a > 0);  p_a += p_out / a."""
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

    def __radd__(self, other: Any) -> Value:  # other + self
        return self._lift(other) + self

    def __rsub__(self, other: Any) -> Value:  # other - self
        return self._lift(other) - self

    def __rmul__(self, other: Any) -> Value:  # other * self
        return self._lift(other) * self

    def __rtruediv__(self, other: Any) -> Value:  # other / self
        return self._lift(other) / self

    def backward(self) -> None:
        """Fill in ``grad`` = dL/dv for every node v that this output L depends on.

        Sets p_L = 1, then visits the nodes in reverse topological order (each node after
        every node that uses it) and applies each node's local chain rule. Inner nodes
        start from 0; leaves accumulate (``+=``) as in PyTorch: call :meth:`zero_grad`
        between two backward passes.
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
    """Every node ``root`` depends on (itself included), each after all of its inputs.

    A depth-first search that appends a node once its inputs ``_prev`` are appended, with
    an explicit stack instead of recursion, so a chain of 10,000 nodes is fine.
    """
    if not hasattr(root, "_prev"):
        raise TypeError(f"expected a Value or a Tensor, got {type(root).__name__}")
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node._prev))
    return order
