"""Training a shallow network on all of its parameters, with PyTorch's L-BFGS.

The shallow network of the lecture, f(X) = sum_{m=1}^M beta_m sigma(w_m^T X + b_m)
(:class:`nnbook.engine.shallow.ShallowNet`), is *non-linear* in theta = {w_m, b_m, beta_m}.
:func:`train_shallow` searches H_SNN,M: it starts from a random-features fit
(:func:`nnbook.engine.shallow.random_features_fit`, a member of H_linear) and then trains
all (d + 2) M parameters on the squared error, full batch, with L-BFGS. On a small
full-batch problem this quasi-Newton method is fast and deterministic.
"""

from __future__ import annotations

import numpy as np
import torch

from .._util import positive_int
from ..engine.shallow import ShallowNet, check_xy, random_features_fit
from .convert import shallow_from_torch, shallow_to_torch


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"expected seed to be an int, got {type(seed).__name__}")
    return int(seed)


def lbfgs(model: torch.nn.Module, loss, steps: int) -> int:
    """Minimise ``loss()`` over ``model``'s parameters with up to ``steps`` iterations of
    L-BFGS (strong-Wolfe line search, full batch); returns the number of iterations run.

    L-BFGS only accepts steps that lower the loss, so the loss at the end is at most the
    loss at the start. It stops early when it can make no further progress.
    """
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

    1. Start from :func:`~nnbook.engine.shallow.random_features_fit` (random w_m, b_m drawn
       with ``np.random.default_rng(seed)``; beta by least squares).
    2. Run up to ``steps`` iterations of L-BFGS (:func:`lbfgs`) on all of theta. The trained
       network fits the training data at least as well as its random-features start.

    Returns a :class:`~nnbook.engine.shallow.ShallowNet`; ``info`` holds the training loss
    before and after (``train_mse_start``, ``train_mse``) and the number of L-BFGS
    ``iterations`` run.
    """
    x, y = check_xy(x, y)
    steps, seed = positive_int(steps, "steps", minimum=0), _check_seed(seed)
    rng = np.random.default_rng(seed)
    start = random_features_fit(x, y, M, activation, rng, scale=scale, spread=spread)
    model, X, Y = shallow_to_torch(start), torch.from_numpy(x), torch.from_numpy(y)
    unit = max(start.info["train_mse"], 1e-300)  # so that L-BFGS's tolerances are relative

    def loss():
        return torch.mean((model(X)[:, 0] - Y) ** 2) / unit

    iterations = lbfgs(model, loss, steps)
    with torch.no_grad():
        final = float(loss()) * unit
    info = {"train_mse_start": start.info["train_mse"], "train_mse": final}
    info.update(iterations=iterations, method="trained", seed=seed)
    return shallow_from_torch(model, start.activation, info)


__all__ = ["lbfgs", "train_shallow"]
