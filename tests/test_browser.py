"""Open every page of the built site in headless Chromium with the network off.

Asserts that no request failed or left the machine, that math is rendered by MathJax
(no raw `$$` left), and saves a screenshot of each page under `_build/screenshots/`.
Skipped with a clear message where no Chromium exists (CI installs Debian's `chromium`,
and sets NNBOOK_REQUIRE_BROWSER=1 so that a missing browser fails there instead).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from test_site import toc_files

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("site")]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).resolve().parent.parent / "_build" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("NNBOOK_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required here (NNBOOK_REQUIRE_BROWSER=1) but `chromium` is not installed")
        pytest.skip("no Chromium on this machine: install Debian's `chromium` to run the browser test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(built_site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built_site))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_every_page_renders_offline(browser, server, root):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems: list[str] = []

    def route(r):
        if r.request.url.startswith(server) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            problems.append(f"request leaves the machine: {r.request.url}")
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url} ({req.failure})"))
    page.on("response", lambda resp: resp.status >= 400 and problems.append(f"HTTP {resp.status}: {resp.url}"))
    page.on("pageerror", lambda err: problems.append(f"JavaScript error: {err}"))
    pages = toc_files(root)
    math_pages = 0
    for f in pages:
        page.goto(f"{server}/{f}.html", wait_until="load")
        page.wait_for_function("() => !window.MathJax || (window.MathJax.startup && window.MathJax.startup.promise)")
        page.evaluate("() => window.MathJax && window.MathJax.startup.promise")
        text = page.inner_text("article") if page.query_selector("article") else page.inner_text("body")
        assert "$$" not in text, f"{f}: raw $$ left in the page"
        assert "\\[" not in text and "\\begin{" not in text, f"{f}: unrendered LaTeX in the page"
        n_math = page.evaluate("() => document.querySelectorAll('mjx-container').length")
        n_src = page.evaluate("() => document.querySelectorAll('div.math, span.math').length")
        assert n_math >= n_src, f"{f}: {n_src} math elements but only {n_math} rendered"
        math_pages += n_math > 0
        page.screenshot(path=str(SHOTS / (f.replace("/", "__") + ".png")), full_page=False)
    context.close()
    assert not problems, "\n".join(problems)
    assert math_pages >= 1, "no page rendered any math"
