"""Tests of nnbook.chapters.ch02_depth: the sawtooth constructions of depth versus width
(Telgarsky 2016), parameter counts, and the helpers of the depth experiments."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nnbook.chapters import ch02_depth as depth
from nnbook.engine.mlp import MLP
from nnbook.engine.shallow import ShallowNet, n_parameters
from nnbook.pytorch.convert import mlp_to_torch


def composed_tent(x, k):
    """T^k by composing T(x) = 2 min(x, 1 - x) k times: an independent reference."""
    x = np.array(x, dtype=np.float64)
    for _ in range(k):
        x = np.minimum(2 * x, 2 - 2 * x)
    return x


def torch_forward(weights, x):
    """beta^T f_L(x) with an nn.Sequential of Linear/ReLU layers holding the given weights."""
    modules = []
    for W, b in zip(weights.W, weights.b):
        lin = nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        modules += [lin, nn.ReLU()]
    out = nn.Linear(len(weights.beta), 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        out.weight.copy_(torch.from_numpy(weights.beta)[None, :])
    with torch.no_grad():
        return nn.Sequential(*modules, out)(torch.from_numpy(x)).numpy()[:, 0]


# --------------------------------------------------------------------------- the functions


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5, 8, 12])
def test_closed_form_sawtooth_is_the_composed_tent(k):
    x = np.concatenate([np.random.default_rng(k).uniform(0, 1, 1000), [0.0, 0.5, 1.0]])
    assert np.max(np.abs(depth.sawtooth(x, k) - composed_tent(x, k))) < 1e-9 * 2**k
    if k == 1:
        assert np.array_equal(depth.tent(x), composed_tent(x, 1))


def test_sawtooth_values_at_the_kinks():
    k = 4
    j = np.arange(2**k + 1)
    # 0 at the even kinks j / 2^k (valleys), 1 at the odd ones (peaks)
    assert np.array_equal(depth.sawtooth(j / 2**k, k), (j % 2).astype(float))


# --------------------------------------------------------------------------- the deep construction


@pytest.mark.parametrize("k", [1, 2, 3, 6, 10])
def test_deep_construction_is_exactly_the_sawtooth(k):
    x = np.linspace(0, 1, 2**14 + 1)  # dyadic: contains every kink j / 2^k
    model = depth.deep_sawtooth(k)
    assert model.sizes == (1,) + (2,) * k + (1,)
    out = model.forward(x[:, None])[:, 0]
    assert np.max(np.abs(out - composed_tent(x, k))) == 0.0
    assert np.max(np.abs(out - depth.sawtooth(x, k))) == 0.0
    # on non-dyadic points: equal up to rounding, which grows like the slope 2^k
    xr = np.random.default_rng(1).uniform(0, 1, 2000)
    assert np.max(np.abs(model.forward(xr[:, None])[:, 0] - composed_tent(xr, k))) < 1e-12 * 2**k


@pytest.mark.parametrize("k", [1, 3, 7])
def test_deep_construction_against_torch(k):
    weights = depth.tent_weights(k)
    for l, W in enumerate(weights.W):  # W_l in R^{d_{l+1} x d_l}
        assert W.shape == ((2, 1) if l == 0 else (2, 2))
        assert weights.b[l].shape == (2,)
    assert weights.beta.shape == (2,)
    x = np.random.default_rng(2).uniform(0, 1, (500, 1))
    ours = weights.to_mlp().forward(x)[:, 0]
    assert np.max(np.abs(ours - torch_forward(weights, x))) < 1e-12
    assert np.max(np.abs(ours - composed_tent(x[:, 0], k))) < 1e-12 * 2**k


@pytest.mark.parametrize("k", [1, 2, 4, 7, 9])
def test_number_of_linear_pieces_is_two_to_the_k(k):
    x = np.linspace(0, 1, 2 ** (k + 3) + 1)
    assert depth.count_linear_pieces(depth.deep_sawtooth(k).forward(x[:, None])[:, 0]) == 2**k
    assert depth.count_linear_pieces(depth.shallow_sawtooth(k)(x[:, None])) == 2**k
    assert depth.count_linear_pieces(composed_tent(x, k)) == 2**k


def test_hidden_states_of_the_construction_are_the_tents():
    k = 4
    x = np.linspace(0, 1, 257)[:, None]
    model = depth.deep_sawtooth(k)
    states = depth.hidden_states(model, x)
    assert len(states) == k + 1
    assert np.array_equal(states[0], x)
    beta = depth.tent_weights(k).beta
    for l in range(1, k + 1):
        assert states[l].shape == (257, 2)
        assert np.max(np.abs(states[l] @ beta - composed_tent(x[:, 0], l))) < 1e-12


def test_hidden_states_of_a_random_mlp():
    rng = np.random.default_rng(3)
    model = MLP([3, 5, 4, 2], activation="tanh", rng=4)
    X = rng.standard_normal((10, 3))
    states = depth.hidden_states(model, X)
    W = [lin.W.data for lin in model.linears]
    b = [lin.b.data for lin in model.linears]
    f = X
    for l in range(2):  # f_{l+1} = tanh(W_l f_l + b_l), written out
        f = np.tanh(f @ W[l].T + b[l])
        assert np.max(np.abs(states[l + 1] - f)) < 1e-14
    assert np.max(np.abs(f @ W[2].T + b[2] - model.forward(X))) < 1e-14


# --------------------------------------------------------------------------- shallow networks


@pytest.mark.parametrize("k", [0, 1, 3, 6])
def test_shallow_construction_with_two_to_the_k_units_is_exact(k):
    net = depth.shallow_sawtooth(k)
    assert 2**k == net.M
    # units m = 1..M with kinks (m - 1)/2^k: the first starts the rise with slope 2^k, each
    # further one changes the slope by -+2^{k+1}; read off the slopes of T^k on the cells
    cells = np.arange(2**k + 1) / 2**k
    slopes = np.diff(composed_tent(cells, k)) * 2**k
    np.testing.assert_allclose(np.cumsum(net.beta), slopes)
    np.testing.assert_allclose(-net.b, cells[:-1])
    x = np.linspace(0, 1, 2**12 + 1)
    assert np.max(np.abs(net(x[:, None]) - composed_tent(x, k))) < 1e-12 * 2**k


def test_piece_counter_on_known_functions():
    x = np.linspace(0, 1, 1001)
    assert depth.count_linear_pieces(np.full_like(x, 3.0)) == 1
    assert depth.count_linear_pieces(2 * x - 1) == 1
    # kinks at 0.3 (on the grid) and at 0.7105 (inside a cell): 3 pieces
    assert depth.count_linear_pieces(np.abs(x - 0.3) + 2 * np.maximum(x - 0.7105, 0)) == 3
    assert depth.count_linear_pieces(np.maximum(x - 0.5, 0)) == 2


def test_shallow_error_is_at_least_one_half_below_two_to_the_k_units():
    """The depth-separation proposition: fewer than 2^k - 1 units cannot get within 1/2 of T^k."""
    k = 4
    Ms = [1, 2, 5, 9, 14]
    errors = depth.shallow_width_sweep(k, Ms)
    assert np.all(errors >= 0.5)
    # ... also for random shallow networks (any weights, not only least-squares fits)
    rng = np.random.default_rng(5)
    for M in Ms:
        for _ in range(5):
            net = ShallowNet(
                rng.standard_normal((M, 1)), rng.uniform(-1, 1, M), rng.standard_normal(M)
            )
            knots = -net.b / net.w[:, 0]
            assert depth.sawtooth_sup_error(net, k, knots) >= 0.5


def test_shallow_error_drops_to_zero_at_two_to_the_k_units():
    k = 4
    errors = depth.shallow_width_sweep(k, [2**k - 2, 2**k, 2**k + 1, 2 ** (k + 1)])
    assert errors[0] >= 0.5
    assert errors[1] < 1e-9 and errors[3] < 1e-9  # the knots m / M contain every kink j / 2^k
    assert 1e-6 < errors[2] < 0.5  # misplaced knots: not exact, but within 1/2


def test_sup_error_is_the_exact_maximum():
    k, M = 3, 11
    x = np.linspace(0, 1, 513)
    net = depth.shallow_knot_fit(x, depth.sawtooth(x, k), M)
    exact = depth.sawtooth_sup_error(net, k, net.info["knots"], n=513)
    fine = np.linspace(0, 1, 2**20 + 1)[:, None]
    brute = np.max(np.abs(net(fine) - composed_tent(fine[:, 0], k)))
    assert brute <= exact + 1e-12
    assert exact - brute < 1e-4  # the fine grid comes within its spacing times the slope


def test_knot_fit_is_least_squares():
    k, M = 3, 6
    x = np.linspace(0, 1, 301)
    y = depth.sawtooth(x, k)
    net = depth.shallow_knot_fit(x[:, None], y, M)
    assert net.M == M and np.allclose(net.w, 1) and np.allclose(-net.b, np.arange(M) / M)
    H = np.maximum(x[:, None] - np.arange(M) / M, 0)
    # normal equations H^T (H beta - y) = 0
    assert np.max(np.abs(H.T @ (H @ net.beta - y))) < 1e-8


# --------------------------------------------------------------------------- parameter counts


def test_parameter_counts():
    # the lecture's MNIST network: "235,146 parameters"
    assert depth.n_parameters([784, 256, 128, 10], output_bias=True) == 235_146
    torch_model = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)
    )
    assert sum(p.numel() for p in torch_model.parameters()) == 235_146
    assert depth.n_parameters([784, 256, 128, 10]) == 235_146 - 10
    # Chapter 1's shallow network, (d + 2) M
    for d, M in [(1, 1), (1, 8), (3, 16), (784, 100)]:
        assert depth.n_parameters([d, M, 1]) == (d + 2) * M == n_parameters(d, M)
    # the deep sawtooth: 2 + 2 (layer 0), 4 + 2 per further layer, 2 for beta
    for k in [1, 2, 5, 10]:
        w = depth.tent_weights(k)
        stored = sum(a.size for a in [*w.W, *w.b, w.beta])
        assert depth.n_parameters([1] + [2] * k + [1]) == stored == 6 * k
    assert depth.shallow_sawtooth(5).n_parameters == 3 * 2**5


# --------------------------------------------------------------------------- training deep networks


def test_layer_gradient_norms_match_torch():
    rng = np.random.default_rng(6)
    model = MLP([3, 6, 5, 2], activation="sigmoid", init="xavier", rng=7)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    before = model.state_dict()
    norms = depth.layer_gradient_norms(model, X, y)
    seq = mlp_to_torch(model)
    out = seq(torch.from_numpy(X))
    loss = (
        0.5 * ((out - torch.from_numpy(y)) ** 2).sum(dim=1).mean()
    )  # (1/n) sum_i (1/2)||y_i - f(x_i)||^2
    loss.backward()
    expected = [torch.linalg.norm(m.weight.grad).item() for m in seq if isinstance(m, nn.Linear)]
    assert np.allclose(norms, expected, rtol=1e-10, atol=0)
    after = model.state_dict()
    assert all(np.array_equal(before[n], after[n]) for n in before)
    assert all(np.all(g == 0) for g in model.grads())


def test_small_init_vanishes_with_depth_and_he_does_not():
    rng = np.random.default_rng(8)
    X, y = rng.uniform(0, 1, (128, 2)), rng.standard_normal((128, 1))
    small = depth.layer_gradient_norms(MLP([2] + [32] * 8 + [1], init="small", rng=0), X, y)
    he = depth.layer_gradient_norms(MLP([2] + [32] * 8 + [1], init="he", rng=0), X, y)
    assert np.max(small) < 1e-8 < np.min(he)
    states = depth.hidden_states(MLP([2] + [32] * 8 + [1], init="small", rng=0), X)
    rms = [np.sqrt(np.mean(f**2)) for f in states[1:]]
    assert all(b < 0.2 * a for a, b in zip(rms[:-1], rms[1:]))  # the signal shrinks layer by layer


def test_train_depths():
    rng = np.random.default_rng(9)
    X = rng.uniform(0, 1, (128, 2))
    y = np.sin(3 * X[:, 0]) * X[:, 1]
    kw = dict(width=16, epochs=15, lr=0.05, B=32, seed=0)
    good = depth.train_depths([1, 6], X, y, init="he", **kw)
    assert set(good) == {1, 6} and all(len(h) == 16 for h in good.values())
    assert good == depth.train_depths([1, 6], X, y, init="he", **kw)  # deterministic
    assert good[1][-1] < 0.5 * good[1][0] and good[6][-1] < 0.5 * good[6][0]
    bad = depth.train_depths([6], X, y, init="small", **kw)
    best_constant = 0.5 * np.var(y)  # R of predicting the mean of y
    assert bad[6][-1] > 0.8 * best_constant  # stuck near the best constant
    assert good[6][-1] < 0.5 * best_constant


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: depth.tent([0.5, 1.2]), ValueError),
        (lambda: depth.sawtooth([-0.1], 3), ValueError),
        (lambda: depth.sawtooth([0.5], -1), ValueError),
        (lambda: depth.sawtooth([0.5], 2.0), TypeError),
        (lambda: depth.sawtooth("0.5", 2), TypeError),
        (lambda: depth.tent_weights(0), ValueError),
        (lambda: depth.deep_sawtooth(1.5), TypeError),
        (lambda: depth.shallow_sawtooth(-2), ValueError),
        (lambda: depth.n_parameters([3]), ValueError),
        (lambda: depth.n_parameters([3, 0, 1]), ValueError),
        (lambda: depth.count_linear_pieces([1.0, 2.0]), ValueError),
        (lambda: depth.count_linear_pieces(np.ones((3, 3))), ValueError),
        (lambda: depth.shallow_knot_fit(np.ones((5, 2)), np.ones(5), 3), ValueError),
        (lambda: depth.shallow_knot_fit(np.ones(5), np.ones(4), 3), ValueError),
        (lambda: depth.shallow_knot_fit(np.ones(5), np.ones(5), 0), ValueError),
        (lambda: depth.shallow_width_sweep(3, [4, 0]), ValueError),
        (lambda: depth.sawtooth_sup_error(lambda X: X[:, :1].T, 2), ValueError),
        (lambda: depth.hidden_states("model", np.ones((2, 1))), TypeError),
        (lambda: depth.hidden_states(depth.deep_sawtooth(2), np.ones((2, 3))), ValueError),
        (
            lambda: depth.layer_gradient_norms(MLP([2, 3, 1]), np.ones((4, 2)), np.ones((3, 1))),
            ValueError,
        ),
        (lambda: depth.train_depths([1], np.ones((4, 2)), np.ones(3)), ValueError),
        (lambda: depth.train_depths([1], np.ones((4, 2)), np.ones(4), width=0), ValueError),
    ],
)
def test_bad_input(call, error):
    with pytest.raises(error, match="expected"):
        call()
