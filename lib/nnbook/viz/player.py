"""An interactive figure that works everywhere: a slider over precomputed frames.

:class:`FramePlayer` is an ipywidgets slider in Jupyter, Colab and Binder, and on the
static site (no kernel) a small inline-JavaScript player over the same PNG frames.
"""

from __future__ import annotations

import base64 as _base64
import html as _html
import json as _json

import matplotlib.pyplot as plt

from .plots import figure_to_png


class FramePlayer:
    """Step through precomputed figures with a slider: ``FramePlayer(frames, values, label)``.

    ``frames`` are matplotlib figures (or PNG bytes), one per slider position, and
    ``values`` the parameter value each one shows (e.g. the width M). Display the object
    (make it the last expression of a cell) and you get

    * in Jupyter, Colab or Binder (a live kernel): an ipywidgets slider that swaps the
      image (:meth:`widget`, MIME ``application/vnd.jupyter.widget-view+json``);
    * on the static site and in any HTML viewer: a self-contained player, ``<input
      type=range>`` plus one ``<img>`` per frame with the PNG inlined as base64, driven by
      a few characters of inline JavaScript (``text/html``, see :meth:`to_html`); no
      external script, no CDN, works offline;
    * elsewhere (PDF, plain text): the starting frame as ``image/png``.

    The figures are rendered to PNG once, when the player is built, and closed (unless
    ``close=False``) so they are not also shown as ordinary cell output.
    """

    def __init__(
        self, frames, values, label: str = "value", *, start: int = 0, close: bool = True
    ) -> None:
        frames = list(frames)
        values = list(values)
        if len(frames) == 0:
            raise ValueError("expected at least one frame, got 0")
        if len(values) != len(frames):
            raise ValueError(
                f"expected one value per frame ({len(frames)} frames), got {len(values)} values"
            )
        if not isinstance(label, str):
            raise TypeError(f"expected label to be a str, got {type(label).__name__}")
        if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < len(frames):
            raise ValueError(
                f"expected start to be a frame index in [0, {len(frames) - 1}], got {start!r}"
            )
        pngs = []
        for k, fr in enumerate(frames):
            if isinstance(fr, (bytes, bytearray)):
                if not bytes(fr[:8]) == b"\x89PNG\r\n\x1a\n":
                    raise ValueError(f"expected frame {k} to be PNG bytes or a Figure")
                pngs.append(bytes(fr))
            else:
                pngs.append(figure_to_png(fr))
                if close:
                    plt.close(fr)
        self.pngs: list[bytes] = pngs
        self.values: list = values
        self.label: str = label
        self.start: int = start
        self._widget = None

    @classmethod
    def from_function(cls, draw, values, label: str = "value", **kwargs) -> FramePlayer:
        """Build the frames by calling ``draw(value) -> Figure`` for each value."""
        values = list(values)
        return cls([draw(v) for v in values], values, label, **kwargs)

    def __len__(self) -> int:
        return len(self.pngs)

    def __repr__(self) -> str:
        return f"FramePlayer({len(self)} frames, {self.label} in {self.values})"

    def _caption(self, k: int) -> str:
        return f"{self.label} = {self.values[k]}"

    def widget(self):
        """The live ipywidgets view: an ``Image`` above a ``SelectionSlider`` over the values."""
        if self._widget is None:
            import ipywidgets as widgets

            image = widgets.Image(value=self.pngs[self.start], format="png")
            slider = widgets.SelectionSlider(
                options=[(str(v), k) for k, v in enumerate(self.values)],
                value=self.start,
                description=self.label,
                continuous_update=True,
                layout=widgets.Layout(width="min(100%, 480px)"),
            )

            def show(change) -> None:
                image.value = self.pngs[change["new"]]

            slider.observe(show, names="value")
            self._widget = widgets.VBox([slider, image])
        return self._widget

    def to_html(self) -> str:
        """A self-contained HTML player: a range input and one inline ``<img>`` per frame."""
        esc = _html.escape
        values = _json.dumps([str(v) for v in self.values])
        js = (
            "var p=this.closest('.nnbook-frameplayer'),i=+this.value,"
            "v=JSON.parse(p.getAttribute('data-values'));"
            "p.querySelectorAll('img').forEach(function(m,k){m.style.display=(k===i)?'':'none';});"
            "p.querySelector('output').textContent=v[i];"
        )
        imgs = "\n".join(
            f'  <img src="data:image/png;base64,{_base64.b64encode(png).decode("ascii")}" '
            f'alt="{esc(self._caption(k))}" style="max-width:100%;{"" if k == self.start else "display:none;"}">'
            for k, png in enumerate(self.pngs)
        )
        return (
            f'<div class="nnbook-frameplayer" data-values="{esc(values)}">\n'
            f'  <label style="display:flex;align-items:center;gap:0.6em;font-family:sans-serif">'
            f"{esc(self.label)} = <output>{esc(str(self.values[self.start]))}</output>"
            f'<input type="range" min="0" max="{len(self) - 1}" step="1" value="{self.start}" '
            f'aria-label="{esc(self.label)}" style="width:min(100%,360px)" oninput="{esc(js)}"></label>\n'
            f"{imgs}\n</div>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs) -> dict:
        bundle: dict = {}
        try:
            view = self.widget()._repr_mimebundle_(include=include, exclude=exclude) or {}
        except ImportError:  # pragma: no cover - ipywidgets is a dependency
            view = {}
        bundle.update(view)
        bundle["text/html"] = self.to_html()
        bundle["image/png"] = _base64.b64encode(self.pngs[self.start]).decode("ascii")
        bundle["text/plain"] = repr(self)
        return bundle


__all__ = ["FramePlayer"]
