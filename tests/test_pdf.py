"""`make pdf`: the whole book as one PDF that opens, is complete, and has no raw MyST or TeX.

The PDF is made as `make pdf` makes it (tools/pdf.py: the single-page HTML build, printed by
headless Chromium), from the test site's execution cache: it runs after the site test's build
(the `built_site` fixture) into the same output folder, so no notebook runs twice. It needs
Chromium: without one it is skipped, or fails where NNBOOK_REQUIRE_BROWSER=1 (CI). Its own
marker, `pdf`, lets a run leave it out (`-m "not pdf"`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from pypdf import PdfReader, PdfWriter

import pdf

#: MyST that a rendered page never shows: directives, roles, targets; and TeX left to MathJax.
RAW_MARKUP = re.compile(
    r"```\{|:::\{|\{(cite|doc|ref|numref|prf:ref|eq|math|term)\}`|^\(\w[\w-]*\)=$|\$\$|"
    r"\\begin\{|\\\[|\\\(",
    re.M,
)


def toc_files(root: Path, toc: str = "_toc.yml") -> list[str]:
    data = yaml.safe_load((root / toc).read_text())
    return [data["root"]] + [c["file"] for p in data["parts"] for c in p["chapters"]]


def source_title(path: Path) -> str:
    """A page's title as its Markdown source writes it, markup removed."""
    text = re.sub(r"^(```|~~~).*?^\1", "", path.read_text(), flags=re.M | re.S)
    title = re.search(r"^# (.+)$", text, re.M).group(1)
    return re.sub(r"[`*_]", "", title).strip()


def outline_titles(reader: PdfReader) -> list[tuple[int, str]]:
    found = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title))

    walk(reader.outline, 0)
    return found


# --------------------------------------------------------------------------- the book's PDF
@pytest.fixture(scope="module")
def book_pdf(built_site, root) -> tuple[Path, dict, float]:
    if shutil.which("chromium") is None and not os.environ.get("NNBOOK_CHROMIUM"):
        if os.environ.get("NNBOOK_REQUIRE_BROWSER") == "1":
            pytest.fail("make pdf needs Chromium (NNBOOK_REQUIRE_BROWSER=1), which is missing")
        pytest.skip("no Chromium on this machine: install Debian's `chromium` to test make pdf")
    site_build = built_site.parent  # the site test's _build folder, and its execution cache
    out = site_build / "pdf" / pdf.PDF_NAME
    start = time.monotonic()
    html = pdf.build_singlehtml(root, root / "_toc.yml", out.parent, site_build / ".jupyter_cache")
    result = pdf.print_pdf(html, root / "_toc.yml", out, root=root)
    return out, result, time.monotonic() - start


pytestmark = pytest.mark.pdf


def test_the_pdf_opens_and_is_small_enough(book_pdf, root):
    path, result, seconds = book_pdf
    reader = PdfReader(path)
    size = path.stat().st_size / 2**20
    print(f"\n{path}: {len(reader.pages)} pages, {size:.1f} MB, made in {seconds:.0f} s")
    assert len(reader.pages) > 20
    assert size < pdf.MAX_MEGABYTES, f"{size:.1f} MB is over {pdf.MAX_MEGABYTES} MB"
    config = yaml.safe_load((root / "_config.yml").read_text())
    assert reader.metadata["/Title"] == config["title"]
    assert result["formulas"] > 100, "MathJax typeset (almost) nothing"


def test_every_page_of_the_toc_is_a_section_in_order(book_pdf, root):
    """The bookmarks list each page of _toc.yml (titles from the .md sources), in order."""
    path, _, _ = book_pdf
    reader = PdfReader(path)
    pages = [(d, t) for d, t in outline_titles(reader) if d <= 1]
    titles = [t for _, t in pages]
    expected = [source_title(root / f"{f}.md") for f in toc_files(root)[1:]]
    positions = []
    for title in expected:
        hits = [i for i, t in enumerate(titles) if t.endswith(title)]
        assert hits, f"{title!r} is not a section of the PDF; its sections are {titles}"
        positions.append(hits[0])
    assert positions == sorted(positions), "the pages are not in the order of _toc.yml"
    data = yaml.safe_load((root / "_toc.yml").read_text())
    captions = [p["caption"] for p in data["parts"]]
    assert [t for d, t in pages if d == 0 and t in captions] == captions
    assert titles[0] == "About this book" and titles[-1] == "Bibliography"


