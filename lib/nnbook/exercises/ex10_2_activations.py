"""Exercise 10.2, choice of activation function: the hard threshold h, the logistic sigma, ReLU.

The network of the exercise is the chapters' shallow network (one hidden layer of M units)
with an output bias and the cross-entropy loss. For inputs X of shape ``(N, d)``, one row
x_i per sample, and labels y_i in {0, 1}:

    z_i = W x_i + b,   a_i = rho(z_i),   f_i = beta^T a_i + beta_0,
    R(theta) = (1/N) sum_i [ -y_i log sigma(f_i) - (1 - y_i) log(1 - sigma(f_i)) ],

with rho the activation of the hidden layer (h, sigma or ReLU; the chapters call it sigma,
but in this exercise sigma is the logistic function) and theta = (W, b, beta, beta_0) of
shapes ``(M, d)``, ``(M,)``, ``(M,)`` and a float.

This module holds the hard threshold (the engine's activation table has no step function),
the forward pass, the risk, the autograd reference gradients, gradient descent with any
backward function, the helpers of the experiments, and the checks of the student's answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._util import as_array, as_rng, best_times, positive_float, positive_int
from ..engine import activations, optim
from ..engine.layers import Activation, Linear
from ..engine.losses import BCEWithLogits, binary_cross_entropy
from ..engine.mlp import MLP
from ..engine.optim import SGD
from .checks import Result, as_numeric, as_tuple, call, fail, fmt, run, shape_of

Array = np.ndarray


# --------------------------------------------------------------------------- the activations
def hard_threshold(z) -> Array:
    """h(z) = 1 for z > 0 and 0 for z <= 0 (the exercise's convention h(0) = 0)."""
    z = np.asarray(z, dtype=float)
    return (z > 0).astype(float)


def hard_threshold_grad(z) -> Array:
    """h'(z) = 0 for z != 0; at the jump z = 0 we use 0 too (see the exercise page)."""
    return np.zeros_like(np.asarray(z, dtype=float))


#: The hard threshold as an engine activation, for ``nnbook.engine.layers.Activation``.
HARD_THRESHOLD = activations.Activation(
    "threshold", hard_threshold, hard_threshold_grad, True, r"\mathbb{1}[z > 0]"
)

#: The activations the exercise compares, plus two relatives used on the page.
ACTIVATION_NAMES = ("threshold", "sigmoid", "relu", "leaky_relu", "tanh")


def get_activation(name: str) -> activations.Activation:
    """The activation rho called ``name``: ``"threshold"`` (h) or a name of the engine's table."""
    if name == "threshold":
        return HARD_THRESHOLD
    return activations.get(name)


# --------------------------------------------------------------------------- the network
def _check_params(params) -> tuple[Array, Array, Array, float]:
    if not isinstance(params, (tuple, list)) or len(params) != 4:
        raise TypeError("expected params = (W, b, beta, beta0)")
    W = as_array(params[0], "W", shape=(None, None))
    M = W.shape[0]
    b = as_array(params[1], "b", shape=(M,))
    beta = as_array(params[2], "beta", shape=(M,))
    beta0 = float(as_array(params[3], "beta0").reshape(-1)[0])
    return W, b, beta, beta0


def init_params(d: int, M: int, rng: np.random.Generator | int | None = None, scale: float = 1.0):
    """theta^(0) = (W, b, beta, beta_0): W and b with N(0, scale^2) entries, beta ~ N(0, 1/M),
    beta_0 = 0."""
    d, M = positive_int(d, "d"), positive_int(M, "M")
    scale = positive_float(scale, "scale")
    g = as_rng(rng)
    W = scale * g.standard_normal((M, d))
    b = scale * g.standard_normal(M)
    beta = g.standard_normal(M) / np.sqrt(M)
    return W, b, beta, 0.0


def forward(X, params, rho: Callable[[Array], Array]):
    """The forward pass for all N rows of X at once: Z = X W^T + b, A = rho(Z), f = A beta + beta_0.

    Returns Z and A of shape (N, M) and the logits f of shape (N,).
    """
    W, b, beta, beta0 = params
    Z = X @ W.T + b
    A = rho(Z)
    f = A @ beta + beta0
    return Z, A, f


def risk(X, y, params, rho: Callable[[Array], Array]) -> float:
    """R(theta) = (1/N) sum_i [softplus(f_i) - y_i f_i], the cross-entropy of sigma(f_i)."""
    X = as_array(X, "X", shape=(None, None))
    y = as_array(y, "y", shape=(X.shape[0],))
    _, _, f = forward(X, _check_params(params), rho)
    return binary_cross_entropy(f, y)


def torch_activation(name: str) -> Callable:
    """rho as a PyTorch function, for autograd: h is written clamp(sign(z), 0), which equals h
    (with h(0) = 0) and has the autograd derivative 0 everywhere."""
    import torch

    functions = {
        "threshold": lambda z: torch.clamp(torch.sign(z), min=0.0),
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, activations.LEAKY_SLOPE),
        "tanh": torch.tanh,
    }
    if name not in functions:
        raise ValueError(f"expected an activation in {list(functions)}, got {name!r}")
    return functions[name]


