"""Tests for nnbook.pytorch.models: the lecture's MLP as a torch.nn.Sequential, with dropout."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nnbook.engine import activations
from nnbook.pytorch import train as T
from nnbook.pytorch.models import make_mlp


def test_make_mlp_is_the_lectures_mnist_network():
    model = make_mlp([784, 256, 128, 10])
    # The lecture: "there are 235,146 parameters"
    assert sum(p.numel() for p in model.parameters()) == 235_146
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]  # linear output layer
    assert list(dict(model.named_children())) == ["linear0", "sigma0", "linear1", "sigma1", "beta"]


def test_make_mlp_dropout_after_each_hidden_activation():
    model = make_mlp([4, 8, 8, 2], activation="tanh", dropout=[0.1, 0.3])
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear"]
    assert [m.p for m in model if isinstance(m, nn.Dropout)] == [0.1, 0.3]
    with pytest.raises(ValueError, match="one dropout rate per hidden layer"):
        make_mlp([4, 8, 8, 2], dropout=[0.1])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        make_mlp([4, 8, 2], dropout=1.0)


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
def test_make_mlp_activation_matches_nnbook_activations(name):
    """The torch activation in the MLP computes the same sigma as the numpy one of Chapter 1."""
    model = make_mlp([1, 1, 1], activation=name, dtype=torch.float64)
    sigma = model.sigma0
    z = np.linspace(-4, 4, 41)
    ours = sigma(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(ours, activations.get(name)(z), rtol=1e-6, atol=1e-12)


def test_make_mlp_seed_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = make_mlp([3, 16, 2], seed=7)
    assert torch.equal(torch.rand(3), expected_next)  # global stream untouched
    b = make_mlp([3, 16, 2], seed=7)
    c = make_mlp([3, 16, 2], seed=8)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_make_mlp_bad_input():
    with pytest.raises(ValueError, match="at least 2 entries"):
        make_mlp([3])
    with pytest.raises(TypeError, match="sizes"):
        make_mlp("784-10")
    with pytest.raises(ValueError, match="activation"):
        make_mlp([3, 4, 1], activation="swish")


def test_dropout_active_in_train_and_inactive_in_eval():
    phi = 0.5
    model = make_mlp([10, 200, 3], dropout=phi, seed=0)
    seen = {}
    model.dropout0.register_forward_hook(
        lambda m, inp, out: seen.update(h=inp[0].detach(), out=out.detach())
    )
    x = torch.randn(50, 10, generator=torch.Generator().manual_seed(1))

    model.train()
    y1 = model(x)
    h, out = seen["h"], seen["out"]
    kept = out != 0
    active = h != 0
    # inverted dropout: each unit is either dropped or scaled by 1/(1 - phi)
    torch.testing.assert_close(out[kept], h[kept] / (1 - phi))
    dropped = (active & ~kept).sum().item() / active.sum().item()
    assert abs(dropped - phi) < 0.05
    y2 = model(x)
    assert not torch.equal(y1, y2)  # a fresh mask each forward pass

    model.eval()
    e1, e2 = model(x), model(x)
    assert torch.equal(e1, e2)
    assert torch.equal(seen["out"], seen["h"])  # identity in eval mode
    # eval mode equals the same network without the dropout layer
    plain = nn.Sequential(model.linear0, model.sigma0, model.beta)
    torch.testing.assert_close(e1, plain(x))

    # predict() switches dropout off by itself and puts the model back in train mode
    model.train()
    np.testing.assert_array_equal(T.predict(model, x.numpy()), e1.detach().numpy())
    assert model.training