def test_no_raw_myst_or_tex_and_every_page_has_text(book_pdf, root):
    path, _, _ = book_pdf
    reader = PdfReader(path)
    problems = []
    text = []
    for number, page in enumerate(reader.pages, 1):
        t = page.extract_text() or ""
        text.append(t)
        for m in RAW_MARKUP.finditer(t):
            context = t[max(0, m.start() - 60) : m.end() + 60]
            problems.append(f"page {number}: {m.group(0)!r} in ...{context!r}")
    assert not problems, "\n".join(problems[:20])
    blank = [n for n, t in enumerate(text, 1) if not t.strip()]
    assert len(blank) <= 2, f"blank pages: {blank}"
    # each source title is printed too (the table of contents and the page itself)
    whole = re.sub(r"\s+", " ", " ".join(text))
    for f in toc_files(root)[1:]:
        title = source_title(root / f"{f}.md")
        assert whole.count(title[:40]) >= 2, f"{title!r} is not printed twice (contents, page)"


def test_figures_are_in_place(book_pdf, built_site, root):
    """The PDF holds at least as many raster images as the site's pages show figures."""
    path, _, _ = book_pdf
    reader = PdfReader(path)
    in_pdf = 0
    for page in reader.pages:
        xobjects = page.get("/Resources", {}).get("/XObject", {})
        in_pdf += sum(1 for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image")
    on_site = 0
    for f in toc_files(root):
        article = BeautifulSoup((built_site / f"{f}.html").read_text(), "html.parser").article
        images = article.select('img[src^="data:image/"], img[src*="_images/"]')
        # a frame player shows one frame at a time; the others are hidden until played
        on_site += sum(
            "display:none" not in (i.get("style") or "").replace(" ", "") for i in images
        )
    assert on_site > 0 and in_pdf >= on_site, f"{in_pdf} images in the PDF, {on_site} on the site"


# --------------------------------------------------------------------------- solutions and the site
def test_every_page_links_to_the_pdf(built_site, root):
    """The sidebar of every page links to book.pdf at the site's root (`make pdf` puts it there)."""
    target = (built_site / pdf.PDF_NAME).resolve()
    for f in toc_files(root):
        page = built_site / f"{f}.html"
        link = BeautifulSoup(page.read_text(), "html.parser").select_one("nav.nnbook-pdf-link a")
        assert link is not None, f"{f}: no link to the PDF"
        assert (page.parent / link["href"]).resolve() == target, f"{f}: {link['href']}"


def _fake_pdf(path: Path, solutions: bool) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({pdf.SOLUTIONS_KEY: "yes" if solutions else "no"})
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


@pytest.mark.parametrize("pdf_solutions", [True, False])
@pytest.mark.parametrize("site_solutions", [True, False])
def test_publish_copies_only_a_matching_pdf(tmp_path, pdf_solutions, site_solutions):
    book = _fake_pdf(tmp_path / "book.pdf", pdf_solutions)
    site = tmp_path / "html"
    (site / "solutions").mkdir(parents=True)
    if site_solutions:
        (site / "solutions" / "ex10_1_xor.html").write_text("<html></html>")
    (site / pdf.PDF_NAME).write_bytes(b"an older copy")
    message = pdf.publish(book, site)
    copied = (site / pdf.PDF_NAME).exists()
    assert copied == (pdf_solutions == site_solutions), message
    if copied:
        assert (site / pdf.PDF_NAME).read_bytes() == book.read_bytes()


def test_publish_without_a_pdf_removes_a_stale_copy(tmp_path):
    site = tmp_path / "html"
    site.mkdir()
    (site / pdf.PDF_NAME).write_bytes(b"stale")
    pdf.publish(tmp_path / "missing.pdf", site)
    assert not (site / pdf.PDF_NAME).exists()


def test_make_pdf_without_solutions_prints_the_toc_without_them(root):
    out = subprocess.run(
        ["make", "-n", "pdf", "SOLUTIONS=0", "BIN=.venv/bin"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    build = next(line for line in out.stdout.splitlines() if "tools/pdf.py build" in line)
    assert "--toc _build/toc-no-solutions.yml" in build
    toc = root / "_build" / "toc-for-test-pdf.yml"
    toc.parent.mkdir(exist_ok=True)
    subprocess.run(
        [sys.executable, "tools/booktool.py", "toc", "--no-solutions", str(toc)],
        cwd=root,
        check=True,
    )
    assert not pdf.has_solutions(toc) and pdf.has_solutions(root / "_toc.yml")
    toc.unlink()
