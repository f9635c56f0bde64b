"""A small, readable PyTorch training loop: mini-batch SGD with the tricks of the trade.

The pieces, in the lecture's notation:

- :func:`fit` runs stochastic (mini-batch) gradient descent: each epoch shuffles the N
  training samples with a seeded ``torch.Generator`` and takes about N / B steps
  theta <- theta - eta g_k, where g_k is the gradient on a mini-batch of size B.
  It adds weight decay (through the optimiser, or as the explicit penalty
  (lambda/2) ||theta||^2), early stopping, data augmentation and a quiet progress bar,
  and returns a :class:`History` of per-epoch train/validation loss and error.
- :func:`evaluate`, :func:`predict`, :func:`predict_proba`, :func:`predict_labels`.

Arrays are ``(n_samples, n_features)`` (NumPy arrays or CPU tensors). Everything runs on
the CPU and is deterministic: :func:`fit` draws all its randomness (mini-batch order,
dropout masks, augmentation) from its ``seed`` and leaves the global random state as it
found it.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._util import one_of, positive_float, positive_int
from .augment import _accepts_generator
from .inputs import _check_seed, _check_X, _check_y, _model_dtype, _output_size

LOSSES = ("cross_entropy", "mse")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
PENALIZE = ("all", "weights")
MONITORS = ("loss", "error")

#: How many samples :func:`evaluate` and :func:`predict` push through the network at once.
EVAL_BATCH = 8192


def _loss_fn(loss: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if loss == "cross_entropy":
        return F.cross_entropy
    return F.mse_loss


def _error(out: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    if loss == "cross_entropy":
        return (out.argmax(dim=1) != y).to(torch.float64).mean()  # float64: 0.52, not 0.51999998
    return F.mse_loss(out, y)


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def _forward(model: nn.Module, X: torch.Tensor, batch_size: int = EVAL_BATCH) -> torch.Tensor:
    """f(X) in eval mode (dropout off), in chunks so that large X fit in memory."""
    with _eval_mode(model):
        return torch.cat([model(X[i : i + batch_size]) for i in range(0, X.shape[0], batch_size)])


class Evaluation(NamedTuple):
    """The loss R-hat and the error of a model on a data set (see :func:`evaluate`)."""

    loss: float
    error: float


def evaluate(model: nn.Module, X: Any, y: Any, *, loss: str = "cross_entropy") -> Evaluation:
    """Mean loss and error of ``model`` on ``(X, y)``, in eval mode (dropout off).

    For ``loss="cross_entropy"`` the loss is R-hat = -(1/N) sum_i log f_{y_i}(x_i), with
    f_m(x) = e^{Z_m} / sum_j e^{Z_j} the softmax of the outputs Z, and the error is the
    fraction misclassified, (1/N) #{i : argmax_m Z_m(x_i) != y_i}. For ``loss="mse"`` the
    loss is the mean squared error (1/(N K)) sum_i ||f(x_i) - y_i||^2 and the error is the
    same number. ``X`` is ``(n, d)``; ``y`` holds labels 0..K-1 (or real targets for MSE).
    Returns ``Evaluation(loss, error)``.
    """
    one_of(loss, "loss", LOSSES)
    Xt = _check_X(X, "X", model)
    K = _output_size(model, Xt, "X")
    yt = _check_y(y, "y", Xt.shape[0], loss, K, _model_dtype(model))
    out = _forward(model, Xt)
    return Evaluation(float(_loss_fn(loss)(out, yt)), float(_error(out, yt, loss)))


def predict(model: nn.Module, X: Any) -> np.ndarray:
    """The network's outputs f(X) as a NumPy array, in eval mode (dropout off).

    ``X`` is ``(n, d)``. Returns ``(n, K)``, or ``(n,)`` when the network has one output
    (regression, as scikit-learn does). For classification these are the scores Z_m; see
    :func:`predict_proba` and :func:`predict_labels`.
    """
    Xt = _check_X(X, "X", model)
    _output_size(model, Xt, "X")
    out = _forward(model, Xt).numpy()
    return out[:, 0] if out.shape[1] == 1 else out


def predict_proba(model: nn.Module, X: Any) -> np.ndarray:
    """Class probabilities f_m(X) = Pr(Y = m | X) = e^{Z_m} / sum_j e^{Z_j}, shape ``(n, K)``."""
    Xt = _check_X(X, "X", model)
    _output_size(model, Xt, "X")
    return torch.softmax(_forward(model, Xt), dim=1).numpy()


def predict_labels(model: nn.Module, X: Any) -> np.ndarray:
    """Predicted classes argmax_m f_m(X), shape ``(n,)``."""
    Xt = _check_X(X, "X", model)
    _output_size(model, Xt, "X")
    return _forward(model, Xt).argmax(dim=1).numpy()


def _in_kernel() -> tuple[bool, bool]:
    """(running in an IPython kernel, and the current cell may ask the user for input)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False, False
    try:
        shell = ipython.get_ipython()
    except Exception:  # pragma: no cover - defensive
        return False, False
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return False, False
    # Headless executors (nbclient, hence nbmake, jupyter-book, jupyter-cache) send every
    # cell with allow_stdin=False; JupyterLab, VS Code and Colab allow input.
    return True, bool(getattr(kernel, "_allow_stdin", False))


