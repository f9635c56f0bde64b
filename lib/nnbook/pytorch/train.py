"""A small, readable PyTorch training loop: mini-batch SGD with the tricks of the trade.

The pieces, in the lecture's notation:

- :func:`fit` runs stochastic (mini-batch) gradient descent: each epoch
  (:func:`train_epoch`) shuffles the N training samples with a seeded ``torch.Generator``
  and takes about N / B steps theta <- theta - eta g_k, where g_k is the gradient on a
  mini-batch of size B. It adds weight decay (through the optimiser, or as the explicit
  penalty (lambda/2) ||theta||^2), early stopping (:class:`EarlyStopping`), data
  augmentation and an optional progress bar, and returns a :class:`History` of per-epoch
  train/validation loss and error.
- :func:`evaluate`, :func:`predict`, :func:`predict_proba`, :func:`predict_labels`.

Arrays are ``(n_samples, n_features)`` (NumPy arrays or tensors). :func:`fit` trains on the
device of its ``device`` argument (see :func:`nnbook.pytorch.device.choose_device`) and hands
the model back where it found it; predictions accept a model on any device and return NumPy
arrays. On the CPU everything is deterministic: :func:`fit` draws all its randomness
(mini-batch order, dropout masks, augmentation) from its ``seed`` and leaves the global
random state as it found it.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._util import one_of, positive_float, positive_int
from .augment import _accepts_generator
from .convert import TORCH_OPTIMIZERS
from .device import choose_device, model_device
from .early_stopping import EarlyStopping
from .inputs import _check_seed, _check_X, _check_y, _model_dtype, _output_size

LOSSES = ("cross_entropy", "mse")
PENALIZE = ("all", "weights")

#: How many samples :func:`evaluate` and :func:`predict` push through the network at once.
EVAL_BATCH = 8192

# --------------------------------------------------------------------------- losses, predictions


def _loss_fn(loss: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if loss == "cross_entropy":
        return F.cross_entropy
    return F.mse_loss


def _error(out: torch.Tensor, y: torch.Tensor, loss: str) -> float:
    """The fraction misclassified (cross-entropy) or the mean squared error (MSE)."""
    if loss == "cross_entropy":
        return int((out.argmax(dim=1) != y).sum()) / len(y)  # exact: 0.52, not 0.51999998
    return float(F.mse_loss(out, y))


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
    """f(X) on the CPU, in eval mode (dropout off), computed on the model's device in chunks."""
    device = model_device(model)
    with _eval_mode(model):
        chunks = [model(X[i : i + batch_size].to(device)) for i in range(0, len(X), batch_size)]
    return torch.cat(chunks).cpu()


def _measure(model: nn.Module, X: torch.Tensor, y: torch.Tensor, loss: str) -> tuple[float, float]:
    out = _forward(model, X)
    return float(_loss_fn(loss)(out, y)), _error(out, y, loss)


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
    return Evaluation(*_measure(model, Xt, yt, loss))


def _outputs(model: nn.Module, X: Any) -> torch.Tensor:
    Xt = _check_X(X, "X", model)
    _output_size(model, Xt, "X")
    return _forward(model, Xt)


def predict(model: nn.Module, X: Any) -> np.ndarray:
    """The network's outputs f(X) as a NumPy array, in eval mode (dropout off).

    ``X`` is ``(n, d)``. Returns ``(n, K)``, or ``(n,)`` when the network has one output
    (regression, as scikit-learn does). For classification these are the scores Z_m; see
    :func:`predict_proba` and :func:`predict_labels`.
    """
    out = _outputs(model, X).numpy()
    return out[:, 0] if out.shape[1] == 1 else out


def predict_proba(model: nn.Module, X: Any) -> np.ndarray:
    """Class probabilities f_m(X) = Pr(Y = m | X) = e^{Z_m} / sum_j e^{Z_j}, shape ``(n, K)``."""
    return torch.softmax(_outputs(model, X), dim=1).numpy()


def predict_labels(model: nn.Module, X: Any) -> np.ndarray:
    """Predicted classes argmax_m f_m(X), shape ``(n,)``."""
    return _outputs(model, X).argmax(dim=1).numpy()


# --------------------------------------------------------------------------- progress bar


