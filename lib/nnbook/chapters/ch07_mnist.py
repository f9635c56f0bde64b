"""The four classifiers of the lecture's MNIST table, and a runner that trains them all.

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

:func:`run_table` trains the same four models on a :class:`~nnbook.data.Dataset`
(the full MNIST, or the 5,000-digit fallback subset) and returns an :class:`MNISTTable`
with our test errors beside the lecture's:

- ``"nn_ridge"`` and ``"nn_dropout"``: the lecture's 784-256-128-10 ReLU network,
  trained by :func:`nnbook.pytorch.train.fit` with Adam and mini-batches of B = 128, with
  weight decay lambda (ridge) or dropout rates phi (:func:`fit_nn`);
- ``"logistic"``: multinomial logistic regression, i.e. the same network without
  hidden layers, Z_m = beta_m0 + sum_j beta_mj X_j, trained the same way (:func:`fit_logistic`);
- ``"lda"``: scikit-learn's ``LinearDiscriminantAnalysis`` (:func:`fit_lda`).

Arrays are ``(n_samples, 784)``: pixel values 0..255 (integers) or already scaled to [0, 1]
(floats); :func:`scale_pixels` maps both to float32 in [0, 1].
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import nn

from .._util import as_array, positive_float, positive_int
from ..pytorch import train as _train
from ..pytorch.device import choose_device
from ..pytorch.inputs import _check_seed
from ..pytorch.models import make_mlp

__all__ = [
    "MNIST_SIZES",
    "MODELS",
    "METHODS",
    "LECTURE_TEST_ERRORS",
    "LECTURE_DATA",
    "scale_pixels",
    "fit_nn",
    "fit_logistic",
    "fit_lda",
    "predict_labels",
    "confusion_matrix",
    "ModelResult",
    "MNISTTable",
    "run_table",
]

#: The lecture's network: d = 784 inputs, hidden layers of 256 and 128 units, K = 10 outputs.
MNIST_SIZES: tuple[int, ...] = (784, 256, 128, 10)

#: The four models, in the order of the lecture's table.
MODELS: tuple[str, ...] = ("nn_ridge", "nn_dropout", "logistic", "lda")

#: The row names of the lecture's table.
METHODS: dict[str, str] = {
    "nn_ridge": "Neural Network + Ridge Regularization",
    "nn_dropout": "Neural Network + Dropout Regularization",
    "logistic": "Multinomial Logistic Regression",
    "lda": "Linear Discriminant Analysis",
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


# --------------------------------------------------------------------------------------
# The four models
# --------------------------------------------------------------------------------------


def fit_nn(
    X_train: Any,
    y_train: Any,
    *,
    weight_decay: float = 0.0,
    dropout: float | Sequence[float] = 0.0,
    sizes: Sequence[int] = MNIST_SIZES,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> nn.Sequential:
    """Train the lecture's MNIST network (784-256-128-10, ReLU) and return it (eval mode).

    Hidden layers A^(1) = sigma(W_0 x + b_0), A^(2) = sigma(W_1 A^(1) + b_1) with
    sigma = ReLU, output scores Z_m = beta_m0 + sum_l beta_ml A^(2)_l (m = 0..9) and the
    softmax f_m(X) = e^{Z_m} / sum_i e^{Z_i}. Adam with learning rate eta = ``lr`` on
    mini-batches of B = ``batch_size`` minimises the cross-entropy
    -sum_i sum_m y_im log f_m(x_i), plus the ridge penalty (lambda/2) sum ||W_l||^2 when
    ``weight_decay = lambda > 0`` (weights and beta, not the intercepts), with dropout
    rate phi after each hidden layer when ``dropout = phi > 0`` (one rate, or one per layer).
    ``X_train`` is ``(n, 784)`` (pixels 0..255 or floats in [0, 1]), ``y_train`` ``(n,)``.
    Initialisation and mini-batch order come from ``seed``: same seed, same network.
    """
    X = scale_pixels(X_train, "X_train")
    y = _labels(y_train, "y_train", len(X))
    weight_decay = positive_float(weight_decay, "weight_decay", allow_zero=True)
    if isinstance(sizes, (str, bytes)) or len(sizes) < 2 or sizes[0] != _D or sizes[-1] != _K:
        raise ValueError(f"expected sizes = [784, d_1, ..., d_L, 10], got {sizes!r}")
    model = make_mlp(list(sizes), activation="relu", dropout=dropout, seed=seed)
    _train.fit(
        model,
        X,
        y,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        optimizer="adam",
        weight_decay=weight_decay,
        penalize="weights",
        eval_train=False,
        seed=seed,
    )
    return model


def fit_logistic(
    X_train: Any,
    y_train: Any,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> nn.Sequential:
    """Multinomial logistic regression, trained like the network: a network with no hidden layer.

    Z_m = beta_m0 + sum_{j=1}^{784} beta_mj X_j, f_m(X) = e^{Z_m} / sum_i e^{Z_i}, fitted by
    minimising the cross-entropy -sum_i sum_m y_im log f_m(x_i) (the negative multinomial
    log-likelihood) with Adam, mini-batches of B = ``batch_size``, for ``epochs`` epochs
    (ISL lab 10.9 does the same in PyTorch). Returns ``make_mlp([784, 10])``, trained.
    """
    X = scale_pixels(X_train, "X_train")
    y = _labels(y_train, "y_train", len(X))
    model = make_mlp([_D, _K], seed=seed)
    _train.fit(
        model,
        X,
        y,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        optimizer="adam",
        eval_train=False,
        seed=seed,
    )
    return model


def fit_lda(
    X_train: Any,
    y_train: Any,
    *,
    shrinkage: float | str | None = None,
):
    """Linear discriminant analysis: Gaussian classes with a shared covariance Sigma.

    Classifies x to argmax_m delta_m(x), delta_m(x) = x^T Sigma^-1 mu_m - mu_m^T Sigma^-1 mu_m / 2
    + log pi_m, with the class means mu_m, the pooled covariance Sigma and the class
    proportions pi_m estimated from the training data. scikit-learn's
    ``LinearDiscriminantAnalysis(solver="lsqr")`` (a least-squares solve, which copes with
    the constant border pixels that make Sigma singular); ``shrinkage`` (a number in [0, 1]
    or ``"auto"``, Ledoit-Wolf) shrinks Sigma towards a multiple of the identity. The
    default ``None`` is plain LDA, as in the lecture. Needs scikit-learn.
    """
    try:
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    except ImportError as exc:  # scikit-learn is in the [data] extra
        raise ImportError("fit_lda needs scikit-learn: pip install scikit-learn") from exc
    X = scale_pixels(X_train, "X_train")
    y = _labels(y_train, "y_train", len(X))
    if len(np.unique(y)) < 2:
        raise ValueError("expected y_train to hold at least two classes for LDA")
    if shrinkage is not None and shrinkage != "auto":
        shrinkage = positive_float(shrinkage, "shrinkage", allow_zero=True)
        if shrinkage > 1:
            raise ValueError(f"expected shrinkage in [0, 1], 'auto' or None, got {shrinkage}")
    return LinearDiscriminantAnalysis(solver="lsqr", shrinkage=shrinkage).fit(X, y)


def predict_labels(model: Any, X: Any) -> np.ndarray:
    """Predicted digits argmax_m f_m(X), shape ``(n,)``, of a torch network or scikit-learn model.

    ``X`` is ``(n, 784)``, pixels 0..255 or floats in [0, 1] (scaled as in training).
    """
    Xs = scale_pixels(X)
    if isinstance(model, nn.Module):
        return _train.predict_labels(model, Xs).astype(np.int64)
    if hasattr(model, "predict"):
        return np.asarray(model.predict(Xs), dtype=np.int64)
    raise TypeError(
        "expected a torch.nn.Module or a fitted scikit-learn classifier, "
        f"got {type(model).__name__}"
    )


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
# The table
# --------------------------------------------------------------------------------------


@dataclass
class ModelResult:
    """One row of the table: a fitted model, its errors and how long it took.

    ``test_error`` and ``train_error`` are fractions misclassified,
    (1/n) #{i : argmax_m f_m(x_i) != y_i}; ``seconds`` is the wall-clock time of fitting
    and predicting; ``y_pred`` the predicted test labels; ``lecture_error`` the lecture's number.
    """

    key: str
    method: str
    test_error: float
    train_error: float
    seconds: float
    y_pred: np.ndarray = field(repr=False)
    model: Any = field(repr=False)
    lecture_error: float


@dataclass
class MNISTTable:
    """The lecture's MNIST table with our test errors beside the lecture's.

    ``rows`` are :class:`ModelResult` in the lecture's order; ``source``, ``n_train`` and
    ``n_test`` say which data produced our numbers; ``settings`` records the
    hyperparameters. ``table["nn_dropout"]`` looks a row up by key; ``str(table)`` and
    :meth:`to_frame` format it.
    """

    rows: list[ModelResult]
    source: str
    n_train: int
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
        """Our data in words: ``"<source>: <n_train> train / <n_test> test"``."""
        return f"{self.source}: {self.n_train:,} train / {self.n_test:,} test"

    def data_sentence(self) -> str:
        """One sentence saying which data produced our numbers (and how they compare with the
        lecture's)."""
        if self.source == "mnist" and self.n_train == 60_000 and self.n_test == 10_000:
            return (
                f"Our numbers come from the full MNIST data ({self.n_train:,} training and "
                f"{self.n_test:,} test images), the same data as the lecture's."
            )
        return (
            f"Our numbers come from '{self.source}' ({self.n_train:,} training and "
            f"{self.n_test:,} test images), not from the lecture's data ({LECTURE_DATA}); "
            "they are not expected to match the lecture's."
        )

    def to_frame(self):
        """The table as a pandas DataFrame (errors in percent, times in seconds)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "Method": [r.method for r in self.rows],
                "Lecture test error (%)": [100 * r.lecture_error for r in self.rows],
                "Lecture data": [LECTURE_DATA] * len(self.rows),
                "Our test error (%)": [100 * r.test_error for r in self.rows],
                "Our train error (%)": [100 * r.train_error for r in self.rows],
                "Our data": [self.data] * len(self.rows),
                "Time (s)": [r.seconds for r in self.rows],
            }
        )

    def __str__(self) -> str:
        w = max(len(r.method) for r in self.rows)
        head = f"{'Method':<{w}}  {'lecture':>8}  {'ours':>7}  {'ours, train':>11}  {'time':>7}"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(
                f"{r.method:<{w}}  {100 * r.lecture_error:>7.1f}%  {100 * r.test_error:>6.1f}%  "
                f"{100 * r.train_error:>10.1f}%  {r.seconds:>6.1f}s"
            )
        lines.append(f"lecture: {LECTURE_DATA};  ours: {self.data}")
        return "\n".join(lines)


def _check_dataset(dataset: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test) of a Dataset, pixels scaled to [0, 1], labels checked."""
    for attr in ("X_train", "y_train", "X_test", "y_test"):
        if not hasattr(dataset, attr):
            raise TypeError(
                "expected a Dataset with X_train, y_train, X_test, y_test, "
                f"got {type(dataset).__name__}"
            )
    X_train = scale_pixels(dataset.X_train, "X_train")
    X_test = scale_pixels(dataset.X_test, "X_test")
    y_train = _labels(dataset.y_train, "y_train", len(X_train))
    y_test = _labels(dataset.y_test, "y_test", len(X_test))
    return X_train, y_train, X_test, y_test


def _check_models(models: Any) -> list[str]:
    """The requested keys of :data:`MODELS`, in the lecture's order."""
    if isinstance(models, str) or not isinstance(models, Sequence) or len(models) == 0:
        raise TypeError(
            f"expected models to be a non-empty list of keys from {list(MODELS)}, got {models!r}"
        )
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"expected models from {list(MODELS)}, got unknown {unknown}")
    return [key for key in MODELS if key in models]


