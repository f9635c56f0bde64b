"""Tests for nnbook.engine.optim: update rules against torch.optim, schedules against
torch.optim.lr_scheduler, mini-batches, and the training loop."""

from __future__ import annotations

from math import ceil

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnbook.engine.layers import Parameter
from nnbook.engine.losses import CrossEntropy
from nnbook.engine.mlp import MLP
from nnbook.engine.optim import (
    GD,
    SGD,
    Adam,
    Constant,
    CosineDecay,
    ExponentialDecay,
    LRScheduler,
    Momentum,
    RMSprop,
    StepDecay,
    fit,
    minibatch_stream,
    minibatches,
    train_epoch,
    train_step,
)

FAST = settings(max_examples=25, deadline=None)

# (ours, torch's, keyword arguments both accept)
OPTIMISERS = [
    (SGD, torch.optim.SGD, dict(lr=0.1)),
    (SGD, torch.optim.SGD, dict(lr=0.05, weight_decay=0.01)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    (Momentum, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (RMSprop, torch.optim.RMSprop, dict(lr=0.01)),
    (RMSprop, torch.optim.RMSprop, dict(lr=0.003, alpha=0.9, eps=1e-6, weight_decay=0.05)),
    (Adam, torch.optim.Adam, dict(lr=0.001)),
    (Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.02)),
]


@pytest.mark.parametrize(
    "ours, theirs, kwargs", OPTIMISERS, ids=lambda x: getattr(x, "__name__", "")
)
def test_update_rule_matches_torch_over_several_steps(ours, theirs, kwargs):
    if ours is Momentum:
        kwargs = {k: v for k, v in kwargs.items() if k != "momentum"}  # Momentum's default is 0.9
        torch_kwargs = dict(kwargs, momentum=0.9)
    else:
        torch_kwargs = kwargs
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (4,), (2, 4)]
    params = [Parameter(rng.standard_normal(s)) for s in shapes]
    params_t = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]
    opt = ours(params, **kwargs)
    opt_t = theirs(params_t, **torch_kwargs)
    for step in range(6):
        grads = [
            rng.standard_normal(s) * 10.0 ** (step % 3 - 1) for s in shapes
        ]  # the same gradients for both
        opt.zero_grad()
        opt_t.zero_grad()
        for p, p_t, g in zip(params, params_t, grads):
            p.grad = g
            p_t.grad = torch.tensor(g)
        opt.step()
        opt_t.step()
        for p, p_t in zip(params, params_t):
            np.testing.assert_allclose(p.data, p_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert opt.k == 6


def test_gd_on_a_quadratic_is_the_textbook_update():
    theta = Parameter(np.array([1.0, -2.0]))
    opt = GD([theta], lr=0.1, weight_decay=0.5)
    theta.grad = np.array([0.3, 0.4])
    opt.step()
    # theta <- (1 - eta lambda) theta - eta grad
    np.testing.assert_allclose(
        theta.data, (1 - 0.1 * 0.5) * np.array([1.0, -2.0]) - 0.1 * np.array([0.3, 0.4])
    )
    assert theta.grad.tolist() == [0.3, 0.4]  # weight decay does not touch the stored gradient


@pytest.mark.parametrize("cls", [SGD, Momentum, RMSprop, Adam])
def test_float32_parameters_stay_float32(cls):
    p = Parameter(np.ones((3, 2), dtype=np.float32))
    opt = cls([p], lr=0.01, weight_decay=0.1)
    for _ in range(3):
        p.grad = np.full((3, 2), 0.5, dtype=np.float32)
        opt.step()
    assert p.data.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[0].values())


def test_optimiser_rejects_bad_arguments():
    p = Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="lr > 0"):
        SGD([p], lr=-0.1)
    with pytest.raises(TypeError, match="Parameter"):
        SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-empty"):
        Adam([], lr=0.1)
    with pytest.raises(ValueError, match="momentum in"):
        SGD([p], lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="betas"):
        Adam([p], betas=(0.9,))


# ---------------------------------------------------------------------------- schedules


