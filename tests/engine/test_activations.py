"""Tests of nnbook.engine.activations: values and derivatives against PyTorch and finite
differences, shapes, dtypes, numerical stability and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnbook.engine import activations as A

NAMES = ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "gelu", "identity"]

# Independent references: PyTorch's own implementations.
TORCH = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda t: F.leaky_relu(t, negative_slope=0.01),
    "softplus": lambda t: F.softplus(
        t, beta=1.0, threshold=1000.0
    ),  # exact log(1 + e^z), no linear cut-off
    "gelu": lambda t: F.gelu(t, approximate="none"),
    "identity": lambda t: t,
}

# Points spread over the interesting range, including 0 (the kink) and large |z|.
Z = np.concatenate([np.linspace(-8, 8, 161), [-40.0, -20.0, -1e-3, 0.0, 1e-3, 20.0, 40.0]])
# Points away from the ReLU kink, for finite differences.
Z_SMOOTH = np.concatenate([np.linspace(-6, -0.05, 60), np.linspace(0.05, 6, 60)])


def torch_grad(name: str, z: np.ndarray) -> np.ndarray:
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(TORCH[name](t).sum(), t)
    return g.numpy()


def test_registry_has_the_lecture_activations():
    assert set(NAMES) <= set(A.ACTIVATIONS)
    for name in NAMES:
        act = A.get(name)
        assert act.name == name and isinstance(act.formula, str) and act.formula


@pytest.mark.parametrize("name", NAMES)
def test_values_match_torch(name):
    ours = A.get(name).f(Z)
    ref = TORCH[name](torch.tensor(Z, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_torch_autograd(name):
    # includes z = 0, where ReLU's derivative is taken as 0 and leaky ReLU's as the slope,
    # like PyTorch
    np.testing.assert_allclose(A.get(name).df(Z), torch_grad(name, Z), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_central_finite_differences(name):
    act, h = A.get(name), 1e-6
    fd = (act.f(Z_SMOOTH + h) - act.f(Z_SMOOTH - h)) / (2 * h)
    np.testing.assert_allclose(act.df(Z_SMOOTH), fd, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_module_level_functions_are_the_registered_ones(name):
    act = A.get(name)
    z = np.linspace(-3, 3, 13)
    np.testing.assert_array_equal(getattr(A, name)(z), act.f(z))
    np.testing.assert_array_equal(getattr(A, f"{name}_grad")(z), act.df(z))
    np.testing.assert_array_equal(act(z), act.f(z))  # Activation is callable


def test_known_values_and_bounds():
    # closed forms, independent of the code
    assert A.sigmoid(0.0) == 0.5 and A.sigmoid_grad(0.0) == 0.25
    assert A.tanh_grad(0.0) == 1.0
    assert A.softplus(0.0) == pytest.approx(np.log(2.0), rel=1e-15)
    assert A.gelu(0.0) == 0.0 and A.gelu_grad(0.0) == 0.5
    z = np.linspace(-30, 30, 601)
    assert np.all(A.sigmoid_grad(z) <= 0.25) and np.all(A.tanh_grad(z) <= 1.0)
    inner = np.linspace(-15, 15, 301)
    assert np.all((A.sigmoid(inner) > 0) & (A.sigmoid(inner) < 1))
    assert np.all((A.tanh(inner) > -1) & (A.tanh(inner) < 1))
    # vanishing gradients: sigma'(+-5) for sigmoid is e^-5 / (1 + e^-5)^2
    assert A.sigmoid_grad(5.0) == pytest.approx(np.exp(-5) / (1 + np.exp(-5)) ** 2, rel=1e-12)


def test_leaky_relu_custom_slope_matches_torch():
    z = np.linspace(-3, 3, 61)
    t = torch.tensor(z, requires_grad=True)
    ref = F.leaky_relu(t, negative_slope=0.2)
    (g,) = torch.autograd.grad(ref.sum(), t)
    np.testing.assert_allclose(A.leaky_relu(z, slope=0.2), ref.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(A.leaky_relu_grad(z, slope=0.2), g.numpy(), rtol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_sigmoidal_flag_matches_the_limits(name):
    """sigmoidal means sigma(z) -> 1 as z -> +inf and -> 0 as z -> -inf (Theorem 1)."""
    act = A.get(name)
    lo, hi = act.f(np.array([-60.0, 60.0]))
    assert act.sigmoidal == bool(abs(lo) < 1e-9 and abs(hi - 1) < 1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_large_inputs_are_stable(name):
    act = A.get(name)
    z = np.array([-1e4, -800.0, 800.0, 1e4])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        f, df = act.f(z), act.df(z)
    assert np.all(np.isfinite(f)) and np.all(np.isfinite(df))
    # derivatives of all these activations are between 0 and 1 far from 0
    assert np.all((df >= 0) & (df <= 1))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 3, 4)])
def test_shape_is_preserved(name, shape):
    act = A.get(name)
    z = np.random.default_rng(0).standard_normal(shape)
    assert np.shape(act.f(z)) == shape
    assert np.shape(act.df(z)) == shape


@pytest.mark.parametrize("name", NAMES)
def test_dtypes(name):
    act = A.get(name)
    z32 = np.linspace(-2, 2, 9, dtype=np.float32)
    assert act.f(z32).dtype == np.float32 and act.df(z32).dtype == np.float32
    np.testing.assert_allclose(act.f(z32), act.f(z32.astype(np.float64)), rtol=1e-6, atol=1e-6)
    for other in (
        np.arange(-3, 4),
        np.arange(-3, 4).astype(np.int8),
        np.array([True, False]),
        [0, 1, 2],
    ):
        assert act.f(other).dtype == np.float64 and act.df(other).dtype == np.float64
    np.testing.assert_allclose(act.f(np.arange(-3, 4)), act.f(np.arange(-3.0, 4.0)))


@pytest.mark.parametrize("name", NAMES)
def test_inputs_are_not_modified(name):
    z = np.linspace(-2, 2, 9)
    before = z.copy()
    A.get(name).f(z)
    A.get(name).df(z)
    np.testing.assert_array_equal(z, before)


@pytest.mark.parametrize(
    "bad", ["abc", np.array(["1", "2"]), None, np.array([object()], dtype=object)]
)
@pytest.mark.parametrize("name", ["sigmoid", "relu", "gelu"])
def test_non_numeric_input_is_rejected(name, bad):
    with pytest.raises(TypeError, match="numeric"):
        A.get(name).f(bad)
    with pytest.raises(TypeError, match="numeric"):
        A.get(name).df(bad)


def test_get_rejects_unknown_names_and_passes_activations_through():
    with pytest.raises(ValueError, match="expected an activation name in"):
        A.get("swish")
    act = A.get("tanh")
    assert A.get(act) is act
