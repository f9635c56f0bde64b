"""One figure style for the whole book.

Every figure in the book is made through :func:`figure` (or :func:`use_style`), so all of
them share fonts, sizes and a colour-blind-safe palette (Okabe & Ito, 2008). Chapters add
their own drawing functions below; each one labels its axes and units.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib
import matplotlib.pyplot as plt

#: Okabe-Ito colour-blind-safe palette, in the order the book uses it.
PALETTE: dict[str, str] = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
COLORS: list[str] = list(PALETTE.values())

#: Line styles and markers to pair with colours: two series that differ only by colour cannot
#: be told apart in a greyscale print or by many colour-blind readers, so series ``k`` is
#: drawn with ``series_style(k)`` (colour, line style and marker together).
LINESTYLES: list = ["-", "--", "-.", ":", (0, (5, 1.5, 1, 1.5, 1, 1.5)), (0, (1, 3))]
MARKERS: list[str] = ["o", "s", "^", "D", "v", "P", "X", "*"]
#: The series colours, in order: the Okabe-Ito colours with at least 3:1 contrast against
#: the white background (WCAG 2.1 non-text contrast) come first; orange, sky blue and yellow
#: (about 2.3:1, 2.3:1 and 1.3:1) only after them.
SERIES_COLORS: list[str] = [
    PALETTE[c]
    for c in ("blue", "vermillion", "green", "purple", "black", "orange", "sky", "yellow")
]


def series_style(k: int, *, marker: bool = True, markevery: float = 0.1) -> dict:
    """Keyword arguments for series ``k`` (0, 1, ...): ``ax.plot(x, y, **series_style(k))``.

    Colour, line style and (with ``marker``) a marker all change with ``k``, so the series
    stay distinct in greyscale. Markers are spaced ``markevery`` of the axes diagonal apart,
    so that dense curves keep a light line.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError(f"expected k to be an int >= 0, got {k!r}")
    style = {
        "color": SERIES_COLORS[k % len(SERIES_COLORS)],
        "linestyle": LINESTYLES[k % len(LINESTYLES)],
    }
    if marker:
        style.update(marker=MARKERS[k % len(MARKERS)], markevery=markevery, markersize=5)
    return style


STYLE: dict[str, object] = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=COLORS),
    "lines.linewidth": 1.8,
    "legend.frameon": False,
    "image.cmap": "viridis",
    # Deterministic output: no timestamps or random ids in saved SVG/PNG metadata.
    "svg.hashsalt": "nnbook",
}


def use_style() -> None:
    """Apply the book's matplotlib style globally (each notebook calls this once)."""
    matplotlib.rcParams.update(STYLE)


@contextmanager
def style() -> Iterator[None]:
    """Context manager form of :func:`use_style`."""
    with matplotlib.rc_context(STYLE):
        yield


def figure(
    ncols: int = 1,
    nrows: int = 1,
    *,
    width: float | None = None,
    height: float | None = None,
    **kwargs,
):
    """Create a figure in the book's style: ``fig, axes = figure(ncols=2)``.

    The default size grows with the number of panels (3.2 in wide and 3 in tall each).
    """
    use_style()
    w = width if width is not None else min(3.2 * ncols + 0.4, 10.0)
    h = height if height is not None else 3.0 * nrows
    return plt.subplots(nrows, ncols, figsize=(w, h), **kwargs)


