"""Helpers for the appendix page on Transformers (chapters/a3_transformers).

- :func:`mha_to_torch`, :func:`encoder_layer_to_torch`: PyTorch float64 copies of the
  engine's :class:`~nnbook.engine.attention.MultiHeadAttention` and
  :class:`~nnbook.engine.attention.EncoderLayer`; :func:`torch_attn_mask` turns our mask
  (True = may attend) into ``torch.nn.MultiheadAttention``'s (True = may *not* attend).
- :func:`parameter_counts`: the parameter counts of an encoder layer in closed form.
- :func:`dot_product_variance`, :func:`softmax_saturation`: why attention scales by sqrt(d_k).
- :func:`cost_sweep`, :func:`path_lengths`: time and memory of attention against an RNN,
  and the longest shortest path between positions in their computation graphs.
- :class:`TinyTransformer`, :func:`train_tiny`: a one-layer Transformer for the adding
  problem of :mod:`nnbook.data.sequences`, trained with :func:`nnbook.pytorch.train.fit`.
- :func:`plot_saturation`, :func:`plot_encoding`, :func:`plot_cost`, :func:`plot_attention`:
  the page's figures; :func:`attention_mass`, where the [CLS] token's attention goes.
"""

from __future__ import annotations

import math
import tracemalloc
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse
import scipy.sparse.csgraph
import torch
from torch import nn

from .._util import as_array, as_rng, best_times, positive_int
from ..engine import attention as att
from ..engine.rnn import RNN
from ..pytorch.train import fit

Array = np.ndarray

__all__ = [
    "mha_to_torch",
    "encoder_layer_to_torch",
    "torch_attn_mask",
    "parameter_counts",
    "dot_product_variance",
    "softmax_saturation",
    "cost_sweep",
    "path_lengths",
    "TinyTransformer",
    "train_tiny",
    "plot_saturation",
    "plot_encoding",
    "plot_cost",
    "plot_attention",
    "attention_mass",
]


# --------------------------------------------------------------------------- engine -> torch


def _t(a: Array) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def _copy_mha(mha: att.MultiHeadAttention, t: nn.MultiheadAttention) -> None:
    """Our X W^Q is torch's X W^T: in_proj_weight = [W_Q^T; W_K^T; W_V^T], out_proj = W_O^T."""
    with torch.no_grad():
        t.in_proj_weight.copy_(_t(np.vstack([mha.W_Q.data.T, mha.W_K.data.T, mha.W_V.data.T])))
        t.out_proj.weight.copy_(_t(mha.W_O.data.T))
        if mha.b_O is not None:
            t.in_proj_bias.copy_(_t(np.concatenate([mha.b_Q.data, mha.b_K.data, mha.b_V.data])))
            t.out_proj.bias.copy_(_t(mha.b_O.data))


def mha_to_torch(mha: att.MultiHeadAttention) -> nn.MultiheadAttention:
    """A float64 ``torch.nn.MultiheadAttention`` (``batch_first=True``) with the weights of
    ``mha`` (which needs d_k = d_v = d_model / h, as PyTorch does)."""
    if not isinstance(mha, att.MultiHeadAttention):
        raise TypeError(f"expected a MultiHeadAttention, got {type(mha).__name__}")
    if mha.d_k * mha.h != mha.d_model or mha.d_v != mha.d_k:
        raise ValueError(f"expected d_k = d_v = d_model / h, got {mha!r}")
    t = nn.MultiheadAttention(
        mha.d_model, mha.h, bias=mha.b_O is not None, batch_first=True, dtype=torch.float64
    )
    _copy_mha(mha, t)
    return t