def torch_lrs(make_scheduler, K: int, eta0: float) -> list[float]:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=eta0)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(K):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def test_step_decay_matches_torch_steplr():
    ours = StepDecay(0.1, step_size=7, gamma=0.5).values(40)
    theirs = torch_lrs(
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5), 40, 0.1
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_exponential_decay_matches_torch_exponentiallr():
    ours = ExponentialDecay(0.2, gamma=0.9).values(30)
    theirs = torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), 30, 0.2)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_cosine_matches_torch_cosineannealinglr_then_stays_at_eta_min():
    K = 25
    ours = CosineDecay(0.3, K=K, eta_min=0.01).values(K + 1)
    theirs = torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=K, eta_min=0.01), K + 1, 0.3
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    assert ours[0] == 0.3 and ours[-1] == pytest.approx(0.01)
    assert CosineDecay(0.3, K=K, eta_min=0.01)(3 * K) == pytest.approx(0.01)


def test_lr_scheduler_drives_the_optimiser():
    p = Parameter(np.zeros(1))
    opt = SGD([p], lr=1.0)
    sched = LRScheduler(opt, ExponentialDecay(0.5, 0.1))
    assert opt.lr == 0.5
    sched.step()
    assert opt.lr == pytest.approx(0.05) and sched.lr == opt.lr
    LRScheduler(opt, lambda k: 0.25)
    assert opt.lr == 0.25
    assert Constant(0.3).values(3).tolist() == [0.3, 0.3, 0.3]
    with pytest.raises(ValueError, match="k"):
        StepDecay(0.1, 5)(-1)
    with pytest.raises(TypeError, match="function"):
        LRScheduler(opt, 0.1)


# ---------------------------------------------------------------------------- mini-batches


@FAST
@given(N=st.integers(1, 500), B=st.integers(1, 200), seed=st.integers(0, 1000))
def test_minibatches_cover_every_sample_once_in_ceil_N_over_B_batches(N, B, seed):
    batches = list(minibatches(N, B, np.random.default_rng(seed)))
    assert len(batches) == ceil(N / B)
    assert all(len(b) == B for b in batches[:-1]) and 1 <= len(batches[-1]) <= B
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(N))
    dropped = list(minibatches(N, B, np.random.default_rng(seed), drop_last=True))
    assert len(dropped) == N // B and all(len(b) == B for b in dropped)


def test_minibatches_are_shuffled_reproducibly():
    rng = np.random.default_rng(0)
    first, second = (
        np.concatenate(list(minibatches(100, 10, rng))),
        np.concatenate(list(minibatches(100, 10, rng))),
    )
    assert not np.array_equal(first, second)  # a new order each epoch
    np.testing.assert_array_equal(
        first, np.concatenate(list(minibatches(100, 10, np.random.default_rng(0))))
    )
    np.testing.assert_array_equal(
        np.concatenate(list(minibatches(10, 3, shuffle=False))), np.arange(10)
    )
    assert (
        len(list(minibatches(60_000, 128, rng))) == 469
    )  # the lecture's question: updates per epoch at B = 128
    with pytest.raises(TypeError, match="rng"):
        list(minibatches(10, 3))
    with pytest.raises(ValueError, match="B"):
        list(minibatches(10, 0, rng))


# ---------------------------------------------------------------------------- training


def blobs(n: int, rng: np.random.Generator):
    centres = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    y = rng.integers(0, 3, n)
    return centres[y] + 0.5 * rng.standard_normal((n, 2)), y


def test_train_epoch_equals_the_loop_written_out():
    rng = np.random.default_rng(0)
    X, y = blobs(100, rng)
    a, b = MLP([2, 8, 3], rng=1), MLP([2, 8, 3], rng=1)
    opt_a, opt_b = SGD(a.parameters(), lr=0.1), SGD(b.parameters(), lr=0.1)
    mean_loss = train_epoch(a, CrossEntropy(), opt_a, X, y, B=32, rng=np.random.default_rng(5))
    loss, total = CrossEntropy(), 0.0
    for idx in minibatches(100, 32, np.random.default_rng(5)):
        total += loss.forward(b.forward(X[idx]), y[idx]) * len(idx)
        b.zero_grad()
        b.backward(loss.backward())
        opt_b.step()
    assert mean_loss == pytest.approx(total / 100, rel=1e-12)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-12)


