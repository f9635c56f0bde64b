"""The library reference page (tools/libref.py): complete, right about who uses what, up to date."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import shutil
import textwrap
from pathlib import Path

import pytest

import booktool
import libref
import nnbook


def _section(page: str, module: str) -> str:
    """The text of the section of ``module`` on the page, up to the next heading."""
    m = re.search(rf"^#+ `{re.escape(module)}`\n(.*?)(?=^#+ |\Z)", page, flags=re.M | re.S)
    assert m, f"no section for {module}"
    return m[1]


def _row(section: str, name: str) -> str | None:
    m = re.search(rf"^\| `{re.escape(name)}(?:\(\))?` \|.*$", section, flags=re.M)
    return m[0] if m else None


# --------------------------------------------------------------------------- the real page
def test_the_reference_page_is_up_to_date(root):
    page = root / libref.PAGE
    assert page.exists(), "run `make sync`"
    assert page.read_text() == libref.reference_page(root), "run `make sync` and commit"


def _public_objects() -> dict[str, list[str]]:
    """By importing the library (libref only parses it): module -> the objects it defines."""
    found = {}
    modules = [nnbook] + [
        importlib.import_module(m.name)
        for m in pkgutil.walk_packages(nnbook.__path__, "nnbook.")
        if not any(part.startswith("_") for part in m.name.split("."))
    ]
    for mod in modules:
        names = getattr(mod, "__all__", None) or [
            n
            for n, obj in vars(mod).items()
            if not n.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == mod.__name__
        ]
        source = inspect.getsource(mod)
        mine = []
        for n in names:
            obj = getattr(mod, n)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                if obj.__module__ == mod.__name__:
                    mine.append(n)
            elif re.search(rf"^{n}\b[^=\n]*=", source, flags=re.M):  # a constant assigned here
                mine.append(n)
        found[mod.__name__] = mine
    return found


def test_every_public_object_is_listed_once_with_its_summary(root):
    page = (root / libref.PAGE).read_text()
    objects = _public_objects()
    assert len(objects) > 20 and sum(map(len, objects.values())) > 200
    for module, names in objects.items():
        section = _section(page, module)
        for name in names:
            row = _row(section, name)
            assert row, f"{module}.{name} is missing from the reference page"
            obj = getattr(importlib.import_module(module), name)
            defined_here = inspect.isfunction(obj) or inspect.isclass(obj)
            doc = inspect.getdoc(obj) if defined_here and obj.__name__ == name else ""
            if doc:  # the first words, compared letters and digits only (markup differs)
                first = re.sub(r":\w+:", "", " ".join(doc.split()[:3]))
                assert re.sub(r"\W", "", first) in re.sub(r"\W", "", row), (module, name)
    rows = re.findall(r"^\| `", page, flags=re.M)
    assert len(rows) == sum(map(len, objects.values())), "an object is listed twice"


def test_the_page_links_only_pages_of_the_book_and_never_a_solution(root):
    page = (root / libref.PAGE).read_text()
    links = re.findall(r"\{doc\}`/([^`]+)`", page)
    assert links, "no page links to the library"
    for target in set(links):
        assert (root / f"{target}.md").exists(), target
        assert not target.startswith("solutions/"), "solutions are left out of some builds"


def test_a_page_quoting_code_is_credited(root):
    """Chapter 5 shows Linear.backward (checked here with grep, independently of the scanner)."""
    ch5 = (root / "chapters" / "ch05_backpropagation.md").read_text()
    quoted = re.findall(r"\{literalinclude\} \.\./lib/nnbook/(\S+)\.py\n:pyobject: (\S+)", ch5)
    assert quoted
    page = (root / libref.PAGE).read_text()
    for path, obj in quoted:
        module = "nnbook." + path.replace("/", ".")
        row = _row(_section(page, module), obj.split(".")[0])
        assert row and "{doc}`/chapters/ch05_backpropagation` (shows " in row, (module, obj)
        assert f"`{obj}`" in row


# --------------------------------------------------------------------------- a synthetic book
LIB = {
    "__init__.py": '''
        """The *test* library, with f* and **strong** text."""

        def seed(value=0):
            """Seed everything."""
            return value

        __all__ = ["seed"]
        ''',
    "engine/__init__.py": '''
        """The engine."""
        from .core import relu

        __all__ = ["relu"]
        ''',
    "engine/core.py": '''
        """Core functions."""

        #: The slope of the leaky ReLU.
        SLOPE = 0.01
        LIMIT = 3

        def relu(z):
            """relu(z) = max(0, z) | elementwise, with $z$ real.

            More text that is not the summary.
            """
            return z

        def unused(z):
            """Nobody calls this."""

        def only_in_solution(z):
            """Used by a solution cell."""

        class Layer:
            """A layer."""

            def backward(self, g):
                return g

        def _private():
            pass
        ''',
    "engine/extra.py": '''
        """Added later: listed without any change to the generator."""

        def helper():
            """A helper."""

        __all__ = ["helper"]
        __all__ += []
        ''',
    "_util.py": '''
        def hidden():
            """A private module is not listed."""
        ''',
}

CHAPTER = """\
# A chapter

```{code-cell} ipython3
import nnbook
import nnbook.engine.core as c
from nnbook.engine import relu

rng = nnbook.seed(0)
%matplotlib inline
print(c.SLOPE, relu(1))
```

