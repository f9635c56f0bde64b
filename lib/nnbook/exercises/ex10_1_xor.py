"""The XOR problem: a hidden layer makes XOR linearly separable, and GD may or may not find it.

The four inputs ``X_XOR`` are the rows (0, 0), (0, 1), (1, 0), (1, 1) (shape ``(4, 2)``,
``(n_samples, n_features)``) and ``Y_XOR = (0, 1, 1, 0)`` their classes. This module holds

* :func:`separability_lp`, a linear program that decides whether a labelled point set is
  linearly separable, and returns a Farkas certificate when it is not;
* :func:`reference_feature_map`, the ReLU feature map of the exercise statement;
* :func:`mlp_forward` and :func:`to_torch`, the two-layer network
  f(x) = W2 sigma(W1 x + b1) + b2 in NumPy and as a ``torch.nn.Sequential``;
* :func:`empirical_risk`, :func:`train_xor` and :func:`train_xor_many`, full-batch gradient
  descent on the four points from random starts (deterministic, one NumPy generator per seed);
* :func:`plot_points`, :func:`plot_level_line` and :func:`plot_decision_regions`, the figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from .._util import as_array, one_of, positive_float, positive_int
from ..engine import activations
from ..viz.plots import PALETTE
from .checks import Result, as_numeric, as_tuple, call, fail, fmt, passed, run, shape_of

#: The four Boolean inputs, one per row: (0, 0), (0, 1), (1, 0), (1, 1).
X_XOR: np.ndarray = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
X_XOR.flags.writeable = False
#: XOR of the rows of ``X_XOR``: class 1 when exactly one input is 1.
Y_XOR: np.ndarray = np.array([0.0, 1.0, 1.0, 0.0])
Y_XOR.flags.writeable = False
#: AND, OR and XOR of the rows of ``X_XOR``.
TRUTH_TABLES: dict[str, np.ndarray] = {
    "AND": np.array([0.0, 0.0, 0.0, 1.0]),
    "OR": np.array([0.0, 1.0, 1.0, 1.0]),
    "XOR": Y_XOR,
}
for _table in TRUTH_TABLES.values():
    _table.flags.writeable = False

LOSSES = ("squared", "cross_entropy")


# --------------------------------------------------------------------------- (a) separability
@dataclass(frozen=True)
class SeparabilityResult:
    """What :func:`separability_lp` found.

    ``separable`` is True when some (w, c) puts every point on its side with margin 1,
    ``s_i (w^T x_i + c) >= 1`` with ``s_i = 2 y_i - 1``; then ``w`` and ``c`` are such a
    solution and ``margin`` is ``min_i s_i (w^T x_i + c)``. Otherwise ``w``, ``c`` and
    ``margin`` are None and ``certificate`` holds lambda >= 0, sum lambda = 1, with
    ``sum_i lambda_i s_i (x_i, 1) = 0``: adding the constraints with these weights gives 0 >= 1.
    ``status`` and ``message`` are those of ``scipy.optimize.linprog`` (0 feasible, 2 infeasible).
    """

    separable: bool
    status: int
    message: str
    w: np.ndarray | None = None
    c: float | None = None
    margin: float | None = None
    certificate: np.ndarray | None = None


def separability_lp(X, y) -> SeparabilityResult:
    """Decide whether the points ``X`` (n, d) with classes ``y`` in {0, 1} are linearly separable.

    Solves the feasibility linear program: find w in R^d and c in R with

        s_i (w^T x_i + c) >= 1  for all i,   s_i = 2 y_i - 1 in {-1, +1}.

    For finitely many points this is equivalent to strict separability (scale any strictly
    separating (w, c) until the smallest margin is 1). If the program is infeasible, Farkas'
    lemma gives lambda >= 0, not all zero, with sum_i lambda_i s_i (x_i, 1) = 0; it is found
    by a second linear program and returned (normalised to sum to 1) as the certificate.
    """
    X = as_array(X, "X", shape=(None, None))
    y = as_array(y, "y", shape=(X.shape[0],))
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"expected y to hold classes 0 and 1, got {np.unique(y)}")
    n, d = X.shape
    s = 2 * y - 1
    A = s[:, None] * np.hstack([X, np.ones((n, 1))])  # row i: s_i (x_i, 1)
    res = linprog(
        np.zeros(d + 1), A_ub=-A, b_ub=-np.ones(n), bounds=[(None, None)] * (d + 1), method="highs"
    )
    if res.status == 0:
        w, c = res.x[:d], float(res.x[d])
        margin = float(np.min(s * (X @ w + c)))
        return SeparabilityResult(True, int(res.status), res.message, w, c, margin)
    # Farkas' alternative: lambda >= 0, A^T lambda = 0, sum lambda = 1.
    alt = linprog(
        np.zeros(n),
        A_eq=np.vstack([A.T, np.ones((1, n))]),
        b_eq=np.r_[np.zeros(d + 1), 1.0],
        bounds=[(0, None)] * n,
        method="highs",
    )
    cert = alt.x if alt.status == 0 else None
    return SeparabilityResult(False, int(res.status), res.message, certificate=cert)


# --------------------------------------------------------------------------- (b), (c) the network
def reference_feature_map(X) -> np.ndarray:
    """The ReLU feature map of Exercise 10.1(b), row by row: shape (n, 2) -> (n, 2).

    a_1 = sigma(x_1 + x_2 - 1.5),   a_2 = sigma(-x_1 - x_2 + 0.5),   sigma(z) = max(0, z).
    """
    X = as_array(X, "X", shape=(None, 2))
    s = X[:, 0] + X[:, 1]
    return np.stack([activations.relu(s - 1.5), activations.relu(-s + 0.5)], axis=1)


def _check_weights(W1, b1, W2, b2) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    W1 = as_array(W1, "W1", shape=(None, None))
    h, d = W1.shape
    b1 = as_array(b1, "b1", shape=(h,))
    W2 = as_array(W2, "W2", shape=(None, h))
    b2 = as_array(b2, "b2", shape=(W2.shape[0],))
    return W1, b1, W2, b2


def mlp_forward(X, W1, b1, W2, b2, activation: str = "relu") -> np.ndarray:
    """The two-layer network f(x) = W2 sigma(W1 x + b1) + b2, applied to each row of ``X``.

    Shapes follow ``torch.nn.Linear`` (one row of weights per neuron): ``W1`` (M, d),
    ``b1`` (M,), ``W2`` (K, M), ``b2`` (K,); ``X`` is (n, d) and the result is (n, K).
    With rows as samples this is ``sigma(X W1^T + b1) W2^T + b2``. In the lecture's notation
    W1 = W_0, b1 = b_0 and W2 = beta^T, with an output bias b2 added.
    """
    W1, b1, W2, b2 = _check_weights(W1, b1, W2, b2)
    X = as_array(X, "X", shape=(None, W1.shape[1]))
    sigma = activations.get(activation)
    return sigma(X @ W1.T + b1) @ W2.T + b2


def to_torch(W1, b1, W2, b2, activation: str = "relu"):
    """The same network as :func:`mlp_forward`, as ``nn.Sequential(Linear, activation, Linear)``.

    Parameters are float64 copies of the arrays (``nn.Linear.weight`` has shape (out, in), like
    ``W1`` and ``W2``).
    """
    import torch
    from torch import nn

    from ..pytorch.convert import torch_activation

    W1, b1, W2, b2 = _check_weights(W1, b1, W2, b2)
    (m, d), k = W1.shape, W2.shape[0]
    net = nn.Sequential(nn.Linear(d, m), torch_activation(activation), nn.Linear(m, k)).double()
    with torch.no_grad():
        for p, value in zip(net.parameters(), (W1, b1, W2, b2)):
            p.copy_(torch.from_numpy(value))
    return net


# --------------------------------------------------------------------------- training by GD
def _forward_backward(W1, b1, W2, b2, X, y, sigma: activations.Activation, loss: str):
    """Risk and its gradient for R runs at once (leading axis r); elementwise sums only.

    Shapes: W1 (R, M, d), b1 (R, M), W2 (R, 1, M), b2 (R, 1); X (n, d); y (n,).
    Forward:  z = W1 x + b1,  a = sigma(z),  f = W2 a + b2.
    Backward (p = dR/d(.), as in the lecture's backward recursion):
      p_f = (f - y)/n (squared)  or  (logistic(f) - y)/n (cross-entropy),
      dR/dW2 = sum_i p_f a^T,  dR/db2 = sum_i p_f,
      p_z = (W2^T p_f) * sigma'(z),  dR/dW1 = sum_i p_z x^T,  dR/db1 = sum_i p_z.
    No matrix products, so every run's numbers are the same whatever R is.
    """
    n = X.shape[0]
    z = (X[None, :, None, :] * W1[:, None, :, :]).sum(-1) + b1[:, None, :]  # (R, n, M)
    a = sigma.f(z)
    f = (a * W2[:, None, 0, :]).sum(-1) + b2[:, None, 0]  # (R, n)
    if loss == "squared":
        risk = 0.5 * np.mean((f - y) ** 2, axis=1)
        p_f = (f - y) / n
    else:
        risk = np.mean(np.logaddexp(0.0, f) - y * f, axis=1)
        p_f = (activations.sigmoid(f) - y) / n
    gW2 = (p_f[:, :, None] * a).sum(1)[:, None, :]
    gb2 = p_f.sum(1)[:, None]
    p_z = p_f[:, :, None] * W2[:, None, 0, :] * sigma.df(z)  # (R, n, M)
    gW1 = (p_z[:, :, :, None] * X[None, :, None, :]).sum(1)
    gb1 = p_z.sum(1)
    return risk, f, (gW1, gb1, gW2, gb2)


def _solved(f: np.ndarray, y: np.ndarray, loss: str) -> np.ndarray:
    threshold = 0.5 if loss == "squared" else 0.0  # f > 0 <=> logistic(f) > 1/2
    return np.all((f > threshold) == (y > 0.5), axis=-1)


def empirical_risk(
    params, X=X_XOR, y=Y_XOR, activation: str = "relu", loss: str = "squared"
) -> float:
    """R(theta) = (1/n) sum_i L(f_theta(x_i), y_i) for theta = (W1, b1, W2, b2) with one output.

    ``loss="squared"``: L(f, y) = (f - y)^2 / 2, the lecture's squared loss; f(x) > 0.5 means
    class 1.
    ``loss="cross_entropy"``: L(f, y) = log(1 + e^f) - y f, the cross-entropy of the
    probability logistic(f); f(x) > 0 means class 1.
    """
    return risk_and_gradient(params, X, y, activation, loss)[0]


def risk_and_gradient(params, X=X_XOR, y=Y_XOR, activation: str = "relu", loss: str = "squared"):
    """R(theta) and grad R(theta) = (dR/dW1, dR/db1, dR/dW2, dR/db2) for theta = (W1, b1, W2, b2).

    One forward and one backward pass over all rows of ``X`` (see :func:`empirical_risk` for the
    losses); each gradient has the shape of its parameter.
    """
    W1, b1, W2, b2 = _check_weights(*params)
    if W2.shape[0] != 1:
        raise ValueError(f"expected W2 of shape (1, {W1.shape[0]}), got {W2.shape}")
    X = as_array(X, "X", shape=(None, W1.shape[1]))
    y = as_array(y, "y", shape=(X.shape[0],))
    one_of(loss, "loss", LOSSES)
    risk, _, grads = _forward_backward(
        W1[None], b1[None], W2[None], b2[None], X, y, activations.get(activation), loss
    )
    return float(risk[0]), tuple(g[0] for g in grads)


@dataclass(frozen=True)
class XORRun:
    """One gradient-descent run of :func:`train_xor`.

    ``params`` = (W1, b1, W2, b2) after K steps; ``risks`` has the K + 1 values
    R(theta^(0)), ..., R(theta^(K)); ``solved`` says whether the final network classifies all four
    points correctly; ``grad_norm`` is ||grad R(theta^(K))||.
    """

    seed: int
    activation: str
    loss: str
    lr: float
    steps: int
    params: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    risks: np.ndarray
    solved: bool
    grad_norm: float

    @property
    def final_risk(self) -> float:
        return float(self.risks[-1])


@dataclass(frozen=True)
class XORRuns:
    """Many runs of :func:`train_xor_many`, stacked along a leading axis of length R (by seed)."""

    seeds: np.ndarray
    activation: str
    loss: str
    lr: float
    steps: int
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    risks: np.ndarray  # (R, K + 1)
    solved: np.ndarray  # (R,) bool
    grad_norm: np.ndarray  # (R,)

    @property
    def final_risk(self) -> np.ndarray:
        return self.risks[:, -1]

    def __len__(self) -> int:
        return len(self.seeds)

    def run(self, i: int) -> XORRun:
        """The i-th run as an :class:`XORRun`."""
        params = tuple(p[i].copy() for p in (self.W1, self.b1, self.W2, self.b2))
        return XORRun(
            int(self.seeds[i]),
            self.activation,
            self.loss,
            self.lr,
            self.steps,
            params,
            self.risks[i].copy(),
            bool(self.solved[i]),
            float(self.grad_norm[i]),
        )


def init_params(seed: int, hidden: int = 2, init_scale: float = 1.0):
    """theta^(0) = (W1, b1, W2, b2) with independent N(0, init_scale^2) entries (seeded)."""
    g = np.random.default_rng(seed)
    W1 = g.normal(0.0, init_scale, (hidden, 2))
    b1 = g.normal(0.0, init_scale, hidden)
    W2 = g.normal(0.0, init_scale, (1, hidden))
    b2 = g.normal(0.0, init_scale, 1)
    return W1, b1, W2, b2


def train_xor_many(
    seeds: Sequence[int],
    hidden: int = 2,
    activation: str = "relu",
    loss: str = "squared",
    lr: float = 0.1,
    steps: int = 5000,
    init_scale: float = 1.0,
) -> XORRuns:
    """Full-batch gradient descent on the four XOR points, once per seed, all runs side by side.

    The network is f(x) = W2 sigma(W1 x + b1) + b2 with ``hidden`` = M units (a 2-M-1 MLP);
    theta^(0) comes from :func:`init_params`; then K = ``steps`` steps of

        theta^(k+1) = theta^(k) - eta grad R(theta^(k)),   eta = ``lr``,

    with R the :func:`empirical_risk`. Run r depends only on ``seeds[r]`` (the result for a seed
    is the same alone or in a batch).
    """
    seeds = np.asarray(seeds)
    if seeds.ndim != 1 or len(seeds) == 0 or not np.issubdtype(seeds.dtype, np.integer):
        raise ValueError(f"expected seeds to be a non-empty sequence of ints, got {seeds!r}")
    hidden = positive_int(hidden, "hidden")
    sigma = activations.get(activation)
    one_of(loss, "loss", LOSSES)
    lr = positive_float(lr, "lr")
    steps = positive_int(steps, "steps", minimum=0)
    init_scale = positive_float(init_scale, "init_scale")
    W1, b1, W2, b2 = (
        np.stack(p) for p in zip(*(init_params(int(s), hidden, init_scale) for s in seeds))
    )
    X, y = np.asarray(X_XOR), np.asarray(Y_XOR)
    risks = np.empty((len(seeds), steps + 1))
    for k in range(steps + 1):
        risk, f, grads = _forward_backward(W1, b1, W2, b2, X, y, sigma, loss)
        risks[:, k] = risk
        if k == steps:
            break
        for p, g in zip((W1, b1, W2, b2), grads):
            p -= lr * g
    grad_norm = np.sqrt(sum((g.reshape(len(seeds), -1) ** 2).sum(1) for g in grads))
    return XORRuns(
        seeds.copy(),
        sigma.name,
        loss,
        lr,
        steps,
        W1,
        b1,
        W2,
        b2,
        risks,
        _solved(f, y, loss),
        grad_norm,
    )


def train_xor(
    seed: int,
    hidden: int = 2,
    activation: str = "relu",
    loss: str = "squared",
    lr: float = 0.1,
    steps: int = 5000,
    init_scale: float = 1.0,
) -> XORRun:
    """One run of full-batch gradient descent on XOR from the start given by ``seed``.

    See :func:`train_xor_many`.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"expected seed to be an int, got {type(seed).__name__}")
    return train_xor_many([int(seed)], hidden, activation, loss, lr, steps, init_scale).run(0)


