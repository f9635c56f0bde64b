"""Loss functions L(f, y), each with its value and its gradient side by side.

Convention, the same for every loss here: the per-sample loss L(f(x_i), y_i) is summed
over the K outputs, and the batch loss is its **mean over the n samples**,

    R = (1/n) sum_i L(f(x_i), y_i),

which is the ERM objective R^(theta) of the slides on the batch (``reduction="sum"``
gives sum_i instead, the form the slides use for the MNIST cross-entropy).
The network output ``f`` has shape ``(n, K)`` (``(n,)`` is accepted when K = 1).

* squared error: L = (1/2) sum_k (y_ik - f_k(x_i))^2, the lecture's loss.
  Note: ``torch.nn.MSELoss()`` is (1/(nK)) sum_i sum_k (y_ik - f_ik)^2, without the 1/2
  and also averaged over the outputs; ours = (K/2) MSELoss.
* cross-entropy on logits Z: L = -sum_m y_im log softmax(Z_i)_m, computed with the
  log-sum-exp trick; equals ``torch.nn.CrossEntropyLoss()``.
* binary cross-entropy on logits z: L = -[y log sigma(z) + (1 - y) log(1 - sigma(z))]
  = softplus(z) - y z, computed stably; equals ``torch.nn.BCEWithLogitsLoss()`` for K = 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .._util import as_array, one_of
from .activations import sigmoid

Array = np.ndarray

REDUCTIONS = ("mean", "sum")


# ---------------------------------------------------------------------------- helpers


def _as_output(f: Any, name: str) -> Array:
    """The network output as a float array (float32 stays float32)."""
    if isinstance(f, np.ndarray) and f.dtype in (np.float32, np.float64):
        return f
    return as_array(f, name, dtype=np.float64, finite=False)


def _scale(n: int, reduction: str) -> float:
    one_of(reduction, "reduction", REDUCTIONS)
    return 1.0 / n if reduction == "mean" else 1.0


def _as_target(y: Any, f: Array, name: str = "y") -> Array:
    """Targets of the same shape as ``f`` (a ``(n,)`` target is accepted for ``(n, 1)`` output)."""
    y = as_array(y, name, dtype=f.dtype)
    if y.shape != f.shape:
        if f.ndim == 2 and f.shape[1] == 1 and y.shape == (f.shape[0],):
            return y.reshape(f.shape)
        if f.ndim == 1 and y.shape == (f.shape[0], 1):
            return y.reshape(f.shape)
        raise ValueError(
            f"expected {name} of shape {f.shape} (the shape of the output), got {y.shape}"
        )
    return y


def _as_labels(y: Any, Z: Array) -> Array:
    """Class labels for logits ``Z`` of shape (n, K): integer labels (n,), returned as an int
    array, or one-hot rows / probabilities (n, K), returned as a float array in Z's dtype.
    """
    n, K = Z.shape
    y_arr = np.asarray(y)
    expected = f"expected y of shape ({n},) (integer labels) or ({n}, {K}) (one-hot)"
    if y_arr.ndim == 2:
        Y = as_array(y_arr, "y", dtype=Z.dtype)
        if Y.shape != Z.shape:
            raise ValueError(f"{expected}, got {Y.shape}")
        return Y
    if y_arr.ndim != 1 or y_arr.shape[0] != n:
        raise ValueError(f"{expected}, got {y_arr.shape}")
    whole = y_arr.dtype.kind in "iu" or (
        y_arr.dtype.kind in "fb" and bool(np.all(np.mod(y_arr, 1) == 0))
    )
    if not whole:
        raise TypeError(
            f"expected y to hold integer class labels 0..{K - 1}, got dtype {y_arr.dtype}"
        )
    labels = y_arr.astype(np.intp, copy=False)
    if n and (labels.min() < 0 or labels.max() >= K):
        raise ValueError(
            f"expected labels in 0..{K - 1} (K = {K} logits), "
            f"got values in {labels.min()}..{labels.max()}"
        )
    return labels


def one_hot(y: Any, K: int, dtype: Any = np.float64) -> Array:
    """One-hot encoding: Y of shape (n, K) with y_im = 1 if y_i = m else 0."""
    labels = _as_labels(y, np.empty((len(np.asarray(y)), K), dtype=dtype))
    if labels.ndim == 2:
        return labels
    Y = np.zeros((labels.shape[0], K), dtype=dtype)
    Y[np.arange(labels.shape[0]), labels] = 1
    return Y


# ---------------------------------------------------------------------------- softmax


def softmax(Z: Any, axis: int = -1) -> Array:
    """softmax(Z)_m = e^{Z_m} / sum_j e^{Z_j}, along ``axis`` (the classes).

    Computed as e^{Z_m - max_j Z_j} / sum_j e^{Z_j - max_j Z_j}: the same value, and no
    overflow for large logits.
    """
    Z = _as_output(Z, "Z")
    E = np.exp(Z - Z.max(axis=axis, keepdims=True))
    E /= E.sum(axis=axis, keepdims=True)
    return E


def log_softmax(Z: Any, axis: int = -1) -> Array:
    """log softmax(Z)_m = Z_m - logsumexp(Z), with logsumexp(Z) = c + log sum_j e^{Z_j - c},
    c = max_j Z_j (the log-sum-exp trick: exact, and never overflows).
    """
    Z = _as_output(Z, "Z")
    S = Z - Z.max(axis=axis, keepdims=True)
    S -= np.log(np.exp(S).sum(axis=axis, keepdims=True))
    return S


# ---------------------------------------------------------------------------- squared error


def squared_error(f: Any, y: Any, reduction: str = "mean") -> float:
    """R = (1/n) sum_i (1/2) sum_k (y_ik - f_k(x_i))^2."""
    f = _as_output(f, "f")
    r = _as_target(y, f) - f
    return float(0.5 * _scale(f.shape[0], reduction) * np.vdot(r, r))


def squared_error_grad(f: Any, y: Any, reduction: str = "mean") -> Array:
    """dR/df_ik = (f_k(x_i) - y_ik) / n: the slides' delta_k, divided by n."""
    f = _as_output(f, "f")
    g = f - _as_target(y, f)
    g *= _scale(f.shape[0], reduction)
    return g