def encoder_layer_to_torch(layer: att.EncoderLayer) -> nn.TransformerEncoderLayer:
    """A float64 ``torch.nn.TransformerEncoderLayer`` computing what ``layer`` computes:
    post-norm (``norm_first=False``), ReLU, no dropout, ``batch_first=True``."""
    if not isinstance(layer, att.EncoderLayer):
        raise TypeError(f"expected an EncoderLayer, got {type(layer).__name__}")
    a, ffn = layer.self_attn, layer.ffn
    t = nn.TransformerEncoderLayer(
        a.d_model,
        a.h,
        ffn.d_ff,
        dropout=0.0,
        activation="relu",
        layer_norm_eps=layer.norm1.eps,
        batch_first=True,
        norm_first=False,
        dtype=torch.float64,
    )
    _copy_mha(a, t.self_attn)
    with torch.no_grad():
        for lin, W, b in [(t.linear1, ffn.W_1, ffn.b_1), (t.linear2, ffn.W_2, ffn.b_2)]:
            lin.weight.copy_(_t(W.data.T))
            lin.bias.copy_(_t(b.data))
        for norm, ours in [(t.norm1, layer.norm1), (t.norm2, layer.norm2)]:
            norm.weight.copy_(_t(ours.gamma.data))
            norm.bias.copy_(_t(ours.beta.data))
    return t


def torch_attn_mask(mask: Any) -> torch.Tensor:
    """Our boolean mask (True = may attend, as in ``scaled_dot_product_attention``) in the
    convention of ``nn.MultiheadAttention`` and ``nn.TransformerEncoderLayer``, whose boolean
    masks mark the pairs that may **not** attend."""
    return torch.from_numpy(~np.asarray(mask, dtype=bool))


def parameter_counts(d_model: int, h: int, d_ff: int, *, bias: bool = True) -> dict[str, int]:
    """The parameters of one encoder layer, with d_k = d_v = d_model / h:

    - multi-head attention: h (2 d_model d_k + d_model d_v) + h d_v d_model = 4 d_model^2,
      plus 4 d_model biases with ``bias``;
    - FFN: d_model d_ff + d_ff + d_ff d_model + d_model;
    - two LayerNorms: 2 (d_model + d_model) (gamma and beta each).
    """
    D, h, d_ff = positive_int(d_model, "d_model"), positive_int(h, "h"), positive_int(d_ff, "d_ff")
    d_k = d_v = D // h
    mha = h * (2 * D * d_k + D * d_v) + h * d_v * D + (4 * D if bias else 0)
    ffn = D * d_ff + d_ff + d_ff * D + D
    norms = 2 * (D + D)
    return {
        "multi-head attention": mha,
        "FFN": ffn,
        "2 LayerNorms": norms,
        "encoder layer": mha + ffn + norms,
    }


# --------------------------------------------------------------------------- why sqrt(d_k)


def dot_product_variance(
    d_ks: list[int], n_samples: int = 20000, rng: np.random.Generator | int | None = None
) -> pd.DataFrame:
    """Var(q . k) for q, k in R^{d_k} with independent N(0, 1) entries, measured on
    ``n_samples`` pairs, beside d_k (its exact value: a sum of d_k independent products of
    variance 1) and the variance of the scaled q . k / sqrt(d_k)."""
    rng, rows = as_rng(rng), []
    for d_k in d_ks:
        q, k = rng.standard_normal((2, positive_int(n_samples, "n_samples"), d_k))
        s = np.sum(q * k, axis=1)
        rows.append(
            {
                "d_k": d_k,
                "Var(q.k) measured": s.var(),
                "d_k (exact)": d_k,
                "Var(q.k / sqrt(d_k))": (s / np.sqrt(d_k)).var(),
            }
        )
    return pd.DataFrame(rows)


