"""Tests of nnbook.viz.graph: the layout and the drawing of a computational graph
(structure only, no image comparison)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from nnbook.engine.autodiff import Value, topological_order
from nnbook.viz.graph import _layout, draw_graph


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


def test_leaves_inner_nodes_and_the_output_differ_by_border_not_only_by_colour():
    o, v = _neuron()
    fig = draw_graph(o)
    try:
        boxes = {
            a.get_gid(): a for a in fig.axes[0].patches if (a.get_gid() or "").startswith("value:")
        }
        style = {
            name: (
                boxes[f"value:{id(node)}"].get_linestyle(),
                boxes[f"value:{id(node)}"].get_linewidth(),
            )
            for name, node in {**v, "o": o}.items()
        }
        leaves = {style[k] for k in ("x1", "x2", "w1", "w2", "b")}
        assert len(leaves) == 1 and next(iter(leaves))[0] == "--"
        assert style["n"][0] == "-" and style["o"][0] == "-"
        assert style["o"][1] > style["n"][1]  # the output's border is thicker
    finally:
        plt.close(fig)
