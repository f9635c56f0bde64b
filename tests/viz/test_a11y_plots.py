"""Accessibility of the figure helpers in nnbook.viz.plots: series that differ by more than
colour, text that contrasts with what is behind it, and alt text that says something."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from nnbook.viz import plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# Published contrast ratios (WebAIM's contrast checker; WCAG 2.1's definition): black on white
# is 21:1, #767676 on white 4.54:1 (the lightest grey that passes AA for text), #777777 4.48:1,
# #0072B2 (Okabe-Ito blue) 5.19:1 and #E69F00 (Okabe-Ito orange) 2.25:1.
@pytest.mark.parametrize(
    "fg, bg, ratio",
    [
        ("#000000", "#FFFFFF", 21.0),
        ("#767676", "#FFFFFF", 4.54),
        ("#777777", "#FFFFFF", 4.48),
        ("#0072B2", "#FFFFFF", 5.19),
        ("#E69F00", "#FFFFFF", 2.25),
        ("#FFFFFF", "#FFFFFF", 1.0),
    ],
)
def test_contrast_ratio_matches_published_values(fg, bg, ratio):
    assert plots.contrast_ratio(fg, bg) == pytest.approx(ratio, abs=0.01)
    assert plots.contrast_ratio(bg, fg) == pytest.approx(ratio, abs=0.01)


@pytest.mark.parametrize("background", ["#000000", "#FFFFFF", "#0072B2", "#777777", "#08306B"])
def test_text_color_passes_aa_on_any_background(background):
    assert plots.contrast_ratio(plots.text_color(background), background) >= 4.5


def test_series_colours_come_from_the_palette_high_contrast_first():
    assert set(plots.SERIES_COLORS) == set(plots.PALETTE.values())
    ratios = [plots.contrast_ratio(c, "white") for c in plots.SERIES_COLORS]
    # the first five reach the 3:1 that WCAG 2.1 (1.4.11) asks of graphical objects
    assert all(r >= 3 for r in ratios[:5]), ratios
    assert all(r < 3 for r in ratios[5:]), ratios  # orange, sky blue and yellow come last


def test_series_styles_differ_by_more_than_colour():
    styles = [plots.series_style(k) for k in range(8)]
    shapes = [(str(s["linestyle"]), s["marker"]) for s in styles]
    assert len(set(shapes)) == len(shapes)  # a greyscale print still tells any two apart
    for a, b in itertools.combinations(styles, 2):
        assert a["marker"] != b["marker"]
    assert plots.series_style(0, marker=False).keys() == {"color", "linestyle"}
    with pytest.raises(ValueError, match="k"):
        plots.series_style(-1)


def _history(n=12, best=5):
    rng = np.random.default_rng(0)
    train = np.linspace(1.0, 0.1, n)
    val = np.abs(train + rng.normal(0, 0.05, n)) + 0.1
    return SimpleNamespace(
        train_loss=list(train),
        val_loss=list(val),
        train_error=list(train / 2),
        val_error=list(val / 2),
        best_epoch=best,
        loss="cross_entropy",
    )


def _greyscale_signature(line):
    return (str(line.get_linestyle()), str(line.get_marker()))


def test_plot_history_curves_differ_in_line_style():
    ax = plots.plot_history(_history())
    train, val, best = ax.get_lines()
    assert train.get_linestyle() == "-" and val.get_linestyle() == "--"
    assert best.get_linestyle() == ":"
    for line in (train, val):  # at least 3:1 against the white axes
        assert plots.contrast_ratio(line.get_color(), "white") >= 3


def test_overlaid_runs_differ_in_marker_and_line_style():
    _, ax = plots.figure()
    for name in ["narrow", "wide", "deep"]:
        plots.plot_history(_history(), ax, label=name)
    lines = ax.get_lines()
    assert len(lines) == 9  # training, validation and the best epoch of each run
    signatures = [_greyscale_signature(line) for line in lines]
    assert len(set(signatures)) == len(signatures), signatures
    train_markers = [line.get_marker() for line in lines if line.get_gid() == "history-train"]
    assert len(set(train_markers)) == 3


def _pixel(fig, ax, x, y):
    """The RGB colour (0..1) of the rendered figure at data coordinates (x, y)."""
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    px, py = ax.transData.transform((x, y))
    row = int(round(rgba.shape[0] - py))
    return rgba[row, int(round(px)), :3] / 255


def test_confusion_matrix_counts_are_readable_on_their_cells():
    C = np.array([[50, 2, 30], [0, 40, 9], [27, 1, 60]])
    ax = plots.plot_confusion_matrix(C)
    fig = ax.figure
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}
    assert set(texts) == {(k, m) for k in range(3) for m in range(3) if C[k, m] or k == m}
    for (k, m), text in texts.items():
        # the cell's colour, sampled from the rendered image near its corner (away from the text)
        cell = _pixel(fig, ax, m - 0.4, k - 0.4)
        assert plots.contrast_ratio(text.get_color(), cell) >= 4.5, (k, m, text.get_color())


def test_alt_text_rejects_file_names_and_stubs():
    assert plots.alt_text("  Test error against epoch;\n validation lowest at 12 ") == (
        "Test error against epoch; validation lowest at 12"
    )
    for bad in ["../_images/8f48a.png", "figure", "the training loss against the epoch.png", ""]:
        with pytest.raises(ValueError, match="alt text"):
            plots.alt_text(bad)
    with pytest.raises(TypeError, match="str"):
        plots.alt_text(None)


# --------------------------------------------------------------------------- colour-only series
def _style(artist):
    """What tells a series apart without colour: line style, width, marker and its fill, hatch."""
    from matplotlib.collections import PathCollection
    from matplotlib.lines import Line2D

    if isinstance(artist, Line2D):
        dashes = (
            artist.get_linestyle()
            if artist.get_linestyle() in ("None", " ", "")
            else (tuple(round(d, 1) for d in (artist._unscaled_dash_pattern[1] or ())))
        )
        filled = str(artist.get_markerfacecolor()).lower() not in ("none", "white", "#ffffff")
        return ("line", dashes, round(artist.get_linewidth() * 2) / 2, artist.get_marker(), filled)
    if isinstance(artist, PathCollection):
        path = artist.get_paths()[0] if artist.get_paths() else None
        shape = tuple(np.round(path.vertices, 2).ravel()) if path is not None else ()
        filled = len(artist.get_facecolor()) > 0 and artist.get_facecolor()[0][3] > 0
        return ("scatter", shape, filled)
    return (type(artist).__name__, getattr(artist, "get_hatch", lambda: None)())


def _colour(artist):
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D

    if isinstance(artist, Line2D):
        return artist.get_color()
    if isinstance(artist, Collection):
        colours = artist.get_facecolor() if len(artist.get_facecolor()) else artist.get_edgecolor()
        return tuple(colours[0][:3]) if len(colours) else (0, 0, 0)
    return artist.get_facecolor()[:3]


def greyscale_twins(fig) -> list[tuple[int, str, str]]:
    """Pairs of labelled series on one axes that differ only by colour, and by too little
    lightness (contrast below 3:1) to be told apart in greyscale: (axes index, label, label)."""
    twins = []
    for i, ax in enumerate(fig.axes):
        handles, labels = ax.get_legend_handles_labels()
        series = [(h, lab) for h, lab in zip(handles, labels) if not lab.startswith("_")]
        for (a, la), (b, lb) in itertools.combinations(series, 2):
            if _style(a) == _style(b) and plots.contrast_ratio(_colour(a), _colour(b)) < 3:
                twins.append((i, la, lb))
    return twins


def test_greyscale_twins_finds_series_told_apart_by_hue_only():
    fig, (ax0, ax1) = plots.figure(ncols=2)
    x = np.linspace(0, 1, 20)
    ax0.plot(x, x, color=plots.PALETTE["blue"], label="a")
    ax0.plot(x, x**2, color=plots.PALETTE["vermillion"], label="b")  # 1.3:1, same style
    ax0.plot(x, x**3, color=plots.PALETTE["black"], label="c")  # far darker than both
    ax1.plot(x, x, color=plots.PALETTE["blue"], label="d")
    ax1.plot(x, x**2, color=plots.PALETTE["vermillion"], ls="--", label="e")
    ax1.scatter(x, x, color=plots.PALETTE["green"], marker="o", label="f")
    ax1.scatter(x, x**2, color=plots.PALETTE["purple"], marker="o", label="g")
    ax1.scatter(x, x**3, color=plots.PALETTE["orange"], marker="s", label="h")
    assert greyscale_twins(fig) == [(0, "a", "b"), (1, "f", "g")]


def test_plot_history_has_no_greyscale_twins():
    fig, (ax0, ax1) = plots.figure(ncols=2)
    plots.plot_history(_history(), ax0)
    for name in ["narrow", "wide", "deep", "deeper", "widest"]:
        plots.plot_history(_history(), ax1, label=name)
    assert greyscale_twins(fig) == []
