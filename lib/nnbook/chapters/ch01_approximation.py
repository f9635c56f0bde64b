"""Single-layer (shallow) networks as function approximators.

A shallow network with M hidden units computes, in two stages (the lecture's notation),

    hidden layer   h_m(X) = sigma(w_m^T X + b_m),            m = 1, ..., M
    output layer   f(X)   = sum_{m=1}^M beta_m h_m(X)          (output bias b_0 = 0)

with parameters theta = {w_m in R^d, b_m in R, beta_m in R}: (d + 2) M numbers in all.
Inputs are arrays of shape ``(n_samples, d)``; outputs have shape ``(n_samples,)``.

Two ways to fit one to data (x, y):

* :func:`random_features_fit` fixes (w_m, b_m) at random and solves a least-squares
  problem for beta: a *linear* model in the hypothesis space H_linear.
* :func:`train_shallow` trains all of theta (PyTorch, L-BFGS): a model that is
  *non-linear* in its parameters, searching H_SNN,M.

:func:`sup_norm_error` measures max_x |f(x) - f*(x)| on a grid, the quantity in the
universal approximation theorem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._util import as_array, one_of, positive_float, positive_int
from ..engine import activations as _act
from ..engine.shallow import ShallowNet, least_squares_beta

Array = np.ndarray


# --------------------------------------------------------------------------- fitting


def random_hidden_weights(
    d: int, M: int, rng: np.random.Generator, *, scale: float = 1.0, spread: str = "random"
) -> tuple[Array, Array]:
    """Draw hidden weights w_m = s u_m and biases b_m = -w_m^T c_m.

    u_m is a random unit direction in R^d (a random sign when d = 1), s = ``scale`` sets
    how steep each unit is, and c_m is a point of [0, 1]^d where unit m switches on
    (the kink of a ReLU, the midpoint of a sigmoid). With ``spread="random"`` the c_m are
    uniform in the cube; with ``spread="even"`` they are spread evenly: the midpoints
    (m - 1/2)/M of [0, 1] when d = 1, the first M points of the Halton sequence otherwise.
    Returns ``(w, b)`` of shapes ``(M, d)`` and ``(M,)``.
    """
    d = positive_int(d, "d")
    M = positive_int(M, "M")
    scale = positive_float(scale, "scale")
    one_of(spread, "spread", ["random", "even"])
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"expected rng to be a numpy.random.Generator, got {type(rng).__name__}")
    u = rng.standard_normal((M, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    if spread == "even" and d == 1:
        c = ((np.arange(M) + 0.5) / M)[:, None]
    elif spread == "even":
        from scipy.stats import qmc

        c = qmc.Halton(d, scramble=False).random(M + 1)[1:]  # skip the corner point 0
    else:
        c = rng.uniform(0.0, 1.0, size=(M, d))
    w = scale * u
    b = -np.sum(w * c, axis=1)
    return w, b


def default_scale(activation: str, M: int, d: int = 1) -> float:
    """Steepness s used by the fitting functions when none is given.

    ReLU-like units do not need one (a ReLU's slope is absorbed by beta), so s = 1. A
    sigmoid switches from 0 to 1 over a width of about 4/s; with M units spread over
    [0, 1]^d, about M^(-1/d) apart, s = M^(1/d) lets each transition overlap a few
    neighbours, which fits smoothly and trains well. tanh(z) = 2 sigmoid(2z) - 1 is twice
    as steep, so it gets half that s.
    """
    name = _act.get(activation).name
    M = positive_int(M, "M")
    d = positive_int(d, "d")
    if name == "sigmoid":
        return float(M ** (1.0 / d))
    if name == "tanh":
        return 0.5 * M ** (1.0 / d)
    return 1.0


def _check_xy(x, y) -> tuple[Array, Array]:
    x = as_array(x, "x", ndim=2)
    y = as_array(y, "y", shape=(x.shape[0],))
    if x.shape[0] < 1:
        raise ValueError("expected at least one sample in x, got 0")
    return x, y


def random_features_fit(
    x,
    y,
    M: int,
    activation: str = "relu",
    rng: np.random.Generator | None = None,
    *,
    scale: float | None = None,
    spread: str = "random",
    ridge: float = 1e-8,
) -> ShallowNet:
    """Fit f in H_linear: fixed random (w_m, b_m), beta by least squares.

    The hidden weights come from :func:`random_hidden_weights` and are never changed;
    only beta is fitted, by solving the linear least-squares problem
    min_beta sum_i (y_i - sum_m beta_m sigma(w_m^T x_i + b_m))^2. ``x`` has shape
    ``(n_samples, d)``, ``y`` shape ``(n_samples,)``. A tiny ``ridge`` keeps beta finite
    when two random features almost coincide (their difference would otherwise get a huge
    weight that fits the data points but spikes between them).
    """
    x, y = _check_xy(x, y)
    M = positive_int(M, "M")
    sigma = _act.get(activation)
    rng = np.random.default_rng(0) if rng is None else rng
    scale = default_scale(sigma.name, M, x.shape[1]) if scale is None else scale
    w, b = random_hidden_weights(x.shape[1], M, rng, scale=scale, spread=spread)
    H = sigma(x @ w.T + b)
    beta = least_squares_beta(H, y, ridge=ridge)
    mse = float(np.mean((H @ beta - y) ** 2))
    return ShallowNet(w, b, beta, sigma.name, {"train_mse": mse, "method": "random features"})


def _check_training(x, y, steps: int, seed: int) -> tuple[Array, Array, int, int]:
    x, y = _check_xy(x, y)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"expected seed to be an int, got {type(seed).__name__}")
    return x, y, positive_int(steps, "steps", minimum=0), int(seed)


def _lbfgs(model, loss, steps: int) -> int:
    """Minimise ``loss()`` over ``model``'s parameters with up to ``steps`` iterations of
    L-BFGS (strong-Wolfe line search, full batch); returns the number of iterations run."""
    import torch

    opt = torch.optim.LBFGS(
        model.parameters(),
        lr=1.0,
        max_iter=max(steps, 1),
        history_size=50,
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
    )

    def closure():
        opt.zero_grad()
        value = loss()
        value.backward()
        return value

    if steps > 0:
        opt.step(closure)
    return int(opt.state[next(model.parameters())].get("n_iter", 0))


def train_shallow(
    x,
    y,
    M: int,
    activation: str = "relu",
    steps: int = 300,
    seed: int = 0,
    *,
    scale: float | None = None,
    spread: str = "random",
) -> ShallowNet:
    """Fit f in H_SNN,M: train all parameters theta = {w_m, b_m, beta_m} on the squared error.

    Minimises the training loss (1/n) sum_i (y_i - f(x_i))^2 over all (d + 2) M parameters,
    which is *non-linear* in theta. Deterministic: float64 PyTorch on the CPU.

    1. Start from :func:`random_features_fit` (random w_m, b_m drawn with
       ``np.random.default_rng(seed)``; beta by least squares).
    2. Run up to ``steps`` iterations of L-BFGS with a strong-Wolfe line search on all
       of theta, full batch. L-BFGS only accepts steps that lower the loss, so the trained
       network fits the training data at least as well as its random-features start.

    Returns a :class:`ShallowNet`; ``info`` holds the training loss before and after
    (``train_mse_start``, ``train_mse``) and the number of L-BFGS ``iterations`` run.
    """
    import torch

    from ..pytorch.convert import shallow_from_torch, shallow_to_torch

    x, y, steps, seed = _check_training(x, y, steps, seed)
    rng = np.random.default_rng(seed)
    start = random_features_fit(x, y, M, activation, rng, scale=scale, spread=spread)
    model, X, Y = shallow_to_torch(start), torch.from_numpy(x), torch.from_numpy(y)
    unit = max(start.info["train_mse"], 1e-300)  # so that L-BFGS's tolerances are relative

    def loss():
        return torch.mean((model(X)[:, 0] - Y) ** 2) / unit

    iterations = _lbfgs(model, loss, steps)
    with torch.no_grad():
        final = float(loss()) * unit
    info = {"train_mse_start": start.info["train_mse"], "train_mse": final}
    info.update(iterations=iterations, method="trained", seed=seed)
    return shallow_from_torch(model, start.activation, info)


# --------------------------------------------------------------------------- measuring


def uniform_grid(n: int, d: int = 1) -> Array:
    """All points of the regular grid with n points per axis on [0, 1]^d, shape ``(n**d, d)``."""
    n = positive_int(n, "n", minimum=2)
    d = positive_int(d, "d")
    axes = np.meshgrid(*([np.linspace(0.0, 1.0, n)] * d), indexing="ij")
    return np.stack([a.ravel() for a in axes], axis=1)


def sup_norm_error(f: Callable[[Array], Array], g: Callable[[Array], Array], grid) -> float:
    """Sup-norm distance max_{x in grid} |f(x) - g(x)|, the error in the UAT.

    ``f`` and ``g`` map an ``(n_samples, d)`` array to ``(n_samples,)`` values; ``grid`` is
    an ``(n_samples, d)`` array of points (a fine grid stands in for the set C).
    """
    grid = as_array(grid, "grid", ndim=2)
    if grid.shape[0] < 1:
        raise ValueError("expected a grid with at least one point, got 0")
    fx = as_array(f(grid), "f(grid)", shape=(grid.shape[0],))
    gx = as_array(g(grid), "g(grid)", shape=(grid.shape[0],))
    return float(np.max(np.abs(fx - gx)))


def loglog_slope(M, err) -> float:
    """Slope of the least-squares line through (log M, log err): err ~ C M^slope."""
    M = as_array(M, "M", ndim=1)
    err = as_array(err, "err", shape=(M.shape[0],))
    if M.shape[0] < 2 or np.any(M <= 0) or np.any(err <= 0):
        raise ValueError("expected at least two positive (M, err) pairs")
    return float(np.polyfit(np.log(M), np.log(err), 1)[0])


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """A continuous target function f*: [0, 1]^d -> R, with its formula for printing.

    ``f`` maps an ``(n_samples, d)`` array to ``(n_samples,)`` values.
    """

    name: str
    d: int
    f: Callable[[Array], Array]
    formula: str

    def __call__(self, X) -> Array:
        X = as_array(X, "X", shape=(None, self.d))
        return self.f(X)


def _wiggle(X: Array) -> Array:
    x = X[:, 0]
    return np.sin(2 * np.pi * x) + 0.5 * np.abs(x - 0.6)


def _bump2d(X: Array) -> Array:
    r2 = (X[:, 0] - 0.35) ** 2 + (X[:, 1] - 0.6) ** 2
    return np.exp(-r2 / 0.05) + 0.5 * np.sin(np.pi * X[:, 0]) * X[:, 1]


TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        Target("wiggle", 1, _wiggle, r"f^*(x) = \sin(2\pi x) + \tfrac12 |x - 0.6|"),
        Target(
            "bump2d",
            2,
            _bump2d,
            r"f^*(x) = e^{-\|x - (0.35, 0.6)\|^2/0.05} + \tfrac12 \sin(\pi x_1)\, x_2",
        ),
    ]
}

__all__ = [
    "random_hidden_weights",
    "default_scale",
    "random_features_fit",
    "train_shallow",
    "uniform_grid",
    "sup_norm_error",
    "loglog_slope",
    "Target",
    "TARGETS",
]
