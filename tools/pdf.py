"""`make pdf`: the whole book as one PDF, for reading offline and printing.

How: Jupyter Book builds the book as one HTML page (``--builder singlehtml``, into
``_build/pdf``), reusing the executed outputs of ``make book`` (its jupyter-cache,
``_build/.jupyter_cache``: only a notebook it lacks runs), and headless Chromium prints that page
through playwright once MathJax has typeset every formula. The PDF has a title page, a table of
contents with links (parts, pages, their sections), each page of the table of contents
(``_toc.yml``, or the one without solutions) starting on a new sheet, numbered sheets, the
bibliography last, and bookmarks for the same entries as the table of contents.

Why Chromium rather than LaTeX: the site is the book's reference rendering, and Chromium prints
exactly it (MathJax, the proof and exercise boxes, pandas tables, the widgets' static
fallbacks); it is already the browser test's dependency. Jupyter Book's LaTeX route needs a TeX
distribution (none here; several GB) and renders the notebooks' HTML outputs (tables, players)
poorly or not at all.

    python tools/pdf.py build [--toc _toc.yml] [--output _build/pdf/book.pdf] [--cache DIR]
    python tools/pdf.py publish [--pdf _build/pdf/book.pdf] [--site _build/html]

``publish`` copies the PDF into the built site (where every page's sidebar links to it) when
both have the solutions or neither has, and removes a copy that does not match.

The module is also the Sphinx extension the single-page build loads (see :func:`setup`).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PDF_NAME = "book.pdf"
#: A PDF larger than this is a regression (figures saved at a huge dpi, a runaway output...).
MAX_MEGABYTES = 40
#: Set in the PDF's metadata: whether the solutions are in it (``publish`` checks it).
SOLUTIONS_KEY = "/NNBookSolutions"


# --------------------------------------------------------------------------- 1. the HTML
def toc_pages(toc: Path) -> list[str]:
    """The documents of a Jupyter Book table of contents, in reading order."""
    data = yaml.safe_load(toc.read_text())
    return [data["root"]] + [c["file"] for part in data["parts"] for c in part["chapters"]]


def has_solutions(toc: Path) -> bool:
    return any(page.startswith("solutions/") for page in toc_pages(toc))


def _config_for_pdf(root: Path, dest: Path, cache: Path) -> Path:
    """``_config.yml`` for the single-page build, written to ``dest``.

    This module is added as a Sphinx extension, and the execution cache is ``cache`` (the one
    the site's build fills). Paths in a configuration are relative to its file, so the local
    extensions and the cache become absolute.
    """
    cfg = yaml.safe_load((root / "_config.yml").read_text())
    extensions = cfg.setdefault("sphinx", {}).setdefault("local_extensions", {}) or {}
    extensions = {name: str((root / path).resolve()) for name, path in extensions.items()}
    extensions["pdf"] = str(Path(__file__).resolve().parent)
    cfg["sphinx"]["local_extensions"] = extensions
    cfg.setdefault("execute", {})["cache"] = str(cache.resolve())
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return dest


def build_singlehtml(
    root: Path, toc: Path, path_output: Path, cache: Path, strict: bool = True
) -> Path:
    """Build the book as one HTML page into ``path_output/_build/singlehtml``; return its folder.

    Notebooks are executed through the cache ``cache`` (tools/sphinx_nnbook.py keys it by the
    library's digest): the one the site's build filled (``_build/.jupyter_cache`` for `make
    book`), so only notebooks it lacks run. ``path_output`` is the single-page build's own, so
    that it and the site's build do not re-read each other's pages (Sphinx keeps one
    environment per output folder).
    """
    build = path_output / "_build"
    config = _config_for_pdf(root, path_output / "_config.yml", cache)
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(root),
        "--builder",
        "singlehtml",
        "--toc",
        str(toc),
        "--config",
        str(config),
        "--path-output",
        str(path_output),
        "-n",
        "--keep-going",
    ]
    if strict:
        cmd.append("-W")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # kernels plot inline
    subprocess.run(cmd, cwd=root, env=env, check=True)
    return build / "singlehtml"


def _copy_handlers_to_singlehtml(app) -> None:
    """Let the single-page builder render every node the HTML builder can.

    Sphinx looks up a custom node's visitors under the builder's name ("singlehtml") and only
    when no extension registered any for that name under its format ("html"). sphinx-exercise
    registers some for "singlehtml", so those of myst-nb (hidden code cells) and others, known
    only as "html", are lost and the build stops with "unknown node type". Copy them over.
    """
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for name, pair in handlers.get("html", {}).items():
        single.setdefault(name, pair)


def setup(app):
    app.connect("builder-inited", _copy_handlers_to_singlehtml)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# --------------------------------------------------------------------------- 2. the PDF
#: Page layout for print: the article only, each page of the book on a new sheet, code wrapped,
#: the collapsed plotting code (hide-input cells) left out as on the site.
PRINT_CSS = """
@page { size: A4; margin: 16mm 15mm 16mm 15mm; }
html { font-size: 10pt; }
.headerlink, .skip-link, #pst-back-to-top, details.hide.above-input, .copybtn,
.toggle-details__summary, .nnbook-frameplayer button,
.nnbook-frameplayer input[type=range] { display: none !important; }
.nnbook-print-ancestor, article.bd-article { display: block !important; max-width: none !important;
  width: auto !important; height: auto !important; overflow: visible !important;
  margin: 0 !important; padding: 0 !important; position: static !important; }
pre, .highlight pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
div.cell_output, .output { overflow: visible !important; max-height: none !important; }
img { max-width: 100% !important; break-inside: avoid; }
figure, table, .admonition, div.proof, div.cell_input { break-inside: avoid-page; }
h1, h2, h3, h4 { break-after: avoid-page; }
.bd-article h1.nnbook-h1 { display: block !important; }
.nnbook-newsheet { break-before: page; }
.nnbook-title { text-align: center; padding-top: 28vh; }
.nnbook-title h1 { font-size: 2.6rem; }
.nnbook-title p { font-size: 1.2rem; }
.nnbook-toc ol { list-style: none; padding-left: 0; margin: 0; }
.nnbook-toc li { margin: 0.1em 0; }
.nnbook-toc .level-0 { font-weight: bold; margin-top: 0.8em; }
.nnbook-toc .level-1 { margin-left: 1.2em; }
.nnbook-toc .level-2 { margin-left: 2.6em; font-size: 0.9em; }
"""

#: Run in the page before printing. Keeps only the article; adds a title page, part headings and
#: the table of contents (parts, pages and their sections, with links); starts every page of
#: the book on a new sheet; moves the bibliography to the end. Returns the table of contents,
#: ``[{level, title, id}]``, from which the PDF's bookmarks are made.
FRONT_MATTER_JS = """
({title, author, stamp, parts}) => {
  const article = document.querySelector('article.bd-article');
  for (let el = article; el && el !== document.body; el = el.parentElement) {
    for (const sib of [...el.parentElement.children]) {
      if (sib !== el && sib.tagName !== 'SCRIPT') sib.remove();
    }
    el.parentElement.classList.add('nnbook-print-ancestor');
  }
  // A heading's text, with each formula as its TeX source (MathJax's own text is not readable).
  const text = (h) => {
    const copy = h.cloneNode(true);
    copy.querySelectorAll('.headerlink').forEach((a) => a.remove());
    const items = window.MathJax && MathJax.startup.document.getMathItemsWithin
      ? MathJax.startup.document.getMathItemsWithin(h) : [];
    const mjx = copy.querySelectorAll('mjx-container');
    mjx.forEach((m, i) => m.replaceWith(items[i] ? items[i].math : ''));
    return copy.textContent.replace(/\\s+/g, ' ').trim();
  };
  const esc = (s) => s.replace(/[&<>"]/g,
    (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]));
  const entries = [];
  const addPage = (span) => {
    let sec = span.nextElementSibling;
    while (sec && sec.tagName !== 'SECTION') sec = sec.nextElementSibling;
    if (!sec) return null;
    const h = sec.querySelector(':scope > h1, :scope > h2');
    entries.push({level: 1, title: h ? text(h) : span.id, id: span.id});
    for (const sub of sec.querySelectorAll(':scope > section[id]')) {
      const sh = sub.querySelector(':scope > h2, :scope > h3');
      if (sh) entries.push({level: 2, title: text(sh), id: sub.id});
    }
    return sec;
  };
  const intro = article.querySelector('section');
  for (const part of parts) {
    const spans = part.pages.map((p) => document.getElementById('document-' + p)).filter((s) => s);
    if (!spans.length) continue;
    const h = document.createElement('h1');
    h.className = 'nnbook-h1 nnbook-part nnbook-newsheet';
    h.id = 'part-' + part.caption.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    h.textContent = part.caption;
    spans[0].before(h);
    entries.push({level: 0, title: part.caption, id: h.id});
    spans.forEach((span, i) => {
      const sec = addPage(span);
      if (sec && i > 0) sec.classList.add('nnbook-newsheet');
    });
  }
  const bib = [...article.querySelectorAll('section[id]')].find((s) => {
    const h = s.querySelector(':scope > h2');
    return h && text(h).startsWith('Bibliography');
  });
  if (bib) {
    bib.classList.add('nnbook-newsheet');
    article.append(bib);
    entries.push({level: 0, title: 'Bibliography', id: bib.id});
  }
  // The landing page, first: a preface without its title (the title page shows it).
  if (intro) {
    intro.classList.add('nnbook-newsheet');
    intro.id = intro.id || 'nnbook-intro';
    entries.unshift({level: 0, title: 'About this book', id: intro.id});
  }
  const toc = entries.map((e) =>
    `<li class="level-${e.level}"><a href="#${encodeURI(e.id)}">${esc(e.title)}</a></li>`).join('');
  const front = document.createElement('div');
  front.innerHTML =
    `<div class="nnbook-title"><h1 class="nnbook-h1">${esc(title)}</h1>` +
    `<p>${esc(author)}</p><p>${esc(stamp)}</p></div>` +
    `<nav class="nnbook-toc nnbook-newsheet">` +
    `<h1 class="nnbook-h1" id="nnbook-contents">Contents</h1>` +
    `<ol>${toc}</ol></nav>`;
  article.prepend(front);
  return entries;
}
"""

#: Resolves once MathJax (3) has loaded and typeset the whole page; the number of formulas.
WAIT_FOR_MATHJAX_JS = """
async () => {
  if (!window.MathJax) return 0;
  for (let i = 0; i < 600 && !(MathJax.startup && MathJax.startup.promise); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await MathJax.startup.promise;
  if (MathJax.typesetPromise) await MathJax.typesetPromise();
  return document.querySelectorAll('mjx-container').length;
}
"""

#: What is left unrendered when MathJax failed: TeX delimiters in the article's text.
UNRENDERED_JS = """
() => {
  const t = document.querySelector('article.bd-article').innerText;
  return ['$$', '\\\\[', '\\\\(', '\\\\begin{'].filter((s) => t.includes(s));
}
"""

FOOTER = (
    '<div style="font-size:8px; width:100%; text-align:center; color:#555;">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)


def chromium() -> str:
    """The Chromium to print with: $NNBOOK_CHROMIUM, else Debian's `chromium` on the PATH."""
    found = os.environ.get("NNBOOK_CHROMIUM") or (
        shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        raise SystemExit(
            "make pdf prints with headless Chromium, which is not installed. Install it, e.g.\n"
            "  sudo apt-get install chromium        (Debian, Ubuntu)\n"
            "or point NNBOOK_CHROMIUM at a Chromium or Chrome executable."
        )
    return found


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) while in the block; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def toc_parts(toc: Path) -> list[dict]:
    """``[{"caption": ..., "pages": [...]}, ...]`` of a table of contents (the root page apart)."""
    data = yaml.safe_load(toc.read_text())
    return [
        {"caption": part.get("caption", ""), "pages": [c["file"] for c in part["chapters"]]}
        for part in data["parts"]
    ]


def print_pdf(html_dir: Path, toc: Path, output: Path, root: Path = ROOT) -> dict:
    """Print the single-page build in ``html_dir`` to ``output`` (bookmarks, metadata added).

    Returns ``{"entries": the table of contents, "formulas": how many MathJax typeset}``.
    Raises RuntimeError if the page has a JavaScript error or TeX that MathJax left raw.
    """
    from playwright.sync_api import sync_playwright

    cfg = yaml.safe_load((root / "_config.yml").read_text())
    title, author = str(cfg.get("title", "")), str(cfg.get("author", ""))
    solutions = has_solutions(toc)
    stamp = time.strftime("%d %B %Y") + (", with the solutions" if solutions else "")
    index = "intro.html" if (html_dir / "intro.html").exists() else "index.html"
    output.parent.mkdir(parents=True, exist_ok=True)
    raw = output.with_suffix(".chromium.pdf")
    errors: list[str] = []
    with serve(html_dir) as base, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        try:
            page = browser.new_page()
            page.on("pageerror", lambda err: errors.append(f"JavaScript error: {err}"))
            page.goto(f"{base}/{index}", wait_until="load", timeout=600_000)
            formulas = page.evaluate(WAIT_FOR_MATHJAX_JS)
            raw_tex = page.evaluate(UNRENDERED_JS)
            if raw_tex:
                errors.append(f"MathJax left TeX unrendered ({', '.join(raw_tex)})")
            if errors:
                raise RuntimeError("; ".join(errors))
            page.add_style_tag(content=PRINT_CSS)
            entries = page.evaluate(
                FRONT_MATTER_JS,
                {"title": title, "author": author, "stamp": stamp, "parts": toc_parts(toc)},
            )
            page.emulate_media(media="print")
            page.pdf(
                path=str(raw),
                prefer_css_page_size=True,
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=FOOTER,
            )
        finally:
            browser.close()
    finish(raw, output, entries, title=title, author=author, solutions=solutions)
    raw.unlink()
    return {"entries": entries, "formulas": formulas}


def finish(raw: Path, output: Path, entries: list[dict], **meta) -> None:
    """Add bookmarks (the table of contents, at the pages Chromium put them) and metadata.

    Chromium writes a named destination for every element a link points to; the table of
    contents links to each of its entries, so each has one.
    """
    from pypdf import PdfReader, PdfWriter

    # Chromium's trailer undercounts its objects; pypdf says so at every read, harmlessly.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(raw)
    writer = PdfWriter(clone_from=reader)
    dests = reader.named_destinations
    parents: dict[int, object] = {}
    for e in entries:
        dest = dests.get("/" + e["id"]) or dests.get(e["id"])
        if dest is None:
            continue
        page = reader.get_destination_page_number(dest)
        parent = parents.get(e["level"] - 1) if e["level"] > 0 else None
        item = writer.add_outline_item(e["title"], page, parent=parent)
        parents[e["level"]] = item
        for deeper in [k for k in parents if k > e["level"]]:
            del parents[deeper]
    writer.page_mode = "/UseOutlines"
    writer.add_metadata(
        {
            "/Title": meta["title"],
            "/Author": meta["author"],
            "/Subject": "The book as one PDF, printed from its website by `make pdf`",
            SOLUTIONS_KEY: "yes" if meta["solutions"] else "no",
        }
    )
    writer.compress_identical_objects(remove_orphans=True)
    with open(output, "wb") as fh:
        writer.write(fh)


# --------------------------------------------------------------------------- 3. the site
def pdf_has_solutions(pdf: Path) -> bool | None:
    from pypdf import PdfReader

    value = (PdfReader(pdf).metadata or {}).get(SOLUTIONS_KEY)
    return None if value is None else value == "yes"


def publish(pdf: Path, site: Path) -> str:
    """Copy ``pdf`` into ``site`` when both have the solutions or neither has; say what happened.

    A PDF with the solutions never goes into a site built without them (`make book
    SOLUTIONS=0`), nor one without them into a full site; a copy already there that no longer
    matches is removed.
    """
    if not site.is_dir():
        return f"no site in {site}: build it with `make book`, then `make pdf` copies the PDF in"
    target = site / PDF_NAME
    site_solutions = any((site / "solutions").glob("*.html"))
    if not pdf.exists():
        target.unlink(missing_ok=True)
        return f"the site links to {PDF_NAME}, which `make pdf` writes"
    if pdf_has_solutions(pdf) != site_solutions:
        target.unlink(missing_ok=True)
        which = "with" if site_solutions else "without"
        return (
            f"{pdf} does not match the site (built {which} solutions): not copied; run `make pdf`"
        )
    shutil.copy2(pdf, target)
    built = time.strftime("%d %B %Y %H:%M", time.localtime(pdf.stat().st_mtime))
    return f"copied {pdf} (printed {built}) into the site as {target}"


# --------------------------------------------------------------------------- the command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the single-page HTML and print it to a PDF")
    b.add_argument("--toc", type=Path, default=ROOT / "_toc.yml")
    b.add_argument("--output", type=Path, default=ROOT / "_build" / "pdf" / PDF_NAME)
    b.add_argument(
        "--cache",
        type=Path,
        default=ROOT / "_build" / ".jupyter_cache",
        help="the execution cache to use (default: the one `make book` fills)",
    )
    s = sub.add_parser("publish", help="copy the PDF into the built site if it matches it")
    s.add_argument("--pdf", type=Path, default=ROOT / "_build" / "pdf" / PDF_NAME)
    s.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    args = parser.parse_args(argv)

    if args.command == "publish":
        print(f"[pdf] {publish(args.pdf, args.site)}")
        return 0
    chromium()  # before the build: without a browser to print with, say so at once
    start = time.monotonic()
    try:
        html = build_singlehtml(ROOT, args.toc.resolve(), args.output.parent.resolve(), args.cache)
    except subprocess.CalledProcessError:
        print("[pdf] the single-page build failed (Jupyter Book's messages above say why)")
        return 1
    built = time.monotonic()
    print(f"[pdf] single-page HTML built in {built - start:.0f} s; printing it with Chromium")
    try:
        result = print_pdf(html, args.toc.resolve(), args.output)
    except RuntimeError as err:
        print(f"[pdf] not printed: {err}")
        return 1
    size = args.output.stat().st_size / 2**20
    print(
        f"[pdf] wrote {args.output} ({size:.1f} MB, {len(result['entries'])} bookmarks, "
        f"{result['formulas']} formulas) in {time.monotonic() - built:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
