"""Tests for nnbook.engine.autodiff: every gradient of Value against torch.autograd (float64)
and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nnbook.engine.autodiff import Value, topological_order

# ---------------------------------------------------------------------------------------
# Scalar ops: one table drives the Value, torch and finite-difference computations
# ---------------------------------------------------------------------------------------

UNARY = {
    "neg": lambda a: -a,
    "exp": lambda a: a.exp(),
    "log": lambda a: a.log(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "relu": lambda a: a.relu(),
    "pow2": lambda a: a**2,
    "pow3": lambda a: a**3,
    "pow-1": lambda a: a**-1,
    "pow0.5": lambda a: a**0.5,
    "pow-1.5": lambda a: a**-1.5,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "radd": lambda a, b: 2.5 + a + b,
    "rsub": lambda a, b: 2.5 - a - b,
    "rmul": lambda a, b: -1.5 * a * b,
    "rdiv": lambda a, b: 2.5 / a + b,
    "add_const": lambda a, b: (a + 3) * (b - 0.5),
    "div_const": lambda a, b: a / 4 + b * 0.25,
}
# torch spells a few of them differently
TORCH_UNARY = dict(
    UNARY, exp=torch.exp, log=torch.log, tanh=torch.tanh, sigmoid=torch.sigmoid, relu=torch.relu
)

POINTS = [0.3, 1.7, -0.8, 2.2]  # log and fractional powers use |x|


def _unary_point(name: str, x: float) -> float:
    return abs(x) if name in ("log", "pow0.5", "pow-1.5") else x


def _fd(f, xs: list[float], h: float = 1e-6) -> list[float]:
    """Central finite differences of a scalar function of floats (run through Value, data only)."""
    grads = []
    for i in range(len(xs)):
        up = [x + h * (j == i) for j, x in enumerate(xs)]
        dn = [x - h * (j == i) for j, x in enumerate(xs)]
        grads.append((f(*[Value(v) for v in up]).data - f(*[Value(v) for v in dn]).data) / (2 * h))
    return grads


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("x0", POINTS)
def test_unary_gradient_matches_torch_and_finite_differences(name, x0):
    x0 = _unary_point(name, x0)
    x = Value(x0)
    y = UNARY[name](x)
    y.backward()

    xt = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    yt = TORCH_UNARY[name](xt)
    yt.backward()

    assert y.data == pytest.approx(yt.item(), rel=1e-12, abs=1e-12)
    assert x.grad == pytest.approx(xt.grad.item(), rel=1e-12, abs=1e-12)
    assert x.grad == pytest.approx(_fd(UNARY[name], [x0])[0], rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("a0,b0", [(0.3, 1.7), (-0.8, 2.2), (1.25, -0.6)])
def test_binary_gradient_matches_torch_and_finite_differences(name, a0, b0):
    a, b = Value(a0), Value(b0)
    y = BINARY[name](a, b)
    y.backward()

    at = torch.tensor(a0, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
    yt = BINARY[name](at, bt)
    yt.backward()

    assert y.data == pytest.approx(yt.item(), rel=1e-12)
    assert (a.grad, b.grad) == pytest.approx((at.grad.item(), bt.grad.item()), rel=1e-12, abs=1e-12)
    assert [a.grad, b.grad] == pytest.approx(_fd(BINARY[name], [a0, b0]), rel=1e-6, abs=1e-7)


def test_relu_gradient_at_the_kink_is_zero_like_torch():
    x = Value(0.0)
    x.relu().backward()
    xt = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    torch.relu(xt).backward()
    assert x.grad == xt.grad.item() == 0.0


def test_sigmoid_is_stable_for_large_inputs():
    for z in (-800.0, 800.0):
        x = Value(z)
        y = x.sigmoid()
        y.backward()
        assert 0.0 <= y.data <= 1.0 and x.grad == 0.0


def test_composite_expression_matches_torch():
    # micrograd's test_more_ops, extended with every op of the engine
    def f(a, b, exp, log, tanh, sigmoid, relu):
        c = a + b
        d = a * b + b**3
        c = c + c + 1
        c = c + 1 + c + (-a)
        d = d + d * 2 + relu(b + a)
        d = d + 3 * d + relu(b - a)
        e = c - d
        f_ = e**2
        g = f_ / 2.0
        g = g + 10.0 / f_
        g = g + tanh(a) * sigmoid(b) + exp(a / 4) - log(b * b + 1)
        return g

    a, b = Value(-4.0), Value(2.0)
    g = f(a, b, Value.exp, Value.log, Value.tanh, Value.sigmoid, Value.relu)
    g.backward()
    at = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    gt = f(at, bt, torch.exp, torch.log, torch.tanh, torch.sigmoid, torch.relu)
    gt.backward()
    assert g.data == pytest.approx(gt.item(), rel=1e-12)
    assert a.grad == pytest.approx(at.grad.item(), rel=1e-10)
    assert b.grad == pytest.approx(bt.grad.item(), rel=1e-10)


def _neuron():
    """o = tanh(x1 w1 + x2 w2 + b), the single neuron of the chapter (micrograd's example)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, n=n)


def test_single_neuron_gradients_match_the_chain_rule_by_hand():
    o, v = _neuron()
    o.backward()
    dn = 1 - math.tanh(v["n"].data) ** 2  # do/dn
    assert o.data == pytest.approx(math.tanh(2 * -3 + 6.8813735870195432))
    assert v["b"].grad == pytest.approx(dn)
    assert v["w1"].grad == pytest.approx(dn * 2.0)
    assert v["x1"].grad == pytest.approx(dn * -3.0)
    assert v["w2"].grad == pytest.approx(0.0)
    assert v["x2"].grad == pytest.approx(dn * 1.0)


def test_squared_error_of_a_sigmoid_unit_matches_the_formula():
    # L = (y - sigma(w x + b))^2:  dL/dw = -2 (y - a) a (1 - a) x,  dL/db = -2 (y - a) a (1 - a)
    w, x, b, y = Value(0.5), Value(1.5), Value(-0.3), Value(1.0)
    L = (y - (w * x + b).sigmoid()) ** 2
    L.backward()
    a = 1 / (1 + math.exp(-(0.5 * 1.5 - 0.3)))
    assert L.data == pytest.approx((1 - a) ** 2)
    assert w.grad == pytest.approx(-2 * (1 - a) * a * (1 - a) * 1.5)
    assert b.grad == pytest.approx(-2 * (1 - a) * a * (1 - a))
    assert y.grad == pytest.approx(2 * (1 - a))


def test_a_node_used_twice_accumulates_both_paths():
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0
    a = Value(-2.0)
    b = a + a  # both inputs are the same node
    b.backward()
    assert a.grad == 2.0


def test_backward_accumulates_into_leaves_and_zero_grad_resets_like_torch():
    x = Value(1.5)
    t = x.tanh()
    y = t * x
    y.backward()
    first, t_first = x.grad, t.grad
    y.backward()  # a second pass: the leaf accumulates, the intermediate node does not
    xt = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    yt = torch.tanh(xt) * xt
    yt.backward(retain_graph=True)
    assert first == pytest.approx(xt.grad.item())
    yt.backward()
    assert x.grad == pytest.approx(xt.grad.item())
    assert x.grad == pytest.approx(2 * first)
    assert t.grad == pytest.approx(t_first)
    y.zero_grad()
    assert x.grad == 0.0 and y.grad == 0.0
    y.backward()
    assert x.grad == pytest.approx(first)


# ---------------------------------------------------------------------------------------
# The graph
# ---------------------------------------------------------------------------------------


def test_graph_records_inputs_op_and_label():
    o, v = _neuron()
    assert o._op == "tanh" and o._prev == (v["n"],)
    assert v["n"]._op == "+" and v["n"]._prev[1] is v["b"]
    assert v["x1"]._op == "" and v["x1"]._prev == () and v["x1"].label == "x1"


def test_topological_order_puts_every_node_after_its_inputs():
    o, v = _neuron()
    order = topological_order(o)
    assert len(order) == 10  # 5 leaves + x1w1, x2w2, their sum, n, o
    assert len({id(n) for n in order}) == len(order)
    assert order[-1] is o
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for child in node._prev:
            assert position[id(child)] < position[id(node)]
    assert {n.label for n in order if not n._prev} == {"x1", "x2", "w1", "w2", "b"}


def test_topological_order_of_a_diamond_lists_the_shared_node_once():
    a = Value(1.0)
    b, c = a * 2, a.exp()
    d = b + c
    order = topological_order(d)
    assert len(order) == 5  # a, the constant 2, b, c, d
    assert sum(n is a for n in order) == 1


def test_a_long_chain_does_not_hit_the_recursion_limit():
    x = Value(1.0)
    y = x
    for _ in range(5000):
        y = y + x
    y.backward()
    assert y.data == 5001.0 and x.grad == 5001.0


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["abc", None, [1.0], True, 1 + 2j])
def test_value_of_a_non_number_is_refused_with_a_clear_message(bad):
    with pytest.raises(TypeError, match="expected data to be a real number"):
        Value(bad)


def test_numpy_scalars_are_accepted():
    assert Value(np.float32(1.5)).data == 1.5
    assert Value(np.int64(3)).data == 3.0
    assert Value(np.array(2.0)).data == 2.0


def test_bad_operations_fail_with_clear_messages():
    x = Value(2.0)
    with pytest.raises(TypeError, match="cannot combine a Value with str"):
        x + "a"
    with pytest.raises(TypeError, match="exponent must be a number"):
        x ** Value(2.0)
    with pytest.raises(ValueError, match="log expects data > 0"):
        Value(-1.0).log()
    with pytest.raises(ValueError, match="not a real number"):
        Value(-1.0) ** 0.5
    with pytest.raises(ZeroDivisionError):
        x / Value(0.0)
    with pytest.raises(TypeError, match="expected a Value or a Tensor"):
        topological_order(3.0)
