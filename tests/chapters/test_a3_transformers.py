"""Tests for nnbook.chapters.a3_transformers: the torch copies of the engine's layers, the
closed-form parameter counts, the sqrt(d_k) experiments, the cost sweep, the path lengths
against their closed forms, and the tiny Transformer (recomputed in NumPy with the engine)."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnbook.chapters import a3_transformers as A3
from nnbook.engine import attention as att

matplotlib.use("Agg")
FAST = settings(max_examples=15, deadline=None)


def perturb(layer, rng, scale=0.3):
    for p in layer.parameters():
        p.data += scale * rng.standard_normal(p.shape)


# --------------------------------------------------------------------------- engine -> torch


@FAST
@given(h=st.integers(1, 4), d_k=st.integers(1, 4), bias=st.booleans(), seed=st.integers(0, 999))
def test_mha_to_torch_computes_the_same(h, d_k, bias, seed):
    rng = np.random.default_rng(seed)
    mha = att.MultiHeadAttention(h * d_k, h, bias=bias, rng=rng)
    perturb(mha, rng)
    X, Z = rng.standard_normal((2, 3, h * d_k)), rng.standard_normal((2, 5, h * d_k))
    mask = rng.random((3, 5)) < 0.5
    mask[:, 0] = True
    tm = A3.mha_to_torch(mha)
    Zt = torch.tensor(Z)
    ref, _ = tm(torch.tensor(X), Zt, Zt, attn_mask=A3.torch_attn_mask(mask))
    assert np.abs(mha(X, Z, mask) - ref.detach().numpy()).max() < 1e-12
    assert sum(p.numel() for p in tm.parameters()) == att.n_parameters(mha)


def test_mha_to_torch_refuses_what_torch_cannot_hold():
    with pytest.raises(ValueError, match="d_k = d_v = d_model / h"):
        A3.mha_to_torch(att.MultiHeadAttention(6, 2, d_k=2, d_v=3))
    with pytest.raises(TypeError, match="MultiHeadAttention"):
        A3.mha_to_torch(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="EncoderLayer"):
        A3.encoder_layer_to_torch(att.MultiHeadAttention(4, 2))


def test_torch_attn_mask_flips_the_convention():
    mask = att.causal_mask(4)
    flipped = A3.torch_attn_mask(mask)
    assert flipped.dtype == torch.bool
    assert torch.equal(flipped, torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1))


def test_encoder_layer_to_torch_matches_forward_and_eps():
    rng = np.random.default_rng(0)
    layer = att.EncoderLayer(12, 3, 20, eps=1e-3, rng=rng)
    perturb(layer, rng)
    te = A3.encoder_layer_to_torch(layer)
    X = rng.standard_normal((2, 5, 12))
    mask = att.causal_mask(5)
    ref = te(torch.tensor(X), src_mask=A3.torch_attn_mask(mask)).detach().numpy()
    assert np.abs(layer(X, mask) - ref).max() < 1e-12
    assert te.norm1.eps == 1e-3 and not te.norm_first


@pytest.mark.parametrize("D, h, d_ff", [(512, 8, 2048), (16, 2, 32), (6, 3, 10), (7, 1, 3)])
def test_parameter_counts_against_torch(D, h, d_ff):
    counts = A3.parameter_counts(D, h, d_ff)
    layer = torch.nn.TransformerEncoderLayer(D, h, d_ff)

    def n(*modules):
        return sum(p.numel() for m in modules for p in m.parameters())

    assert counts["multi-head attention"] == n(layer.self_attn)
    assert counts["FFN"] == n(layer.linear1, layer.linear2)
    assert counts["2 LayerNorms"] == n(layer.norm1, layer.norm2)
    assert counts["encoder layer"] == n(layer)
    no_bias = A3.parameter_counts(D, h, d_ff, bias=False)["multi-head attention"]
    assert no_bias == n(torch.nn.MultiheadAttention(D, h, bias=False)) == 4 * D * D


# --------------------------------------------------------------------------- why sqrt(d_k)


def test_dot_product_variance_is_d_k():
    table = A3.dot_product_variance([1, 8, 100], n_samples=20000, rng=0)
    assert list(table["d_k"]) == [1, 8, 100]
    # Var(q.k) = d_k; the estimate's relative standard error is about sqrt(8/20000) = 0.02
    assert np.allclose(table["Var(q.k) measured"] / table["d_k"], 1, atol=0.1)
    assert np.allclose(table["Var(q.k / sqrt(d_k))"], 1, atol=0.1)


def test_softmax_saturation_against_autograd_and_limits():
    table = A3.softmax_saturation([1, 16, 256, 4096], m=8, n_samples=300, rng=1)
    raw = table[~table["scaled"]].set_index("d_k")
    scaled = table[table["scaled"]].set_index("d_k")
    cols = ["max weight", "Jacobian norm"]
    assert raw.loc[1, cols].equals(scaled.loc[1, cols])  # sqrt(1) = 1: the same scores
    assert raw["max weight"].is_monotonic_increasing and raw.loc[4096, "max weight"] > 0.95
    assert raw["Jacobian norm"].iloc[-1] < 0.1 * scaled["Jacobian norm"].iloc[-1]
    # scaled, the scores are close to N(0, 1) for every d_k >= 16: nothing moves
    settled = scaled.loc[[16, 256, 4096]]
    assert np.ptp(settled["max weight"]) < 0.05 and np.ptp(settled["Jacobian norm"]) < 0.05
    # the Jacobian of one softmax, by autograd
    s = torch.randn(8, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(lambda z: torch.softmax(z, 0), s).numpy()
    a = att.softmax(s.numpy())
    assert np.allclose(J, np.diag(a) - np.outer(a, a), atol=1e-15)


# --------------------------------------------------------------------------- cost, paths


def test_cost_sweep_memory_matches_the_arrays_it_must_hold():
    d = 16
    table = A3.cost_sweep([64, 256], d=d, repeats=1, rng=0).set_index(["n", "model"])
    for n in (64, 256):
        attention, rnn = table.loc[(n, "self-attention")], table.loc[(n, "RNN")]
        assert attention["peak MB"] >= 3 * n * n * 8 / 1e6  # scores, exp, weights
        assert attention["peak MB"] < 4 * n * n * 8 / 1e6 + 4 * n * d * 8 / 1e6
        assert rnn["peak MB"] >= 2 * n * d * 8 / 1e6  # Z and H, kept for BPTT
        assert attention["flops"] == 4 * n * n * d and rnn["flops"] == 4 * n * d * d
        assert attention["seconds"] > 0 and rnn["seconds"] > 0


@pytest.mark.parametrize("n", [2, 3, 8, 17])
@pytest.mark.parametrize("kernel", [3, 5])
def test_path_lengths_against_closed_forms(n, kernel):
    paths = A3.path_lengths(n, kernel)
    assert paths["self-attention"] == 1
    assert paths["RNN"] == n  # x_1 -> h_1 -> ... -> h_n
    assert paths[f"convolutions (width {kernel})"] == math.ceil((n - 1) / (kernel - 1))


# --------------------------------------------------------------------------- the tiny Transformer


def engine_copy(model: A3.TinyTransformer) -> att.EncoderLayer:
    """The model's encoder layer as an engine EncoderLayer (float64)."""
    te = model.encoder
    D, h, d_ff = model.d_model, te.self_attn.num_heads, te.linear1.out_features
    layer = att.EncoderLayer(D, h, d_ff, eps=te.norm1.eps)
    a, W = layer.self_attn, te.self_attn.in_proj_weight.detach().double().numpy()
    b = te.self_attn.in_proj_bias.detach().double().numpy()
    for i, (Wp, bp) in enumerate([(a.W_Q, a.b_Q), (a.W_K, a.b_K), (a.W_V, a.b_V)]):
        Wp.data[...], bp.data[...] = W[i * D : (i + 1) * D].T, b[i * D : (i + 1) * D]
    a.W_O.data[...] = te.self_attn.out_proj.weight.detach().double().numpy().T
    a.b_O.data[...] = te.self_attn.out_proj.bias.detach().double().numpy()
    ffn = layer.ffn
    for W, bias, lin in [(ffn.W_1, ffn.b_1, te.linear1), (ffn.W_2, ffn.b_2, te.linear2)]:
        W.data[...] = lin.weight.detach().double().numpy().T
        bias.data[...] = lin.bias.detach().double().numpy()
    for ours, norm in [(layer.norm1, te.norm1), (layer.norm2, te.norm2)]:
        ours.gamma.data[...] = norm.weight.detach().double().numpy()
        ours.beta.data[...] = norm.bias.detach().double().numpy()
    return layer