def progress_enabled(progress: bool) -> bool:
    """Whether :func:`fit` shows a progress bar: only when asked (``progress=True``), and
    never when the environment variable ``NNBOOK_PROGRESS`` is ``0``, ``false``, ``no`` or
    ``off`` (as the Makefile sets it for builds and tests)."""
    quiet = os.environ.get("NNBOOK_PROGRESS", "").strip().lower() in ("0", "false", "no", "off")
    return bool(progress) and not quiet


@contextmanager
def _progress_bar(epochs: int, progress: bool) -> Iterator[Any]:
    """A ``tqdm.auto`` bar over the epochs (a widget in a notebook), or None."""
    if not progress_enabled(progress):
        yield None
        return
    from tqdm.auto import tqdm

    with tqdm(total=epochs, desc="epochs", unit="epoch") as bar:
        yield bar


def _show(bar: Any, history: History) -> None:
    if bar is None:
        return
    shown = {"train_loss": f"{history.train_loss[-1]:.4f}"}
    if history.val_loss:
        shown["val_loss"] = f"{history.val_loss[-1]:.4f}"
        shown["val_error"] = f"{history.val_error[-1]:.4f}"
    bar.set_postfix(shown)
    bar.update(1)


# --------------------------------------------------------------------------- History


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
    ("loss", or that of the :class:`EarlyStopping`), ``None`` without a validation set.
    ``restored_best``: True when early stopping copied the weights of ``best_epoch`` back
    into the model at the end (i.e. training went on past the best epoch). ``stopped_early``:
    True when patience ran out before ``epochs``. ``lr``: the learning rate eta used in each
    epoch. ``device``: where the model was trained (``"cpu"``, ``"cuda"``, ...).
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
    device: str = "cpu"
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


# --------------------------------------------------------------------------- checked settings


@dataclass(frozen=True)
class FitSettings:
    """The options of :func:`fit` (keyword arguments, all optional), with their defaults.

    - ``loss``: ``"cross_entropy"`` (labels 0..K-1; R^(i) = -log f_{y_i}(x_i) of the
      softmax output) or ``"mse"`` (real targets, shape ``(n,)`` or ``(n, K)``).
    - ``epochs``, ``batch_size`` (B), ``lr`` (the learning rate eta).
    - ``optimizer``: a name of :data:`~nnbook.pytorch.convert.TORCH_OPTIMIZERS`: ``"sgd"``,
      ``"momentum"`` (heavy-ball, mu = ``momentum``, default 0.9), ``"rmsprop"``, ``"adam"``
      or ``"adamw"``. ``momentum`` also adds momentum to ``"sgd"`` and ``"rmsprop"``.
    - ``weight_decay=lambda``: weight decay through the optimiser; for SGD the update is
      theta <- (1 - eta lambda) theta - eta grad R(theta). (Adam rescales it; AdamW
      decouples it.)
    - ``l2=lambda``: the explicit penalty, minimising R_lambda = R + (lambda/2) ||theta||^2,
      whose gradient grad R + lambda theta gives plain SGD the same steps as weight decay.
    - ``penalize``: the parameters in ||theta||^2, for both: ``"all"`` (the lecture's
      J(theta) = sum_i theta_i^2, biases included) or ``"weights"`` (W_l and beta only).
    - ``early_stopping``: an :class:`~nnbook.pytorch.early_stopping.EarlyStopping` (needs
      ``X_val``/``y_val``): stop once the validation loss or error has not decreased for
      ``patience`` epochs, and hand back the weights of the best epoch.
    - ``augment``: a callable applied to each training mini-batch of inputs (labels stay),
      e.g. :func:`~nnbook.pytorch.augment.random_shift`; if it takes a ``generator``
      keyword, ``fit`` passes its own seeded one.
    - ``lr_schedule``: a function of the epoch e = 0, 1, ...; epoch e uses eta * lr_schedule(e).
    - ``eval_train``: measure the training loss and error after each epoch in eval mode (True)
      or keep the running means over the epoch's mini-batches (False, cheaper).
    - ``seed``: draws the mini-batch order, the dropout masks and the augmentation.
    - ``device``: ``"auto"`` (``NNBOOK_DEVICE`` if set, else CUDA, MPS, CPU), ``"cpu"``,
      ``"cuda"``, ``"mps"`` or a ``torch.device`` (:func:`~nnbook.pytorch.device.choose_device`).
    - ``progress``: show a progress bar (see :func:`progress_enabled`).
    """

    loss: Literal["cross_entropy", "mse"] = "cross_entropy"
    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.1
    optimizer: Literal["sgd", "momentum", "rmsprop", "adam", "adamw"] = "sgd"
    momentum: float | None = None
    weight_decay: float = 0.0
    l2: float = 0.0
    penalize: Literal["all", "weights"] = "all"
    early_stopping: EarlyStopping | None = None
    augment: Callable | None = None
    lr_schedule: Callable[[int], float] | None = None
    eval_train: bool = True
    seed: int = 0
    device: str | torch.device = "auto"
    progress: bool = False


