"""Tests for nnbook.chapters.ch05_backprop: the co-state recursion against torch.autograd
and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnbook.chapters import ch05_backprop as bp
from nnbook.engine.gradcheck import numerical_gradient, relative_error
from nnbook.engine.mlp import MLP

TORCH_SIGMA = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "softplus": torch.nn.functional.softplus,
    "gelu": torch.nn.functional.gelu,
}


def random_problem(rng: np.random.Generator, sizes: list[int], bias: bool = False):
    extra = 1 if bias else 0
    Ws = [rng.standard_normal((b, a + extra)) / np.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]
    return rng.standard_normal(sizes[0]), rng.standard_normal(sizes[-1]), Ws


def torch_reference(x, y, Ws, sigma: str, bias: bool = False, loss: str = "squared_error"):
    """Loss, states, input/state gradients and weight gradients computed by torch.autograd."""
    act = TORCH_SIGMA[sigma]
    Wt = [torch.tensor(W, requires_grad=True) for W in Ws]
    xs = [torch.tensor(x, requires_grad=True)]
    L = len(Ws) - 1
    for l, W in enumerate(Wt):
        x_l = torch.cat([xs[l], torch.ones(1, dtype=torch.float64)]) if bias else xs[l]
        z = W @ x_l
        xs.append(act(z) if l < L else z)
        xs[-1].retain_grad()
    if loss == "squared_error":
        value = 0.5 * ((xs[-1] - torch.tensor(y)) ** 2).sum()
    else:  # cross-entropy with an integer label
        value = torch.nn.functional.cross_entropy(xs[-1][None], torch.tensor([int(y)]))
    value.backward()
    return (
        value.item(),
        [s.detach().numpy() for s in xs],
        [s.grad.numpy() for s in xs],
        [W.grad.numpy() for W in Wt],
    )


# ---------------------------------------------------------------------------- against torch


@pytest.mark.parametrize("trial", range(12))
def test_costates_and_gradients_equal_torch_autograd_for_random_networks(trial):
    rng = np.random.default_rng(100 + trial)
    L = int(rng.integers(0, 6))  # 0 hidden layers (a linear model) up to 5
    sizes = [int(s) for s in rng.integers(1, 12, size=L + 2)]
    sigma = list(TORCH_SIGMA)[trial % len(TORCH_SIGMA)]
    x, y, Ws = random_problem(rng, sizes)

    res = bp.backprop(x, y, Ws, sigma)
    value, xs, ps, grads = torch_reference(x, y, Ws, sigma)

    assert len(res.xs) == len(res.ps) == L + 2 and len(res.grads) == L + 1
    assert res.loss == pytest.approx(value, rel=1e-12)
    for l in range(L + 2):
        np.testing.assert_allclose(res.xs[l], xs[l], rtol=1e-12, atol=1e-14)
        assert relative_error(res.ps[l], ps[l]) < 1e-10, f"p_{l}"
    for l in range(L + 1):
        assert res.grads[l].shape == Ws[l].shape
        assert relative_error(res.grads[l], grads[l]) < 1e-10, f"grad W_{l}"


@pytest.mark.parametrize("sigma", ["tanh", "relu"])
def test_absorbed_biases_match_torch_with_an_augmented_input(sigma):
    rng = np.random.default_rng(7)
    x, y, Ws = random_problem(rng, [4, 6, 5, 3], bias=True)
    res = bp.backprop(x, y, Ws, sigma, bias=True)
    value, _, ps, grads = torch_reference(x, y, Ws, sigma, bias=True)
    assert res.loss == pytest.approx(value, rel=1e-12)
    assert all(p.shape == q.shape for p, q in zip(res.ps, ps))  # the constant 1 has no co-state
    assert max(relative_error(a, b) for a, b in zip(res.ps, ps)) < 1e-10
    assert max(relative_error(a, b) for a, b in zip(res.grads, grads)) < 1e-10


def test_absorbed_biases_give_the_library_mlp_gradients_for_one_sample():
    """W_l with its bias as last column, run through the slide's recursion, reproduces the
    batched library (MLP.backward) for a batch of one."""
    model = MLP([3, 7, 5, 2], activation="tanh", rng=3)
    rng = np.random.default_rng(3)
    for lin in model.linears:
        lin.b.data[:] = rng.standard_normal(lin.b.data.shape)
    x, y = rng.standard_normal(3), rng.standard_normal(2)
    Ws = [np.hstack([lin.W.data, lin.b.data[:, None]]) for lin in model.linears]
    res = bp.backprop(x, y, Ws, "tanh", bias=True)

    from nnbook.engine.losses import SquaredError

    loss = SquaredError()
    model.zero_grad()
    assert loss.forward(model.forward(x[None]), y[None]) == pytest.approx(res.loss, rel=1e-12)
    dX = model.backward(loss.backward(), input_grad=True)
    for lin, g in zip(model.linears, res.grads):
        assert relative_error(lin.W.grad, g[:, :-1]) < 1e-12
        assert relative_error(lin.b.grad, g[:, -1]) < 1e-12
    assert relative_error(dX[0], res.ps[0]) < 1e-12


def test_gradients_agree_with_finite_differences():
    rng = np.random.default_rng(11)
    x, y, Ws = random_problem(rng, [3, 5, 4, 2])
    res = bp.backprop(x, y, Ws, "sigmoid")
    for l, W in enumerate(Ws):
        fd = numerical_gradient(lambda _: bp.backprop(x, y, Ws, "sigmoid").loss, W)
        assert relative_error(res.grads[l], fd) < 1e-7
    fd_x = numerical_gradient(lambda xx: bp.backprop(xx, y, Ws, "sigmoid").loss, x.copy())
    assert relative_error(res.ps[0], fd_x) < 1e-7


def test_a_wrong_derivative_is_caught():
    """The comparison can fail: the recursion with sigma' replaced by 1 is off by order 1."""
    rng = np.random.default_rng(5)
    x, y, Ws = random_problem(rng, [4, 6, 3])
    xs = bp.forward_states(x, Ws, "tanh")
    _, p_last = bp.initial_costate(xs[-1], y)
    _, wrong = bp.backward_costates(xs, Ws, p_last, "identity")  # sigma' = 1: wrong for tanh
    _, _, _, grads = torch_reference(x, y, Ws, "tanh")
    assert relative_error(wrong[0], grads[0]) > 1e-2


