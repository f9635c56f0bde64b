"""Tests for nnbook.chapters.ch08_rnn: the NumPy Elman forward pass against torch.nn.RNN."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from nnbook.chapters import ch08_rnn as rnn
from nnbook.pytorch import train


def _torch_rnn(d: int, M: int, nonlinearity: str = "tanh", seed: int = 0) -> nn.RNN:
    torch.manual_seed(seed)
    r = nn.RNN(d, M, nonlinearity=nonlinearity, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # larger weights than the default, so the nonlinearity matters
        for p in r.parameters():
            p.uniform_(-1.0, 1.0)
    return r


def _weights(r: nn.RNN) -> dict[str, np.ndarray]:
    return {
        "W_xh": r.weight_ih_l0.detach().numpy(),
        "W_hh": r.weight_hh_l0.detach().numpy(),
        "b_h": (r.bias_ih_l0 + r.bias_hh_l0).detach().numpy(),
    }


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_numpy_forward_equals_torch_rnn_on_one_sequence(nonlinearity):
    d, M, tau = 3, 7, 11
    r = _torch_rnn(d, M, nonlinearity)
    x = np.random.default_rng(1).normal(size=(tau, d))
    H_ours = rnn.elman_forward(x, **_weights(r), activation=nonlinearity)
    H_torch, h_n = r(torch.from_numpy(x)[None])
    assert H_ours.shape == (tau, M)
    assert np.max(np.abs(H_ours - H_torch[0].detach().numpy())) < 1e-12
    assert np.max(np.abs(H_ours[-1] - h_n[0, 0].detach().numpy())) < 1e-12


def test_numpy_forward_batch_and_initial_state_equal_torch():
    d, M, tau, n = 2, 5, 6, 9
    r = _torch_rnn(d, M, seed=3)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(n, tau, d))
    h0 = rng.normal(size=(n, M))
    H_ours = rnn.elman_forward(X, **_weights(r), h0=h0)
    H_torch, _ = r(torch.from_numpy(X), torch.from_numpy(h0)[None])
    assert H_ours.shape == (n, tau, M)
    assert np.max(np.abs(H_ours - H_torch.detach().numpy())) < 1e-12
    # the batch is just the sequences one at a time
    for i in (0, n - 1):
        one = rnn.elman_forward(X[i], **_weights(r), h0=h0[i])
        assert np.max(np.abs(one - H_ours[i])) < 1e-14


def test_numpy_forward_by_hand_scalar_case():
    # d = M = 1: h_1 = tanh(w x_1 + b), h_2 = tanh(u h_1 + w x_2 + b)
    w, u, b = 0.7, -1.3, 0.2
    x = np.array([[0.5], [-2.0]])
    h1 = math.tanh(w * 0.5 + b)
    h2 = math.tanh(u * h1 + w * -2.0 + b)
    H = rnn.elman_forward(x, [[w]], [[u]], [b])
    assert H[:, 0] == pytest.approx([h1, h2], abs=1e-15)


def test_elman_rnn_forward_is_linear_head_on_last_state():
    model = rnn.ElmanRNN(3, 12, dropout=0.1, seed=0, dtype=torch.float64).eval()
    X = np.random.default_rng(0).normal(size=(20, 5, 3))
    with torch.no_grad():
        out = model(torch.from_numpy(X)).numpy()
    w = model.lecture_weights()
    H = rnn.elman_forward(X, w["W_xh"], w["W_hh"], w["b_h"])
    expected = H[:, -1] @ w["beta"].T + w["beta_0"]
    assert out.shape == (20, 1)
    assert np.max(np.abs(out - expected)) < 1e-12
    # lecture parameter count: M d + M^2 + M + K M + K; torch stores one more bias vector
    assert model.n_parameters() == 12 * 3 + 144 + 12 + 12 + 1
    assert sum(p.numel() for p in model.parameters()) == model.n_parameters() + 12


def test_elman_rnn_dropout_only_in_training_mode():
    model = rnn.ElmanRNN(2, 8, dropout=0.5, seed=1)
    X = torch.randn(64, 4, 2)
    model.eval()
    with torch.no_grad():
        a, b = model(X), model(X)
    assert torch.equal(a, b)
    model.train()
    torch.manual_seed(0)
    with torch.no_grad():
        c = model(X)
    assert not torch.allclose(a, c)


def test_elman_rnn_seed_is_reproducible_and_leaves_global_state_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a = rnn.ElmanRNN(3, 4, seed=7)
    assert torch.equal(before, torch.random.get_rng_state())
    b = rnn.ElmanRNN(3, 4, seed=7)
    c = rnn.ElmanRNN(3, 4, seed=8)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_elman_rnn_trains_with_nnbook_fit_on_a_memory_task():
    # y = the first element of the first channel: the RNN must carry it through 4 steps
    rng = np.random.default_rng(0)
    X = rng.normal(size=(512, 5, 2)).astype(np.float32)
    y = X[:, 0, 0].copy()
    model = rnn.ElmanRNN(2, 16, seed=0)
    before = train.evaluate(model, X, y, loss="mse").loss
    train.fit(
        model,
        X,
        y,
        loss="mse",
        epochs=40,
        batch_size=64,
        lr=1e-2,
        optimizer="adam",
        seed=0,
    )
    after = train.evaluate(model, X, y, loss="mse").loss
    assert after < 0.2 * np.var(y) < before


def test_bad_inputs_fail_with_a_message():
    W_xh, W_hh, b_h = np.zeros((4, 3)), np.zeros((4, 4)), np.zeros(4)
    with pytest.raises(ValueError, match=r"expected X of shape \(tau, d\) or \(n, tau, d\)"):
        rnn.elman_forward(np.zeros(3), W_xh, W_hh, b_h)
    with pytest.raises(ValueError, match=r"expected W_xh of shape \(n, 3\)"):
        rnn.elman_forward(np.zeros((5, 3)), np.zeros((4, 2)), W_hh, b_h)
    with pytest.raises(ValueError, match=r"expected W_hh of shape \(4, 4\)"):
        rnn.elman_forward(np.zeros((5, 3)), W_xh, np.zeros((4, 3)), b_h)
    with pytest.raises(ValueError, match=r"expected b_h of shape \(4,\)"):
        rnn.elman_forward(np.zeros((5, 3)), W_xh, W_hh, np.zeros(3))
    with pytest.raises(ValueError, match=r"expected h0 of shape \(2, 4\)"):
        rnn.elman_forward(np.zeros((2, 5, 3)), W_xh, W_hh, b_h, h0=np.zeros(4))
    with pytest.raises(ValueError, match="expected activation"):
        rnn.elman_forward(np.zeros((5, 3)), W_xh, W_hh, b_h, activation="sigmoid")
    with pytest.raises(ValueError, match="finite"):
        rnn.elman_forward(np.full((5, 3), np.nan), W_xh, W_hh, b_h)
    with pytest.raises(ValueError, match=r"dropout rate phi in \[0, 1\)"):
        rnn.ElmanRNN(3, 4, dropout=1.0)
    with pytest.raises(ValueError, match="expected M to be an int >= 1"):
        rnn.ElmanRNN(3, 0)
    with pytest.raises(ValueError, match="expected activation"):
        rnn.ElmanRNN(3, 4, activation="gelu")
    model = rnn.ElmanRNN(3, 4, seed=0)
    with pytest.raises(ValueError, match=r"expected X of shape \(n, tau, 3\)"):
        model(torch.zeros(2, 5, 2))
    with pytest.raises(TypeError, match="expected X to be a torch.Tensor"):
        model(np.zeros((2, 5, 3)))