def _check_callable(value: Any, name: str) -> Any:
    if value is not None and not callable(value):
        raise TypeError(f"expected {name} to be a callable or None, got {type(value).__name__}")
    return value


def _check_momentum(momentum: Any, optimizer: str) -> float | None:
    if momentum is None:
        return 0.9 if optimizer == "momentum" else None  # mu of nnbook.engine.optim.Momentum
    momentum = positive_float(momentum, "momentum", allow_zero=True)
    if optimizer in ("adam", "adamw"):
        raise ValueError(
            f"momentum is used by 'sgd', 'momentum' and 'rmsprop' only; {optimizer!r} has its "
            f"own (betas), got momentum={momentum}"
        )
    return momentum


def _check_settings(model: nn.Module, **options: Any) -> FitSettings:
    """The options of :func:`fit` (:class:`FitSettings`), each checked, ``device`` resolved."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected model to be a torch.nn.Module, got {type(model).__name__}")
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("expected a model with trainable parameters, got none")
    known = [f.name for f in fields(FitSettings)]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise TypeError(f"expected options of fit among {known}, got {unknown}")
    s = FitSettings(**options)
    stopper = s.early_stopping
    if stopper is not None and not isinstance(stopper, EarlyStopping):
        raise TypeError(f"expected early_stopping=EarlyStopping(...), got {type(stopper).__name__}")
    return replace(
        s,
        loss=one_of(s.loss, "loss", LOSSES),
        epochs=positive_int(s.epochs, "epochs"),
        batch_size=positive_int(s.batch_size, "batch_size"),
        lr=positive_float(s.lr, "lr"),
        optimizer=one_of(s.optimizer, "optimizer", list(TORCH_OPTIMIZERS)),
        momentum=_check_momentum(s.momentum, s.optimizer),
        weight_decay=positive_float(s.weight_decay, "weight_decay", allow_zero=True),
        l2=positive_float(s.l2, "l2", allow_zero=True),
        penalize=one_of(s.penalize, "penalize", PENALIZE),
        augment=_check_callable(s.augment, "augment"),
        lr_schedule=_check_callable(s.lr_schedule, "lr_schedule"),
        eval_train=bool(s.eval_train),
        seed=_check_seed(s.seed),
        device=choose_device(s.device, _model_dtype(model)),
        progress=bool(s.progress),
    )


def _check_data(
    model: nn.Module, X_train: Any, y_train: Any, X_val: Any, y_val: Any, s: FitSettings
) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
    """Training and validation tensors (CPU, the model's dtype), checked against the model."""
    X = _check_X(X_train, "X_train", model)
    K = _output_size(model, X, "X_train")
    y = _check_y(y_train, "y_train", X.shape[0], s.loss, K, _model_dtype(model))
    if (X_val is None) != (y_val is None):
        raise ValueError("expected both X_val and y_val, or neither")
    if X_val is None:
        if s.early_stopping is not None:
            raise ValueError("early stopping needs a validation set: pass X_val and y_val")
        return X, y, None
    Xv = _check_X(X_val, "X_val", model)
    if Xv.shape[1:] != X.shape[1:]:
        want = ", ".join(map(str, X.shape[1:]))
        raise ValueError(f"expected X_val of shape (n, {want}), got {tuple(Xv.shape)}")
    yv = _check_y(y_val, "y_val", Xv.shape[0], s.loss, K, _model_dtype(model))
    return X, y, (Xv, yv)


# --------------------------------------------------------------------------- the pieces of fit


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


def _squared_norm(model: nn.Module, penalize: str) -> torch.Tensor:
    """||theta||^2 = sum_i theta_i^2 over the penalised parameters (differentiable)."""
    return sum((p * p).sum() for p in _penalized_params(model, penalize)[0])


def _make_optimizer(model: nn.Module, s: FitSettings) -> torch.optim.Optimizer:
    """The optimiser ``s.optimizer`` of :data:`~nnbook.pytorch.convert.TORCH_OPTIMIZERS`,
    with weight decay on the penalised parameters only."""
    penalized, free = _penalized_params(model, s.penalize)
    groups = [{"params": penalized, "weight_decay": s.weight_decay}]
    if free:
        groups.append({"params": free, "weight_decay": 0.0})
    extra = {} if s.momentum is None else {"momentum": s.momentum}
    return TORCH_OPTIMIZERS[s.optimizer](groups, lr=s.lr, **extra)


def _sub_seeds(seed: int, n: int) -> list[int]:
    """Independent 63-bit seeds for the separate random streams of one fit."""
    states = np.random.SeedSequence(seed).generate_state(n, dtype=np.uint64)
    return [int(s) for s in states >> np.uint64(1)]


def _seeded_augment(augment: Callable | None, generator: torch.Generator) -> Callable | None:
    """``augment`` with fit's own generator (when it takes one), checked to keep the shape."""
    if augment is None:
        return None
    pass_generator = _accepts_generator(augment)

    def perturbed(xb: torch.Tensor) -> torch.Tensor:
        out = augment(xb, generator=generator) if pass_generator else augment(xb)
        if not isinstance(out, torch.Tensor) or out.shape != xb.shape:
            got = tuple(out.shape) if hasattr(out, "shape") else type(out).__name__
            raise ValueError(
                f"expected augment to return a tensor of shape {tuple(xb.shape)}, got {got}"
            )
        return out

    return perturbed


@contextmanager
def _seeded_rng(device: torch.device, seed: int) -> Iterator[None]:
    """torch's global generators (CPU, and the GPU's) seeded for the body, restored after."""
    if device.type == "cpu":
        fork = torch.random.fork_rng(devices=[])
    else:
        fork = torch.random.fork_rng(devices=[device.index or 0], device_type=device.type)
    with fork:
        torch.manual_seed(seed)  # dropout masks and any torch randomness in `augment`
        yield


def _set_lr(opt: torch.optim.Optimizer, s: FitSettings, epoch: int) -> float:
    """eta * lr_schedule(epoch) for this epoch, set in the optimiser."""
    factor = 1.0 if s.lr_schedule is None else float(s.lr_schedule(epoch))
    if not (factor > 0 and math.isfinite(factor)):
        raise ValueError(f"expected lr_schedule({epoch}) > 0, got {factor}")
    for group in opt.param_groups:
        group["lr"] = s.lr * factor
    return s.lr * factor


def train_epoch(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    X: torch.Tensor,
    y: torch.Tensor,
    s: FitSettings,
    shuffle: torch.Generator,
    augment: Callable | None = None,
) -> tuple[float, float]:
    """One epoch of mini-batch SGD: shuffle, then one step per mini-batch of size B.

    Returns the running means of the loss and the error over the epoch's mini-batches.
    """
    model.train()  # dropout on
    n, B = len(X), s.batch_size
    order = torch.randperm(n, generator=shuffle)  # a fresh order every epoch
    total_loss, total_err = 0.0, 0.0
    for start in range(0, n, B):
        idx = order[start : start + B]  # the mini-batch {i_1, ..., i_B}
        xb, yb = X[idx], y[idx]
        if augment is not None:  # perturb the inputs, keep the labels
            xb = augment(xb)
        xb, yb = xb.to(s.device), yb.to(s.device)
        out = model(xb)
        data_loss = _loss_fn(s.loss)(out, yb)  # R-hat on the mini-batch
        objective = data_loss
        if s.l2 > 0:  # R_lambda = R + (lambda/2) ||theta||^2
            objective = data_loss + 0.5 * s.l2 * _squared_norm(model, s.penalize)
        opt.zero_grad(set_to_none=True)
        objective.backward()  # g_k, by backpropagation
        opt.step()  # theta <- theta - eta g_k (or the optimiser's rule)
        total_loss += float(data_loss.detach()) * len(idx)
        total_err += _error(out.detach(), yb, s.loss) * len(idx)
    return total_loss / n, total_err / n


def _record_epoch(
    history: History,
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor] | None,
    running: tuple[float, float],
    s: FitSettings,
) -> bool:
    """Append this epoch's losses and errors to ``history``; True when early stopping says stop."""
    if not math.isfinite(running[0]):
        raise FloatingPointError(
            f"the training loss became {running[0]} in epoch {history.epochs + 1}; try a smaller lr"
        )
    train_loss, train_error = _measure(model, *train, s.loss) if s.eval_train else running
    history.train_loss.append(train_loss)
    history.train_error.append(train_error)
    if val is None:
        return False
    val_loss, val_error = _measure(model, *val, s.loss)
    history.val_loss.append(val_loss)
    history.val_error.append(val_error)
    return s.early_stopping is not None and s.early_stopping.update(model, val_loss, val_error)


