"""The site builds with zero warnings, and its HTML has what readers and instructors rely on.

The last test opens every page in headless Chromium with the network off: no request may fail
or leave the machine, math must be rendered by MathJax (no raw `$$` left), and a screenshot of
each page is saved under `_build/screenshots/`. It is skipped with a clear message where no
Chromium exists (CI installs Debian's `chromium`, and sets NNBOOK_REQUIRE_BROWSER=1 so that a
missing browser fails there instead).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from bs4 import BeautifulSoup

import booktool

pytestmark = [pytest.mark.site]

# All tests of the built site live in this one module: `make test` runs pytest with
# `--dist loadfile`, so one worker builds the site once and the other runs the notebooks.


def toc_files(root: Path, toc: str = "_toc.yml") -> list[str]:
    data = yaml.safe_load((root / toc).read_text())
    return [data["root"]] + [c["file"] for p in data["parts"] for c in p["chapters"]]


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_every_toc_page_was_built(built_site, root):
    for f in toc_files(root):
        assert (built_site / f"{f}.html").exists(), f"{f}.html missing from the site"


def test_launch_buttons_point_at_committed_notebooks(built_site, root):
    repo = booktool.load_config(root)["repository"]
    owner_repo = repo["url"].rstrip("/").split("github.com/")[1]
    tracked = set(
        subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.split()
    )
    for md in booktool.notebook_sources(root):
        rel = md.relative_to(root).with_suffix("")
        page = soup(built_site / f"{rel.as_posix()}.html")
        hrefs = [unquote(a.get("href", "")) for a in page.find_all("a")]
        colab = [h for h in hrefs if h.startswith("https://colab.research.google.com/")]
        binder = [h for h in hrefs if h.startswith("https://mybinder.org/")]
        assert colab and binder, f"{rel}: no Colab or Binder launch button"
        for link in colab + binder:
            m = re.search(r"(chapters|exercises|solutions)/[\w.-]+\.(ipynb|md)", link)
            assert m, f"{rel}: cannot find the notebook path in {link}"
            target = m.group(0)
            assert target.endswith(".ipynb"), f"{rel}: launch link opens {target}, not an .ipynb"
            assert (root / target).exists(), f"{rel}: launch link points at missing {target}"
            if tracked:
                assert target in tracked, f"{rel}: {target} exists but is not committed"
            assert owner_repo in link and repo["branch"] in link, (
                f"{rel}: {link} is not the configured repository"
            )


def test_download_buttons_exist(built_site, root):
    page = soup(built_site / "chapters" / "ch01_universal_approximation.html")
    downloads = [
        a.get("href", "") for a in page.select("a[download], .dropdown-download-buttons a")
    ]
    assert any(h.endswith(".ipynb") or h.endswith(".md") for h in downloads), downloads


def test_proof_boxes_are_numbered(built_site, root):
    boxes = 0
    for f in toc_files(root):
        for box in soup(built_site / f"{f}.html").select("div.proof"):
            if set(box.get("class", [])) <= {"proof", "admonition"}:
                continue  # a prf:proof body, which is never numbered
            title = box.select_one(".admonition-title")
            assert title is not None and re.search(r"\d", title.get_text()), (
                f"{f}: unnumbered box {title}"
            )
            boxes += 1
    assert boxes > 0, "no prf: boxes found anywhere"


def test_exercise_pages_carry_their_checks(built_site, root):
    for f in toc_files(root):
        if not f.startswith("exercises/"):
            continue
        page = soup(built_site / f"{f}.html")
        code = "\n".join(c.get_text() for c in page.select("div.cell_input, div.highlight"))
        assert re.search(r"checks\.\w+\(", code), f"{f}: no check calls"
        assert "NotImplementedError" in code, f"{f}: no stubs"
        assert page.select("div.exercise"), f"{f}: no exercise boxes"
        outputs = page.get_text()
        assert "not attempted yet" in outputs, f"{f}: the checks did not report on the stubs"


def test_no_page_loads_from_a_cdn(built_site):
    for html in built_site.rglob("*.html"):
        page = soup(html)
        for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
            for el in page.find_all(tag):
                url = el.get(attr) or ""
                if tag == "link" and not set(el.get("rel", [])) & {
                    "stylesheet",
                    "preload",
                    "modulepreload",
                    "icon",
                }:
                    continue
                assert not re.match(r"(https?:)?//", url), f"{html.name}: {tag} loads {url}"


def test_math_is_served_locally(built_site):
    page = soup(built_site / "chapters" / "ch01_universal_approximation.html")
    srcs = [s.get("src", "") for s in page.find_all("script")]
    assert any("mathjax" in s.lower() and not s.startswith("http") for s in srcs), srcs


def test_build_without_solutions(tmp_path, root):
    """`make book SOLUTIONS=0`: no solution pages, no warnings (built here without execution)."""
    toc = tmp_path / "toc.yml"
    toc.write_text(booktool.toc_without_solutions(root))
    cfg = yaml.safe_load((root / "_config.yml").read_text())
    cfg["execute"]["execute_notebooks"] = "off"
    # paths in the config are relative to the config file, which now lives in tmp_path
    cfg["sphinx"]["local_extensions"] = {
        name: str(root / path) for name, path in cfg["sphinx"]["local_extensions"].items()
    }
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(root),
        "--toc",
        str(toc),
        "--config",
        str(config),
        "--path-output",
        str(out),
        "-W",
        "-n",
        "--keep-going",
    ]
    proc = subprocess.run(
        cmd,
        cwd=root,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "MPLBACKEND"},
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    html = out / "_build" / "html"
    assert list((html / "exercises").glob("*.html")), "the exercise pages are missing"
    assert not (html / "solutions").exists() or not list((html / "solutions").glob("*.html"))
    for page in html.rglob("*.html"):
        assert "solutions/" not in page.read_text(), f"{page.name} links to a solution page"


def test_chapter_figures_were_rendered(built_site, root):
    """Each chapter shows its figures (a kernel on a non-inline backend would silently drop them)."""
    for f in toc_files(root):
        if f.startswith("chapters/"):
            source = (root / f"{f}.md").read_text()
            expected = source.count("plt.show()")
            imgs = [
                i
                for i in soup(built_site / f"{f}.html").find_all("img")
                if "_images/" in (i.get("src") or "")
            ]
            assert len(imgs) >= min(expected, 1), (
                f"{f}: {expected} plt.show() calls but {len(imgs)} images"
            )


def test_make_book_without_solutions_starts_from_an_empty_site(root):
    """An earlier full build must not leave solution pages behind in _build/html."""
    out = subprocess.run(
        ["make", "-n", "book", "SOLUTIONS=0", "BIN=.venv/bin"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    clean = next(i for i, line in enumerate(lines) if "rm -rf _build/html" in line)
    build = next(i for i, line in enumerate(lines) if "jupyter-book build" in line)
    assert clean < build and "--toc _build/toc-no-solutions.yml" in lines[build]


# --------------------------------------------------------------------------- headless Chromium
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).resolve().parent.parent / "_build" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("NNBOOK_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "Chromium is required here (NNBOOK_REQUIRE_BROWSER=1) but `chromium` is not installed"
            )
        pytest.skip(
            "no Chromium on this machine: install Debian's `chromium` to run the browser test"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            ],
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


@pytest.mark.browser
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
    page.on(
        "requestfailed", lambda req: problems.append(f"request failed: {req.url} ({req.failure})")
    )
    page.on(
        "response",
        lambda resp: resp.status >= 400 and problems.append(f"HTTP {resp.status}: {resp.url}"),
    )
    page.on("pageerror", lambda err: problems.append(f"JavaScript error: {err}"))
    pages = toc_files(root)
    math_pages = 0
    for f in pages:
        page.goto(f"{server}/{f}.html", wait_until="load")
        page.wait_for_function(
            "() => !window.MathJax || (window.MathJax.startup && window.MathJax.startup.promise)"
        )
        page.evaluate("() => window.MathJax && window.MathJax.startup.promise")
        text = (
            page.inner_text("article")
            if page.query_selector("article")
            else page.inner_text("body")
        )
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
