"""Gradient checking by finite differences.

Backpropagation is easy to get subtly wrong, and a wrong gradient still trains a little,
so we compare it with the derivative's definition: for each coordinate theta_i,

    dR/dtheta_i ~ (R(theta + eps e_i) - R(theta - eps e_i)) / (2 eps),

the central difference, whose error is O(eps^2) (plus a rounding error of about
1e-16 |R| / eps). In float64 with eps = 1e-6 a correct backward pass agrees to about
1e-8 or better; a wrong one is off by order 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .losses import get as get_loss

Array = np.ndarray

_TINY = np.finfo(np.float64).tiny


def relative_error(a: Any, b: Any) -> float:
    """max_i |a_i - b_i| / max(max_i |a_i|, max_i |b_i|): the largest difference, relative to
    the size of the gradient (0 if both are 0). Scale-free, and not fooled by entries near 0.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"expected two arrays of the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    diff = float(np.max(np.abs(a - b)))
    return 0.0 if diff == 0 else diff / max(scale, _TINY)


def numerical_gradient(f: Callable[[Array], float], theta: Array, eps: float = 1e-6) -> Array:
    """Central differences (f(theta + eps e_i) - f(theta - eps e_i)) / (2 eps) for every entry
    of ``theta``, a float64 array that ``f`` reads. ``theta`` is perturbed in place, one entry
    at a time, and restored exactly. Costs 2 * theta.size calls of f.
    """
    if not isinstance(theta, np.ndarray) or theta.dtype != np.float64:
        got = theta.dtype if isinstance(theta, np.ndarray) else type(theta).__name__
        raise TypeError(
            "expected theta to be a float64 numpy array (finite differences need float64), "
            f"got {got}"
        )
    if not theta.flags.writeable:
        raise ValueError("expected theta to be writeable: it is perturbed in place")
    if not eps > 0:
        raise ValueError(f"expected eps > 0, got {eps}")
    grad = np.empty_like(theta)
    for i in np.ndindex(theta.shape):
        old = theta[i]
        theta[i] = old + eps
        f_plus = float(f(theta))
        theta[i] = old - eps
        f_minus = float(f(theta))
        theta[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def gradient_errors(
    model: Any, loss: Any, X: Array, y: Array, eps: float = 1e-6, wrt_input: bool = False
) -> dict[str, float]:
    """The relative error (:func:`relative_error`) between backprop and finite differences
    for every parameter of ``model`` (an :class:`nnbook.engine.mlp.MLP` in float64) under
    ``loss`` (a loss object or name) on the batch (X, y); with ``wrt_input`` also for dR/dX
    (key ``"X"``). Dropout is switched off during the check (the model's mode is restored
    afterwards).
    """
    if np.dtype(getattr(model, "dtype", None)) != np.float64:
        got = getattr(model, "dtype", None)
        raise TypeError(f"expected a float64 model for a finite-difference check, got dtype {got}")
    loss = get_loss(loss)
    X = np.array(X, dtype=np.float64)  # a private copy: it may be perturbed
    was_training = model.training
    model.eval()
    try:
        model.zero_grad()
        loss.forward(model.forward(X), y)
        dX = model.backward(loss.backward(), input_grad=wrt_input)

        def R(_: Array) -> float:
            return loss.forward(model.forward(X), y)

        errors = {
            p.name: relative_error(p.grad, numerical_gradient(R, p.data, eps))
            for p in model.parameters()
        }
        if wrt_input:
            errors["X"] = relative_error(dX, numerical_gradient(R, X, eps))
    finally:
        if was_training:
            model.train()
    return errors


def gradcheck_mlp(model: Any, loss: Any, X: Array, y: Array, eps: float = 1e-6) -> float:
    """The largest relative error, over all parameters, between the backprop gradient and
    central finite differences (see :func:`gradient_errors`). About 1e-8 or less means the
    backward pass is right.
    """
    return max(gradient_errors(model, loss, X, y, eps).values())


__all__ = ["relative_error", "numerical_gradient", "gradient_errors", "gradcheck_mlp"]
