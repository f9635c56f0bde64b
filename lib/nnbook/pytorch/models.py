"""The lecture's MLP as a ``torch.nn.Sequential``, with dropout after each hidden layer."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from .._util import positive_float, positive_int
from .convert import torch_activation
from .inputs import _seeded


def make_mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    dropout: float | Sequence[float] = 0.0,
    *,
    output_bias: bool = True,
    seed: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> nn.Sequential:
    """The multi-layer perceptron of the lecture as a ``torch.nn.Sequential``.

    ``sizes = [d, d_1, ..., d_L, K]`` gives the input dimension d = d_0, the widths of the L
    hidden layers and the number of outputs K. The network computes

        f_0(x) = x,   f_{l+1}(x) = sigma(W_l f_l(x) + b_l)  for l = 0, ..., L-1,
        f(x) = beta^T f_L(x) (+ beta_0)

    with a linear output layer (no activation: for classification the softmax lives in the
    cross-entropy loss, see :func:`predict_proba`). ``dropout`` is the rate phi: after each
    hidden activation a ``nn.Dropout(phi)`` sets each unit to zero with probability phi in
    training mode and scales the kept ones by 1 / (1 - phi) (inverted dropout); in eval
    mode it is the identity. Give one phi for all hidden layers or one per hidden layer.

    The layers are named after the lecture: ``linear{l}`` holds W_l and b_l, ``sigma{l}``
    is the activation, ``dropout{l}`` the dropout, and ``beta`` the output layer (with the
    intercept beta_0 unless ``output_bias=False``). ``make_mlp([784, 256, 128, 10])`` is the
    lecture's MNIST network with 235,146 parameters.

    The weights get PyTorch's default initialisation; with ``seed`` it is drawn from that
    seed without touching the global random state, otherwise from the global generator
    (seeded by :func:`nnbook.seed`).
    """
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(
            f"expected sizes to be a list of ints [d, d_1, ..., d_L, K], got {type(sizes).__name__}"
        )
    if len(sizes) < 2:
        raise ValueError(
            f"expected sizes = [d, d_1, ..., d_L, K] with at least 2 entries, got {list(sizes)}"
        )
    sizes = [positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    n_hidden = len(sizes) - 2
    rates = _dropout_rates(dropout, n_hidden)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"expected dtype to be a floating torch.dtype, got {dtype!r}")

    layers: OrderedDict[str, nn.Module] = OrderedDict()
    with _seeded(seed):
        for l in range(n_hidden):
            layers[f"linear{l}"] = nn.Linear(sizes[l], sizes[l + 1], dtype=dtype)
            layers[f"sigma{l}"] = torch_activation(activation)
            if rates[l] > 0:
                layers[f"dropout{l}"] = nn.Dropout(rates[l])
        layers["beta"] = nn.Linear(sizes[-2], sizes[-1], bias=output_bias, dtype=dtype)
    return nn.Sequential(layers)


def _dropout_rates(dropout: float | Sequence[float], n_hidden: int) -> list[float]:
    """One dropout rate phi in [0, 1) per hidden layer, from one rate or a list of them."""
    if isinstance(dropout, Sequence) and not isinstance(dropout, (str, bytes)):
        if len(dropout) != n_hidden:
            raise ValueError(
                f"expected one dropout rate per hidden layer ({n_hidden}), got {len(dropout)}"
            )
        rates = list(dropout)
    else:
        rates = [dropout] * n_hidden
    rates = [positive_float(p, "dropout", allow_zero=True) for p in rates]
    for p in rates:
        if p >= 1:
            raise ValueError(f"expected dropout rate phi in [0, 1), got {p}")
    return rates


__all__ = ["make_mlp"]
