"""Tests for nnbook.chapters.ch08_rnn: the PyTorch Elman RNN of the NYSE forecast, against the
NumPy engine RNN and by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nnbook.chapters import ch08_rnn as rnn
from nnbook.engine.rnn import RNN
from nnbook.pytorch import train


def _model(d: int, M: int, activation: str = "tanh", seed: int = 0) -> rnn.ElmanRNN:
    model = rnn.ElmanRNN(d, M, activation=activation, seed=seed, dtype=torch.float64).eval()
    with torch.no_grad():  # larger weights than the default, so the nonlinearity matters
        for p in model.parameters():
            p.uniform_(-1.0, 1.0, generator=torch.Generator().manual_seed(seed + p.numel()))
    return model


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_to_engine_gives_the_hidden_states_of_torch(activation):
    model = _model(3, 7, activation)
    X = np.random.default_rng(1).normal(size=(9, 11, 3))
    layer = model.to_engine()
    assert isinstance(layer, RNN) and layer.activation.name == activation
    H_engine = layer.forward(X)
    with torch.no_grad():
        H_torch = model.hidden_states(torch.from_numpy(X)).numpy()
    assert H_engine.shape == (9, 11, 7)
    assert np.max(np.abs(H_engine - H_torch)) < 1e-12
    # b_h is the sum of torch's two bias vectors
    r = model.rnn
    assert np.allclose(layer.b_h.data, (r.bias_ih_l0 + r.bias_hh_l0).detach().numpy())


def test_forward_by_hand_scalar_case():
    # d = M = 1: h_1 = tanh(w x_1 + b), h_2 = tanh(u h_1 + w x_2 + b), f = beta h_2 + beta_0
    w, u, b1, b2, beta, beta_0 = 0.7, -1.3, 0.15, 0.05, 2.0, -0.5
    model = rnn.ElmanRNN(1, 1, dtype=torch.float64).eval()
    values = {"weight_ih_l0": w, "weight_hh_l0": u, "bias_ih_l0": b1, "bias_hh_l0": b2}
    with torch.no_grad():
        for name, v in values.items():
            getattr(model.rnn, name).fill_(v)
        model.beta.weight.fill_(beta)
        model.beta.bias.fill_(beta_0)
    h1 = math.tanh(w * 0.5 + b1 + b2)
    h2 = math.tanh(u * h1 + w * -2.0 + b1 + b2)
    with torch.no_grad():
        out = model(torch.tensor([[[0.5], [-2.0]]], dtype=torch.float64))
    assert out.item() == pytest.approx(beta * h2 + beta_0, abs=1e-15)
    assert model.to_engine().forward(np.array([[[0.5], [-2.0]]]))[0, :, 0] == pytest.approx(
        [h1, h2], abs=1e-15
    )


def test_elman_rnn_forward_is_linear_head_on_last_state():
    model = rnn.ElmanRNN(3, 12, dropout=0.1, seed=0, dtype=torch.float64).eval()
    X = np.random.default_rng(0).normal(size=(20, 5, 3))
    with torch.no_grad():
        out = model(torch.from_numpy(X)).numpy()
    w = model.lecture_weights()
    H = model.to_engine().forward(X)
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
