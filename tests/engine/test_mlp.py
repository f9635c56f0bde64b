"""Tests for nnbook.engine.mlp: structure, parameter count, and exact agreement with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnbook.engine import activations
from nnbook.engine.losses import BCEWithLogits, CrossEntropy, SquaredError
from nnbook.engine.mlp import MLP, count_parameters
from nnbook.pytorch.convert import mlp_to_torch

FAST = settings(max_examples=25, deadline=None)
ACTIVATION_NAMES = sorted(activations.ACTIVATIONS)


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0))
    return 0.0 if scale == 0 else float(np.abs(a - b).max() / scale)


def torch_reference(model: MLP, X: np.ndarray, y: np.ndarray, loss: str):
    """Loss, parameter gradients and input gradient computed by torch.autograd on
    mlp_to_torch(model)."""
    seq = mlp_to_torch(model)
    X_t = torch.tensor(X, requires_grad=True)
    out = seq(X_t)
    n = X.shape[0]
    if loss == "cross_entropy":
        value = torch.nn.functional.cross_entropy(out, torch.tensor(y))
    elif loss == "squared_error":
        value = 0.5 * ((out - torch.tensor(y)) ** 2).sum() / n
    else:
        value = (
            torch.nn.functional.binary_cross_entropy_with_logits(
                out, torch.tensor(y), reduction="sum"
            )
            / n
        )
    value.backward()
    return (
        value.item(),
        [p.grad.numpy() for p in seq.parameters()],
        X_t.grad.numpy(),
        out.detach().numpy(),
    )


architectures = st.builds(
    lambda d, hidden, K: [d, *hidden, K],
    st.integers(1, 8),
    st.lists(st.integers(1, 10), min_size=0, max_size=4),
    st.integers(1, 5),
)


@FAST
@given(
    sizes=architectures,
    activation=st.sampled_from(ACTIVATION_NAMES),
    loss=st.sampled_from(["cross_entropy", "squared_error", "bce"]),
    init=st.sampled_from(["he", "xavier_uniform", "xavier_normal", "pytorch"]),
    n=st.integers(1, 12),
    seed=st.integers(0, 2**31 - 1),
)
def test_backprop_matches_torch_autograd_float64(sizes, activation, loss, init, n, seed):
    rng = np.random.default_rng(seed)
    model = MLP(sizes, activation=activation, init=init, rng=rng)
    for p in model.parameters()[1::2]:  # nonzero biases, so their role is tested too
        p.data[:] = 0.1 * rng.standard_normal(p.shape)
    X = rng.standard_normal((n, sizes[0]))
    K = sizes[-1]
    if loss == "cross_entropy":
        y = rng.integers(0, K, n)
        loss_fn = CrossEntropy()
    elif loss == "squared_error":
        y = rng.standard_normal((n, K))
        loss_fn = SquaredError()
    else:
        y = rng.integers(0, 2, (n, K)).astype(np.float64)
        loss_fn = BCEWithLogits()

    ref_value, ref_grads, ref_dX, ref_out = torch_reference(model, X, y, loss)

    model.zero_grad()
    out = model.forward(X)
    value = loss_fn.forward(out, y)
    dX = model.backward(loss_fn.backward(), input_grad=True)

    assert rel_err(out, ref_out) <= 1e-12
    assert value == pytest.approx(ref_value, rel=1e-12, abs=1e-15)
    assert len(model.grads()) == len(ref_grads) == 2 * (len(sizes) - 1)
    for p, g in zip(model.parameters(), ref_grads):
        assert p.grad.shape == g.shape
        assert rel_err(p.grad, g) <= 1e-10, p.name
    assert rel_err(dX, ref_dX) <= 1e-10


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_deep_network_gradients_match_torch_for_every_activation(activation):
    rng = np.random.default_rng(11)
    sizes = [6, 16, 12, 12, 8, 10, 4]
    model = MLP(sizes, activation=activation, init="xavier_normal", rng=rng)
    X, y = rng.standard_normal((20, 6)), rng.integers(0, 4, 20)
    _, ref_grads, ref_dX, _ = torch_reference(model, X, y, "cross_entropy")
    loss = CrossEntropy()
    model.zero_grad()
    loss.forward(model.forward(X), y)
    dX = model.backward(loss.backward(), input_grad=True)
    for p, g in zip(model.parameters(), ref_grads):
        assert rel_err(p.grad, g) <= 1e-10, p.name
    assert rel_err(dX, ref_dX) <= 1e-10


def test_the_lectures_parameter_count():
    count = count_parameters([784, 256, 128, 10])
    assert count.total == 235_146  # the number on the MNIST slide
    seq = torch.nn.Sequential(
        torch.nn.Linear(784, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    assert count.total == sum(p.numel() for p in seq.parameters())
    assert [r["total"] for r in count.per_layer] == [
        784 * 256 + 256,
        256 * 128 + 128,
        128 * 10 + 10,
    ]
    assert count.per_layer[0]["shape"] == (256, 784)
    assert "235,146" in str(count)
    assert MLP([784, 256, 128, 10]).n_parameters() == 235_146


def test_shallow_network_has_the_slides_d_plus_2_times_M_parameters_plus_output_bias():
    d, M = 5, 7
    # (d + 2) M for h_m = sigma(w_m^T x + b_m), f = sum_m beta_m h_m; plus beta_0 here
    assert count_parameters([d, M, 1]).total == (d + 2) * M + 1


def test_structure_and_notation():
    model = MLP([5, 4, 3, 2], activation="tanh", dropout=[0.1, 0.0], rng=0)
    assert (model.d, model.L, model.K) == (5, 2, 2)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Linear",
        "Activation",
        "Dropout",
        "Linear",
        "Activation",
        "Linear",
    ]
    assert [p.name for p in model.parameters()] == ["W_0", "b_0", "W_1", "b_1", "W_2", "b_2"]
    assert [lin.W.shape for lin in model.linears] == [
        (4, 5),
        (3, 4),
        (2, 3),
    ]  # W_l is d_{l+1} x d_l
    assert model.output.W.shape == (2, 3)  # beta^T
    assert not any(p.data.any() for p in model.parameters()[1::2])  # biases start at 0
    linear_model = MLP([3, 1], rng=0)  # L = 0: f(x) = beta^T x + beta_0
    X = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_allclose(linear_model(X), X @ linear_model.output.W.data.T)


def test_hidden_layers_compute_sigma_of_W_f_plus_b():
    rng = np.random.default_rng(0)
    model = MLP([3, 4, 2], activation="sigmoid", rng=rng)
    for p in model.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    x = rng.standard_normal(3)
    W0, b0, W1, b1 = (p.data for p in model.parameters())
    f1 = 1 / (1 + np.exp(-(W0 @ x + b0)))  # f_1 = sigma(W_0 x + b_0), one sample, as on the slide
    np.testing.assert_allclose(model.forward(x[None, :])[0], W1 @ f1 + b1, rtol=1e-13)


def test_float32_model_keeps_float32_everywhere():
    rng = np.random.default_rng(0)
    model = MLP([10, 8, 6, 3], dropout=0.3, dtype=np.float32, rng=0)
    X = rng.standard_normal((5, 10)).astype(np.float32)
    loss = CrossEntropy()
    out = model.forward(X)
    loss.forward(out, rng.integers(0, 3, 5))
    dX = model.backward(loss.backward(), input_grad=True)
    assert out.dtype == dX.dtype == np.float32
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())
    ref = MLP([10, 8, 6, 3], dtype=np.float64, rng=0).eval()  # same seed: the same weights, rounded
    np.testing.assert_allclose(
        model.predict(X), ref.forward(X.astype(np.float64)), rtol=1e-4, atol=1e-5
    )


def test_dropout_modes_in_the_model():
    X = np.random.default_rng(0).standard_normal((50, 6))
    model = MLP([6, 30, 30, 2], dropout=0.5, rng=1)
    a, b = model.forward(X), model.forward(X)
    assert not np.allclose(a, b)  # new masks each time in training mode
    np.testing.assert_array_equal(model.predict(X), model.predict(X))
    assert model.training  # predict restores the mode
    np.testing.assert_array_equal(model.eval().forward(X), model.predict(X))
    no_dropout = MLP([6, 30, 30, 2], rng=1)
    np.testing.assert_allclose(no_dropout.forward(X), model.predict(X))


def test_predict_labels_and_state_dict():
    rng = np.random.default_rng(0)
    model = MLP([3, 5, 4], rng=0)
    X = rng.standard_normal((6, 3))
    np.testing.assert_array_equal(model.predict_labels(X), model.predict(X).argmax(axis=1))
    binary = MLP([3, 5, 1], rng=0)
    np.testing.assert_array_equal(
        binary.predict_labels(X), (binary.predict(X)[:, 0] > 0).astype(int)
    )
    saved = model.state_dict()
    for p in model.parameters():
        p.data += 1.0
    assert not np.allclose(model.predict(X), MLP([3, 5, 4], rng=0).predict(X))
    model.load_state_dict(saved)
    np.testing.assert_array_equal(model.predict(X), MLP([3, 5, 4], rng=0).predict(X))
    with pytest.raises(ValueError, match="keys"):
        model.load_state_dict({"W_0": saved["W_0"]})


def test_same_seed_same_network():
    a, b, c = MLP([4, 8, 2], rng=5), MLP([4, 8, 2], rng=5), MLP([4, 8, 2], rng=6)
    np.testing.assert_array_equal(a.parameters()[0].data, b.parameters()[0].data)
    assert not np.array_equal(a.parameters()[0].data, c.parameters()[0].data)


def test_mlp_rejects_bad_input_with_clear_messages():
    model = MLP([784, 16, 10], rng=0)
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 784\), got \(784,\)"):
        model.forward(np.zeros(784))
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 784\), got \(3, 28, 28\)"):
        model.forward(np.zeros((3, 28, 28)))
    with pytest.raises(TypeError, match="expected X of dtype float64.*got float32"):
        model.forward(np.zeros((2, 784), dtype=np.float32))
    with pytest.raises(TypeError, match="expected X of dtype float32.*got float64"):
        MLP([784, 10], dtype=np.float32).forward(np.zeros((2, 784)))
    model.forward(np.zeros((2, 784)))
    with pytest.raises(ValueError, match=r"expected grad_out of shape \(2, 10\)"):
        model.backward(np.zeros((2, 9)))
    with pytest.raises(ValueError, match="at least 2 entries"):
        MLP([784])
    with pytest.raises(ValueError, match=r"sizes\[1\]"):
        MLP([784, 0, 10])
    with pytest.raises(TypeError, match="sizes"):
        MLP("784-10")
    with pytest.raises(ValueError, match="one per hidden layer"):
        MLP([4, 3, 3, 2], dropout=[0.1])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        MLP([4, 3, 2], dropout=-0.2)
    with pytest.raises(ValueError, match="activation name"):
        MLP([4, 2], activation="swish")
    with pytest.raises(TypeError, match="float32 or float64"):
        MLP([4, 2], dtype=np.float16)


def test_forward_and_backward_leave_the_callers_arrays_alone():
    rng = np.random.default_rng(0)
    for activation in ("relu", "identity"):
        model = MLP([4, 5, 5, 3], activation=activation, rng=0)
        X = rng.standard_normal((6, 4))
        X_copy = X.copy()
        out = model.forward(X)
        out_copy = out.copy()
        grad = rng.standard_normal((6, 3))
        grad_copy = grad.copy()
        model.backward(grad, input_grad=True)
        np.testing.assert_array_equal(X, X_copy)
        np.testing.assert_array_equal(out, out_copy)
        np.testing.assert_array_equal(grad, grad_copy)
