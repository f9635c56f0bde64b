"""An interactive figure that works everywhere: a slider over precomputed frames.

:class:`FramePlayer` is an ipywidgets slider in Jupyter, Colab and Binder, and on the
static site (no kernel) a small inline-JavaScript player over the same PNG frames.
"""

from __future__ import annotations

import base64 as _base64
import functools as _functools
import hashlib as _hashlib
import html as _html
import json as _json

import matplotlib.pyplot as plt

from .plots import alt_text, figure_to_png


@_functools.cache
def _described_image():
    """``ipywidgets.Image`` whose ``tooltip`` (the ``title`` that names the image for screen
    readers) is shown: ipywidgets 8.1's front end reads ``description`` to place a tooltip,
    which ``Image`` lacks, and fails to draw the image (jupyter-widgets/ipywidgets#3921)."""
    import ipywidgets as widgets
    from traitlets import Unicode

    class DescribedImage(widgets.Image):
        description = Unicode("", help="Empty: the tooltip goes on the image.").tag(sync=True)

    return DescribedImage


class FramePlayer:
    """Step through precomputed figures with a slider: ``FramePlayer(frames, values, label)``.

    ``frames`` are matplotlib figures (or PNG bytes), one per slider position, and
    ``values`` the parameter value each one shows (e.g. the width M). Display the object
    (make it the last expression of a cell) and you get

    * in Jupyter, Colab or Binder (a live kernel): an ipywidgets slider that swaps the
      image (:meth:`widget`, MIME ``application/vnd.jupyter.widget-view+json``);
    * on the static site and in any HTML viewer: a self-contained player, a labelled
      ``<input type=range>`` between Previous and Next buttons, the value in an
      ``aria-live`` region, and one ``<img>`` per frame with the PNG inlined as base64,
      driven by a few characters of inline JavaScript (``text/html``, see :meth:`to_html`);
      no external script, no CDN, works offline and with the keyboard alone;
    * elsewhere (PDF, plain text): the starting frame as ``image/png``.

    ``alt`` describes each frame for readers who cannot see it, like the ``alt`` of
    :func:`nnbook.viz.plots.show`: a function ``alt(value) -> str`` or one string per
    frame, saying what the frame shows and what to see in it, with this run's numbers
    (e.g. ``alt=lambda M: f"Fit of the width-{M} network; sup error {err[M]:.2g}"``).
    Without it a frame is described only as ``label = value``.

    The figures are rendered to PNG once, when the player is built, and closed (unless
    ``close=False``) so they are not also shown as ordinary cell output.
    """

    def __init__(
        self,
        frames,
        values,
        label: str = "value",
        *,
        alt=None,
        start: int = 0,
        close: bool = True,
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
        alts = self._alts(alt, values, label)
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
        self.alts: list[str] = alts
        self.start: int = start
        self._widget = None

    @staticmethod
    def _alts(alt, values, label: str) -> list[str]:
        """One alt text per frame: from ``alt`` (a function of the value, or a sequence)."""
        if alt is None:
            return [f"{label} = {v}" for v in values]
        if callable(alt):
            texts = [alt(v) for v in values]
        elif isinstance(alt, (str, bytes)) or not hasattr(alt, "__len__"):
            raise TypeError(
                "expected alt to be a function alt(value) -> str or one string per frame, "
                f"got {type(alt).__name__}"
            )
        else:
            texts = list(alt)
            if len(texts) != len(values):
                raise ValueError(
                    f"expected one alt text per frame ({len(values)}), got {len(texts)}"
                )
        return [alt_text(t) for t in texts]

    @classmethod
    def from_function(cls, draw, values, label: str = "value", **kwargs) -> FramePlayer:
        """Build the frames by calling ``draw(value) -> Figure`` for each value."""
        values = list(values)
        return cls([draw(v) for v in values], values, label, **kwargs)

    def __len__(self) -> int:
        return len(self.pngs)

    def __repr__(self) -> str:
        return f"FramePlayer({len(self)} frames, {self.label} in {self.values})"

    def widget(self):
        """The live ipywidgets view: a ``SelectionSlider`` over the values above an ``Image``.

        The slider takes the keyboard (arrow keys, Home, End) once focused; the image's
        ``tooltip`` (its ``title``, which screen readers read as its name) is the frame's
        alt text.
        """
        if self._widget is None:
            import ipywidgets as widgets

            image = _described_image()(
                value=self.pngs[self.start], format="png", tooltip=self.alts[self.start]
            )
            slider = widgets.SelectionSlider(
                options=[(str(v), k) for k, v in enumerate(self.values)],
                value=self.start,
                description=self.label,
                continuous_update=True,
                layout=widgets.Layout(width="min(100%, 480px)"),
            )

            def show(change) -> None:
                image.value = self.pngs[change["new"]]
                image.tooltip = self.alts[change["new"]]

            slider.observe(show, names="value")
            self._widget = widgets.VBox([slider, image])
        return self._widget

    def to_html(self) -> str:
        """A self-contained HTML player: Previous, a labelled range input and Next, the
        value in an ``aria-live`` region, and one inline ``<img>`` (with its alt text) per frame.

        Keyboard: Tab reaches the buttons and the slider; the arrow keys, Home and End move
        the slider, Enter or Space press a button. Only inline event handlers, no ``<script>``.
        """
        esc = _html.escape
        digest = _hashlib.sha1(self.label.encode() + b"".join(self.pngs)).hexdigest()[:12]
        uid = f"nnbook-frameplayer-{digest}"
        values = _json.dumps([str(v) for v in self.values])
        on_input = (
            "var p=this.closest('.nnbook-frameplayer'),i=+this.value,"
            "v=JSON.parse(p.getAttribute('data-values'));"
            "p.querySelectorAll('img').forEach(function(m,k){m.style.display=(k===i)?'':'none';});"
            "p.querySelector('output').textContent=v[i];"
            "this.setAttribute('aria-valuetext',p.getAttribute('data-label')+' = '+v[i]);"
        )

        def step(d: int) -> str:
            return (
                "var r=this.closest('.nnbook-frameplayer').querySelector('input[type=range]');"
                f"r.value=+r.value{d:+d};r.dispatchEvent(new Event('input'));"
            )

        imgs = "\n".join(
            f'  <img src="data:image/png;base64,{_base64.b64encode(png).decode("ascii")}" '
            f'alt="{esc(self.alts[k])}" '
            f'style="max-width:100%;{"" if k == self.start else "display:none;"}">'
            for k, png in enumerate(self.pngs)
        )
        v0, label = esc(str(self.values[self.start])), esc(self.label)
        return (
            f'<div class="nnbook-frameplayer" role="group" aria-label="Figure player: {label}" '
            f'data-label="{label}" data-values="{esc(values)}">\n'
            '  <div class="nnbook-frameplayer-controls" style="display:flex;flex-wrap:wrap;'
            'align-items:center;gap:0.6em;font-family:sans-serif">\n'
            f'    <button type="button" aria-controls="{uid}" onclick="{esc(step(-1))}">'
            "&#9664; Previous</button>\n"
            f'    <label for="{uid}">{label}</label>\n'
            f'    <input id="{uid}" type="range" min="0" max="{len(self) - 1}" step="1" '
            f'value="{self.start}" aria-valuetext="{label} = {v0}" '
            f'style="width:min(100%,360px)" oninput="{esc(on_input)}">\n'
            f'    <button type="button" aria-controls="{uid}" onclick="{esc(step(+1))}">'
            "Next &#9654;</button>\n"
            f'    <span aria-live="polite" aria-atomic="true">{label} = '
            f'<output for="{uid}">{v0}</output></span>\n'
            f"  </div>\n{imgs}\n</div>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs) -> dict:
        bundle: dict = {}
        try:
            view = self.widget()._repr_mimebundle_(include=include, exclude=exclude) or {}
        except ImportError:  # ipywidgets is a dependency
            view = {}
        bundle.update(view)
        bundle["text/html"] = self.to_html()
        bundle["image/png"] = _base64.b64encode(self.pngs[self.start]).decode("ascii")
        bundle["text/plain"] = repr(self)
        return bundle


__all__ = ["FramePlayer"]
