"""Tests for nnbook.engine.conv: convolution and pooling against numpy, scipy and PyTorch.

Every reference is computed independently of the engine: ``np.convolve``/``np.correlate``,
``scipy.signal``, ``scipy.linalg``, the FFT, and ``torch.nn.functional`` with autograd in
float64. Shapes are drawn by hypothesis.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.signal
import sympy as sp
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnbook.engine import conv
from nnbook.engine.gradcheck import numerical_gradient

TOL = 1e-10


def _signals(draw, min_m=1):
    m = draw(st.integers(min_m, 7))
    n = draw(st.integers(m, 20))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    return rng.standard_normal(m), rng.standard_normal(n)


signals = st.composite(_signals)


def _torch_1d(v):
    return torch.tensor(v, dtype=torch.float64)[None, None]


# ------------------------------------------------------------------------------ one dimension


@given(signals())
def test_convolve1d_equals_np_convolve_and_is_commutative(wx):
    w, x = wx
    out = conv.convolve1d(w, x)
    assert out.shape == (len(x) + len(w) - 1,)
    assert np.max(np.abs(out - np.convolve(w, x))) < TOL
    assert np.max(np.abs(out - conv.convolve1d(x, w))) < TOL


@given(signals())
def test_valid_correlation_equals_numpy_scipy_and_torch(wx):
    w, x = wx
    out = conv.correlate1d(w, x, "valid")
    assert out.shape == (len(x) - len(w) + 1,)
    assert np.max(np.abs(out - np.correlate(x, w, "valid"))) < TOL
    assert np.max(np.abs(out - scipy.signal.correlate(x, w, "valid"))) < TOL
    ref = F.conv1d(_torch_1d(x), _torch_1d(w)).numpy().ravel()
    assert np.max(np.abs(out - ref)) < TOL
    # cross-correlation is convolution with the flipped kernel
    assert np.max(np.abs(out - np.convolve(x, w[::-1], "valid"))) < TOL


@given(signals())
def test_same_correlation_is_the_slide_formula_and_equals_numpy_and_scipy(wx):
    w, x = wx
    m, n = len(w), len(x)
    out = conv.correlate1d(w, x, "same")
    assert out.shape == (n,)
    # the slide: sum_i w(i) x(k + i - floor(m/2)), x = 0 outside 0..n-1
    slide = [
        sum(w[i] * x[k + i - m // 2] for i in range(m) if 0 <= k + i - m // 2 < n) for k in range(n)
    ]
    assert np.max(np.abs(out - slide)) < TOL
    assert np.max(np.abs(out - np.correlate(x, w, "same"))) < TOL
    assert np.max(np.abs(out - scipy.signal.correlate(x, w, "same"))) < TOL


@given(signals())
def test_same_correlation_against_torch_padding_same(wx):
    """PyTorch pads (m - 1) // 2 zeros on the left: equal for odd m, shifted by one for even m."""
    w, x = wx
    out = conv.correlate1d(w, x, "same")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # even kernels: "may require a zero-padded copy"
        ref = F.conv1d(_torch_1d(x), _torch_1d(w), padding="same").numpy().ravel()
    if len(w) % 2 == 1:
        assert np.max(np.abs(out - ref)) < TOL
    else:
        assert np.max(np.abs(out[1:] - ref[:-1])) < TOL


@given(signals())
def test_circular_correlation_equals_torch_circular_padding_and_fft(wx):
    w, x = wx
    m, n = len(w), len(x)
    out = conv.correlate1d(w, x, "circular")
    assert out.shape == (n,)
    xt = F.pad(_torch_1d(x), (0, m - 1), mode="circular") if m > 1 else _torch_1d(x)
    ref = F.conv1d(xt, _torch_1d(w)).numpy().ravel()
    assert np.max(np.abs(out - ref)) < TOL
    # F(w star x) = conj(F(w)) F(x) for circular cross-correlation of real signals
    via_fft = np.fft.ifft(np.conj(np.fft.fft(w, n)) * np.fft.fft(x)).real
    assert np.max(np.abs(out - via_fft)) < TOL


@given(signals())
def test_circular_convolution_satisfies_the_convolution_theorem(wx):
    w, x = wx
    n = len(x)
    out = conv.circular_convolve1d(w, x)
    assert np.max(np.abs(np.fft.fft(out) - np.fft.fft(w, n) * np.fft.fft(x))) < 1e-9
    # and it is the linear convolution folded back modulo n
    full = np.convolve(w, x)
    folded = np.zeros(n)
    np.add.at(folded, np.arange(len(full)) % n, full)
    assert np.max(np.abs(out - folded)) < TOL


