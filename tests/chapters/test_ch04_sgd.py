"""Tests for nnbook.chapters.ch04_sgd (Stochastic (mini-batch) gradient descent).

References are independent of the code under test: the closed-form least-squares gradient of
nnbook.engine.quadratic.Quadratic, PyTorch autograd and torch.optim, exhaustive enumeration of all
mini-batches of a tiny data set, the exact GD recursion, and the variance arithmetic of
ReLU layers (Var f_{l+1} = d s^2 Var z / 2).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from nnbook.chapters import ch04_sgd as sgd
from nnbook.data import make_spirals
from nnbook.engine import optim
from nnbook.engine.mlp import MLP
from nnbook.engine.quadratic import Quadratic
from nnbook.pytorch.convert import mlp_to_torch


def regression_data(N=200, p=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, p))
    y = X @ rng.standard_normal(p) + 0.5 * rng.standard_normal(N)
    return X, y


def mlp_data(N=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (N, 2))
    y = np.sin(X[:, 0]) * np.cos(X[:, 1]) + 0.1 * rng.standard_normal(N)
    return X, y


# --------------------------------------------------------------------------- the finite sum


def test_least_squares_risk_matches_the_quadratic_of_chapter_3():
    X, y = regression_data()
    risk, Q = sgd.LeastSquaresRisk(X, y), Quadratic.least_squares(X, y)
    theta = np.array([0.3, -1.0, 2.0, 0.5])
    assert risk(theta) == pytest.approx(Q(theta), rel=1e-12)
    np.testing.assert_allclose(risk.grad(theta), Q.grad(theta), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(risk.per_sample_grads(theta).mean(axis=0), Q.grad(theta), atol=1e-12)
    idx = np.array([3, 17, 42])
    manual = np.mean([(X[i] @ theta - y[i]) * X[i] for i in idx], axis=0)
    np.testing.assert_allclose(risk.grad(theta, idx), manual, atol=1e-12)
    np.testing.assert_allclose(risk.minimizer(), Q.minimizer(), atol=1e-10)


def test_model_gradient_and_per_sample_gradients_match_torch_autograd():
    X, y = mlp_data(N=30)
    model = MLP([2, 5, 4, 1], activation="tanh", init="xavier", rng=3)
    net = mlp_to_torch(model)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)[:, None]
    loss = 0.5 * ((net(Xt) - yt) ** 2).sum(dim=1).mean()
    expected = torch.cat(
        [g.reshape(-1) for g in torch.autograd.grad(loss, list(net.parameters()))]
    ).numpy()
    np.testing.assert_allclose(
        sgd.model_gradient(model, "squared_error", X, y), expected, atol=1e-13
    )
    G = sgd.per_sample_gradients(model, "squared_error", X, y)
    assert G.shape == (30, model.n_parameters())
    net.zero_grad()
    one = 0.5 * ((net(Xt[7:8]) - yt[7:8]) ** 2).sum()
    row7 = torch.cat(
        [g.reshape(-1) for g in torch.autograd.grad(one, list(net.parameters()))]
    ).numpy()
    np.testing.assert_allclose(G[7], row7, atol=1e-13)
    np.testing.assert_allclose(G.mean(axis=0), expected, atol=1e-13)
    np.testing.assert_array_equal(
        sgd.flat_parameters(model)[: 5 * 2], model.hidden[0].W.data.ravel()
    )


# --------------------------------------------------------------------------- sampling and epochs


@pytest.mark.parametrize("N, B", [(60_000, 128), (1000, 32), (10, 3), (7, 7), (20_000, 1)])
def test_updates_per_epoch_counts_the_batches_of_an_epoch(N, B):
    batches = list(optim.minibatches(N, B, rng=0))
    assert sgd.updates_per_epoch(N, B) == len(batches)
    assert sgd.updates_per_epoch(N, B, drop_last=True) == len(
        list(optim.minibatches(N, B, rng=0, drop_last=True))
    )


def test_the_lectures_mnist_question():
    assert sgd.updates_per_epoch(60_000, 128) == 469  # 468 * 128 = 59,904 < 60,000 <= 469 * 128
    assert sgd.updates_per_epoch(60_000, 128, drop_last=True) == 468


def test_sample_batches_without_replacement_are_uniform_subsets():
    N, B, n = 5, 2, 20_000
    batches = sgd.sample_batches(N, B, n, rng=1)
    assert batches.shape == (n, B)
    assert np.all(batches[:, 0] != batches[:, 1])
    counts = {}
    for row in batches:
        key = tuple(sorted(row))
        counts[key] = counts.get(key, 0) + 1
    assert set(counts) == set(itertools.combinations(range(N), B))  # all 10 subsets occur
    expected = n / 10
    assert max(abs(c - expected) for c in counts.values()) < 5 * np.sqrt(expected)


def test_sample_batches_with_replacement_may_repeat_and_cover_uniformly():
    batches = sgd.sample_batches(4, 6, 5000, rng=2, replace=True)  # B > N is fine with replacement
    assert batches.shape == (5000, 6)
    freq = np.bincount(batches.ravel(), minlength=4) / batches.size
    np.testing.assert_allclose(freq, 0.25, atol=0.01)


# --------------------------------------------------------------------------- unbiasedness


def test_minibatch_gradient_is_unbiased_for_least_squares():
    X, y = regression_data(N=300, p=4, seed=1)
    risk = sgd.LeastSquaresRisk(X, y)
    theta = np.array([1.0, -0.5, 0.2, 0.0])
    full = Quadratic.least_squares(X, y).grad(theta)  # independent full gradient
    for replace in (False, True):
        check = sgd.unbiasedness_check(
            lambda idx: risk.grad(theta, idx), full, 300, 8, 20_000, rng=3, replace=replace
        )
        assert check.max_abs_z < 4.5
        np.testing.assert_allclose(check.full, full)
        assert np.all(check.stderr > 0)
    # Sampling only from the first half of the rows is biased, and the check sees it.
    biased = sgd.unbiasedness_check(lambda idx: risk.grad(theta, idx), full, 150, 8, 20_000, rng=3)
    assert biased.max_abs_z > 10


def test_minibatch_gradient_is_unbiased_for_an_mlp():
    X, y = mlp_data(N=120)
    model = MLP([2, 6, 1], activation="tanh", init="xavier", rng=0)
    full = sgd.model_gradient(model, "squared_error", X, y)

    def grad(idx):
        return sgd.model_gradient(model, "squared_error", X[idx], y[idx])

    check = sgd.unbiasedness_check(grad, full, 120, 10, 4000, rng=4)
    assert check.z.shape == full.shape
    assert check.max_abs_z < 5
    # A common bug: summing instead of averaging over the batch (reduction="sum" / B times too big).
    wrong = sgd.unbiasedness_check(lambda idx: 10 * grad(idx), full, 120, 10, 4000, rng=4)
    assert wrong.max_abs_z > 20


def test_unbiasedness_check_handles_constant_coordinates():
    G = np.array([[1.0, 2.0], [1.0, 4.0], [1.0, 6.0]])
    check = sgd.unbiasedness_check(
        lambda idx: G[idx].mean(axis=0), G.mean(axis=0), 3, 1, 500, rng=0
    )
    assert check.z[0] == 0.0 and check.stderr[0] == 0.0
    off = sgd.unbiasedness_check(
        lambda idx: G[idx].mean(axis=0), np.array([0.0, 4.0]), 3, 1, 500, rng=0
    )
    assert np.isinf(off.z[0])


# --------------------------------------------------------------------------- variance


def test_gradient_variance_equals_enumeration_over_all_batches():
    rng = np.random.default_rng(5)
    N, p = 7, 3
    G = rng.standard_normal((N, p)) + np.array([1.0, -2.0, 0.5])
    full = G.mean(axis=0)
    for B in range(1, N + 1):
        subsets = list(itertools.combinations(range(N), B))
        exact = np.mean([np.sum((G[list(s)].mean(axis=0) - full) ** 2) for s in subsets])
        assert sgd.gradient_variance(G, B) == pytest.approx(exact, rel=1e-12, abs=1e-15)
    for B in (1, 2, 3):
        tuples = list(itertools.product(range(N), repeat=B))
        exact = np.mean([np.sum((G[list(t)].mean(axis=0) - full) ** 2) for t in tuples])
        assert sgd.gradient_variance(G, B, replace=True) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("B", [2, 10, 50, 150, 199])
def test_sampled_variance_ratio_matches_the_finite_population_formula(B):
    X, y = regression_data(N=200, p=4, seed=2)
    G = sgd.LeastSquaresRisk(X, y).per_sample_grads(np.zeros(4))
    N = 200
    v1 = sgd.sampled_variance(G, 1, 40_000, rng=6)
    vB = sgd.sampled_variance(G, B, 40_000, rng=7)
    expected = (N - B) / (B * (N - 1))
    assert vB / v1 == pytest.approx(expected, rel=0.06)
    # without the finite-population correction the ratio would be 1/B: visibly off for large B
    if B >= 50:
        assert abs(vB / v1 - 1 / B) > 0.2 / B


def test_full_batch_has_no_sampling_noise():
    X, y = regression_data(N=50, p=3)
    G = sgd.LeastSquaresRisk(X, y).per_sample_grads(np.ones(3))
    assert sgd.gradient_variance(G, 50) == 0.0
    assert sgd.sampled_variance(G, 50, 100, rng=0) < 1e-25
    assert sgd.finite_population_correction(50, 1) == 1.0
    assert sgd.finite_population_correction(1, 1) == 1.0


# --------------------------------------------------------------------------- initialisation


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_zero_init_keeps_hidden_units_identical_during_training(activation):
    X, y = mlp_data(N=80)
    model = MLP([2, 8, 8, 1], activation=activation, init="zeros", rng=0)
    sgd.train_trace(model, X, y, optim.SGD(model.parameters(), lr=0.3), B=10, epochs=5, rng=0)
    assert sgd.symmetry_gap(model) == 0.0
    one = sgd.one_unit_equivalent(model)
    assert one.sizes == (2, 1, 1, 1)
    np.testing.assert_allclose(one.predict(X), model.predict(X), atol=1e-12)
    W0 = model.hidden[0].W.data
    if activation == "sigmoid":  # sigma(0) = 1/2 != 0: the weights move, but all units together
        assert np.abs(W0).max() > 1e-6 and np.abs(model.output.W.data).min() > 1e-3
    else:  # sigma(0) = 0: no hidden weight ever gets a gradient
        assert np.abs(W0).max() == 0.0


def test_random_init_breaks_the_symmetry():
    model = MLP([2, 8, 1], activation="tanh", init="xavier", rng=0)
    assert sgd.symmetry_gap(model) > 0.1
    with pytest.raises(ValueError, match="identical"):
        sgd.one_unit_equivalent(model)


def test_he_keeps_relu_activations_steady_while_small_init_collapses():
    he = sgd.activation_statistics("he", "relu", depth=12, width=256, n=400, rng=0)
    small = sgd.activation_statistics("small", "relu", depth=12, width=256, n=400, rng=0)
    xav = sgd.activation_statistics("xavier", "relu", depth=12, width=256, n=400, rng=0)
    big = sgd.activation_statistics(1.0, "relu", depth=12, width=256, n=400, rng=0)
    assert he.std.max() / he.std.min() < 1.6
    assert 0.5 < he.std[-1] < 2.0
    assert he.grad_std.max() / he.grad_std.min() < 1.6
    assert small.std[-1] < 1e-8 * small.std[0]
    assert big.std[-1] > 1e8 * big.std[0]
    # Xavier with Var = 1/d for ReLU: E f_{l+1}^2 = d (1/d) E z^2/2
    # -> the std halves every 2 layers.
    ratio = np.exp(np.mean(np.diff(np.log(xav.std))))
    assert ratio == pytest.approx(np.sqrt(0.5), rel=0.05)
    assert he.std.shape == he.mean.shape == he.grad_std.shape == (12,)
    assert he.std_input == pytest.approx(1.0, rel=0.02)


def test_too_large_tanh_init_saturates():
    stats = sgd.activation_statistics(1.0, "tanh", depth=6, width=256, n=300, rng=0)
    assert np.all(stats.std > 0.95)  # |tanh| near 1 everywhere
    assert stats.init == "N(0, 1^2)"


# --------------------------------------------------------------------------- training


def test_train_trace_with_B_equal_N_is_gradient_descent():
    X, y = regression_data(N=64, p=3, seed=4)
    model = MLP([3, 1], init="zeros", rng=0)  # a linear model f = W x + b
    trace = sgd.train_trace(
        model, X, y, optim.SGD(model.parameters(), lr=0.2), B=64, epochs=15, rng=0
    )
    X1 = np.column_stack([X, np.ones(64)])  # theta = (W, b)
    Q = Quadratic.least_squares(X1, y)
    traj = [np.zeros(4)]
    for _ in range(15):  # GD written out: theta <- theta - eta (A theta - b)
        traj.append(traj[-1] - 0.2 * Q.grad(traj[-1]))
    np.testing.assert_allclose(sgd.flat_parameters(model), traj[-1], atol=1e-12)
    np.testing.assert_allclose(trace.loss, [Q(t) for t in traj], rtol=1e-10)
    np.testing.assert_array_equal(trace.updates, np.arange(16))
    np.testing.assert_allclose(trace.epochs, np.arange(16))
    assert np.all(np.diff(trace.seconds) >= 0)


def test_train_trace_counts_updates_and_epochs():
    X, y = regression_data(N=100, p=3)
    model = MLP([3, 4, 1], init="he", rng=0)
    trace = sgd.train_trace(
        model,
        X,
        y,
        optim.SGD(model.parameters(), lr=0.01),
        B=32,
        epochs=2.5,
        rng=0,
        evals_per_epoch=2,
    )
    # 4 updates per epoch (ceil(100/32)), 2.5 epochs -> 10 updates, recorded every 2
    assert trace.updates[-1] == 10
    np.testing.assert_allclose(trace.epochs, trace.updates / 4)
    assert trace.loss.shape == trace.seconds.shape == trace.updates.shape


def test_compare_optimizers_starts_every_run_from_the_same_point():
    X, y = make_spirals(30, K=3, rng=0)
    model = MLP([2, 16, 3], init="he", rng=0)
    before = sgd.flat_parameters(model)
    settings = {
        "a": ("adam", {"lr": 1e-2}),
        "b": ("adam", {"lr": 1e-2}),
        "sgd": ("sgd", {"lr": 0.1}),
    }
    traces = sgd.compare_optimizers(model, X, y, settings, loss="cross_entropy", B=16, epochs=3)
    np.testing.assert_array_equal(
        sgd.flat_parameters(model), before
    )  # the model itself is untouched
    assert len({t.loss[0] for t in traces.values()}) == 1
    np.testing.assert_array_equal(traces["a"].loss, traces["b"].loss)  # same batches, same result
    assert traces["sgd"].loss[-1] != traces["a"].loss[-1]


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("sgd", {"lr": 0.1}),
        ("momentum", {"lr": 0.05}),
        ("rmsprop", {"lr": 1e-2}),
        ("adam", {"lr": 1e-2}),
    ],
)
def test_torch_trajectory_gap_is_rounding_only(name, kwargs):
    X, y = make_spirals(40, K=3, rng=1)
    model = MLP([2, 12, 3], activation="tanh", init="xavier", rng=2)
    gaps = sgd.torch_trajectory_gap(
        model, X, y, name, loss="cross_entropy", B=16, steps=30, **kwargs
    )
    assert gaps.shape == (30,)
    assert gaps.max() < 1e-10


def test_make_spirals():
    X, y = make_spirals(50, K=4, noise=0.0, rng=0)
    assert X.shape == (200, 2) and y.shape == (200,)
    np.testing.assert_array_equal(np.bincount(y), [50] * 4)
    assert np.all(np.linalg.norm(X, axis=1) <= 1 + 1e-12)


# --------------------------------------------------------------------------- bad input


def test_bad_input_fails_with_a_message():
    X, y = regression_data(N=20, p=3)
    with pytest.raises(ValueError, match="B <= N"):
        sgd.updates_per_epoch(10, 20)
    with pytest.raises(ValueError, match="N to be an int >= 1"):
        sgd.updates_per_epoch(0, 1)
    with pytest.raises(TypeError, match="B to be an int"):
        sgd.sample_batches(10, 2.5, 3, rng=0)
    with pytest.raises(ValueError, match="without replacement"):
        sgd.sample_batches(5, 6, 3, rng=0)
    with pytest.raises(ValueError, match=r"expected y of shape \(20,\)"):
        sgd.LeastSquaresRisk(X, y[:5])
    with pytest.raises(ValueError, match="theta of shape"):
        sgd.LeastSquaresRisk(X, y).grad(np.zeros(4))
    with pytest.raises(ValueError, match="idx"):
        sgd.LeastSquaresRisk(X, y).grad(np.zeros(3), np.array([]))
    with pytest.raises(ValueError, match="G .*2-D|shape"):
        sgd.gradient_variance(np.zeros(5), 2)
    with pytest.raises(ValueError, match="full of shape"):
        sgd.unbiasedness_check(lambda idx: np.zeros(3), np.zeros(2), 20, 2, 10, rng=0)
    with pytest.raises(TypeError, match="function"):
        sgd.minibatch_gradients("not a function", 20, 2, 10, rng=0)
    with pytest.raises(ValueError, match="init to be one of"):
        sgd.activation_statistics("nope")
    with pytest.raises(TypeError, match="init"):
        sgd.activation_statistics(True)
    with pytest.raises(ValueError, match="init .*>= 0"):
        sgd.activation_statistics(-1.0)
    with pytest.raises(TypeError, match="MLP"):
        sgd.symmetry_gap("model")
    with pytest.raises(ValueError, match="optimizer to be one of"):
        optim.make_optimizer("lbfgs", MLP([2, 1]).parameters(), lr=0.1)
    with pytest.raises(TypeError, match="optimizer"):
        sgd.train_trace(MLP([3, 1]), X, y, "sgd")
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 2\)"):
        sgd.train_trace(MLP([2, 1]), X, y, optim.SGD(MLP([2, 1]).parameters(), lr=0.1))
    y_nan = np.where(np.arange(20) == 4, np.nan, y)
    with pytest.raises(ValueError, match="expected y to be finite, but it contains NaN or inf"):
        sgd.train_trace(MLP([3, 1]), X, y_nan, optim.SGD(MLP([3, 1]).parameters(), lr=0.1))
    with pytest.raises(TypeError, match="settings"):
        sgd.compare_optimizers(MLP([3, 1]), X, y, {})
    with pytest.raises(ValueError, match="dropout"):
        sgd.torch_trajectory_gap(MLP([3, 4, 1], dropout=0.5), X, y, "sgd", lr=0.1)


# --------------------------------------------------------------------------- shuffled epochs


def tiny_problem(seed=0, N=4):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, 1))
    return sgd.LeastSquaresRisk(x, x[:, 0] + 0.5 * rng.standard_normal(N))


def test_with_replacement_and_the_first_step_are_unbiased_exactly():
    risk = tiny_problem()
    for eta in (0.1, 0.3):
        fresh = sgd.enumerate_epochs(risk, [0.5], eta, replace=True)
        shuffled = sgd.enumerate_epochs(risk, [0.5], eta)
        assert fresh.bias.shape == shuffled.bias.shape == (4, 1)
        np.testing.assert_allclose(fresh.bias, 0.0, atol=1e-14)
        np.testing.assert_allclose(shuffled.bias[0], 0.0, atol=1e-14)
        assert np.abs(shuffled.bias[1:]).max() > 1e-3  # the later steps of an epoch are not
        assert shuffled.ends.shape == (24, 1) and fresh.ends.shape == (256, 1)


def test_the_second_step_bias_of_a_shuffled_epoch_has_its_closed_form():
    # B = 1, least squares in 1-D: grad R^(i)(theta) = a_i theta - c_i with a_i = x_i^2,
    # c_i = x_i y_i. Given i_1, the next index is uniform on the other N - 1 samples, so
    # E[g_1 - grad R(theta^(1))] = (1/N) sum_i (grad R(theta_i) - grad R^(i)(theta_i)) / (N - 1)
    # with theta_i = theta0 - eta grad R^(i)(theta0), written out here.
    risk, theta0, eta = tiny_problem(seed=3, N=5), 0.2, 0.25
    x, y = risk.X[:, 0], risk.y
    a, c, N = x**2, x * y, len(x)
    theta1 = theta0 - eta * (a * theta0 - c)
    full = a.mean() * theta1 - c.mean()
    expected = np.mean((full - (a * theta1 - c)) / (N - 1))
    bias = sgd.enumerate_epochs(risk, [theta0], eta).bias
    assert bias[1, 0] == pytest.approx(expected, rel=1e-10)


def test_enumeration_agrees_with_the_librarys_shuffled_epochs_by_monte_carlo():
    risk, eta, n = tiny_problem(seed=1), 0.3, 20_000
    exact = sgd.enumerate_epochs(risk, [0.0], eta).bias[:, 0]
    rng = np.random.default_rng(0)
    samples = np.empty((n, 4))
    for r in range(n):
        theta = np.zeros(1)
        for k, idx in enumerate(optim.minibatches(4, 1, rng)):  # the epochs training uses
            g = risk.grad(theta, idx)
            samples[r, k] = (g - risk.grad(theta))[0]
            theta = theta - eta * g
    se = samples.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(samples.mean(axis=0) - exact) < 4 * se + 1e-12)


def test_an_epoch_is_one_gd_step_up_to_order_eta_squared():
    risk = tiny_problem(seed=2)
    gaps = []
    for eta in (0.02, 0.002):
        ends = sgd.enumerate_epochs(risk, [0.0], eta).ends
        gaps.append(np.abs(ends - (0.0 - 4 * eta * risk.grad([0.0]))).max())
    assert 70 < gaps[0] / gaps[1] < 130  # ten times smaller eta, about 100 times smaller error


def test_enumerate_epochs_rejects_what_it_cannot_enumerate():
    with pytest.raises(ValueError, match="divisible by B"):
        sgd.enumerate_epochs(tiny_problem(N=5), [0.0], 0.1, B=2)
    with pytest.raises(ValueError, match=r"N! or N\^N"):
        sgd.enumerate_epochs(tiny_problem(N=9), [0.0], 0.1)
    with pytest.raises(ValueError, match="theta0"):
        sgd.enumerate_epochs(tiny_problem(), [0.0, 1.0], 0.1)


# --------------------------------------------------------------------------- variance sweep


def test_variance_by_batch_size_spans_1_to_N_and_matches_the_exact_formula():
    X, y = regression_data(N=200, p=3, seed=3)
    G = sgd.LeastSquaresRisk(X, y).per_sample_grads(np.zeros(3))
    sweep = sgd.variance_by_batch_size(G, 12, 3000, rng=0)
    assert sweep.B[0] == 1 and sweep.B[-1] == 200 and np.all(np.diff(sweep.B) > 0)
    inside = sweep.B < 200
    np.testing.assert_allclose(sweep.measured[inside], sweep.exact[inside], rtol=0.12)
    sigma2 = np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1))  # computed here
    np.testing.assert_allclose(sweep.with_replacement, sigma2 / sweep.B, rtol=1e-12)
    assert sweep.exact[-1] == 0.0


# --------------------------------------------------------------------------- infinite width


def test_infinite_width_std_for_relu_has_the_closed_form():
    # relu(sqrt(q) xi): E f^2 = q/2 and E f = sqrt(q / (2 pi)); with gain2 = 2, q stays 2 q0
    stds = sgd.infinite_width_std(2.0, "relu", 5)
    np.testing.assert_allclose(stds, np.sqrt(2 * (0.5 - 1 / (2 * np.pi))), rtol=1e-6)
    # Xavier (gain2 = 1): the variance halves each layer, the std shrinks by sqrt(1/2)
    stds = sgd.infinite_width_std(1.0, "relu", 6)
    np.testing.assert_allclose(stds[1:] / stds[:-1], np.sqrt(0.5), rtol=1e-6)


def test_infinite_width_std_for_tanh_with_gain_1_decays_like_1_over_sqrt_2l():
    stds = sgd.infinite_width_std(1.0, "tanh", 400)
    l = np.arange(1, 401)
    ratio = stds * np.sqrt(2 * l)
    assert abs(ratio[-1] - 1) < 0.05  # q_l ~ 1 / (2 l) for large l
    assert np.all(np.diff(stds) < 0)


def test_infinite_width_std_matches_wide_layers_by_monte_carlo():
    import scipy.integrate

    # tanh, gain2 = 2, first layer: std f_1 from scipy's quadrature, independently
    def density(x):
        return np.exp(-(x**2) / 2) / np.sqrt(2 * np.pi)

    second = scipy.integrate.quad(lambda x: np.tanh(np.sqrt(2) * x) ** 2 * density(x), -12, 12)[0]
    assert sgd.infinite_width_std(2.0, "tanh", 1)[0] == pytest.approx(np.sqrt(second), rel=1e-6)
    wide = sgd.activation_statistics("he", "tanh", depth=6, width=1024, n=300, rng=0)
    np.testing.assert_allclose(wide.std, sgd.infinite_width_std(2.0, "tanh", 6), rtol=0.02)


# --------------------------------------------------------------------------- tuning


def test_final_loss_is_the_mean_of_the_last_records_and_inf_after_divergence():
    trace = sgd.Trace(np.arange(7), np.arange(7.0), np.zeros(7), np.arange(7.0))
    assert sgd.final_loss(trace) == pytest.approx(np.mean([2, 3, 4, 5, 6]))
    assert sgd.final_loss(trace, last=2) == pytest.approx(5.5)
    bad = trace._replace(loss=np.array([1.0, 2.0, np.inf, np.nan, 1.0, 1.0, 1.0]))
    assert sgd.final_loss(bad) == np.inf


def test_tune_learning_rate_extends_the_grid_until_the_best_is_bracketed():
    X, y = regression_data(N=60, p=3, seed=5)
    model = MLP([3, 1], init="zeros", rng=0)  # least squares: the loss is convex in theta
    # starting far below a good rate, the grid must grow upwards
    search = sgd.tune_learning_rate(model, X, y, "sgd", [0.01, 0.03], epochs=5, B=60, max_extra=6)
    grid = list(search.traces)
    assert grid == sorted(grid) and len(grid) > 2
    assert grid[:4] == [0.01, 0.03, 0.1, 0.3]  # the half-decade grid
    assert search.bracketed
    finals = search.final_losses()
    i = grid.index(search.best)
    assert finals[grid[i - 1]] > finals[search.best] < finals[grid[i + 1]]
    # with no extra runs allowed, the best sits at the edge and says so
    short = sgd.tune_learning_rate(model, X, y, "sgd", [0.01, 0.03], epochs=5, B=60, max_extra=0)
    assert short.best == 0.03 and not short.bracketed
    # starting above the largest rate that works, the grid grows downwards
    high = sgd.tune_learning_rate(model, X, y, "sgd", [3.0, 10.0], epochs=5, B=60, max_extra=6)
    assert list(high.traces)[:2] == [0.3, 1.0] and high.bracketed


def test_tune_learning_rate_counts_a_diverging_run_as_infinite():
    X, y = regression_data(N=60, p=3, seed=6)
    model = MLP([3, 1], init="zeros", rng=0)
    search = sgd.tune_learning_rate(model, X, y, "sgd", [0.1, 0.3, 1e4], epochs=50, B=60)
    assert search.final_losses()[1e4] == np.inf  # overflowed
    assert search.best < 1e4
