"""Helpers for the appendix page on convolutional networks (A1).

- Digits as images: :func:`as_images` (``(n, 784)`` -> ``(n, 1, 28, 28)``),
  :func:`shift_images` (a translation with zero fill) and :func:`neighbour_correlation`
  (how alike neighbouring pixels are: the spatial structure a permutation destroys).
- :func:`permuted_mlp`: the MLP that computes on permuted pixels what a given MLP computes
  on the original ones.
- :func:`lenet`: a small LeNet-style CNN (LeCun et al., 1998) in PyTorch,
  f(x) = T_fc T_mp T_conv T_mp T_conv x, and :func:`to_engine`, the same network as layers
  of :mod:`nnbook.engine` with the weights copied.
- :func:`shape_trace`: the shape of x^t after each layer.
- :func:`conv_stack` and :func:`first_layer_grad_norm`: deep stacks of convolutions with
  and without skip connections (residual blocks), for the gradient-flow experiment.
- :func:`uniform_plus_exponential_density`, :func:`bump` and :func:`stripe_filters`: the
  small closed forms and kernels of the page.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from .._util import as_array, as_rng, positive_int
from ..engine import conv as _conv
from ..engine.layers import Activation, Linear

__all__ = [
    "as_images",
    "shift_images",
    "neighbour_correlation",
    "permute_within_windows",
    "permuted_mlp",
    "lenet",
    "to_engine",
    "shape_trace",
    "ResidualBlock",
    "PlainBlock",
    "conv_stack",
    "first_layer_grad_norm",
    "uniform_plus_exponential_density",
    "bump",
    "stripe_filters",
]

SIDE = 28


def as_images(X: Any) -> np.ndarray:
    """Flattened digits ``(n, 784)`` as images ``(n, 1, 28, 28)`` (one channel), same dtype."""
    X = as_array(X, "X", shape=(None, SIDE * SIDE), dtype=None)
    return X.reshape(-1, 1, SIDE, SIDE)


def shift_images(X: Any, dy: int, dx: int) -> np.ndarray:
    """Translate images by dy pixels down and dx pixels right, filling with zeros.

    ``X`` is ``(..., H, W)`` (e.g. ``(n, 1, 28, 28)``) or flattened ``(n, 784)``; the result
    has the same shape. Pixels shifted past the border are lost (unlike ``np.roll``).
    """
    X = as_array(X, "X", dtype=None)
    flat = X.ndim == 2
    imgs = X.reshape(-1, SIDE, SIDE) if flat else X
    H, W = imgs.shape[-2:]
    out = np.zeros_like(imgs)
    src_y, dst_y = slice(max(-dy, 0), H - max(dy, 0)), slice(max(dy, 0), H - max(-dy, 0))
    src_x, dst_x = slice(max(-dx, 0), W - max(dx, 0)), slice(max(dx, 0), W - max(-dx, 0))
    out[..., dst_y, dst_x] = imgs[..., src_y, src_x]
    return out.reshape(X.shape)


def neighbour_correlation(X: Any) -> float:
    """Correlation between horizontally neighbouring pixels x(k, l) and x(k, l + 1).

    ``X`` is ``(n, 784)``: every row is read as a 28 x 28 image, whatever order its pixels
    are in. Close to 1 for natural images; close to 0 once the pixels are shuffled.
    """
    imgs = as_array(X, "X", shape=(None, SIDE * SIDE)).reshape(-1, SIDE, SIDE)
    left, right = imgs[:, :, :-1].ravel(), imgs[:, :, 1:].ravel()
    return float(np.corrcoef(left, right)[0, 1])


def permute_within_windows(X: Any, p: int, rng: Any = None) -> np.ndarray:
    """Shuffle the values inside every non-overlapping p x p window of X ``(N, C, H, W)``.

    Each window gets its own random order (drawn from ``rng``); pixels outside the last
    complete windows stay put. Max pooling with stride p cannot tell the result from X.
    """
    X, p = as_array(X, "X", ndim=4), positive_int(p, "p")
    N, C, H, W = X.shape
    Ho, Wo = H // p, W // p
    blocks = X[:, :, : Ho * p, : Wo * p].reshape(N, C, Ho, p, Wo, p).transpose(0, 1, 2, 4, 3, 5)
    blocks = blocks.reshape(N, C, Ho, Wo, p * p)
    order = as_rng(rng).random(blocks.shape).argsort(axis=-1)
    shuffled = np.take_along_axis(blocks, order, axis=-1).reshape(N, C, Ho, Wo, p, p)
    out = X.copy()
    out[:, :, : Ho * p, : Wo * p] = shuffled.transpose(0, 1, 2, 4, 3, 5).reshape(
        N, C, Ho * p, Wo * p
    )
    return out


def permuted_mlp(model: nn.Sequential, perm: Any) -> nn.Sequential:
    """A copy of an MLP whose first layer reads pixels in the order ``perm``.

    If x' = x[perm] (pixel j of x' is pixel perm[j] of x), then W_0 x = W_0[:, perm] x', so
    the copy with W_0' = W_0[:, perm] computes f'(x') = f(x) for every x. Trained by the
    same steps on the permuted data, it stays the permuted copy of the original.
    """
    first = next(m for m in model.modules() if isinstance(m, nn.Linear))
    perm = np.asarray(perm)
    if sorted(perm.tolist()) != list(range(first.in_features)):
        raise ValueError(f"expected perm to be a permutation of 0..{first.in_features - 1}")
    clone = copy.deepcopy(model)
    first_copy = next(m for m in clone.modules() if isinstance(m, nn.Linear))
    with torch.no_grad():
        first_copy.weight.copy_(first.weight[:, torch.from_numpy(perm)])
    return clone


def lenet(channels: tuple[int, int] = (6, 16), *, seed: int = 0) -> nn.Sequential:
    """A LeNet-style CNN for 28 x 28 digits, f(x) = T_fc T_mp T_conv T_mp T_conv x.

    x^0 = x (1 channel, 28 x 28); x^1 = T_mp T_conv x^0 with ``channels[0]`` 5 x 5 filters
    (padding 2, so 28 x 28, then 2 x 2 max pooling: 14 x 14); x^2 = T_mp T_conv x^1 with
    ``channels[1]`` 5 x 5 filters (10 x 10, pooled to 5 x 5); T_fc is an MLP
    (C_2 * 25)-120-84-10. Every convolution and hidden layer is followed by a ReLU. With
    the default channels this is LeNet-5's layout, with ReLU and max pooling.
    """
    c1, c2 = (positive_int(c, "channels") for c in channels)
    torch.manual_seed(positive_int(seed, "seed", minimum=0))
    return nn.Sequential(
        nn.Conv2d(1, c1, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * 25, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def to_engine(model: nn.Sequential) -> list:
    """The layers of a PyTorch ``Sequential`` CNN as :mod:`nnbook.engine` layers, in float64.

    Conv2d, ReLU, MaxPool2d (window = stride), Flatten and Linear are translated and their
    weights copied, so ``x -> layer.forward(x)`` for each layer in turn computes the same
    f(x) as the model.
    """
    out = []
    for mod in model:
        if isinstance(mod, nn.Conv2d):
            C_out, C_in, m, _ = mod.weight.shape
            layer = _conv.Conv2d(C_in, C_out, m, stride=mod.stride[0], padding=mod.padding[0])
        elif isinstance(mod, nn.Linear):
            layer = Linear(mod.in_features, mod.out_features)
        elif isinstance(mod, nn.ReLU):
            layer = Activation("relu")
        elif isinstance(mod, nn.MaxPool2d):
            layer = _conv.MaxPool2d(mod.kernel_size)
        elif isinstance(mod, nn.Flatten):
            layer = _conv.Flatten()
        else:
            raise TypeError(f"expected Conv2d, ReLU, MaxPool2d, Flatten or Linear, got {mod}")
        for p, q in zip(layer.parameters(), mod.parameters()):
            p.data[...] = q.detach().double().numpy()
        out.append(layer)
    return out


def shape_trace(model: nn.Sequential, x: torch.Tensor) -> list[tuple[str, tuple[int, ...]]]:
    """``[(layer, shape of its output), ...]`` for a batch x, starting with the input.

    Shapes are per sample (the batch dimension is left out)."""
    rows = [("input", tuple(x.shape[1:]))]
    with torch.no_grad():
        for mod in model:
            x = mod(x)
            rows.append((type(mod).__name__, tuple(x.shape[1:])))
    return rows


class PlainBlock(nn.Module):
    """x -> W star sigma(N(x)) + b: one convolution, no skip connection (N: optional batch norm)."""

    def __init__(self, C: int, batch_norm: bool = False) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(C) if batch_norm else nn.Identity()
        self.conv = nn.Conv2d(C, C, 3, padding=1)

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.relu(self.norm(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.branch(x)


class ResidualBlock(PlainBlock):
    """x -> x + F(x) with F(x) = W star sigma(N(x)) + b: the same block with a skip connection.

    Its Jacobian is I + dF/dx instead of dF/dx (the pre-activation residual block of He et
    al., 2016, with one convolution).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.branch(x)


def conv_stack(
    depth: int,
    *,
    residual: bool,
    batch_norm: bool = False,
    channels: int = 8,
    seed: int = 0,
) -> nn.Sequential:
    """A deep CNN: a first convolution (1 -> ``channels``), ``depth`` blocks, global average
    pooling and a linear layer to 10 classes; float64, PyTorch's default initialisation."""
    depth, C = positive_int(depth, "depth"), positive_int(channels, "channels")
    torch.manual_seed(positive_int(seed, "seed", minimum=0))
    block = ResidualBlock if residual else PlainBlock
    net = nn.Sequential(
        nn.Conv2d(1, C, 3, padding=1),
        *[block(C, batch_norm) for _ in range(depth)],
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(C, 10),
    )
    return net.double()


def first_layer_grad_norm(model: nn.Sequential, X: Any, y: Any) -> float:
    """||dR/dW|| of the first convolution, for the cross-entropy R on one batch (X, y)."""
    model.zero_grad()
    X = torch.as_tensor(np.asarray(X), dtype=torch.float64)
    loss = nn.functional.cross_entropy(model(X), torch.as_tensor(np.asarray(y)))
    loss.backward()
    return float(model[0].weight.grad.norm())


def uniform_plus_exponential_density(tau: Any) -> np.ndarray:
    """Density of U + V for independent U ~ Uniform(0, 1) and V ~ Exponential(1).

    (w * x)(tau) = int_0^1 e^{-(tau - t)} 1[tau - t >= 0] dt = 1 - e^{-tau} for 0 <= tau <= 1,
    (e - 1) e^{-tau} for tau > 1, and 0 for tau < 0.
    """
    tau = as_array(tau, "tau")
    inside = np.where(tau <= 1, 1 - np.exp(-tau), (np.e - 1) * np.exp(-tau))
    return np.where(tau < 0, 0.0, inside)


def bump(t: Any, width: float = 1.0) -> np.ndarray:
    """The smooth bump w(t) = exp(-1 / (1 - (t/width)^2)) for |t| < width, 0 elsewhere."""
    u = as_array(t, "t") / width
    out = np.zeros_like(u)
    inside = np.abs(u) < 1
    out[inside] = np.exp(-1.0 / (1.0 - u[inside] ** 2))
    return out


def stripe_filters() -> dict[str, np.ndarray]:
    """Two 3 x 3 filters: a vertical stripe (a bright column between dark ones) and its
    transpose, a horizontal stripe. Each sums to 0, so a flat patch scores 0."""
    vertical = np.array([[-1.0, 2.0, -1.0]] * 3) / 3
    return {"vertical": vertical, "horizontal": vertical.T.copy()}