def torch_gradients(X, y, params, activation: str) -> tuple[Array, Array, Array, float]:
    """dR/dW, dR/db, dR/dbeta, dR/dbeta_0 by PyTorch's autograd in float64 (the reference).

    The hard threshold is written as clamp(sign(z), 0), which equals h (h(0) = 0) and whose
    autograd derivative is 0 everywhere: PyTorch's own ``torch.heaviside`` has no derivative.
    """
    import torch

    rho = torch_activation(activation)
    X = torch.as_tensor(as_array(X, "X", shape=(None, None)))
    y = torch.as_tensor(as_array(y, "y", shape=(X.shape[0],)))
    leaves = [torch.tensor(np.asarray(p, dtype=float), requires_grad=True) for p in params]
    W, b, beta, beta0 = leaves
    f = rho(X @ W.T + b) @ beta + beta0
    torch.nn.functional.binary_cross_entropy_with_logits(f, y).backward()
    gW, gb, gbeta, gbeta0 = (p.grad.numpy() for p in leaves)
    return gW, gb, gbeta, float(gbeta0)


def risk_along_line(X, y, params, direction, ts, activation: str) -> Array:
    """R(theta + t D) for each t in ``ts``, where D = (D_W, D_b) moves only W and b."""
    W, b, beta, beta0 = _check_params(params)
    D_W = as_array(direction[0], "D_W", shape=W.shape)
    D_b = as_array(direction[1], "D_b", shape=b.shape)
    rho = get_activation(activation)
    return np.array([risk(X, y, (W + t * D_W, b + t * D_b, beta, beta0), rho) for t in ts])


def gradient_descent(X, y, params, backward: Callable, rho, rho_prime, lr: float, steps: int):
    """``steps`` steps of theta <- theta - eta grad R(theta), with the gradient from ``backward``.

    ``backward(X, y, params, rho, rho_prime)`` returns (dR/dW, dR/db, dR/dbeta, dR/dbeta_0),
    e.g. the student's. Returns the final parameters and the risks R(theta^(k)), k = 0..steps.
    """
    lr, steps = positive_float(lr, "lr"), positive_int(steps, "steps", minimum=0)
    params = [np.array(p, dtype=float) for p in params]
    risks = [risk(X, y, params, rho)]
    for _ in range(steps):
        grads = backward(X, y, params, rho, rho_prime)
        params = [
            p - lr * np.asarray(g, dtype=float).reshape(p.shape) for p, g in zip(params, grads)
        ]
        risks.append(risk(X, y, params, rho))
    W, b, beta, beta0 = params
    return (W, b, beta, float(beta0)), np.array(risks)


def engine_network(params, activation: str) -> list:
    """The same network as engine layers: [Linear(d, M), Activation(rho), Linear(M, 1)]."""
    W, b, beta, beta0 = _check_params(params)
    hidden, out = Linear(W.shape[1], W.shape[0]), Linear(W.shape[0], 1)
    hidden.W.data[...], hidden.b.data[...] = W, b
    out.W.data[...], out.b.data[...] = beta[None, :], beta0
    return [hidden, Activation(get_activation(activation)), out]


def engine_gradient_descent(X, y, params, activation: str, lr: float, steps: int):
    """Full-batch GD on the engine layers with ``losses.BCEWithLogits`` and ``optim.SGD``.

    An independent implementation of :func:`gradient_descent`; returns the final parameters
    (W, b, beta, beta_0).
    """
    layers = engine_network(params, activation)
    parameters = [p for layer in layers for p in layer.parameters()]
    optimizer, loss = SGD(parameters, lr=lr), BCEWithLogits()
    Y = as_array(y, "y")[:, None]
    for _ in range(positive_int(steps, "steps", minimum=0)):
        out = as_array(X, "X", shape=(None, None))
        for layer in layers:
            out = layer.forward(out)
        loss.forward(out, Y)
        optimizer.zero_grad()
        g = loss.backward()
        for layer in reversed(layers):
            g = layer.backward(g)
        optimizer.step()
    W, b, beta, beta0 = (p.data.copy() for p in parameters)
    return W, b, beta[0], float(beta0[0])


