"""Tests of the conversions between the NumPy engine's networks (nnbook.engine.mlp.MLP,
nnbook.engine.shallow.ShallowNet) and torch.nn.Sequential in nnbook.pytorch.convert."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnbook.engine.mlp import MLP
from nnbook.engine.shallow import ShallowNet
from nnbook.pytorch.convert import (
    mlp_from_torch,
    mlp_to_torch,
    shallow_from_torch,
    shallow_to_torch,
    shallow_torch,
)


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0))
    return 0.0 if scale == 0 else float(np.abs(a - b).max() / scale)


# ----------------------------------------------------------------------------- MLP


def test_to_torch_and_from_torch_round_trip():
    rng = np.random.default_rng(0)
    model = MLP([4, 6, 5, 3], activation="gelu", dropout=0.2, rng=rng)
    seq = mlp_to_torch(model)
    assert [type(m).__name__ for m in seq] == [
        "Linear",
        "GELU",
        "Dropout",
        "Linear",
        "GELU",
        "Dropout",
        "Linear",
    ]
    assert next(seq.parameters()).dtype == torch.float64
    X = rng.standard_normal((7, 4))
    seq.eval()
    assert rel_err(seq(torch.tensor(X)).detach().numpy(), model.predict(X)) <= 1e-13
    back = mlp_from_torch(seq)
    assert back.sizes == model.sizes and back.activation == "gelu" and back.dropout == (0.2, 0.2)
    np.testing.assert_array_equal(back.predict(X), model.predict(X))

    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)
    )  # float32
    ours = mlp_from_torch(theirs)
    assert ours.dtype == np.float32 and ours.activation == "tanh"
    X32 = X.astype(np.float32)
    np.testing.assert_allclose(
        ours(X32), theirs(torch.tensor(X32)).detach().numpy(), rtol=1e-5, atol=1e-6
    )
    assert mlp_from_torch(theirs, dtype=np.float64).dtype == np.float64


def test_from_torch_rejects_what_is_not_an_mlp():
    nn = torch.nn
    with pytest.raises(TypeError, match="Sequential"):
        mlp_from_torch(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="one kind of activation"):
        mlp_from_torch(
            nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1))
        )
    with pytest.raises(ValueError, match="expected the pattern"):
        mlp_from_torch(nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1)))
    with pytest.raises(ValueError, match="expected the pattern"):
        mlp_from_torch(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
    with pytest.raises(ValueError, match="got Conv1d"):
        mlp_from_torch(nn.Sequential(nn.Conv1d(1, 1, 1)))


# ----------------------------------------------------------------------------- ShallowNet


@pytest.mark.parametrize("d, M", [(1, 1), (1, 7), (2, 8), (5, 3), (784, 100)])
def test_shallow_torch_has_d_plus_2_times_M_parameters_and_no_output_bias(d, M):
    reference = torch.nn.Sequential(
        torch.nn.Linear(d, M), torch.nn.ReLU(), torch.nn.Linear(M, 1, bias=False)
    )
    n_torch = sum(p.numel() for p in reference.parameters())
    ours_torch = shallow_torch(d, M, "sigmoid")
    assert sum(p.numel() for p in ours_torch.parameters()) == n_torch == (d + 2) * M
    assert ours_torch[2].bias is None  # b_0 = 0: no output bias


@pytest.mark.parametrize(
    "name", ["relu", "sigmoid", "tanh", "leaky_relu", "softplus", "gelu", "identity"]
)
def test_shallow_net_to_torch_computes_the_same_function_and_round_trips(name):
    rng = np.random.default_rng(1)
    d, M = 3, 5
    w, b, beta = rng.standard_normal((M, d)), rng.standard_normal(M), rng.standard_normal(M)
    X = rng.standard_normal((7, d))
    net = ShallowNet(w, b, beta, name)
    with torch.no_grad():
        f_torch = shallow_to_torch(net)(torch.from_numpy(X))[:, 0].numpy()
    np.testing.assert_allclose(net.predict(X), f_torch, rtol=1e-12, atol=1e-12)
    back = shallow_from_torch(shallow_to_torch(net), name)
    for p, q in zip(back.parameters(), net.parameters()):
        np.testing.assert_array_equal(p, q)