@pytest.mark.parametrize("positional", [False, True])
def test_tiny_transformer_against_a_numpy_recomputation(positional):
    """Embedding, [CLS] token, positional encoding, the encoder layer (the engine's) and the
    read-out from z_0, recomputed in NumPy float64 from the model's weights."""
    model = A3.TinyTransformer(d_model=8, h=2, d_ff=12, positional=positional, seed=3).double()
    X = np.random.default_rng(0).random((4, 6, 2))
    out = model(torch.tensor(X)).detach().numpy()
    W_e, b_e = (p.detach().numpy() for p in model.embed.parameters())
    E = np.concatenate([np.broadcast_to(model.cls.detach().numpy(), (4, 1, 8)), X @ W_e.T + b_e], 1)
    if positional:
        E = E + att.sinusoidal_encoding(7, 8)
    Z = engine_copy(model)(E)
    w, c = (p.detach().numpy() for p in model.head.parameters())
    assert out.shape == (4, 1)
    assert np.abs(out - (Z[:, 0] @ w.T + c)).max() < 1e-12


def test_tiny_transformer_weights_and_permutation_invariance():
    rng = np.random.default_rng(1)
    X, perm = rng.random((5, 9, 2)), rng.permutation(9)
    plain = A3.TinyTransformer(d_model=8, h=2, d_ff=8, positional=False, seed=0).double()
    encoded = A3.TinyTransformer(d_model=8, h=2, d_ff=8, positional=True, seed=0).double()
    for model, invariant in [(plain, True), (encoded, False)]:
        with torch.no_grad():
            y, y_perm = model(torch.tensor(X)), model(torch.tensor(X[:, perm]))
        assert (torch.abs(y - y_perm).max() < 1e-12) == invariant
    W = plain.attention(X)
    assert W.shape == (5, 2, 10, 10) and np.allclose(W.sum(-1), 1)
    same = A3.TinyTransformer(d_model=8, h=2, d_ff=8, positional=False, seed=0)
    assert all(torch.equal(p, q) for p, q in zip(same.parameters(), plain.float().parameters()))