# ------------------------------------------------- the library's batched backward pass (Chapter 5)

TORCH_LOSSES = {
    "squared_error": lambda out, y: 0.5 * ((out - y) ** 2).sum() / out.shape[0],
    "cross_entropy": lambda out, y: torch.nn.functional.cross_entropy(out, y),
    "bce": lambda out, y: torch.nn.functional.binary_cross_entropy_with_logits(out, y),
}


@pytest.mark.parametrize(
    "sizes, sigma, loss_name",
    [
        ([5, 8, 3], "tanh", "squared_error"),
        ([4, 16, 16, 3], "relu", "cross_entropy"),
        ([6, 10, 10, 10, 1], "sigmoid", "bce"),
        ([3, 12, 7, 2], "gelu", "squared_error"),
        ([2, 9, 9, 4], "leaky_relu", "cross_entropy"),
    ],
)
def test_the_library_gradients_match_finite_differences_and_torch(sizes, sigma, loss_name):
    """The table Chapter 5 used to print for five networks: MLP.backward against central
    finite differences and against autograd on a float64 copy, every parameter."""
    from nnbook.engine.gradcheck import gradient_errors
    from nnbook.pytorch.convert import mlp_to_torch

    rng = np.random.default_rng(len(sizes) * 10 + sizes[0])
    model = MLP(sizes, activation=sigma, rng=rng)
    for lin in model.linears:  # non-zero biases
        lin.b.data[:] = 0.1 * rng.standard_normal(lin.b.data.shape)
    n, K = 16, sizes[-1]
    X = rng.standard_normal((n, sizes[0]))
    if loss_name == "cross_entropy":
        y = rng.integers(0, K, n)
    elif loss_name == "bce":
        y = rng.integers(0, 2, (n, K)).astype(float)
    else:
        y = rng.standard_normal((n, K))
    fd_errors = gradient_errors(model, loss_name, X, y)  # also leaves the backprop grads in .grad
    seq = mlp_to_torch(model)
    TORCH_LOSSES[loss_name](seq(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    for ours, theirs in zip(model.parameters(), seq.parameters()):
        assert fd_errors[ours.name] < 1e-6, ours.name
        assert relative_error(ours.grad, theirs.grad.numpy()) < 1e-12, ours.name


# ---------------------------------------------------------------------------- p_{L+1}


def test_initial_costate_for_the_squared_loss_is_the_residual():
    x_last = np.array([1.5, -2.0, 0.25])
    y = np.array([1.0, 1.0, -1.0])
    value, p = bp.initial_costate(x_last, y, "squared_error")
    np.testing.assert_array_equal(p, x_last - y)  # p_{L+1} = grad of ||x - y||^2 / 2
    assert value == pytest.approx(0.5 * (0.5**2 + 3.0**2 + 1.25**2))


def test_initial_costate_for_the_cross_entropy_is_softmax_minus_one_hot():
    rng = np.random.default_rng(2)
    z = rng.standard_normal(5)
    value, p = bp.initial_costate(z, 3, "cross_entropy")
    zt = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(zt[None], torch.tensor([3]))
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(p, zt.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert p.sum() == pytest.approx(0.0, abs=1e-12)


def test_cross_entropy_backprop_matches_torch():
    rng = np.random.default_rng(9)
    x, _, Ws = random_problem(rng, [4, 8, 6, 5])
    res = bp.backprop(x, 2, Ws, "relu", loss="cross_entropy")
    value, _, ps, grads = torch_reference(x, 2, Ws, "relu", loss="cross_entropy")
    assert res.loss == pytest.approx(value, rel=1e-12)
    assert max(relative_error(a, b) for a, b in zip(res.grads, grads)) < 1e-10


# ---------------------------------------------------------------------------- cost


def test_matmul_flops_of_the_lecture_mnist_network():
    B = 32
    products = [784 * 256, 256 * 128, 128 * 10]  # multiply-adds per sample, one per weight
    flops = bp.matmul_flops([784, 256, 128, 10], B)
    assert flops["forward"] == 2 * B * sum(products)
    # backward: dR/dW_l and p_l for every layer, but no dR/dX for the first one
    assert flops["backward"] == 2 * B * (2 * sum(products) - products[0])


@pytest.mark.parametrize("framework", ["nnbook", "torch"])
def test_backprop_cost_returns_sane_ratios(framework):
    r = bp.backprop_cost([64, 64, 64, 4], 64, framework=framework, repeats=3)
    assert set(r) >= {
        "sizes",
        "B",
        "p",
        "forward_seconds",
        "forward_backward_seconds",
        "ratio",
        "flop_ratio",
    }
    assert r["p"] == 64 * 64 + 64 + 64 * 64 + 64 + 64 * 4 + 4
    assert r["forward_seconds"] > 0 and r["forward_backward_seconds"] > 0
    assert r["ratio"] > 1  # forward + backward includes the forward pass
    assert 2 < r["flop_ratio"] < 3
    assert "fd_seconds" not in r


def test_backprop_cost_can_time_finite_differences_too():
    r = bp.backprop_cost(
        [2, 3, 1], 4, activation="tanh", repeats=2, clock="wall", finite_differences=True
    )
    assert r["p"] == 2 * 3 + 3 + 3 + 1
    assert r["fd_seconds"] > 0 and r["fd_ratio"] == pytest.approx(
        r["fd_seconds"] / r["forward_seconds"]
    )


# ---------------------------------------------------------------------------- bad input


def test_bad_input_fails_with_a_message_naming_the_expectation():
    rng = np.random.default_rng(0)
    x, y, Ws = random_problem(rng, [3, 4, 2])
    with pytest.raises(ValueError, match=r"expected W_1 of shape \(d_2, 4\), got \(2, 5\)"):
        bp.forward_states(x, [Ws[0], np.ones((2, 5))])
    with pytest.raises(ValueError, match=r"expected W_0 of shape \(d_1, 4\)"):
        bp.forward_states(x, Ws, bias=True)  # a bias column is missing
    with pytest.raises(ValueError, match="expected x of shape"):
        bp.forward_states(x[None], Ws)
    with pytest.raises(TypeError, match="expected Ws"):
        bp.forward_states(x, Ws[0])
    with pytest.raises(ValueError, match="expected an activation name"):
        bp.forward_states(x, Ws, "swish")
    xs = bp.forward_states(x, Ws)
    with pytest.raises(ValueError, match=r"expected p_last of shape \(2,\)"):
        bp.backward_costates(xs, Ws, np.ones(3))
    with pytest.raises(ValueError, match="expected 3 states"):
        bp.backward_costates(xs[:-1] + [xs[-1], xs[-1]], Ws, np.ones(2))
    with pytest.raises(ValueError, match="expected loss to be one of"):
        bp.initial_costate(xs[-1], y, "hinge")
    with pytest.raises(ValueError, match="one integer class label"):
        bp.initial_costate(xs[-1], y, "cross_entropy")
    with pytest.raises(ValueError, match="expected x to be finite"):
        bp.forward_states(np.array([np.nan, 0, 0]), Ws)
    with pytest.raises(ValueError, match="expected framework to be one of"):
        bp.backprop_cost([4, 4, 1], 8, framework="jax")
    with pytest.raises(ValueError, match="expected clock to be one of"):
        bp.backprop_cost([4, 4, 1], 8, clock="cpu")
    with pytest.raises(ValueError, match="finite_differences"):
        bp.backprop_cost([4, 4, 1], 8, framework="torch", finite_differences=True)
    with pytest.raises(ValueError, match="expected B to be an int >= 1"):
        bp.matmul_flops([4, 4, 1], 0)
    with pytest.raises(ValueError, match="at least 2 entries"):
        bp.matmul_flops([4], 8)
