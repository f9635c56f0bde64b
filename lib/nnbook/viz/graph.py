"""Drawing a computational graph (:class:`~nnbook.engine.autodiff.Value` or
:class:`~nnbook.engine.tensor.Tensor`) with matplotlib, from the leaves to the output."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine.autodiff import Value, topological_order
from ..engine.tensor import Tensor

__all__ = ["draw_graph"]


# ---------------------------------------------------------------------------------------
# Drawing the computational graph
# ---------------------------------------------------------------------------------------

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


def _layout(
    order: list,
) -> tuple[dict[Any, int], dict[Any, float], dict[tuple[int, int], list[tuple]]]:
    """Columns and rows of the nodes of a graph, for :func:`draw_graph`.

    Keys are ``id(v)`` for the box of value v, ``-id(v)`` for the circle of the op that
    made v, and tuples for the bend points of long edges. A value node made by an op sits
    in column 2 d, where d is its depth (the longest path from a leaf); its op circle sits
    in column 2 d - 1. A leaf sits just left of the first op that uses it. An edge that
    spans several columns gets a bend point in each column it crosses, so that it runs
    between the boxes rather than through them. Rows inside a column are ordered by the
    mean row of the neighbours (a few barycentre sweeps, as in Sugiyama's method) to avoid
    crossing edges. Returns (column, row, bend points of each long edge).
    """
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

    # the edges: input value -> op circle -> output value; long ones get a bend per column
    columns: dict[int, list] = {}
    links: list[tuple[Any, Any]] = []
    bends: dict[tuple[int, int], list[tuple]] = {}
    for node in order:  # first appearance in topological order is the starting row order
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
    left: dict[Any, list] = {k: [] for k in col}
    right: dict[Any, list] = {k: [] for k in col}
    for a, b in links:
        right[a].append(b)
        left[b].append(a)

    half = {k: (0.15 if isinstance(k, tuple) else 0.5) for k in col}  # half the height a node needs
    row = {k: float(i) for keys in columns.values() for i, k in enumerate(keys)}

    def sweep(neighbours: dict[Any, list], cols: list[int]) -> None:
        for c in cols:
            keys = columns[c]
            bary = {
                k: (float(np.mean([row[n] for n in neighbours[k]])) if neighbours[k] else row[k])
                for k in keys
            }
            keys.sort(key=lambda k: (bary[k], row[k]))
            pos = [bary[k] for k in keys]  # each node at its barycentre, pushed apart to fit
            for i in range(1, len(pos)):
                pos[i] = max(pos[i], pos[i - 1] + half[keys[i - 1]] + half[keys[i]])
            shift = float(np.mean([bary[k] for k in keys]) - np.mean(pos))
            for k, p in zip(keys, pos):
                row[k] = p + shift

    ordered = sorted(columns)
    for _ in range(4):
        sweep(left, ordered)
        sweep(right, ordered[::-1])
    sweep(left, ordered)
    return col, row, bends


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
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path

    from .plots import PALETTE, style

    order = topological_order(value)
    col, row, bends = _layout(order)
    texts = {id(node): _node_text(node, fmt) for node in order}

    inch = 0.55  # inches per data unit; one row is 1.0 unit
    char_w = 8 * 0.6 / 72 / inch  # width of one 8 pt monospace character, in data units
    longest = max(len(line) for t in texts.values() for line in t.split("\n"))
    box_w, box_h, radius = char_w * longest + 0.35, 0.84, 0.34
    x_of_col, x = {}, 0.0
    for c in range(min(col.values()), max(col.values()) + 1):
        w = (
            box_w + 0.5 if c % 2 == 0 else 1.1
        )  # value boxes sit in even columns, op circles in odd ones
        x_of_col[c] = x + w / 2
        x += w
    width = x
    rows = list(row.values())
    y_min, y_max = min(rows) - 0.55, max(rows) + 0.55
    height = y_max - y_min

    def xy(key: Any) -> tuple[float, float]:
        return x_of_col[col[key]], -row[key]  # first row on top

    def half_width(column: int) -> float:
        return box_w / 2 if column % 2 == 0 else radius

    with style():
        if ax is None:
            fig = plt.figure(figsize=(width * inch, height * inch))
            ax = fig.add_axes((0, 0, 1, 1))
        else:
            fig = ax.figure
        ax.set_axis_off()
        ax.set_aspect("equal")
        ax.set_xlim(0, width)
        ax.set_ylim(-y_max, -y_min)

        leaf_face, inner_face, out_face = (
            "#fbe9c4",
            "#d7ecf8",
            "#cdeee2",
        )  # light orange, sky, green
        for node in order:
            x0, y0 = xy(id(node))
            face = leaf_face if not node._prev else (out_face if node is value else inner_face)
            ax.add_patch(
                FancyBboxPatch(
                    (x0 - box_w / 2, y0 - box_h / 2),
                    box_w,
                    box_h,
                    boxstyle="round,pad=0,rounding_size=0.08",
                    facecolor=face,
                    edgecolor=PALETTE["black"],
                    linewidth=0.8,
                    gid=f"value:{id(node)}",
                )
            )
            ax.text(
                x0,
                y0,
                texts[id(node)],
                ha="center",
                va="center",
                fontsize=8,
                family="monospace",
                linespacing=1.1,
                gid=f"value-text:{id(node)}",
            )
            if node._prev:
                ox, oy = xy(-id(node))
                symbol = _op_text(node._op)
                ax.add_patch(
                    Circle(
                        (ox, oy),
                        radius,
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

        arrow_style = dict(
            arrowstyle="-|>",
            mutation_scale=8,
            linewidth=0.9,
            color="#555555",
            shrinkA=0,
            shrinkB=0.5,
        )
        for node in order:
            if not node._prev:
                continue
            ox, oy = xy(-id(node))
            for i, c in enumerate(node._prev):
                cx, cy = xy(id(c))
                points = [(cx + box_w / 2, cy)]
                for b in bends[(id(c), id(node))]:  # run straight across each column it crosses
                    bx, by = xy(b)
                    points += [(bx - half_width(col[b]), by), (bx + half_width(col[b]), by)]
                px, py = points[-1]
                d = math.hypot(ox - px, oy - py)
                points.append(
                    (ox - radius * (ox - px) / d, oy - radius * (oy - py) / d)
                )  # stop on the circle
                gid = f"edge:{id(c)}->{id(node)}:{i}"
                if node._prev.count(c) > 1:  # x * x: two bent arrows from the same box
                    ax.add_patch(
                        FancyArrowPatch(
                            points[0],
                            points[-1],
                            gid=gid,
                            **arrow_style,
                            connectionstyle=f"arc3,rad={0.25 if i == 0 else -0.25}",
                        )
                    )
                else:
                    path = Path(points, [Path.MOVETO] + [Path.LINETO] * (len(points) - 1))
                    ax.add_patch(FancyArrowPatch(path=path, gid=gid, **arrow_style))
            vx, vy = xy(id(node))
            ax.add_patch(
                FancyArrowPatch(
                    (ox + radius, oy),
                    (vx - box_w / 2, vy),
                    gid=f"edge:op->{id(node)}",
                    **arrow_style,
                )
            )
    return fig
