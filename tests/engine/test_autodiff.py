"""Tests for nnbook.autodiff: every gradient against torch.autograd (float64) and finite differences."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from nnbook.engine.autodiff import Value, topological_order
from nnbook.engine.tensor import Tensor
from nnbook.viz.graph import _layout, draw_graph

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


# ---------------------------------------------------------------------------------------
# draw_graph (structure only, no image comparison)
# ---------------------------------------------------------------------------------------


def _gids(fig, prefix):
    ax = fig.axes[0]
    artists = list(ax.patches) + list(ax.texts)
    return [a.get_gid() for a in artists if (a.get_gid() or "").startswith(prefix)]


def test_draw_graph_draws_one_box_per_value_and_one_circle_per_op():
    o, v = _neuron()
    o.backward()
    fig = draw_graph(o)
    try:
        ax = fig.axes[0]
        assert len(_gids(fig, "value:")) == 10
        assert len(_gids(fig, "op:")) == 5
        # 9 arrows into op circles (2 + 2 + 2 + 2 + 1) and 5 from op circles to their outputs
        assert len(_gids(fig, "edge:")) == 14
        assert len(ax.patches) == 10 + 5 + 14
        assert len(ax.texts) == 10 + 5
        texts = [t.get_text() for t in ax.texts]
        for name in ("x1", "w1", "x2", "w2", "b", "n", "o"):
            assert any(t.split("\n")[0] == name for t in texts)
        assert any("grad 1.0000" in t and t.startswith("o\n") for t in texts)
        assert sorted(t for t in texts if "\n" not in t) == sorted(["×", "×", "+", "+", "tanh"])
    finally:
        plt.close(fig)


def test_draw_graph_of_the_loss_of_a_sigmoid_unit():
    w, x, b, y = (
        Value(0.5, label="w"),
        Value(1.5, label="x"),
        Value(-0.3, label="b"),
        Value(1.0, label="y"),
    )
    L = (y - (w * x + b).sigmoid()) ** 2
    L.label = "L"
    fig, ax = plt.subplots()
    try:
        assert draw_graph(L, ax=ax) is fig
        # leaves w, x, b, y; nodes w*x, +b, sigma, y - ., **2
        assert len(_gids(fig, "value:")) == 9
        assert len(_gids(fig, "op:")) == 5
        assert sorted(t.get_text() for t in ax.texts if "\n" not in t.get_text()) == sorted(
            ["×", "+", "σ", "−", "**2"]
        )
    finally:
        plt.close(fig)


def test_draw_graph_layout_runs_left_to_right_by_depth():
    o, _ = _neuron()
    order = topological_order(o)
    col, row, _ = _layout(order)
    for node in order:
        if node._prev:
            assert col[-id(node)] == col[id(node)] - 1  # the op circle sits just left of its output
            for child in node._prev:
                assert col[id(child)] < col[-id(node)]
    assert col[id(o)] == 8  # depth 4: x1 -> x1*w1 -> sum -> n -> o
    # boxes and circles in the same column are at least one row apart
    for c in set(col.values()):
        rows = sorted(row[k] for k in col if col[k] == c and not isinstance(k, tuple))
        assert all(b - a >= 1.0 - 1e-9 for a, b in zip(rows, rows[1:]))


def test_draw_graph_routes_a_long_edge_through_a_bend_point_in_every_column_it_crosses():
    a, b = Value(1.0, label="a"), Value(-2.0, label="b")
    e = (a * b).tanh().exp()
    L = e * a  # a feeds the first op (column 1) and the last one (column 7)
    order = topological_order(L)
    col, row, bends = _layout(order)
    assert col[id(a)] == 0 and col[-id(L)] == 7
    chain = bends[(id(a), id(L))]
    assert [col[k] for k in chain] == [1, 2, 3, 4, 5, 6]
    assert bends[(id(e), id(L))] == []
    for c in range(1, 7):  # the bend point keeps clear of the boxes and circles of its column
        others = [row[k] for k in col if col[k] == c and not isinstance(k, tuple)]
        bend = next(row[k] for k in chain if col[k] == c)
        assert all(abs(bend - r) >= 0.65 - 1e-9 for r in others)
    fig = draw_graph(L)
    try:
        assert (
            len(_gids(fig, "edge:")) == 6 + 4
        )  # into ops: 2 + 1 + 1 + 2 (one long), plus 4 op -> value
    finally:
        plt.close(fig)


def test_draw_graph_draws_two_arrows_for_a_square():
    x = Value(3.0, label="x")
    y = x * x
    fig = draw_graph(y)
    try:
        assert len(_gids(fig, "edge:")) == 3
        assert len(_gids(fig, "value:")) == 2
    finally:
        plt.close(fig)


# ---------------------------------------------------------------------------------------
# Tensor
# ---------------------------------------------------------------------------------------


def _pair(rng, shape, positive=False):
    a = rng.normal(size=shape)
    if positive:
        a = np.abs(a) + 0.5
    return Tensor(a), torch.tensor(a, dtype=torch.float64, requires_grad=True)


TENSOR_CASES = {
    "add_broadcast_row": (((4, 3), (3,)), lambda a, b: ((a + b) ** 2).sum()),
    "add_broadcast_col": (((4, 3), (4, 1)), lambda a, b: ((a + b) * (a - b)).mean()),
    "sub_mul": (((4, 3), (1, 3)), lambda a, b: ((a - b) * b * a).sum()),
    "div": (((4, 3), (4, 3)), lambda a, b: (a / b + 2.0 / b - a / 3.0).sum()),
    "matmul": (((4, 3), (3, 2)), lambda a, b: (a @ b).tanh().sum()),
    "transpose": (((4, 3), (4, 2)), lambda a, b: (a.T @ b).sigmoid().mean()),
    "exp_log": (((4, 3), (4, 3)), lambda a, b: ((a * 0.5).exp() + b.log()).sum()),
    "relu_pow": (((4, 3), (4, 3)), lambda a, b: (a.relu() ** 3 + b**-1).sum()),
    "neg_rsub": (((4, 3), (3,)), lambda a, b: ((1.0 - a) * (-b) + 2.0 * a).sum()),
    "sum_axis": (((4, 3), (4, 3)), lambda a, b: ((a * b).sum(axis=0) ** 2).sum()),
    "mean_axis": (((4, 3), (4, 3)), lambda a, b: ((a * b).mean(axis=1, keepdims=True) * a).sum()),
}


def _torch_version(fn):
    """Run the same lambda on torch tensors: .sum/.mean take dim, ** and @ work as they are."""

    class T:
        def __init__(self, t):
            self.t = t

        def _w(self, o):
            return o.t if isinstance(o, T) else o

        def __add__(self, o):
            return T(self.t + self._w(o))

        def __radd__(self, o):
            return T(o + self.t)

        def __sub__(self, o):
            return T(self.t - self._w(o))

        def __rsub__(self, o):
            return T(o - self.t)

        def __mul__(self, o):
            return T(self.t * self._w(o))

        def __rmul__(self, o):
            return T(o * self.t)

        def __truediv__(self, o):
            return T(self.t / self._w(o))

        def __rtruediv__(self, o):
            return T(o / self.t)

        def __matmul__(self, o):
            return T(self.t @ self._w(o))

        def __pow__(self, k):
            return T(self.t**k)

        def __neg__(self):
            return T(-self.t)

        @property
        def T(self):
            return T(self.t.T)

        def exp(self):
            return T(torch.exp(self.t))

        def log(self):
            return T(torch.log(self.t))

        def tanh(self):
            return T(torch.tanh(self.t))

        def sigmoid(self):
            return T(torch.sigmoid(self.t))

        def relu(self):
            return T(torch.relu(self.t))

        def sum(self, axis=None, keepdims=False):
            return T(self.t.sum() if axis is None else self.t.sum(dim=axis, keepdim=keepdims))

        def mean(self, axis=None, keepdims=False):
            return T(self.t.mean() if axis is None else self.t.mean(dim=axis, keepdim=keepdims))

    return lambda a, b: fn(T(a), T(b)).t


@pytest.mark.parametrize("name", sorted(TENSOR_CASES))
def test_tensor_gradients_match_torch(name):
    (sa, sb), fn = TENSOR_CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    a, at = _pair(rng, sa)
    b, bt = _pair(rng, sb, positive=True)
    out = fn(a, b)
    out.backward()
    outt = _torch_version(fn)(at, bt)
    outt.backward()
    assert out.item() == pytest.approx(outt.item(), rel=1e-12)
    np.testing.assert_allclose(a.grad, at.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad, bt.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


def test_tensor_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    A, B = rng.normal(size=(3, 4)), rng.normal(size=(4,))

    def loss(a_data):
        return ((Tensor(a_data) + B).tanh() ** 2).mean()

    a = Tensor(A)
    out = ((a + B).tanh() ** 2).mean()
    out.backward()
    h, fd = 1e-6, np.zeros_like(A)
    for idx in np.ndindex(*A.shape):
        E = np.zeros_like(A)
        E[idx] = h
        fd[idx] = (loss(A + E).item() - loss(A - E).item()) / (2 * h)
    np.testing.assert_allclose(a.grad, fd, rtol=1e-6, atol=1e-9)


def test_tensor_backward_of_a_non_scalar_needs_a_grad_and_computes_a_vjp():
    rng = np.random.default_rng(1)
    a, at = _pair(rng, (3, 2))
    y = a.tanh()
    with pytest.raises(ValueError, match="needs a scalar output"):
        y.backward()
    u = rng.normal(size=(3, 2))
    y.backward(u)
    torch.tanh(at).backward(torch.tensor(u))
    np.testing.assert_allclose(a.grad, at.grad.numpy(), rtol=1e-12)


def test_tensor_bad_input():
    with pytest.raises(TypeError, match="expected data to be a numeric array"):
        Tensor("abc")
    with pytest.raises(ValueError, match=r"\(n, k\) @ \(k, m\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match="cannot combine a Tensor with a Value"):
        Tensor(np.ones(2)) + Value(1.0)


def _mlp_loss(params, X, y):
    """Mean squared error of a 2-layer tanh MLP, rows are samples: sigma(X W_0^T + b_0) W_1^T + b_1."""
    W0, b0, W1, b1 = params
    out = (X @ W0.T + b0).tanh() @ W1.T + b1
    return ((out - y) ** 2).mean()


def test_tiny_mlp_gradients_match_torch_and_training_fits_xor():
    rng = np.random.default_rng(0)
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    init = [rng.normal(0, 1, (8, 2)), np.zeros(8), rng.normal(0, 0.5, (1, 8)), np.zeros(1)]

    params = [Tensor(p) for p in init]
    loss = _mlp_loss(params, Tensor(X), Tensor(y))
    loss.backward()
    tparams = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in init]
    tloss = _mlp_loss(tparams, torch.tensor(X), torch.tensor(y))
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-14)

    eta = 0.1
    first = loss.item()
    for _ in range(300):
        for p in params:
            p.grad = np.zeros_like(p.data)
        loss = _mlp_loss(params, Tensor(X), Tensor(y))
        loss.backward()
        for p in params:
            p.data -= eta * p.grad
    assert loss.item() < 0.01 < 0.2 < first
