"""Tests of nnbook.viz.plots.draw_mlp, the schematic of an MLP."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Circle

from nnbook.viz import plots


def units(ax):
    return [p for p in ax.patches if isinstance(p, Circle) and p.get_gid() == "unit"]


def ellipses(ax):
    return [line for line in ax.lines if line.get_gid() == "ellipsis"]


def weight_lines(ax):
    return [line for line in ax.lines if line.get_gid() != "ellipsis"]


def texts(ax):
    return [t.get_text() for t in ax.texts]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("sizes", [[3, 4, 5, 1], [2, 1], [1, 2, 2, 2, 1], [4, 7, 3]])
def test_small_network_draws_every_unit_and_every_weight(sizes):
    ax = plots.draw_mlp(sizes)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(units(ax)) == sum(sizes)
    assert ellipses(ax) == []
    # one line per weight [W_l]_{ij}: sum_l d_l d_{l+1}
    assert len(weight_lines(ax)) == sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def test_units_are_columns_one_per_layer():
    sizes = [3, 4, 5, 1]
    ax = plots.draw_mlp(sizes)
    xs = sorted({round(c.center[0], 6) for c in units(ax)})
    assert len(xs) == len(sizes)
    for x, s in zip(xs, sizes):
        assert sum(round(c.center[0], 6) == x for c in units(ax)) == s


def test_large_layers_use_an_ellipsis():
    sizes = [784, 256, 128, 10]
    ax = plots.draw_mlp(sizes, max_units=7)
    assert len(ellipses(ax)) == 4  # every layer is wider than 7
    assert len(units(ax)) == 4 * 6  # 6 drawn units and the ellipsis in each column
    # the last input unit is x_784, the last output unit f_10
    assert "$x_{784}$" in texts(ax) and "$f_{10}$" in texts(ax)
    assert "$d_0 = d = 784$" in "\n".join(texts(ax))


def test_only_the_wide_layers_are_cut():
    ax = plots.draw_mlp([2, 50, 3], max_units=5)
    assert len(ellipses(ax)) == 1
    assert len(units(ax)) == 2 + 4 + 3


def test_labels_name_the_parameters():
    ax = plots.draw_mlp([3, 4, 5, 1])
    joined = "\n".join(texts(ax))
    for name in ["$W_{0},\\ b_{0}$", "$W_{1},\\ b_{1}$", "$\\beta$"]:
        assert name in joined
    assert "W_{2}" not in joined  # the output layer is beta, not W_2
    ax = plots.draw_mlp([3, 4, 1], output_bias=True)
    assert "$\\beta,\\ \\beta_0$" in texts(ax)
    ax = plots.draw_mlp([3, 4, 1], labels=False, layer_labels=False, unit_text=False)
    assert texts(ax) == []


def test_draws_into_given_axes():
    fig, ax = plt.subplots()
    out = plots.draw_mlp([2, 3, 1], ax=ax)
    assert out is ax and len(fig.axes) == 1


@pytest.mark.parametrize(
    "sizes, kwargs, error",
    [
        ([3], {}, ValueError),
        ([3, 0, 1], {}, ValueError),
        ([3, 2.5, 1], {}, TypeError),
        ("3-4-1", {}, TypeError),
        ([3, 4, 1], {"max_units": 2}, ValueError),
    ],
)
def test_bad_input(sizes, kwargs, error):
    with pytest.raises(error, match="expected"):
        plots.draw_mlp(sizes, **kwargs)


def test_accepts_numpy_sizes():
    ax = plots.draw_mlp(np.array([2, 3, 1]))
    assert len(units(ax)) == 6
