"""The simplest recurrent neural network (Elman RNN): a NumPy forward pass and a PyTorch module.

A sequence x_1, ..., x_tau with x_t in R^d is read one element at a time. The hidden state
h_t in R^M is the network's memory, updated with the *same* weights at every step (the
lecture's appendix, "RNN: basic architecture"):

    h_0 = 0,    h_t = sigma(W_hh h_{t-1} + W_xh x_t + b_h),    t = 1, ..., tau,

with sigma = tanh, W_xh of shape (M, d), W_hh of shape (M, M) and b_h in R^M. For a
"type 1" output (one number per sequence, e.g. tomorrow's trading volume) only the last
state is used:

    f(x_1, ..., x_tau) = beta_0 + beta^T h_tau.

:func:`elman_forward` computes the hidden states from scratch in NumPy; :class:`ElmanRNN`
is the same model built on ``torch.nn.RNN`` (trainable with :func:`nnbook.pytorch.train.fit`), and
:meth:`ElmanRNN.lecture_weights` hands its parameters back in the lecture's notation so the
two can be compared.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from .._util import as_array, positive_float, positive_int
from ..engine import activations as _activations

#: The activations ``torch.nn.RNN`` implements (its ``nonlinearity`` argument).
RNN_ACTIVATIONS = ("tanh", "relu")

__all__ = ["elman_forward", "ElmanRNN", "RNN_ACTIVATIONS"]


def elman_forward(
    X: Any,
    W_xh: Any,
    W_hh: Any,
    b_h: Any,
    h0: Any = None,
    *,
    activation: str = "tanh",
) -> np.ndarray:
    """Hidden states of an Elman RNN, h_t = sigma(W_hh h_{t-1} + W_xh x_t + b_h), in NumPy.

    ``X`` is one sequence of shape ``(tau, d)`` (row t is x_t, oldest first) or a batch of
    sequences ``(n, tau, d)``. ``W_xh`` is ``(M, d)``, ``W_hh`` is ``(M, M)``, ``b_h`` is
    ``(M,)``; ``h0`` (default 0) is ``(M,)`` or, for a batch, ``(n, M)``. Returns all hidden
    states h_1, ..., h_tau: shape ``(tau, M)`` for one sequence, ``(n, tau, M)`` for a batch.
    The last one, ``H[..., -1, :]``, is h_tau. sigma is ``"tanh"`` (default) or ``"relu"``.
    """
    Xb, W_xh, W_hh, b_h, h = _check_elman(X, W_xh, W_hh, b_h, h0, activation)
    sigma = _activations.get(activation).f
    n, tau, M = Xb.shape[0], Xb.shape[1], W_hh.shape[0]
    H = np.empty((n, tau, M))
    for t in range(tau):
        # rows are sequences: (h W_hh^T)_i = W_hh h_i for each sequence i
        h = sigma(h @ W_hh.T + Xb[:, t] @ W_xh.T + b_h)
        H[:, t] = h
    return H[0] if np.ndim(X) == 2 else H


def _check_elman(
    X: Any, W_xh: Any, W_hh: Any, b_h: Any, h0: Any, activation: str
) -> tuple[np.ndarray, ...]:
    """The inputs of :func:`elman_forward`, checked: X as a batch (n, tau, d), and h_0 (n, M)."""
    if activation not in RNN_ACTIVATIONS:
        raise ValueError(
            f"expected activation to be one of {list(RNN_ACTIVATIONS)}, got {activation!r}"
        )
    X = as_array(X, "X")
    if X.ndim not in (2, 3):
        raise ValueError(f"expected X of shape (tau, d) or (n, tau, d), got {X.shape}")
    single = X.ndim == 2
    Xb = X[None] if single else X  # (n, tau, d)
    n, tau, d = Xb.shape
    if tau < 1:
        raise ValueError(f"expected a sequence of length tau >= 1, got X of shape {X.shape}")
    W_xh = as_array(W_xh, "W_xh", shape=(None, d))
    M = W_xh.shape[0]
    W_hh = as_array(W_hh, "W_hh", shape=(M, M))
    b_h = as_array(b_h, "b_h", shape=(M,))
    if h0 is None:
        return Xb, W_xh, W_hh, b_h, np.zeros((n, M))
    h0 = as_array(h0, "h0", shape=(M,) if single else (n, M))
    return Xb, W_xh, W_hh, b_h, np.broadcast_to(h0, (n, M)).astype(np.float64)


class ElmanRNN(nn.Module):
    """An Elman RNN with a linear head on the last hidden state, as a ``torch.nn.Module``.

    For a batch ``X`` of shape ``(n, tau, d)`` (sequences oldest element first) it computes

        h_t = sigma(W_hh h_{t-1} + W_xh x_t + b_h),  h_0 = 0,    f(X) = beta_0 + beta^T D(h_tau),

    and returns ``(n, K)``. D is dropout with rate phi on the last hidden state (on in
    training mode, the identity in eval mode), the placement of ISLP's NYSE lab. The
    recurrence is ``torch.nn.RNN`` (attribute ``rnn``, which stores b_h as the sum of its two
    biases ``bias_ih_l0 + bias_hh_l0``); the head is ``nn.Linear(M, K)`` (attribute
    ``beta``). ``ElmanRNN(3, 12, dropout=0.1)`` is the RNN of ISL Section 10.5.2 for the
    NYSE data (d = 3 series, M = 12 hidden units).

    With ``seed`` the weights are drawn from that seed (PyTorch's default initialisation,
    uniform on [-1/sqrt(M), 1/sqrt(M)]) without touching the global random state;
    otherwise from the global generator (seeded by :func:`nnbook.seed`). Train it with
    :func:`nnbook.pytorch.train.fit` (``loss="mse"``) like any other model.
    """

    def __init__(
        self,
        d: int,
        M: int,
        K: int = 1,
        *,
        dropout: float = 0.0,
        activation: str = "tanh",
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        self.d = positive_int(d, "d")
        self.M = positive_int(M, "M")
        self.K = positive_int(K, "K")
        phi = positive_float(dropout, "dropout", allow_zero=True)
        if phi >= 1:
            raise ValueError(f"expected dropout rate phi in [0, 1), got {phi}")
        if activation not in RNN_ACTIVATIONS:
            raise ValueError(
                f"expected activation to be one of {list(RNN_ACTIVATIONS)}, got {activation!r}"
            )
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"expected dtype to be a floating torch.dtype, got {dtype!r}")
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
        ):
            raise ValueError(f"expected seed to be an int >= 0 or None, got {seed!r}")
        self.activation = activation
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(int(seed))
            self.rnn = nn.RNN(
                self.d, self.M, nonlinearity=activation, batch_first=True, dtype=dtype
            )
            self.dropout = nn.Dropout(phi)
            self.beta = nn.Linear(self.M, self.K, dtype=dtype)

    def hidden_states(self, X: torch.Tensor) -> torch.Tensor:
        """All hidden states h_1, ..., h_tau, shape ``(n, tau, M)``, for ``X`` ``(n, tau, d)``."""
        if not isinstance(X, torch.Tensor):
            raise TypeError(
                f"expected X to be a torch.Tensor of shape (n, tau, {self.d}), "
                f"got {type(X).__name__}"
            )
        if X.ndim != 3 or X.shape[2] != self.d:
            raise ValueError(f"expected X of shape (n, tau, {self.d}), got {tuple(X.shape)}")
        H, _ = self.rnn(X)
        return H

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """f(X) = beta_0 + beta^T D(h_tau), shape ``(n, K)``, for ``X`` of shape ``(n, tau, d)``."""
        h_tau = self.hidden_states(X)[:, -1]  # the last hidden state of each sequence, (n, M)
        return self.beta(self.dropout(h_tau))

    def lecture_weights(self) -> dict[str, np.ndarray]:
        """The parameters in the lecture's notation, as float64 NumPy arrays.

        ``W_xh`` (M, d), ``W_hh`` (M, M), ``b_h`` (M,) = torch's ``bias_ih + bias_hh``,
        ``beta`` (K, M) and ``beta_0`` (K,). ``elman_forward(X, **{k: w[k] for k in
        ("W_xh", "W_hh", "b_h")})`` then reproduces :meth:`hidden_states`.
        """
        r = self.rnn

        def as_np(t: torch.Tensor) -> np.ndarray:
            return t.detach().to(torch.float64).cpu().numpy().copy()

        return {
            "W_xh": as_np(r.weight_ih_l0),
            "W_hh": as_np(r.weight_hh_l0),
            "b_h": as_np(r.bias_ih_l0) + as_np(r.bias_hh_l0),
            "beta": as_np(self.beta.weight),
            "beta_0": as_np(self.beta.bias),
        }

    def n_parameters(self) -> int:
        """Number of distinct parameters in the lecture's notation: M d + M^2 + M + K M + K.

        (``torch.nn.RNN`` stores M more, because it keeps b_h as two bias vectors.)
        """
        return self.M * self.d + self.M**2 + self.M + self.K * self.M + self.K

    def extra_repr(self) -> str:
        return f"d={self.d}, M={self.M}, K={self.K}, sigma={self.activation}"