def test_train_tiny_learns_and_is_reproducible():
    from nnbook.data.sequences import make_adding

    data = make_adding(256, 6, rng=0)
    runs = []
    for _ in range(2):
        model = A3.TinyTransformer(d_model=8, h=1, d_ff=8, seed=0)
        history = A3.train_tiny(model, data.X, data.y, epochs=3, lr=1e-2)
        runs.append([p.detach().clone() for p in model.parameters()])
    assert history.epochs == 3 and history.train_loss[-1] < history.train_loss[0]
    assert all(torch.equal(p, q) for p, q in zip(*runs))


def test_attention_mass_on_known_weights():
    T = 5
    w = np.zeros((2, 2, T + 1))
    positions = np.array([[0, 3], [1, 4]])
    w[0, 0, [1, 4]] = 0.5  # head 1 of sequence 1: all on its marks (steps 0 and 3)
    w[1, 0, [2, 5]] = [0.3, 0.3]  # sequence 2: 0.6 on its marks, 0.4 on [CLS]
    w[1, 0, 0] = 0.4
    w[:, 1, 1:] = 1 / T  # head 2: uniform over the steps
    table = A3.attention_mass(w, positions)
    assert list(table.index) == ["head 1", "head 2"]
    assert np.allclose(table.loc["head 1"], [0.8, 0.2, 0.0])
    assert np.allclose(table.loc["head 2"], [2 / T, 0.0, 1 - 2 / T])


def test_figures_draw_what_they_say():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    A3.plot_saturation(axes, A3.softmax_saturation([1, 4], n_samples=10, rng=0))
    assert len(axes[0].lines) == 2 and axes[0].get_xlabel() == "key dimension $d_k$"
    A3.plot_cost(axes, A3.cost_sweep([8, 16], d=4, repeats=1, rng=0))
    assert axes[1].get_yscale() == "log"
    fig2, ax = plt.subplots()
    im = A3.plot_encoding(ax, att.sinusoidal_encoding(10, 4))
    assert im.get_array().shape == (10, 4)
    fig3, axes3 = plt.subplots(1, 2)
    A3.plot_attention(axes3, np.full((3, 2, 7), 1 / 7), np.array([[0, 3], [1, 4], [2, 5]]))
    assert len(axes3[1].lines) == 6 and axes3[1].get_title() == "head 2"
    plt.close("all")