# --------------------------------------------------------------------------- experiments
def make_data(n: int = 200, noise: float = 0.2, seed: int = 0) -> tuple[Array, Array]:
    """Two interleaving half-moons (``sklearn.datasets.make_moons``), each feature standardised:
    X of shape (n, 2) and labels y in {0, 1} of shape (n,)."""
    from sklearn.datasets import make_moons

    X, y = make_moons(positive_int(n, "n"), noise=noise, random_state=seed)
    return (X - X.mean(0)) / X.std(0), y.astype(float)


def first_layer_gradient_norm(X, y, depth: int, activation: str, init: str, width: int, seed):
    """||dR/dW_0||_F at initialisation for an engine MLP with ``depth`` hidden layers of ``width``.

    Cross-entropy on one logit (``losses.BCEWithLogits``), all N rows of X in one batch.
    """
    depth, width = positive_int(depth, "depth"), positive_int(width, "width")
    X = as_array(X, "X", shape=(None, None))
    model = MLP([X.shape[1]] + [width] * depth + [1], activation=activation, init=init, rng=seed)
    loss = BCEWithLogits()
    loss.forward(model.forward(X), as_array(y, "y", shape=(X.shape[0],))[:, None])
    model.zero_grad()
    model.backward(loss.backward())
    return float(np.linalg.norm(model.hidden[0].W.grad))


def gradient_norms_by_depth(
    X, y, depths, activation: str, init: str, width: int = 32, seeds=range(5)
):
    """For each depth L in ``depths``, the geometric mean over ``seeds`` of ||dR/dW_0||_F at
    initialisation (see :func:`first_layer_gradient_norm`). Returns an array, one per depth."""
    norms = [
        [first_layer_gradient_norm(X, y, L, activation, init, width, s) for s in seeds]
        for L in depths
    ]
    return np.exp(np.mean(np.log(norms), axis=1))


def activation_times(names=("relu", "sigmoid"), n: int = 1_000_000, repeats: int = 7) -> dict:
    """Seconds to evaluate rho(z) and rho'(z) on n float64 values, for each activation name:
    the best of ``repeats`` runs, timed in alternation (``nnbook._util.best_times``)."""
    z = np.random.default_rng(0).standard_normal(positive_int(n, "n"))
    acts = [get_activation(name) for name in names]
    fns = [fn for a in acts for fn in (lambda a=a: a.f(z), lambda a=a: a.df(z))]
    times = best_times(fns, positive_int(repeats, "repeats"))
    return {name: (times[2 * i], times[2 * i + 1]) for i, name in enumerate(names)}


def train_and_count(X, y, activation: str, eta: float, seed: int, epochs: int = 20, B: int = 20):
    """Train an engine MLP [d, 64, 1] (He initialisation) by mini-batch SGD on the cross-entropy;
    return the model and what its first hidden layer does on X: the fraction of dead units,
    the fraction of pre-activations z_im <= 0, and the training accuracy."""
    model = MLP([X.shape[1], 64, 1], activation=activation, init="he", rng=seed)
    optim.fit(model, X, y[:, None], loss="bce", lr=eta, epochs=epochs, B=B, rng=seed)
    layer = model.hidden[0]
    Z = X @ layer.W.data.T + layer.b.data
    counts = {
        "activation": activation,
        "eta": eta,
        "dead units": dead_units(model, X).mean(),
        "z <= 0": np.mean(Z <= 0),
        "training accuracy": np.mean(model.predict_labels(X) == y),
    }
    return model, counts


def dead_units(model: MLP, X) -> Array:
    """A boolean mask over the first hidden layer: unit m is dead if z_im = w_m^T x_i + b_m <= 0
    for every row x_i of X. A dead ReLU unit outputs 0 and has ReLU'(z) = 0 on all the data,
    so no gradient reaches its weights.
    """
    layer = model.hidden[0]
    Z = as_array(X, "X", shape=(None, layer.d_in)) @ layer.W.data.T + layer.b.data
    return Z.max(axis=0) <= 0


