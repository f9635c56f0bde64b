"""Drawing a computational graph (:class:`~nnbook.engine.autodiff.Value` or
:class:`~nnbook.engine.tensor.Tensor`) with matplotlib, from the leaves to the output."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine.autodiff import Value, topological_order
from ..engine.tensor import Tensor

__all__ = ["draw_graph"]

_OP_SYMBOLS = {"*": "×", "-": "−", "/": "÷", "neg": "−x", "sigmoid": "σ", "@": "@", "sum": "Σ"}


def _op_text(op: str) -> str:
    return _OP_SYMBOLS.get(op, op)


def _node_text(node: Any, fmt: str) -> str:
    lines = [node.label] if node.label else []
    data, grad = node.data, node.grad
    if isinstance(node, Tensor) and node.data.size != 1:
        lines.append("shape " + "×".join(str(s) for s in node.shape))
        lines.append(f"|grad| {np.linalg.norm(grad):{fmt}}")
    else:
        lines.append(f"data {float(np.asarray(data).item()):{fmt}}")
        lines.append(f"grad {float(np.asarray(grad).item()):{fmt}}")
    return "\n".join(lines)


def _columns(order: list) -> dict[Any, int]:
    """The column of each value box (key ``id(v)``) and op circle (key ``-id(v)``): a value
    made by an op sits in column 2 d, d its depth (the longest path from a leaf), and its op
    circle in column 2 d - 1; a leaf sits just left of the first op that uses it."""
    depth: dict[int, int] = {}
    for node in order:  # inputs come first, so their depth is known
        depth[id(node)] = 1 + max((depth[id(c)] for c in node._prev), default=-1)
    col: dict[Any, int] = {}
    consumers: dict[int, list[int]] = {id(n): [] for n in order}
    for node in order:
        if node._prev:
            col[id(node)] = 2 * depth[id(node)]
            col[-id(node)] = 2 * depth[id(node)] - 1
            for c in node._prev:
                consumers[id(c)].append(-id(node))
    for node in order:
        if not node._prev:
            col[id(node)] = min((col[k] for k in consumers[id(node)]), default=1) - 1
    return col


def _edges(order: list, col: dict[Any, int]) -> tuple[dict, list, dict]:
    """The nodes of each column (in order of first appearance), the links between
    neighbouring columns (input value -> op circle -> output value), and the bend points
    of each long edge, one per column it crosses (added to ``col``)."""
    columns: dict[int, list] = {}
    links: list[tuple[Any, Any]] = []
    bends: dict[tuple[int, int], list[tuple]] = {}
    for node in order:
        for key in ([-id(node)] if node._prev else []) + [id(node)]:
            columns.setdefault(col[key], []).append(key)
        if not node._prev:
            continue
        for c in dict.fromkeys(id(c) for c in node._prev):
            chain = [("bend", c, id(node), k) for k in range(col[c] + 1, col[-id(node)])]
            for b in chain:
                col[b] = b[3]
                columns.setdefault(b[3], []).append(b)
            bends[(c, id(node))] = chain
            path = [c, *chain, -id(node)]
            links.extend(zip(path, path[1:]))
        links.append((-id(node), id(node)))
    return columns, links, bends


def _sweep(columns: dict, cols: list[int], neighbours: dict, row: dict, half: dict) -> None:
    """One barycentre sweep over ``cols``: order each column by the mean row of the
    nodes' neighbours, place each node there, pushed apart so that nodes do not overlap."""
    for c in cols:
        keys = columns[c]
        bary = {
            k: (float(np.mean([row[n] for n in neighbours[k]])) if neighbours[k] else row[k])
            for k in keys
        }
        keys.sort(key=lambda k: (bary[k], row[k]))
        pos = [bary[k] for k in keys]
        for i in range(1, len(pos)):
            pos[i] = max(pos[i], pos[i - 1] + half[keys[i - 1]] + half[keys[i]])
        shift = float(np.mean([bary[k] for k in keys]) - np.mean(pos))
        for k, p in zip(keys, pos):
            row[k] = p + shift