# ---------------------------------------------------------------------------- cross-entropy


def cross_entropy(Z: Any, y: Any, reduction: str = "mean") -> float:
    """R = -(1/n) sum_i sum_m y_im log softmax(Z_i)_m, for logits Z of shape (n, K) and
    labels y: integers (n,) in 0..K-1, or one-hot (n, K).
    """
    Z = _as_output(Z, "Z")
    if Z.ndim != 2:
        raise ValueError(f"expected logits Z of shape (n, K), got {Z.shape}")
    return _cross_entropy_from_log_p(
        log_softmax(Z), _as_labels(y, Z), _scale(Z.shape[0], reduction)
    )


def _cross_entropy_from_log_p(log_p: Array, y: Array, scale: float) -> float:
    if y.ndim == 1:
        return -scale * float(log_p[np.arange(y.shape[0]), y].sum())
    return -scale * float(np.vdot(y, log_p))


def cross_entropy_grad(Z: Any, y: Any, reduction: str = "mean") -> Array:
    """dR/dZ_im = (softmax(Z_i)_m - y_im) / n."""
    Z = _as_output(Z, "Z")
    if Z.ndim != 2:
        raise ValueError(f"expected logits Z of shape (n, K), got {Z.shape}")
    return _cross_entropy_grad_from_p(softmax(Z), _as_labels(y, Z), _scale(Z.shape[0], reduction))


def _cross_entropy_grad_from_p(P: Array, y: Array, scale: float) -> Array:
    if y.ndim == 1:
        P[np.arange(y.shape[0]), y] -= 1
    else:
        P -= y
    P *= scale
    return P


# ---------------------------------------------------------------------------- binary cross-entropy


def binary_cross_entropy(z: Any, y: Any, reduction: str = "mean") -> float:
    """R = (1/n) sum_i [softplus(z_i) - y_i z_i]
    = -(1/n) sum_i [y_i log sigma(z_i) + (1 - y_i) log(1 - sigma(z_i))],
    for logits z (shape (n,) or (n, K)) and targets y in [0, 1] of the same shape.

    Stable: softplus(z) = max(z, 0) + log(1 + e^{-|z|}) never overflows.
    """
    z = _as_output(z, "z")
    y = _as_target(y, z)
    per_entry = np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))
    return float(_scale(z.shape[0], reduction) * per_entry.sum())


def binary_cross_entropy_grad(z: Any, y: Any, reduction: str = "mean") -> Array:
    """dR/dz_i = (sigma(z_i) - y_i) / n."""
    z = _as_output(z, "z")
    return _bce_grad(z, _as_target(y, z), _scale(z.shape[0], reduction))


