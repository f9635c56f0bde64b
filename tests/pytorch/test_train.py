"""Tests for nnbook.pytorch.train: fit (the PyTorch training loop of Chapters 6-8), its
History, evaluate and the predictions.

Small synthetic data only; the whole file runs in a few seconds on 2 CPU cores.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch_fixtures import DEVICES, params, toy_classification

from nnbook.pytorch import augment
from nnbook.pytorch import train as T
from nnbook.pytorch.convert import TORCH_OPTIMIZERS
from nnbook.pytorch.early_stopping import EarlyStopping
from nnbook.pytorch.models import make_mlp

# ---------------------------------------------------------------------------------------
# fit: determinism and bookkeeping
# ---------------------------------------------------------------------------------------


def test_fit_is_deterministic_with_dropout_augmentation_and_shuffling():
    X, y = toy_classification()
    kwargs = dict(
        X_val=X[:30],
        y_val=y[:30],
        epochs=4,
        batch_size=16,
        lr=0.1,
        momentum=0.9,
        augment=augment.gaussian_noise(0.1),
        seed=3,
    )
    runs = []
    for i in range(2):
        torch.manual_seed(999 + i)  # a different global state must not matter...
        model = make_mlp([5, 32, 3], dropout=0.3, seed=0)
        runs.append((T.fit(model, X, y, **kwargs), model))
        torch.rand(10)  # ...nor what happened in between
    (h1, m1), (h2, m2) = runs
    assert h1 == h2
    assert h1.train_loss == h2.train_loss and h1.val_error == h2.val_error
    assert all(torch.equal(p, q) for p, q in zip(m1.parameters(), m2.parameters()))

    m3 = make_mlp([5, 32, 3], dropout=0.3, seed=0)
    h3 = T.fit(m3, X, y, **{**kwargs, "seed": 4})
    assert h3.train_loss != h1.train_loss  # the seed does matter


def test_fit_leaves_global_rng_and_threads_alone():
    X, y = toy_classification()
    torch.manual_seed(5)
    expected_next = torch.rand(3)
    threads = torch.get_num_threads()
    torch.manual_seed(5)
    model = make_mlp([5, 8, 3], dropout=0.2, seed=0)
    T.fit(model, X, y, epochs=2)
    assert torch.equal(torch.rand(3), expected_next)
    assert torch.get_num_threads() == threads
    assert not model.training  # returned in eval mode


def test_fit_records_one_entry_per_epoch():
    X, y = toy_classification()
    model = make_mlp([5, 16, 3], seed=0)
    h = T.fit(
        model, X, y, X_val=X[:20], y_val=y[:20], epochs=5, lr=0.2, lr_schedule=lambda e: 0.5**e
    )
    assert h.epochs == 5
    assert len(h.train_error) == len(h.val_loss) == len(h.val_error) == 5
    assert h.lr == pytest.approx([0.2 * 0.5**e for e in range(5)])
    # the curves are the ones evaluate() computes on the final model
    ev = T.evaluate(model, X[:20], y[:20])
    assert ev.loss == pytest.approx(h.val_loss[-1], rel=1e-6)
    assert ev.error == pytest.approx(h.val_error[-1])
    assert h.best_epoch == 1 + int(np.argmin(h.val_loss))
    assert not h.restored_best  # no early stopping asked for
    assert set(h.as_dict()) == {"epoch", "train_loss", "train_error", "val_loss", "val_error", "lr"}


def test_running_train_loss_of_one_full_batch_is_the_loss_before_the_step():
    X, y = toy_classification(n=40)
    model = make_mlp([5, 16, 3], seed=0)
    before = T.evaluate(model, X, y)
    h = T.fit(model, X, y, epochs=1, batch_size=40, lr=0.1, eval_train=False)
    assert h.train_loss[0] == pytest.approx(before.loss, rel=1e-6)
    assert h.train_error[0] == pytest.approx(before.error)
    after = T.evaluate(model, X, y)
    assert after.loss < before.loss  # one gradient step downhill


# ---------------------------------------------------------------------------------------
# Weight decay and the explicit L2 penalty
# ---------------------------------------------------------------------------------------


def _one_full_batch_step(model, X, y, **kwargs):
    T.fit(model, X, y, epochs=1, batch_size=len(X), optimizer="sgd", **kwargs)
    return params(model)


@pytest.mark.parametrize("penalize", ["all", "weights"])
def test_weight_decay_through_the_optimiser_is_the_lectures_update(penalize):
    """theta <- (1 - eta lambda) theta - eta grad R(theta), for plain SGD (one full-batch step)."""
    X, y = toy_classification(n=50)
    X = X.astype(np.float64)
    eta, lam = 0.3, 0.2
    model = make_mlp([5, 16, 3], dtype=torch.float64, seed=0)
    theta0 = params(model)

    # independent reference: grad R by autograd on the mean cross-entropy, then the formula
    ref = copy.deepcopy(model)
    loss = nn.functional.cross_entropy(ref(torch.from_numpy(X)), torch.from_numpy(y))
    grads = torch.autograd.grad(loss, list(ref.parameters()))
    expected = []
    for p, g in zip(ref.parameters(), grads):
        decay = lam if (penalize == "all" or p.ndim >= 2) else 0.0
        expected.append((1 - eta * decay) * p.detach() - eta * g)

    theta1 = _one_full_batch_step(model, X, y, lr=eta, weight_decay=lam, penalize=penalize)
    for got, want in zip(theta1, expected):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    # and the decay did something: without it the step is different
    plain = copy.deepcopy(ref)
    for p, t in zip(plain.parameters(), theta0):
        p.data.copy_(t)
    theta1_plain = _one_full_batch_step(plain, X, y, lr=eta)
    assert max((a - b).abs().max().item() for a, b in zip(theta1, theta1_plain)) > 1e-3


@pytest.mark.parametrize("penalize", ["all", "weights"])
def test_explicit_l2_penalty_gives_the_same_sgd_step_as_weight_decay(penalize):
    X, y = toy_classification(n=50)
    X = X.astype(np.float64)
    lam = 0.5
    a = make_mlp([5, 16, 3], dtype=torch.float64, seed=1)
    b = copy.deepcopy(a)
    c = copy.deepcopy(a)
    step_wd = _one_full_batch_step(a, X, y, lr=0.2, weight_decay=lam, penalize=penalize)
    step_l2 = _one_full_batch_step(b, X, y, lr=0.2, l2=lam, penalize=penalize)
    step_none = _one_full_batch_step(c, X, y, lr=0.2)
    for p, q in zip(step_wd, step_l2):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12)
    # the biases move like the unpenalised ones exactly when only weights are penalised
    biases_equal = all(torch.equal(p, q) for p, q in zip(step_l2, step_none) if p.ndim == 1)
    assert biases_equal == (penalize == "weights")


def test_weight_decay_shrinks_the_weights_over_training():
    X, y = toy_classification()
    norms = {}
    for lam in (0.0, 0.05):
        model = make_mlp([5, 32, 3], seed=0)
        T.fit(model, X, y, epochs=30, batch_size=32, lr=0.1, l2=lam)
        norms[lam] = sum((p.detach() ** 2).sum().item() for p in model.parameters())
    assert norms[0.05] < 0.8 * norms[0.0]


def test_fit_applies_augment_to_every_training_batch_only():
    X, y = toy_classification(n=50)
    calls = []

    def record(xb):  # a plain one-argument callable
        calls.append(tuple(xb.shape))
        return xb

    T.fit(
        make_mlp([5, 8, 3], seed=0), X, y, X_val=X, y_val=y, epochs=3, batch_size=16, augment=record
    )
    assert calls == [(16, 5), (16, 5), (16, 5), (2, 5)] * 3  # ceil(50/16) batches per epoch

    with pytest.raises(ValueError, match="augment to return"):
        T.fit(make_mlp([5, 8, 3], seed=0), X, y, epochs=1, augment=lambda xb: xb[:, :2])


# ---------------------------------------------------------------------------------------
# evaluate / predict
# ---------------------------------------------------------------------------------------


def test_evaluate_and_predict_match_numpy():
    X, y = toy_classification(n=60)
    model = make_mlp([5, 8, 3], seed=0)
    Z = model(torch.from_numpy(X)).detach().numpy().astype(np.float64)
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(T.predict(model, X), Z, rtol=1e-6)
    np.testing.assert_allclose(T.predict_proba(model, X), P, rtol=1e-5)
    np.testing.assert_array_equal(T.predict_labels(model, X), Z.argmax(axis=1))
    ev = T.evaluate(model, X, y)
    assert ev.loss == pytest.approx(-np.mean(np.log(P[np.arange(60), y])), rel=1e-5)
    assert ev.error == pytest.approx(np.mean(Z.argmax(axis=1) != y))


def test_mse_regression_accepts_1d_targets_and_reports_mse_as_error():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    y = x[:, 0] - x[:, 1]
    model = make_mlp([2, 16, 1], seed=0)
    h = T.fit(model, x, y, X_val=x, y_val=y, loss="mse", epochs=20, batch_size=8, lr=0.05)
    assert h.train_loss == h.train_error and h.val_loss == h.val_error
    pred = T.predict(model, x)
    assert pred.shape == (40,)
    assert h.val_loss[-1] == pytest.approx(np.mean((pred - y) ** 2), rel=1e-5)
    assert h.val_loss[-1] < 0.5 * np.var(y)  # it learned something


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------


def _bad_calls():
    X, y = toy_classification(n=20)
    return [
        (dict(X_train=X, y_train=y[:19]), ValueError, "one target per sample"),
        (
            dict(X_train=X[0], y_train=y),
            ValueError,
            r"expected X_train of shape \(n, 5\), got \(5,\)",
        ),
        (dict(X_train=X[:, :4], y_train=y), ValueError, r"expected X_train of shape \(n, 5\)"),
        (dict(X_train=X, y_train=y.astype(float)), TypeError, "integer class labels"),
        (dict(X_train=X, y_train=y + 1), ValueError, r"\{0, \.\.\., 2\}.*K = 3"),
        (dict(X_train=X, y_train=y - 1), ValueError, "got labels from -1"),
        (dict(X_train=np.where(X > 1, np.nan, X), y_train=y), ValueError, "finite"),
        (dict(X_train="pixels", y_train=y), TypeError, "numeric array"),
        (dict(X_train=X, y_train=y, X_val=X), ValueError, "both X_val and y_val"),
        (dict(X_train=X, y_train=y, early_stopping=EarlyStopping(3)), ValueError, "validation set"),
        (dict(X_train=X, y_train=y, patience=3), TypeError, r"options of fit.*\['patience'\]"),
        (
            dict(X_train=X, y_train=y, X_val=X, y_val=y, early_stopping=3),
            TypeError,
            "EarlyStopping",
        ),
        (dict(X_train=X, y_train=y, device="gpu"), ValueError, "expected device"),
        (dict(X_train=X, y_train=y, num_threads=1), TypeError, "options of fit"),
        (dict(X_train=X, y_train=y, lr_schedule=0.5), TypeError, "lr_schedule"),
        (dict(X_train=X, y_train=y, X_val=X, y_val=y[:5]), ValueError, "y_val"),
        (dict(X_train=X, y_train=y, loss="hinge"), ValueError, "loss"),
        (dict(X_train=X, y_train=y, optimizer="lbfgs"), ValueError, "optimizer"),
        (dict(X_train=X, y_train=y, optimizer="adam", momentum=0.9), ValueError, "momentum"),
        (dict(X_train=X, y_train=y, optimizer="adamw", momentum=0.5), ValueError, "momentum"),
        (dict(X_train=X, y_train=y, momentum=-0.5), ValueError, "momentum"),
        (dict(X_train=X, y_train=y, lr=-0.1), ValueError, "lr"),
        (dict(X_train=X, y_train=y, epochs=0), ValueError, "epochs"),
        (dict(X_train=X, y_train=y, batch_size=2.5), TypeError, "batch_size"),
        (dict(X_train=X, y_train=y, augment="noise"), TypeError, "augment"),
        (dict(X_train=X, y_train=y, seed=-1), ValueError, "seed"),
        (dict(X_train=X, y_train=y, penalize="biases"), ValueError, "penalize"),
    ]


@pytest.mark.parametrize("i", range(len(_bad_calls())))
def test_fit_rejects_bad_input_with_a_clear_message(i):
    kwargs, exc, match = _bad_calls()[i]
    model = make_mlp([5, 4, 3], seed=0)
    with pytest.raises(exc, match=match):
        T.fit(
            model,
            kwargs.pop("X_train"),
            kwargs.pop("y_train"),
            epochs=kwargs.pop("epochs", 1),
            **kwargs,
        )


def test_mse_target_shape_is_checked():
    model = make_mlp([2, 4, 3], seed=0)
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        T.fit(model, np.zeros((5, 2)), np.zeros(5), loss="mse")


def test_fit_accepts_tensors_and_rejects_non_models():
    X, y = toy_classification(n=30)
    h = T.fit(make_mlp([5, 4, 3], seed=0), torch.from_numpy(X), torch.from_numpy(y), epochs=1)
    assert h.epochs == 1
    with pytest.raises(TypeError, match="torch.nn.Module"):
        T.fit(lambda x: x, X, y)


# ---------------------------------------------------------------------------------------
# NaN and inf are rejected, naming the array
# ---------------------------------------------------------------------------------------


def _with(a, value, index=(0, 0)):
    a = np.array(a, dtype=np.float64, copy=True)
    a[index] = value
    return a


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("as_tensor", [False, True])
@pytest.mark.parametrize("name", ["X_train", "y_train", "X_val", "y_val"])
def test_fit_rejects_nan_and_inf_naming_the_array(name, as_tensor, bad):
    rng = np.random.default_rng(0)
    data = {
        "X_train": rng.normal(size=(20, 3)),
        "y_train": rng.normal(size=20),
        "X_val": rng.normal(size=(10, 3)),
        "y_val": rng.normal(size=10),
    }
    index = (3,) if name.startswith("y") else (3, 1)
    data[name] = _with(data[name], bad, index)
    if as_tensor:
        data = {k: torch.from_numpy(v) for k, v in data.items()}
    model = make_mlp([3, 4, 1], seed=0)
    before = params(model)
    with pytest.raises(ValueError, match=f"expected {name} to be finite"):
        T.fit(model, data.pop("X_train"), data.pop("y_train"), loss="mse", epochs=1, **data)
    assert all(torch.equal(p, q) for p, q in zip(before, params(model)))  # nothing trained


# ---------------------------------------------------------------------------------------
# The optimiser comes from the one registry, TORCH_OPTIMIZERS
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TORCH_OPTIMIZERS))
def test_fit_takes_the_steps_of_the_registry_optimiser(name):
    """Two full-batch epochs of fit equal two steps of TORCH_OPTIMIZERS[name], run by hand."""
    X, y = toy_classification(n=40)
    X = X.astype(np.float64)
    model = make_mlp([5, 8, 3], dtype=torch.float64, seed=0)
    ref = copy.deepcopy(model)
    kwargs = {"momentum": 0.9} if name == "momentum" else {}  # fit's default for "momentum"
    # fit's weight_decay is 0 unless asked for, for AdamW too (whose own default is 0.01)
    opt = TORCH_OPTIMIZERS[name](ref.parameters(), lr=0.05, weight_decay=0.0, **kwargs)
    for _ in range(2):
        opt.zero_grad()
        nn.functional.cross_entropy(ref(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        opt.step()
    T.fit(model, X, y, epochs=2, batch_size=len(X), lr=0.05, optimizer=name)
    for got, want in zip(model.parameters(), ref.parameters()):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------
# Progress bar: tqdm.auto, only when asked, quiet when NNBOOK_PROGRESS says so
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "false", "no", "off", " OFF ", "False"])
def test_progress_bar_is_off_when_the_environment_says_so(monkeypatch, value):
    monkeypatch.setenv("NNBOOK_PROGRESS", value)
    assert not T.progress_enabled(True)
    assert not T.progress_enabled(False)


@pytest.mark.parametrize("value", [None, "", "1", "yes"])
def test_progress_bar_only_when_asked(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("NNBOOK_PROGRESS", raising=False)
    else:
        monkeypatch.setenv("NNBOOK_PROGRESS", value)
    assert T.progress_enabled(True)
    assert not T.progress_enabled(False)


def test_fit_shows_a_progress_bar_only_when_asked_and_allowed(capfd, monkeypatch):
    X, y = toy_classification(n=30)
    monkeypatch.delenv("NNBOOK_PROGRESS", raising=False)
    T.fit(make_mlp([5, 4, 3], seed=0), X, y, X_val=X, y_val=y, epochs=3, progress=True)
    err = capfd.readouterr().err
    assert "epochs" in err and "3/3" in err and "val_loss" in err  # tqdm's bar on stderr

    T.fit(make_mlp([5, 4, 3], seed=0), X, y, epochs=3)  # not asked
    monkeypatch.setenv("NNBOOK_PROGRESS", "0")
    T.fit(make_mlp([5, 4, 3], seed=0), X, y, epochs=3, progress=True)  # asked, not allowed
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_bar_does_not_change_the_numbers(monkeypatch):
    X, y = toy_classification(n=30)
    runs = []
    for value in ("1", "0"):
        monkeypatch.setenv("NNBOOK_PROGRESS", value)
        model = make_mlp([5, 4, 3], dropout=0.2, seed=0)
        runs.append(T.fit(model, X, y, X_val=X, y_val=y, epochs=3, progress=True))
    assert runs[0] == runs[1]


# ---------------------------------------------------------------------------------------
# Devices: the loop moves the model and the batches; predictions come back as NumPy
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_fit_trains_on_the_device_and_hands_the_model_back(device):
    X, y = toy_classification(n=60)
    model = make_mlp([5, 16, 3], dropout=0.2, seed=0)
    before = T.evaluate(model, X, y)
    h = T.fit(model, X, y, X_val=X, y_val=y, epochs=5, lr=0.2, device=device, seed=1)
    assert h.device == device
    assert all(p.device.type == "cpu" for p in model.parameters())  # where it was
    assert not model.training
    after = T.evaluate(model, X, y)
    assert after.loss < before.loss
    assert after.loss == pytest.approx(h.val_loss[-1], rel=1e-5)


@pytest.mark.parametrize("device", DEVICES)
def test_fit_on_a_device_matches_the_cpu(device):
    """The same run on the device and on the CPU: equal on the CPU, close on a GPU."""
    X, y = toy_classification(n=60)
    runs = {}
    for where in ("cpu", device):
        model = make_mlp([5, 16, 3], seed=0)
        h = T.fit(model, X, y, X_val=X, y_val=y, epochs=3, lr=0.1, device=where)
        runs[where] = (h, T.predict(model, X))
    (h_cpu, p_cpu), (h_dev, p_dev) = runs["cpu"], runs[device]
    if device == "cpu":
        assert h_dev == h_cpu
        np.testing.assert_array_equal(p_dev, p_cpu)
    else:  # other kernels: the last digits may differ
        np.testing.assert_allclose(h_dev.val_loss, h_cpu.val_loss, rtol=1e-4)
        np.testing.assert_allclose(p_dev, p_cpu, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
def test_predictions_of_a_model_on_any_device_are_numpy(device):
    X, y = toy_classification(n=30)
    model = make_mlp([5, 8, 3], seed=0)
    on_cpu = (T.predict(model, X), T.predict_proba(model, X), T.predict_labels(model, X))
    model.to(device)
    Xt = torch.from_numpy(X).to(device)  # inputs on the device are accepted too
    for got, want in zip(
        (T.predict(model, Xt), T.predict_proba(model, X), T.predict_labels(model, X)), on_cpu
    ):
        assert isinstance(got, np.ndarray)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    ev = T.evaluate(model, Xt, torch.from_numpy(y).to(device))
    assert ev.error == pytest.approx(np.mean(on_cpu[2] != y))


@pytest.mark.parametrize("device", DEVICES)
def test_fit_is_deterministic_on_the_device(device):
    X, y = toy_classification(n=60)
    runs = []
    for _ in range(2):
        model = make_mlp([5, 16, 3], dropout=0.3, seed=0)
        h = T.fit(model, X, y, epochs=3, augment=augment.gaussian_noise(0.1), device=device)
        runs.append((h, params(model)))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(p, q) for p, q in zip(runs[0][1], runs[1][1]))


def test_nnbook_device_replaces_auto(monkeypatch):
    X, y = toy_classification(n=30)
    monkeypatch.setenv("NNBOOK_DEVICE", "cpu")
    assert T.fit(make_mlp([5, 4, 3], seed=0), X, y, epochs=1).device == "cpu"
    monkeypatch.setenv("NNBOOK_DEVICE", "tpu")
    with pytest.raises(ValueError, match="expected NNBOOK_DEVICE"):
        T.fit(make_mlp([5, 4, 3], seed=0), X, y, epochs=1)
    # an explicit device is not overridden
    assert T.fit(make_mlp([5, 4, 3], seed=0), X, y, epochs=1, device="cpu").device == "cpu"
