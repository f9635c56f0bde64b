"""The lecture's MNIST table, rerun: each method tuned on a validation split, then tested.

The lecture (after ISL Table 10.1) compares four ways of learning f: R^784 -> R^10 on
MNIST, by their test error:

=============================================  ==========
Method                                         Test error
=============================================  ==========
Neural Network + Ridge Regularization          2.3%
Neural Network + Dropout Regularization        1.8%
Multinomial Logistic Regression                7.2%
Linear Discriminant Analysis                   12.7%
=============================================  ==========

:func:`run_table` reruns it on a :class:`~nnbook.data.Dataset` (the full MNIST, or the
5,000-digit fallback subset) with one protocol for every method: a validation split is
carved from the training data (:func:`validation_split`); each method is fitted on the
rest, once per candidate value of its tuning parameter, and the candidate with the lowest
validation cross-entropy is kept (:func:`tune`); the test set is used once, at the end.

- ``"nn_ridge"``, ``"nn_dropout"``: the lecture's 784-256-128-10 ReLU network
  (:func:`fit_nn`), Adam with mini-batches of B = 128 and early stopping on the validation
  loss, with the ridge penalty (lambda/2) sum_l ||W_l||^2 added to the loss (lambda tuned)
  or dropout rates phi (tuned);
- ``"logistic"``: multinomial logistic regression with a small ridge penalty (lambda tuned),
  fitted to its optimum by L-BFGS (:func:`fit_logistic`, scikit-learn);
- ``"lda"``: linear discriminant analysis (:func:`fit_lda`, scikit-learn), nothing to tune;
- two rows the lecture does not have (:data:`EXTRA_MODELS`): ``"nn_adamw"``, the network
  with decoupled weight decay theta <- (1 - eta lambda) theta - eta (Adam's step) (AdamW,
  lambda tuned), and ``"nn_early_stopping"``, the network with early stopping only.

Arrays are ``(n_samples, 784)``: pixel values 0..255 (integers) or already scaled to [0, 1]
(floats); :func:`scale_pixels` maps both to float32 in [0, 1].
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import nn

from .._util import as_array, positive_float, positive_int
from ..data import stratified_split
from ..pytorch import train as _train
from ..pytorch.device import choose_device
from ..pytorch.early_stopping import EarlyStopping
from ..pytorch.inputs import _check_seed
from ..pytorch.models import make_mlp

__all__ = [
    "MNIST_SIZES",
    "MODELS",
    "EXTRA_MODELS",
    "METHODS",
    "LECTURE_TEST_ERRORS",
    "LECTURE_DATA",
    "GRIDS",
    "scale_pixels",
    "validation_split",
    "fit_nn",
    "fit_logistic",
    "fit_lda",
    "predict_proba",
    "predict_labels",
    "confusion_matrix",
    "Candidate",
    "tune",
    "ModelResult",
    "MNISTTable",
    "run_table",
]

#: The lecture's network: d = 784 inputs, hidden layers of 256 and 128 units, K = 10 outputs.
MNIST_SIZES: tuple[int, ...] = (784, 256, 128, 10)

#: The four models of the lecture's table, in its order.
MODELS: tuple[str, ...] = ("nn_ridge", "nn_dropout", "logistic", "lda")

#: Two rows the lecture does not have: decoupled weight decay (AdamW), early stopping only.
EXTRA_MODELS: tuple[str, ...] = ("nn_adamw", "nn_early_stopping")

#: The row names of the table.
METHODS: dict[str, str] = {
    "nn_ridge": "Neural Network + Ridge Regularization",
    "nn_dropout": "Neural Network + Dropout Regularization",
    "logistic": "Multinomial Logistic Regression",
    "lda": "Linear Discriminant Analysis",
    "nn_adamw": "Neural Network + Weight Decay (AdamW)",
    "nn_early_stopping": "Neural Network, early stopping only",
}

#: The test errors the lecture quotes (ISL Table 10.1), as fractions.
LECTURE_TEST_ERRORS: dict[str, float] = {
    "nn_ridge": 0.023,
    "nn_dropout": 0.018,
    "logistic": 0.072,
    "lda": 0.127,
}

#: The data behind the lecture's numbers.
LECTURE_DATA = "MNIST: 60,000 train / 10,000 test"

#: The candidate values tuned on the validation split, per model: one setting per value.
GRIDS: dict[str, list[dict[str, Any]]] = {
    "nn_ridge": [{"l2": lam} for lam in (3e-4, 3e-3, 3e-2)],
    "nn_dropout": [{"dropout": phi} for phi in ((0.2, 0.2), (0.4, 0.3), (0.6, 0.6))],
    "logistic": [{"lam": lam} for lam in (1e-4, 1e-3, 1e-2)],
    "lda": [{}],
    "nn_adamw": [{"weight_decay": lam} for lam in (0.1, 1.0, 10.0)],
    "nn_early_stopping": [{}],
}

_D = MNIST_SIZES[0]
_K = MNIST_SIZES[-1]


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------


def scale_pixels(X: Any, name: str = "X") -> np.ndarray:
    """Images ``(n, 784)`` as float32 in [0, 1]: pixel values 0..255 are divided by 255.

    Integer arrays are taken as raw grey values 0..255 (MNIST's ``uint8``); float arrays
    must already lie in [0, 1] (``load_mnist(dtype=np.float32)`` returns them so).
    """
    arr = as_array(X, name, dtype=None)
    if arr.ndim == 3 and arr.shape[1:] == (28, 28):
        raise ValueError(
            f"expected {name} of shape (n, {_D}), got {arr.shape} "
            "(load the images with flatten=True)"
        )
    arr = as_array(arr, name, shape=(None, _D), dtype=None)
    if arr.shape[0] == 0:
        raise ValueError(f"expected {name} to hold at least one image, got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.integer):
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > 255:
            raise ValueError(
                f"expected {name} to hold pixel values 0..255, got values in {lo}..{hi}"
            )
        return arr.astype(np.float32) / np.float32(255)
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(
            f"expected {name} to hold integer pixels 0..255 or floats in [0, 1], "
            f"got dtype {arr.dtype}"
        )
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0 or hi > 1:
        raise ValueError(
            f"expected a float {name} scaled to [0, 1], got values in [{lo:g}, {hi:g}] "
            "(divide raw pixels by 255)"
        )
    return np.ascontiguousarray(arr, dtype=np.float32)


def _labels(y: Any, name: str, n: int) -> np.ndarray:
    arr = as_array(y, name, ndim=1, dtype=None)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"expected {name} to hold integer digit labels 0..9, got dtype {arr.dtype}")
    if len(arr) != n:
        raise ValueError(f"expected {name} of shape ({n},) (one label per image), got {arr.shape}")
    if arr.min() < 0 or arr.max() > _K - 1:
        raise ValueError(
            f"expected {name} in 0..{_K - 1}, got labels from {arr.min()} to {arr.max()}"
        )
    return arr.astype(np.int64)


def _images_labels(X: Any, y: Any, x_name: str, y_name: str) -> tuple[np.ndarray, np.ndarray]:
    X = scale_pixels(X, x_name)
    return X, _labels(y, y_name, len(X))


def validation_split(
    X: Any, y: Any, fraction: float = 0.2, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Carve a validation set from the training data: ``(X_fit, y_fit, X_val, y_val)``.

    A seeded, stratified split (:func:`nnbook.data.stratified_split`): round(fraction * n)
    images, in the class proportions of ``y``, go to the validation set; the rest are
    for fitting. ``X`` is ``(n, 784)``, ``y`` ``(n,)``; pixels come back scaled to [0, 1].
    """
    X, y = _images_labels(X, y, "X", "y")
    fraction = positive_float(fraction, "fraction")
    n_val = int(round(fraction * len(y)))
    if not 1 <= n_val < len(y):
        raise ValueError(f"expected 0 < fraction * n < n, got {fraction} of {len(y)} images")
    fit_idx, val_idx = stratified_split(y, n_val, seed=seed)
    return X[fit_idx], y[fit_idx], X[val_idx], y[val_idx]


# --------------------------------------------------------------------------------------
# The models
# --------------------------------------------------------------------------------------


def fit_nn(
    X_train: Any,
    y_train: Any,
    X_val: Any,
    y_val: Any,
    *,
    l2: float = 0.0,
    dropout: float | Sequence[float] = 0.0,
    weight_decay: float = 0.0,
    sizes: Sequence[int] = MNIST_SIZES,
    epochs: int = 50,
    patience: int = 5,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> tuple[nn.Sequential, _train.History]:
    """Train the lecture's MNIST network (784-256-128-10, ReLU) with early stopping.

    Adam (eta = ``lr``, mini-batches of B = ``batch_size``) minimises the cross-entropy
    -(1/N) sum_i log f_{y_i}(x_i), plus the ridge penalty (lambda/2) sum_l ||W_l||^2 on the
    weights (not the intercepts) when ``l2 = lambda > 0``, with dropout rates phi after the
    hidden layers when ``dropout = phi > 0``. ``weight_decay = lambda > 0`` uses AdamW
    instead: theta <- (1 - eta lambda) theta - eta (Adam's step), decoupled from the loss.
    Training stops once the validation loss has not decreased for ``patience`` epochs (at
    most ``epochs``), and the weights of the best epoch come back. Returns (model, history).
    """
    X, y = _images_labels(X_train, y_train, "X_train", "y_train")
    Xv, yv = _images_labels(X_val, y_val, "X_val", "y_val")
    if isinstance(sizes, (str, bytes)) or len(sizes) < 2 or sizes[0] != _D or sizes[-1] != _K:
        raise ValueError(f"expected sizes = [784, d_1, ..., d_L, 10], got {sizes!r}")
    model = make_mlp(list(sizes), activation="relu", dropout=dropout, seed=seed)
    history = _train.fit(
        model,
        X,
        y,
        X_val=Xv,
        y_val=yv,
        optimizer="adamw" if weight_decay > 0 else "adam",
        l2=l2,
        weight_decay=weight_decay,
        penalize="weights",
        early_stopping=EarlyStopping(patience),
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        eval_train=False,
        seed=seed,
    )
    return model, history


def fit_logistic(
    X_train: Any, y_train: Any, *, lam: float = 1e-3, tol: float = 1e-4, max_iter: int = 1000
):
    """Multinomial logistic regression, fitted to its optimum by L-BFGS (scikit-learn).

    Z_m = beta_m0 + sum_{j=1}^{784} beta_mj X_j, f_m(X) = e^{Z_m} / sum_i e^{Z_i}, and beta
    minimises the mean cross-entropy plus a ridge penalty on the slopes (not the intercepts),

        -(1/N) sum_i log f_{y_i}(x_i) + (lambda/2) sum_m sum_j beta_mj^2,

    which is scikit-learn's ``LogisticRegression`` with C = 1 / (N lambda) (its objective
    is that one times C N). L-BFGS runs until the largest gradient component is below
    ``tol``; ``n_iter_`` tells how many steps it took (fewer than ``max_iter``: converged).
    Needs scikit-learn.
    """
    from sklearn.linear_model import LogisticRegression

    X, y = _images_labels(X_train, y_train, "X_train", "y_train")
    lam = positive_float(lam, "lam")
    C = 1.0 / (len(y) * lam)
    return LogisticRegression(C=C, tol=tol, max_iter=max_iter).fit(X, y)


def fit_lda(X_train: Any, y_train: Any, *, shrinkage: float | str | None = None):
    """Linear discriminant analysis: Gaussian classes with a shared covariance Sigma.

    Classifies x to argmax_m delta_m(x), delta_m(x) = x^T Sigma^-1 mu_m - mu_m^T Sigma^-1 mu_m / 2
    + log pi_m, with the class means mu_m, the pooled covariance Sigma and the class
    proportions pi_m estimated from the training data. scikit-learn's
    ``LinearDiscriminantAnalysis(solver="lsqr")`` (a least-squares solve, which copes with
    the constant border pixels that make Sigma singular); ``shrinkage`` (a number in [0, 1]
    or ``"auto"``, Ledoit-Wolf) shrinks Sigma towards a multiple of the identity. The
    default ``None`` is plain LDA, as in the lecture. Needs scikit-learn.
    """
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    X, y = _images_labels(X_train, y_train, "X_train", "y_train")
    if len(np.unique(y)) < 2:
        raise ValueError("expected y_train to hold at least two classes for LDA")
    if shrinkage is not None and shrinkage != "auto":
        shrinkage = positive_float(shrinkage, "shrinkage", allow_zero=True)
        if shrinkage > 1:
            raise ValueError(f"expected shrinkage in [0, 1], 'auto' or None, got {shrinkage}")
    return LinearDiscriminantAnalysis(solver="lsqr", shrinkage=shrinkage).fit(X, y)


def predict_proba(model: Any, X: Any) -> np.ndarray:
    """Class probabilities f_m(X), shape ``(n, 10)``, of a torch network or scikit-learn model.

    ``X`` is ``(n, 784)``, pixels 0..255 or floats in [0, 1] (scaled as in training).
    """
    Xs = scale_pixels(X)
    if isinstance(model, nn.Module):
        return _train.predict_proba(model, Xs).astype(np.float64)
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(Xs), dtype=np.float64)
    raise TypeError(
        "expected a torch.nn.Module or a fitted scikit-learn classifier, "
        f"got {type(model).__name__}"
    )


def predict_labels(model: Any, X: Any) -> np.ndarray:
    """Predicted digits argmax_m f_m(X), shape ``(n,)``, of a torch or scikit-learn model."""
    if isinstance(model, nn.Module):
        return _train.predict_labels(model, scale_pixels(X)).astype(np.int64)
    return predict_proba(model, X).argmax(axis=1).astype(np.int64)


def confusion_matrix(y_true: Any, y_pred: Any, K: int = _K) -> np.ndarray:
    """The K x K confusion matrix of counts: C[k, m] = #{i : y_i = k and yhat_i = m}.

    Rows are the true classes, columns the predicted ones; the diagonal holds the correct
    predictions and sum_{k != m} C[k, m] / n is the error rate.
    """
    K = positive_int(K, "K")
    t = as_array(y_true, "y_true", ndim=1, dtype=None)
    p = as_array(y_pred, "y_pred", ndim=1, dtype=None)
    if len(t) != len(p):
        raise ValueError(f"expected y_pred of shape ({len(t)},) like y_true, got {p.shape}")
    for name, a in (("y_true", t), ("y_pred", p)):
        if not np.issubdtype(a.dtype, np.integer):
            raise TypeError(
                f"expected {name} to hold integer labels 0..{K - 1}, got dtype {a.dtype}"
            )
        if a.size and (a.min() < 0 or a.max() >= K):
            raise ValueError(
                f"expected {name} in 0..{K - 1}, got labels from {a.min()} to {a.max()}"
            )
    return np.bincount(t.astype(np.int64) * K + p.astype(np.int64), minlength=K * K).reshape(K, K)


# --------------------------------------------------------------------------------------
# Tuning on the validation split
# --------------------------------------------------------------------------------------


def _cross_entropy_and_error(proba: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """-(1/n) sum_i log f_{y_i}(x_i) and the fraction misclassified."""
    picked = np.clip(proba[np.arange(len(y)), y], 1e-300, None)
    return float(-np.mean(np.log(picked))), float(np.mean(proba.argmax(axis=1) != y))


@dataclass
class Candidate:
    """One fitted candidate of :func:`tune`: its setting, its validation loss and error.

    ``history`` is the network's :class:`~nnbook.pytorch.train.History` (None for
    scikit-learn models); ``seconds`` the wall-clock time of the fit.
    """

    setting: dict[str, Any]
    model: Any = field(repr=False)
    val_loss: float
    val_error: float
    history: Any = field(default=None, repr=False)
    seconds: float = 0.0


def tune(
    fit_one: Callable[..., Any], settings: Sequence[Mapping[str, Any]], X_val: Any, y_val: Any
) -> list[Candidate]:
    """Fit one model per setting and measure it on the validation set; best first.

    ``fit_one(**setting)`` returns a fitted model, or ``(model, history)`` for a network.
    Each candidate's validation cross-entropy -(1/n) sum_i log f_{y_i}(x_i) and error are
    measured; the list comes back sorted by the cross-entropy, so ``[0]`` is the choice.
    """
    X_val, y_val = _images_labels(X_val, y_val, "X_val", "y_val")
    candidates = []
    for setting in settings:
        t0 = time.perf_counter()
        fitted = fit_one(**setting)
        model, history = fitted if isinstance(fitted, tuple) else (fitted, None)
        loss, error = _cross_entropy_and_error(predict_proba(model, X_val), y_val)
        seconds = time.perf_counter() - t0
        candidates.append(Candidate(dict(setting), model, loss, error, history, seconds))
    return sorted(candidates, key=lambda c: c.val_loss)


# --------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------


def _describe(setting: Mapping[str, Any]) -> str:
    """A setting in the lecture's symbols: ``lambda = 0.001``, ``phi = (0.4, 0.3)``, ``-``."""
    names = {"l2": "lambda", "lam": "lambda", "weight_decay": "lambda", "dropout": "phi"}
    parts = [
        f"{names.get(k, k)} = {v:g}" if isinstance(v, float) else f"{names.get(k, k)} = {v}"
        for k, v in setting.items()
    ]
    return ", ".join(parts) or "-"


@dataclass
class ModelResult:
    """One row of the table: the chosen candidate, its errors, and every candidate tried.

    ``test_error``, ``val_error`` and ``train_error`` are fractions misclassified,
    (1/n) #{i : argmax_m f_m(x_i) != y_i}; ``setting`` is the value chosen on the
    validation set and ``candidates`` all of them, best first (:func:`tune`); ``epochs``
    is the best epoch of a network (None otherwise); ``seconds`` the wall-clock time of all
    its fits and predictions; ``lecture_error`` the lecture's number (None for extra rows).
    """

    key: str
    method: str
    setting: dict[str, Any]
    test_error: float
    val_error: float
    train_error: float
    epochs: int | None
    seconds: float
    y_pred: np.ndarray = field(repr=False)
    model: Any = field(repr=False)
    candidates: list[Candidate] = field(repr=False)
    grid: list[dict[str, Any]] = field(repr=False)
    lecture_error: float | None = None

    @property
    def history(self) -> Any:
        """The training history of the chosen network (None for scikit-learn models)."""
        return self.candidates[0].history

    @property
    def at_grid_edge(self) -> bool:
        """True when the chosen value is the first or last of its grid (a grid of two or more):
        the best value may lie outside it, and the grid should be extended."""
        return len(self.grid) > 1 and self.setting in (self.grid[0], self.grid[-1])


@dataclass
class MNISTTable:
    """The lecture's MNIST table, rerun, with our errors beside the lecture's.

    ``rows`` are :class:`ModelResult` (the lecture's four first, in its order, then the
    extra rows); ``source``, ``n_train``, ``n_val`` and ``n_test`` say which data produced
    our numbers (``n_train`` images fitted, ``n_val`` for tuning and early stopping);
    ``settings`` records the training budget. ``table["nn_dropout"]`` looks a row up.
    """

    rows: list[ModelResult]
    source: str
    n_train: int
    n_val: int
    n_test: int
    settings: dict[str, Any]

    def __getitem__(self, key: str) -> ModelResult:
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(f"expected one of {[r.key for r in self.rows]}, got {key!r}")

    def __iter__(self) -> Iterator[ModelResult]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def data(self) -> str:
        """Our data in words: ``"<source>: <n> train / <n> validation / <n> test"``."""
        return (
            f"{self.source}: {self.n_train:,} train / {self.n_val:,} validation / "
            f"{self.n_test:,} test"
        )

    def to_frame(self):
        """The table as a pandas DataFrame indexed by method (errors in percent)."""
        import pandas as pd

        def pct(x):
            return None if x is None else 100 * x

        frame = pd.DataFrame(
            {
                "Method": [r.method for r in self.rows],
                "Chosen on validation": [_describe(r.setting) for r in self.rows],
                "Best epoch": [r.epochs for r in self.rows],
                "Lecture test error (%)": [pct(r.lecture_error) for r in self.rows],
                "Our test error (%)": [pct(r.test_error) for r in self.rows],
                "Our validation error (%)": [pct(r.val_error) for r in self.rows],
                "Our training error (%)": [pct(r.train_error) for r in self.rows],
            }
        )
        frame["Best epoch"] = frame["Best epoch"].astype("Int64")
        return frame.set_index("Method")

    def tuning_frame(self):
        """Every candidate tried: model, setting, validation loss and error (%), best epoch."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "Method": r.method,
                    "Candidate": _describe(c.setting),
                    "Validation loss": c.val_loss,
                    "Validation error (%)": 100 * c.val_error,
                    "Best epoch": None if c.history is None else c.history.best_epoch,
                    "Chosen": c is r.candidates[0],
                }
                for r in self.rows
                if len(r.candidates) > 1
                for c in sorted(r.candidates, key=lambda c: r.grid.index(c.setting))
            ]
        ).astype({"Best epoch": "Int64"})


def _check_dataset(dataset: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test) of a Dataset, pixels scaled to [0, 1], labels checked."""
    for attr in ("X_train", "y_train", "X_test", "y_test"):
        if not hasattr(dataset, attr):
            raise TypeError(
                "expected a Dataset with X_train, y_train, X_test, y_test, "
                f"got {type(dataset).__name__}"
            )
    X_train, y_train = _images_labels(dataset.X_train, dataset.y_train, "X_train", "y_train")
    X_test, y_test = _images_labels(dataset.X_test, dataset.y_test, "X_test", "y_test")
    return X_train, y_train, X_test, y_test


def _check_models(models: Any) -> list[str]:
    """The requested keys, the lecture's four first (in its order), then the extra rows."""
    known = MODELS + EXTRA_MODELS
    if isinstance(models, str) or not isinstance(models, Sequence) or len(models) == 0:
        raise TypeError(
            f"expected models to be a non-empty list of keys from {list(known)}, got {models!r}"
        )
    unknown = [m for m in models if m not in known]
    if unknown:
        raise ValueError(f"expected models from {list(known)}, got unknown {unknown}")
    return [key for key in known if key in models]


def _check_grids(grids: Any, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """:data:`GRIDS`, with the lists in ``grids`` (a dict key -> list of dicts) replacing them."""
    out = {k: list(v) for k, v in GRIDS.items()}
    for key, settings in dict(grids or {}).items():
        if key not in out:
            raise ValueError(f"expected grids for models among {list(out)}, got {key!r}")
        if isinstance(settings, Mapping) or not isinstance(settings, Sequence) or not settings:
            raise TypeError(f"expected grids[{key!r}] to be a non-empty list of dicts")
        out[key] = [dict(s) for s in settings]
    return {k: out[k] for k in keys}


def _row(
    key: str, grid: list[dict], candidates: list[Candidate], splits: tuple[np.ndarray, ...]
) -> ModelResult:
    """The table's row for ``key`` from its tuned candidates (best first)."""
    X_fit, y_fit, X_val, y_val, X_test, y_test = splits
    best = candidates[0]
    y_pred = predict_labels(best.model, X_test)
    history = best.history
    return ModelResult(
        key=key,
        method=METHODS[key],
        setting=best.setting,
        test_error=float(np.mean(y_pred != y_test)),
        val_error=best.val_error,
        train_error=float(np.mean(predict_labels(best.model, X_fit) != y_fit)),
        epochs=None if history is None else history.best_epoch,
        seconds=sum(c.seconds for c in candidates),
        y_pred=y_pred,
        model=best.model,
        candidates=candidates,
        grid=grid,
        lecture_error=LECTURE_TEST_ERRORS.get(key),
    )


def run_table(
    dataset: Any,
    *,
    models: Sequence[str] = MODELS + EXTRA_MODELS,
    grids: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    val_fraction: float = 0.2,
    epochs: int = 50,
    patience: int = 5,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> MNISTTable:
    """Rerun the lecture's MNIST table on ``dataset``: tune on validation data, test once.

    ``dataset`` is a :class:`~nnbook.data.Dataset` (``load_mnist()``) with ``X_train`` of
    shape ``(n, 784)`` (pixels 0..255, or floats in [0, 1]) and labels 0..9. A stratified
    fraction ``val_fraction`` of the training images becomes the validation set
    (:func:`validation_split`); every model is fitted on the rest once per candidate in
    ``grids`` (default :data:`GRIDS`) and the one with the lowest validation cross-entropy
    is kept (:func:`tune`). Networks train with Adam (eta = ``lr``, B = ``batch_size``) for
    at most ``epochs`` epochs, stopped ``patience`` epochs after the best validation loss
    (:func:`fit_nn`); logistic regression is fitted to its optimum (:func:`fit_logistic`).
    Seeded by ``seed``: on the CPU two runs give the same errors.
    """
    X_train, y_train, X_test, y_test = _check_dataset(dataset)
    keys = _check_models(models)
    settings = dict(
        val_fraction=positive_float(val_fraction, "val_fraction"),
        epochs=positive_int(epochs, "epochs"),
        patience=positive_int(patience, "patience"),
        batch_size=positive_int(batch_size, "batch_size"),
        lr=positive_float(lr, "lr"),
        optimizer="adam",
        seed=_check_seed(seed),
        device=str(choose_device()),
    )
    grids = _check_grids(grids, keys)
    X_fit, y_fit, X_val, y_val = validation_split(X_train, y_train, val_fraction, seed=seed)
    budget = {k: settings[k] for k in ("epochs", "patience", "batch_size", "lr", "seed")}
    fitters = {
        "logistic": lambda **s: fit_logistic(X_fit, y_fit, **s),
        "lda": lambda **s: fit_lda(X_fit, y_fit, **s),
    }
    splits = (X_fit, y_fit, X_val, y_val, X_test, y_test)
    rows = []
    for key in keys:
        fit_one = fitters.get(key, lambda **s: fit_nn(X_fit, y_fit, X_val, y_val, **s, **budget))
        rows.append(_row(key, grids[key], tune(fit_one, grids[key], X_val, y_val), splits))
    source = str(getattr(dataset, "source", "unknown"))
    return MNISTTable(rows, source, len(y_fit), len(y_val), len(y_test), settings)
