"""One figure style for the whole book.

Introduced in Chapter 1, Neural networks as universal function approximators.

Every figure in the book is made through :func:`figure` (or :func:`use_style`), so all of
them share fonts, sizes and a colour-blind-safe palette (Okabe & Ito, 2008). Chapters add
their own drawing functions below; each one labels its axes and units.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

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


def figure(ncols: int = 1, nrows: int = 1, *, width: float | None = None, height: float | None = None, **kwargs):
    """Create a figure in the book's style: ``fig, axes = figure(ncols=2)``.

    The default size grows with the number of panels (3.2 in wide and 3 in tall each).
    """
    use_style()
    w = width if width is not None else min(3.2 * ncols + 0.4, 10.0)
    h = height if height is not None else 3.0 * nrows
    return plt.subplots(nrows, ncols, figsize=(w, h), **kwargs)


__all__ = ["PALETTE", "COLORS", "STYLE", "use_style", "style", "figure"]