@given(signals(), st.sampled_from(conv.BOUNDARIES))
def test_correlation_matrix_applies_the_correlation(wx, boundary):
    w, x = wx
    M = conv.correlation_matrix(w, len(x), boundary)
    assert np.max(np.abs(M @ x - conv.correlate1d(w, x, boundary))) < TOL
    # constant along each diagonal: a Toeplitz matrix
    assert np.array_equal(M, scipy.linalg.toeplitz(M[:, 0], M[0]))


@given(signals())
def test_circular_correlation_matrix_is_circulant_and_commutes_with_shifts(wx):
    w, x = wx
    n = len(x)
    M = conv.correlation_matrix(w, n, "circular")
    assert np.array_equal(M, scipy.linalg.circulant(M[:, 0]))
    shift = np.roll(np.eye(n), 1, axis=0)  # (S x)(k) = x(k - 1)
    assert np.max(np.abs(M @ shift - shift @ M)) < TOL


def test_slide_circulant_matrix_symbolically():
    w0, w1, w2 = sp.symbols("w_0:3")
    C = sp.zeros(5, 5)
    for i, w_i in enumerate((w0, w1, w2)):
        C += w_i * sp.Matrix(conv.correlation_matrix(np.eye(3)[i], 5).astype(int))
    slide = sp.Matrix(
        [
            [w0, w1, w2, 0, 0],
            [0, w0, w1, w2, 0],
            [0, 0, w0, w1, w2],
            [w2, 0, 0, w0, w1],
            [w1, w2, 0, 0, w0],
        ]
    )
    assert slide == C


def test_valid_and_same_matrices_are_not_circulant():
    w = np.array([1.0, 2.0, 3.0])
    same = conv.correlation_matrix(w, 6, "same")
    assert not np.array_equal(same, scipy.linalg.circulant(same[:, 0]))
    assert conv.correlation_matrix(w, 6, "valid").shape == (4, 6)


