"""Tests for nnbook.train, the PyTorch training loop of Chapters 6-7.

Small synthetic data only; the whole file runs in a few seconds on 2 CPU cores.
"""

from __future__ import annotations

import copy
import sys

import numpy as np
import pytest
import torch
from torch import nn

from nnbook.engine import activations
from nnbook.pytorch import augment, ensembles
from nnbook.pytorch import train as T
from nnbook.pytorch.models import make_mlp


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """These networks are tiny: one thread is faster than two (and immune to busy cores)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _toy_classification(n=120, d=5, K=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(size=(d, K))
    y = np.argmax(X @ W + 0.5 * rng.normal(size=(n, K)), axis=1)
    return X.astype(np.float32), y


def _params(model):
    return [p.detach().clone() for p in model.parameters()]


# ---------------------------------------------------------------------------------------
# make_mlp
# ---------------------------------------------------------------------------------------


def test_make_mlp_is_the_lectures_mnist_network():
    model = make_mlp([784, 256, 128, 10])
    # The lecture: "there are 235,146 parameters"
    assert sum(p.numel() for p in model.parameters()) == 235_146
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]  # linear output layer
    assert list(dict(model.named_children())) == ["linear0", "sigma0", "linear1", "sigma1", "beta"]


def test_make_mlp_dropout_after_each_hidden_activation():
    model = make_mlp([4, 8, 8, 2], activation="tanh", dropout=[0.1, 0.3])
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear"]
    assert [m.p for m in model if isinstance(m, nn.Dropout)] == [0.1, 0.3]
    with pytest.raises(ValueError, match="one dropout rate per hidden layer"):
        make_mlp([4, 8, 8, 2], dropout=[0.1])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        make_mlp([4, 8, 2], dropout=1.0)


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
def test_make_mlp_activation_matches_nnbook_activations(name):
    """The torch activation in the MLP computes the same sigma as the numpy one of Chapter 1."""
    model = make_mlp([1, 1, 1], activation=name, dtype=torch.float64)
    sigma = model.sigma0
    z = np.linspace(-4, 4, 41)
    ours = sigma(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(ours, activations.get(name)(z), rtol=1e-6, atol=1e-12)


def test_make_mlp_seed_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = make_mlp([3, 16, 2], seed=7)
    assert torch.equal(torch.rand(3), expected_next)  # global stream untouched
    b = make_mlp([3, 16, 2], seed=7)
    c = make_mlp([3, 16, 2], seed=8)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_make_mlp_bad_input():
    with pytest.raises(ValueError, match="at least 2 entries"):
        make_mlp([3])
    with pytest.raises(TypeError, match="sizes"):
        make_mlp("784-10")
    with pytest.raises(ValueError, match="activation"):
        make_mlp([3, 4, 1], activation="swish")


# ---------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------


def test_dropout_active_in_train_and_inactive_in_eval():
    phi = 0.5
    model = make_mlp([10, 200, 3], dropout=phi, seed=0)
    seen = {}
    model.dropout0.register_forward_hook(
        lambda m, inp, out: seen.update(h=inp[0].detach(), out=out.detach())
    )
    x = torch.randn(50, 10, generator=torch.Generator().manual_seed(1))

    model.train()
    y1 = model(x)
    h, out = seen["h"], seen["out"]
    kept = out != 0
    active = h != 0
    # inverted dropout: each unit is either dropped or scaled by 1/(1 - phi)
    torch.testing.assert_close(out[kept], h[kept] / (1 - phi))
    dropped = (active & ~kept).sum().item() / active.sum().item()
    assert abs(dropped - phi) < 0.05
    y2 = model(x)
    assert not torch.equal(y1, y2)  # a fresh mask each forward pass

    model.eval()
    e1, e2 = model(x), model(x)
    assert torch.equal(e1, e2)
    assert torch.equal(seen["out"], seen["h"])  # identity in eval mode
    # eval mode equals the same network without the dropout layer
    plain = nn.Sequential(model.linear0, model.sigma0, model.beta)
    torch.testing.assert_close(e1, plain(x))

    # predict() switches dropout off by itself and puts the model back in train mode
    model.train()
    np.testing.assert_array_equal(T.predict(model, x.numpy()), e1.detach().numpy())
    assert model.training


# ---------------------------------------------------------------------------------------
# fit: determinism
# ---------------------------------------------------------------------------------------


def test_fit_is_deterministic_with_dropout_augmentation_and_shuffling():
    X, y = _toy_classification()
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
    X, y = _toy_classification()
    torch.manual_seed(5)
    expected_next = torch.rand(3)
    threads = torch.get_num_threads()
    torch.manual_seed(5)
    model = make_mlp([5, 8, 3], dropout=0.2, seed=0)
    T.fit(model, X, y, epochs=2, num_threads=2 if threads == 1 else 1)
    assert torch.equal(torch.rand(3), expected_next)
    assert torch.get_num_threads() == threads
    assert not model.training  # returned in eval mode


def test_fit_records_one_entry_per_epoch():
    X, y = _toy_classification()
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
    X, y = _toy_classification(n=40)
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
    return _params(model)


@pytest.mark.parametrize("penalize", ["all", "weights"])
def test_weight_decay_through_the_optimiser_is_the_lectures_update(penalize):
    """theta <- (1 - eta lambda) theta - eta grad R(theta), for plain SGD (one full-batch step)."""
    X, y = _toy_classification(n=50)
    X = X.astype(np.float64)
    eta, lam = 0.3, 0.2
    model = make_mlp([5, 16, 3], dtype=torch.float64, seed=0)
    theta0 = _params(model)

    # independent reference: grad R by autograd on the mean cross-entropy, then the formula
    ref = copy.deepcopy(model)
    loss = nn.functional.cross_entropy(ref(torch.from_numpy(X)), torch.from_numpy(y))
    grads = torch.autograd.grad(loss, list(ref.parameters()))
    expected = []
    for (name, p), g in zip(ref.named_parameters(), grads):
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
    X, y = _toy_classification(n=50)
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
    X, y = _toy_classification()
    norms = {}
    for lam in (0.0, 0.05):
        model = make_mlp([5, 32, 3], seed=0)
        T.fit(model, X, y, epochs=30, batch_size=32, lr=0.1, l2=lam)
        norms[lam] = sum((p.detach() ** 2).sum().item() for p in model.parameters())
    assert norms[0.05] < 0.8 * norms[0.0]


# ---------------------------------------------------------------------------------------
# Early stopping
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
        patience=50,
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
    X, y = _toy_classification(n=200)
    model = make_mlp([5, 16, 3], seed=0)
    h = T.fit(
        model,
        X[:150],
        y[:150],
        X_val=X[150:],
        y_val=y[150:],
        epochs=200,
        lr=0.5,
        patience=5,
        monitor="error",
    )
    assert h.best_value == min(h.val_error)
    assert h.best_epoch == 1 + h.val_error.index(min(h.val_error))  # first epoch reaching it
    assert T.evaluate(model, X[150:], y[150:]).error == pytest.approx(h.best_value)


# ---------------------------------------------------------------------------------------
# Data augmentation
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "aug",
    [
        augment.gaussian_noise(0.3),
        augment.random_shift(2),
        augment.compose(augment.random_shift(1), augment.gaussian_noise(0.1)),
    ],
)
@pytest.mark.parametrize("shape", [(6, 784), (6, 28, 28), (6, 1, 28, 28)])
def test_augmentations_keep_shape_and_type(aug, shape):
    x = np.random.default_rng(0).uniform(size=shape).astype(np.float32)
    out = aug(x)
    assert isinstance(out, np.ndarray) and out.shape == shape
    out_t = aug(torch.from_numpy(x))
    assert isinstance(out_t, torch.Tensor) and out_t.shape == shape and out_t.dtype == torch.float32


@pytest.mark.parametrize(
    "make",
    [lambda s: augment.gaussian_noise(0.3, seed=s), lambda s: augment.random_shift(2, seed=s)],
)
def test_augmentations_are_seeded(make):
    x = np.random.default_rng(0).uniform(size=(8, 784))
    a, b, c = make(0), make(0), make(1)
    a1, a2 = a(x), a(x)
    np.testing.assert_array_equal(a1, b(x))  # same seed, same sequence
    np.testing.assert_array_equal(a2, b(x))
    assert not np.array_equal(a1, a2)  # a fresh draw each call
    assert not np.array_equal(a1, c(x))  # another seed, another draw
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    np.testing.assert_array_equal(
        a(x, generator=g1), c(x, generator=g2)
    )  # an explicit generator wins


def test_gaussian_noise_has_the_right_distribution():
    x = np.zeros((400, 784))
    eps = augment.gaussian_noise(0.25, seed=0)(x)
    assert abs(eps.mean()) < 0.002
    assert eps.std() == pytest.approx(0.25, rel=0.01)


def test_random_shift_moves_a_pixel_with_zero_fill():
    n, s = 500, 2
    img = np.zeros((n, 28, 28))
    img[:, 14, 10] = 1.0
    out = augment.random_shift(s, seed=0)(img.reshape(n, 784)).reshape(n, 28, 28)
    offsets = set()
    for k in range(n):
        (r,), (c,) = np.nonzero(out[k])
        assert out[k].sum() == 1.0  # interior pixel: nothing lost, nothing else appears
        dy, dx = r - 14, c - 10
        assert abs(dy) <= s and abs(dx) <= s
        offsets.add((dy, dx))
    assert len(offsets) == (2 * s + 1) ** 2  # every shift occurs

    # zero fill, not wrap-around: a full image loses exactly |dy| rows and |dx| columns
    ones = np.ones((n, 28, 28))
    shifted = augment.random_shift(s, seed=1)(ones)
    for k in range(n):
        rows_kept = int(shifted[k].any(axis=1).sum())
        cols_kept = int(shifted[k].any(axis=0).sum())
        assert shifted[k].sum() == rows_kept * cols_kept
        assert rows_kept >= 28 - s and cols_kept >= 28 - s


def test_random_shift_matches_an_independent_shift():
    """For each sample, recover (dy, dx) from a marker pixel and compare with a numpy shift."""
    rng = np.random.default_rng(0)
    n, s = 50, 3
    img = rng.uniform(size=(n, 28, 28))
    img[:, 14, 14] = 10.0  # marker, away from the borders
    out = augment.random_shift(s, seed=2)(img)
    for k in range(n):
        r, c = np.unravel_index(np.argmax(out[k]), (28, 28))
        dy, dx = r - 14, c - 14
        padded = np.pad(img[k], s)
        want = padded[s - dy : s - dy + 28, s - dx : s - dx + 28]
        np.testing.assert_array_equal(out[k], want)


def test_random_shift_rejects_non_images():
    with pytest.raises(ValueError, match=r"\(n, 784\)"):
        augment.random_shift(2)(np.zeros((3, 100)))


def test_fit_applies_augment_to_every_training_batch_only():
    X, y = _toy_classification(n=50)
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
    X, y = _toy_classification(n=60)
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
    X, y = _toy_classification(n=20)
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
        (dict(X_train=X, y_train=y, patience=3), ValueError, "validation set"),
        (dict(X_train=X, y_train=y, X_val=X, y_val=y[:5]), ValueError, "y_val"),
        (dict(X_train=X, y_train=y, loss="hinge"), ValueError, "loss"),
        (dict(X_train=X, y_train=y, optimizer="lbfgs"), ValueError, "optimizer"),
        (dict(X_train=X, y_train=y, optimizer="adam", momentum=0.9), ValueError, "momentum"),
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
    X, y = _toy_classification(n=30)
    h = T.fit(make_mlp([5, 4, 3], seed=0), torch.from_numpy(X), torch.from_numpy(y), epochs=1)
    assert h.epochs == 1
    with pytest.raises(TypeError, match="torch.nn.Module"):
        T.fit(lambda x: x, X, y)


# ---------------------------------------------------------------------------------------
# Progress bar
# ---------------------------------------------------------------------------------------


class _TTY:
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        return self.tty

    def write(self, s):
        return len(s)

    def flush(self):
        pass


def test_progress_bar_only_when_asked_and_watched(monkeypatch):
    monkeypatch.delenv("NNBOOK_PROGRESS", raising=False)
    monkeypatch.setattr(sys, "stderr", _TTY(True))
    assert T.progress_enabled(True)
    assert not T.progress_enabled(False)
    monkeypatch.setenv("NNBOOK_PROGRESS", "0")
    assert not T.progress_enabled(True)
    monkeypatch.delenv("NNBOOK_PROGRESS")
    monkeypatch.setattr(sys, "stderr", _TTY(False))  # a build log, a CI job, a pipe
    assert not T.progress_enabled(True)


def test_progress_bar_follows_the_kernel_stdin_flag(monkeypatch):
    """In a notebook kernel: on when the frontend allows input (a live notebook), off under nbclient."""
    monkeypatch.delenv("NNBOOK_PROGRESS", raising=False)
    monkeypatch.setattr(sys, "stderr", _TTY(True))

    class Kernel:
        _allow_stdin = True

    class Shell:
        kernel = Kernel()

    class FakeIPython:
        @staticmethod
        def get_ipython():
            return Shell()

    monkeypatch.setitem(sys.modules, "IPython", FakeIPython)
    assert T.progress_enabled(True)
    Kernel._allow_stdin = False  # nbmake / jupyter-book execute with allow_stdin=False
    assert not T.progress_enabled(True)


def test_fit_with_progress_is_quiet_when_not_watched(capfd, monkeypatch):
    monkeypatch.delenv("NNBOOK_PROGRESS", raising=False)
    X, y = _toy_classification(n=30)
    T.fit(make_mlp([5, 4, 3], seed=0), X, y, epochs=2, progress=True)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


# ---------------------------------------------------------------------------------------
# Random restarts
# ---------------------------------------------------------------------------------------


def test_averaging_restarts_reduces_prediction_variance():
    """Measured: the spread of an average of M restarts is well below that of one restart."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(30, 1))
    y = np.sin(2 * x[:, 0]) + 0.3 * rng.normal(size=30)
    grid = np.linspace(-2.5, 2.5, 50)[:, None]
    M, groups = 4, 4
    make = lambda: make_mlp([1, 32, 32, 1])  # noqa: E731 - fresh init from the restart's seed
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
    X, y = _toy_classification(n=20)
    with pytest.warns(UserWarning, match="same initial weights"):
        ensembles.fit_restarts(lambda: make_mlp([5, 4, 3], seed=0), 2, X, y, epochs=1)


def test_average_predictions_of_probabilities():
    X, y = _toy_classification(n=20)
    models = [make_mlp([5, 4, 3], seed=s) for s in range(3)]
    avg = ensembles.average_predictions(models, X, proba=True)
    np.testing.assert_allclose(avg.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(avg, np.mean([T.predict_proba(m, X) for m in models], axis=0))
    with pytest.raises(TypeError, match="list of torch.nn.Module"):
        ensembles.average_predictions(models[0], X)
