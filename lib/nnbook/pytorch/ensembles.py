"""Random restarts: train several networks from different random starts and average them."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .._util import positive_int
from .inputs import _check_seed, _seeded
from .train import History, fit, predict, predict_proba


@dataclass
class Restarts:
    """The models and histories of :func:`fit_restarts`; ``predict`` averages the models."""

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
    """
    if not callable(make_model):
        raise TypeError(
            "expected make_model to be a callable returning a torch.nn.Module, "
            f"got {type(make_model).__name__}"
        )
    n_restarts = positive_int(n_restarts, "n_restarts")
    seed = _check_seed(seed)
    models, histories, seeds = [], [], []
    for r in range(n_restarts):
        s = seed + r
        with _seeded(s):
            model = make_model()
        if not isinstance(model, nn.Module):
            raise TypeError(
                f"expected make_model() to return a torch.nn.Module, got {type(model).__name__}"
            )
        init = [v.detach().clone() for v in model.state_dict().values()]
        if r == 0:
            first_init = init
        elif len(init) == len(first_init) and all(
            torch.equal(a, b) for a, b in zip(first_init, init)
        ):
            warnings.warn(
                "make_model() returned the same initial weights for two restarts (does it fix "
                "a seed?); the restarts then differ only in their mini-batch order",
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
    """
    if isinstance(models, nn.Module) or not isinstance(models, Sequence) or len(models) == 0:
        raise TypeError("expected a non-empty list of torch.nn.Module")
    for m in models:
        if not isinstance(m, nn.Module):
            raise TypeError(
                f"expected a list of torch.nn.Module, got an element of type {type(m).__name__}"
            )
    fn = predict_proba if proba else predict
    return np.mean([fn(m, X) for m in models], axis=0)


__all__ = ["fit_restarts", "Restarts", "average_predictions"]
