"""Tests for nnbook.engine.forward_mode: dual numbers against Value and torch; Jacobian
costs in both modes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nnbook.engine.autodiff import Value
from nnbook.engine.forward_mode import (
    Dual,
    OpCounter,
    TanhNetwork,
    derivative,
    jacobian_costs,
    jacobian_forward,
    jacobian_reverse,
    jvp,
)

# Each function is written once and run on Dual, Value and torch tensors.
# `ops` gives exp/log/tanh/sigmoid/relu for the kind of number used.
METHOD_OPS = dict(
    exp=lambda a: a.exp(),
    log=lambda a: a.log(),
    tanh=lambda a: a.tanh(),
    sigmoid=lambda a: a.sigmoid(),
    relu=lambda a: a.relu(),
)
TORCH_OPS = dict(
    exp=torch.exp, log=torch.log, tanh=torch.tanh, sigmoid=torch.sigmoid, relu=torch.relu
)

SCALAR_FUNCTIONS = {
    "add": lambda x, o: x + 1.5 + x,
    "sub": lambda x, o: 2.0 - x - (x - 0.5),
    "mul": lambda x, o: 3.0 * x * x,
    "div": lambda x, o: x / (x * x + 1) + 1 / x,
    "pow": lambda x, o: x**3 + x**-2 + (x * x) ** 0.5,
    "neg": lambda x, o: -x,
    "exp": lambda x, o: o["exp"](x * 0.7),
    "log": lambda x, o: o["log"](x * x + 0.1),
    "tanh": lambda x, o: o["tanh"](x),
    "sigmoid": lambda x, o: o["sigmoid"](2 * x),
    "relu": lambda x, o: o["relu"](x - 0.2) * x,
    "neuron": lambda x, o: o["tanh"](-3.0 * x + 6.88) * o["sigmoid"](x) - o["log"](o["exp"](x) + 1),
}


def _torch_derivative(f, x0: float) -> float:
    xt = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    f(xt, TORCH_OPS).backward()
    return xt.grad.item()


@pytest.mark.parametrize("name", sorted(SCALAR_FUNCTIONS))
@pytest.mark.parametrize("x0", [0.45, 1.3, -0.9])
def test_dual_derivative_matches_torch_value_and_finite_differences(name, x0):
    f = SCALAR_FUNCTIONS[name]
    d = derivative(lambda x: f(x, METHOD_OPS), x0)

    x = Value(x0)
    f(x, METHOD_OPS).backward()

    h = 1e-6
    fd = (f(Value(x0 + h), METHOD_OPS).data - f(Value(x0 - h), METHOD_OPS).data) / (2 * h)

    assert d == pytest.approx(_torch_derivative(f, x0), rel=1e-12, abs=1e-12)
    assert d == pytest.approx(x.grad, rel=1e-12, abs=1e-12)
    assert d == pytest.approx(fd, rel=1e-6, abs=1e-7)
    # the value part of the dual number is f(x)
    assert f(Dual(x0, 1.0), METHOD_OPS).value == pytest.approx(
        f(Value(x0), METHOD_OPS).data, rel=1e-15
    )


def test_dual_arithmetic_by_hand():
    x = Dual(3.0, 1.0)
    y = x * x + 1
    assert (y.value, y.deriv) == (10.0, 6.0)
    z = Dual(2.0, 0.5) / Dual(4.0, 1.0)  # (a'b - ab') / b^2 = (2 - 2) / 16
    assert (z.value, z.deriv) == (0.5, 0.0)
    c = Dual(2.0) * 5  # constants carry derivative 0
    assert (c.value, c.deriv) == (10.0, 0.0)


def test_derivative_of_a_constant_function_is_zero():
    assert derivative(lambda x: 4.0, 1.0) == 0.0


def test_relu_derivative_at_the_kink_is_zero():
    assert derivative(lambda x: x.relu(), 0.0) == 0.0


# ---------------------------------------------------------------------------------------
# Vector functions: jvp and full Jacobians in both modes
# ---------------------------------------------------------------------------------------


def _g(xs, o=METHOD_OPS):
    """A function R^3 -> R^2 that uses every operation."""
    a, b, c = xs
    return [
        o["tanh"](a * b - c) + o["exp"](c / 3) * b**2,
        o["log"](a * a + 1) / (1 + o["sigmoid"](b)) - o["relu"](c + 0.2) * (-a),
    ]


def _g_torch(x):
    return torch.stack(_g(list(x), TORCH_OPS))


X0 = [0.4, -1.1, 0.7]


def test_both_jacobians_match_torch_on_a_function_using_every_op():
    exact = torch.autograd.functional.jacobian(
        _g_torch, torch.tensor(X0, dtype=torch.float64)
    ).numpy()
    fwd, rev = jacobian_forward(_g, X0), jacobian_reverse(_g, X0)
    assert fwd.jacobian.shape == rev.jacobian.shape == (2, 3)
    np.testing.assert_allclose(fwd.jacobian, exact, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rev.jacobian, exact, rtol=1e-12, atol=1e-14)
    assert (fwd.passes, rev.passes) == (3, 2)


def test_jvp_matches_torch():
    v = [0.3, -2.0, 1.5]
    value, tangent = jvp(_g, X0, v)
    xt = torch.tensor(X0, dtype=torch.float64)
    vt = torch.tensor(v, dtype=torch.float64)
    value_t, tangent_t = torch.autograd.functional.jvp(_g_torch, xt, vt)
    np.testing.assert_allclose(value, value_t.numpy(), rtol=1e-14)
    np.testing.assert_allclose(tangent, tangent_t.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n,m", [(1, 5), (5, 1), (3, 3), (7, 2)])
def test_jacobians_of_the_tanh_network_match_the_formula(n, m):
    f = TanhNetwork(n, m, hidden=4, seed=n + 10 * m)
    x = np.random.default_rng(n * m).normal(size=n)
    exact = f.jacobian(x)
    assert exact.shape == (m, n)
    np.testing.assert_allclose(jacobian_forward(f, x).jacobian, exact, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(jacobian_reverse(f, x).jacobian, exact, rtol=1e-12, atol=1e-14)
    # the network itself agrees with NumPy
    out = f(list(x))
    np.testing.assert_allclose(out, f.W_1 @ np.tanh(f.W_0 @ x), rtol=1e-12)


def test_tanh_network_checks_against_torch_too():
    f = TanhNetwork(4, 3, hidden=5, seed=1)
    x = np.array([0.2, -0.5, 1.0, 0.3])
    W0, W1 = torch.tensor(f.W_0), torch.tensor(f.W_1)
    exact = torch.autograd.functional.jacobian(
        lambda t: W1 @ torch.tanh(W0 @ t), torch.tensor(x)
    ).numpy()
    np.testing.assert_allclose(f.jacobian(x), exact, rtol=1e-12)


def test_constant_outputs_give_zero_rows():
    def f(xs):
        return [xs[0] * xs[1], 2.0]

    np.testing.assert_array_equal(
        jacobian_forward(f, [3.0, 4.0]).jacobian, [[4.0, 3.0], [0.0, 0.0]]
    )
    np.testing.assert_array_equal(
        jacobian_reverse(f, [3.0, 4.0]).jacobian, [[4.0, 3.0], [0.0, 0.0]]
    )


# ---------------------------------------------------------------------------------------
# Counting the cost
# ---------------------------------------------------------------------------------------


def _ops_per_evaluation(n: int, m: int, h: int) -> tuple[int, int]:
    """Operations of one evaluation of W_1 tanh(W_0 x), counted by hand.

    Each of the h hidden sums has n multiplications and n - 1 additions, then one tanh;
    each of the m outputs has h multiplications and h - 1 additions. Returns (all
    operations, the operations one output depends on).
    """
    hidden = h * (2 * n - 1) + h
    return hidden + m * (2 * h - 1), hidden + (2 * h - 1)


@pytest.mark.parametrize("n,m,h", [(1, 6, 3), (6, 1, 3), (4, 4, 2), (2, 9, 5)])
def test_operation_counts_match_the_count_by_hand(n, m, h):
    total, per_output = _ops_per_evaluation(n, m, h)
    f = TanhNetwork(n, m, hidden=h)
    x = np.linspace(-1, 1, n)
    fwd, rev = jacobian_forward(f, x), jacobian_reverse(f, x)
    assert fwd.passes == n and rev.passes == m
    assert fwd.ops == n * total  # n forward passes, each through the whole computation
    assert rev.ops == total + m * per_output  # one forward pass, then m backward passes


def test_jacobian_costs_show_which_mode_wins():
    rows = jacobian_costs([(1, 20), (20, 1), (4, 4)], hidden=4, timing=False)
    assert [(r["n"], r["m"]) for r in rows] == [(1, 20), (20, 1), (4, 4)]
    many_outputs, many_inputs, _ = rows
    assert many_outputs["forward_ops"] < many_outputs["reverse_ops"]  # n << m: forward mode
    assert many_inputs["reverse_ops"] < many_inputs["forward_ops"]  # m << n: reverse mode
    for r in rows:
        assert r["forward_passes"] == r["n"] and r["reverse_passes"] == r["m"]
        assert r["max_abs_error"] < 1e-12
        assert math.isnan(r["forward_seconds"]) and math.isnan(r["reverse_seconds"])
    timed = jacobian_costs([(2, 2)], hidden=2, repeats=1)[0]
    assert timed["forward_seconds"] > 0 and timed["reverse_seconds"] > 0


def test_op_counters_are_independent_and_constants_are_free():
    c1, c2 = OpCounter(), OpCounter()
    x, y = Dual(1.0, 1.0, c1), Dual(2.0, 0.0, c2)
    (x * 2 + 1).tanh()
    assert c1.n == 3 and c2.n == 0
    y.exp()
    assert c1.n == 3 and c2.n == 1
    Dual(1.0) + Dual(2.0)  # no counter: nothing to count
    assert c1.n == 3 and c2.n == 1


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["abc", None, True, [1.0]])
def test_dual_of_a_non_number_is_refused(bad):
    with pytest.raises(TypeError, match="expected value to be a real number"):
        Dual(bad)


def test_bad_input_messages():
    with pytest.raises(TypeError, match="cannot combine a Dual with Value"):
        Dual(1.0) + Value(1.0)
    with pytest.raises(TypeError, match="cannot combine a Dual with str"):
        Dual(1.0) * "x"
    with pytest.raises(TypeError, match="exponent must be a number"):
        Dual(1.0) ** Dual(2.0)
    with pytest.raises(ValueError, match="log expects value > 0"):
        Dual(0.0).log()
    with pytest.raises(TypeError, match="expected counter to be an OpCounter"):
        Dual(1.0, 0.0, counter=3)
    with pytest.raises(ValueError, match=r"expected v of shape \(3,\), got \(2,\)"):
        jvp(_g, X0, [1.0, 2.0])
    with pytest.raises(ValueError, match="expected x of shape"):
        jacobian_forward(_g, [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="expected x of length n = 2"):
        TanhNetwork(2, 1)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="expected n to be an int >= 1"):
        TanhNetwork(0, 3)
    with pytest.raises(TypeError, match=r"\(n, m\) pairs"):
        jacobian_costs([(1,)])
    with pytest.raises(TypeError, match="expected x to be a real number"):
        derivative(lambda x: x, "1.0")
