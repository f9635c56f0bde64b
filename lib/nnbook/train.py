"""A small, readable PyTorch training loop: mini-batch SGD with the tricks of the trade.

Introduced in Chapter 6, Tricks of the trade; used again in Chapter 7, Example: MNIST.

The pieces, in the lecture's notation:

- :func:`make_mlp` builds the MLP f(x) = beta^T f_L(x) with hidden layers
  f_{l+1} = sigma(W_l f_l + b_l) and (optionally) dropout with rate phi after each sigma.
- :func:`fit` runs stochastic (mini-batch) gradient descent: each epoch shuffles the N
  training samples with a seeded ``torch.Generator`` and takes about N / B steps
  theta <- theta - eta g_k, where g_k is the gradient on a mini-batch of size B.
  It adds weight decay (through the optimiser, or as the explicit penalty
  (lambda/2) ||theta||^2), early stopping, data augmentation and a quiet progress bar,
  and returns a :class:`History` of per-epoch train/validation loss and error.
- :func:`gaussian_noise` and :func:`random_shift` are augmentations for ``fit(augment=...)``.
- :func:`fit_restarts` and :func:`average_predictions` train from several random starts and
  average the predictions.
- :func:`evaluate`, :func:`predict`, :func:`predict_proba`, :func:`predict_labels`.

Arrays are ``(n_samples, n_features)`` (NumPy arrays or CPU tensors). Everything runs on
the CPU and is deterministic: :func:`fit` draws all its randomness (mini-batch order,
dropout masks, augmentation) from its ``seed`` and leaves the global random state as it
found it.
"""

from __future__ import annotations

import inspect
import math
import os
import sys
import time
import warnings
from collections import OrderedDict
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Literal, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import activations as _activations
from ._validate import as_array, one_of, positive_float, positive_int

LOSSES = ("cross_entropy", "mse")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
PENALIZE = ("all", "weights")
MONITORS = ("loss", "error")

#: How many samples :func:`evaluate` and :func:`predict` push through the network at once.
EVAL_BATCH = 8192


# --------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------

def _torch_activation(name: str) -> nn.Module:
    """The torch module for an activation of :mod:`nnbook.activations`, with the same formula."""
    act = _activations.get(name)
    modules: dict[str, Callable[[], nn.Module]] = {
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(_activations.LEAKY_SLOPE),
        "softplus": nn.Softplus,
        "gelu": nn.GELU,  # the exact z Phi(z), as in nnbook.activations.gelu
        "identity": nn.Identity,
    }
    if act.name not in modules:  # pragma: no cover - every nnbook activation is listed above
        raise ValueError(f"expected an activation in {sorted(modules)}, got {act.name!r}")
    return modules[act.name]()


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

    Introduced in Chapter 6, Tricks of the trade (Chapter 7 trains it on MNIST).
    """
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"expected sizes to be a list of ints [d, d_1, ..., d_L, K], got {type(sizes).__name__}")
    if len(sizes) < 2:
        raise ValueError(f"expected sizes = [d, d_1, ..., d_L, K] with at least 2 entries, got {list(sizes)}")
    sizes = [positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    n_hidden = len(sizes) - 2
    if isinstance(dropout, Sequence) and not isinstance(dropout, (str, bytes)):
        if len(dropout) != n_hidden:
            raise ValueError(f"expected one dropout rate per hidden layer ({n_hidden}), got {len(dropout)}")
        rates = list(dropout)
    else:
        rates = [dropout] * n_hidden
    rates = [positive_float(p, "dropout", allow_zero=True) for p in rates]
    for p in rates:
        if p >= 1:
            raise ValueError(f"expected dropout rate phi in [0, 1), got {p}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"expected dtype to be a floating torch.dtype, got {dtype!r}")

    layers: OrderedDict[str, nn.Module] = OrderedDict()
    with _seeded(seed):
        for l in range(n_hidden):
            layers[f"linear{l}"] = nn.Linear(sizes[l], sizes[l + 1], dtype=dtype)
            layers[f"sigma{l}"] = _torch_activation(activation)
            if rates[l] > 0:
                layers[f"dropout{l}"] = nn.Dropout(rates[l])
        layers["beta"] = nn.Linear(sizes[-2], sizes[-1], bias=output_bias, dtype=dtype)
    return nn.Sequential(layers)


@contextmanager
def _seeded(seed: int | None) -> Iterator[None]:
    """Run the body with torch's global CPU generator seeded, then restore its old state."""
    if seed is None:
        yield
        return
    seed = _check_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _check_seed(seed: Any) -> int:
    return positive_int(seed, "seed", minimum=0)


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------