def _result(key: str, fitter: Any, data: tuple[np.ndarray, ...]) -> ModelResult:
    """Fit one model of the table, predict, and measure its errors and its time."""
    X_train, y_train, X_test, y_test = data
    t0 = time.perf_counter()
    model = fitter()
    y_pred = predict_labels(model, X_test)
    train_pred = predict_labels(model, X_train)
    return ModelResult(
        key=key,
        method=METHODS[key],
        test_error=float(np.mean(y_pred != y_test)),
        train_error=float(np.mean(train_pred != y_train)),
        seconds=time.perf_counter() - t0,
        y_pred=y_pred,
        model=model,
        lecture_error=LECTURE_TEST_ERRORS[key],
    )


def run_table(
    dataset: Any,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    dropout: float | Sequence[float] = (0.4, 0.3),
    lda_shrinkage: float | str | None = None,
    models: Sequence[str] = MODELS,
    seed: int = 0,
) -> MNISTTable:
    """Train the models of the lecture's MNIST table on ``dataset`` and measure their test errors.

    ``dataset`` is a :class:`~nnbook.data.Dataset` (``load_mnist()``) with ``X_train`` of
    shape ``(n, 784)`` (pixels 0..255, or floats in [0, 1]) and labels 0..9. The models, in
    the lecture's order (``models`` picks a subset; the order stays the lecture's):
    ``"nn_ridge"`` (:func:`fit_nn` with ridge penalty lambda = ``weight_decay``),
    ``"nn_dropout"`` (:func:`fit_nn` with dropout rates phi = ``dropout``; ISL lab 10.9 uses
    0.4, 0.3), ``"logistic"`` (:func:`fit_logistic`) and ``"lda"`` (:func:`fit_lda` with
    ``lda_shrinkage``).

    The three torch models train for ``epochs`` epochs of ceil(n / B) Adam steps each,
    B = ``batch_size``, learning rate eta = ``lr``, on the device ``fit`` chooses (recorded
    in ``settings["device"]``). Everything is seeded by ``seed``: on the CPU, two runs with
    the same arguments give the same errors. Each row records its wall-clock time.
    """
    data = _check_dataset(dataset)
    X_train, y_train = data[0], data[1]
    keys = _check_models(models)
    settings = dict(
        epochs=positive_int(epochs, "epochs"),
        batch_size=positive_int(batch_size, "batch_size"),
        lr=positive_float(lr, "lr"),
        optimizer="adam",
        weight_decay=positive_float(weight_decay, "weight_decay", allow_zero=True),
        dropout=dropout,
        lda_shrinkage=lda_shrinkage,
        seed=_check_seed(seed),
        device=str(choose_device()),
    )
    torch_kw = {k: settings[k] for k in ("epochs", "batch_size", "lr", "seed")}
    fitters = {
        "nn_ridge": lambda: fit_nn(X_train, y_train, weight_decay=weight_decay, **torch_kw),
        "nn_dropout": lambda: fit_nn(X_train, y_train, dropout=dropout, **torch_kw),
        "logistic": lambda: fit_logistic(X_train, y_train, **torch_kw),
        "lda": lambda: fit_lda(X_train, y_train, shrinkage=lda_shrinkage),
    }
    rows = [_result(key, fitters[key], data) for key in keys]
    return MNISTTable(
        rows=rows,
        source=str(getattr(dataset, "source", "unknown")),
        n_train=len(y_train),
        n_test=len(data[3]),
        settings=settings,
    )