# --------------------------------------------------------------------------- figures
def plot_points(
    ax, P, y, *, labels: Sequence[str] | None = None, legend: bool | dict = True
) -> None:
    """Scatter points ``P`` (n, 2) by class: class 0 as blue circles, class 1 as orange squares.

    ``labels`` annotates each point; ``legend`` is False (none), True (outside, right of the
    axes) or keyword arguments for ``ax.legend``.
    """
    P = as_array(P, "P", shape=(None, 2))
    y = as_array(y, "y", shape=(P.shape[0],))
    for cls, color, marker in ((0, PALETTE["blue"], "o"), (1, PALETTE["orange"], "s")):
        m = y == cls
        ax.scatter(
            P[m, 0],
            P[m, 1],
            s=90,
            c=color,
            marker=marker,
            edgecolors="black",
            zorder=3,
            label=f"class {cls}",
        )
    if labels is not None:  # points that coincide share one annotation, "a & b"
        merged: dict[tuple[float, float], list[str]] = {}
        for (u, v), text in zip(P, labels):
            merged.setdefault((float(u), float(v)), []).append(str(text))
        for (u, v), texts in merged.items():
            ax.annotate(
                " & ".join(texts), (u, v), textcoords="offset points", xytext=(8, 6), fontsize=9
            )
    if legend:
        kwargs = (
            legend
            if isinstance(legend, dict)
            else {"loc": "upper left", "bbox_to_anchor": (1.0, 1.0)}
        )
        ax.legend(**kwargs)