@given(
    st.integers(1, 4),
    st.integers(1, 6),
    st.integers(0, 5),
    st.integers(0, 2**16),
)
def test_max_pool1d_equals_torch(p, k, extra, seed):
    n = k * p + min(extra, p - 1)  # an incomplete last window is dropped
    x = np.random.default_rng(seed).standard_normal(n)
    ref = F.max_pool1d(_torch_1d(x), p).numpy().ravel()
    out = conv.max_pool1d(x, p)
    assert out.shape == (n // p,)
    assert np.array_equal(out, ref)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: conv.correlate1d([1.0, 2.0, 3.0], [1.0, 2.0]), "m <= n"),
        (lambda: conv.correlate1d([1.0], [1.0, 2.0], "full"), "boundary"),
        (lambda: conv.correlate1d([[1.0]], [1.0, 2.0]), "shape"),
        (lambda: conv.max_pool1d([1.0, 2.0], 0), "p"),
        (lambda: conv.correlation_matrix([1.0], 0), "n"),
        (lambda: conv.correlate2d(np.ones((3, 3)), np.ones((2, 4))), "no larger"),
    ],
)
def test_bad_inputs_are_refused_with_a_message(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# ----------------------------------------------------------------------------- two dimensions


@given(
    st.integers(1, 4), st.integers(1, 4), st.integers(0, 4), st.integers(0, 4), st.integers(0, 99)
)
def test_correlate2d_equals_scipy(m1, m2, d1, d2, seed):
    rng = np.random.default_rng(seed)
    w, x = rng.standard_normal((m1, m2)), rng.standard_normal((m1 + d1, m2 + d2))
    out = conv.correlate2d(w, x)
    assert out.shape == (d1 + 1, d2 + 1)
    assert np.max(np.abs(out - scipy.signal.correlate2d(x, w, "valid"))) < TOL


def test_correlate2d_on_symbols_gives_the_slide_example():
    image = np.array(sp.symbols("a:l")).reshape(4, 3)
    a, b, c, d, e, f, g, h, i, j, k, l = image.ravel()
    al, be, ga, de = sp.symbols("alpha beta gamma delta")
    out = sp.Matrix(conv.correlate2d(np.array([[al, be], [ga, de]]), image))
    slide = sp.Matrix(
        [
            [a * al + b * be + d * ga + e * de, b * al + c * be + e * ga + f * de],
            [d * al + e * be + g * ga + h * de, e * al + f * be + h * ga + i * de],
            [g * al + h * be + j * ga + k * de, h * al + i * be + k * ga + l * de],
        ]
    )
    assert sp.expand(out - slide) == sp.zeros(3, 2)


conv_shapes = st.fixed_dictionaries(
    {
        "N": st.integers(1, 3),
        "C_in": st.integers(1, 3),
        "C_out": st.integers(1, 4),
        "m": st.integers(1, 4),
        "stride": st.integers(1, 3),
        "padding": st.integers(0, 2),
        "H_extra": st.integers(0, 5),
        "W_extra": st.integers(0, 5),
        "seed": st.integers(0, 2**16),
    }
)


def _layer_and_input(s):
    rng = np.random.default_rng(s["seed"])
    layer = conv.Conv2d(
        s["C_in"], s["C_out"], s["m"], stride=s["stride"], padding=s["padding"], rng=rng
    )
    layer.b.data[:] = rng.standard_normal(s["C_out"])
    H = max(s["m"] - 2 * s["padding"], 1) + s["H_extra"]
    W = max(s["m"] - 2 * s["padding"], 1) + s["W_extra"]
    X = rng.standard_normal((s["N"], s["C_in"], H, W))
    return layer, X, rng


@given(conv_shapes)
def test_im2col_equals_torch_unfold_and_col2im_is_its_adjoint(s):
    rng = np.random.default_rng(s["seed"])
    m, stride, P = s["m"], s["stride"], s["padding"]
    H, W = max(m - 2 * P, 1) + s["H_extra"], max(m - 2 * P, 1) + s["W_extra"]
    X = rng.standard_normal((s["N"], s["C_in"], H, W))
    cols = conv.im2col(X, m, stride, P)
    ref = F.unfold(torch.tensor(X), m, padding=P, stride=stride).numpy()
    assert cols.shape == ref.shape
    assert np.array_equal(cols, ref)
    # <im2col(X), C> = <X, col2im(C)> for every C: col2im is the adjoint (F.fold)
    C = rng.standard_normal(cols.shape)
    back = conv.col2im(C, X.shape, m, stride, P)
    assert abs(np.sum(cols * C) - np.sum(X * back)) < TOL * max(1.0, np.abs(cols * C).sum())
    folded = F.fold(torch.tensor(C), (H, W), m, padding=P, stride=stride).numpy()
    assert np.max(np.abs(back - folded)) < TOL


@given(conv_shapes)
def test_conv2d_forward_and_backward_equal_torch_autograd(s):
    layer, X, rng = _layer_and_input(s)
    Z = layer.forward(X)
    G = rng.standard_normal(Z.shape)
    dX = layer.backward(G)

    Xt = torch.tensor(X, requires_grad=True)
    Wt = torch.tensor(layer.W.data, requires_grad=True)
    bt = torch.tensor(layer.b.data, requires_grad=True)
    Zt = F.conv2d(Xt, Wt, bt, stride=s["stride"], padding=s["padding"])
    (Zt * torch.tensor(G)).sum().backward()
    assert Z.shape == tuple(Zt.shape)
    assert np.max(np.abs(Z - Zt.detach().numpy())) < TOL
    assert np.max(np.abs(dX - Xt.grad.numpy())) < TOL
    assert np.max(np.abs(layer.W.grad - Wt.grad.numpy())) < TOL
    assert np.max(np.abs(layer.b.grad - bt.grad.numpy())) < TOL


def test_conv2d_gradient_equals_finite_differences():
    rng = np.random.default_rng(3)
    layer = conv.Conv2d(2, 3, 3, stride=2, padding=1, rng=rng)
    X = rng.standard_normal((2, 2, 6, 5))
    G = rng.standard_normal(layer.forward(X).shape)

    def R(_):
        return float(np.sum(G * layer.forward(X)))

    layer.zero_grad()
    layer.forward(X)
    dX = layer.backward(G)
    assert np.max(np.abs(layer.W.grad - numerical_gradient(R, layer.W.data))) < 1e-7
    assert np.max(np.abs(layer.b.grad - numerical_gradient(R, layer.b.data))) < 1e-7
    assert np.max(np.abs(dX - numerical_gradient(R, X))) < 1e-7


def test_conv2d_gradients_accumulate_and_zero_grad_resets():
    rng = np.random.default_rng(0)
    layer = conv.Conv2d(1, 2, 2, rng=rng)
    X = rng.standard_normal((1, 1, 4, 4))
    G = rng.standard_normal(layer.forward(X).shape)
    layer.backward(G)
    once = layer.W.grad.copy()
    layer.forward(X)
    layer.backward(G)
    assert np.allclose(layer.W.grad, 2 * once)
    layer.zero_grad()
    assert not layer.W.grad.any() and not layer.b.grad.any()


def test_conv2d_parameter_count_equals_torch():
    ours = conv.Conv2d(3, 5, 4)
    theirs = torch.nn.Conv2d(3, 5, 4)
    assert sum(p.size for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    assert sum(p.size for p in ours.parameters()) == 5 * (3 * 4 * 4 + 1)


def test_conv2d_is_translation_equivariant_away_from_the_border():
    rng = np.random.default_rng(1)
    layer = conv.Conv2d(1, 2, 3, padding=1, rng=rng)
    X = np.zeros((1, 1, 12, 12))
    X[0, 0, 3:7, 4:8] = rng.standard_normal((4, 4))  # content far from the border
    shifted = np.roll(X, (2, 1), axis=(2, 3))
    assert np.max(np.abs(layer.forward(shifted) - np.roll(layer.forward(X), (2, 1), (2, 3)))) < TOL


def test_conv2d_refuses_wrong_inputs():
    layer = conv.Conv2d(3, 2, 3)
    with pytest.raises(ValueError, match=r"\(n, 3, height, width\)"):
        layer.forward(np.zeros((1, 2, 5, 5)))
    with pytest.raises(RuntimeError, match="forward before backward"):
        conv.Conv2d(1, 1, 1).backward(np.zeros((1, 1, 2, 2)))
    layer.forward(np.zeros((1, 3, 5, 5)))
    with pytest.raises(ValueError, match="grad_out"):
        layer.backward(np.zeros((1, 2, 4, 4)))
    with pytest.raises(ValueError, match="C_in"):
        conv.Conv2d(0, 2, 3)


@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(0, 2),
    st.integers(1, 4),
    st.integers(0, 2**16),
)
def test_maxpool2d_forward_and_backward_equal_torch(N, C, p, extra, k, seed):
    rng = np.random.default_rng(seed)
    H, W = k * p + extra, (k + 1) * p + extra  # incomplete windows are dropped
    X = rng.standard_normal((N, C, H, W))  # continuous values: no ties
    pool = conv.MaxPool2d(p)
    out = pool.forward(X)
    G = rng.standard_normal(out.shape)
    dX = pool.backward(G)
    Xt = torch.tensor(X, requires_grad=True)
    ref = F.max_pool2d(Xt, p)
    (ref * torch.tensor(G)).sum().backward()
    assert np.array_equal(out, ref.detach().numpy())
    assert np.max(np.abs(dX - Xt.grad.numpy())) < TOL


def test_maxpool2d_slide_example_and_routing():
    A = np.array([[1, 2, 5, 3], [3, 0, 1, 2], [2, 1, 3, 4], [1, 1, 2, 0]], dtype=float)
    pool = conv.MaxPool2d(2)
    assert np.array_equal(pool.forward(A[None, None])[0, 0], [[3, 5], [2, 4]])
    routed = pool.backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]))[0, 0]
    expected = np.zeros((4, 4))
    expected[1, 0], expected[0, 2], expected[2, 0], expected[2, 3] = 10, 20, 30, 40
    assert np.array_equal(routed, expected)


def test_maxpool2d_ties_go_to_the_first_maximum_like_torch():
    X = np.ones((1, 1, 2, 2))
    pool = conv.MaxPool2d(2)
    pool.forward(X)
    Xt = torch.tensor(X, requires_grad=True)
    F.max_pool2d(Xt, 2).sum().backward()
    assert np.array_equal(pool.backward(np.ones((1, 1, 1, 1))), Xt.grad.numpy())


def test_maxpool2d_backward_before_forward_and_wrong_grad():
    with pytest.raises(RuntimeError, match="forward before backward"):
        conv.MaxPool2d(2).backward(np.zeros((1, 1, 1, 1)))
    pool = conv.MaxPool2d(2)
    pool.forward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="grad_out"):
        pool.backward(np.zeros((1, 1, 4, 4)))


def test_flatten_round_trip():
    X = np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5)
    flat = conv.Flatten()
    out = flat.forward(X)
    assert np.array_equal(out, torch.flatten(torch.tensor(X), 1).numpy())
    assert np.array_equal(flat.backward(out), X)
