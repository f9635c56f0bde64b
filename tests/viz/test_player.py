"""Tests of nnbook.viz.player.FramePlayer: a slider over pre-rendered figures, as a widget
in Jupyter and as self-contained HTML on the site."""

from __future__ import annotations

import base64
import os
import re
import shutil

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from nnbook.viz import plots
from nnbook.viz.player import FramePlayer


def _frames(n=4):
    figs = []
    for k in range(n):
        fig, ax = plots.figure()
        ax.plot([0, 1], [0, k + 1])
        ax.set_title(f"frame {k}")
        figs.append(fig)
    return figs


def test_frame_player_html_is_self_contained():
    player = FramePlayer(_frames(4), [1, 2, 4, 8], label="M", start=1)
    html = player.to_html()
    imgs = re.findall(r"<img [^>]*>", html)
    assert len(imgs) == 4
    srcs = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(srcs) == 4 and len(set(srcs)) == 4
    assert base64.b64decode(srcs[2]) == player.pngs[2] and player.pngs[2].startswith(b"\x89PNG")
    assert all(
        src.startswith("data:image/png;base64,") for src in re.findall(r'src="([^"]*)"', html)
    )
    markup = re.sub(
        r"data:image/png;base64,[A-Za-z0-9+/=]+", "DATA", html
    )  # drop the image payloads
    assert "http" not in markup and "//" not in markup and "url(" not in markup
    assert "<script" not in markup  # the only JavaScript is the inline oninput handler
    assert 'type="range"' in html and 'max="3"' in html and 'value="1"' in html
    # only the start frame is visible
    assert [("display:none" in tag) for tag in imgs] == [True, False, True, True]


def test_frame_player_mimebundle_has_widget_and_static_views():
    player = FramePlayer(_frames(3), ["a", "b", "c"], label="M")
    bundle = player._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert (
        bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == player.widget().model_id
    )
    assert bundle["text/html"] == player.to_html()
    assert base64.b64decode(bundle["image/png"]) == player.pngs[0]
    assert "FramePlayer" in bundle["text/plain"]


def test_frame_player_widget_swaps_the_image():
    player = FramePlayer(_frames(3), [10, 20, 30], label="M")
    view = player.widget()
    slider, image = view.children
    assert image.value == player.pngs[0]
    slider.value = 2
    assert image.value == player.pngs[2]
    assert player.widget() is view


def test_frame_player_closes_figures_and_from_function():
    before = len(plt.get_fignums())
    player = FramePlayer.from_function(lambda v: _frames(1)[0], [1, 2], label="v")
    assert len(player) == 2 and len(plt.get_fignums()) == before


def test_frame_player_bad_input():
    with pytest.raises(ValueError, match="at least one frame"):
        FramePlayer([], [], "M")
    with pytest.raises(ValueError, match="one value per frame"):
        FramePlayer(_frames(2), [1], "M")
    with pytest.raises(ValueError, match="start"):
        FramePlayer(_frames(2), [1, 2], "M", start=2)
    with pytest.raises(TypeError, match="Figure"):
        FramePlayer(["not a figure"], [1], "M")
    with pytest.raises(ValueError, match="PNG"):
        FramePlayer([b"GIF89a"], [1], "M")
    plt.close("all")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("NNBOOK_REQUIRE_BROWSER") != "1", reason="no Chromium"
)
def test_frame_player_slider_works_in_a_browser_offline():
    from playwright.sync_api import sync_playwright

    player = FramePlayer(_frames(3), [4, 16, 64], label="M")
    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.on("request", lambda r: r.url.startswith("data:") or requests.append(r.url))
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content(f"<html><body>{player.to_html()}</body></html>")
        visible = "() => [...document.querySelectorAll('img')].map(i => i.style.display !== 'none')"
        assert page.evaluate(visible) == [True, False, False]
        page.locator("input[type=range]").fill("2")  # sets the value and fires 'input'
        assert page.evaluate(visible) == [False, False, True]
        assert page.locator("output").inner_text() == "64"
        browser.close()
    assert not errors and not requests