def _start(s: FitSettings) -> History:
    """An empty :class:`History` for this run; the early stopping starts afresh."""
    monitor = "loss"
    if s.early_stopping is not None:
        s.early_stopping.reset()
        monitor = s.early_stopping.monitor
    return History(loss=s.loss, monitor=monitor, seed=s.seed, device=str(s.device))


def _finish(history: History, model: nn.Module, s: FitSettings) -> None:
    """The best epoch of the validation curve, and the best weights back when early stopping."""
    curve = history.val_loss if history.monitor == "loss" else history.val_error
    if curve:
        history.best_epoch = 1 + min(range(len(curve)), key=curve.__getitem__)  # the first lowest
        history.best_value = curve[history.best_epoch - 1]
    if s.early_stopping is not None:
        history.stopped_early = history.epochs < s.epochs
        history.restored_best = s.early_stopping.restore_best(model)


# --------------------------------------------------------------------------- fit


def fit(
    model: nn.Module,
    X_train: Any,
    y_train: Any,
    *,
    X_val: Any = None,
    y_val: Any = None,
    **options: Any,
) -> History:
    """Train ``model`` in place by mini-batch SGD; return its :class:`History`.

    Each epoch (:func:`train_epoch`) shuffles the N training samples and walks through them
    in mini-batches {i_1, ..., i_B} of size B = ``batch_size`` (the last may be smaller): an
    epoch makes ceil(N / B) updates

        g_k = (1/B) sum_j grad R^(i_j)(theta_k),    theta_{k+1} = theta_k - eta g_k

    (for ``optimizer="sgd"``; the others use their own rules). After each epoch it measures
    the loss and error on the training set and on ``(X_val, y_val)``, if given.

    ``options`` are those of :class:`FitSettings`, e.g. ``fit(model, X, y, epochs=20,
    lr=1e-3, optimizer="adam", weight_decay=1e-4, early_stopping=EarlyStopping(10),
    X_val=Xv, y_val=yv)``. ``X_train`` is ``(n, d)`` (or ``(n, ...)`` for other models),
    ``y_train`` ``(n,)`` labels or targets; NumPy arrays or tensors, finite.

    The model trains on ``device`` and comes back on the device it had, in eval mode. On the
    CPU two runs with the same ``seed`` give identical histories and weights; the global
    random state is left as it was.
    """
    s = _check_settings(model, **options)
    X, y, val = _check_data(model, X_train, y_train, X_val, y_val, s)
    home, history = model_device(model), _start(s)
    shuffle_seed, augment_seed, global_seed = _sub_seeds(s.seed, 3)
    shuffle = torch.Generator().manual_seed(shuffle_seed)
    perturb = _seeded_augment(s.augment, torch.Generator().manual_seed(augment_seed))
    opt = _make_optimizer(model.to(s.device), s)
    try:
        with _seeded_rng(s.device, global_seed), _progress_bar(s.epochs, s.progress) as bar:
            for epoch in range(s.epochs):
                t0 = time.perf_counter()
                history.lr.append(_set_lr(opt, s, epoch))
                running = train_epoch(model, opt, X, y, s, shuffle, perturb)
                stop = _record_epoch(history, model, (X, y), val, running, s)
                history.epoch_seconds.append(time.perf_counter() - t0)
                _show(bar, history)
                if stop:
                    break
        _finish(history, model, s)
    finally:
        model.to(home).eval()  # back where it was, ready for prediction
    return history


__all__ = [
    "fit",
    "train_epoch",
    "History",
    "FitSettings",
    "evaluate",
    "Evaluation",
    "predict",
    "predict_proba",
    "predict_labels",
    "progress_enabled",
    "LOSSES",
]