def plot_level_line(ax, v, c: float, level: float = 0.5, *, xlim=(-0.5, 1.5), **kwargs) -> None:
    """Draw the line v_1 u + v_2 t + c = level in the (u, t) plane of ``ax``."""
    v1, v2 = np.asarray(v, dtype=float)
    kwargs.setdefault("color", PALETTE["black"])
    if abs(v2) > 1e-12:
        u = np.linspace(*xlim, 2)
        ax.plot(u, (level - c - v1 * u) / v2, **kwargs)
    elif abs(v1) > 1e-12:
        ax.axvline((level - c) / v1, **kwargs)


def plot_decision_regions(
    ax,
    f: Callable[[np.ndarray], np.ndarray],
    threshold: float = 0.5,
    *,
    lim=(-0.5, 1.5),
    resolution: int = 201,
) -> None:
    """Shade where f(x) > threshold (class 1, orange) and where not (class 0, blue) on a grid.

    ``f`` maps (n, 2) to (n,) or (n, 1).
    """
    from matplotlib.colors import ListedColormap

    g = np.linspace(*lim, resolution)
    U, V = np.meshgrid(g, g)
    F = np.asarray(f(np.c_[U.ravel(), V.ravel()]), dtype=float).reshape(U.shape)
    cmap = ListedColormap([PALETTE["sky"], PALETTE["yellow"]])
    ax.contourf(U, V, (threshold < F).astype(float), levels=[-0.5, 0.5, 1.5], cmap=cmap, alpha=0.35)
    ax.contour(U, V, F, levels=[threshold], colors=PALETTE["black"], linewidths=1.2)
    ax.set_xlim(*lim)
    ax.set_ylim(*lim)