The layer's backward pass:

```{literalinclude} ../lib/nnbook/engine/core.py
:pyobject: Layer.backward
```
"""

SOLUTION = """\
# Solutions to Exercise 1.1: x

```{code-cell} ipython3
from nnbook.engine import core
core.relu(2)
```

```{code-cell} ipython3
:tags: [solution]

core.only_in_solution(3)
```

The prose names `nnbook.engine.extra.helper` in full.
"""

TOC = """\
format: jb-book
root: intro
parts:
  - caption: Lecture
    chapters:
      - file: chapters/ch01_a
  - caption: Exercises
    chapters:
      - file: exercises/ex1_1_x
  - caption: Solutions
    chapters:
      - file: solutions/ex1_1_x
"""


def _book(tmp_path: Path) -> Path:
    for rel, text in LIB.items():
        path = tmp_path / "lib" / "nnbook" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    for rel, text in {
        "chapters/ch01_a.md": CHAPTER,
        "solutions/ex1_1_x.md": SOLUTION,
        "exercises/ex1_1_x.md": SOLUTION.replace("Solutions to ", "").split("```{code-cell}")[0],
        "_toc.yml": TOC,
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


@pytest.fixture
def synthetic(tmp_path) -> tuple[Path, str]:
    book = _book(tmp_path)
    return book, libref.reference_page(book)


def test_modules_and_objects_of_a_new_library_appear(synthetic):
    _, page = synthetic
    headings = re.findall(r"^#+ `([\w.]+)`", page, flags=re.M)
    assert headings == ["nnbook", "nnbook.engine", "nnbook.engine.core", "nnbook.engine.extra"]
    core = _section(page, "nnbook.engine.core")
    for name in ("SLOPE", "LIMIT", "relu", "unused", "only_in_solution", "Layer"):
        assert _row(core, name), name
    assert _row(core, "_private") is None and "hidden" not in page
    assert _row(_section(page, "nnbook.engine.extra"), "helper")
    # a re-export is listed once, where the object is defined
    assert _row(_section(page, "nnbook.engine"), "relu") is None
    assert "Re-exports `relu` (from `nnbook.engine.core`)" in page


def test_summaries_are_one_line_and_safe_for_a_table(synthetic):
    _, page = synthetic
    core = _section(page, "nnbook.engine.core")
    assert "relu(z) = max(0, z) \\| elementwise, with \\$z\\$ real. |" in _row(core, "relu")
    assert "More text" not in page
    assert "The *test* library, with f\\* and **strong** text." in page  # emphasis kept
    assert "The slope of the leaky ReLU." in _row(core, "SLOPE")
    assert "`= 3`" in _row(core, "LIMIT")
    for line in page.splitlines():
        if line.startswith("| `"):
            assert line.count(" | ") == 3, line  # four cells; a "\\|" is no separator


def test_uses_are_found_through_aliases_quotes_and_prose(synthetic):
    _, page = synthetic
    core = _section(page, "nnbook.engine.core")
    chapter, exercise = "{doc}`/chapters/ch01_a`", "{doc}`/exercises/ex1_1_x`"
    assert chapter in _row(core, "SLOPE")  # c.SLOPE through `import ... as c`
    assert chapter in _row(core, "relu") and exercise in _row(core, "relu")  # re-export, core.relu
    assert f"{chapter} (shows `Layer.backward`)" in _row(core, "Layer")
    assert f"{exercise} (solution)" in _row(core, "only_in_solution")
    assert exercise in _row(_section(page, "nnbook.engine.extra"), "helper")  # prose, in full
    assert chapter in _row(_section(page, "nnbook"), "seed")
    assert libref.NOT_USED in _row(core, "unused") and libref.NOT_USED in _row(core, "LIMIT")
    assert "solutions/" not in page


def test_a_page_missing_from_the_toc_is_named_not_linked(synthetic):
    book, _ = synthetic
    (book / "chapters" / "ch02_b.md").write_text(
        "# B\n\n```{code-cell} ipython3\nfrom nnbook.engine.core import unused\n```\n"
    )
    row = _row(_section(libref.reference_page(book), "nnbook.engine.core"), "unused")
    assert "`chapters/ch02_b.md` (not in the toc)" in row and "{doc}`/chapters/ch02_b`" not in row


def test_a_library_edit_makes_the_page_stale(tmp_path, root):
    book = _book(tmp_path)
    shutil.copy(root / "_config.yml", book / "_config.yml")
    for page in ("exercises/ex1_1_x.md", "solutions/ex1_1_x.md"):  # not notebooks: orphans
        (book / page).unlink()
    booktool.sync(book)
    assert booktool.stale(book) == []
    core = book / "lib" / "nnbook" / "engine" / "core.py"
    core.write_text(core.read_text().replace("Nobody calls this.", "Nobody calls this yet."))
    assert booktool.stale(book) == [f"out of date: {libref.PAGE}"]
    assert booktool.check(book) == 1  # what `make check-sync` runs


def test_a_library_file_that_does_not_parse_is_named(tmp_path):
    book = _book(tmp_path)
    (book / "lib" / "nnbook" / "engine" / "broken.py").write_text("def f(:\n")
    with pytest.raises(libref.LibraryError, match=r"lib/nnbook/engine/broken\.py, line 1"):
        libref.reference_page(book)
