"""Backpropagation for one sample, literally as on the slides, and what it costs.

With the biases absorbed into the weights, an MLP is the recursion

    x_0 = x,   x_{l+1} = g_l(x_l, W_l),  l = 0, ..., L,
    g_l(x, W) = sigma(W x)  for l < L,     g_L(x, W) = W x   (W_L = beta^T),

and the sample-wise objective is R(W; x, y) = L(x_{L+1}, y). The co-states
p_l = grad_{x_l} L(x_{L+1}, y) obey the backward recursion

    p_{L+1} = grad_{x_{L+1}} L(x_{L+1}, y),
    grad_{W_l} R = [grad_{W_l} g_l(x_l, W_l)]^T p_{l+1},
    p_l = [grad_{x_l} g_l(x_l, W_l)]^T p_{l+1},          l = L, L-1, ..., 0.

For g_l(x, W) = sigma(W x) both products go through q = sigma'(W x) * p_{l+1} (element-wise):
[grad_W g_l]^T p_{l+1} = q x^T and [grad_x g_l]^T p_{l+1} = W^T q; for g_L, q = p_{L+1}.

:func:`forward_states` and :func:`backward_costates` are these two loops for one sample
(1-D arrays); :func:`backprop` runs both with a loss from :mod:`nnbook.engine.losses`. The batched,
layer-by-layer version that trains networks is :class:`nnbook.engine.mlp.MLP`.
:func:`matmul_flops` and :func:`backprop_cost` measure what a backward pass costs compared
with a forward pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .._util import as_array, best_times, limit_threads, one_of, positive_int
from ..engine import activations
from ..engine import losses as _losses

Array = np.ndarray

__all__ = [
    "forward_states",
    "backward_costates",
    "initial_costate",
    "BackpropResult",
    "backprop",
    "matmul_flops",
    "backprop_cost",
]


# ---------------------------------------------------------------------------- input checks


def _check_weights(Ws: Any, d: int, bias: bool) -> list[Array]:
    """W_0, ..., W_L as float64 matrices whose shapes chain: W_l is (d_{l+1}, d_l [+ 1])."""
    if isinstance(Ws, np.ndarray) or not isinstance(Ws, Sequence) or len(Ws) == 0:
        raise TypeError(
            "expected Ws to be a non-empty list [W_0, ..., W_L] of 2-D arrays, "
            f"got {type(Ws).__name__}"
        )
    out, d_l = [], d
    extra = 1 if bias else 0
    for l, W in enumerate(Ws):
        W = as_array(W, f"W_{l}", ndim=2)
        if W.shape[1] != d_l + extra:
            raise ValueError(f"expected W_{l} of shape (d_{l + 1}, {d_l + extra}), got {W.shape}")
        out.append(W)
        d_l = W.shape[0]
    return out


def _check_forward(x: Any, Ws: Any, sigma: str, bias: bool) -> tuple[Array, list, Any]:
    """The input x, the weights W_0, ..., W_L and the activation sigma, checked."""
    x = as_array(x, "x", ndim=1)
    return x, _check_weights(Ws, x.shape[0], bias), activations.get(sigma)


def _check_backward(xs: Any, Ws: Any, p_last: Any, sigma: str, bias: bool) -> tuple:
    """The states x_0, ..., x_{L+1}, the weights W_0, ..., W_L, p_{L+1} and sigma, checked."""
    if isinstance(xs, np.ndarray) or not isinstance(xs, Sequence):
        raise TypeError(
            "expected xs to be the list [x_0, ..., x_(L+1)] from forward_states, "
            f"got {type(xs).__name__}"
        )
    if len(xs) < 2:
        raise ValueError(
            "expected the states [x_0, ..., x_(L+1)] (at least 2) from forward_states, "
            f"got {len(xs)}"
        )
    xs = [as_array(x, f"x_{l}", ndim=1) for l, x in enumerate(xs)]
    Ws = _check_weights(Ws, xs[0].shape[0], bias)
    if len(xs) != len(Ws) + 1:
        L = len(Ws) - 1
        raise ValueError(
            f"expected {L + 2} states x_0, ..., x_{L + 1} for {L + 1} weight matrices, "
            f"got {len(xs)}"
        )
    return xs, Ws, as_array(p_last, "p_last", shape=xs[-1].shape), activations.get(sigma)


# ---------------------------------------------------------------------------- the two passes


def forward_states(
    x: Any, Ws: Sequence[Any], sigma: str = "tanh", *, bias: bool = False
) -> list[Array]:
    """The forward pass: the states [x_0, x_1, ..., x_{L+1}] of one sample x.

    x_0 = x and x_{l+1} = g_l(x_l, W_l) for l = 0, ..., L, with g_l(x, W) = sigma(W x) for
    l < L and g_L(x, W) = W x. ``Ws = [W_0, ..., W_L]``, W_l of shape (d_{l+1}, d_l); the last
    one is W_L = beta^T. With ``bias=True`` each W_l has one more column, the bias, and
    multiplies the augmented state [x_l; 1] (the slides' "biases absorbed into the weights").
    """
    x, Ws, act = _check_forward(x, Ws, sigma, bias)
    L = len(Ws) - 1
    xs = [x]
    for l, W in enumerate(Ws):
        x_l = np.append(xs[l], 1.0) if bias else xs[l]
        z = W @ x_l
        xs.append(act.f(z) if l < L else z)  # g_l(x_l, W_l)
    return xs


def backward_costates(
    xs: Sequence[Any], Ws: Sequence[Any], p_last: Any, sigma: str = "tanh", *, bias: bool = False
) -> tuple[list[Array], list[Array]]:
    """The backward pass: the co-states [p_0, ..., p_{L+1}] and the gradients
    [grad_{W_0} R, ..., grad_{W_L} R].

    Starts from ``p_last`` = p_{L+1} = grad_{x_{L+1}} L(x_{L+1}, y) and, for l = L, ..., 0,

        q = sigma'(W_l x_l) * p_{l+1}   (q = p_{L+1} for the linear g_L),
        grad_{W_l} R = [grad_{W_l} g_l]^T p_{l+1} = q x_l^T,
        p_l = [grad_{x_l} g_l]^T p_{l+1} = W_l^T q.

    ``xs`` are the states from :func:`forward_states` (same ``Ws``, ``sigma``, ``bias``).
    p_0 is the gradient of the loss with respect to the input x.
    """
    xs, Ws, p_last, act = _check_backward(xs, Ws, p_last, sigma, bias)
    L = len(Ws) - 1
    ps: list[Array] = [np.empty(0)] * (L + 2)
    grads: list[Array] = [np.empty(0)] * (L + 1)
    ps[L + 1] = p_last
    for l in range(L, -1, -1):
        W = Ws[l]
        x_l = np.append(xs[l], 1.0) if bias else xs[l]
        q = act.df(W @ x_l) * ps[l + 1] if l < L else ps[l + 1]
        grads[l] = np.outer(q, x_l)  # [grad_{W_l} g_l]^T p_{l+1}
        p_l = W.T @ q  # [grad_{x_l} g_l]^T p_{l+1}
        ps[l] = p_l[:-1] if bias else p_l  # the constant 1 has no co-state
    return ps, grads


def initial_costate(x_last: Any, y: Any, loss: str = "squared_error") -> tuple[float, Array]:
    """The loss L(x_{L+1}, y) of one sample and p_{L+1} = grad_{x_{L+1}} L(x_{L+1}, y).

    ``loss`` is a name from :mod:`nnbook.engine.losses`: ``"squared_error"``
    (L = ||x_{L+1} - y||^2 / 2, so p_{L+1} = x_{L+1} - y), ``"cross_entropy"`` (x_{L+1} are
    logits, y an integer label; p_{L+1} = softmax(x_{L+1}) - e_y) or ``"bce"`` (one logit,
    y in [0, 1]).
    """
    x_last = as_array(x_last, "x_last", ndim=1)
    fn = _losses.get(one_of(loss, "loss", sorted(_losses.LOSSES)))
    y_arr = np.asarray(y)
    if loss == "cross_entropy" and y_arr.ndim != 0:
        raise ValueError(
            "expected y to be one integer class label for the cross-entropy, "
            f"got shape {y_arr.shape}"
        )
    y_batch = y_arr.reshape(1) if y_arr.ndim == 0 else y_arr[None]
    value = fn.forward(x_last[None], y_batch)  # a batch of n = 1: the mean is the sample's loss
    return value, fn.backward()[0]


class BackpropResult(NamedTuple):
    """What :func:`backprop` returns: the loss, the states x_l, the co-states p_l and the
    gradients grad_{W_l} R (``grads[l]`` has the shape of W_l).
    """

    loss: float
    xs: list[Array]
    ps: list[Array]
    grads: list[Array]


def backprop(
    x: Any,
    y: Any,
    Ws: Sequence[Any],
    sigma: str = "tanh",
    loss: str = "squared_error",
    *,
    bias: bool = False,
) -> BackpropResult:
    """The backpropagation algorithm for a single point (x, y), as on the slide.

    Forward pass (:func:`forward_states`), p_{L+1} = grad L (:func:`initial_costate`),
    backward pass (:func:`backward_costates`); returns the loss, [x_l], [p_l] and
    [grad_{W_l} R] for l = 0, ..., L.
    """
    xs = forward_states(x, Ws, sigma, bias=bias)
    value, p_last = initial_costate(xs[-1], y, loss)
    ps, grads = backward_costates(xs, Ws, p_last, sigma, bias=bias)
    return BackpropResult(value, xs, ps, grads)


# ---------------------------------------------------------------------------- what it costs


def matmul_flops(sizes: Sequence[int], B: int) -> dict[str, int]:
    """Floating-point operations of the matrix products of an MLP, for a batch of B samples.

    A layer W_l of shape (d_{l+1}, d_l) costs 2 B d_l d_{l+1} flops (one multiply and one add
    per weight and sample) in the forward pass, Z = F W_l^T. The backward pass has two such
    products per layer, dR/dW_l = G^T F and p_l = G W_l, except that the first layer needs no
    dR/dX. Element-wise work (biases, sigma, sigma') is O(B d) per layer and left out.
    Returns ``{"forward": ..., "backward": ...}``.
    """
    sizes = [positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(
            f"expected sizes = [d, d_1, ..., d_L, K] with at least 2 entries, got {sizes}"
        )
    B = positive_int(B, "B")
    per_layer = [2 * B * a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return {"forward": sum(per_layer), "backward": 2 * sum(per_layer) - per_layer[0]}


CLOCKS: dict[str, Callable[[], float]] = {"process": time.process_time, "wall": time.perf_counter}
FRAMEWORKS = ("nnbook", "torch")


def _passes(model: Any, X: Array, y: Array, framework: str) -> tuple[Callable, Callable]:
    """Two functions: a forward pass (outputs and squared-error loss), and the same
    followed by the backward pass, in ``framework``."""
    if framework == "nnbook":
        loss = _losses.SquaredError()

        def forward() -> None:
            loss.forward(model.forward(X), y)

        def forward_backward() -> None:
            loss.forward(model.forward(X), y)
            model.zero_grad()
            model.backward(loss.backward())

        return forward, forward_backward
    import torch

    from ..pytorch.convert import mlp_to_torch

    seq, Xt, yt = mlp_to_torch(model), torch.from_numpy(X), torch.from_numpy(y)

    def torch_loss() -> Any:
        return 0.5 * ((seq(Xt) - yt) ** 2).sum() / len(X)  # the same R as SquaredError

    def torch_forward_backward() -> None:
        seq.zero_grad(set_to_none=True)
        torch_loss().backward()

    return torch_loss, torch_forward_backward


def _fd_seconds(model: Any, X: Array, y: Array, clock: Callable[[], float]) -> float:
    """The time of the whole gradient by central finite differences (2p forward passes)."""
    from ..engine.gradcheck import numerical_gradient

    loss = _losses.SquaredError()

    def R(_: Array) -> float:
        return loss.forward(model.forward(X), y)

    start = clock()
    for param in model.parameters():
        numerical_gradient(R, param.data)
    return clock() - start


def backprop_cost(
    sizes: Sequence[int],
    B: int,
    *,
    activation: str = "relu",
    framework: str = "nnbook",
    repeats: int = 5,
    clock: str = "process",
    finite_differences: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """Time a forward pass and a forward + backward pass of an MLP on a batch, and compare.

    Builds :class:`nnbook.engine.mlp.MLP` ``(sizes, activation)`` in float64 (or its
    ``mlp_to_torch`` copy for ``framework="torch"``) and a random batch (X, y) of B samples
    with the squared-error loss. ``forward`` = outputs and loss; ``forward + backward`` = the
    same, then p_{L+1} and all gradients. Each is the best of ``repeats`` runs, the two timed
    in alternation, on one thread (so that the ratio reflects the work done rather than how
    well each product is parallelised). ``clock`` is ``"process"`` (the CPU time of this
    process, ``time.process_time``: the time spent computing, hardly affected by other
    programs competing for the CPU) or ``"wall"`` (``time.perf_counter``).

    Returns a dict with ``sizes, B, framework, p`` (number of parameters), ``forward_seconds,
    forward_backward_seconds``, ``ratio`` = forward_backward / forward (measured) and
    ``flop_ratio`` = (forward + backward) / forward matrix-product flops from
    :func:`matmul_flops` (exact). ``finite_differences=True`` (``framework="nnbook"`` only)
    also times the whole gradient by central differences (2p forward passes, run once) and
    adds ``fd_seconds`` and ``fd_ratio`` = fd_seconds / forward_seconds.
    """
    from ..engine.mlp import MLP

    one_of(framework, "framework", FRAMEWORKS)
    if finite_differences and framework != "nnbook":
        raise ValueError(
            f"expected framework='nnbook' for finite_differences=True, got {framework!r}"
        )
    repeats = positive_int(repeats, "repeats")
    timer = CLOCKS[one_of(clock, "clock", sorted(CLOCKS))]
    flops = matmul_flops(sizes, B)  # also checks sizes and B
    rng = np.random.default_rng(seed)
    model = MLP(list(sizes), activation=activation, rng=rng, dtype=np.float64)
    X, y = rng.standard_normal((B, model.d)), rng.standard_normal((B, model.K))
    forward, forward_backward = _passes(model, X, y, framework)
    with limit_threads(1):  # a measurement: both frameworks on one thread
        forward_backward()  # warm up (allocations, caches) before timing
        t_f, t_fb = best_times([forward, forward_backward], repeats, timer)
        t_fd = _fd_seconds(model, X, y, timer) if finite_differences else None
    out = {
        "sizes": list(model.sizes),
        "B": int(B),
        "framework": framework,
        "p": model.n_parameters(),
        "forward_seconds": t_f,
        "forward_backward_seconds": t_fb,
        "ratio": t_fb / t_f,
        "flop_ratio": (flops["forward"] + flops["backward"]) / flops["forward"],
    }
    if finite_differences:
        out.update(fd_seconds=t_fd, fd_ratio=t_fd / t_f)
    return out
