"""Helpers for the appendix page on recurrent networks (chapters/a2_rnns).

The sequence models and their training (:mod:`nnbook.pytorch.sequences`) are shared with
the Transformer page; what is here serves this page only.

- :func:`count_parameters`, :func:`unrolled_parameters`: the parameter counts in closed form.
- :func:`to_torch_rnn`, :func:`engine_rnn`: an engine RNN's weights in a float64
  ``torch.nn.RNN``, and a trained ``SequenceModel``'s in an engine RNN.
- :func:`untied_gradients`: the gradient of every copy of the weights in the unrolled
  network with untied weights (PyTorch autograd), whose sum is the BPTT gradient.
- :func:`scalar_rnn_loss`: the scalar Elman RNN on autodiff ``Value`` s, to draw its graph.
- :func:`matrix_with_spectral_radius`, :func:`growth_rate`: for the vanishing/exploding study.
- :func:`plot_jacobian_norms`, :func:`plot_adding_sweep`: the page's figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from .._util import as_array, as_rng, one_of, positive_float, positive_int
from ..engine.autodiff import Value
from ..engine.rnn import RNN
from ..pytorch.sequences import GATES, SequenceModel

Array = np.ndarray

__all__ = [
    "count_parameters",
    "unrolled_parameters",
    "to_torch_rnn",
    "engine_rnn",
    "untied_gradients",
    "scalar_rnn_loss",
    "matrix_with_spectral_radius",
    "geometric_mean",
    "growth_rate",
    "plot_jacobian_norms",
    "plot_adding_sweep",
    "draw_unrolled",
    "input_sensitivity",
    "plot_sensitivity",
]


# --------------------------------------------------------------------------- models and counts


def count_parameters(cell: str, d: int, M: int, K: int = 1, *, torch_biases: bool = True) -> int:
    """Parameters of a recurrent layer with G affine maps per step and a linear output map:

        G (M d + M^2 + b M) + (K M + K),

    G = 1 (Elman RNN), 3 (GRU) or 4 (LSTM); each map has an input matrix (M, d), a recurrent
    matrix (M, M) and b bias vectors: b = 2 as PyTorch stores them (``bias_ih`` and
    ``bias_hh``), b = 1 with the lecture's single b_h (``torch_biases=False``).
    """
    G = GATES[one_of(cell, "cell", list(GATES))]
    d, M, K = positive_int(d, "d"), positive_int(M, "M"), positive_int(K, "K")
    b = 2 if torch_biases else 1
    return G * (M * d + M * M + b * M) + K * M + K


def unrolled_parameters(d: int, M: int, T: int, K: int = 1) -> int:
    """The Elman RNN unrolled over T steps *without* sharing: step t has its own W_xh^(t),
    W_hh^(t), b_h^(t), so T (M d + M^2 + M) + (K M + K) parameters (the lecture's single
    bias per step)."""
    d, M, T, K = (positive_int(v, k) for v, k in [(d, "d"), (M, "M"), (T, "T"), (K, "K")])
    return T * (M * d + M * M + M) + K * M + K


def to_torch_rnn(layer: RNN) -> nn.RNN:
    """A float64 ``torch.nn.RNN`` computing the same h_t as the engine ``layer`` (tanh or
    relu): W_xh -> ``weight_ih_l0``, W_hh -> ``weight_hh_l0``, b_h -> ``bias_ih_l0``, and
    ``bias_hh_l0`` = 0 (torch adds its two biases)."""
    if not isinstance(layer, RNN):
        raise TypeError(f"expected an nnbook.engine.rnn.RNN, got {type(layer).__name__}")
    act = one_of(layer.activation.name, "activation", ["tanh", "relu"])
    r = nn.RNN(layer.d, layer.M, nonlinearity=act, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        r.weight_ih_l0.copy_(torch.from_numpy(layer.W_xh.data))
        r.weight_hh_l0.copy_(torch.from_numpy(layer.W_hh.data))
        r.bias_ih_l0.copy_(torch.from_numpy(layer.b_h.data))
        r.bias_hh_l0.zero_()
    return r


def engine_rnn(model: SequenceModel) -> RNN:
    """The recurrent layer of a trained ``SequenceModel("rnn", ...)`` as an engine
    :class:`~nnbook.engine.rnn.RNN` (float64): W_xh, W_hh, and b_h = b_ih + b_hh."""
    if not isinstance(model, SequenceModel) or model.cell != "rnn":
        raise TypeError("expected a SequenceModel with cell='rnn'")
    r = model.rnn
    layer = RNN(model.d, model.M, r.nonlinearity)
    as_np = {k: v.detach().double().numpy() for k, v in r.named_parameters()}
    layer.W_xh.data[:] = as_np["weight_ih_l0"]
    layer.W_hh.data[:] = as_np["weight_hh_l0"]
    layer.b_h.data[:] = as_np["bias_ih_l0"] + as_np["bias_hh_l0"]
    return layer


def untied_gradients(layer: RNN, X: Any, G: Any) -> dict[str, Array]:
    """The unrolled tanh network with *untied* weights: step t has its own copies W_xh^(t),
    W_hh^(t), b_h^(t) of the layer's weights (same values). For R = sum_t <G_t, h_t>, returns
    dR/dW^(t) for every t from PyTorch autograd in float64: arrays of shape ``(T, ...)``
    under the keys ``"W_xh"``, ``"W_hh"``, ``"b_h"``. Their sums over t are the gradients of
    the tied (shared) weights."""
    X = torch.tensor(as_array(X, "X", shape=(None, None, layer.d)))
    G = torch.tensor(as_array(G, "G", shape=(X.shape[0], X.shape[1], layer.M)))
    names = ["W_xh", "W_hh", "b_h"]
    copies = {
        k: [torch.tensor(getattr(layer, k).data, requires_grad=True) for _ in range(X.shape[1])]
        for k in names
    }
    h = torch.zeros(X.shape[0], layer.M, dtype=torch.float64)
    R = torch.zeros((), dtype=torch.float64)
    for t in range(X.shape[1]):
        W_xh, W_hh, b_h = (copies[k][t] for k in names)
        h = torch.tanh(h @ W_hh.T + X[:, t] @ W_xh.T + b_h)
        R = R + (G[:, t] * h).sum()
    R.backward()
    return {k: np.stack([c.grad.numpy() for c in copies[k]]) for k in names}


def scalar_rnn_loss(xs: list[float], w_xh: float, w_hh: float, b_h: float, y: float) -> Value:
    """The scalar Elman RNN (d = M = 1) on x_1, ..., x_T, built from ``Value`` s:
    h_t = tanh(w_hh h_{t-1} + w_xh x_t + b_h), h_0 = 0, and the type-1 loss
    R = (h_T - y)^2 / 2. The same three ``Value`` s w_xh, w_hh, b_h enter every step, so the
    graph of R is the unrolled network with tied weights. Returns R (call ``R.backward()``).
    """
    W_xh, W_hh, B = Value(w_xh, label="w_xh"), Value(w_hh, label="w_hh"), Value(b_h, label="b_h")
    h = Value(0.0, label="h_0")
    for t, x in enumerate(xs, start=1):
        recurrent, inp = W_hh * h, W_xh * Value(x, label=f"x_{t}")
        recurrent.label, inp.label = f"w_hh h_{t - 1}", f"w_xh x_{t}"
        z = recurrent + inp + B
        z.label = f"z_{t}"
        h = z.tanh()
        h.label = f"h_{t}"
    r = h - Value(y, label="y")
    r.label = f"h_{len(xs)} - y"
    R = Value(0.5, label="1/2") * r**2
    R.label = "R"
    return R


# --------------------------------------------------------------------------- vanishing/exploding


def matrix_with_spectral_radius(
    M: int, rho: float, rng: np.random.Generator | int | None = None
) -> Array:
    """A random M x M matrix A / rho(A) * rho, with A Gaussian: its spectral radius (largest
    |eigenvalue|) is exactly ``rho``, its eigenvectors those of A."""
    M, rho = positive_int(M, "M"), positive_float(rho, "rho")
    A = as_rng(rng).standard_normal((M, M))
    return rho * A / np.max(np.abs(np.linalg.eigvals(A)))


def geometric_mean(norms: Any) -> Array:
    """The geometric mean over sequences (rows) of Jacobian norms ``(n, T + 1)``, column by
    column: exp(mean log ||dh_T/dh_t||), the average that suits quantities spread over
    orders of magnitude."""
    norms = np.atleast_2d(as_array(norms, "norms", finite=False))
    return np.exp(np.log(norms).mean(axis=0))


def growth_rate(norms: Any, start: int = 10) -> float:
    """The factor per step r in ||dh_T/dh_t|| ~ C r^(T - t): exp of the least-squares slope
    of log ||dh_T/dh_t|| against T - t, over T - t >= ``start``. ``norms`` is ``(T + 1,)``
    (column k at distance k) or ``(n, T + 1)``, averaged in log scale over the rows."""
    logs = np.log(geometric_mean(norms))
    k = np.arange(len(logs))
    keep = (k >= start) & np.isfinite(logs)
    return float(np.exp(np.polyfit(k[keep], logs[keep], 1)[0]))


# --------------------------------------------------------------------------- the adding problem


# --------------------------------------------------------------------------- figures

_STYLES = [("o", "-"), ("s", "--"), ("^", ":"), ("D", "-.")]


def plot_jacobian_norms(ax: Any, curves: dict[str, Array], title: str) -> None:
    """||dh_T/dh_t|| (geometric mean over sequences) against T - t, log scale; one curve
    per entry of ``curves`` (label -> norms of shape ``(n, T + 1)``), each with its own
    colour, marker and line style."""
    from ..viz.plots import COLORS

    for (label, norms), color, (marker, ls) in zip(curves.items(), COLORS, _STYLES):
        k = np.arange(norms.shape[1])
        ax.plot(
            k,
            geometric_mean(norms),
            color=color,
            marker=marker,
            ls=ls,
            markevery=max(1, len(k) // 8),
            label=label,
        )
    ax.set_yscale("log")
    ax.set_xlabel("distance $T - t$ (steps)")
    ax.set_ylabel(r"$\|\partial h_T / \partial h_t\|_2$")
    ax.set_title(title)


def plot_adding_sweep(axes: Any, table: pd.DataFrame, chance: float) -> None:
    """Two panels from :func:`adding_sweep`'s table: MSE / baseline and accuracy against T,
    one line per cell; dashed reference lines at the baseline (1) and at ``chance``."""
    from ..viz.plots import COLORS

    for (cell, rows), color, (marker, ls) in zip(
        table.groupby("cell", sort=False), COLORS, _STYLES
    ):
        for ax, col in zip(axes, ["MSE / baseline", "accuracy"]):
            ax.plot(
                rows["T"],
                rows[col],
                color=color,
                marker=marker,
                ls=ls,
                label=f"{cell} (M = {rows['M'].iloc[0]})",
            )
    axes[0].axhline(1.0, color="black", lw=1, ls=(0, (1, 2)), label="predict E[y] = 1")
    axes[1].axhline(chance, color="black", lw=1, ls=(0, (1, 2)), label="predict E[y] = 1")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("test MSE / Var(y)")
    axes[1].set_ylabel(r"accuracy ($|\hat y - y| < 0.04$)")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted(table["T"].unique()), [str(t) for t in sorted(table["T"].unique())])
        ax.set_xlabel("sequence length $T$")
    axes[1].legend(fontsize=8)


def _box(ax: Any, x: float, y: float, text: str, color: str) -> None:
    ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        fontsize=10,
        zorder=3,
        bbox=dict(boxstyle="round,pad=0.35", fc=color, ec="black", lw=0.8),
    )


def _arrow(ax: Any, start: tuple, end: tuple, label: str = "", **kw: Any) -> None:
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        zorder=2,
        arrowprops=dict(arrowstyle="-|>", color="black", lw=1, shrinkA=13, shrinkB=13, **kw),
    )
    if label:
        mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        ax.text(mid[0] + 0.08, mid[1] + 0.12, label, fontsize=8, ha="left", va="bottom")


def draw_unrolled(T: int = 4):
    """The Elman RNN folded (a cell with a loop, left) and unrolled over T steps (right):
    h_0 -> h_1 -> ... -> h_T along W_hh, x_t -> h_t along W_xh, h_t -> o_t along u. The
    same labels on every step are the shared parameters. Returns the matplotlib Figure."""
    from ..viz.plots import PALETTE, figure

    T = positive_int(T, "T")
    fig, ax = figure(width=1.6 * (T + 3), height=2.8)
    colors = {"x": PALETTE["orange"], "h": PALETTE["sky"], "o": PALETTE["green"]}
    for name, y in [("x", 0), ("h", 1), ("o", 2)]:  # the folded network at x = 0
        _box(ax, 0, y, f"${name}_t$", colors[name])
    _arrow(ax, (0, 0), (0, 1), "$W_{xh}$")
    _arrow(ax, (0, 1), (0, 2), "$u$")
    loop = "arc,angleA=180,angleB=180,armA=28,armB=28,rad=6"  # out of h_t and back in
    ax.annotate(
        "",
        xy=(-0.16, 1.07),
        xytext=(-0.16, 0.93),
        zorder=2,
        arrowprops=dict(arrowstyle="-|>", connectionstyle=loop, lw=1),
    )
    ax.text(-0.62, 1.0, "$W_{hh}$", fontsize=8, ha="right", va="center")
    ax.text(1.1, 1.0, "unroll\n$\\Longrightarrow$", ha="center", va="center", fontsize=9)
    _box(ax, 2, 1, "$h_0$", colors["h"])
    for t in range(1, T + 1):
        x = 2 + t
        for name, y in [("x", 0), ("h", 1), ("o", 2)]:
            _box(ax, x, y, f"${name}_{t}$", colors[name])
        _arrow(ax, (x, 0), (x, 1), "$W_{xh}$")
        _arrow(ax, (x, 1), (x, 2), "$u$")
        _arrow(ax, (x - 1, 1), (x, 1), "$W_{hh}$")
    ax.set_xlim(-1.2, T + 2.6)
    ax.set_ylim(-0.5, 2.5)
    ax.set_axis_off()
    return fig


def input_sensitivity(model: SequenceModel, X: Any) -> Array:
    """How strongly the last state h_T depends on each input x_t: the mean over sequences
    of the Frobenius norm ||dh_T/dx_t||_F, for t = 1, ..., T (shape ``(T,)``), computed with
    one backward pass per hidden unit (PyTorch autograd)."""
    if not isinstance(model, SequenceModel):
        raise TypeError(f"expected a SequenceModel, got {type(model).__name__}")
    X = torch.tensor(as_array(X, "X", shape=(None, None, model.d)), dtype=torch.float32)
    X.requires_grad_(True)
    h_T = model.rnn(X)[0][:, -1]  # (n, M)
    squares = torch.zeros(X.shape[:2])
    for i in range(model.M):  # row i of dh_T/dx_t, for every sequence and every t at once
        (g,) = torch.autograd.grad(h_T[:, i].sum(), X, retain_graph=True)
        squares += (g**2).sum(dim=2)
    return squares.sqrt().mean(dim=0).double().numpy()


def plot_sensitivity(ax: Any, sens: dict[str, Array]) -> None:
    """:func:`input_sensitivity` against the step t (log scale), one curve per model
    (label -> array of length T), each with its own colour, marker and line style."""
    from ..viz.plots import COLORS

    for (label, s), color, (marker, ls) in zip(sens.items(), COLORS, _STYLES):
        t = np.arange(1, len(s) + 1)
        ax.plot(t, s, color=color, marker=marker, ls=ls, markevery=4, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("step $t$ of the input")
    ax.set_ylabel(r"mean $\|\partial h_T / \partial x_t\|_F$")
    ax.legend(fontsize=8)