@pytest.mark.parametrize("optimiser", ["sgd", "momentum", "rmsprop", "adam"])
def test_fit_learns_a_separable_problem(optimiser):
    rng = np.random.default_rng(0)
    X, y = blobs(300, rng)
    X_val, y_val = blobs(200, rng)
    model = MLP([2, 16, 3], rng=1)
    opt = {
        "sgd": lambda: SGD(model.parameters(), lr=0.2),
        "momentum": lambda: Momentum(model.parameters(), lr=0.05),
        "rmsprop": lambda: RMSprop(model.parameters(), lr=0.01),
        "adam": lambda: Adam(model.parameters(), lr=0.02),
    }[optimiser]()
    history = fit(model, X, y, optimizer=opt, epochs=15, B=32, rng=2, validation=(X_val, y_val))
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert history["val_error"][-1] < 0.05
    assert len(history["val_loss"]) == 15


def test_fit_with_a_schedule_and_float32():
    rng = np.random.default_rng(0)
    X, y = blobs(200, rng)
    model = MLP([2, 16, 3], dtype=np.float32, rng=1)
    opt = SGD(model.parameters(), lr=1.0)
    sched = LRScheduler(opt, StepDecay(0.2, step_size=2, gamma=0.5))
    history = fit(
        model, X.astype(np.float32), y, optimizer=opt, scheduler=sched, epochs=4, B=50, rng=0
    )
    assert opt.lr == pytest.approx(0.05)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert all(p.dtype == np.float32 for p in model.parameters())
    with pytest.raises(TypeError, match="float32"):
        fit(model, X, y, epochs=1)  # float64 data into a float32 model


def test_train_step_is_one_torch_sgd_step():
    from nnbook.pytorch.convert import mlp_to_torch

    rng = np.random.default_rng(3)
    X, y = blobs(16, rng)
    model = MLP([2, 5, 3], activation="tanh", rng=4)
    seq = mlp_to_torch(model)
    opt_t = torch.optim.SGD(seq.parameters(), lr=0.3)
    loss_t = torch.nn.functional.cross_entropy(seq(torch.tensor(X)), torch.tensor(y))
    loss_t.backward()
    opt_t.step()
    value = train_step(model, CrossEntropy(), SGD(model.parameters(), lr=0.3), X, y)
    assert value == pytest.approx(loss_t.item(), rel=1e-12)
    for p, t in zip(model.parameters(), seq.parameters()):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_minibatch_stream_runs_K_updates_over_shuffled_epochs():
    N, B = 10, 4  # 3 batches per epoch
    batches = list(minibatch_stream(N, B, 7, np.random.default_rng(1)))
    assert [len(b) for b in batches] == [4, 4, 2, 4, 4, 2, 4]
    rng = np.random.default_rng(1)
    epoch1, epoch2 = list(minibatches(N, B, rng)), list(minibatches(N, B, rng))
    for got, want in zip(batches, epoch1 + epoch2):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(np.concatenate(epoch1), np.concatenate(epoch2))
    # K = one whole epoch draws exactly one permutation: the generator is left as after one epoch
    stream_rng, epoch_rng = np.random.default_rng(2), np.random.default_rng(2)
    list(minibatch_stream(N, B, 3, stream_rng))
    epoch_rng.permutation(N)
    assert stream_rng.random() == epoch_rng.random()
    assert list(minibatch_stream(N, B, 0, 0)) == []


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_training_entry_points_reject_nan_and_inf_naming_the_array(bad):
    rng = np.random.default_rng(0)
    X, y = blobs(40, rng)
    model = MLP([2, 4, 3], rng=0)
    before = [p.data.copy() for p in model.parameters()]
    X_bad = X.copy()
    X_bad[7, 1] = bad
    message = "expected {} to be finite, but it contains NaN or inf"
    with pytest.raises(ValueError, match=message.format("X")):
        fit(model, X_bad, y, epochs=1)
    with pytest.raises(ValueError, match=message.format("X")):
        train_epoch(model, CrossEntropy(), SGD(model.parameters(), lr=0.1), X_bad, y, 8, rng)
    with pytest.raises(ValueError, match=message.format("X_val")):
        fit(model, X, y, epochs=1, validation=(X_bad, y))
    regression = MLP([2, 3, 1], rng=0)
    targets = X[:, :1].copy()
    targets[3] = bad
    with pytest.raises(ValueError, match=message.format("y")):
        fit(regression, X, targets, loss="squared_error", epochs=1)
    with pytest.raises(ValueError, match=message.format("y_val")):
        fit(model, X, y, epochs=1, validation=(X, np.full((40, 3), bad)))
    # rejected before any update: the model is untouched
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))