__all__ = [
    "X_XOR",
    "Y_XOR",
    "TRUTH_TABLES",
    "LOSSES",
    "SeparabilityResult",
    "separability_lp",
    "reference_feature_map",
    "mlp_forward",
    "to_torch",
    "empirical_risk",
    "risk_and_gradient",
    "init_params",
    "XORRun",
    "XORRuns",
    "train_xor",
    "train_xor_many",
    "plot_points",
    "plot_level_line",
    "plot_decision_regions",
]


# =========================================================================== Exercise 10.1: XOR
# Each check calls the student's function, compares with the truth computed independently
# (the statement's formulas, evaluated above), and says which input went wrong.

_XOR_FEATURES = "Exercise 10.1(b) feature_map"
_XOR_OUTPUT = "Exercise 10.1(b) output_weights"
_XOR_MLP = "Exercise 10.1(c) xor_mlp_weights"
_BOUNDARY_TOL = 1e-9  # |f(x) - 0.5| below this counts as "on the decision line"
_EXACT_TOL = 1e-8  # "f computes XOR exactly" up to this rounding


def _pt(x: Sequence[float]) -> str:
    """A point as (0, 1) or (0.3127, -0.5): short, without array brackets."""
    return "(" + ", ".join(f"{float(v):.4g}" for v in x) + ")"