def _layout(
    order: list,
) -> tuple[dict[Any, int], dict[Any, float], dict[tuple[int, int], list[tuple]]]:
    """Columns and rows of the nodes of a graph, for :func:`draw_graph`.

    Keys are ``id(v)`` for the box of value v, ``-id(v)`` for the circle of the op that
    made v, and tuples for the bend points of long edges (see :func:`_columns` and
    :func:`_edges`). Rows inside a column are ordered by the mean row of the neighbours (a
    few barycentre sweeps, as in Sugiyama's method) to avoid crossing edges. Returns
    (column, row, bend points of each long edge).
    """
    col = _columns(order)
    columns, links, bends = _edges(order, col)
    left: dict[Any, list] = {k: [] for k in col}
    right: dict[Any, list] = {k: [] for k in col}
    for a, b in links:
        right[a].append(b)
        left[b].append(a)
    half = {k: (0.15 if isinstance(k, tuple) else 0.5) for k in col}  # half a node's height
    row = {k: float(i) for keys in columns.values() for i, k in enumerate(keys)}
    ordered = sorted(columns)
    for _ in range(4):
        _sweep(columns, ordered, left, row, half)
        _sweep(columns, ordered[::-1], right, row, half)
    _sweep(columns, ordered, left, row, half)
    return col, row, bends


class _Geometry:
    """Where everything goes: the layout, the box and circle sizes, the x of each column."""

    inch = 0.55  # inches per data unit; one row is 1.0 unit

    def __init__(self, order: list, fmt: str) -> None:
        self.col, self.row, self.bends = _layout(order)
        self.texts = {id(node): _node_text(node, fmt) for node in order}
        char_w = 8 * 0.6 / 72 / self.inch  # one 8 pt monospace character, in data units
        longest = max(len(line) for t in self.texts.values() for line in t.split("\n"))
        self.box_w, self.box_h, self.radius = char_w * longest + 0.35, 0.84, 0.34
        self.x_of_col, x = {}, 0.0
        for c in range(min(self.col.values()), max(self.col.values()) + 1):
            w = self.box_w + 0.5 if c % 2 == 0 else 1.1  # boxes in even columns, ops in odd
            self.x_of_col[c] = x + w / 2
            x += w
        self.width = x
        self.y_min, self.y_max = min(self.row.values()) - 0.55, max(self.row.values()) + 0.55

    def xy(self, key: Any) -> tuple[float, float]:
        return self.x_of_col[self.col[key]], -self.row[key]  # first row on top

    def half_width(self, column: int) -> float:
        return self.box_w / 2 if column % 2 == 0 else self.radius


def _draw_nodes(ax: Any, g: _Geometry, node: Any, output: Any) -> None:
    """The box of ``node`` and, if an op made it, the op's circle."""
    from matplotlib.patches import Circle, FancyBboxPatch

    from .plots import PALETTE

    x0, y0 = g.xy(id(node))
    # Leaves, inner nodes and the output differ by border as well as by fill, so that the
    # three kinds stay apart in greyscale: dashed for leaves, thick for the output.
    if not node._prev:
        face, style, width = "#fbe9c4", "--", 0.9
    elif node is output:
        face, style, width = "#cdeee2", "-", 2.0
    else:
        face, style, width = "#d7ecf8", "-", 0.8
    box = FancyBboxPatch(
        (x0 - g.box_w / 2, y0 - g.box_h / 2),
        g.box_w,
        g.box_h,
        boxstyle="round,pad=0,rounding_size=0.08",
        facecolor=face,
        edgecolor=PALETTE["black"],
        linewidth=width,
        linestyle=style,
        gid=f"value:{id(node)}",
    )
    ax.add_patch(box)
    ax.text(
        x0,
        y0,
        g.texts[id(node)],
        ha="center",
        va="center",
        fontsize=8,
        family="monospace",
        linespacing=1.1,
        gid=f"value-text:{id(node)}",
    )
    if not node._prev:
        return
    ox, oy = g.xy(-id(node))
    symbol = _op_text(node._op)
    ax.add_patch(
        Circle(
            (ox, oy),
            g.radius,
            facecolor="white",
            edgecolor=PALETTE["blue"],
            linewidth=1.2,
            gid=f"op:{id(node)}",
        )
    )
    ax.text(
        ox,
        oy,
        symbol,
        ha="center",
        va="center",
        fontsize=10 if len(symbol) <= 2 else 7.5,
        color=PALETTE["blue"],
        fontweight="bold",
        gid=f"op-text:{id(node)}",
    )


