"""Depth versus width: what stacking layers buys, and what it costs.

The multi-layer perceptron of the lecture composes L hidden layers,

    f_0(x) = x,   f_{l+1}(x) = sigma(W_l f_l(x) + b_l)  (l = 0, ..., L-1),   f(x) = beta^T f_L(x),

with W_l of shape (d_{l+1}, d_l), b_l of shape (d_{l+1},), beta of shape (d_L,) and d_0 = d.

*What depth buys* (Telgarsky, 2016). The tent map T(x) = 2 min(x, 1 - x) on [0, 1] is one
hidden layer of two ReLU units, T(x) = 2 sigma(x) - 4 sigma(x - 1/2). Composing it k times
gives the sawtooth T^k with 2^k linear pieces. A deep network with k hidden layers of two
units computes T^k exactly with 6k parameters (:func:`deep_sawtooth`); a shallow network
needs at least 2^k - 1 units, i.e. about 3 * 2^k parameters, even to get within 1/2 of it
(:func:`shallow_sawtooth` is an exact one with 2^k units; :func:`shallow_knot_fit` and
:func:`shallow_width_sweep` measure narrower ones).

*What depth costs.* :func:`train_depths`, :func:`hidden_states` and
:func:`layer_gradient_norms` show that with a poor initialisation the signal f_l and the
gradients dR/dW_l vanish with depth, and deep networks stop training.

One-dimensional inputs are arrays of shape ``(n_samples, 1)`` (``(n_samples,)`` is accepted
where noted); the library's :class:`nnbook.engine.mlp.MLP` and
:class:`nnbook.engine.shallow.ShallowNet` are the models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .._util import as_array, positive_float, positive_int
from ..engine.layers import Activation
from ..engine.losses import SquaredError
from ..engine.losses import get as get_loss
from ..engine.mlp import MLP, _check_sizes, count_parameters
from ..engine.optim import SGD, fit
from ..engine.shallow import ShallowNet, least_squares_beta

Array = np.ndarray


def _check_k(k: Any, minimum: int = 0) -> int:
    return positive_int(k, "k", minimum=minimum)


def _check_unit_interval(x: Any, name: str = "x") -> Array:
    x = as_array(x, name, dtype=np.float64)
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise ValueError(f"expected {name} in [0, 1], got values in [{x.min():.3g}, {x.max():.3g}]")
    return x


def _as_column(x: Any, name: str = "x") -> Array:
    """Inputs as an ``(n, 1)`` array: accepts ``(n,)`` or ``(n, 1)``."""
    x = as_array(x, name, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != 1:
        raise ValueError(f"expected {name} of shape (n, 1) or (n,), got {x.shape}")
    return x


# --------------------------------------------------------------------------- the functions


def tent(x: Any) -> Array:
    """The tent map T(x) = 2 min(x, 1 - x) on [0, 1] (elementwise; any shape).

    T rises from T(0) = 0 to T(1/2) = 1 and falls back to T(1) = 0. On [0, 1] it is a
    shallow ReLU network with two units: T(x) = 2 sigma(x) - 4 sigma(x - 1/2).
    """
    x = _check_unit_interval(x)
    return 2.0 * np.minimum(x, 1.0 - x)


def sawtooth(x: Any, k: int) -> Array:
    """The k-fold composed tent map T^k = T o ... o T (k times), in closed form (any shape):

        T^k(x) = 1 - |2 frac(2^{k-1} x) - 1|,   x in [0, 1],

    a sawtooth with 2^{k-1} teeth and 2^k linear pieces of slope +-2^k, with kinks at the
    points j / 2^k. ``k = 0`` gives the identity T^0(x) = x.
    """
    k = _check_k(k)
    x = _check_unit_interval(x)
    return 1.0 - np.abs(2.0 * np.mod(2.0 ** (k - 1) * x, 1.0) - 1.0)


# --------------------------------------------------------------------------- exact networks


class MLPWeights(NamedTuple):
    """The parameters theta_MLP = {W_0, ..., W_{L-1}, b_0, ..., b_{L-1}, beta} of an MLP
    f(x) = beta^T f_L(x) (no output bias), as lists of arrays in the lecture's shapes.
    """

    W: list[Array]
    b: list[Array]
    beta: Array

    @property
    def sizes(self) -> list[int]:
        """``[d_0, d_1, ..., d_L, 1]``."""
        return [self.W[0].shape[1]] + [W.shape[0] for W in self.W] + [1]

    def to_mlp(self, activation: str = "relu", dtype: Any = np.float64) -> MLP:
        """A library :class:`~nnbook.engine.mlp.MLP` holding these weights, with W_L = beta^T
        and b_L = 0."""
        model = MLP(self.sizes, activation=activation, init="zeros", dtype=dtype)
        state = {f"W_{l}": W for l, W in enumerate(self.W)}
        state.update({f"b_{l}": b for l, b in enumerate(self.b)})
        L = len(self.W)
        state[f"W_{L}"] = self.beta[None, :]
        state[f"b_{L}"] = np.zeros(1)
        return model.load_state_dict(state)


def tent_weights(k: int) -> MLPWeights:
    """The weights by construction of the deep sawtooth network: L = k hidden layers of
    width d_l = 2, d_0 = 1, and

        W_0 = [[1], [1]],                b_0 = (0, -1/2),   so  f_1(x) = (sigma(x), sigma(x - 1/2)),
        W_l = [[2, -4], [2, -4]],        b_l = (0, -1/2),   l = 1, ..., k-1,
        beta = (2, -4).

    Since T(x) = 2 sigma(x) - 4 sigma(x - 1/2) = beta^T f_1(x), each layer feeds T of its input
    to the next: f_l(x) = (sigma(t), sigma(t - 1/2)) with t = T^{l-1}(x), and
    f(x) = beta^T f_k(x) = T^k(x) on [0, 1].
    """
    k = _check_k(k, minimum=1)
    shift = np.array([0.0, -0.5])
    beta = np.array([2.0, -4.0])
    W = [np.array([[1.0], [1.0]])] + [np.vstack([beta, beta]) for _ in range(k - 1)]
    b = [shift.copy() for _ in range(k)]
    return MLPWeights(W, b, beta.copy())


def deep_sawtooth(k: int, dtype: Any = np.float64) -> MLP:
    """The deep narrow ReLU network that computes T^k exactly on [0, 1]: an
    :class:`~nnbook.engine.mlp.MLP` with sizes ``[1, 2, ..., 2, 1]`` (k hidden layers of 2 units)
    holding :func:`tent_weights` (and output bias 0). It has 6k parameters theta_MLP
    (plus the zero output bias the library stores). ``model.forward(x)`` maps ``(n, 1)``
    to ``(n, 1)``.
    """
    return tent_weights(k).to_mlp("relu", dtype)


def shallow_sawtooth(k: int) -> ShallowNet:
    """A shallow ReLU network with M = 2^k units that equals T^k exactly on [0, 1]:

        f(x) = sum_{m=1}^M beta_m sigma(x - (m - 1) / 2^k),
        beta_1 = 2^k,  beta_m = (-1)^(m-1) 2^{k+1} for m = 2, ..., M,

    one unit per kink: unit 1 starts the first rising piece (slope 2^k) and unit m turns the
    slope from +2^k to -2^k at a peak (m even) or back at a valley (m odd). (d + 2) M = 3 * 2^k
    parameters, and no output bias.
    """
    k = _check_k(k)
    M = 2**k
    m = np.arange(1, M + 1)
    beta = np.where(m == 1, float(M), (-1.0) ** (m - 1) * 2.0 * M)
    return ShallowNet(
        np.ones((M, 1)), -(m - 1) / M, beta, "relu", {"method": "construction", "k": k}
    )


# --------------------------------------------------------------------------- measuring


def n_parameters(sizes: Sequence[int], output_bias: bool = False) -> int:
    """|theta_MLP|, the number of parameters of an MLP with ``sizes = [d, d_1, ..., d_L, K]``:

        sum_{l=0}^{L-1} (d_{l+1} d_l + d_{l+1})  +  d_L K  (+ K with an output bias).

    The lecture's H_MLP has no output bias (f(x) = beta^T f_L(x)), hence the default; the
    MNIST count of the slides (235,146) includes one (``output_bias=True``, which is
    :func:`nnbook.engine.mlp.count_parameters`). With L = 1 and K = 1 it is Chapter 1's (d + 2) M.
    """
    sizes = _check_sizes(sizes)
    total = count_parameters(sizes).total
    return total if output_bias else total - sizes[-1]


def count_linear_pieces(values: Any, rtol: float = 1e-9) -> int:
    """The number of linear pieces of a continuous piecewise-linear function, counted from its
    ``values`` at the points of a uniform grid (a 1-D array, at least 3 values).

    A kink between grid points x_{i-1} and x_{i+1} makes the second difference
    f(x_{i+1}) - 2 f(x_i) + f(x_{i-1}) non-zero; a kink strictly inside a grid cell makes two
    neighbouring ones non-zero. So pieces = 1 + (number of runs of consecutive second
    differences larger than ``rtol`` times the largest first difference). The count is exact
    when kinks are at least three grid cells apart (e.g. for T^k on a grid that contains
    the points j / 2^k, with spacing at most 2^-k / 3).
    """
    y = as_array(values, "values", ndim=1)
    if y.shape[0] < 3:
        raise ValueError(f"expected at least 3 values on the grid, got {y.shape[0]}")
    rtol = positive_float(rtol, "rtol")
    d1 = np.diff(y)
    scale = np.max(np.abs(d1))
    if scale == 0:
        return 1
    kink = np.abs(np.diff(d1)) > rtol * scale
    starts = kink & ~np.concatenate([[False], kink[:-1]])  # first index of each run
    return 1 + int(starts.sum())


def _values(f: Callable[[Array], Any], X: Array) -> Array:
    out = np.asarray(f(X), dtype=np.float64)
    if out.shape not in ((X.shape[0],), (X.shape[0], 1)):
        raise ValueError(
            f"expected f to map (n, 1) inputs to (n,) or (n, 1) outputs, got {out.shape}"
        )
    return out.reshape(-1)


def sawtooth_sup_error(
    f: Callable[[Array], Any], k: int, knots: Any = (), n: int = 2**12 + 1
) -> float:
    """max_{x in [0, 1]} |f(x) - T^k(x)| for a continuous piecewise-linear f with kinks at
    ``knots``.

    The difference of two piecewise-linear functions is largest at one of its kinks or at an
    end point, so evaluating on a uniform grid of ``n`` points plus the kinks j / 2^k of T^k
    plus ``knots`` (those of f inside [0, 1]) gives the exact sup norm, not an estimate.
    ``f`` maps ``(n, 1)`` to ``(n,)`` or ``(n, 1)`` (a ``ShallowNet`` or an ``MLP``).
    """
    k = _check_k(k)
    n = positive_int(n, "n", minimum=2)
    knots = as_array(knots, "knots", dtype=np.float64).reshape(-1)
    x = np.concatenate(
        [np.linspace(0, 1, n), np.arange(2**k + 1) / 2**k, knots[(knots >= 0) & (knots <= 1)]]
    )
    x = np.unique(x)[:, None]
    return float(np.max(np.abs(_values(f, x) - sawtooth(x[:, 0], k))))


def shallow_knot_fit(x: Any, y: Any, M: int) -> ShallowNet:
    """A shallow ReLU network with M units and evenly spaced kinks, fitted by least squares:

        f(x) = sum_{m=1}^M beta_m sigma(x - (m - 1) / M),   beta = argmin sum_i (y_i - f(x_i))^2.

    The hidden weights are fixed (w_m = 1, b_m = -(m - 1)/M: one kink at each point j/M of
    [0, 1), j = 0, ..., M - 1), so only beta is fitted, a linear least-squares problem
    (Chapter 1's H_linear with well-placed features). ``x`` has shape ``(n, 1)`` or
    ``(n,)``, ``y`` shape ``(n,)``. ``info["knots"]`` holds the kinks.
    """
    x = _as_column(x)
    y = as_array(y, "y", shape=(x.shape[0],))
    M = positive_int(M, "M")
    knots = np.arange(M) / M
    H = np.maximum(x - knots, 0.0)  # (n, M): h_m(x) = sigma(x - (m - 1)/M)
    beta = least_squares_beta(H, y)
    return ShallowNet(np.ones((M, 1)), -knots, beta, "relu", {"method": "knots", "knots": knots})


def shallow_width_sweep(k: int, Ms: Sequence[int], n: int = 2**12 + 1) -> Array:
    """Sup-norm errors max |f_M - T^k| of :func:`shallow_knot_fit` networks with M units, one
    per entry of ``Ms``, fitted to T^k on a uniform grid of ``n`` points and measured exactly
    with :func:`sawtooth_sup_error`. Returns an array of ``len(Ms)`` errors.
    """
    k = _check_k(k)
    n = positive_int(n, "n", minimum=3)
    Ms = [positive_int(M, "M") for M in Ms]
    x = np.linspace(0, 1, n)[:, None]
    y = sawtooth(x[:, 0], k)
    errors = []
    for M in Ms:
        net = shallow_knot_fit(x, y, M)
        errors.append(sawtooth_sup_error(net, k, net.info["knots"], n))
    return np.array(errors)


# --------------------------------------------------------------------------- training deep networks


def _check_mlp(model: Any) -> MLP:
    if not isinstance(model, MLP):
        raise TypeError(f"expected a nnbook.engine.mlp.MLP, got {type(model).__name__}")
    return model


def hidden_states(model: MLP, X: Any) -> list[Array]:
    """The hidden layers' outputs ``[f_0, f_1, ..., f_L]`` of a library MLP on the rows of X,
    f_0 = X of shape ``(n, d)`` and f_l of shape ``(n, d_l)`` (evaluation mode: no dropout).
    The activations A^(l) = f_{l+1} of the lecture.
    """
    model = _check_mlp(model)
    X = as_array(X, "X", shape=(None, model.d)).astype(model.dtype)
    was_training = model.training
    model.eval()
    try:
        states, out = [X], X
        for layer in model.layers[:-1]:
            out = layer.forward(out)
            if isinstance(layer, Activation):
                states.append(out)
        return states
    finally:
        if was_training:
            model.train()


def layer_gradient_norms(model: MLP, X: Any, y: Any, loss: str = "squared_error") -> Array:
    """The Frobenius norms ||dR/dW_l||, l = 0, ..., L (the last one is beta^T = W_L), of the
    risk R = (1/n) sum_i L(f(x_i), y_i) on the batch (X, y), by one backward pass. Leaves
    the parameters unchanged and the gradients zeroed. Returns an array of L + 1 norms.
    """
    model = _check_mlp(model)
    X = as_array(X, "X", shape=(None, model.d)).astype(model.dtype)
    loss_fn = get_loss(loss)
    model.zero_grad()
    loss_fn.forward(model.forward(X), y)
    model.backward(loss_fn.backward())
    norms = np.array([np.linalg.norm(lin.W.grad) for lin in model.linears])
    model.zero_grad()
    return norms


def _check_regression_data(X: Any, y: Any, dtype: Any) -> tuple[Array, Array]:
    """X of shape (n, d) and y of shape (n, K) (a vector y becomes a column), in ``dtype``."""
    X = as_array(X, "X", ndim=2)
    y = as_array(y, "y")
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != X.shape[0]:
        raise ValueError(f"expected y of shape ({X.shape[0]}, K) or ({X.shape[0]},), got {y.shape}")
    return X.astype(dtype), y.astype(dtype)


def train_depths(
    depths: Sequence[int],
    X: Any,
    y: Any,
    *,
    width: int = 32,
    activation: str = "relu",
    init: str = "he",
    epochs: int = 100,
    lr: float = 0.1,
    momentum: float = 0.9,
    B: int = 64,
    seed: int = 0,
    dtype: Any = np.float32,
) -> dict[int, list[float]]:
    """Train one MLP per depth L in ``depths`` (sizes ``[d, width, ..., width, K]``, L hidden
    layers) on the squared error with the same budget: ``epochs`` epochs of mini-batch SGD
    with momentum (batch size B, learning rate eta = ``lr``), weights drawn by ``init`` with
    seed ``seed``. Returns ``{L: [R at initialisation, then the mean training loss over the
    mini-batches of each epoch]}`` (``epochs + 1`` numbers per depth).

    ``X`` has shape ``(n, d)``, ``y`` shape ``(n, K)`` or ``(n,)``.
    """
    X, y = _check_regression_data(X, y, dtype)
    budget = dict(loss="squared_error", epochs=epochs, B=B, rng=seed + 1)  # the same for all L
    histories = {}
    for L in depths:
        sizes = [X.shape[1]] + [width] * positive_int(L, "depth", minimum=0) + [y.shape[1]]
        model = MLP(sizes, activation=activation, init=init, rng=seed, dtype=dtype)
        start = SquaredError().forward(model.predict(X), y)  # R at initialisation
        opt = SGD(model.parameters(), lr=lr, momentum=momentum)
        hist = fit(model, X, y, optimizer=opt, **budget)
        histories[L] = [float(start)] + [float(v) for v in hist["train_loss"]]
    return histories


__all__ = [
    "tent",
    "sawtooth",
    "MLPWeights",
    "tent_weights",
    "deep_sawtooth",
    "shallow_sawtooth",
    "n_parameters",
    "count_linear_pieces",
    "sawtooth_sup_error",
    "shallow_knot_fit",
    "shallow_width_sweep",
    "hidden_states",
    "layer_gradient_norms",
    "train_depths",
]