def figure_to_png(fig) -> bytes:
    """PNG bytes of a matplotlib figure, without metadata that varies between runs."""
    if not hasattr(fig, "savefig"):
        raise TypeError(f"expected a matplotlib Figure, got {type(fig).__name__}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def alt_text(alt: str) -> str:
    """Check a figure's alt text: a sentence or more that says what the figure shows and
    what to see in it (a screen reader reads it in place of the image)."""
    if not isinstance(alt, str):
        raise TypeError(f"expected alt to be a str, got {type(alt).__name__}")
    alt = " ".join(alt.split())
    if len(alt.split()) < 6 or alt.lower().endswith((".png", ".svg", ".jpg")):
        raise ValueError(
            "expected alt text of at least six words saying what the figure shows and what "
            f"to see in it, got {alt!r}"
        )
    return alt


def show(fig, alt: str, *, close: bool = True) -> None:
    """Display ``fig`` with alt text, in place of ``plt.show()``: ``show(fig, alt=f"...")``.

    ``alt`` says what the figure shows and what to see in it, with the numbers this run
    measured (e.g. ``f"Validation error against epoch; lowest at epoch {best}"``). The
    figure is shown as a PNG ``<img>`` carrying that alt text, on the site, in Jupyter and
    on Colab alike. The figure is closed afterwards unless ``close=False``.
    """
    from IPython.display import display

    alt = alt_text(alt)
    png = base64.b64encode(figure_to_png(fig)).decode("ascii")
    tag = f'<img src="data:image/png;base64,{png}" alt="{html.escape(alt, quote=True)}"/>'
    display({"text/html": tag, "image/png": png, "text/plain": alt}, raw=True)
    if close:
        plt.close(fig)


__all__ = [
    "PALETTE",
    "COLORS",
    "LINESTYLES",
    "MARKERS",
    "SERIES_COLORS",
    "series_style",
    "STYLE",
    "use_style",
    "style",
    "figure",
    "figure_to_png",
    "alt_text",
    "show",
]


# --------------------------------------------------------------------------- plot_history
# The training and validation curves recorded by nnbook.pytorch.train.fit.


def plot_history(
    history,
    ax=None,
    *,
    metric: str = "loss",
    logy: bool = False,
    mark_best: bool = True,
    label: str = "",
):
    """Plot the training and validation curves of a ``History`` (``nnbook.pytorch.train``).

    The curves are drawn against the epoch.

    ``metric="loss"`` plots the loss R-hat (cross-entropy or mean squared error, whichever
    ``fit`` used); ``metric="error"`` the error (fraction misclassified, or the MSE again).
    With a validation set and ``mark_best=True`` a dotted vertical line marks the epoch with
    the lowest validation value of the monitored quantity (``history.best_epoch``), the
    epoch that early stopping restores (for overlaid runs, a large hollow marker on the run's
    validation curve). ``label`` is prefixed to the legend entries (to overlay several runs).
    Returns the axes.

    Training curves are solid and validation curves dashed. A single run is drawn in blue
    (training) and vermillion (validation); overlaid runs (with ``label``) each get their own
    colour and marker (:func:`series_style`; filled on the training curve, hollow on the
    validation curve), so every curve can be told apart in greyscale.
    """
    if metric not in ("loss", "error"):
        raise ValueError(f"expected metric to be 'loss' or 'error', got {metric!r}")
    train = getattr(history, f"train_{metric}", None)
    val = getattr(history, f"val_{metric}", None)
    if train is None or val is None:
        raise TypeError(f"expected a nnbook.pytorch.train.History, got {type(history).__name__}")
    if ax is None:
        _, ax = figure()
    mse = getattr(history, "loss", "cross_entropy") == "mse"
    ylabel = {
        ("loss", False): "cross-entropy loss $\\hat R$",
        ("error", False): "error (fraction misclassified)",
    }.get((metric, mse), "mean squared error")
    epochs = range(1, len(train) + 1)
    prefix = f"{label} " if label else ""
    if label:  # run k on these axes: its own colour and marker, for both of its curves
        k = sum(1 for line in ax.get_lines() if line.get_gid() == "history-train")
        style = series_style(k)
        train_style = {**style, "linestyle": "-"}
        val_style = {**style, "linestyle": "--", "markerfacecolor": "white"}
    else:
        train_style = {"color": PALETTE["blue"], "linestyle": "-"}
        val_style = {"color": PALETTE["vermillion"], "linestyle": "--"}
    ax.plot(epochs, train, label=f"{prefix}training", gid="history-train", **train_style)
    if len(val):
        ax.plot(epochs, val, label=f"{prefix}validation", gid="history-val", **val_style)
        best = getattr(history, "best_epoch", None)
        if mark_best and best is not None and label:  # a large hollow marker of the run's own
            ax.plot(
                [best],
                [val[best - 1]],
                linestyle="none",
                marker=style["marker"],
                markersize=11,
                markerfacecolor="none",
                markeredgecolor=style["color"],
                markeredgewidth=1.8,
                label=f"{prefix}best epoch ({best})",
            )
        elif mark_best and best is not None:
            ax.axvline(
                best,
                color=PALETTE["black"],
                linestyle=":",
                linewidth=1.2,
                label=f"{prefix}best epoch ({best})",
            )
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


__all__ += ["plot_history"]


# ------------------------------------------------------------- plot_digits, plot_confusion_matrix


def plot_digits(
    images,
    titles=None,
    *,
    ncols: int = 10,
    title_colors=None,
    cmap: str = "gray_r",
    size: float = 0.95,
):
    """Show images as a grid of small grey-scale panels, one title each; return ``(fig, axes)``.

    ``images`` is ``(n, 784)`` (flattened 28 x 28 digits) or ``(n, h, w)``; pixel values are
    shown on their own scale (0..255 or [0, 1]), dark = ink with the default ``cmap="gray_r"``.
    ``titles`` (n strings, e.g. the labels) are written above the panels, in ``title_colors``
    when given (e.g. ``PALETTE["vermillion"]`` for the mistakes). Panels have no axes: the
    image is the data, 28 x 28 pixels.
    """
    import numpy as _np

    arr = _np.asarray(images)
    if arr.ndim == 2:
        side = int(round(arr.shape[1] ** 0.5))
        if side * side != arr.shape[1]:
            raise ValueError(f"expected images of shape (n, 784) or (n, 28, 28), got {arr.shape}")
        arr = arr.reshape(len(arr), side, side)
    if arr.ndim != 3 or len(arr) == 0:
        raise ValueError(
            "expected a non-empty stack of images of shape (n, 784) or (n, 28, 28), "
            f"got {arr.shape}"
        )
    n = len(arr)
    if titles is not None and len(titles) != n:
        raise ValueError(f"expected one title per image ({n}), got {len(titles)}")
    if title_colors is not None and len(title_colors) != n:
        raise ValueError(f"expected one title colour per image ({n}), got {len(title_colors)}")
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"expected ncols to be an int >= 1, got {ncols!r}")
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    vmax = 255 if arr.max() > 1 else 1
    title_lines = max(str(t).count("\n") + 1 for t in titles) if titles is not None else 0
    fig, axes = figure(
        ncols, nrows, width=size * ncols, height=(size + 0.18 * title_lines) * nrows, squeeze=False
    )
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= n:
            continue
        ax.imshow(arr[k], cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
        if titles is not None:
            color = title_colors[k] if title_colors is not None else PALETTE["black"]
            ax.set_title(str(titles[k]), fontsize=8, color=color, pad=2)
    fig.subplots_adjust(wspace=0.08, hspace=0.08 + 0.22 * title_lines)
    return fig, axes


def relative_luminance(color) -> float:
    """WCAG 2.1 relative luminance L of a colour (any matplotlib colour): 0 black, 1 white."""
    from matplotlib.colors import to_rgb

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in to_rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a, b) -> float:
    """WCAG 2.1 contrast ratio (L1 + 0.05) / (L2 + 0.05) of two colours, from 1 to 21."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_color(background) -> str:
    """Black or white, whichever contrasts more with ``background`` (at least 4.58:1)."""
    white = contrast_ratio("white", background)
    return "white" if white > contrast_ratio(PALETTE["black"], background) else PALETTE["black"]


def plot_confusion_matrix(C, ax=None, *, labels=None, cmap: str = "Blues"):
    """Draw a confusion matrix C[k, m] (true class k in rows, predicted m in columns).

    The counts are written in the cells.

    The diagonal holds the correct predictions; the colour scale is set by the off-diagonal
    counts (the mistakes), which would otherwise be invisible next to the diagonal, and the
    diagonal cells are left white, outlined, with their counts in bold. ``labels`` name the classes
    (default 0..K-1). Returns the axes.
    """
    import numpy as _np
    from matplotlib.patches import Rectangle as _Rectangle

    C = _np.asarray(C)
    if C.ndim != 2 or C.shape[0] != C.shape[1] or C.shape[0] == 0:
        raise ValueError(f"expected a square (K, K) confusion matrix, got shape {C.shape}")
    if not _np.issubdtype(C.dtype, _np.integer):
        raise TypeError(f"expected integer counts, got dtype {C.dtype}")
    K = C.shape[0]
    labels = list(range(K)) if labels is None else list(labels)
    if len(labels) != K:
        raise ValueError(f"expected {K} labels, got {len(labels)}")
    if ax is None:
        _, ax = figure(width=4.6, height=4.0)
    off = C.copy()
    _np.fill_diagonal(off, 0)
    vmax = max(int(off.max()), 1)
    shown = _np.where(_np.eye(K, dtype=bool), 0, C)
    im = ax.imshow(shown, cmap=cmap, vmin=0, vmax=vmax)
    for k in range(K):
        for m in range(K):
            value = int(C[k, m])
            if value == 0 and k != m:
                continue
            cell = im.cmap(im.norm(shown[k, m]))
            ax.text(
                m,
                k,
                str(value),
                ha="center",
                va="center",
                fontsize=7 if K > 5 else 9,
                color=text_color(cell),
                fontweight="bold" if k == m else "normal",
            )
        ax.add_patch(
            _Rectangle(
                (k - 0.5, k - 0.5), 1, 1, fill=False, edgecolor=PALETTE["black"], linewidth=0.6
            )
        )
    ax.set_xticks(range(K), labels)
    ax.set_yticks(range(K), labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.grid(False)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="count (off-diagonal)")
    return ax


__all__ += [
    "plot_digits",
    "plot_confusion_matrix",
    "relative_luminance",
    "contrast_ratio",
    "text_color",
]


# --------------------------------------------------------------------------- draw_mlp


def draw_mlp(
    sizes,
    ax=None,
    *,
    max_units: int = 7,
    labels: bool = True,
    output_bias: bool = False,
    layer_labels: bool = True,
    unit_text: bool = True,
):
    """Draw the schematic of an MLP with layer widths ``sizes = [d, d_1, ..., d_L, K]``.

    Returns the axes.

    Each layer is a column of units (circles): the input f_0 = x (d units), the hidden layers
    f_1, ..., f_L (d_l units each, f_{l+1} = sigma(W_l f_l + b_l)) and the output f(x) (K units);
    every weight is a line between units of consecutive layers. A layer wider than
    ``max_units`` is drawn as its first and last few units with a vertical ellipsis between
    them (so 784-256-128-10 fits on a page). With ``labels`` each band of connections carries
    its parameters, W_l, b_l, and beta for the output layer (beta, beta_0 with
    ``output_bias``); ``layer_labels`` writes f_l and d_l under each column; ``unit_text``
    writes x_j, sigma and f inside the units.

    The units are ``matplotlib.patches.Circle`` patches with ``gid="unit"`` and the ellipses
    lines with ``gid="ellipsis"``, so they can be counted.
    """
    import numpy as _np
    from matplotlib.patches import Circle as _Circle

    from ..engine.mlp import _check_sizes

    sizes = _check_sizes(sizes)  # the same sizes MLP(sizes) accepts
    if isinstance(max_units, bool) or not isinstance(max_units, int) or max_units < 3:
        raise ValueError(f"expected max_units to be an int >= 3, got {max_units!r}")

    n_layers = len(sizes)
    L = n_layers - 2
    dx, r = 2.8, 0.34
    n_slots = [min(s, max_units) for s in sizes]
    tallest = max(n_slots)
    if ax is None:
        _, ax = figure(
            width=max(4.0, 1.75 * n_layers + 0.4),
            height=0.42 * tallest + (1.5 if layer_labels else 0.5),
        )

    colors = [PALETTE["sky"]] + [PALETTE["orange"]] * L + [PALETTE["green"]]
    columns = []  # per layer: list of (y, unit index j starting at 1), and the ellipsis y (or None)
    for i, s in enumerate(sizes):
        slots = n_slots[i]
        ys = (slots - 1) / 2 - _np.arange(slots, dtype=float)
        if s > max_units:
            top = (max_units - 1) // 2 + (max_units - 1) % 2
            bottom = max_units - 1 - top
            units = [(ys[j], j + 1) for j in range(top)]
            units += [(ys[top + 1 + j], s - bottom + 1 + j) for j in range(bottom)]
            columns.append((units, ys[top]))
        else:
            columns.append(([(ys[j], j + 1) for j in range(slots)], None))

    # weights: every drawn unit of layer i to every drawn unit of layer i + 1
    for i in range(n_layers - 1):
        x0, x1 = i * dx, (i + 1) * dx
        for y0, _ in columns[i][0]:
            for y1, _ in columns[i + 1][0]:
                ax.plot([x0 + r, x1 - r], [y0, y1], color="0.55", lw=0.6, alpha=0.7, zorder=1)

    font = 8 if tallest <= 8 else 7
    for i, (units, ell) in enumerate(columns):
        x = i * dx
        for y, j in units:
            ax.add_patch(
                _Circle(
                    (x, y),
                    r,
                    facecolor=colors[i],
                    edgecolor=PALETTE["black"],
                    lw=0.9,
                    zorder=3,
                    gid="unit",
                )
            )
            if unit_text:
                if i == 0:
                    text = f"$x_{{{j}}}$"
                elif i == n_layers - 1:
                    text = "$f$" if sizes[-1] == 1 else f"$f_{{{j}}}$"
                else:
                    text = r"$\sigma$"
                ax.text(
                    x,
                    y,
                    text,
                    ha="center",
                    va="center",
                    fontsize=font if i > 0 or j < 100 else font - 2,
                    zorder=4,
                )
        if ell is not None:
            ax.plot(
                [x, x, x],
                [ell - 0.22, ell, ell + 0.22],
                linestyle="none",
                marker="o",
                ms=2.2,
                color=PALETTE["black"],
                zorder=3,
                gid="ellipsis",
            )

    top_y = (tallest - 1) / 2 + r
    if labels:
        for i in range(n_layers - 1):
            if i < n_layers - 2:
                text = f"$W_{{{i}}},\\ b_{{{i}}}$"
            else:
                text = r"$\beta,\ \beta_0$" if output_bias else r"$\beta$"
            ax.text((i + 0.5) * dx, top_y + 0.35, text, ha="center", va="bottom", fontsize=10)
    bottom_y = -(tallest - 1) / 2 - r
    if layer_labels:
        for i, s in enumerate(sizes):
            if i == 0:
                name, width = "input\n$f_0 = x$", f"$d_0 = d = {s:,}$" if L else f"$d = {s:,}$"
            elif i == n_layers - 1:
                name, width = "output\n$f(x)$", f"$K = {s:,}$"
            else:
                name, width = f"hidden {i}\n$f_{{{i}}} = A^{{({i - 1})}}$", f"$d_{{{i}}} = {s:,}$"
            ax.text(
                i * dx,
                bottom_y - 0.25,
                f"{name}\n{width}",
                ha="center",
                va="top",
                fontsize=8.5,
                linespacing=1.4,
            )
    ax.set_xlim(-dx / 2, (n_layers - 1) * dx + dx / 2)
    ax.set_ylim(bottom_y - (1.75 if layer_labels else 0.3), top_y + (0.95 if labels else 0.3))
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


__all__ += ["draw_mlp"]