def _xor_random_points() -> np.ndarray:
    """Fixed non-Boolean test inputs, so a hard-coded truth table cannot pass.

    Each hidden unit is tested where it is active and where it is not: three points have
    x1 + x2 < 0.5 (only a2 > 0), two have 0.5 < x1 + x2 < 1.5 (both zero) and three have
    x1 + x2 > 1.5 (only a1 > 0), each at least 0.2 away from the kinks.
    """
    g = np.random.default_rng(101)
    s = np.r_[g.uniform(-1.0, 0.3, 3), g.uniform(0.7, 1.3, 2), g.uniform(1.7, 3.0, 3)]
    x1 = np.round(g.uniform(-1.0, 2.0, s.size), 3)
    return np.c_[x1, np.round(s - x1, 3)]


def _unit_notes(x: np.ndarray, wrong: np.ndarray) -> str:
    """Say which hidden unit is wrong at ``x`` and whether it is active there."""
    s = float(x[0] + x[1])
    units = (
        ("a1 = sigma(x1 + x2 - 1.5)", s > 1.5, "x1 + x2 > 1.5"),
        ("a2 = sigma(-x1 - x2 + 0.5)", s < 0.5, "x1 + x2 < 0.5"),
    )
    notes = []
    for (formula, active, where), bad in zip(units, wrong):
        if bad:
            state = f"active here ({where})" if active else "zero here"
            notes.append(f"{formula} is wrong, and it is {state}")
    return f" At this point x1 + x2 = {s:.4g}: " + "; ".join(notes) + "."


