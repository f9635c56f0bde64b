"""The bridge between the NumPy engine and PyTorch: one activation table, and conversions.

:data:`TORCH_ACTIVATIONS` maps each activation of :mod:`nnbook.engine.activations` to the
PyTorch module that computes the same function (and derivative). Every torch model in the
book gets its activations from :func:`torch_activation`.

:func:`mlp_to_torch` / :func:`mlp_from_torch` copy an :class:`nnbook.engine.mlp.MLP` to a
``torch.nn.Sequential`` and back; :func:`shallow_to_torch` / :func:`shallow_from_torch` do
the same for the shallow network :class:`nnbook.engine.shallow.ShallowNet`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from .._util import positive_int
from ..engine import activations
from ..engine.layers import Activation, Dropout, Linear
from ..engine.mlp import MLP
from ..engine.shallow import ShallowNet

#: nnbook activation name -> a function returning the torch module with the same formula.
TORCH_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(activations.LEAKY_SLOPE),
    "softplus": nn.Softplus,
    "gelu": nn.GELU,  # the exact z Phi(z), as in nnbook.engine.activations.gelu
    "identity": nn.Identity,
}

#: optimiser name -> the torch.optim class with the same update rule. The names are those of
#: :data:`nnbook.engine.optim.OPTIMIZERS` (the NumPy versions), plus ``"adamw"`` (decoupled
#: weight decay), which only the PyTorch stack offers. "momentum" is SGD with ``momentum=``.
TORCH_OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "momentum": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}

# torch class name -> nnbook name, for reading a torch model back
_FROM_TORCH = {
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "ReLU": "relu",
    "LeakyReLU": "leaky_relu",
    "Softplus": "softplus",
    "GELU": "gelu",
    "Identity": "identity",
}


def torch_activation(name: str) -> nn.Module:
    """The torch module computing the activation ``name`` of :mod:`nnbook.engine.activations`."""
    return TORCH_ACTIVATIONS[activations.get(name).name]()


def _torch_dtype(dtype: Any) -> torch.dtype:
    return torch.float64 if np.dtype(dtype) == np.float64 else torch.float32


# --------------------------------------------------------------------------- MLP


def mlp_to_torch(model: MLP) -> nn.Sequential:
    """The same network as a ``torch.nn.Sequential`` (Linear, activation, [Dropout], ...,
    Linear), holding copies of our weights, in our dtype (float64 -> torch.float64).
    Its ``parameters()`` are in the order of ours."""
    if not isinstance(model, MLP):
        raise TypeError(f"expected an nnbook MLP, got {type(model).__name__}")
    tdtype = _torch_dtype(model.dtype)
    modules = []
    for layer in model.layers:
        if isinstance(layer, Linear):
            lin = nn.Linear(layer.d_in, layer.d_out, dtype=tdtype)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.W.data))
                lin.bias.copy_(torch.from_numpy(layer.b.data))
            modules.append(lin)
        elif isinstance(layer, Activation):
            modules.append(torch_activation(layer.name))
        elif isinstance(layer, Dropout):
            modules.append(nn.Dropout(layer.phi))
    seq = nn.Sequential(*modules)
    seq.train(model.training)
    return seq


def _read_sequential(seq: nn.Sequential) -> tuple[list[nn.Linear], set[str], list[float]]:
    """The Linear layers, the activation names and the dropout rates of ``seq``, checked."""
    linears, acts, phis, pattern = [], set(), [], ""
    for m in seq:
        name = type(m).__name__
        if isinstance(m, nn.Linear):
            if m.bias is None:
                raise ValueError("expected Linear layers with a bias, got one with bias=False")
            linears.append(m)
            phis.append(0.0)
            pattern += "L"
        elif name in _FROM_TORCH and linears:
            acts.add(_FROM_TORCH[name])
            pattern += "A"
            if name == "LeakyReLU" and m.negative_slope != activations.LEAKY_SLOPE:
                raise ValueError(
                    f"expected LeakyReLU with slope {activations.LEAKY_SLOPE}, "
                    f"got {m.negative_slope}"
                )
            if name == "GELU" and m.approximate != "none":
                raise ValueError("expected the exact GELU (approximate='none')")
        elif isinstance(m, nn.Dropout) and linears:
            phis[-1] = float(m.p)
            pattern += "D"
        else:
            raise ValueError(
                "expected a Sequential of Linear, activation "
                f"({', '.join(sorted(_FROM_TORCH.values()))}) and Dropout layers starting "
                f"with Linear, got {name}"
            )
    if not re.fullmatch(r"(LAD?)*L", pattern):
        raise ValueError(
            "expected the pattern Linear, activation, [Dropout], ..., Linear (one activation "
            "after each hidden Linear layer, none after the last), "
            f"got {[type(m).__name__ for m in seq]}"
        )
    if len(acts) > 1:
        raise ValueError(
            f"expected one kind of activation between the Linear layers, got {sorted(acts)}"
        )
    for a, b in zip(linears[:-1], linears[1:]):
        if a.out_features != b.in_features:
            raise ValueError(
                "expected consecutive Linear layers to fit, "
                f"got {a.out_features} outputs into {b.in_features} inputs"
            )
    return linears, acts, phis


def mlp_from_torch(
    seq: Any, dtype: Any = None, rng: np.random.Generator | int | None = None
) -> MLP:
    """An MLP with the architecture and (copies of) the weights of ``seq``, a
    ``torch.nn.Sequential`` of Linear layers with one kind of activation between them
    (and optional Dropout). ``dtype`` defaults to the dtype of the torch weights."""
    if not isinstance(seq, nn.Sequential):
        raise TypeError(f"expected a torch.nn.Sequential, got {type(seq).__name__}")
    linears, acts, phis = _read_sequential(seq)
    sizes = [linears[0].in_features] + [m.out_features for m in linears]
    if dtype is None:
        dtype = np.float64 if linears[0].weight.dtype == torch.float64 else np.float32
    activation = acts.pop() if acts else "identity"
    model = MLP(sizes, activation=activation, init="zeros", dropout=phis[:-1], rng=rng, dtype=dtype)
    for ours, theirs in zip(model.linears, linears):
        ours.W.data[...] = theirs.weight.detach().cpu().numpy()
        ours.b.data[...] = theirs.bias.detach().cpu().numpy()
    return model


# --------------------------------------------------------------------------- shallow network


def shallow_torch(d: int, M: int, activation: str = "relu", dtype=None) -> nn.Sequential:
    """A PyTorch shallow network ``Sequential(Linear(d, M), sigma, Linear(M, 1, bias=False))``.

    The first ``Linear`` holds the w_m (rows of its weight) and b_m, the second the beta_m;
    there is no output bias (b_0 = 0), so it has (d + 2) M parameters. Default dtype float64.
    """
    d = positive_int(d, "d")
    M = positive_int(M, "M")
    dtype = torch.float64 if dtype is None else dtype
    return nn.Sequential(
        nn.Linear(d, M, dtype=dtype),
        torch_activation(activation),
        nn.Linear(M, 1, bias=False, dtype=dtype),
    )


def shallow_to_torch(net: ShallowNet) -> nn.Sequential:
    """The same network as :func:`shallow_torch`, holding copies of (w, b, beta)."""
    model = shallow_torch(net.d, net.M, net.activation)
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(net.w))
        model[0].bias.copy_(torch.from_numpy(net.b))
        model[2].weight.copy_(torch.from_numpy(net.beta)[None, :])
    return model


def shallow_from_torch(
    model: nn.Sequential, activation: str = "relu", info: dict | None = None
) -> ShallowNet:
    """Read (w, b, beta) out of a model built by :func:`shallow_torch`."""

    def to_np(t: torch.Tensor) -> np.ndarray:
        return t.detach().cpu().double().numpy().copy()

    lin1, lin2 = model[0], model[2]
    return ShallowNet(
        to_np(lin1.weight), to_np(lin1.bias), to_np(lin2.weight)[0], activation, dict(info or {})
    )


__all__ = [
    "TORCH_ACTIVATIONS",
    "TORCH_OPTIMIZERS",
    "torch_activation",
    "mlp_to_torch",
    "mlp_from_torch",
    "shallow_torch",
    "shallow_to_torch",
    "shallow_from_torch",
]
