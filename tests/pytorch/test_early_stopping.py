"""Tests for nnbook.pytorch.early_stopping: the lecture's early-stopping algorithm.

The object alone against sequences worked out by hand, then inside fit against runs of fit
without early stopping.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch_fixtures import params, toy_classification

from nnbook.pytorch import ensembles
from nnbook.pytorch import train as T
from nnbook.pytorch.early_stopping import EarlyStopping
from nnbook.pytorch.models import make_mlp

# ---------------------------------------------------------------------------------------
# The object, on hand-made sequences
# ---------------------------------------------------------------------------------------


def _run(stopper, values, errors=None):
    """Feed the validation values epoch by epoch to a 1-weight model whose weight is the epoch."""
    model = nn.Linear(1, 1, bias=False)
    answers = []
    for epoch, value in enumerate(values, start=1):
        with torch.no_grad():
            model.weight.fill_(epoch)
        error = None if errors is None else errors[epoch - 1]
        answers.append(stopper.update(model, value, error))
        if answers[-1]:
            break
    return model, answers


def test_stops_after_exactly_patience_epochs_without_a_new_lowest_value():
    # epoch:   1    2    3     4     5    6     7     8     9
    values = [1.0, 0.8, 0.9, 0.85, 0.7, 0.75, 0.71, 0.72, 0.6]
    # by hand, patience 3: new lowest values at epochs 1, 2, 5; epochs 6, 7, 8 do not
    # improve on 0.7, so update says stop after epoch 8; epoch 9 is never seen
    stopper = EarlyStopping(3)
    model, answers = _run(stopper, values)
    assert answers == [False] * 7 + [True]
    assert (stopper.epochs, stopper.best_epoch, stopper.best_value) == (8, 5, 0.7)
    assert stopper.epochs_without_improvement == 3
    assert model.weight.item() == 8  # the last epoch's weights, until restored
    assert stopper.restore_best(model)
    assert model.weight.item() == 5  # step 5: the weights of the best epoch


@pytest.mark.parametrize("patience", [1, 2, 4])
def test_a_tie_is_not_a_decrease(patience):
    stopper = EarlyStopping(patience)
    _, answers = _run(stopper, [2.0] * 10)
    assert answers == [False] * patience + [True]
    assert stopper.best_epoch == 1


def test_never_stops_while_the_value_keeps_decreasing():
    stopper = EarlyStopping(1)
    model, answers = _run(stopper, [5.0, 4.0, 3.0, 2.0])
    assert answers == [False] * 4
    assert stopper.best_epoch == 4
    assert not stopper.restore_best(model)  # the best epoch is the last: nothing to restore
    assert model.weight.item() == 4


def test_monitor_error_watches_the_error_not_the_loss():
    losses = [1.0, 0.9, 0.8, 0.7, 0.6]  # always improving
    errors = [0.3, 0.2, 0.25, 0.2, 0.21]  # best at epoch 2, then no new lowest value
    by_error = EarlyStopping(3, monitor="error")
    model, answers = _run(by_error, losses, errors)
    assert answers == [False, False, False, False, True]
    assert (by_error.best_epoch, by_error.best_value) == (2, 0.2)
    by_error.restore_best(model)
    assert model.weight.item() == 2
    by_loss = EarlyStopping(3)
    _, answers = _run(by_loss, losses, errors)
    assert answers == [False] * 5 and by_loss.best_epoch == 5


def test_best_weights_are_a_copy():
    stopper = EarlyStopping(2)
    model = nn.Linear(2, 1)
    stopper.update(model, 1.0, 1.0)
    saved = params(model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)  # training goes on
    stopper.update(model, 2.0, 2.0)
    assert all(torch.equal(a, b) for a, b in zip(saved, stopper.best_weights.values()))
    assert stopper.restore_best(model)
    assert all(torch.equal(a, b) for a, b in zip(saved, params(model)))


def test_reset_forgets_everything():
    stopper = EarlyStopping(1)
    _run(stopper, [1.0, 2.0])
    stopper.reset()
    assert (stopper.epochs, stopper.best_epoch, stopper.best_value) == (0, None, None)
    assert stopper.best_weights is None and stopper.epochs_without_improvement == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="expected patience to be an int >= 1"):
        EarlyStopping(0)
    with pytest.raises(TypeError, match="patience"):
        EarlyStopping(2.5)
    with pytest.raises(ValueError, match="expected monitor to be one of"):
        EarlyStopping(3, monitor="accuracy")
    assert repr(EarlyStopping(3)) == "EarlyStopping(patience=3, monitor='loss')"


# ---------------------------------------------------------------------------------------
# Inside fit
# ---------------------------------------------------------------------------------------


def test_early_stopping_restores_the_best_weights():
    """Tiny noisy data and a big network overfit; early stopping hands back the best epoch."""
    rng = np.random.default_rng(0)
    x_tr = rng.uniform(-3, 3, size=(12, 1))
    x_va = rng.uniform(-3, 3, size=(200, 1))
    f = np.sin
    y_tr = f(x_tr[:, 0]) + 0.5 * rng.normal(size=12)
    y_va = f(x_va[:, 0]) + 0.5 * rng.normal(size=200)
    model = make_mlp([1, 128, 128, 1], dtype=torch.float64, seed=0)
    h = T.fit(
        model,
        x_tr,
        y_tr,
        X_val=x_va,
        y_val=y_va,
        loss="mse",
        optimizer="adam",
        lr=0.01,
        epochs=2000,
        batch_size=12,
        early_stopping=EarlyStopping(50),
    )
    assert h.stopped_early and h.epochs < 2000
    assert h.restored_best
    assert h.best_epoch == 1 + int(np.argmin(h.val_loss))
    assert h.epochs == h.best_epoch + 50  # stopped after `patience` epochs without improvement
    # it did overfit: training loss kept falling while validation loss rose
    assert h.train_loss[-1] < h.train_loss[h.best_epoch - 1]
    assert h.val_loss[-1] > h.best_value
    # the model handed back is the best one, not the last one
    restored = T.evaluate(model, x_va, y_va, loss="mse")
    assert restored.loss == pytest.approx(h.best_value, rel=1e-12)
    assert restored.loss == pytest.approx(h.val_loss[h.best_epoch - 1], rel=1e-12)
    assert T.evaluate(model, x_tr, y_tr, loss="mse").loss == pytest.approx(
        h.train_loss[h.best_epoch - 1], rel=1e-12
    )


def test_early_stopping_by_validation_error():
    X, y = toy_classification(n=200)
    model = make_mlp([5, 16, 3], seed=0)
    h = T.fit(
        model,
        X[:150],
        y[:150],
        X_val=X[150:],
        y_val=y[150:],
        epochs=200,
        lr=0.5,
        early_stopping=EarlyStopping(5, monitor="error"),
    )
    assert h.best_value == min(h.val_error)
    assert h.best_epoch == 1 + h.val_error.index(min(h.val_error))  # first epoch reaching it
    assert T.evaluate(model, X[150:], y[150:]).error == pytest.approx(h.best_value)


@pytest.mark.parametrize("monitor", ["loss", "error"])
def test_fit_with_early_stopping_equals_a_hand_run_of_fit(monitor):
    """Train without early stopping and stop by hand: same epochs, same best weights.

    The run without early stopping gives the validation curve; the rule "stop after
    `patience` epochs without a new lowest value" applied to it by hand says when to stop and
    which epoch is best. A fresh run of exactly best_epoch epochs has the best weights.
    """
    X, y = toy_classification(n=200)
    data = dict(X_val=X[150:], y_val=y[150:], lr=0.5, batch_size=32, seed=2)
    patience, epochs = 4, 80
    full = T.fit(make_mlp([5, 32, 3], dropout=0.2, seed=0), X[:150], y[:150], epochs=epochs, **data)
    curve = full.val_loss if monitor == "loss" else full.val_error
    best, best_epoch, stop_epoch = np.inf, None, None
    for epoch, value in enumerate(curve, start=1):  # the rule, by hand
        if value < best:
            best, best_epoch = value, epoch
        elif epoch - best_epoch >= patience:
            stop_epoch = epoch
            break
    assert stop_epoch is not None, "this run should stop early"

    model = make_mlp([5, 32, 3], dropout=0.2, seed=0)
    stopper = EarlyStopping(patience, monitor=monitor)
    h = T.fit(model, X[:150], y[:150], epochs=epochs, early_stopping=stopper, **data)
    assert h.epochs == stop_epoch and h.stopped_early
    assert h.best_epoch == stopper.best_epoch == best_epoch and h.monitor == monitor
    assert h.val_loss == full.val_loss[:stop_epoch]  # the same trajectory until the stop
    assert h.restored_best == (best_epoch < stop_epoch)

    shorter = make_mlp([5, 32, 3], dropout=0.2, seed=0)
    T.fit(shorter, X[:150], y[:150], epochs=best_epoch, **data)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), shorter.parameters()))


def test_fit_resets_the_stopper_so_one_object_serves_several_runs():
    X, y = toy_classification(n=200)
    kwargs = dict(X_val=X[150:], y_val=y[150:], epochs=60, lr=0.5)
    stopper = EarlyStopping(3)
    first = T.fit(make_mlp([5, 16, 3], seed=0), X[:150], y[:150], early_stopping=stopper, **kwargs)
    again = T.fit(make_mlp([5, 16, 3], seed=0), X[:150], y[:150], early_stopping=stopper, **kwargs)
    fresh = T.fit(
        make_mlp([5, 16, 3], seed=0), X[:150], y[:150], early_stopping=EarlyStopping(3), **kwargs
    )
    assert first == again == fresh
    assert stopper.epochs == first.epochs


def test_restarts_each_stop_on_their_own():
    X, y = toy_classification(n=200)
    restarts = ensembles.fit_restarts(
        lambda: make_mlp([5, 16, 3]),
        3,
        X[:150],
        y[:150],
        X_val=X[150:],
        y_val=y[150:],
        epochs=60,
        lr=0.5,
        early_stopping=EarlyStopping(3),
    )
    for h, model in zip(restarts.histories, restarts.models):
        assert h.best_epoch == 1 + int(np.argmin(h.val_loss))
        assert T.evaluate(model, X[150:], y[150:]).loss == pytest.approx(h.best_value, rel=1e-6)


def test_without_early_stopping_every_epoch_runs_and_the_last_weights_stay():
    X, y = toy_classification(n=200)
    model = make_mlp([5, 16, 3], seed=0)
    h = T.fit(model, X[:150], y[:150], X_val=X[150:], y_val=y[150:], epochs=30, lr=0.5)
    assert h.epochs == 30 and not h.stopped_early and not h.restored_best
    assert h.best_epoch == 1 + int(np.argmin(h.val_loss))  # still recorded
    assert T.evaluate(model, X[150:], y[150:]).loss == pytest.approx(h.val_loss[-1], rel=1e-6)