def check_feature_map(feature_map: Callable) -> Result:
    """Check ``feature_map(X)``: (n, 2) -> (n, 2), the hidden ReLU layer of Exercise 10.1(b).

    Row i of the result is (a_1, a_2) = (sigma(x_1 + x_2 - 1.5), sigma(-x_1 - x_2 + 0.5)).
    Tests the four XOR inputs and eight other points, on which each unit is active somewhere and
    zero somewhere; sigma is the ReLU max(0, z).
    """

    title = _XOR_FEATURES

    def body() -> int:
        cases = 0
        for name, X in (
            ("the four XOR inputs", np.array(X_XOR)),
            ("other inputs", _xor_random_points()),
        ):
            expected = reference_feature_map(X)
            got = call(title, feature_map, X.copy())
            if shape_of(got) == expected.shape[::-1] and expected.shape[0] != expected.shape[1]:
                raise fail(
                    title,
                    f"feature_map(X) should have shape {expected.shape} (one row (a1, a2) per "
                    f"input row), got {shape_of(got)}: is the result transposed?",
                )
            arr = as_numeric(title, got, f"feature_map(X) on {name}", shape=expected.shape)
            bad = ~np.all(np.isclose(arr, expected, atol=1e-6, rtol=1e-6), axis=1)
            if bad.any():
                i = int(np.argmax(bad))
                msg = (
                    f"at x = {_pt(X[i])} (row {i} of X, {name}) expected (a1, a2) = "
                    f"{_pt(expected[i])}, got {_pt(arr[i])}."
                )
                msg += _unit_notes(X[i], ~np.isclose(arr[i], expected[i], atol=1e-6, rtol=1e-6))
                z = np.stack([X.sum(1) - 1.5, -X.sum(1) + 0.5], axis=1)
                if np.allclose(arr, expected[:, ::-1], atol=1e-6):
                    msg += (
                        " The columns are swapped: column 0 is a1 = sigma(x1 + x2 - 1.5), "
                        "column 1 is a2."
                    )
                elif np.allclose(arr, z, atol=1e-6):
                    msg += " You returned the pre-activations z: apply sigma(z) = max(0, z)."
                elif np.allclose(arr, 1 / (1 + np.exp(-z)), atol=1e-6):
                    msg += " Here sigma is the ReLU max(0, z), not the logistic function."
                elif np.any(arr < -1e-12):
                    msg += " A ReLU output is never negative: did you apply sigma(z) = max(0, z)?"
                elif name == "other inputs":
                    msg += (
                        " It is right on the four XOR inputs: compute the formula for any x, "
                        "not a table."
                    )
                raise fail(title, msg)
            cases += len(X)
        return cases

    return run(title, body)


