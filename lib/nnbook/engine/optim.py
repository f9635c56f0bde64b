"""Optimisers, learning-rate schedules, mini-batches and a small training loop.

The optimisers follow PyTorch's conventions and update rules (``torch.optim``): build one
on ``model.parameters()``, then per update call ``zero_grad()``, run the backward pass,
and call ``step()``, which changes every parameter's ``data`` in place using its ``grad``.
With ``weight_decay = lambda > 0`` the gradient used is nabla R(theta) + lambda theta, the
gradient of the penalised loss R(theta) + (lambda/2) ||theta||^2; for plain GD that is
theta <- (1 - eta lambda) theta - eta nabla R(theta).

:func:`train_step` is one update; :func:`train_epoch` runs one per batch of a shuffled
epoch (:func:`minibatches`), and :func:`minibatch_stream` gives K batches over as many
epochs as it takes. :func:`fit` trains for several epochs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from math import cos, pi
from typing import Any

import numpy as np

from .._util import as_rng, one_of, positive_float, positive_int, require_finite
from .layers import Parameter, _check_features
from .losses import BCEWithLogits, CrossEntropy
from .losses import get as get_loss

Array = np.ndarray


# ---------------------------------------------------------------------------- optimisers


class Optimizer:
    """Base class: holds the parameters, the learning rate ``lr`` (eta, which a schedule may
    change between steps), the weight decay lambda and the number of steps taken ``k``.
    """

    def __init__(self, params: Iterable[Parameter], lr: float, weight_decay: float = 0.0) -> None:
        if isinstance(params, Parameter):
            params = [params]
        self.params = list(params)
        if not self.params:
            raise ValueError(
                "expected a non-empty list of parameters, e.g. model.parameters(), got an empty one"
            )
        for p in self.params:
            if not isinstance(p, Parameter):
                raise TypeError(
                    "expected parameters of type nnbook.engine.layers.Parameter "
                    f"(e.g. model.parameters()), got {type(p).__name__}"
                )
        self.lr = positive_float(lr, "lr")
        self.weight_decay = positive_float(weight_decay, "weight_decay", allow_zero=True)
        self.k = 0
        self.state: list[dict[str, Array]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Reset the gradient of every parameter to 0."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """One update theta^(k+1) = theta^(k) - eta * (direction from g), for every parameter."""
        self.k += 1
        for p, state in zip(self.params, self.state):
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data  # nabla of R + (lambda/2)||theta||^2
            self._update(p.data, g, state)

    def _update(self, theta: Array, g: Array, state: dict[str, Array]) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr}, weight_decay={self.weight_decay})"


class SGD(Optimizer):
    """(Stochastic) gradient descent, theta <- theta - eta g, with optional momentum mu:

        v <- mu v + g   (v = g at the first step),   theta <- theta - eta v

    (PyTorch's ``torch.optim.SGD`` rule, dampening 0; ``nesterov=True`` uses g + mu v).
    With g the full-batch gradient this is GD; with a mini-batch gradient it is SGD.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = positive_float(momentum, "momentum", allow_zero=True)
        if self.momentum >= 1:
            raise ValueError(f"expected momentum in [0, 1), got {self.momentum}")
        if nesterov and not self.momentum:
            raise ValueError("expected momentum > 0 with nesterov=True")
        self.nesterov = bool(nesterov)

    def _update(self, theta: Array, g: Array, state: dict[str, Array]) -> None:
        if self.momentum:
            v = state.get("v")
            if v is None:
                v = state["v"] = g.copy()
            else:
                v *= self.momentum
                v += g
            g = g + self.momentum * v if self.nesterov else v
        theta -= self.lr * g


GD = SGD
"""Gradient descent: :class:`SGD` used with the full-batch gradient."""


class Momentum(SGD):
    """SGD with (heavy-ball) momentum, mu = 0.9 by default: v <- mu v + g,
    theta <- theta - eta v."""

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(
            params, lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov
        )


class RMSprop(Optimizer):
    """RMSprop: a running mean of squared gradients scales each coordinate's step,

        s <- alpha s + (1 - alpha) g^2,   theta <- theta - eta g / (sqrt(s) + eps)

    (element-wise; s = 0 at the start; PyTorch's ``torch.optim.RMSprop`` rule and defaults).
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.alpha = positive_float(alpha, "alpha", allow_zero=True)
        if self.alpha >= 1:
            raise ValueError(f"expected alpha in [0, 1), got {self.alpha}")
        self.eps = positive_float(eps, "eps")

    def _update(self, theta: Array, g: Array, state: dict[str, Array]) -> None:
        s = state.get("s")
        if s is None:
            s = state["s"] = np.zeros_like(theta)
        s *= self.alpha
        s += (1 - self.alpha) * (g * g)
        theta -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam: momentum on g and RMSprop scaling, both bias-corrected. At step k = 1, 2, ...,

        m <- beta_1 m + (1 - beta_1) g,        v <- beta_2 v + (1 - beta_2) g^2,
        m^ = m / (1 - beta_1^k),               v^ = v / (1 - beta_2^k),
        theta <- theta - eta m^ / (sqrt(v^) + eps)

    (element-wise; PyTorch's ``torch.optim.Adam`` rule and defaults; ``weight_decay`` is the
    L2 form added to g, not AdamW).
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        if not (
            isinstance(betas, (tuple, list))
            and len(betas) == 2
            and all(0 <= float(b) < 1 for b in betas)
        ):
            raise ValueError(f"expected betas = (beta_1, beta_2), each in [0, 1), got {betas!r}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = positive_float(eps, "eps")

    def _update(self, theta: Array, g: Array, state: dict[str, Array]) -> None:
        beta1, beta2 = self.betas
        if "m" not in state:
            state["m"], state["v"] = np.zeros_like(theta), np.zeros_like(theta)
        m, v = state["m"], state["v"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        m_hat = m / (1 - beta1**self.k)
        v_hat = v / (1 - beta2**self.k)
        theta -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


#: The optimisers of this module by name (the one registry).
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "rmsprop": RMSprop,
    "adam": Adam,
}


def make_optimizer(name: str, params: Any, **kwargs: Any) -> Optimizer:
    """``OPTIMIZERS[name](params, **kwargs)``, e.g.
    ``make_optimizer("adam", model.parameters(), lr=1e-3)``."""
    one_of(name, "optimizer", list(OPTIMIZERS))
    return OPTIMIZERS[name](params, **kwargs)


# ---------------------------------------------------------------------------- schedules


class Schedule:
    """A learning-rate schedule: ``schedule(k)`` is eta_k, the rate for update k = 0, 1, ..."""

    def __call__(self, k: int) -> float:
        raise NotImplementedError

    def values(self, K: int) -> Array:
        """[eta_0, ..., eta_{K-1}], e.g. to plot the schedule."""
        return np.array([self(k) for k in range(positive_int(K, "K", minimum=0))])


def _check_k(k: Any) -> int:
    return positive_int(k, "k", minimum=0)


class Constant(Schedule):
    """A constant learning rate, eta_k = eta_0."""

    def __init__(self, eta0: float) -> None:
        self.eta0 = positive_float(eta0, "eta0")

    def __call__(self, k: int) -> float:
        _check_k(k)
        return self.eta0


class StepDecay(Schedule):
    """Step decay: eta_k = eta_0 gamma^floor(k / step_size)
    (``torch.optim.lr_scheduler.StepLR``)."""

    def __init__(self, eta0: float, step_size: int, gamma: float = 0.1) -> None:
        self.eta0 = positive_float(eta0, "eta0")
        self.step_size = positive_int(step_size, "step_size")
        self.gamma = positive_float(gamma, "gamma")

    def __call__(self, k: int) -> float:
        return self.eta0 * self.gamma ** (_check_k(k) // self.step_size)


class ExponentialDecay(Schedule):
    """Exponential decay: eta_k = eta_0 gamma^k (``torch.optim.lr_scheduler.ExponentialLR``)."""

    def __init__(self, eta0: float, gamma: float) -> None:
        self.eta0 = positive_float(eta0, "eta0")
        self.gamma = positive_float(gamma, "gamma")

    def __call__(self, k: int) -> float:
        return self.eta0 * self.gamma ** _check_k(k)


class CosineDecay(Schedule):
    """Cosine schedule over K updates:
    eta_k = eta_min + (eta_0 - eta_min) (1 + cos(pi k / K)) / 2 for k <= K, and eta_min after
    (``torch.optim.lr_scheduler.CosineAnnealingLR`` with T_max = K, which for k > K would
    climb back up instead).
    """

    def __init__(self, eta0: float, K: int, eta_min: float = 0.0) -> None:
        self.eta0 = positive_float(eta0, "eta0")
        self.K = positive_int(K, "K")
        self.eta_min = positive_float(eta_min, "eta_min", allow_zero=True)

    def __call__(self, k: int) -> float:
        k = min(_check_k(k), self.K)
        return self.eta_min + (self.eta0 - self.eta_min) * (1 + cos(pi * k / self.K)) / 2


class LRScheduler:
    """Sets ``optimizer.lr = schedule(k)``: eta_0 at once, then eta_k after the k-th call of
    ``step()`` (call it once per epoch or once per update, as in PyTorch).
    ``schedule`` is a :class:`Schedule` or any function k -> eta_k.
    """

    def __init__(self, optimizer: Optimizer, schedule: Callable[[int], float]) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"expected an nnbook.engine.optim optimizer, got {type(optimizer).__name__}"
            )
        if not callable(schedule):
            raise TypeError(
                f"expected schedule to be a function k -> eta_k, got {type(schedule).__name__}"
            )
        self.optimizer, self.schedule, self.k = optimizer, schedule, 0
        optimizer.lr = float(schedule(0))

    def step(self) -> float:
        """Advance k and set the optimiser's learning rate to eta_k; returns it."""
        self.k += 1
        self.optimizer.lr = float(self.schedule(self.k))
        return self.optimizer.lr

    @property
    def lr(self) -> float:
        """The current learning rate."""
        return self.optimizer.lr


# ---------------------------------------------------------------------------- mini-batches


def minibatches(
    N: int,
    B: int,
    rng: np.random.Generator | int | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[Array]:
    """The index batches of one epoch: a random permutation of 0..N-1 cut into ceil(N/B)
    batches of B indices (the last one smaller if B does not divide N, or dropped with
    ``drop_last``). Each sample is used exactly once per epoch.

    >>> [len(i) for i in minibatches(10, 4, rng=0)]
    [4, 4, 2]
    """
    N = positive_int(N, "N")
    B = positive_int(B, "B")
    if shuffle:
        if rng is None:
            raise TypeError(
                "expected rng (a numpy Generator or an int seed) to shuffle with; "
                "or pass shuffle=False"
            )
        order = as_rng(rng).permutation(N)
    else:
        order = np.arange(N)
    stop = N - N % B if drop_last else N
    for start in range(0, stop, B):
        yield order[start : start + B]


def minibatch_stream(
    N: int, B: int, K: int, rng: np.random.Generator | int | None
) -> Iterator[Array]:
    """K index batches over as many shuffled epochs as it takes: the batches of
    :func:`minibatches` for epoch 1, then for epoch 2 (a new order), ..., cut after K."""
    rng = as_rng(rng)
    k = 0
    while k < K:
        for idx in minibatches(N, B, rng):
            yield idx
            k += 1
            if k == K:
                return


# ---------------------------------------------------------------------------- training loop


def _check_data(
    model: Any, X: Any, y: Any, names: tuple[str, str] = ("X", "y")
) -> tuple[Array, Array]:
    """X as an ``(n, d)`` array of the model's dtype and y with n rows, both finite."""
    X = _check_features(X, names[0], model.d, model.dtype)
    y = np.asarray(y)
    if y.shape[:1] != X.shape[:1]:
        raise ValueError(
            f"expected {names[1]} with {X.shape[0]} rows (one per row of {names[0]}), "
            f"got shape {y.shape}"
        )
    return require_finite(X, names[0]), require_finite(y, names[1])


def train_step(model: Any, loss: Any, optimizer: Optimizer, X: Array, y: Array) -> float:
    """One update on the batch (X, y): forward pass, loss, backward pass, optimiser step.
    Returns the batch loss (before the step)."""
    value = loss.forward(model.forward(X), y)
    optimizer.zero_grad()
    model.backward(loss.backward())
    optimizer.step()
    return value


def train_epoch(
    model: Any,
    loss: Any,
    optimizer: Optimizer,
    X: Array,
    y: Array,
    B: int,
    rng: np.random.Generator,
) -> float:
    """One epoch of mini-batch SGD (any optimiser): one :func:`train_step` per batch.
    Returns the mean training loss over the epoch (each batch weighted by its size).
    Pass the same Generator ``rng`` every epoch, so that each epoch has a new order.
    """
    X, y = _check_data(model, X, y)
    loss, total = get_loss(loss), 0.0
    model.train()
    for idx in minibatches(len(X), B, rng):
        total += train_step(model, loss, optimizer, X[idx], y[idx]) * len(idx)
    return total / len(X)


def _error_rate(out: Array, y: Any) -> float:
    """The fraction of wrong labels: argmax of the logits (K > 1) or logit > 0 (K = 1)."""
    y = np.asarray(y)
    if out.ndim == 2 and out.shape[1] > 1:
        predicted, truth = out.argmax(axis=1), (y.argmax(axis=1) if y.ndim == 2 else y)
    else:
        predicted, truth = (out.reshape(-1) > 0), (y.reshape(-1) > 0.5)
    return float(np.mean(predicted != truth))


def _evaluate(model: Any, loss: Any, X: Array, y: Array) -> dict[str, float]:
    """The validation loss, and (for a classification loss) the error rate."""
    out = model.predict(X)
    scores = {"val_loss": loss.forward(out, y)}
    if isinstance(loss, (CrossEntropy, BCEWithLogits)):
        scores["val_error"] = _error_rate(out, y)
    return scores


def fit(
    model: Any,
    X: Array,
    y: Array,
    *,
    loss: Any = "cross_entropy",
    optimizer: Optimizer | None = None,
    lr: float = 0.1,
    epochs: int = 10,
    B: int = 128,
    rng: np.random.Generator | int | None = None,
    scheduler: LRScheduler | None = None,
    validation: tuple[Array, Array] | None = None,
    verbose: bool = False,
) -> dict[str, list[float]]:
    """Train ``model`` for ``epochs`` epochs of mini-batches of size B; returns the history
    ``{"train_loss": [...], "val_loss": [...], "val_error": [...]}`` (one entry per epoch;
    the validation entries only with ``validation=(X_val, y_val)``; the error, the fraction
    of wrong labels, only for classification losses).

    ``optimizer`` defaults to ``SGD(model.parameters(), lr)``; ``scheduler``, if given,
    steps once per epoch; ``rng`` shuffles the batches. X, y (and the validation data)
    must be finite.
    """
    X, y = _check_data(model, X, y)
    if validation is not None:
        validation = _check_data(model, *validation, names=("X_val", "y_val"))
    loss, rng = get_loss(loss), as_rng(rng)
    optimizer = optimizer if optimizer is not None else SGD(model.parameters(), lr)
    history: dict[str, list[float]] = {"train_loss": []}
    for epoch in range(positive_int(epochs, "epochs")):
        history["train_loss"].append(train_epoch(model, loss, optimizer, X, y, B, rng))
        if validation is not None:
            for key, value in _evaluate(model, loss, *validation).items():
                history.setdefault(key, []).append(value)
        if scheduler is not None:
            scheduler.step()
        if verbose:
            parts = [f"{k} {v[-1]:.4f}" for k, v in history.items()]
            print(f"epoch {epoch + 1}/{epochs}: " + ", ".join(parts))
    return history


__all__ = [
    "Optimizer",
    "SGD",
    "GD",
    "Momentum",
    "RMSprop",
    "Adam",
    "Schedule",
    "Constant",
    "StepDecay",
    "ExponentialDecay",
    "CosineDecay",
    "LRScheduler",
    "minibatches",
    "minibatch_stream",
    "train_step",
    "train_epoch",
    "fit",
]
