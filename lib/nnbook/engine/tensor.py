"""Reverse-mode automatic differentiation for NumPy arrays: :class:`Value`, for arrays.

A :class:`Tensor` is a node of a computational graph that holds an array. As for
:class:`nnbook.engine.autodiff.Value`, every operation records a ``_backward`` closure that
applies the chain rule for that one operation, and :meth:`Tensor.backward` runs them in
reverse topological order. Enough to train a small MLP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .._util import as_array, real_number
from .autodiff import Value, topological_order

__all__ = ["Tensor"]


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
    """

    def __init__(self, data: Any, _children: Iterable[Tensor] = (), _op: str = "", label: str = ""):
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
    def _lift(other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return other
        if isinstance(other, Value):
            raise TypeError(
                "cannot combine a Tensor with a Value; wrap the number as Tensor(value.data)"
            )
        return Tensor(other)

    # -- element-wise binary operations with broadcasting --------------------------------

    def __add__(self, other: Any) -> Tensor:
        """out = a + b (broadcast);  p_a += p_out,  p_b += p_out, each summed to its shape."""
        other = self._lift(other)
        out = Tensor(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += _unbroadcast(out.grad, self.shape)
            other.grad += _unbroadcast(out.grad, other.shape)

        out._backward = _backward
        return out

    def __sub__(self, other: Any) -> Tensor:
        """out = a - b (broadcast);  p_a += p_out,  p_b -= p_out."""
        other = self._lift(other)
        out = Tensor(self.data - other.data, (self, other), "-")

        def _backward():
            self.grad += _unbroadcast(out.grad, self.shape)
            other.grad -= _unbroadcast(out.grad, other.shape)

        out._backward = _backward
        return out

    def __mul__(self, other: Any) -> Tensor:
        """out = a * b element-wise (broadcast);  p_a += b * p_out,  p_b += a * p_out."""
        other = self._lift(other)
        out = Tensor(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += _unbroadcast(other.data * out.grad, self.shape)
            other.grad += _unbroadcast(self.data * out.grad, other.shape)

        out._backward = _backward
        return out

    def __truediv__(self, other: Any) -> Tensor:
        """out = a / b element-wise (broadcast);  p_a += p_out / b,  p_b -= a p_out / b^2."""
        other = self._lift(other)
        out = Tensor(self.data / other.data, (self, other), "/")

        def _backward():
            self.grad += _unbroadcast(out.grad / other.data, self.shape)
            other.grad -= _unbroadcast(self.data * out.grad / other.data**2, other.shape)

        out._backward = _backward
        return out

    def __matmul__(self, other: Any) -> Tensor:
        """out = A B for 2-D A (n, k) and B (k, m);  p_A += p_out B^T,  p_B += A^T p_out."""
        other = self._lift(other)
        if self.data.ndim != 2 or other.data.ndim != 2 or self.shape[1] != other.shape[0]:
            raise ValueError(
                f"expected 2-D operands of shapes (n, k) @ (k, m), got {self.shape} @ {other.shape}"
            )
        out = Tensor(self.data @ other.data, (self, other), "@")

        def _backward():
            self.grad += out.grad @ other.data.T
            other.grad += self.data.T @ out.grad

        out._backward = _backward
        return out

    def __pow__(self, k: Any) -> Tensor:
        """out = a^k element-wise, k a constant number;  p_a += k a^(k-1) * p_out."""
        if isinstance(k, (Tensor, Value)):
            raise TypeError("the exponent of a Tensor must be a number")
        k = real_number(k, "the exponent")
        out = Tensor(self.data**k, (self,), f"**{k:g}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    # -- unary operations ---------------------------------------------------------------

    def __neg__(self) -> Tensor:
        """out = -a;  p_a -= p_out."""
        out = Tensor(-self.data, (self,), "neg")

        def _backward():
            self.grad -= out.grad

        out._backward = _backward
        return out

    @property
    def T(self) -> Tensor:
        """out = a^T (2-D);  p_a += p_out^T."""
        if self.data.ndim != 2:
            raise ValueError(f"expected a 2-D Tensor to transpose, got shape {self.shape}")
        out = Tensor(self.data.T, (self,), "T")

        def _backward():
            self.grad += out.grad.T

        out._backward = _backward
        return out

    def exp(self) -> Tensor:
        """out = e^a element-wise;  p_a += e^a * p_out."""
        out = Tensor(np.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Tensor:
        """out = log a element-wise (a > 0);  p_a += p_out / a."""
        if np.any(self.data <= 0):
            raise ValueError(f"log expects all data > 0, got min {self.data.min()}")
        out = Tensor(np.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Tensor:
        """out = tanh(a) element-wise;  p_a += (1 - tanh(a)^2) * p_out."""
        t = np.tanh(self.data)
        out = Tensor(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Tensor:
        """out = sigma(a) = 1 / (1 + e^{-a}) element-wise;  p_a += sigma (1 - sigma) * p_out."""
        from scipy.special import expit  # stable for large |a|

        s = expit(self.data)
        out = Tensor(s, (self,), "sigmoid")

        def _backward():
            self.grad += s * (1 - s) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Tensor:
        """out = max(0, a) element-wise;  p_a += 1[a > 0] * p_out."""
        out = Tensor(np.maximum(self.data, 0), (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    # -- reductions -------------------------------------------------------------------------

    def sum(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """out = sum of the entries (over ``axis``);  p_a += p_out, copied to every summed entry."""
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,), "sum")

        def _backward():
            g = out.grad if (keepdims or axis is None) else np.expand_dims(out.grad, axis)
            self.grad += np.broadcast_to(g, self.shape)

        out._backward = _backward
        return out

    def mean(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """out = (1/N) sum of the N entries (over ``axis``);  p_a += p_out / N for every entry."""
        n = self.data.size if axis is None else self.shape[axis]
        out = Tensor(self.data.mean(axis=axis, keepdims=keepdims), (self,), "mean")

        def _backward():
            g = out.grad if (keepdims or axis is None) else np.expand_dims(out.grad, axis)
            self.grad += np.broadcast_to(g, self.shape) / n

        out._backward = _backward
        return out

    # -- numbers or arrays on the left ------------------------------------------------------

    def __radd__(self, other: Any) -> Tensor:
        return self._lift(other) + self

    def __rsub__(self, other: Any) -> Tensor:
        return self._lift(other) - self

    def __rmul__(self, other: Any) -> Tensor:
        return self._lift(other) * self

    def __rtruediv__(self, other: Any) -> Tensor:
        return self._lift(other) / self

    def __rmatmul__(self, other: Any) -> Tensor:
        return self._lift(other) @ self

    __array_priority__ = 1000  # so that ndarray + Tensor calls Tensor.__radd__

    # -- the backward pass ----------------------------------------------------------------

    def backward(self, grad: Any = None) -> None:
        """Fill in ``grad`` = dL/d(node) for every node that this output L depends on.

        For a scalar output (a loss) ``grad`` defaults to 1; for any other shape, pass the
        sensitivity p_out of the same shape (this computes a vector-Jacobian product).
        As for :meth:`Value.backward`, the gradients of the leaves accumulate: call
        :meth:`zero_grad` (or reset the parameters' ``grad``) between training steps.
        """
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    "backward() without grad needs a scalar output, "
                    f"got shape {self.shape}; pass grad"
                )
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
        """Set ``grad = 0`` on this node and on every node it depends on."""
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
