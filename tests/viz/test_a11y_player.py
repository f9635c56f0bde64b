"""Accessibility of nnbook.viz.player.FramePlayer: every frame is described, and both views
(the static HTML player of the site and the live ipywidgets view in Jupyter) work with the
keyboard alone, with a visible focus."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from bs4 import BeautifulSoup

from nnbook.viz import plots
from nnbook.viz.player import FramePlayer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("NNBOOK_REQUIRE_BROWSER") != "1", reason="no Chromium"
)
VALUES = [4, 16, 64]


def describe(M):
    return f"Fit of the network with M = {M} hidden units to the target curve"


def _frame(M):
    fig, ax = plots.figure()
    ax.plot([0, 1], [0, M])
    return fig


@pytest.fixture
def player():
    return FramePlayer.from_function(_frame, VALUES, label="M", alt=describe)


# --------------------------------------------------------------------------- alt text
def test_alt_from_a_function_or_one_string_per_frame():
    by_function = FramePlayer.from_function(_frame, VALUES, label="M", alt=describe)
    assert by_function.alts == [describe(M) for M in VALUES]
    texts = [f"Frame number {k} of the three frames, a straight line" for k in range(3)]
    by_list = FramePlayer([_frame(M) for M in VALUES], VALUES, "M", alt=texts)
    assert by_list.alts == texts
    plain = FramePlayer([_frame(M) for M in VALUES], VALUES, "M")
    assert plain.alts == ["M = 4", "M = 16", "M = 64"]  # flagged by the site's alt-text test


def test_bad_alt_is_refused():
    frames = [_frame(M) for M in VALUES]
    with pytest.raises(ValueError, match="one alt text per frame"):
        FramePlayer(frames, VALUES, "M", alt=["a b c d e f g"] * 2, close=False)
    with pytest.raises(TypeError, match="alt"):
        FramePlayer(
            frames, VALUES, "M", alt="one string for every frame is not enough", close=False
        )
    with pytest.raises(ValueError, match="at least six words"):
        FramePlayer(frames, VALUES, "M", alt=lambda M: f"M = {M}", close=False)
    with pytest.raises(ValueError, match="at least six words"):
        FramePlayer(frames, VALUES, "M", alt=lambda M: f"frame showing the fit {M}.png")
    plt.close("all")


def test_static_player_markup_is_labelled(player):
    page = BeautifulSoup(player.to_html(), "html.parser")
    imgs = page.find_all("img")
    assert [i["alt"] for i in imgs] == [describe(M) for M in VALUES]
    slider = page.find("input", type="range")
    label = page.find("label", attrs={"for": slider["id"]})
    assert label is not None and label.get_text(strip=True) == "M"
    assert slider["aria-valuetext"] == "M = 4"
    buttons = page.find_all("button")
    assert [b.get_text(" ", strip=True) for b in buttons] == ["◀ Previous", "Next ▶"]
    assert all(b["type"] == "button" and b["aria-controls"] == slider["id"] for b in buttons)
    live = page.find(attrs={"aria-live": "polite"})
    assert live is not None and live.find("output").get_text() == "4"
    group = page.find("div", class_="nnbook-frameplayer")
    assert group["role"] == "group" and "M" in group["aria-label"]


def test_two_players_have_distinct_ids(player):
    other = FramePlayer.from_function(_frame, [1, 2], label="M", alt=describe)
    ids = [BeautifulSoup(p.to_html(), "html.parser").find("input")["id"] for p in (player, other)]
    assert ids[0] != ids[1]
    assert ids[0] == BeautifulSoup(player.to_html(), "html.parser").find("input")["id"]


def test_live_image_is_named_by_the_frame_description(player):
    slider, image = player.widget().children
    assert image.tooltip == describe(4) and image.description == ""
    slider.value = 2
    assert image.tooltip == describe(64) and image.value == player.pngs[2]


# --------------------------------------------------------------------------- static view, keyboard
FOCUS_STYLE = """() => { const e = document.activeElement, s = getComputedStyle(e);
  return {tag: e.tagName, text: e.textContent.trim(), type: e.type || '',
          style: s.outlineStyle, width: parseFloat(s.outlineWidth),
          visible: e.matches(':focus-visible')}; }"""
SHOWN = """() => { const imgs = [...document.querySelectorAll('.nnbook-frameplayer img')];
  const k = imgs.findIndex(i => getComputedStyle(i).display !== 'none');
  return {k: k, n: imgs.filter(i => getComputedStyle(i).display !== 'none').length,
          alt: imgs[k].alt, output: document.querySelector('output').textContent,
          valuetext: document.querySelector('input[type=range]').getAttribute('aria-valuetext')};
}"""


def assert_focus_ring(page, tag):
    focus = page.evaluate(FOCUS_STYLE)
    assert focus["tag"] == tag, focus
    assert focus["visible"] and focus["style"] != "none" and focus["width"] > 0, focus
    return focus


def assert_shows(page, k):
    shown = page.evaluate(SHOWN)
    assert shown == {
        "k": k,
        "n": 1,
        "alt": describe(VALUES[k]),
        "output": str(VALUES[k]),
        "valuetext": f"M = {VALUES[k]}",
    }


def drive_player_with_keyboard(page, start=0):
    """Tab into the player, then move through the frames with its keys only; assert each step.

    ``page`` shows a FramePlayer over :data:`VALUES` whose start frame is ``start`` and whose
    alt texts are :func:`describe`; the sequential focus starts just before the player.
    """
    assert_shows(page, start)
    page.keyboard.press("Tab")
    assert_focus_ring(page, "BUTTON")["text"].endswith("Previous")
    page.keyboard.press("Tab")
    assert_focus_ring(page, "INPUT")
    page.keyboard.press("Home")
    assert_shows(page, 0)
    page.keyboard.press("ArrowRight")
    assert_shows(page, 1)
    page.keyboard.press("End")
    assert_shows(page, 2)
    page.keyboard.press("ArrowLeft")
    assert_shows(page, 1)
    page.keyboard.press("Tab")
    assert_focus_ring(page, "BUTTON")["text"].startswith("Next")
    page.keyboard.press("Enter")
    assert_shows(page, 2)
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert_focus_ring(page, "BUTTON")["text"].endswith("Previous")
    page.keyboard.press("Space")
    assert_shows(page, 1)
    page.keyboard.press("Enter")
    assert_shows(page, 0)


@pytest.mark.browser
@needs_browser
def test_static_player_works_with_the_keyboard_alone(player):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content(f"<html><body><p>Before</p>{player.to_html()}</body></html>")
        drive_player_with_keyboard(page)
        browser.close()
    assert not errors


# --------------------------------------------------------------------------- live view, JupyterLab
LIVE_CELL = """\
import matplotlib
matplotlib.use("Agg")
import sys
sys.path.insert(0, {tests!r})
from test_a11y_player import VALUES, _frame, describe
from nnbook.viz.player import FramePlayer
FramePlayer.from_function(_frame, VALUES, label="M", alt=describe)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server (no token, loopback only) over a folder with one notebook."""
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed")
    import nbformat

    root = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook()
    here = os.path.dirname(os.path.abspath(__file__))
    nb.cells = [nbformat.v4.new_code_cell(LIVE_CELL.format(tests=here))]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / "player.ipynb")
    port = _free_port()
    cmd = [
        os.path.join(os.path.dirname(sys.executable), "jupyter-lab"),
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        "--ServerApp.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / ".config")}
    log = open(root / "lab.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"JupyterLab exited; log:\n{(root / 'lab.log').read_text()}")
                time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not start; log:\n{(root / 'lab.log').read_text()}")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.mark.browser
@needs_browser
def test_live_player_works_with_the_keyboard_alone(jupyterlab):
    """In JupyterLab the player is an ipywidgets SelectionSlider (noUiSlider) above an Image:
    Tab reaches the slider's handle (role=slider), whose focus is shown by its fill colour;
    arrow keys, Home and End change the frame; the image is named by the frame's alt text."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{jupyterlab}/lab/tree/player.ipynb?reset", wait_until="load")
        editor = page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first
        editor.wait_for(timeout=120_000)
        # the status bar says "Python 3 (ipykernel) | Idle" once the kernel is connected
        page.get_by_text(re.compile(r"\| Idle$")).first.wait_for(timeout=120_000)
        editor.click()
        page.keyboard.press("Shift+Enter")
        image = page.locator(".jp-OutputArea-output img.widget-image")
        try:
            image.wait_for(timeout=120_000)
        except Exception as e:
            notebook = page.locator(".jp-Notebook").inner_text()[-3000:]
            raise AssertionError(f"no player in the cell's output:\n{notebook}") from e
        handle = page.locator(".jp-OutputArea-output [role=slider]")

        def state():
            return {
                "title": image.get_attribute("title"),
                "readout": page.locator(".jp-OutputArea-output .widget-readout").inner_text(),
            }

        assert state() == {"title": describe(4), "readout": "4"}
        unfocused = handle.evaluate("e => getComputedStyle(e).backgroundColor")
        page.locator(".jp-OutputArea-output .widget-label").click()  # nothing focusable
        for _ in range(8):  # past the cell's toolbar buttons, if any
            page.keyboard.press("Tab")
            if handle.evaluate("e => e === document.activeElement"):
                break
        assert handle.evaluate("e => e === document.activeElement"), "Tab missed the slider"
        focused = handle.evaluate("e => getComputedStyle(e).backgroundColor")
        assert focused != unfocused  # the handle fills with the accent colour when focused
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "t => document.querySelector('img.widget-image').title === t",
            arg=describe(16),
        )
        assert state() == {"title": describe(16), "readout": "16"}
        page.keyboard.press("End")
        page.wait_for_function(
            "t => document.querySelector('img.widget-image').title === t",
            arg=describe(64),
        )
        page.keyboard.press("Home")
        page.wait_for_function(
            "t => document.querySelector('img.widget-image').title === t", arg=describe(4)
        )
        assert state() == {"title": describe(4), "readout": "4"}
        errors = page.locator(".jupyter-widgets-error-widget").count()
        browser.close()
    assert errors == 0
