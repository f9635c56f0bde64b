"""Tests for nnbook.engine.attention: attention, multi-head attention, layer norm, the
position-wise FFN and the post-norm encoder layer against PyTorch in float64 (forward, and
every gradient through autograd), on shapes drawn by hypothesis; the positional encoding
against its closed form; masks and permutations as properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from nnbook.engine import attention as att

FAST = settings(max_examples=25, deadline=None)
TOL = 1e-10


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0), 1e-300)
    return float(np.abs(a - b).max(initial=0) / scale)


def same_grad(ours, theirs) -> bool:
    """Gradients equal to TOL relative error; for an all-zero gradient (the key bias b^K: the
    softmax of a row does not change when the same q . b^K is added to every score of the row),
    both are zero up to rounding."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if max(np.abs(ours).max(initial=0), np.abs(theirs).max(initial=0)) < 1e-12:
        return True
    return rel_err(ours, theirs) < TOL


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def random_mask(rng, n, m):
    """A boolean (n, m) mask with at least one allowed key per query."""
    mask = rng.random((n, m)) < 0.6
    mask[np.arange(n), rng.integers(0, m, n)] = True
    return mask


def perturb(layer, rng, scale=0.3):
    """Move every parameter off its initial value (gamma = 1, zero biases hide mistakes)."""
    for p in layer.parameters():
        p.data += scale * rng.standard_normal(p.shape)


def torch_mha(X_q, X_kv, mha, mask=None):
    """MultiHead(X_q, X_kv, X_kv) head by head in torch, from the engine's weights (as leaf
    tensors, so that autograd gives their gradients). Returns (output, weights, params)."""
    params = {p.name: t(p.data, grad=True) for p in mha.parameters()}
    zero = torch.zeros((), dtype=torch.float64)
    heads, weights = [], []
    for i in range(mha.h):
        k, v = slice(i * mha.d_k, (i + 1) * mha.d_k), slice(i * mha.d_v, (i + 1) * mha.d_v)
        Q = X_q @ params["W_Q"][:, k] + params.get("b_Q", zero.expand(mha.h * mha.d_k))[k]
        K = X_kv @ params["W_K"][:, k] + params.get("b_K", zero.expand(mha.h * mha.d_k))[k]
        V = X_kv @ params["W_V"][:, v] + params.get("b_V", zero.expand(mha.h * mha.d_v))[v]
        S = Q @ K.transpose(-1, -2) / math.sqrt(mha.d_k)
        if mask is not None:
            S = S.masked_fill(~torch.tensor(mask), float("-inf"))
        A = torch.softmax(S, dim=-1)
        heads.append(A @ V)
        weights.append(A)
    out = torch.cat(heads, dim=-1) @ params["W_O"] + params.get("b_O", zero)
    return out, torch.stack(weights, dim=-3), params


def torch_encoder_layer(layer):
    """nn.TransformerEncoderLayer (float64, post-norm, ReLU, no dropout) with the weights of
    the engine's EncoderLayer: torch's Linear computes x W^T, ours x W."""
    a, ffn = layer.self_attn, layer.ffn
    te = torch.nn.TransformerEncoderLayer(
        a.d_model,
        a.h,
        ffn.d_ff,
        dropout=0.0,
        activation="relu",
        batch_first=True,
        norm_first=False,
        layer_norm_eps=layer.norm1.eps,
        dtype=torch.float64,
    )
    with torch.no_grad():
        te.self_attn.in_proj_weight.copy_(t(np.vstack([a.W_Q.data.T, a.W_K.data.T, a.W_V.data.T])))
        te.self_attn.in_proj_bias.copy_(t(np.concatenate([a.b_Q.data, a.b_K.data, a.b_V.data])))
        te.self_attn.out_proj.weight.copy_(t(a.W_O.data.T))
        te.self_attn.out_proj.bias.copy_(t(a.b_O.data))
        te.linear1.weight.copy_(t(ffn.W_1.data.T))
        te.linear1.bias.copy_(t(ffn.b_1.data))
        te.linear2.weight.copy_(t(ffn.W_2.data.T))
        te.linear2.bias.copy_(t(ffn.b_2.data))
        for norm, ours in [(te.norm1, layer.norm1), (te.norm2, layer.norm2)]:
            norm.weight.copy_(t(ours.gamma.data))
            norm.bias.copy_(t(ours.beta.data))
    return te


# --------------------------------------------------------------------------- softmax, attention