def softmax_saturation(
    d_ks: list[int],
    m: int = 16,
    n_samples: int = 2000,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """How saturated softmax(s) is for the scores s_j = q . k_j of one query and m keys with
    N(0, 1) entries, without and with the 1/sqrt(d_k) scaling: the mean largest weight
    max_j a_j, and the mean Frobenius norm of the softmax's Jacobian da/ds = diag(a) - a a^T
    (the factor every gradient through the softmax is multiplied by; 0 when a is one-hot)."""
    rng, rows = as_rng(rng), []
    for d_k in d_ks:
        q = rng.standard_normal((n_samples, 1, d_k))
        K = rng.standard_normal((n_samples, m, d_k))
        S = np.sum(q * K, axis=2)  # (n_samples, m)
        for scaled, scores in [(False, S), (True, S / np.sqrt(d_k))]:
            a = att.softmax(scores, axis=1)
            J = a[:, :, None] * np.eye(m) - a[:, :, None] * a[:, None, :]
            rows.append(
                {
                    "d_k": d_k,
                    "scaled": scaled,
                    "max weight": a.max(axis=1).mean(),
                    "Jacobian norm": np.linalg.norm(J, axis=(1, 2)).mean(),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- cost


def _peak_bytes(fn: Any) -> int:
    """Peak bytes allocated while ``fn()`` runs (NumPy reports its arrays to tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def cost_sweep(
    ns: list[int], d: int = 64, repeats: int = 3, rng: np.random.Generator | int | None = None
) -> pd.DataFrame:
    """Time and memory of one forward pass against the sequence length n, width d, for
    self-attention softmax(X X^T / sqrt(d)) X (4 n^2 d flops: Q K^T and A V) and for the
    Elman RNN of :mod:`nnbook.engine.rnn` with d inputs and d hidden units (4 n d^2 flops:
    W_hh h_{t-1} and W_xh x_t at each of n steps), both in NumPy. Times are the best of
    ``repeats``; memory is the peak allocated during the call (``tracemalloc``)."""
    rng, d, rows = as_rng(rng), positive_int(d, "d"), []
    rnn = RNN(d, d, rng=rng)
    for n in ns:
        X = rng.standard_normal((positive_int(n, "n"), d))
        runs = {
            "self-attention": (partial(att.scaled_dot_product_attention, X, X, X), n * n * d),
            "RNN": (partial(rnn.forward, X[None]), n * d * d),
        }
        times = best_times([fn for fn, _ in runs.values()], repeats)
        for (name, (fn, flops)), t in zip(runs.items(), times):
            peak = _peak_bytes(fn) / 1e6
            rows.append({"n": n, "model": name, "seconds": t, "peak MB": peak, "flops": 4 * flops})
    return pd.DataFrame(rows)


def _longest_shortest_path(edges: list[tuple[int, int]], n_nodes: int, sources, targets) -> int:
    A = scipy.sparse.coo_matrix((np.ones(len(edges)), tuple(zip(*edges))), (n_nodes, n_nodes))
    dist = scipy.sparse.csgraph.shortest_path(A, unweighted=True, indices=list(sources))
    return int(np.max(dist[:, list(targets)][np.isfinite(dist[:, list(targets)])]))


def path_lengths(n: int, kernel: int = 3) -> dict[str, int]:
    """The longest of the shortest paths from an input x_i to an output y_j (over all pairs
    that are connected), counted in edges of the computation graph, for a sequence of n:

    - one self-attention layer: x_i -> y_j for every i, j;
    - an Elman RNN: x_t -> h_t and h_{t-1} -> h_t (the outputs are the states h_t);
    - a stack of L = ceil((n - 1) / (kernel - 1)) convolutions of width ``kernel`` (the
      fewest that connect x_1 to the last output): position i of layer l feeds positions
      i - r, ..., i + r of layer l + 1, r = (kernel - 1) / 2.
    """
    n, kernel = positive_int(n, "n"), positive_int(kernel, "kernel", minimum=3)
    attention = [(i, n + j) for i in range(n) for j in range(n)]
    rnn = [(t, n + t) for t in range(n)] + [(n + t - 1, n + t) for t in range(1, n)]
    r, L = (kernel - 1) // 2, math.ceil((n - 1) / (kernel - 1))
    conv = [
        (l * n + i, (l + 1) * n + j)
        for l in range(L)
        for i in range(n)
        for j in range(max(0, i - r), min(n, i + r + 1))
    ]
    return {
        "self-attention": _longest_shortest_path(attention, 2 * n, range(n), range(n, 2 * n)),
        "RNN": _longest_shortest_path(rnn, 2 * n, range(n), range(n, 2 * n)),
        f"convolutions (width {kernel})": _longest_shortest_path(
            conv, (L + 1) * n, range(n), range(L * n, (L + 1) * n)
        ),
    }


# --------------------------------------------------------------------------- the tiny Transformer


class TinyTransformer(nn.Module):
    """A one-layer Transformer for one output per sequence, e.g. the adding problem.

    Each input x_t in R^{d_in} becomes a token e_t = x_t W_e + b_e (+ PE(t) with
    ``positional``); a learned token e_0 (BERT's [CLS]) goes in front. One post-norm
    encoder layer (``nn.TransformerEncoderLayer``, h heads, ReLU FFN of width d_ff, no
    dropout) maps (e_0, ..., e_T) to (z_0, ..., z_T), and the output is y_hat = z_0 w + c:
    the [CLS] token gathers what the task needs by attending to the other positions.
    X is ``(n, T, d_in)``; the output ``(n, 1)``. ``seed`` draws the initial weights.
    """

    def __init__(
        self,
        d_in: int = 2,
        d_model: int = 32,
        h: int = 1,
        d_ff: int = 64,
        *,
        positional: bool = True,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.d_model, self.positional = positive_int(d_model, "d_model"), bool(positional)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            self.embed = nn.Linear(positive_int(d_in, "d_in"), self.d_model)
            self.cls = nn.Parameter(0.1 * torch.randn(1, 1, self.d_model))
            self.encoder = nn.TransformerEncoderLayer(
                self.d_model, h, d_ff, dropout=0.0, activation="relu", batch_first=True
            )
            self.head = nn.Linear(self.d_model, 1)

    def tokens(self, X: torch.Tensor) -> torch.Tensor:
        """(e_0, e_1, ..., e_T), shape ``(n, T + 1, d_model)``."""
        E = torch.cat([self.cls.expand(len(X), 1, -1), self.embed(X)], dim=1)
        if self.positional:  # PE(0) for the [CLS] token, PE(t) for x_t
            PE = att.sinusoidal_encoding(E.shape[1], self.d_model)
            E = E + torch.as_tensor(PE, dtype=E.dtype)
        return E

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """y_hat = z_0 w + c, shape ``(n, 1)``."""
        return self.head(self.encoder(self.tokens(X))[:, 0])

    def attention(self, X: Any) -> Array:
        """The encoder's attention weights, ``(n, h, T + 1, T + 1)``; row 0 is the [CLS]
        token's weights over (e_0, ..., e_T)."""
        X = torch.as_tensor(as_array(X, "X", ndim=3), dtype=self.embed.weight.dtype)
        with torch.no_grad():
            E = self.tokens(X)
            _, A = self.encoder.self_attn(E, E, E, average_attn_weights=False)
        return A.double().numpy()


def train_tiny(
    model: nn.Module, X: Any, y: Any, *, epochs: int = 4, lr: float = 3e-3, seed: int = 0
) -> Any:
    """Adam on the mean squared error, mini-batches of 64, with :func:`nnbook.pytorch.train.fit`
    (float32). Returns fit's History."""
    X, y = np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.float32)
    return fit(
        model,
        X,
        y,
        loss="mse",
        optimizer="adam",
        lr=lr,
        epochs=epochs,
        batch_size=64,
        eval_train=False,
        seed=seed,
    )


# --------------------------------------------------------------------------- figures

_STYLES = [("o", "-"), ("s", "--"), ("^", ":"), ("D", "-.")]


def plot_saturation(axes: Any, table: pd.DataFrame) -> None:
    """Two panels from :func:`softmax_saturation`: the largest weight and the Jacobian norm
    against d_k, without (solid, circles) and with (dashed, squares) the scaling."""
    from ..viz.plots import COLORS

    for (scaled, rows), color, (marker, ls) in zip(table.groupby("scaled"), COLORS, _STYLES):
        label = r"$QK^\top/\sqrt{d_k}$" if scaled else r"$QK^\top$ (unscaled)"
        for ax, col in zip(axes, ["max weight", "Jacobian norm"]):
            ax.plot(rows["d_k"], rows[col], color=color, marker=marker, ls=ls, label=label)
    axes[0].set_ylabel(r"mean largest weight $\max_j a_j$")
    axes[1].set_ylabel(r"mean $\|\mathrm{diag}(a) - aa^\top\|_F$")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("key dimension $d_k$")
    axes[0].legend()


def plot_encoding(ax: Any, PE: Array) -> Any:
    """The positional encoding as a heatmap: position down, dimension across."""
    im = ax.imshow(PE, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xlabel("dimension $j$ ($2i$: sin, $2i+1$: cos)")
    ax.set_ylabel("position pos")
    return im


def plot_cost(axes: Any, table: pd.DataFrame) -> None:
    """Two log-log panels from :func:`cost_sweep`: seconds and peak MB against n."""
    from ..viz.plots import COLORS

    for (model, rows), color, (marker, ls) in zip(
        table.groupby("model", sort=False), COLORS, _STYLES
    ):
        for ax, col in zip(axes, ["seconds", "peak MB"]):
            ax.plot(rows["n"], rows[col], color=color, marker=marker, ls=ls, label=model)
    axes[0].set_ylabel("forward pass (s, best of runs)")
    axes[1].set_ylabel("peak memory allocated (MB)")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("sequence length $n$")
    axes[0].legend()


def plot_attention(axes: Any, weights: Array, positions: Array) -> None:
    """One panel per head: the [CLS] token's attention weights over x_1, ..., x_T for a few
    sequences (one line each, offset upwards by 1 per sequence), the two marked steps of
    each sequence circled. ``weights`` ``(n, h, T + 1)`` are the [CLS] rows of
    :meth:`TinyTransformer.attention` (column 0: [CLS] itself, not drawn); ``positions``
    ``(n, 2)`` the marked steps, 0-based."""
    from ..viz.plots import COLORS

    weights = as_array(weights, "weights", ndim=3)
    T = weights.shape[2] - 1
    for head, ax in enumerate(np.atleast_1d(axes)):
        for i, (w, (t1, t2)) in enumerate(zip(weights[:, head, 1:], positions)):
            color, (marker, ls) = COLORS[i % len(COLORS)], _STYLES[i % len(_STYLES)]
            ax.plot(np.arange(1, T + 1), w + i, color=color, ls=ls, lw=1.2)
            ax.plot(
                [t1 + 1, t2 + 1],
                w[[t1, t2]] + i,
                ls="none",
                marker=marker,
                ms=8,
                mfc="none",
                mec=color,
                mew=1.5,
            )
        ax.set_title(f"head {head + 1}")
        ax.set_xlabel("step $t$ of the input sequence")
    np.atleast_1d(axes)[0].set_ylabel("weight of [CLS] on $x_t$ (+ offset)")


def attention_mass(weights: Array, positions: Array) -> pd.DataFrame:
    """Where the [CLS] token's attention goes, per head, averaged over sequences: the weight
    on the two marked steps, on [CLS] itself and on the other T - 2 steps. ``weights``
    ``(n, h, T + 1)`` and ``positions`` ``(n, 2)`` as in :func:`plot_attention`."""
    weights = as_array(weights, "weights", ndim=3)
    positions = np.asarray(positions, dtype=int)
    marks = np.take_along_axis(weights[:, :, 1:], positions[:, None, :], axis=2).sum(axis=2)
    own = weights[:, :, 0]
    mass = {"two marked steps": marks, "[CLS] itself": own, "other steps": 1 - marks - own}
    table = pd.DataFrame({k: v.mean(axis=0) for k, v in mass.items()})
    return table.rename(index=lambda h: f"head {h + 1}")