__all__ = [
    "hard_threshold",
    "hard_threshold_grad",
    "HARD_THRESHOLD",
    "ACTIVATION_NAMES",
    "get_activation",
    "init_params",
    "forward",
    "risk",
    "torch_gradients",
    "risk_along_line",
    "gradient_descent",
    "engine_network",
    "engine_gradient_descent",
    "make_data",
    "first_layer_gradient_norm",
    "gradient_norms_by_depth",
    "activation_times",
    "dead_units",
    "train_and_count",
]


# =========================================================================== the checks
# Each check calls the student's function on inputs of its own, compares with PyTorch's
# autograd in float64, and names the input, the expected and the received value.

_BACKWARD = "Exercise 10.2(a) backward"
_H_PRIME = "Exercise 10.2(a) h_prime"
_SIGMOID_PRIME = "Exercise 10.2(b) sigmoid_prime"
_RELU_PRIME = "Exercise 10.2(c) relu_prime"
_ATOL, _RTOL = 1e-10, 1e-7

#: Points where each derivative is tested: the jump or kink z = 0, tiny |z|, and saturation.
Z_POINTS: Array = np.array(
    [-40.0, -10.0, -3.0, -1.0, -0.25, -1e-8, 0.0, 1e-8, 0.25, 1.0, 3.0, 10.0, 40.0]
)
Z_POINTS.flags.writeable = False


def _z_matrix() -> Array:
    """A (4, 5) array of z values (one exact 0), to check that the derivative is element-wise."""
    Z = np.round(3.0 * np.random.default_rng(102).standard_normal((4, 5)), 4)
    Z[1, 2] = 0.0
    return Z


def _torch_derivative(activation: str, z: Array) -> Array:
    """rho'(z) by PyTorch's autograd, element by element (float64)."""
    import torch

    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(torch_activation(activation)(zt).sum(), zt)
    return grad.numpy()


def _shape_of(value: Any) -> tuple[int, ...] | None:
    """:func:`~nnbook.exercises.checks.shape_of`, and None for a string (as_numeric says so)."""
    return None if isinstance(value, (str, bytes)) else shape_of(value)


def _compare_derivative(title: str, student: Callable, activation: str, name: str, hint) -> int:
    """Compare the student's rho'(z) with autograd on Z_POINTS and on a (4, 5) array.

    Returns the number of z values checked; raises CheckFailed naming the first wrong z.
    """
    cases = 0
    for z in (np.array(Z_POINTS), _z_matrix()):
        expected = _torch_derivative(activation, z)
        got = call(title, student, z.copy())
        if got is None:
            raise fail(title, f"{name}(z) returned None: did you forget a `return`?")
        shape = _shape_of(got)
        if shape is not None and shape != z.shape:
            raise fail(
                title,
                f"{name}(z) should return an array of the shape of z, {z.shape}, got "
                f"shape {shape}: compute the derivative element by element "
                "(for a constant, e.g. np.zeros_like(z) or np.full(z.shape, c)).",
            )
        arr = as_numeric(title, got, f"{name}(z)", shape=z.shape)
        bad = ~np.isclose(arr, expected, atol=_ATOL, rtol=_RTOL)
        if bad.any():
            i = _worst(arr, expected)
            msg = (
                f"at z = {fmt(float(z[i]))} expected {name}(z) = {fmt(float(expected[i]))}, "
                f"got {fmt(float(arr[i]))}."
            )
            extra = hint(z, arr)
            raise fail(title, msg + (" " + extra if extra else ""))
        cases += z.size
    return cases


def _worst(arr: Array, expected: Array) -> tuple[int, ...]:
    """The index of the entry of ``arr`` farthest from ``expected``."""
    return tuple(
        int(k) for k in np.unravel_index(int(np.argmax(np.abs(arr - expected))), arr.shape)
    )


def _matches(arr: Array, other: Array) -> bool:
    return bool(np.allclose(arr, other, atol=1e-8, rtol=1e-6))


def _h_hint(z: Array, arr: Array) -> str:
    if _matches(arr, hard_threshold(z)):
        return "You returned h(z) itself, not its derivative: h is flat on both sides of 0."
    away = z != 0
    if np.allclose(arr[away], 0, atol=_ATOL):
        return (
            "Right away from 0; at the jump z = 0, h has no derivative and this exercise "
            "uses h'(0) = 0 (see the statement), a finite number that backprop can multiply."
        )
    return "h is constant on z < 0 and on z > 0, so its slope there is 0."