def progress_enabled(progress: bool) -> bool:
    """Whether :func:`fit` shows a progress bar.

    Only when asked (``progress=True``), and only where someone is watching: a terminal
    (stderr is a TTY) or a live notebook. Never in headless notebook runs (nbmake,
    jupyter-book, which execute cells without input), and never when the environment
    variable ``NNBOOK_PROGRESS`` is ``0`` (or ``false``/``no``/``off``).
    """
    if not progress:
        return False
    if os.environ.get("NNBOOK_PROGRESS", "").strip().lower() in ("0", "false", "no", "off"):
        return False
    in_kernel, interactive = _in_kernel()
    if in_kernel:
        return interactive
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def _progress_bar(epochs: int, enabled: bool):
    if not enabled:
        return None
    if _in_kernel()[0]:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm(total=epochs, desc="epochs", unit="epoch", leave=True)


@dataclass
class History:
    """What :func:`fit` records, one entry per epoch (epoch 1 is the first).

    ``train_loss``/``train_error``: the loss R-hat and the error on the training set at the
    end of each epoch, in eval mode (dropout and augmentation off), so that they compare
    with the validation curves; with ``fit(eval_train=False)`` they are instead the running
    means over the epoch's mini-batches (dropout and augmentation on). The loss never
    includes the L2 penalty. ``val_loss``/``val_error``: the same on the validation set
    (empty without one). For cross-entropy the error is the fraction misclassified; for
    MSE it is the mean squared error again.

    ``best_epoch``/``best_value``: the epoch with the lowest validation ``monitor``
    ("loss" or "error"), ``None`` without a validation set. ``restored_best``: True when
    early stopping copied the weights of ``best_epoch`` back into the model at the end
    (i.e. training went on past the best epoch). ``stopped_early``: True when patience ran
    out before ``epochs``. ``lr``: the learning rate eta used in each epoch.
    """

    train_loss: list[float] = field(default_factory=list)
    train_error: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_error: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    loss: str = "cross_entropy"
    monitor: str = "loss"
    best_epoch: int | None = None
    best_value: float | None = None
    restored_best: bool = False
    stopped_early: bool = False
    seed: int = 0
    epoch_seconds: list[float] = field(default_factory=list, compare=False, repr=False)

    @property
    def epochs(self) -> int:
        """Number of epochs run."""
        return len(self.train_loss)

    def as_dict(self) -> dict[str, list[float]]:
        """The per-epoch curves as a dict of equal-length lists (e.g. for ``pandas.DataFrame``)."""
        out: dict[str, list[float]] = {"epoch": list(range(1, self.epochs + 1))}
        out["train_loss"], out["train_error"] = list(self.train_loss), list(self.train_error)
        if self.val_loss:
            out["val_loss"], out["val_error"] = list(self.val_loss), list(self.val_error)
        out["lr"] = list(self.lr)
        return out


