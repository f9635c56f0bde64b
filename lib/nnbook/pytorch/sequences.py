"""Recurrent sequence models in PyTorch and their training on the adding problem.

- :class:`SequenceModel`: ``torch.nn.RNN``, ``GRU`` or ``LSTM`` with a linear output map
  u(h) = V h + c on the last state (type 1) or on every state (type 2).
- :func:`train_sequence_model`: Adam on the squared error with gradient-norm clipping.
- :func:`adding_sweep`: gated cells against the Elman RNN on the adding problem of
  :mod:`nnbook.data.sequences`, one model per (cell, T).

Used by the appendix pages on recurrent networks and on Transformers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from .._util import one_of, positive_float, positive_int
from ..data.sequences import ADDING_BASELINE_MSE, adding_accuracy, make_adding

#: The recurrent layers of PyTorch, and how many affine maps (gates) each has per step.
CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
GATES = {"rnn": 1, "gru": 3, "lstm": 4}
CELL_NAMES = {"rnn": "Elman RNN", "gru": "GRU", "lstm": "LSTM"}


class SequenceModel(nn.Module):
    """A recurrent layer (``"rnn"``, ``"gru"`` or ``"lstm"``) and an output map u(h) = V h + c.

    For X of shape ``(n, T, d)`` it returns o_T = u(h_T), shape ``(n, K)`` (type 1, one
    output per sequence), or with ``per_step=True`` all o_t = u(h_t), shape ``(n, T, K)``
    (type 2, one output per step). With ``seed`` the weights are drawn from that seed
    (PyTorch's default initialisation) without touching the global random state.
    """

    def __init__(
        self,
        cell: str,
        d: int,
        M: int,
        K: int = 1,
        *,
        per_step: bool = False,
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        self.cell = one_of(cell, "cell", list(CELLS))
        self.d, self.M, self.K = positive_int(d, "d"), positive_int(M, "M"), positive_int(K, "K")
        self.per_step = bool(per_step)
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(int(seed))
            self.rnn = CELLS[cell](self.d, self.M, batch_first=True, dtype=dtype)
            self.head = nn.Linear(self.M, self.K, dtype=dtype)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """o_T = u(h_T), ``(n, K)``; or all o_t = u(h_t), ``(n, T, K)`` with ``per_step``."""
        H, _ = self.rnn(X)  # (n, T, M): h_1, ..., h_T
        return self.head(H if self.per_step else H[:, -1])

    def extra_repr(self) -> str:
        return f"cell={self.cell}, d={self.d}, M={self.M}, K={self.K}, per_step={self.per_step}"


def train_sequence_model(
    model: nn.Module,
    X: Any,
    y: Any,
    *,
    steps: int = 400,
    batch_size: int = 64,
    lr: float = 1e-2,
    clip: float = 1.0,
    seed: int = 0,
) -> list[float]:
    """Adam on the mean squared error of a type-1 model, with gradient-norm clipping:
    each step draws a mini-batch of B sequences, and if ||g|| > ``clip`` the gradient g is
    rescaled to norm ``clip`` before the update. Returns the mini-batch losses."""
    X, y = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=positive_float(lr, "lr"))
    draw = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    for _ in range(positive_int(steps, "steps")):
        idx = torch.randint(0, len(X), (batch_size,), generator=draw)
        loss = ((model(X[idx]).squeeze(-1) - y[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)  # g <- g min(1, clip / ||g||)
        opt.step()
        losses.append(loss.item())
    return losses


def adding_sweep(
    lengths: list[int],
    sizes: dict[str, int],
    *,
    n_train: int = 4000,
    n_test: int = 1000,
    steps: int = 400,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[tuple[str, int], SequenceModel]]:
    """Train one model per (cell, T) on the adding problem and test it on fresh sequences.

    ``sizes`` maps a cell (``"rnn"``, ``"gru"``, ``"lstm"``) to its number of hidden units M.
    Each length T gets its own training set (seed ``seed + T``) and test set (seed
    ``seed + T + 10**6``); every model starts from the seed ``seed``. Returns one row per
    model: cell, T, M, parameters, test MSE, MSE / baseline (the MSE of always predicting
    E[y] = 1, i.e. Var y = 1/6) and accuracy (|y_hat - y| < 0.04); and the trained models,
    keyed by (cell, T).
    """
    rows, models = [], {}
    for T in lengths:
        train = make_adding(n_train, T, rng=seed + T)
        test = make_adding(n_test, T, rng=seed + T + 10**6)
        for cell, M in sizes.items():
            model = SequenceModel(cell, 2, M, seed=seed)
            train_sequence_model(model, train.X, train.y, steps=steps, seed=seed)
            models[cell, T] = model
            with torch.no_grad():
                y_hat = model.eval()(torch.tensor(test.X, dtype=torch.float32))
            y_hat = y_hat.squeeze(-1).double().numpy()
            mse = float(np.mean((y_hat - test.y) ** 2))
            rows.append(
                {
                    "cell": CELL_NAMES[cell],
                    "T": T,
                    "M": M,
                    "parameters": sum(p.numel() for p in model.parameters()),
                    "test MSE": mse,
                    "MSE / baseline": mse / ADDING_BASELINE_MSE,
                    "accuracy": adding_accuracy(test.y, y_hat),
                }
            )
    return pd.DataFrame(rows), models


__all__ = ["CELLS", "GATES", "CELL_NAMES", "SequenceModel", "train_sequence_model", "adding_sweep"]