def check_h_prime(h_prime: Callable) -> Result:
    """Check ``h_prime(z)``: h'(z) element-wise, for an array z of any shape, with h'(0) = 0.

    The reference is PyTorch's autograd of h(z) = clamp(sign(z), 0).
    """

    def body() -> int:
        z0 = np.array([0.0, 1.0, -1.0])
        got = call(_H_PRIME, h_prime, z0.copy())
        arr = np.asarray(got, dtype=float) if isinstance(got, (np.ndarray, list)) else None
        if arr is not None and arr.shape == (3,) and np.isinf(arr[0]):
            raise fail(
                _H_PRIME,
                f"at z = 0 you returned {fmt(float(arr[0]))}. The jump of h has no finite "
                "derivative (its 'derivative' is a Dirac delta), and backprop multiplies this "
                "number into every gradient: use h'(0) = 0, as the statement says.",
            )
        return _compare_derivative(_H_PRIME, h_prime, "threshold", "h_prime", _h_hint)

    return run(_H_PRIME, body)


def _sigmoid_hint(z: Array, arr: Array) -> str:
    s = activations.sigmoid(z)
    if _matches(arr, s):
        return "You returned sigma(z) itself: sigma'(z) = sigma(z) (1 - sigma(z))."
    if _matches(arr, -s * (1 - s)):
        return "The sign is wrong: sigma is increasing, so sigma'(z) > 0."
    if _matches(arr, 1 - s**2):
        return "1 - sigma(z)^2 has the form of tanh' = 1 - tanh^2; sigma' is sigma (1 - sigma)."
    if _matches(arr, s * (1 + s)) or _matches(arr, s * (1 - s) ** 2):
        return "Check the algebra: sigma'(z) = e^{-z} / (1 + e^{-z})^2 = sigma(z) (1 - sigma(z))."
    return ""


def check_sigmoid_prime(sigmoid_prime: Callable) -> Result:
    """Check ``sigmoid_prime(z)``: sigma'(z) for sigma(z) = 1/(1 + e^{-z}), element-wise.

    Tested on |z| up to 40 (where sigma' is about 4e-18) against PyTorch's autograd.
    """
    return run(
        _SIGMOID_PRIME,
        lambda: _compare_derivative(
            _SIGMOID_PRIME, sigmoid_prime, "sigmoid", "sigmoid_prime", _sigmoid_hint
        ),
    )


def _relu_hint(z: Array, arr: Array) -> str:
    away = z != 0
    right_away = np.allclose(arr[away], (z[away] > 0), atol=_ATOL)
    if right_away:
        return (
            "Right away from 0; at the kink z = 0 this exercise uses ReLU'(0) = 0, as PyTorch's "
            "autograd does: np.heaviside(z, 0) or (z > 0) give it."
        )
    if _matches(arr, np.maximum(z, 0)):
        return "You returned ReLU(z) = max(0, z) itself, not its derivative."
    if _matches(arr[away], (z[away] < 0)):
        return "The sides are swapped: ReLU has slope 1 for z > 0 and 0 for z < 0."
    return ""


def check_relu_prime(relu_prime: Callable) -> Result:
    """Check ``relu_prime(z)``: ReLU'(z) = 1 for z > 0 and 0 for z <= 0, element-wise.

    The value at the kink is PyTorch's convention ReLU'(0) = 0; the reference is autograd.
    """
    return run(
        _RELU_PRIME,
        lambda: _compare_derivative(_RELU_PRIME, relu_prime, "relu", "relu_prime", _relu_hint),
    )


# --------------------------------------------------------------------------- backward check
#: (N, d, M, activation, seed) of each test case; d != M and N != M, so a transposed
#: gradient has the wrong shape, and N > 1, so a missing 1/N shows.
BACKWARD_CASES = (
    (7, 3, 5, "sigmoid", 201),
    (12, 2, 4, "relu", 202),
    (5, 4, 3, "tanh", 203),
    (9, 3, 6, "threshold", 204),
    (6, 5, 2, "leaky_relu", 205),
)


