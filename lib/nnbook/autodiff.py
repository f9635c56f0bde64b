"""Reverse-mode automatic differentiation: backpropagation on a computational graph.

Introduced in Chapter 5, Backpropagation.

A :class:`Value` is one scalar node of a computational graph. Each operation builds its
output node and, right next to it, a small ``_backward`` closure that applies the chain
rule for that one operation: if ``out = g(a, b)`` then

    p_a += (d out / d a) * p_out,     p_b += (d out / d b) * p_out,

where ``p_v = dL/dv`` is the sensitivity of the final output L to the node v (the lecture's
``p_l``; it is stored in ``v.grad``). :meth:`Value.backward` sorts the graph topologically
and runs the closures from the output back to the leaves: this is exactly the backward
recursion ``p_l = [grad_{x_l} g_l]^T p_{l+1}`` of the backpropagation algorithm.

:class:`Tensor` is the same idea for NumPy arrays (matrix product, broadcasting addition,
element-wise activations, sums), enough to train a small MLP. :func:`draw_graph` draws the
graph of a :class:`Value` (or :class:`Tensor`) with matplotlib.

The engine follows micrograd (A. Karpathy, ``micrograd/engine.py``).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Iterable

import numpy as np

from ._validate import as_array

__all__ = ["Value", "Tensor", "topological_order", "draw_graph"]


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
        raise TypeError(f"expected {name} to be a real number (int or float), got {type(x).__name__}{shown}")
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

    Introduced in Chapter 5, Backpropagation.
    """

    def __init__(self, data: float, _children: Iterable["Value"] = (), _op: str = "", label: str = ""):
        self.data = _as_real(data, "data")
        self.grad = 0.0
        self._backward: Callable[[], None] = lambda: None  # a leaf has nothing to pass back
        self._prev: tuple[Value, ...] = tuple(_children)
        self._op = _op
        self.label = label

    @staticmethod
    def _lift(other: Any) -> "Value":
        if isinstance(other, Value):
            return other
        if isinstance(other, (Tensor, np.ndarray)) or not isinstance(other, numbers.Real):
            raise TypeError(f"cannot combine a Value with {type(other).__name__}; expected a Value or a real number")
        return Value(other)

    # -- binary operations: forward value, then the local chain rule -------------------

    def __add__(self, other: Any) -> "Value":
        """out = a + b;  p_a += p_out,  p_b += p_out."""
        other = self._lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __sub__(self, other: Any) -> "Value":
        """out = a - b;  p_a += p_out,  p_b -= p_out."""
        other = self._lift(other)
        out = Value(self.data - other.data, (self, other), "-")

        def _backward():
            self.grad += out.grad
            other.grad -= out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Any) -> "Value":
        """out = a b;  p_a += b p_out,  p_b += a p_out."""
        other = self._lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __truediv__(self, other: Any) -> "Value":
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

    def __pow__(self, k: Any) -> "Value":
        """out = a^k for a constant number k;  p_a += k a^(k-1) p_out."""
        if isinstance(k, Value):
            raise TypeError("Value ** Value is not supported; the exponent must be a number (write (y * x.log()).exp() for x ** y)")
        k = _as_real(k, "the exponent")
        if self.data < 0 and not k.is_integer():
            raise ValueError(f"a negative base ({self.data}) to a non-integer power ({k}) is not a real number")
        if self.data == 0 and k < 0:
            raise ZeroDivisionError(f"0 ** {k} is undefined")
        out = Value(self.data**k, (self,), f"**{k:g}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    # -- unary operations ---------------------------------------------------------------

    def __neg__(self) -> "Value":
        """out = -a;  p_a -= p_out."""
        out = Value(-self.data, (self,), "neg")

        def _backward():
            self.grad -= out.grad

        out._backward = _backward
        return out

    def exp(self) -> "Value":
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

    def log(self) -> "Value":
        """out = log a (natural log, a > 0);  p_a += p_out / a."""
        if self.data <= 0:
            raise ValueError(f"log expects data > 0, got {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> "Value":
        """out = tanh(a);  p_a += (1 - tanh(a)^2) p_out."""
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> "Value":
        """out = sigma(a) = 1 / (1 + e^{-a});  p_a += sigma(a) (1 - sigma(a)) p_out."""
        a = self.data
        s = 1 / (1 + math.exp(-a)) if a >= 0 else math.exp(a) / (1 + math.exp(a))  # no overflow
        out = Value(s, (self,), "sigmoid")

        def _backward():
            self.grad += s * (1 - s) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> "Value":
        """out = max(0, a);  p_a += 1[a > 0] p_out (0 at the kink, as in PyTorch)."""
        out = Value(max(0.0, self.data), (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    # -- numbers on the left: 2 + x, 2 * x, 2 - x, 2 / x ---------------------------------

    def __radd__(self, other: Any) -> "Value":
        return self._lift(other) + self

    def __rsub__(self, other: Any) -> "Value":
        return self._lift(other) - self

    def __rmul__(self, other: Any) -> "Value":
        return self._lift(other) * self

    def __rtruediv__(self, other: Any) -> "Value":
        return self._lift(other) / self

    # -- the backward pass ----------------------------------------------------------------

    def backward(self) -> None:
        """Fill in ``grad`` = dL/dv for every node v that this output L depends on.

        Sets p_L = dL/dL = 1, then visits the nodes in reverse topological order (every
        node after all the nodes that use it) and applies each node's local chain rule.
        The sensitivities of the intermediate nodes start from 0 in every pass; those of
        the leaves (inputs, parameters) *accumulate* (``+=``), as in PyTorch: call
        :meth:`zero_grad` before a second backward pass if you do not want that.

        Introduced in Chapter 5, Backpropagation.
        """
        order = topological_order(self)
        for node in order:
            if node._prev:
                node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def zero_grad(self) -> None:
        """Set ``grad = 0`` on this node and on every node it depends on.

        Introduced in Chapter 5, Backpropagation.
        """
        for node in topological_order(self):
            node.grad = 0.0

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"


def topological_order(root: "Value | Tensor") -> list:
    """All nodes that ``root`` depends on (itself included), each after all of its inputs.

    A depth-first search that appends a node once all its inputs (``_prev``) have been
    appended. Written with an explicit stack instead of recursion, so that long chains
    (a sum of 10 000 terms) do not hit Python's recursion limit.

    Introduced in Chapter 5, Backpropagation.
    """
    if not isinstance(root, (Value, Tensor)):
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


# ---------------------------------------------------------------------------------------
# Tensors: the same engine for NumPy arrays
# ---------------------------------------------------------------------------------------


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``.

    If b of shape (3,) was broadcast to (n, 3) in ``a + b``, every row used the same b, so
    p_b is the sum of the n rows of p_out.
    """
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """A NumPy array node of a computational graph: :class:`Value` for arrays.

    ``data`` is a float64 array and ``grad`` an array of the same shape holding
    ``dL/d data``. Supported: ``+ - * /`` with NumPy broadcasting (the gradient of a
    broadcast operand is summed back to its shape), ``@`` (matrix product,
    ``p_A += p_out B^T``, ``p_B += A^T p_out``), ``** c``, unary ``-``, ``.T``, element-wise
    :meth:`exp`, :meth:`log`, :meth:`tanh`, :meth:`sigmoid`, :meth:`relu`, and the
    reductions :meth:`sum` and :meth:`mean`. Rows are samples: a batch of inputs is
    ``X`` of shape ``(n_samples, n_features)`` and a layer is ``sigma(X @ W.T + b)``.

    Introduced in Chapter 5, Backpropagation.
    """

    def __init__(self, data: Any, _children: Iterable["Tensor"] = (), _op: str = "", label: str = ""):
        self.data = as_array(data, "data", finite=False)
        self.grad = np.zeros_like(self.data)
        self._backward: Callable[[], None] = lambda: None
        self._prev: tuple[Tensor, ...] = tuple(_children)
        self._op = _op
        self.label = label

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @staticmethod
    def _lift(other: Any) -> "Tensor":
        if isinstance(other, Tensor):
            return other
        if isinstance(other, Value):
            raise TypeError("cannot combine a Tensor with a Value; wrap the number as Tensor(value.data)")
        return Tensor(other)

    # -- element-wise binary operations with broadcasting --------------------------------

    def __add__(self, other: Any) -> "Tensor":
        """out = a + b (broadcast);  p_a += p_out,  p_b += p_out, each summed to its shape."""
        other = self._lift(other)
        out = Tensor(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += _unbroadcast(out.grad, self.shape)
            other.grad += _unbroadcast(out.grad, other.shape)

        out._backward = _backward
        return out

    def __sub__(self, other: Any) -> "Tensor":
        """out = a - b (broadcast);  p_a += p_out,  p_b -= p_out."""
        other = self._lift(other)
        out = Tensor(self.data - other.data, (self, other), "-")

        def _backward():
            self.grad += _unbroadcast(out.grad, self.shape)
            other.grad -= _unbroadcast(out.grad, other.shape)

        out._backward = _backward
        return out

    def __mul__(self, other: Any) -> "Tensor":
        """out = a * b element-wise (broadcast);  p_a += b * p_out,  p_b += a * p_out."""
        other = self._lift(other)
        out = Tensor(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += _unbroadcast(other.data * out.grad, self.shape)
            other.grad += _unbroadcast(self.data * out.grad, other.shape)

        out._backward = _backward
        return out

    def __truediv__(self, other: Any) -> "Tensor":
        """out = a / b element-wise (broadcast);  p_a += p_out / b,  p_b -= a p_out / b^2."""
        other = self._lift(other)
        out = Tensor(self.data / other.data, (self, other), "/")

        def _backward():
            self.grad += _unbroadcast(out.grad / other.data, self.shape)
            other.grad -= _unbroadcast(self.data * out.grad / other.data**2, other.shape)

        out._backward = _backward
        return out

    def __matmul__(self, other: Any) -> "Tensor":
        """out = A B for 2-D A (n, k) and B (k, m);  p_A += p_out B^T,  p_B += A^T p_out."""
        other = self._lift(other)
        if self.data.ndim != 2 or other.data.ndim != 2 or self.shape[1] != other.shape[0]:
            raise ValueError(f"expected 2-D operands of shapes (n, k) @ (k, m), got {self.shape} @ {other.shape}")
        out = Tensor(self.data @ other.data, (self, other), "@")

        def _backward():
            self.grad += out.grad @ other.data.T
            other.grad += self.data.T @ out.grad

        out._backward = _backward
        return out

    def __pow__(self, k: Any) -> "Tensor":
        """out = a^k element-wise, k a constant number;  p_a += k a^(k-1) * p_out."""
        if isinstance(k, (Tensor, Value)):
            raise TypeError("the exponent of a Tensor must be a number")
        k = _as_real(k, "the exponent")
        out = Tensor(self.data**k, (self,), f"**{k:g}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    # -- unary operations ---------------------------------------------------------------

    def __neg__(self) -> "Tensor":
        """out = -a;  p_a -= p_out."""
        out = Tensor(-self.data, (self,), "neg")

        def _backward():
            self.grad -= out.grad

        out._backward = _backward
        return out

    @property
    def T(self) -> "Tensor":
        """out = a^T (2-D);  p_a += p_out^T."""
        if self.data.ndim != 2:
            raise ValueError(f"expected a 2-D Tensor to transpose, got shape {self.shape}")
        out = Tensor(self.data.T, (self,), "T")

        def _backward():
            self.grad += out.grad.T

        out._backward = _backward
        return out

    def exp(self) -> "Tensor":
        """out = e^a element-wise;  p_a += e^a * p_out."""
        out = Tensor(np.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> "Tensor":
        """out = log a element-wise (a > 0);  p_a += p_out / a."""
        if np.any(self.data <= 0):
            raise ValueError(f"log expects all data > 0, got min {self.data.min()}")
        out = Tensor(np.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> "Tensor":
        """out = tanh(a) element-wise;  p_a += (1 - tanh(a)^2) * p_out."""
        t = np.tanh(self.data)
        out = Tensor(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> "Tensor":
        """out = sigma(a) = 1 / (1 + e^{-a}) element-wise;  p_a += sigma (1 - sigma) * p_out."""
        from scipy.special import expit  # stable for large |a|

        s = expit(self.data)
        out = Tensor(s, (self,), "sigmoid")

        def _backward():
            self.grad += s * (1 - s) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> "Tensor":
        """out = max(0, a) element-wise;  p_a += 1[a > 0] * p_out."""
        out = Tensor(np.maximum(self.data, 0), (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    # -- reductions -------------------------------------------------------------------------

    def sum(self, axis: int | None = None, keepdims: bool = False) -> "Tensor":
        """out = sum of the entries (over ``axis``);  p_a += p_out, copied to every summed entry."""
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,), "sum")

        def _backward():
            g = out.grad if (keepdims or axis is None) else np.expand_dims(out.grad, axis)
            self.grad += np.broadcast_to(g, self.shape)

        out._backward = _backward
        return out

    def mean(self, axis: int | None = None, keepdims: bool = False) -> "Tensor":
        """out = (1/N) sum of the N entries (over ``axis``);  p_a += p_out / N for every entry."""
        n = self.data.size if axis is None else self.shape[axis]
        out = Tensor(self.data.mean(axis=axis, keepdims=keepdims), (self,), "mean")

        def _backward():
            g = out.grad if (keepdims or axis is None) else np.expand_dims(out.grad, axis)
            self.grad += np.broadcast_to(g, self.shape) / n

        out._backward = _backward
        return out

    # -- numbers or arrays on the left ------------------------------------------------------

    def __radd__(self, other: Any) -> "Tensor":
        return self._lift(other) + self

    def __rsub__(self, other: Any) -> "Tensor":
        return self._lift(other) - self

    def __rmul__(self, other: Any) -> "Tensor":
        return self._lift(other) * self

    def __rtruediv__(self, other: Any) -> "Tensor":
        return self._lift(other) / self

    def __rmatmul__(self, other: Any) -> "Tensor":
        return self._lift(other) @ self

    __array_priority__ = 1000  # so that ndarray + Tensor calls Tensor.__radd__

    # -- the backward pass ----------------------------------------------------------------

    def backward(self, grad: Any = None) -> None:
        """Fill in ``grad`` = dL/d(node) for every node that this output L depends on.

        For a scalar output (a loss) ``grad`` defaults to 1; for any other shape, pass the
        sensitivity p_out of the same shape (this computes a vector-Jacobian product).
        As for :meth:`Value.backward`, the gradients of the leaves accumulate: call
        :meth:`zero_grad` (or reset the parameters' ``grad``) between training steps.

        Introduced in Chapter 5, Backpropagation.
        """
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward() without grad needs a scalar output, got shape {self.shape}; pass grad")
            grad = np.ones_like(self.data)
        grad = as_array(grad, "grad", shape=self.shape)
        order = topological_order(self)
        for node in order:
            if node._prev:
                node.grad = np.zeros_like(node.data)
        self.grad = grad.copy()
        for node in reversed(order):
            node._backward()

    def zero_grad(self) -> None:
        """Set ``grad = 0`` on this node and on every node it depends on.

        Introduced in Chapter 5, Backpropagation.
        """
        for node in topological_order(self):
            node.grad = np.zeros_like(node.data)

    def item(self) -> float:
        """The value of a one-element Tensor as a Python float."""
        return self.data.item()

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        if self.data.size == 1:
            return f"Tensor({name}data={self.data.item():.6g}, shape={self.shape})"
        return f"Tensor({name}shape={self.shape})"


# ---------------------------------------------------------------------------------------
# Drawing the computational graph
# ---------------------------------------------------------------------------------------

_OP_SYMBOLS = {"*": "×", "-": "−", "/": "÷", "neg": "−x", "sigmoid": "σ", "@": "@", "sum": "Σ"}


def _op_text(op: str) -> str:
    return _OP_SYMBOLS.get(op, op)


def _node_text(node: Any, fmt: str) -> str:
    lines = [node.label] if node.label else []
    data, grad = node.data, node.grad
    if isinstance(node, Tensor) and node.data.size != 1:
        lines.append("shape " + "×".join(str(s) for s in node.shape))
        lines.append(f"|grad| {np.linalg.norm(grad):{fmt}}")
    else:
        lines.append(f"data {float(np.asarray(data).item()):{fmt}}")
        lines.append(f"grad {float(np.asarray(grad).item()):{fmt}}")
    return "\n".join(lines)


def _layout(order: list) -> tuple[dict[Any, int], dict[Any, float], dict[tuple[int, int], list[tuple]]]:
    """Columns and rows of the nodes of a graph, for :func:`draw_graph`.

    Keys are ``id(v)`` for the box of value v, ``-id(v)`` for the circle of the op that
    made v, and tuples for the bend points of long edges. A value node made by an op sits
    in column 2 d, where d is its depth (the longest path from a leaf); its op circle sits
    in column 2 d - 1. A leaf sits just left of the first op that uses it. An edge that
    spans several columns gets a bend point in each column it crosses, so that it runs
    between the boxes rather than through them. Rows inside a column are ordered by the
    mean row of the neighbours (a few barycentre sweeps, as in Sugiyama's method) to avoid
    crossing edges. Returns (column, row, bend points of each long edge).
    """
    depth: dict[int, int] = {}
    for node in order:  # inputs come first, so their depth is known
        depth[id(node)] = 1 + max((depth[id(c)] for c in node._prev), default=-1)
    col: dict[Any, int] = {}
    consumers: dict[int, list[int]] = {id(n): [] for n in order}
    for node in order:
        if node._prev:
            col[id(node)] = 2 * depth[id(node)]
            col[-id(node)] = 2 * depth[id(node)] - 1
            for c in node._prev:
                consumers[id(c)].append(-id(node))
    for node in order:
        if not node._prev:
            col[id(node)] = min((col[k] for k in consumers[id(node)]), default=1) - 1

    # the edges: input value -> op circle -> output value; long ones get a bend per column
    columns: dict[int, list] = {}
    links: list[tuple[Any, Any]] = []
    bends: dict[tuple[int, int], list[tuple]] = {}
    for node in order:  # first appearance in topological order is the starting row order
        for key in ([-id(node)] if node._prev else []) + [id(node)]:
            columns.setdefault(col[key], []).append(key)
        if not node._prev:
            continue
        for c in dict.fromkeys(id(c) for c in node._prev):
            chain = [("bend", c, id(node), k) for k in range(col[c] + 1, col[-id(node)])]
            for b in chain:
                col[b] = b[3]
                columns.setdefault(b[3], []).append(b)
            bends[(c, id(node))] = chain
            path = [c, *chain, -id(node)]
            links.extend(zip(path, path[1:]))
        links.append((-id(node), id(node)))
    left: dict[Any, list] = {k: [] for k in col}
    right: dict[Any, list] = {k: [] for k in col}
    for a, b in links:
        right[a].append(b)
        left[b].append(a)

    half = {k: (0.15 if isinstance(k, tuple) else 0.5) for k in col}  # half the height a node needs
    row = {k: float(i) for keys in columns.values() for i, k in enumerate(keys)}

    def sweep(neighbours: dict[Any, list], cols: list[int]) -> None:
        for c in cols:
            keys = columns[c]
            bary = {k: (float(np.mean([row[n] for n in neighbours[k]])) if neighbours[k] else row[k]) for k in keys}
            keys.sort(key=lambda k: (bary[k], row[k]))
            pos = [bary[k] for k in keys]  # each node at its barycentre, pushed apart to fit
            for i in range(1, len(pos)):
                pos[i] = max(pos[i], pos[i - 1] + half[keys[i - 1]] + half[keys[i]])
            shift = float(np.mean([bary[k] for k in keys]) - np.mean(pos))
            for k, p in zip(keys, pos):
                row[k] = p + shift

    ordered = sorted(columns)
    for _ in range(4):
        sweep(left, ordered)
        sweep(right, ordered[::-1])
    sweep(left, ordered)
    return col, row, bends


def draw_graph(value: "Value | Tensor", ax: Any = None, *, fmt: str = ".4f"):
    """Draw the computational graph that produced ``value``, from the leaves (left) to it.

    Value nodes are boxes showing ``label``, ``data`` and ``grad`` (for a Tensor: its shape
    and the norm of its gradient); operations are circles; arrows show the flow of the
    forward pass (the backward pass runs them in reverse). Columns are the depth of a
    node, the longest path from a leaf; leaves sit just left of the operation that uses
    them. Uses matplotlib only (no graphviz). Each artist has a ``gid`` starting with
    ``"value:"``, ``"op:"`` or ``"edge:"``.

    Returns the matplotlib Figure (a new one if ``ax`` is None).

    Introduced in Chapter 5, Backpropagation.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path

    from .plots import PALETTE, style

    order = topological_order(value)
    col, row, bends = _layout(order)
    texts = {id(node): _node_text(node, fmt) for node in order}

    inch = 0.55  # inches per data unit; one row is 1.0 unit
    char_w = 8 * 0.6 / 72 / inch  # width of one 8 pt monospace character, in data units
    longest = max(len(line) for t in texts.values() for line in t.split("\n"))
    box_w, box_h, radius = char_w * longest + 0.35, 0.84, 0.34
    x_of_col, x = {}, 0.0
    for c in range(min(col.values()), max(col.values()) + 1):
        w = box_w + 0.5 if c % 2 == 0 else 1.1  # value boxes sit in even columns, op circles in odd ones
        x_of_col[c] = x + w / 2
        x += w
    width = x
    rows = list(row.values())
    y_min, y_max = min(rows) - 0.55, max(rows) + 0.55
    height = y_max - y_min

    def xy(key: Any) -> tuple[float, float]:
        return x_of_col[col[key]], -row[key]  # first row on top

    def half_width(column: int) -> float:
        return box_w / 2 if column % 2 == 0 else radius

    with style():
        if ax is None:
            fig = plt.figure(figsize=(width * inch, height * inch))
            ax = fig.add_axes((0, 0, 1, 1))
        else:
            fig = ax.figure
        ax.set_axis_off()
        ax.set_aspect("equal")
        ax.set_xlim(0, width)
        ax.set_ylim(-y_max, -y_min)

        leaf_face, inner_face, out_face = "#fbe9c4", "#d7ecf8", "#cdeee2"  # light orange, sky, green
        for node in order:
            x0, y0 = xy(id(node))
            face = leaf_face if not node._prev else (out_face if node is value else inner_face)
            ax.add_patch(
                FancyBboxPatch(
                    (x0 - box_w / 2, y0 - box_h / 2), box_w, box_h,
                    boxstyle="round,pad=0,rounding_size=0.08",
                    facecolor=face, edgecolor=PALETTE["black"], linewidth=0.8, gid=f"value:{id(node)}",
                )
            )
            ax.text(x0, y0, texts[id(node)], ha="center", va="center", fontsize=8,
                    family="monospace", linespacing=1.1, gid=f"value-text:{id(node)}")
            if node._prev:
                ox, oy = xy(-id(node))
                symbol = _op_text(node._op)
                ax.add_patch(Circle((ox, oy), radius, facecolor="white", edgecolor=PALETTE["blue"],
                                    linewidth=1.2, gid=f"op:{id(node)}"))
                ax.text(ox, oy, symbol, ha="center", va="center", fontsize=10 if len(symbol) <= 2 else 7.5,
                        color=PALETTE["blue"], fontweight="bold", gid=f"op-text:{id(node)}")

        arrow_style = dict(arrowstyle="-|>", mutation_scale=8, linewidth=0.9, color="#555555", shrinkA=0, shrinkB=0.5)
        for node in order:
            if not node._prev:
                continue
            ox, oy = xy(-id(node))
            for i, c in enumerate(node._prev):
                cx, cy = xy(id(c))
                points = [(cx + box_w / 2, cy)]
                for b in bends[(id(c), id(node))]:  # run straight across each column it crosses
                    bx, by = xy(b)
                    points += [(bx - half_width(col[b]), by), (bx + half_width(col[b]), by)]
                px, py = points[-1]
                d = math.hypot(ox - px, oy - py)
                points.append((ox - radius * (ox - px) / d, oy - radius * (oy - py) / d))  # stop on the circle
                gid = f"edge:{id(c)}->{id(node)}:{i}"
                if node._prev.count(c) > 1:  # x * x: two bent arrows from the same box
                    ax.add_patch(FancyArrowPatch(points[0], points[-1], gid=gid, **arrow_style,
                                                 connectionstyle=f"arc3,rad={0.25 if i == 0 else -0.25}"))
                else:
                    path = Path(points, [Path.MOVETO] + [Path.LINETO] * (len(points) - 1))
                    ax.add_patch(FancyArrowPatch(path=path, gid=gid, **arrow_style))
            vx, vy = xy(id(node))
            ax.add_patch(FancyArrowPatch((ox + radius, oy), (vx - box_w / 2, vy),
                                         gid=f"edge:op->{id(node)}", **arrow_style))
    return fig