def _penalized_params(
    model: nn.Module, penalize: str
) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """Split the trainable parameters into (penalised, not penalised).

    "all": every parameter theta_i (the lecture's J(theta) = sum_i theta_i^2).
    "weights": the weight matrices W_l and beta (parameters with 2 or more dimensions);
    biases b_l and beta_0 are not penalised.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if penalize == "all":
        return params, []
    return [p for p in params if p.ndim >= 2], [p for p in params if p.ndim < 2]


def _make_optimizer(
    name: str, groups: list[dict], lr: float, momentum: float
) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum)
    if name == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, momentum=momentum)
    if momentum != 0:
        raise ValueError(
            f"momentum is used by 'sgd' and 'rmsprop' only; {name!r} has its own (betas), got momentum={momentum}"
        )
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr)
    return torch.optim.AdamW(groups, lr=lr)


def _sub_seeds(seed: int, n: int) -> list[int]:
    """Independent 63-bit seeds for the separate random streams of one fit."""
    return [
        int(s)
        for s in np.random.SeedSequence(seed).generate_state(n, dtype=np.uint64) >> np.uint64(1)
    ]


def _one_epoch(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    opt: torch.optim.Optimizer,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    loss: str,
    B: int,
    shuffle_gen: torch.Generator,
    augment: Callable | None,
    augment_gen: torch.Generator | None,
    l2: float,
    penalized: list[nn.Parameter],
) -> tuple[float, float]:
    """One epoch of mini-batch SGD: shuffle, then one step per mini-batch of size B.

    Returns the running means of the loss and the error over the epoch's mini-batches.
    """
    model.train()  # dropout on
    n = X.shape[0]
    order = torch.randperm(n, generator=shuffle_gen)  # a fresh order every epoch
    total_loss, total_err = 0.0, 0.0
    for start in range(0, n, B):
        idx = order[start : start + B]  # the mini-batch {i_1, ..., i_B}
        xb, yb = X[idx], y[idx]
        if augment is not None:  # perturb the inputs, keep the labels
            xb = augment(xb) if augment_gen is None else augment(xb, generator=augment_gen)
            if not isinstance(xb, torch.Tensor) or xb.shape != X[idx].shape:
                got = tuple(xb.shape) if hasattr(xb, "shape") else type(xb).__name__
                raise ValueError(
                    f"expected augment to return a tensor of shape {tuple(X[idx].shape)}, got {got}"
                )
        out = model(xb)
        data_loss = loss_fn(out, yb)  # R-hat on the mini-batch
        objective = data_loss
        if l2 > 0:  # R_lambda = R + (lambda/2) ||theta||^2
            objective = data_loss + 0.5 * l2 * sum((p * p).sum() for p in penalized)
        opt.zero_grad(set_to_none=True)
        objective.backward()  # g_k, by backpropagation
        opt.step()  # theta <- theta - eta g_k (or the optimiser's rule)
        total_loss += float(data_loss.detach()) * len(idx)
        total_err += float(_error(out.detach(), yb, loss)) * len(idx)
    return total_loss / n, total_err / n


def fit(
    model: nn.Module,
    X_train: Any,
    y_train: Any,
    *,
    X_val: Any = None,
    y_val: Any = None,
    loss: Literal["cross_entropy", "mse"] = "cross_entropy",
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 0.1,
    optimizer: Literal["sgd", "adam", "adamw", "rmsprop"] = "sgd",
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    l2: float = 0.0,
    penalize: Literal["all", "weights"] = "all",
    patience: int | None = None,
    monitor: Literal["loss", "error"] = "loss",
    augment: Callable | None = None,
    lr_schedule: Callable[[int], float] | None = None,
    eval_train: bool = True,
    seed: int = 0,
    progress: bool = False,
    num_threads: int | None = None,
) -> History:
    """Train ``model`` in place by mini-batch stochastic gradient descent; return its :class:`History`.

    Each epoch shuffles the N training samples (a seeded ``torch.Generator``) and walks
    through them in mini-batches {i_1, ..., i_B} of size B = ``batch_size`` (the last one
    may be smaller), so an epoch makes ceil(N / B) updates. Each update computes

        g_k = (1/B) sum_j grad R^(i_j)(theta_k),    theta_{k+1} = theta_k - eta g_k

    for ``optimizer="sgd"`` with learning rate eta = ``lr`` (``momentum`` adds heavy-ball
    momentum; ``"adam"``, ``"adamw"`` and ``"rmsprop"`` use the adaptive rules instead).
    The per-sample loss R^(i) is the cross-entropy -log f_{y_i}(x_i) of the softmax output
    (``loss="cross_entropy"``, labels 0..K-1) or the squared error (``loss="mse"``).

    Tricks of the trade:

    - **Weight decay through the optimiser** (``weight_decay=lambda``): for plain SGD the
      update is theta <- (1 - eta lambda) theta - eta grad R(theta). (With Adam it is the
      same L2 gradient term, rescaled by Adam; AdamW decouples it.)
    - **Explicit L2 penalty** (``l2=lambda``): minimises the penalised loss
      R_lambda(theta) = R(theta) + (lambda/2) ||theta||^2 (Definition of weight decay). Its
      gradient is grad R + lambda theta, so for plain SGD it takes exactly the same steps as
      ``weight_decay=lambda``. ``penalize`` chooses the parameters in ||theta||^2, for both:
      ``"all"`` (default, as in the lecture's J(theta) = sum_i theta_i^2, biases included)
      or ``"weights"`` (only the weight matrices W_l and beta, not the biases).
    - **Early stopping** (``patience=p``, needs a validation set): after each epoch measure
      the validation loss (``monitor="loss"``) or error (``monitor="error"``); stop when it
      has not decreased for p epochs in a row and copy back the weights of the best epoch.
      Without ``patience`` all epochs run and the final weights are kept (``best_epoch`` is
      still recorded).
    - **Dropout** is whatever the model contains (see :func:`make_mlp`); it is on during the
      updates and off when measuring losses and errors.
    - **Data augmentation** (``augment``): a callable applied to each training mini-batch of
      inputs, e.g. :func:`gaussian_noise` or :func:`random_shift`; labels stay fixed. If it
      accepts a ``generator`` keyword, ``fit`` passes its own seeded generator.
    - **Learning-rate schedule** (``lr_schedule``): a function of the epoch (0, 1, ...)
      returning a factor, so that epoch e uses eta * lr_schedule(e).

    Deterministic: the mini-batch order, the dropout masks and the augmentation are all
    drawn from ``seed``; the global random state is restored afterwards, so two calls with
    the same model initialisation, data and seed give identical histories and weights.
    ``num_threads`` sets ``torch.set_num_threads`` for the duration of the call only.
    ``progress=True`` shows a progress bar where someone is watching (see
    :func:`progress_enabled`). The model is returned in eval mode, ready for prediction.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected model to be a torch.nn.Module, got {type(model).__name__}")
    one_of(loss, "loss", LOSSES)
    one_of(optimizer, "optimizer", OPTIMIZERS)
    one_of(penalize, "penalize", PENALIZE)
    one_of(monitor, "monitor", MONITORS)
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    lr = positive_float(lr, "lr")
    momentum = positive_float(momentum, "momentum", allow_zero=True)
    weight_decay = positive_float(weight_decay, "weight_decay", allow_zero=True)
    l2 = positive_float(l2, "l2", allow_zero=True)
    seed = _check_seed(seed)
    if patience is not None:
        patience = positive_int(patience, "patience")
    if num_threads is not None:
        num_threads = positive_int(num_threads, "num_threads")
    if augment is not None and not callable(augment):
        raise TypeError(f"expected augment to be a callable or None, got {type(augment).__name__}")
    if lr_schedule is not None and not callable(lr_schedule):
        raise TypeError(
            f"expected lr_schedule to be a callable or None, got {type(lr_schedule).__name__}"
        )
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("expected a model with trainable parameters, got none")

    X = _check_X(X_train, "X_train", model)
    n = X.shape[0]
    K = _output_size(model, X, "X_train")
    dtype = _model_dtype(model)
    y = _check_y(y_train, "y_train", n, loss, K, dtype)
    if (X_val is None) != (y_val is None):
        raise ValueError("expected both X_val and y_val, or neither")
    has_val = X_val is not None
    if has_val:
        Xv = _check_X(X_val, "X_val", model)
        if Xv.shape[1:] != X.shape[1:]:
            raise ValueError(
                f"expected X_val of shape (n, {', '.join(map(str, X.shape[1:]))}), got {tuple(Xv.shape)}"
            )
        yv = _check_y(y_val, "y_val", Xv.shape[0], loss, K, dtype)
    elif patience is not None:
        raise ValueError("early stopping (patience) needs a validation set: pass X_val and y_val")

    loss_fn = _loss_fn(loss)
    penalized, free = _penalized_params(model, penalize)
    groups = [{"params": penalized, "weight_decay": weight_decay}]
    if free:
        groups.append({"params": free, "weight_decay": 0.0})
    opt = _make_optimizer(optimizer, groups, lr, momentum)
    pass_generator = augment is not None and _accepts_generator(augment)

    shuffle_seed, augment_seed, global_seed = _sub_seeds(seed, 3)
    shuffle_gen = torch.Generator().manual_seed(shuffle_seed)
    augment_gen = torch.Generator().manual_seed(augment_seed)

    history = History(loss=loss, monitor=monitor, seed=seed)
    best_state: dict[str, torch.Tensor] | None = None
    since_best = 0
    bar = _progress_bar(epochs, progress_enabled(progress))
    threads = nullcontext() if num_threads is None else _num_threads(num_threads)

    with threads, torch.random.fork_rng(devices=[]):
        torch.manual_seed(global_seed)  # dropout masks and any torch randomness in `augment`
        try:
            for epoch in range(epochs):
                t0 = time.perf_counter()
                factor = 1.0 if lr_schedule is None else float(lr_schedule(epoch))
                if not (factor > 0 and math.isfinite(factor)):
                    raise ValueError(f"expected lr_schedule({epoch}) > 0, got {factor}")
                for group in opt.param_groups:
                    group["lr"] = lr * factor
                history.lr.append(lr * factor)

                run_loss, run_err = _one_epoch(
                    model,
                    X,
                    y,
                    opt,
                    loss_fn,
                    loss,
                    batch_size,
                    shuffle_gen,
                    augment,
                    augment_gen if pass_generator else None,
                    l2,
                    penalized,
                )
                if not math.isfinite(run_loss):
                    raise FloatingPointError(
                        f"the training loss became {run_loss} in epoch {epoch + 1}; try a smaller lr"
                    )

                if eval_train:
                    out = _forward(model, X)
                    history.train_loss.append(float(loss_fn(out, y)))
                    history.train_error.append(float(_error(out, y, loss)))
                else:
                    history.train_loss.append(run_loss)
                    history.train_error.append(run_err)

                stop = False
                if has_val:
                    out = _forward(model, Xv)
                    history.val_loss.append(float(loss_fn(out, yv)))
                    history.val_error.append(float(_error(out, yv, loss)))
                    value = history.val_loss[-1] if monitor == "loss" else history.val_error[-1]
                    if history.best_value is None or value < history.best_value:
                        history.best_value, history.best_epoch, since_best = value, epoch + 1, 0
                        if patience is not None:
                            best_state = {
                                k: v.detach().clone() for k, v in model.state_dict().items()
                            }
                    else:
                        since_best += 1
                        stop = patience is not None and since_best >= patience
                history.epoch_seconds.append(time.perf_counter() - t0)

                if bar is not None:
                    shown = {"train_loss": f"{history.train_loss[-1]:.4f}"}
                    if has_val:
                        shown["val_loss"] = f"{history.val_loss[-1]:.4f}"
                        shown["val_error"] = f"{history.val_error[-1]:.4f}"
                    bar.set_postfix(shown)
                    bar.update(1)
                if stop:
                    history.stopped_early = epoch + 1 < epochs
                    break
        finally:
            if bar is not None:
                bar.close()

    if patience is not None and best_state is not None and history.best_epoch != history.epochs:
        model.load_state_dict(best_state)
        history.restored_best = True
    model.eval()
    return history


@contextmanager
def _num_threads(n: int) -> Iterator[None]:
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


__all__ = [
    "fit",
    "History",
    "evaluate",
    "Evaluation",
    "predict",
    "predict_proba",
    "predict_labels",
    "progress_enabled",
    "LOSSES",
    "OPTIMIZERS",
]
