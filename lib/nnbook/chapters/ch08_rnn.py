"""The simplest recurrent neural network (Elman RNN) as a PyTorch module, for the NYSE forecast.

A sequence x_1, ..., x_tau with x_t in R^d is read one element at a time. The hidden state
h_t in R^M is the network's memory, updated with the *same* weights at every step (the
lecture's appendix, "RNN: basic architecture"):

    h_0 = 0,    h_t = sigma(W_hh h_{t-1} + W_xh x_t + b_h),    t = 1, ..., tau,

with sigma = tanh, W_xh of shape (M, d), W_hh of shape (M, M) and b_h in R^M. For a
"type 1" output (one number per sequence, e.g. tomorrow's trading volume) only the last
state is used:

    f(x_1, ..., x_tau) = beta_0 + beta^T h_tau.

:class:`ElmanRNN` is this model built on ``torch.nn.RNN`` (trainable with
:func:`nnbook.pytorch.train.fit`). :meth:`ElmanRNN.lecture_weights` hands its parameters back in
the lecture's notation, and :meth:`ElmanRNN.to_engine` copies the recurrence into the NumPy
:class:`nnbook.engine.rnn.RNN` written from scratch, so that the two can be compared.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .._util import positive_float, positive_int
from ..engine.rnn import RNN

#: The activations ``torch.nn.RNN`` implements (its ``nonlinearity`` argument).
RNN_ACTIVATIONS = ("tanh", "relu")

__all__ = ["ElmanRNN", "RNN_ACTIVATIONS"]


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
        ``beta`` (K, M) and ``beta_0`` (K,).
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

    def to_engine(self) -> RNN:
        """The recurrence with these weights as a NumPy :class:`nnbook.engine.rnn.RNN` (float64).

        W_xh, W_hh and b_h = torch's ``bias_ih + bias_hh`` (:meth:`lecture_weights`); its
        ``forward(X)`` then computes the hidden states of :meth:`hidden_states` from scratch.
        """
        w = self.lecture_weights()
        layer = RNN(self.d, self.M, self.activation)
        for name in ("W_xh", "W_hh", "b_h"):
            getattr(layer, name).data[:] = w[name]
        return layer

    def n_parameters(self) -> int:
        """Number of distinct parameters in the lecture's notation: M d + M^2 + M + K M + K.

        (``torch.nn.RNN`` stores M more, because it keeps b_h as two bias vectors.)
        """
        return self.M * self.d + self.M**2 + self.M + self.K * self.M + self.K

    def extra_repr(self) -> str:
        return f"d={self.d}, M={self.M}, K={self.K}, sigma={self.activation}"
