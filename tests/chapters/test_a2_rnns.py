"""Tests for nnbook.chapters.a2_rnns: parameter counts against torch, the weight copies
between the engine and torch, the untied gradients, the scalar Value graph, the spectral
radius and growth-rate helpers, training and the figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnbook.chapters import a2_rnns as A
from nnbook.engine.autodiff import topological_order
from nnbook.engine.rnn import RNN
from nnbook.pytorch import sequences as seqs
from nnbook.viz import plots

FAST = settings(max_examples=20, deadline=None)


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --------------------------------------------------------------------------- counts


@FAST
@given(
    cell=st.sampled_from(["rnn", "gru", "lstm"]),
    d=st.integers(1, 12),
    M=st.integers(1, 40),
    K=st.integers(1, 5),
)
def test_count_matches_torch(cell, d, M, K):
    model = seqs.SequenceModel(cell, d, M, K)
    assert A.count_parameters(cell, d, M, K) == n_params(model)
    layer = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell](d, M)
    assert A.count_parameters(cell, d, M, K) == n_params(layer) + n_params(torch.nn.Linear(M, K))


@given(d=st.integers(1, 8), M=st.integers(1, 16), K=st.integers(1, 4))
def test_lecture_count_is_the_engine_layer_plus_head(d, M, K):
    # one bias vector b_h: M fewer numbers than torch
    expected = RNN(d, M, rng=0).n_parameters() + M * K + K
    assert A.count_parameters("rnn", d, M, K, torch_biases=False) == expected
    assert A.count_parameters("rnn", d, M, K) == expected + M


@given(d=st.integers(1, 6), M=st.integers(1, 10), T=st.integers(1, 12), K=st.integers(1, 3))
def test_unrolled_count_builds_the_untied_network(d, M, T, K):
    # T separate steps, each an input map with its bias and a recurrent map without
    steps = [
        torch.nn.ModuleList([torch.nn.Linear(d, M), torch.nn.Linear(M, M, bias=False)])
        for _ in range(T)
    ]
    total = sum(n_params(s) for s in steps) + n_params(torch.nn.Linear(M, K))
    assert A.unrolled_parameters(d, M, T, K) == total
    assert A.unrolled_parameters(d, M, 1, K) == A.count_parameters(
        "rnn", d, M, K, torch_biases=False
    )


def test_counts_reject_bad_input():
    with pytest.raises(ValueError, match="cell"):
        A.count_parameters("transformer", 2, 3)
    with pytest.raises(ValueError, match="M"):
        A.count_parameters("rnn", 2, 0)
    with pytest.raises(ValueError, match="T"):
        A.unrolled_parameters(2, 3, 0)


# --------------------------------------------------------------------------- models


def test_to_torch_and_back_compute_the_same_states():
    rng = np.random.default_rng(0)
    layer = RNN(3, 4, rng=rng)
    layer.b_h.data[:] = rng.standard_normal(4)
    X = rng.standard_normal((2, 6, 3))
    H_torch, _ = A.to_torch_rnn(layer)(torch.tensor(X))
    np.testing.assert_allclose(layer.forward(X), H_torch.detach().numpy(), rtol=0, atol=1e-14)
    model = seqs.SequenceModel("rnn", 3, 4, seed=0, dtype=torch.float64)
    back = A.engine_rnn(model)
    H_model, _ = model.rnn(torch.tensor(X))
    np.testing.assert_allclose(back.forward(X), H_model.detach().numpy(), rtol=0, atol=1e-14)
    with pytest.raises(TypeError, match="cell='rnn'"):
        A.engine_rnn(seqs.SequenceModel("gru", 3, 4))
    with pytest.raises(ValueError, match="activation"):
        A.to_torch_rnn(RNN(3, 4, "sigmoid"))


@FAST
@given(n=st.integers(1, 3), T=st.integers(1, 8), M=st.integers(1, 4), seed=st.integers(0, 999))
def test_untied_gradients_sum_to_the_tied_gradient(n, T, M, seed):
    rng = np.random.default_rng(seed)
    layer = RNN(2, M, rng=rng)
    X, G = rng.standard_normal((n, T, 2)), rng.standard_normal((n, T, M))
    per_step = A.untied_gradients(layer, X, G)
    # reference: torch.nn.RNN with shared weights, autograd
    r = A.to_torch_rnn(layer)
    H, _ = r(torch.tensor(X))
    (H * torch.tensor(G)).sum().backward()
    tied = {"W_xh": r.weight_ih_l0, "W_hh": r.weight_hh_l0, "b_h": r.bias_ih_l0}
    for k, p in tied.items():
        assert per_step[k].shape == (T, *p.shape)
        np.testing.assert_allclose(per_step[k].sum(axis=0), p.grad.numpy(), atol=1e-12)
    # h_0 = 0: the first copy of W_hh multiplies zero and gets no gradient
    assert np.all(per_step["W_hh"][0] == 0)


def test_scalar_graph_matches_torch():
    xs, w_xh, w_hh, b_h, y = [0.5, -1.0, 2.0], 0.8, 0.9, 0.1, 1.0
    R = A.scalar_rnn_loss(xs, w_xh, w_hh, b_h, y)
    R.backward()
    leaves = {v.label: v for v in topological_order(R)}
    w = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
         for k, v in [("w_xh", w_xh), ("w_hh", w_hh), ("b_h", b_h)]}  # fmt: skip
    h = torch.tensor(0.0, dtype=torch.float64)
    for x in xs:
        h = torch.tanh(w["w_hh"] * h + w["w_xh"] * x + w["b_h"])
    R_t = 0.5 * (h - y) ** 2
    R_t.backward()
    assert R.data == pytest.approx(R_t.item(), abs=1e-15)
    for k, t in w.items():
        assert leaves[k].grad == pytest.approx(t.grad.item(), abs=1e-14)
    # each shared leaf feeds one multiplication (or sum) per step
    assert sum(leaves["w_hh"] in v._prev for v in topological_order(R)) == len(xs)


# --------------------------------------------------------------------------- vanishing


@given(M=st.integers(1, 12), rho=st.floats(0.1, 5.0), seed=st.integers(0, 999))
def test_matrix_has_the_requested_spectral_radius(M, rho, seed):
    W = A.matrix_with_spectral_radius(M, rho, rng=seed)
    assert W.shape == (M, M)
    assert np.max(np.abs(np.linalg.eigvals(W))) == pytest.approx(rho, rel=1e-9)


@given(r=st.floats(0.3, 3.0), C=st.floats(0.1, 10.0))
def test_growth_rate_of_a_geometric_sequence(r, C):
    norms = C * r ** np.arange(41)
    assert A.growth_rate(norms) == pytest.approx(r, rel=1e-9)
    two_rows = np.vstack([norms, 4 * norms])  # the geometric mean keeps the rate
    assert A.growth_rate(two_rows, start=0) == pytest.approx(r, rel=1e-9)


def test_geometric_mean():
    norms = np.array([[1.0, 10.0], [100.0, 1000.0]])
    np.testing.assert_allclose(A.geometric_mean(norms), [10.0, 100.0])


# --------------------------------------------------------------------------- training


def test_input_sensitivity_matches_a_jacobian():
    model = seqs.SequenceModel("lstm", 2, 3, seed=0)
    X = np.random.default_rng(0).standard_normal((2, 5, 2))
    sens = A.input_sensitivity(model, X)
    assert sens.shape == (5,)
    ref = []
    for i in range(2):
        J = torch.autograd.functional.jacobian(
            lambda x: model.rnn(x[None])[0][0, -1], torch.tensor(X[i], dtype=torch.float32)
        )  # (M, T, d)
        ref.append(np.sqrt((J.numpy() ** 2).sum(axis=(0, 2))))
    np.testing.assert_allclose(sens, np.mean(ref, axis=0), rtol=1e-5)


# --------------------------------------------------------------------------- figures


def test_figures_draw_distinguishable_series():
    fig, ax = plots.figure()
    A.plot_jacobian_norms(ax, {"a": np.ones((2, 6)), "b": np.full((2, 6), 2.0)}, "t")
    styles = {(ln.get_marker(), ln.get_linestyle()) for ln in ax.get_lines()}
    assert len(styles) == 2 and ax.get_yscale() == "log"
    fig, axes = plots.figure(ncols=2)
    table, _ = seqs.adding_sweep([4, 6], {"rnn": 2, "gru": 2}, n_train=32, n_test=16, steps=1)
    A.plot_adding_sweep(axes, table, 0.08)
    assert len({ln.get_marker() for ln in axes[0].get_lines()}) >= 2
    fig = A.draw_unrolled(3)
    assert fig.axes and len(fig.axes[0].texts) > 10
    fig, ax = plots.figure()
    A.plot_sensitivity(ax, {"x": np.ones(8), "y": np.arange(1.0, 9.0)})
    assert len(ax.get_lines()) == 2
    matplotlib.pyplot.close("all")
