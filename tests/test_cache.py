"""The author loop: executed outputs are cached, keyed by the code AND by the library and the pins.

The build tests use a tiny book in tmp_path (its own ``lib/`` and two small notebooks, each
printing a fresh random id, so that the HTML shows whether a notebook ran again or came from the
cache) and the book's real extension, ``tools/sphinx_nnbook.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import sphinx_nnbook as ext

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- the cache key
def _lib(tmp_path: Path) -> Path:
    (tmp_path / "lib" / "pkg").mkdir(parents=True)
    (tmp_path / "lib" / "pkg" / "core.py").write_text("VALUE = 1\n")
    (tmp_path / "requirements.txt").write_text("numpy==2.4.6\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    return tmp_path


@pytest.mark.parametrize(
    "change",
    [
        lambda r: (r / "lib" / "pkg" / "core.py").write_text("VALUE = 2\n"),
        lambda r: (r / "lib" / "pkg" / "new.py").write_text(""),
        lambda r: (r / "lib" / "pkg" / "core.py").rename(r / "lib" / "pkg" / "moved.py"),
        lambda r: (r / "lib" / "data.csv").write_text("a,b\n"),
        lambda r: (r / "requirements.txt").write_text("numpy==2.4.7\n"),
        lambda r: (r / "pyproject.toml").write_text("[project]\nname = 'y'\n"),
    ],
    ids=["edit", "add", "rename", "data-file", "pins", "pyproject"],
)
def test_the_digest_changes_with_the_library_and_the_pins(tmp_path, change):
    root = _lib(tmp_path)
    before = ext.environment_digest(root)
    assert before == ext.environment_digest(root)  # deterministic
    change(root)
    assert ext.environment_digest(root) != before


def test_the_digest_ignores_build_artefacts(tmp_path):
    root = _lib(tmp_path)
    before = ext.environment_digest(root)
    (root / "lib" / "pkg" / "__pycache__").mkdir()
    (root / "lib" / "pkg" / "__pycache__" / "core.cpython-311.pyc").write_bytes(b"\0")
    (root / "lib" / "pkg.egg-info").mkdir()
    (root / "lib" / "pkg.egg-info" / "SOURCES.txt").write_text("x")
    (root / "README.md").write_text("prose")  # outside lib/: not part of the key
    assert ext.environment_digest(root) == before


def test_the_cache_of_another_digest_is_pruned(tmp_path):
    base = tmp_path / ".jupyter_cache"
    old, other = base / ("a" * ext.DIGEST_LENGTH), base / "keep-me"
    old.mkdir(parents=True)
    other.mkdir()
    path = ext.cache_path(base, "b" * ext.DIGEST_LENGTH)
    assert path == base / ("b" * ext.DIGEST_LENGTH)
    assert not old.exists() and other.exists()


def test_the_book_builds_with_the_cache_and_the_extension():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["execute"]["execute_notebooks"] == "cache"
    assert not cfg["execute"].get("cache"), "the extension chooses the cache folder"
    assert cfg["sphinx"]["local_extensions"] == {"sphinx_nnbook": "tools/"}


# --------------------------------------------------------------------------- a tiny book
PAGE = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Page {name}

{prose}

```{{code-cell}} ipython3
import sys, time, uuid
sys.path.insert(0, "../lib")
import tinylib
t0 = time.time(); time.sleep(2); t1 = time.time()
print("page {name} value", tinylib.VALUE, "run", uuid.uuid4().hex, "ran", t0, t1)
```
"""


def _write_book(root: Path) -> None:
    (root / "lib").mkdir(parents=True)
    (root / "pages").mkdir()
    (root / "lib" / "tinylib.py").write_text("VALUE = 1\n")
    (root / "requirements.txt").write_text("numpy==2.4.6\n")
    (root / "intro.md").write_text("# Tiny\n")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: pages/a\n  - file: pages/b\n"
    )
    (root / "_config.yml").write_text(
        textwrap.dedent(f"""\
            title: tiny
            only_build_toc_files: true
            exclude_patterns: [_build, lib]
            execute:
              execute_notebooks: cache
              timeout: 60
            sphinx:
              local_extensions:
                sphinx_nnbook: {ROOT / "tools"}
            """)
    )
    for name in "ab":
        (root / "pages" / f"{name}.md").write_text(PAGE.format(name=name, prose="Some prose."))


def _build(root: Path, out: Path | None = None, jobs: int = 2) -> str:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["NNBOOK_EXECUTE_JOBS"] = str(jobs)
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "-W", "-n"]
    if out is not None:
        cmd += ["--path-output", str(out)]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    return log


def _runs(html: Path) -> dict[str, tuple[str, str, float, float]]:
    """page -> (value, run id, start, end) printed by the notebook on that page."""
    found = {}
    for name in "ab":
        text = (html / "pages" / f"{name}.html").read_text()
        m = re.search(rf"page {name} value (\d+) run ([0-9a-f]+) ran ([\d.]+) ([\d.]+)", text)
        assert m, f"no output on page {name}"
        found[name] = (m[1], m[2], float(m[3]), float(m[4]))
    return found


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """Build the tiny book cold, with two jobs; return its folder, first runs and log."""
    root = tmp_path_factory.mktemp("tiny") / "book"
    _write_book(root)
    log = _build(root)
    return root, _runs(root / "_build" / "html"), log


def test_a_cold_build_executes_the_notebooks_two_at_a_time(book):
    _, runs, log = book
    assert "[nnbook] executed 2 notebook(s), 2 at a time" in log
    (_, _, a0, a1), (_, _, b0, b1) = runs["a"], runs["b"]
    assert a0 < b1 and b0 < a1, "the two notebooks did not run at the same time"
    assert runs["a"][0] == runs["b"][0] == "1"


def test_a_prose_edit_reuses_the_cached_outputs(book):
    root, first, _ = book
    page = root / "pages" / "a.md"
    page.write_text(page.read_text().replace("Some prose.", "Some edited prose."))
    log = _build(root)
    html = root / "_build" / "html"
    assert "Some edited prose." in (html / "pages" / "a.html").read_text()
    assert _runs(html) == first  # the same run ids: nothing was executed again
    assert "Using cached notebook" in log and "[nnbook] executed" not in log


def test_a_library_edit_executes_every_notebook_again(book):
    root, first, _ = book
    (root / "lib" / "tinylib.py").write_text("VALUE = 2\n")
    log = _build(root)
    runs = _runs(root / "_build" / "html")
    for name in "ab":  # page b imports the library too, but nothing on it changed
        assert runs[name][0] == "2" and runs[name][1] != first[name][1]
    assert "[nnbook] executed 2 notebook(s)" in log
    caches = [p.name for p in (root / "_build" / ".jupyter_cache").iterdir()]
    assert caches == [ext.environment_digest(root)], "the old cache was not pruned"


def test_a_fresh_output_folder_starts_from_an_empty_cache(book, tmp_path):
    """What CI does (tests/conftest.py builds into a fresh --path-output): execute everything."""
    root, _, _ = book
    before = _runs(root / "_build" / "html")
    _build(root, out=tmp_path / "site", jobs=1)
    fresh = _runs(tmp_path / "site" / "_build" / "html")
    assert all(fresh[n][1] != before[n][1] for n in "ab")
    assert (tmp_path / "site" / "_build" / ".jupyter_cache").is_dir()