def _bce_grad(z: Array, y: Array, scale: float) -> Array:
    g = sigmoid(z) - y
    g *= scale
    return g


# ---------------------------------------------------------------------------- weight penalty


def l2_penalty(parameters: Iterable[Any], lam: float) -> float:
    """(lambda/2) J(theta) with J(theta) = ||theta||^2 = sum_i theta_i^2, over all ``parameters``
    (arrays, or :class:`nnbook.engine.layers.Parameter`). Its gradient, lambda theta, is what the
    optimisers' ``weight_decay=lambda`` adds.
    """
    total = 0.0
    for p in parameters:
        a = np.asarray(getattr(p, "data", p))
        total += float(np.vdot(a, a))
    return 0.5 * float(lam) * total


# ---------------------------------------------------------------------------- loss objects


class Loss:
    """A loss with ``forward(output, y) -> float`` and ``backward() -> dR/d output``,
    like the layers: forward caches what backward needs.
    """

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = one_of(reduction, "reduction", REDUCTIONS)
        self._cache: tuple | None = None

    def __call__(self, output: Any, y: Any) -> float:
        return self.forward(output, y)

    def forward(self, output: Any, y: Any) -> float:
        raise NotImplementedError

    def backward(self) -> Array:
        raise NotImplementedError

    def _cached(self) -> tuple:
        if self._cache is None:
            raise RuntimeError("call forward before backward: there is no cached output")
        return self._cache

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reduction={self.reduction!r})"


class SquaredError(Loss):
    """R = (1/n) sum_i (1/2) ||y_i - f(x_i)||^2; backward gives (f - y) / n."""

    def forward(self, f: Any, y: Any) -> float:
        f = _as_output(f, "f")
        r = f - _as_target(y, f)  # the residuals f - y, which are also n * dR/df
        self._cache = (r, _scale(f.shape[0], self.reduction))
        return float(0.5 * self._cache[1] * np.vdot(r, r))

    def backward(self) -> Array:
        r, scale = self._cached()
        return r * scale


class CrossEntropy(Loss):
    """Softmax cross-entropy on logits Z (n, K): R = -(1/n) sum_i log softmax(Z_i)_{y_i};
    backward gives (softmax(Z) - Y) / n. Labels: integers (n,) or one-hot (n, K).
    """

    def forward(self, Z: Any, y: Any) -> float:
        Z = _as_output(Z, "Z")
        if Z.ndim != 2:
            raise ValueError(f"expected logits Z of shape (n, K), got {Z.shape}")
        log_p = log_softmax(Z)
        labels = _as_labels(y, Z)
        self._cache = (log_p, labels, _scale(Z.shape[0], self.reduction))
        return _cross_entropy_from_log_p(*self._cache)

    def backward(self) -> Array:
        log_p, labels, scale = self._cached()
        return _cross_entropy_grad_from_p(np.exp(log_p), labels, scale)


class BCEWithLogits(Loss):
    """Binary cross-entropy on logits z: R = (1/n) sum_i [softplus(z_i) - y_i z_i];
    backward gives (sigma(z) - y) / n. Targets y in [0, 1], same shape as z.
    """

    def forward(self, z: Any, y: Any) -> float:
        z = _as_output(z, "z")
        y = _as_target(y, z)
        self._cache = (z, y, _scale(z.shape[0], self.reduction))
        return binary_cross_entropy(z, y, self.reduction)

    def backward(self) -> Array:
        return _bce_grad(*self._cached())


LOSSES: dict[str, type[Loss]] = {
    "squared_error": SquaredError,
    "cross_entropy": CrossEntropy,
    "bce": BCEWithLogits,
}


def get(name: str | Loss, reduction: str = "mean") -> Loss:
    """A loss object by name (``"squared_error"``, ``"cross_entropy"``, ``"bce"``), or pass
    one through."""
    if isinstance(name, Loss):
        return name
    if name not in LOSSES:
        raise ValueError(f"expected a loss name in {sorted(LOSSES)}, got {name!r}")
    return LOSSES[name](reduction)


__all__ = [
    "softmax",
    "log_softmax",
    "one_hot",
    "squared_error",
    "squared_error_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "l2_penalty",
    "Loss",
    "SquaredError",
    "CrossEntropy",
    "BCEWithLogits",
    "LOSSES",
    "get",
]
