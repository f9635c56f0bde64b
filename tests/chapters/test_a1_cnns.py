"""Tests for nnbook.chapters.a1_cnns, the helpers of the appendix page on CNNs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import integrate

from nnbook.chapters import a1_cnns as A
from nnbook.engine.layers import Activation
from nnbook.pytorch.models import make_mlp


def test_as_images_reshapes_rows_to_one_channel_images():
    X = np.arange(2 * 784).reshape(2, 784)
    imgs = A.as_images(X)
    assert imgs.shape == (2, 1, 28, 28)
    assert imgs[1, 0, 3, 5] == X[1, 3 * 28 + 5]
    with pytest.raises(ValueError, match=r"\(n, 784\)"):
        A.as_images(np.zeros((2, 28, 28)))


@pytest.mark.parametrize("dy, dx", [(0, 1), (2, -3), (-1, 0), (3, 3)])
def test_shift_images_moves_content_and_fills_with_zeros(dy, dx):
    rng = np.random.default_rng(0)
    X = np.zeros((2, 1, 28, 28))
    X[:, :, 5:20, 6:21] = rng.random((2, 1, 15, 15))  # a border of at least 5 empty pixels
    shifted = A.shift_images(X, dy, dx)
    assert np.array_equal(shifted, np.roll(X, (dy, dx), axis=(2, 3)))  # nothing wrapped
    flat = A.shift_images(X.reshape(2, 784), dy, dx)
    assert np.array_equal(flat, shifted.reshape(2, 784))


def test_shift_images_drops_what_leaves_the_image():
    X = np.ones((1, 28, 28))
    out = A.shift_images(X, 0, 3)
    assert out[0, :, :3].sum() == 0 and out[0, :, 3:].min() == 1
    assert out.sum() == 28 * 25


def test_neighbour_correlation():
    rng = np.random.default_rng(0)
    rows_constant = np.repeat(rng.random((50, 28, 1)), 28, axis=2).reshape(50, 784)
    rows_constant += 1e-9 * rng.random(rows_constant.shape)  # a tiny noise: defined correlation
    assert A.neighbour_correlation(rows_constant) > 0.999
    noise = rng.random((200, 784))
    assert abs(A.neighbour_correlation(noise)) < 0.02


def test_permuted_mlp_computes_the_same_function_on_permuted_inputs():
    perm = np.random.default_rng(0).permutation(784)
    mlp = make_mlp([784, 16, 10], seed=0, dtype=torch.float64)
    shuffled = A.permuted_mlp(mlp, perm)
    X = torch.tensor(np.random.default_rng(1).random((5, 784)))
    with torch.no_grad():
        assert torch.max(torch.abs(mlp(X) - shuffled(X[:, perm]))) < 1e-12
    assert shuffled is not mlp
    with pytest.raises(ValueError, match="permutation"):
        A.permuted_mlp(mlp, np.zeros(784, dtype=int))


def test_permute_within_windows_keeps_each_window_and_its_max_pool():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 3, 9, 8))  # last row and column: no complete window
    out = A.permute_within_windows(X, 2, rng)
    assert not np.array_equal(out, X)
    Xt, outt = torch.tensor(X), torch.tensor(out)
    assert torch.equal(F.max_pool2d(Xt, 2), F.max_pool2d(outt, 2))
    for i in range(0, 8, 2):
        for j in range(0, 8, 2):
            window_in = np.sort(X[:, :, i : i + 2, j : j + 2].reshape(2, 3, 4), axis=-1)
            window_out = np.sort(out[:, :, i : i + 2, j : j + 2].reshape(2, 3, 4), axis=-1)
            assert np.array_equal(window_in, window_out)
    assert np.array_equal(out[:, :, 8, :], X[:, :, 8, :])


def test_lenet_layout_and_parameter_count():
    net = A.lenet(seed=0)
    # LeNet-5 layout: conv 1->6 (5x5), conv 6->16 (5x5), 400-120-84-10
    expected = (6 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + 850
    assert sum(p.numel() for p in net.parameters()) == expected == 61_706
    assert net(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    torch.testing.assert_close(A.lenet(seed=0)[0].weight, net[0].weight)


def test_shape_trace_channels_grow_as_images_shrink():
    trace = dict(A.shape_trace(A.lenet(), torch.zeros(1, 1, 28, 28)))
    rows = A.shape_trace(A.lenet(), torch.zeros(1, 1, 28, 28))
    assert rows[0] == ("input", (1, 28, 28))
    assert [shape for name, shape in rows if name == "MaxPool2d"] == [(6, 14, 14), (16, 5, 5)]
    assert trace["Linear"] == (10,)


def test_to_engine_forward_and_backward_equal_torch():
    torch.manual_seed(0)
    net = A.lenet(seed=3).double()
    layers = A.to_engine(net)
    X = np.random.default_rng(0).random((4, 1, 28, 28))
    x = X
    for layer in layers:
        x = layer.forward(x)
    Xt = torch.tensor(X, requires_grad=True)
    out = net(Xt)
    assert np.max(np.abs(x - out.detach().numpy())) < 1e-12
    G = np.random.default_rng(1).standard_normal(x.shape)
    (out * torch.tensor(G)).sum().backward()
    g = G
    for layer in reversed(layers):
        g = layer.backward(g)
    assert np.max(np.abs(g - Xt.grad.numpy())) < 1e-10
    assert np.max(np.abs(layers[0].W.grad - net[0].weight.grad.numpy())) < 1e-10


def test_to_engine_refuses_unknown_layers():
    with pytest.raises(TypeError, match="expected Conv2d"):
        A.to_engine(torch.nn.Sequential(torch.nn.Tanh()))


def test_residual_block_adds_the_input_to_the_plain_branch():
    torch.manual_seed(0)
    plain, res = A.PlainBlock(4), A.ResidualBlock(4)
    res.load_state_dict(plain.state_dict())
    x = torch.randn(2, 4, 6, 6)
    torch.testing.assert_close(res(x), x + plain(x))
    # the branch is W star sigma(x) + b
    torch.testing.assert_close(
        plain(x), F.conv2d(torch.relu(x), plain.conv.weight, plain.conv.bias, padding=1)
    )


def test_conv_stack_and_first_layer_grad_norm():
    net = A.conv_stack(3, residual=True, batch_norm=True, channels=4, seed=0)
    assert net[0].weight.dtype == torch.float64
    assert sum(isinstance(m, A.ResidualBlock) for m in net) == 3
    rng = np.random.default_rng(0)
    X, y = rng.random((8, 1, 10, 10)), rng.integers(0, 10, 8)
    norm = A.first_layer_grad_norm(net, X, y)
    # independent: autograd on a fresh copy of the same network
    net2 = A.conv_stack(3, residual=True, batch_norm=True, channels=4, seed=0)
    loss = F.cross_entropy(net2(torch.tensor(X)), torch.tensor(y))
    (g,) = torch.autograd.grad(loss, net2[0].weight)
    assert abs(norm - float(g.norm())) < 1e-12
    # called twice, the gradient is not accumulated
    assert abs(A.first_layer_grad_norm(net, X, y) - norm) < 1e-12


def test_uniform_plus_exponential_density_is_the_convolution_integral():
    for tau in (-0.5, 0.0, 0.3, 1.0, 1.7, 4.0):
        integral, _ = integrate.quad(lambda t, tau=tau: np.exp(-(tau - t)) * (tau - t >= 0), 0, 1)
        assert abs(A.uniform_plus_exponential_density(tau) - integral) < 1e-8
    total, _ = integrate.quad(
        lambda t: float(A.uniform_plus_exponential_density(t)), 0, 50, limit=200
    )
    assert abs(total - 1) < 1e-6


def test_bump_is_a_smooth_bump():
    t = np.linspace(-2, 2, 401)
    b = A.bump(t)
    assert np.all(b[np.abs(t) >= 1] == 0) and np.all(b[np.abs(t) < 1] > 0)
    assert abs(b.max() - np.exp(-1)) < 1e-12 and b[200] == b.max()
    assert np.allclose(b, b[::-1])
    assert np.array_equal(A.bump(t, width=2.0), A.bump(t / 2))


def test_stripe_filters():
    f = A.stripe_filters()
    assert abs(f["vertical"].sum()) < 1e-15 and abs(f["horizontal"].sum()) < 1e-15
    assert np.array_equal(f["horizontal"], f["vertical"].T)
    # a vertical line scores highest on the vertical filter
    img = np.zeros((5, 5))
    img[:, 2] = 1
    relu = Activation("relu").activation.f
    v = relu(F.conv2d(torch.tensor(img)[None, None], torch.tensor(f["vertical"])[None, None]))
    h = relu(F.conv2d(torch.tensor(img)[None, None], torch.tensor(f["horizontal"])[None, None]))
    assert v.max() > h.max()