def test_softmax_against_scipy_and_masked_entries():
    rng = np.random.default_rng(0)
    S = 30 * rng.standard_normal((4, 5, 7))
    assert rel_err(att.softmax(S), scipy.special.softmax(S, axis=-1)) < 1e-14
    assert rel_err(att.softmax(S, axis=1), scipy.special.softmax(S, axis=1)) < 1e-14
    S[..., 0] = -np.inf
    A = att.softmax(S)
    assert np.all(A[..., 0] == 0) and np.allclose(A.sum(-1), 1)


@FAST
@given(
    batch=st.sampled_from([(), (2,), (2, 3)]),
    n=st.integers(1, 6),
    m=st.integers(1, 7),
    d_k=st.integers(1, 5),
    d_v=st.integers(1, 4),
    masked=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_attention_and_its_gradients_against_torch(batch, n, m, d_k, d_v, masked, seed):
    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((*batch, n, d_k))
    K = rng.standard_normal((*batch, m, d_k))
    V = rng.standard_normal((*batch, m, d_v))
    mask = random_mask(rng, n, m) if masked else None
    out, A = att.scaled_dot_product_attention(Q, K, V, mask)
    Qt, Kt, Vt = t(Q, True), t(K, True), t(V, True)
    ref = F.scaled_dot_product_attention(
        Qt, Kt, Vt, attn_mask=None if mask is None else torch.tensor(mask)
    )
    assert out.shape == (*batch, n, d_v) and A.shape == (*batch, n, m)
    assert rel_err(out, ref.detach().numpy()) < TOL
    assert np.allclose(A.sum(-1), 1)
    if mask is not None:
        assert np.all(A[..., ~mask] == 0)
    G = rng.standard_normal(out.shape)
    (ref * t(G)).sum().backward()
    for ours, theirs in zip(att.attention_backward(G, Q, K, V, A), (Qt, Kt, Vt)):
        assert rel_err(ours, theirs.grad.numpy()) < TOL


def test_attention_against_its_definition_written_out():
    """Row i of the output is sum_j a_ij v_j with a_ij = exp(s_ij) / sum_l exp(s_il)."""
    rng = np.random.default_rng(1)
    Q, K, V = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    out, _ = att.scaled_dot_product_attention(Q, K, V)
    for i in range(3):
        s = [sum(Q[i, c] * K[j, c] for c in range(4)) / 2.0 for j in range(5)]
        a = [math.exp(x) / sum(math.exp(y) for y in s) for x in s]
        assert np.allclose(out[i], sum(a[j] * V[j] for j in range(5)), rtol=1e-13)


def test_attention_validates_its_inputs():
    Q, K, V = np.ones((3, 4)), np.ones((5, 4)), np.ones((5, 2))
    with pytest.raises(ValueError, match="same d_k and m"):
        att.scaled_dot_product_attention(Q, np.ones((5, 3)), V)
    with pytest.raises(ValueError, match="same d_k and m"):
        att.scaled_dot_product_attention(Q, K, np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"boolean mask of shape \(3, 5\)"):
        att.scaled_dot_product_attention(Q, K, V, mask=np.ones((3, 5)))
    with pytest.raises(ValueError, match="at least one key"):
        att.scaled_dot_product_attention(Q, K, V, mask=np.zeros((3, 5), dtype=bool))
    with pytest.raises(ValueError, match=r"Q \(n, d_k\)"):
        att.scaled_dot_product_attention(np.ones(4), K, V)


def test_causal_mask_is_lower_triangular():
    for n in (1, 2, 7):
        mask = att.causal_mask(n)
        assert mask.dtype == bool
        assert all(mask[i, j] == (j <= i) for i in range(n) for j in range(n))
    with pytest.raises(ValueError):
        att.causal_mask(0)


@FAST
@given(
    n=st.integers(2, 8), cut=st.integers(1, 7), h=st.sampled_from([1, 2]), seed=st.integers(0, 999)
)
def test_causal_outputs_do_not_depend_on_later_tokens(n, cut, h, seed):
    cut = min(cut, n - 1)
    rng = np.random.default_rng(seed)
    mha = att.MultiHeadAttention(4 * h, h, rng=rng)
    X1 = rng.standard_normal((2, n, 4 * h))
    X2 = X1.copy()
    X2[:, cut:] = rng.standard_normal((2, n - cut, 4 * h))
    Y1, Y2 = mha(X1, mask=att.causal_mask(n)), mha(X2, mask=att.causal_mask(n))
    assert np.array_equal(Y1[:, :cut], Y2[:, :cut])
    assert not np.allclose(mha(X1)[:, :cut], mha(X2)[:, :cut])  # without the mask they do


# --------------------------------------------------------------------------- multi-head attention


@FAST
@given(
    B=st.integers(1, 3),
    n=st.integers(1, 5),
    m=st.integers(1, 6),
    h=st.integers(1, 4),
    d_k=st.integers(1, 4),
    cross=st.booleans(),
    masked=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_mha_against_torch_multihead_attention(B, n, m, h, d_k, cross, masked, seed):
    """nn.MultiheadAttention (d_k = d_model / h) with copied weights: outputs, per-head
    weights and, by autograd, the gradients of the inputs and of every parameter."""
    rng = np.random.default_rng(seed)
    D = h * d_k
    mha = att.MultiHeadAttention(D, h, rng=rng)
    perturb(mha, rng)
    m = m if cross else n
    X = rng.standard_normal((B, n, D))
    Z = rng.standard_normal((B, m, D)) if cross else None
    mask = random_mask(rng, n, m) if masked else None
    out = mha(X, Z, mask)
    tm = torch.nn.MultiheadAttention(D, h, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        tm.in_proj_weight.copy_(t(np.vstack([mha.W_Q.data.T, mha.W_K.data.T, mha.W_V.data.T])))
        tm.in_proj_bias.copy_(t(np.concatenate([mha.b_Q.data, mha.b_K.data, mha.b_V.data])))
        tm.out_proj.weight.copy_(t(mha.W_O.data.T))
        tm.out_proj.bias.copy_(t(mha.b_O.data))
    Xt = t(X, True)
    Zt = Xt if Z is None else t(Z, True)
    ref, w = tm(
        Xt,
        Zt,
        Zt,
        attn_mask=None if mask is None else torch.tensor(~mask),
        average_attn_weights=False,
    )
    assert out.shape == (B, n, D) and mha.weights.shape == (B, h, n, m)
    assert rel_err(out, ref.detach().numpy()) < TOL
    assert rel_err(mha.weights, w.detach().numpy()) < TOL
    G = rng.standard_normal(out.shape)
    (ref * t(G)).sum().backward()
    dX, dZ = mha.backward(G)
    if Z is None:
        assert rel_err(dX + dZ, Xt.grad.numpy()) < TOL
    else:
        assert rel_err(dX, Xt.grad.numpy()) < TOL and rel_err(dZ, Zt.grad.numpy()) < TOL
    W_in = tm.in_proj_weight.grad.numpy()
    b_in = tm.in_proj_bias.grad.numpy()
    for i, (W, b) in enumerate([(mha.W_Q, mha.b_Q), (mha.W_K, mha.b_K), (mha.W_V, mha.b_V)]):
        assert rel_err(W.grad, W_in[i * D : (i + 1) * D].T) < TOL
        assert same_grad(b.grad, b_in[i * D : (i + 1) * D])
    assert rel_err(mha.W_O.grad, tm.out_proj.weight.grad.numpy().T) < TOL
    assert rel_err(mha.b_O.grad, tm.out_proj.bias.grad.numpy()) < TOL


@FAST
@given(
    n=st.integers(1, 5),
    m=st.integers(1, 5),
    h=st.integers(1, 3),
    d_model=st.integers(1, 6),
    d_k=st.integers(1, 4),
    d_v=st.integers(1, 4),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_mha_with_any_head_sizes_against_a_head_by_head_torch_loop(
    n, m, h, d_model, d_k, d_v, bias, seed
):
    """d_k, d_v free (PyTorch's layer cannot do this): one head at a time, concatenated."""
    rng = np.random.default_rng(seed)
    mha = att.MultiHeadAttention(d_model, h, d_k, d_v, bias=bias, rng=rng)
    perturb(mha, rng)
    X, Z = rng.standard_normal((n, d_model)), rng.standard_normal((m, d_model))
    out = mha(X, Z)
    Xt, Zt = t(X, True), t(Z, True)
    ref, w, params = torch_mha(Xt, Zt, mha)
    assert rel_err(out, ref.detach().numpy()) < TOL
    assert rel_err(mha.weights, w.detach().numpy()) < TOL
    G = rng.standard_normal(out.shape)
    (ref * t(G)).sum().backward()
    dX, dZ = mha.backward(G)
    assert rel_err(dX, Xt.grad.numpy()) < TOL and rel_err(dZ, Zt.grad.numpy()) < TOL
    for p in mha.parameters():
        assert same_grad(p.grad, params[p.name].grad.numpy()), p.name
    if bias:  # the key bias shifts every score of a row alike: no gradient
        assert np.abs(mha.b_K.grad).max() < 1e-12
    assert att.n_parameters(mha) == 2 * d_model * h * d_k + 2 * d_model * h * d_v + (
        2 * h * d_k + h * d_v + d_model if bias else 0
    )


@FAST
@given(n=st.integers(2, 7), h=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_self_attention_is_permutation_equivariant_and_pooling_invariant(n, h, seed):
    rng = np.random.default_rng(seed)
    mha = att.MultiHeadAttention(3 * h, h, rng=rng)
    perturb(mha, rng)
    X, perm = rng.standard_normal((n, 3 * h)), rng.permutation(n)
    Y = mha(X)
    assert np.allclose(mha(X[perm]), Y[perm], rtol=0, atol=1e-12)
    assert np.allclose(mha(X[perm]).sum(0), Y.sum(0), rtol=0, atol=1e-12)


def test_mha_validates_and_keeps_float32():
    with pytest.raises(ValueError, match="divisible by h"):
        att.MultiHeadAttention(10, 3)
    assert att.MultiHeadAttention(10, 3, d_k=2, d_v=5).W_O.shape == (15, 10)
    mha = att.MultiHeadAttention(8, 2, rng=0)
    with pytest.raises(ValueError, match=r"\(n, 8\) or \(B, n, 8\)"):
        mha(np.ones((3, 7)))
    with pytest.raises(RuntimeError, match="forward before backward"):
        att.MultiHeadAttention(8, 2).backward(np.ones((3, 8)))
    mha(np.ones((3, 8)))
    with pytest.raises(ValueError, match="shape"):
        mha.backward(np.ones((4, 8)))
    m32 = att.MultiHeadAttention(8, 2, rng=0, dtype=np.float32)
    assert m32(np.ones((3, 8), dtype=np.float32)).dtype == np.float32


# --------------------------------------------------------------------------- layer norm, FFN


@FAST
@given(
    shape=st.sampled_from([(1, 3), (3, 5), (2, 4, 6), (2, 3, 4)]),
    seed=st.integers(0, 2**16),
)
def test_layer_norm_against_torch(shape, seed):
    rng = np.random.default_rng(seed)
    ln = att.LayerNorm(shape[-1])
    perturb(ln, rng)
    X = 3 * rng.standard_normal(shape) + 1
    Y = ln(X)
    Xt, g, b = t(X, True), t(ln.gamma.data, True), t(ln.beta.data, True)
    ref = F.layer_norm(Xt, (shape[-1],), g, b, eps=1e-5)
    assert rel_err(Y, ref.detach().numpy()) < TOL
    G = rng.standard_normal(Y.shape)
    (ref * t(G)).sum().backward()
    assert rel_err(ln.backward(G), Xt.grad.numpy()) < TOL
    assert rel_err(ln.gamma.grad, g.grad.numpy()) < TOL
    assert rel_err(ln.beta.grad, b.grad.numpy()) < TOL


def test_layer_norm_normalises_each_row():
    X = np.random.default_rng(0).standard_normal((4, 50)) * 7 + 3
    Y = att.LayerNorm(50, eps=1e-12)(X)
    assert np.allclose(Y.mean(1), 0, atol=1e-12) and np.allclose(Y.var(1), 1, atol=1e-9)


@FAST
@given(
    lead=st.sampled_from([(4,), (2, 3)]),
    d_model=st.integers(1, 6),
    d_ff=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_ffn_against_torch_relu_mlp(lead, d_model, d_ff, seed):
    rng = np.random.default_rng(seed)
    ffn = att.PositionwiseFFN(d_model, d_ff, rng=rng)
    perturb(ffn, rng)
    X = rng.standard_normal((*lead, d_model))
    Y = ffn(X)
    Xt = t(X, True)
    P = {p.name: t(p.data, True) for p in ffn.parameters()}
    ref = torch.relu(Xt @ P["W_1"] + P["b_1"]) @ P["W_2"] + P["b_2"]
    assert rel_err(Y, ref.detach().numpy()) < TOL
    G = rng.standard_normal(Y.shape)
    (ref * t(G)).sum().backward()
    assert rel_err(ffn.backward(G), Xt.grad.numpy()) < TOL
    for p in ffn.parameters():
        assert rel_err(p.grad, P[p.name].grad.numpy()) < TOL, p.name


def test_ffn_acts_on_each_position_separately():
    rng = np.random.default_rng(3)
    ffn = att.PositionwiseFFN(4, 6, rng=rng)
    perturb(ffn, rng)
    X = rng.standard_normal((5, 4))
    assert np.allclose(ffn(X), np.vstack([ffn(x[None]) for x in X]), rtol=1e-14)


# --------------------------------------------------------------------------- the encoder layer


@FAST
@given(
    lead=st.sampled_from([(), (1,), (2,)]),
    n=st.integers(1, 6),
    h=st.integers(1, 3),
    d_k=st.integers(3, 4),  # LayerNorm over d_model = 1 or 2 features is constant (+-1)
    d_ff=st.integers(1, 8),
    masked=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_encoder_layer_against_torch(lead, n, h, d_k, d_ff, masked, seed):
    rng = np.random.default_rng(seed)
    D = h * d_k
    layer = att.EncoderLayer(D, h, d_ff, rng=rng)
    perturb(layer, rng)
    te = torch_encoder_layer(layer)
    X = rng.standard_normal((*lead, n, D))
    mask = att.causal_mask(n) if masked else None
    Y = layer(X, mask)
    Xt = t(X, True)
    src_mask = None if mask is None else torch.tensor(~mask)
    ref = te(Xt, src_mask=src_mask)
    assert Y.shape == X.shape
    assert rel_err(Y, ref.detach().numpy()) < TOL
    G = rng.standard_normal(Y.shape)
    (ref * t(G)).sum().backward()
    assert rel_err(layer.backward(G), Xt.grad.numpy()) < TOL
    a, ffn, sa = layer.self_attn, layer.ffn, te.self_attn
    W_in, b_in = sa.in_proj_weight.grad.numpy(), sa.in_proj_bias.grad.numpy()
    pairs = [
        (a.W_Q.grad, W_in[:D].T),
        (a.W_K.grad, W_in[D : 2 * D].T),
        (a.W_V.grad, W_in[2 * D :].T),
        (a.b_Q.grad, b_in[:D]),
        (a.b_K.grad, b_in[D : 2 * D]),
        (a.b_V.grad, b_in[2 * D :]),
        (a.W_O.grad, sa.out_proj.weight.grad.numpy().T),
        (a.b_O.grad, sa.out_proj.bias.grad),
        (ffn.W_1.grad, te.linear1.weight.grad.numpy().T),
        (ffn.b_1.grad, te.linear1.bias.grad),
        (ffn.W_2.grad, te.linear2.weight.grad.numpy().T),
        (ffn.b_2.grad, te.linear2.bias.grad),
        (layer.norm1.gamma.grad, te.norm1.weight.grad),
        (layer.norm1.beta.grad, te.norm1.bias.grad),
        (layer.norm2.gamma.grad, te.norm2.weight.grad),
        (layer.norm2.beta.grad, te.norm2.bias.grad),
    ]
    for ours, theirs in pairs:
        assert same_grad(ours, theirs)


def test_encoder_layer_parameter_count_against_torch():
    for D, h, d_ff in [(512, 8, 2048), (16, 2, 32), (6, 3, 5)]:
        ours = att.n_parameters(att.EncoderLayer(D, h, d_ff, rng=0))
        theirs = torch.nn.TransformerEncoderLayer(D, h, d_ff, batch_first=True)
        assert ours == sum(p.numel() for p in theirs.parameters())
    assert att.n_parameters(att.EncoderLayer(512, 8, 2048, rng=0)) == 3_152_384


# --------------------------------------------------------------------------- positional encoding


def test_sinusoidal_encoding_against_its_formula():
    PE = att.sinusoidal_encoding(50, 8)
    assert PE.shape == (50, 8)
    for pos in range(50):
        for i in range(4):
            angle = pos / 10000 ** (2 * i / 8)
            assert PE[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-14)
            assert PE[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-14)
    assert np.array_equal(att.frequencies(8), [10000 ** (-2 * i / 8) for i in range(4)])
    with pytest.raises(ValueError, match="even d_model"):
        att.sinusoidal_encoding(5, 7)


@FAST
@given(k=st.integers(-50, 200), half=st.integers(1, 40), base=st.sampled_from([100.0, 1e4]))
def test_shift_matrix_moves_the_encoding_by_k(k, half, base):
    d = 2 * half
    PE = att.sinusoidal_encoding(300, d, base)
    R = att.shift_matrix(k, d, base)
    lo, hi = max(0, -k), min(300, 300 - k)
    assert np.allclose(PE[lo + k : hi + k], PE[lo:hi] @ R, rtol=0, atol=1e-10)
    assert np.allclose(R.T @ R, np.eye(d), atol=1e-14)
    assert np.allclose(att.shift_matrix(k + 3, d, base), R @ att.shift_matrix(3, d, base))


def test_encoder_layer_validates_its_input():
    layer = att.EncoderLayer(6, 2, 8, rng=0)
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 6\) or \(B, n, 6\)"):
        layer(np.ones((4, 5)))
    assert layer([[0.0] * 6] * 3).shape == (3, 6)  # a nested list is a sequence of 3 tokens