_ARROW = dict(
    arrowstyle="-|>", mutation_scale=8, linewidth=0.9, color="#555555", shrinkA=0, shrinkB=0.5
)


def _draw_edges(ax: Any, g: _Geometry, node: Any) -> None:
    """The arrows into the op that made ``node`` (bent through every column a long one
    crosses) and the arrow from the op to ``node``."""
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    ox, oy = g.xy(-id(node))
    for i, c in enumerate(node._prev):
        cx, cy = g.xy(id(c))
        points = [(cx + g.box_w / 2, cy)]
        for b in g.bends[(id(c), id(node))]:  # run straight across each column it crosses
            bx, by = g.xy(b)
            points += [(bx - g.half_width(g.col[b]), by), (bx + g.half_width(g.col[b]), by)]
        px, py = points[-1]
        d = math.hypot(ox - px, oy - py)
        points.append((ox - g.radius * (ox - px) / d, oy - g.radius * (oy - py) / d))
        gid = f"edge:{id(c)}->{id(node)}:{i}"
        if node._prev.count(c) > 1:  # x * x: two bent arrows from the same box
            bend = f"arc3,rad={0.25 if i == 0 else -0.25}"
            arrow = FancyArrowPatch(points[0], points[-1], gid=gid, connectionstyle=bend, **_ARROW)
        else:
            path = Path(points, [Path.MOVETO] + [Path.LINETO] * (len(points) - 1))
            arrow = FancyArrowPatch(path=path, gid=gid, **_ARROW)
        ax.add_patch(arrow)
    vx, vy = g.xy(id(node))
    ends = (ox + g.radius, oy), (vx - g.box_w / 2, vy)
    ax.add_patch(FancyArrowPatch(*ends, gid=f"edge:op->{id(node)}", **_ARROW))


def draw_graph(value: Value | Tensor, ax: Any = None, *, fmt: str = ".4f"):
    """Draw the computational graph that produced ``value``, from the leaves (left) to it.

    Value nodes are boxes showing ``label``, ``data`` and ``grad`` (for a Tensor: its shape
    and the norm of its gradient); operations are circles; arrows show the flow of the
    forward pass (the backward pass runs them in reverse). Columns are the depth of a
    node, the longest path from a leaf; leaves sit just left of the operation that uses
    them. Uses matplotlib only (no graphviz). Each artist has a ``gid`` starting with
    ``"value:"``, ``"op:"`` or ``"edge:"``.

    Returns the matplotlib Figure (a new one if ``ax`` is None).
    """
    import matplotlib.pyplot as plt

    from .plots import style

    order = topological_order(value)
    g = _Geometry(order, fmt)
    with style():
        if ax is None:
            fig = plt.figure(figsize=(g.width * g.inch, (g.y_max - g.y_min) * g.inch))
            ax = fig.add_axes((0, 0, 1, 1))
        else:
            fig = ax.figure
        ax.set_axis_off()
        ax.set_aspect("equal")
        ax.set_xlim(0, g.width)
        ax.set_ylim(-g.y_max, -g.y_min)
        for node in order:
            _draw_nodes(ax, g, node, value)
        for node in order:
            if node._prev:
                _draw_edges(ax, g, node)
    return fig
