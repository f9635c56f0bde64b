"""Tests for nnbook.pytorch.ensembles: random restarts and averaged predictions."""

from __future__ import annotations

import numpy as np
import pytest
from torch_fixtures import toy_classification

from nnbook.pytorch import ensembles
from nnbook.pytorch import train as T
from nnbook.pytorch.models import make_mlp


def test_averaging_restarts_reduces_prediction_variance():
    """Measured: the spread of an average of M restarts is well below that of one restart."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(30, 1))
    y = np.sin(2 * x[:, 0]) + 0.3 * rng.normal(size=30)
    grid = np.linspace(-2.5, 2.5, 50)[:, None]
    M, groups = 4, 4

    def make():  # a fresh initialisation from each restart's seed
        return make_mlp([1, 32, 32, 1])

    fits = [
        ensembles.fit_restarts(
            make,
            M,
            x,
            y,
            seed=g * M,
            loss="mse",
            epochs=60,
            batch_size=15,
            lr=0.05,
            eval_train=False,
        )
        for g in range(groups)
    ]
    singles = np.array([T.predict(m, grid) for r in fits for m in r.models])  # (M * groups, 50)
    averages = np.array([r.predict(grid) for r in fits])  # (groups, 50)
    np.testing.assert_allclose(averages[0], singles[:M].mean(axis=0), rtol=1e-6)
    assert fits[1].seeds == [4, 5, 6, 7]
    var_single = singles.var(axis=0, ddof=1).mean()
    var_average = averages.var(axis=0, ddof=1).mean()
    assert var_single > 0
    assert var_average < 0.5 * var_single, (var_single, var_average)


def test_fit_restarts_warns_when_every_restart_starts_the_same():
    X, y = toy_classification(n=20)
    with pytest.warns(UserWarning, match="same initial weights"):
        ensembles.fit_restarts(lambda: make_mlp([5, 4, 3], seed=0), 2, X, y, epochs=1)


def test_average_predictions_of_probabilities():
    X, y = toy_classification(n=20)
    models = [make_mlp([5, 4, 3], seed=s) for s in range(3)]
    avg = ensembles.average_predictions(models, X, proba=True)
    np.testing.assert_allclose(avg.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(avg, np.mean([T.predict_proba(m, X) for m in models], axis=0))
    with pytest.raises(TypeError, match="list of torch.nn.Module"):
        ensembles.average_predictions(models[0], X)