def _backward_case(N: int, d: int, M: int, seed: int):
    g = np.random.default_rng(seed)
    X = g.standard_normal((N, d))
    y = np.zeros(N)
    y[g.permutation(N)[: N // 2]] = 1.0  # both classes present
    params = (g.standard_normal((M, d)), g.standard_normal(M), g.standard_normal(M), 0.3)
    return X, y, params


def _wrong_backward_variants(X, y, params, rho, rho_prime) -> dict[str, tuple]:
    """Gradients of plausible mistakes, in NumPy, used only to explain a wrong answer."""
    W, b, beta, beta0 = params
    N = X.shape[0]
    Z, A, f = forward(X, params, rho)
    variants = {}
    for name, delta, factor in (
        ("forgot rho'", (activations.sigmoid(f) - y) / N, None),
        ("rho for rho'", (activations.sigmoid(f) - y) / N, rho(Z)),
        ("delta = f - y", (f - y) / N, rho_prime(Z)),
    ):
        S = np.outer(delta, beta) * (1.0 if factor is None else factor)
        variants[name] = (S.T @ X, S.sum(0), A.T @ delta, delta.sum())
    return variants


_BACKWARD_HINTS = {
    "forgot rho'": "it equals the gradient without the factor rho'(z): "
    "dR/dZ = (delta beta^T) * rho'(Z), element-wise.",
    "rho for rho'": "it equals the gradient with rho(z) where rho'(z) belongs: "
    "call rho_prime(Z), not rho(Z).",
    "delta = f - y": "it uses delta = f - y (squared loss); for the cross-entropy of "
    "sigma(f), dR/df_i = (sigma(f_i) - y_i) / N.",
}
_NAMES = ("dR/dW", "dR/db", "dR/dbeta", "dR/dbeta0")


def _as_gradients(got: Any, shapes: tuple) -> list[Array]:
    title = _BACKWARD
    wanted = "the four gradients (dW, db, dbeta, dbeta0)"
    got = as_tuple(title, got, 4, "backward(...)", wanted)
    out = []
    for name, shape, value in zip(_NAMES, shapes, got):
        if name == "dR/dbeta0":
            arr = as_numeric(title, value, name)
            if arr.size != 1:
                raise fail(title, f"{name} should be one number, got shape {arr.shape}")
            out.append(arr.reshape(()))
            continue
        got_shape = _shape_of(value)
        if got_shape is not None and got_shape != shape:
            hint = ""
            if name == "dR/dW" and tuple(got_shape) == shape[::-1]:
                hint = " Is it transposed? dR/dW has the shape of W, (M, d): S^T X, not X^T S."
            raise fail(
                title,
                f"{name} should have the shape of its parameter, {shape}, got {got_shape}.{hint}",
            )
        out.append(as_numeric(title, value, name, shape=shape))
    return out


def check_backward(backward: Callable) -> Result:
    """Check ``backward(X, y, params, rho, rho_prime)`` -> (dR/dW, dR/db, dR/dbeta, dR/dbeta0).

    On five random networks (sigmoid, ReLU, tanh, the hard threshold and leaky ReLU in the
    hidden layer, with the engine's rho and rho'), each gradient is compared with PyTorch's
    autograd of the mean cross-entropy in float64.
    """
    title = _BACKWARD

    def body() -> int:
        cases = 0
        for N, d, M, act, seed in BACKWARD_CASES:
            X, y, params = _backward_case(N, d, M, seed)
            rho = get_activation(act)
            args = (X.copy(), y.copy(), tuple(np.copy(p) for p in params), rho.f, rho.df)
            got = _as_gradients(call(title, backward, *args), ((M, d), (M,), (M,), ()))
            expected = torch_gradients(X, y, params, act)
            where = f"on case N = {N}, d = {d}, M = {M}, rho = {act}"
            for k, (name, g, e) in enumerate(zip(_NAMES, got, expected)):
                if np.allclose(g, e, atol=_ATOL, rtol=_RTOL):
                    continue
                e = np.asarray(e, dtype=float)
                i = _worst(g, e)
                entry = name + (str(list(i)) if g.ndim else "")
                msg = f"{entry} {where}: expected {fmt(float(e[i]))}, got {fmt(float(g[i]))}."
                if all(np.allclose(gi, N * np.asarray(ei)) for gi, ei in zip(got, expected)):
                    msg += f" Every gradient is N = {N} times too large: R is the mean over N."
                elif all(np.allclose(gi, -np.asarray(ei)) for gi, ei in zip(got, expected)):
                    msg += " Every gradient has the wrong sign: dR/df_i = (sigma(f_i) - y_i)/N."
                else:
                    for variant, grads in _wrong_backward_variants(*args).items():
                        if np.allclose(g, grads[k], atol=1e-8, rtol=1e-6):
                            msg += f" Here {_BACKWARD_HINTS[variant]}"
                            break
                raise fail(title, msg)
            cases += 1
        return cases

    return run(title, body)


__all__ += [
    "Z_POINTS",
    "BACKWARD_CASES",
    "check_backward",
    "check_h_prime",
    "check_sigmoid_prime",
    "check_relu_prime",
]