def _model_dtype(model: nn.Module) -> torch.dtype:
    for p in model.parameters():
        return p.dtype
    return torch.get_default_dtype()


def _input_size(model: nn.Module) -> int | None:
    for m in model.modules():
        if isinstance(m, nn.Linear):
            return m.in_features
    return None


def _as_tensor(x: Any, name: str) -> torch.Tensor:
    """A numeric CPU tensor (no grad) from a NumPy array, tensor or nested list."""
    if isinstance(x, torch.Tensor):
        t = x.detach()
        if t.device.type != "cpu":
            raise ValueError(f"expected {name} on the CPU, got a tensor on {t.device}")
        if t.dtype == torch.bool or t.is_complex():
            raise TypeError(f"expected {name} to be a real numeric array, got dtype {t.dtype}")
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise ValueError(f"expected {name} to be finite, but it contains NaN or inf")
        return t
    arr = as_array(x, name, dtype=None)
    if np.iscomplexobj(arr):
        raise TypeError(f"expected {name} to be a real numeric array, got dtype {arr.dtype}")
    return torch.from_numpy(np.ascontiguousarray(arr))


def _check_X(x: Any, name: str, model: nn.Module) -> torch.Tensor:
    """Inputs: at least 2-D ``(n, d)`` (or ``(n, channels, height, width)``), in the model's dtype."""
    t = _as_tensor(x, name)
    d = _input_size(model)
    if t.ndim < 2:
        want = f"(n, {d})" if d is not None else "(n, d)"
        raise ValueError(f"expected {name} of shape {want}, got {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"expected {name} to hold at least one sample, got shape {tuple(t.shape)}")
    return t.to(_model_dtype(model))


def _output_size(model: nn.Module, X: torch.Tensor, name: str) -> int:
    """Run the model on one sample to check that it accepts X, and return K (its outputs)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(X[:1])
    except RuntimeError as exc:
        d = _input_size(model)
        want = f" of shape (n, {d})" if d is not None else ""
        raise ValueError(f"expected {name}{want} for this model, got {tuple(X.shape)} ({exc})") from None
    finally:
        model.train(was_training)
    if out.ndim != 2:
        raise ValueError(f"expected the model to return outputs of shape (n, K), got {tuple(out.shape)}")
    return int(out.shape[1])


def _check_y(y: Any, name: str, n: int, loss: str, K: int, dtype: torch.dtype) -> torch.Tensor:
    """Targets: integer labels 0..K-1 for cross-entropy; real numbers (n,) or (n, K) for MSE."""
    t = _as_tensor(y, name)
    if t.ndim == 0 or t.shape[0] != n:
        got = "a scalar" if t.ndim == 0 else f"{t.shape[0]}"
        raise ValueError(f"expected {name} to hold one target per sample (n = {n}), got {got}")
    if loss == "cross_entropy":
        if t.ndim != 1:
            raise ValueError(f"expected {name} of shape (n,) holding class labels, got {tuple(t.shape)}")
        if t.is_floating_point():
            raise TypeError(
                f"expected {name} to hold integer class labels 0..{K - 1}, got dtype {t.dtype} "
                "(convert with y.astype(int))"
            )
        lo, hi = int(t.min()), int(t.max())
        if lo < 0 or hi >= K:
            raise ValueError(
                f"expected {name} in {{0, ..., {K - 1}}} (the model has K = {K} outputs), "
                f"got labels from {lo} to {hi}"
            )
        return t.to(torch.long)
    # mse
    if t.ndim == 1:
        t = t.reshape(-1, 1)
    if t.ndim != 2 or t.shape[1] != K:
        raise ValueError(f"expected {name} of shape (n, {K}) (or (n,) when K = 1) for this model, got {tuple(t.shape)}")
    return t.to(dtype)


# --------------------------------------------------------------------------------------
# Loss, error, prediction
# --------------------------------------------------------------------------------------

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

    Introduced in Chapter 6, Tricks of the trade (Chapter 7 reports MNIST test errors with it).
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

    Introduced in Chapter 6, Tricks of the trade.
    """
    Xt = _check_X(X, "X", model)
    _output_size(model, Xt, "X")
    out = _forward(model, Xt).numpy()
    return out[:, 0] if out.shape[1] == 1 else out


def predict_proba(model: nn.Module, X: Any) -> np.ndarray:
    """Class probabilities f_m(X) = Pr(Y = m | X) = e^{Z_m} / sum_j e^{Z_j}, shape ``(n, K)``.

    Introduced in Chapter 7, Example: MNIST (the softmax output layer).
    """
    Xt = _check_X(X, "X", model)
    _output_size(model, Xt, "X")
    return torch.softmax(_forward(model, Xt), dim=1).numpy()


def predict_labels(model: nn.Module, X: Any) -> np.ndarray:
    """Predicted classes argmax_m f_m(X), shape ``(n,)``.

    Introduced in Chapter 7, Example: MNIST.
    """
    Xt = _check_X(X, "X", model)
    _output_size(model, Xt, "X")
    return _forward(model, Xt).argmax(dim=1).numpy()


# --------------------------------------------------------------------------------------
# Data augmentation
# --------------------------------------------------------------------------------------

class Augmentation:
    """Base class of the augmentations: ``aug(X, generator=None)`` returns a perturbed copy of X.

    The labels are kept fixed; only the inputs move, creating a "cloud" around each sample.
    ``X`` may be a NumPy array or a tensor (the result has the same type and shape). Random
    numbers come from ``generator`` when given (:func:`fit` passes its own seeded one), else
    from the augmentation's own generator, seeded with ``seed`` when it was made: two
    augmentations made with the same seed produce the same sequence of perturbations.

    Introduced in Chapter 6, Tricks of the trade.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = _check_seed(seed)
        self._generator = torch.Generator().manual_seed(self.seed)

    def __call__(self, X: Any, generator: torch.Generator | None = None) -> Any:
        is_numpy = not isinstance(X, torch.Tensor)
        t = _as_tensor(X, "X")
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
        if t.ndim < 2:
            raise ValueError(f"expected X of shape (n, d), got {tuple(t.shape)}")
        out = self._apply(t, generator if generator is not None else self._generator)
        return out.numpy() if is_numpy else out

    def _apply(self, X: torch.Tensor, generator: torch.Generator) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError


class GaussianNoise(Augmentation):
    """x -> x + epsilon, epsilon ~ N(0, sigma^2 I), drawn afresh for every sample and every call.

    For least squares this is approximately ridge regression with lambda about N sigma^2.

    Introduced in Chapter 6, Tricks of the trade.
    """

    def __init__(self, sigma: float, seed: int = 0) -> None:
        super().__init__(seed)
        self.sigma = positive_float(sigma, "sigma", allow_zero=True)

    def _apply(self, X: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        noise = torch.randn(X.shape, generator=generator, dtype=X.dtype)
        return X + self.sigma * noise

    def __repr__(self) -> str:
        return f"gaussian_noise(sigma={self.sigma}, seed={self.seed})"


class RandomShift(Augmentation):
    """Shift each image by (dy, dx) pixels, dy, dx uniform in {-s, ..., s}, filling with zeros.

    ``out[r, c] = x[r - dy, c - dx]`` where that pixel exists and 0 otherwise (no wrap-around):
    the digit moves down by dy and right by dx. Images are ``height x width`` (28 x 28 for
    MNIST), given flattened as ``(n, height * width)`` or as ``(n, height, width)`` /
    ``(n, 1, height, width)``.

    Introduced in Chapter 6, Tricks of the trade.
    """

    def __init__(self, max_shift: int = 2, image_shape: tuple[int, int] = (28, 28), seed: int = 0) -> None:
        super().__init__(seed)
        self.max_shift = positive_int(max_shift, "max_shift", minimum=0)
        if not (isinstance(image_shape, Sequence) and len(image_shape) == 2):
            raise TypeError(f"expected image_shape to be (height, width), got {image_shape!r}")
        self.image_shape = (positive_int(image_shape[0], "height"), positive_int(image_shape[1], "width"))

    def _apply(self, X: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        H, W = self.image_shape
        if math.prod(X.shape[1:]) != H * W:
            raise ValueError(
                f"expected X of shape (n, {H * W}) or (n, {H}, {W}) for {H} x {W} images, got {tuple(X.shape)}"
            )
        n, s = X.shape[0], self.max_shift
        if s == 0:
            return X.clone()
        shifts = torch.randint(-s, s + 1, (n, 2), generator=generator)
        padded = F.pad(X.reshape(n, H, W), (s, s, s, s))  # zeros around each image
        # out[i, r, c] = padded[i, r - dy_i + s, c - dx_i + s]
        rows = (s - shifts[:, :1]) + torch.arange(H)  # (n, H)
        cols = (s - shifts[:, 1:]) + torch.arange(W)  # (n, W)
        out = padded[torch.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
        return out.reshape(X.shape)

    def __repr__(self) -> str:
        return f"random_shift(max_shift={self.max_shift}, image_shape={self.image_shape}, seed={self.seed})"


class Compose(Augmentation):
    """Apply several augmentations one after the other (e.g. a shift, then noise).

    Introduced in Chapter 6, Tricks of the trade.
    """

    def __init__(self, *augmentations: Augmentation, seed: int = 0) -> None:
        super().__init__(seed)
        for a in augmentations:
            if not isinstance(a, Augmentation):
                raise TypeError(f"expected nnbook.train augmentations, got {type(a).__name__}")
        self.augmentations = augmentations

    def _apply(self, X: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        for a in self.augmentations:
            X = a._apply(X, generator)
        return X

    def __repr__(self) -> str:
        return "compose(" + ", ".join(map(repr, self.augmentations)) + ")"


def gaussian_noise(sigma: float, *, seed: int = 0) -> GaussianNoise:
    """Augmentation x -> x + epsilon with epsilon ~ N(0, sigma^2 I); use as ``fit(augment=...)``.

    Introduced in Chapter 6, Tricks of the trade.
    """
    return GaussianNoise(sigma, seed=seed)


def random_shift(max_shift: int = 2, *, image_shape: tuple[int, int] = (28, 28), seed: int = 0) -> RandomShift:
    """Augmentation shifting each image by up to ``max_shift`` pixels each way, with zero fill.

    For 28 x 28 digits flattened to 784 by default. Use as ``fit(augment=random_shift(2))``.

    Introduced in Chapter 6, Tricks of the trade.
    """
    return RandomShift(max_shift, image_shape=image_shape, seed=seed)


def compose(*augmentations: Augmentation, seed: int = 0) -> Compose:
    """Chain augmentations: ``compose(random_shift(2), gaussian_noise(0.1))``.

    Introduced in Chapter 6, Tricks of the trade.
    """
    return Compose(*augmentations, seed=seed)


def _accepts_generator(fn: Callable) -> bool:
    if isinstance(fn, Augmentation):
        return True
    try:
        inspect.signature(fn).bind(None, generator=None)
    except (TypeError, ValueError):
        return False
    return True


# --------------------------------------------------------------------------------------
# Progress bar
# --------------------------------------------------------------------------------------

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

    Introduced in Chapter 6, Tricks of the trade.
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


# --------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------

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

    Introduced in Chapter 6, Tricks of the trade.
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


def _penalized_params(model: nn.Module, penalize: str) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
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
        raise ValueError(f"momentum is used by 'sgd' and 'rmsprop' only; {name!r} has its own (betas), got momentum={momentum}")
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr)
    return torch.optim.AdamW(groups, lr=lr)


def _sub_seeds(seed: int, n: int) -> list[int]:
    """Independent 63-bit seeds for the separate random streams of one fit."""
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n, dtype=np.uint64) >> np.uint64(1)]


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
    Introduced in Chapter 6, Tricks of the trade.
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
                raise ValueError(f"expected augment to return a tensor of shape {tuple(X[idx].shape)}, got {got}")
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

    Introduced in Chapter 6, Tricks of the trade (Chapter 7 trains MNIST with it).
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
        raise TypeError(f"expected lr_schedule to be a callable or None, got {type(lr_schedule).__name__}")
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
            raise ValueError(f"expected X_val of shape (n, {', '.join(map(str, X.shape[1:]))}), got {tuple(Xv.shape)}")
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
                    model, X, y, opt, loss_fn, loss, batch_size, shuffle_gen,
                    augment, augment_gen if pass_generator else None, l2, penalized,
                )
                if not math.isfinite(run_loss):
                    raise FloatingPointError(f"the training loss became {run_loss} in epoch {epoch + 1}; try a smaller lr")

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
                            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
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


# --------------------------------------------------------------------------------------
# Random restarts
# --------------------------------------------------------------------------------------

@dataclass
class Restarts:
    """The models and histories of :func:`fit_restarts`; ``predict`` averages the models.

    Introduced in Chapter 6, Tricks of the trade.
    """

    models: list[nn.Module]
    histories: list[History]
    seeds: list[int]

    def predict(self, X: Any, *, proba: bool = False) -> np.ndarray:
        """The averaged prediction (1/R) sum_r f^(r)(X); see :func:`average_predictions`."""
        return average_predictions(self.models, X, proba=proba)

    def __len__(self) -> int:
        return len(self.models)


def fit_restarts(
    make_model: Callable[[], nn.Module],
    n_restarts: int,
    X_train: Any,
    y_train: Any,
    *,
    seed: int = 0,
    **fit_kwargs: Any,
) -> Restarts:
    """Train ``n_restarts`` networks from different random starts, for averaging.

    Restart r = 0, ..., R-1 uses seed s_r = ``seed + r``: ``make_model()`` is called with
    torch's global generator seeded with s_r (so :func:`make_mlp` without a ``seed`` gives
    a fresh initialisation theta^(0) each time), and :func:`fit` runs with ``seed=s_r`` (a
    fresh mini-batch order). The remaining keyword arguments go to :func:`fit`. Average the
    networks with :func:`average_predictions` or ``Restarts.predict``: because the ERM is
    non-convex, each restart lands somewhere else, and the average has lower variance.

    Introduced in Chapter 6, Tricks of the trade.
    """
    if not callable(make_model):
        raise TypeError(f"expected make_model to be a callable returning a torch.nn.Module, got {type(make_model).__name__}")
    n_restarts = positive_int(n_restarts, "n_restarts")
    seed = _check_seed(seed)
    if "seed" in fit_kwargs:  # pragma: no cover - caught by Python as a duplicate keyword
        raise TypeError("pass seed once")
    models, histories, seeds = [], [], []
    for r in range(n_restarts):
        s = seed + r
        with _seeded(s):
            model = make_model()
        if not isinstance(model, nn.Module):
            raise TypeError(f"expected make_model() to return a torch.nn.Module, got {type(model).__name__}")
        init = [v.detach().clone() for v in model.state_dict().values()]
        if r == 0:
            first_init = init
        elif len(init) == len(first_init) and all(torch.equal(a, b) for a, b in zip(first_init, init)):
            warnings.warn(
                "make_model() returned the same initial weights for two restarts (does it fix a seed?); "
                "the restarts then differ only in their mini-batch order",
                stacklevel=2,
            )
        histories.append(fit(model, X_train, y_train, seed=s, **fit_kwargs))
        models.append(model)
        seeds.append(s)
    return Restarts(models, histories, seeds)


def average_predictions(models: Sequence[nn.Module], X: Any, *, proba: bool = False) -> np.ndarray:
    """Average the predictions of several networks: (1/R) sum_r f^(r)(X).

    With ``proba=False`` the raw outputs (:func:`predict`, e.g. regression values); with
    ``proba=True`` the class probabilities (:func:`predict_proba`), whose argmax is the
    averaged classifier's label.

    Introduced in Chapter 6, Tricks of the trade.
    """
    if isinstance(models, nn.Module) or not isinstance(models, Sequence) or len(models) == 0:
        raise TypeError("expected a non-empty list of torch.nn.Module")
    for m in models:
        if not isinstance(m, nn.Module):
            raise TypeError(f"expected a list of torch.nn.Module, got an element of type {type(m).__name__}")
    fn = predict_proba if proba else predict
    return np.mean([fn(m, X) for m in models], axis=0)


__all__ = [
    "make_mlp",
    "fit",
    "History",
    "evaluate",
    "Evaluation",
    "predict",
    "predict_proba",
    "predict_labels",
    "Augmentation",
    "GaussianNoise",
    "RandomShift",
    "Compose",
    "gaussian_noise",
    "random_shift",
    "compose",
    "progress_enabled",
    "fit_restarts",
    "Restarts",
    "average_predictions",
    "LOSSES",
    "OPTIMIZERS",
]