def check_output_weights(output_weights: Callable) -> Result:
    """Check ``output_weights()`` -> (v1, v2, c): f = v1 a1 + v2 a2 + c > 0.5 exactly on class 1.

    The points are the four XOR inputs mapped by the statement's feature map; any correct
    (v1, v2, c) passes, as long as no point lies on the line f = 0.5.
    """

    title = _XOR_OUTPUT

    def body() -> Result:
        got = call(title, output_weights)
        v1, v2, c = as_numeric(
            title, got, "output_weights() (it should return v1, v2, c)", shape=(3,)
        )
        X, y = np.array(X_XOR), np.array(Y_XOR)
        A = reference_feature_map(X)
        f = v1 * A[:, 0] + v2 * A[:, 1] + c
        rows = [
            f"  x = {_pt(x)} -> a = {_pt(a)}: f = {fi:.4g}, XOR = {int(t)}"
            for x, a, fi, t in zip(X, A, f, y)
        ]
        on_line = np.abs(f - 0.5) < _BOUNDARY_TOL
        if on_line.any():
            i = int(np.argmax(on_line))
            raise fail(
                title,
                f"with (v1, v2, c) = {_pt((v1, v2, c))} the point x = {_pt(X[i])} "
                f"(a = {_pt(A[i])}) lies on the line f = 0.5; choose weights that put every point "
                "strictly on its side.\n" + "\n".join(rows),
            )
        wrong = (f > 0.5) != (y == 1)
        if wrong.any():
            i = int(np.argmax(wrong))
            want = "> 0.5 (class 1)" if y[i] == 1 else "< 0.5 (class 0)"
            raise fail(
                title,
                f"with (v1, v2, c) = {_pt((v1, v2, c))}, x = {_pt(X[i])} maps to a = {_pt(A[i])} "
                f"and f = {f[i]:.4g}, but f should be {want}. "
                f"{int(wrong.sum())} of 4 points are misclassified (rule: f > 0.5 means class 1):\n"
                + "\n".join(rows),
            )
        margin = float(np.min(np.abs(f - 0.5)))
        return passed(
            title, 4, f"f = {fmt(f)} on the mapped points; the smallest |f - 0.5| is {margin:.3g}."
        )

    return run(title, body)


def check_mlp(xor_mlp_weights: Callable) -> Result:
    """Check ``xor_mlp_weights()`` -> (W1, b1, W2, b2): f(x) = W2 sigma(W1 x + b1) + b2 = XOR(x).

    Exactly, at the four XOR inputs. Shapes: W1 (2, 2), b1 (2,), W2 (1, 2), b2 (1,) (one row of
    weights per neuron, like ``torch.nn.Linear``); sigma is the ReLU.
    """

    title = _XOR_MLP
    shapes = {"W1": (2, 2), "b1": (2,), "W2": (1, 2), "b2": (1,)}
    hints = {
        "W2": (
            " W2 has one row per output neuron, like nn.Linear(2, 1).weight: "
            "write np.array([[v1, v2]])."
        ),
        "b2": " b2 is a vector with one entry per output neuron: write np.array([c]).",
        "b1": " b1 has one entry per hidden neuron.",
        "W1": " Row j of W1 holds the two input weights of hidden neuron j.",
    }

    def body() -> Result:
        got = call(title, xor_mlp_weights)
        got = as_tuple(title, got, 4, "xor_mlp_weights()", "the four arrays (W1, b1, W2, b2)")
        params = {}
        for (name, shape), value in zip(shapes.items(), got):
            got_shape = shape_of(value)
            if value is not None and got_shape is not None and got_shape != shape:
                raise fail(
                    title, f"{name} should have shape {shape}, got {got_shape}.{hints[name]}"
                )
            params[name] = as_numeric(title, value, name, shape=shape)
        W1, b1, W2, b2 = params.values()
        X, y = np.array(X_XOR), np.array(Y_XOR)
        f = mlp_forward(X, W1, b1, W2, b2)[:, 0]
        if not np.allclose(f, y, atol=_EXACT_TOL, rtol=0):
            rows = "\n".join(
                f"  x = {_pt(x)}: XOR = {int(t)}, f = {fi:.6g}" for x, t, fi in zip(X, y, f)
            )
            i = int(np.argmax(~np.isclose(f, y, atol=_EXACT_TOL, rtol=0)))
            msg = (
                "f(x) = W2 sigma(W1 x + b1) + b2 should equal XOR(x), "
                f"but f{_pt(X[i])} = {f[i]:.6g}, not {int(y[i])}."
            )
            f_t = mlp_forward(X, W1.T, b1, W2, b2)[:, 0]
            if np.allclose(f_t, y, atol=_EXACT_TOL, rtol=0):
                msg += (
                    " With W1 transposed it would be right: row j of W1 holds the weights of "
                    "hidden neuron j, z = W1 x + b1."
                )
            elif np.all((f > 0.5) == (y == 1)):
                msg += (
                    " Your network classifies all four points correctly with the rule f > 0.5, "
                    "but (c) asks for f(x) = XOR(x) exactly: rescale the output weights and bias."
                )
            raise fail(title, msg + "\n" + rows)
        return passed(title, 4, f"f(0,0), f(0,1), f(1,0), f(1,1) = {fmt(f)}.")

    return run(title, body)


__all__ += ["check_feature_map", "check_output_weights", "check_mlp"]
