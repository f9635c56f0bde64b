"""The library reference page: every public object of ``nnbook`` and the pages that use it.

``make sync`` writes :data:`PAGE` (through ``booktool.py``); ``make check-sync`` fails when it
is stale. Everything is read statically, with :mod:`ast`:

* the library: every module under ``lib/nnbook`` whose name does not start with ``_``; its
  public objects are the names in its ``__all__`` (a literal list, possibly extended with
  ``__all__ += [...]``) or, without one, the functions, classes and constants it defines whose
  names do not start with ``_``. A name a package re-exports from one of its modules is listed
  once, under the module that defines it. The summary is the first paragraph of the docstring
  (for a constant: its ``#:`` comment, else its value when short). Only a module whose
  ``__all__`` is computed is imported, to read it.
* the pages: every ``.md`` in ``chapters/``, ``exercises/``, ``solutions/`` and every page of
  ``_toc.yml``. A page uses an object when its code imports it, or reaches it through an
  imported module (``import nnbook.engine.mlp as m; m.MLP``, ``nnbook.seed()``), when it quotes
  its code (``literalinclude`` with ``:pyobject:``), or when its prose names it in full
  (``nnbook.engine.mlp.MLP``). A solution page counts as its exercise page (the solutions are
  left out of some builds), marked "(solution)" when only the solution uses the object.

New modules, objects and pages appear without a change here. An object no page uses is listed
as "not used on any page": that is information for maintainers, not an error.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import yaml

PAGE = "reference/library.md"
PAGE_DIRS = ("chapters", "exercises", "solutions")
PACKAGE = "nnbook"
NOT_USED = "*not used on any page*"
#: The packages in the order a reader meets them; a new package comes after these, by name.
PACKAGE_ORDER = ("engine", "pytorch", "chapters", "exercises", "data", "viz")


class LibraryError(Exception):
    """A library file that cannot be read statically (the message names it)."""


# --------------------------------------------------------------------------- the library
@dataclass
class Entry:
    """One public object: ``module.name``."""

    module: str
    name: str
    kind: str  # "function", "class" or "constant"
    summary: str


@dataclass
class Module:
    name: str
    path: Path
    summary: str
    is_package: bool
    entries: list[Entry] = field(default_factory=list)
    reexports: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (module, name)


def _summary(doc: str | None) -> str:
    """The first sentence of the docstring's first paragraph, on one line."""
    if not doc:
        return ""
    para = " ".join(line.strip() for line in doc.strip().split("\n\n", 1)[0].splitlines())
    first = re.split(r"(?<=[.!?])\s+(?=[A-Z])", para, maxsplit=1)[0]
    return first[:-1] + "." if first.endswith(":") else first


def _resolve_relative(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module name of ``from <node.module> import ...`` written in ``module``."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join(base + ([node.module] if node.module else []))


def _literal_names(node: ast.expr) -> list[str] | None:
    try:
        return [str(v) for v in ast.literal_eval(node)]
    except ValueError:
        return None


def _imported_all(name: str, where: str) -> list[str]:
    """``__all__`` of a module that computes it: the one case where the module is imported."""
    try:
        return list(importlib.import_module(name).__all__)
    except Exception as exc:  # the author must see why, whatever it is
        raise LibraryError(
            f"{where}: cannot compute __all__ ({type(exc).__name__}: {exc})"
        ) from None


def _module_names(lib: Path) -> dict[str, Path]:
    """Every public module of the package: its dotted name and file."""
    found = {}
    for path in sorted((lib / PACKAGE).rglob("*.py")):
        rel = path.relative_to(lib).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts) or "__pycache__" in path.parts:
            continue
        found[".".join(parts)] = path
    return found


def _constant_summary(lines: list[str], node: ast.stmt, source: str) -> str:
    """The ``#:`` comment above an assignment, else ``= value`` when the value is short."""
    comments, i = [], node.lineno - 2
    while i >= 0 and lines[i].lstrip().startswith("#:"):
        comments.insert(0, lines[i].lstrip()[2:].strip())
        i -= 1
    if comments:
        return " ".join(comments)
    value = ast.get_source_segment(source, node.value) if node.value is not None else None
    if value and "\n" not in value and len(value) <= 60:
        return f"`= {value}`"
    return ""


def read_module(name: str, path: Path, root: Path) -> Module:
    """Parse one module: its summary, public objects and re-exports (nothing is imported)."""
    where = path.relative_to(root).as_posix()
    source = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source, filename=where)
    except SyntaxError as exc:
        raise LibraryError(f"{where}, line {exc.lineno}: {exc.msg}") from None
    lines = source.split("\n")
    is_package = path.name == "__init__.py"
    mod = Module(name, path, _summary(ast.get_docstring(tree)), is_package)
    defined: dict[str, Entry] = {}
    imported: dict[str, tuple[str, str]] = {}
    all_names: list[str] | None = None
    dynamic_all = False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            summary = _summary(ast.get_docstring(node))
            defined[node.name] = Entry(name, node.name, kind, summary)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name) and t.id == "__all__":
                    all_names = _literal_names(node.value)
                    dynamic_all |= all_names is None
                elif isinstance(t, ast.Name):
                    summary = _constant_summary(lines, node, source)
                    defined[t.id] = Entry(name, t.id, "constant", summary)
        elif (
            isinstance(node, ast.AugAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "__all__"
        ):
            more = _literal_names(node.value)
            dynamic_all |= more is None
            all_names = (all_names or []) + (more or [])
        elif isinstance(node, ast.ImportFrom):
            src = _resolve_relative(name, is_package, node)
            for alias in node.names:
                imported[alias.asname or alias.name] = (src, alias.name)
    if dynamic_all:
        all_names = _imported_all(name, where)
    public = all_names if all_names is not None else [n for n in defined if not n.startswith("_")]
    for n in public:
        if n in defined:
            mod.entries.append(defined[n])
        elif n in imported and imported[n][0].split(".")[0] == PACKAGE:
            mod.reexports[n] = imported[n]
        elif n in imported:
            src, orig = imported[n]
            mod.entries.append(Entry(name, n, "constant", f"`{src}.{orig}`, re-exported"))
        else:
            raise LibraryError(f"{where}: __all__ names {n!r}, which the module does not define")
    return mod


def _reading_order(name: str) -> tuple:
    """``nnbook`` first, then its packages in :data:`PACKAGE_ORDER`, then any other, by name."""
    parts = name.split(".")
    sub = parts[1] if len(parts) > 1 else ""
    rank = PACKAGE_ORDER.index(sub) if sub in PACKAGE_ORDER else len(PACKAGE_ORDER)
    return (len(parts) > 1, rank, parts[1:])


def read_library(root: Path) -> dict[str, Module]:
    """Every public module of ``lib/nnbook``, by dotted name, in reading order."""
    found = _module_names(root / "lib")
    return {
        name: read_module(name, found[name], root) for name in sorted(found, key=_reading_order)
    }


def canonical(modules: dict[str, Module], module: str, name: str) -> tuple[str, str] | None:
    """Where ``module.name`` is defined (following re-exports), or None if it is not public."""
    seen = set()
    while (module, name) not in seen:
        seen.add((module, name))
        mod = modules.get(module)
        if mod is None:
            return None
        if any(e.name == name for e in mod.entries):
            return module, name
        if name not in mod.reexports:
            return None
        module, name = mod.reexports[name]
    return None


# --------------------------------------------------------------------------- the pages
@dataclass
class Uses:
    """What one page uses: objects (with the quoted ``:pyobject:`` names) and modules."""

    objects: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    modules: set[str] = field(default_factory=set)

    def add(self, key: tuple[str, str] | None, quoted: str | None = None) -> None:
        if key is not None:
            self.objects.setdefault(key, set()).update([quoted] if quoted else [])


_MAGIC = re.compile(r"^\s*[%!]")
_LITERALINCLUDE = re.compile(
    r"^[`:~]{3,}\{literalinclude\}\s+(?P<path>\S+)[^\n]*\n(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)",
    re.M,
)
_DOTTED = re.compile(rf"\b{PACKAGE}(?:\.[A-Za-z_]\w*)+")


class _CodeScanner:
    """Follow import aliases through the code cells of one page (they run top to bottom)."""

    def __init__(self, modules: dict[str, Module], uses: Uses):
        self.modules, self.uses = modules, uses
        self.aliases: dict[str, str] = {}  # local name -> module

    def chain(self, module: str, attrs: list[str]) -> None:
        """Record the object reached by ``module.attr1.attr2...`` (modules are walked through)."""
        for a in attrs:
            if f"{module}.{a}" in self.modules:
                module = f"{module}.{a}"
                self.uses.modules.add(module)
                continue
            self.uses.add(canonical(self.modules, module, a))
            return

    def scan(self, code: str) -> None:
        code = "\n".join("" if _MAGIC.match(line) else line for line in code.split("\n"))
        try:
            tree = ast.parse(code)
        except SyntaxError:
            return  # not Python (an error demonstrated on purpose): nothing to record
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] != PACKAGE:
                        continue
                    self.uses.modules.add(a.name)
                    local = a.asname or a.name.split(".")[0]
                    self.aliases[local] = a.name if a.asname else PACKAGE
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                if node.module.split(".")[0] != PACKAGE:
                    continue
                self.uses.modules.add(node.module)
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    if full in self.modules:
                        self.aliases[a.asname or a.name] = full
                        self.uses.modules.add(full)
                    else:
                        self.uses.add(canonical(self.modules, node.module, a.name))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                attrs, base = [], node
                while isinstance(base, ast.Attribute):
                    attrs.insert(0, base.attr)
                    base = base.value
                if isinstance(base, ast.Name) and base.id in self.aliases:
                    self.chain(self.aliases[base.id], attrs)


def _module_of_file(path: Path, root: Path) -> str | None:
    try:
        rel = path.resolve().relative_to((root / "lib").resolve()).with_suffix("")
    except ValueError:
        return None
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(parts)


def scan_page(md: Path, root: Path, modules: dict[str, Module]) -> Uses:
    """Everything of ``nnbook`` that one page uses."""
    return scan_notebook(jupytext.read(md, fmt="md:myst"), md, root, modules)


def scan_notebook(nb, md: Path, root: Path, modules: dict[str, Module]) -> Uses:
    """Everything of ``nnbook`` that the notebook ``nb`` (of the page ``md``) uses."""
    uses = Uses()
    code = _CodeScanner(modules, uses)
    for cell in nb.cells:
        if cell.cell_type == "code":
            code.scan(cell.source)
            continue
        for m in _LITERALINCLUDE.finditer(cell.source + "\n"):
            module = _module_of_file(md.parent / m["path"], root)
            quoted = re.search(r":pyobject:\s*(\S+)", m["options"])
            if module in modules and quoted:
                uses.add(canonical(modules, module, quoted[1].split(".")[0]), quoted[1])
        for m in _DOTTED.finditer(cell.source):
            parts = m[0].split(".")
            code.chain(PACKAGE, parts[1:])
    return uses


def page_files(root: Path, generated: bool = False) -> list[str]:
    """The pages to scan, as paths without ``.md``: those in the toc first, in its order.

    With ``generated``, the exercise pages generated from a solution are left out (the
    solution is scanned instead).
    """
    toc_path = root / "_toc.yml"
    in_toc: list[str] = []
    if toc_path.exists():
        toc = yaml.safe_load(toc_path.read_text(encoding="utf-8")) or {}
        for part in toc.get("parts", []):
            in_toc += [c["file"] for c in part.get("chapters", []) if "file" in c]
    found = [p.removesuffix(".md") for p in in_toc if (root / f"{p}.md").exists()]
    for d in PAGE_DIRS:
        for md in sorted((root / d).glob("*.md")):
            rel = md.relative_to(root).with_suffix("").as_posix()
            if rel not in found:
                found.append(rel)
    if generated:
        found = [
            p
            for p in found
            if not (p.startswith("exercises/") and (root / "solutions" / f"{p[10:]}.md").exists())
        ]
    return [p for p in found if f"{p}.md" != PAGE]


# --------------------------------------------------------------------------- the page
def _escape_markup(text: str) -> str:
    """Escape ``| $ \\ [ ]``, ``<`` and every ``*`` that is not part of an ``*emphasis*``."""
    pieces = re.split(r"(\*\*?(?=[^\s*])[^*]*?[^\s*]\*?\*)", text)  # odd: *emphasis*, **strong**
    return "".join(
        piece if i % 2 else re.sub(r"([|$*\\\[\]])", r"\\\1", piece).replace("<", "&lt;")
        for i, piece in enumerate(pieces)
    )


def _cell(text: str) -> str:
    r"""Docstring text made safe for one line of a Markdown table.

    reST roles become code; outside code spans, the characters Markdown or MyST would read as
    markup (``| $ * \ [ ]``, ``<``) are escaped; a ``|`` inside a code span is escaped too.
    """
    text = re.sub(r":(?:func|class|meth|mod|data|attr|obj|exc):`~?([^`]+)`", r"``\1``", text)
    parts = re.split(r"(`+[^`]*`+)", text)  # the odd items are code spans
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part.replace("|", "\\|"))
        else:
            out.append(_escape_markup(part))
    return "".join(out)


def _object_cell(e: Entry) -> str:
    return f"`{e.name}()`" if e.kind == "function" else f"`{e.name}`"


def reference_page(root: Path, exercise_of: Callable | None = None) -> str:
    """The Markdown text of :data:`PAGE`.

    ``exercise_of`` turns a solution notebook into its exercise notebook (``booktool`` passes
    its generator): the page then depends on the sources only, not on the generated
    ``exercises/``, so one ``make sync`` writes both consistently. Without it, the exercise
    pages on disk are read.
    """
    modules = read_library(root)
    toc = root / "_toc.yml"
    linkable = set()
    if toc.exists():
        t = yaml.safe_load(toc.read_text(encoding="utf-8")) or {}
        linkable = {c["file"] for p in t.get("parts", []) for c in p.get("chapters", [])}
    # page (as linked) -> object -> (quoted names, used by the exercise page itself?)
    used_by: dict[tuple[str, str], dict[str, dict]] = defaultdict(dict)
    module_pages: dict[str, list[str]] = defaultdict(list)
    for page in page_files(root, generated=exercise_of is not None):
        md = root / f"{page}.md"
        is_solution = page.startswith("solutions/")
        shown = "exercises/" + page.split("/", 1)[1] if is_solution else page
        scans = [(scan_page(md, root, modules), not is_solution)]
        if is_solution and exercise_of is not None:
            exercise = exercise_of(jupytext.read(md, fmt="md:myst"), page)
            scans.append((scan_notebook(exercise, md, root, modules), True))
        for uses, direct in scans:
            for key, quoted in uses.objects.items():
                info = used_by[key].setdefault(shown, {"quoted": set(), "direct": False})
                info["quoted"] |= quoted
                info["direct"] |= direct
            for m in uses.modules:
                if shown not in module_pages[m]:
                    module_pages[m].append(shown)

    def link(page: str) -> str:
        return f"{{doc}}`/{page}`" if page in linkable else f"`{page}.md` (not in the toc)"

    def pages_cell(key: tuple[str, str]) -> str:
        out = []
        for page, info in used_by.get(key, {}).items():
            text = link(page)
            notes = [f"shows `{q}`" for q in sorted(info["quoted"])]
            if not info["direct"]:
                notes.append("solution")
            out.append(text + (f" ({', '.join(notes)})" if notes else ""))
        return ", ".join(out) or NOT_USED

    n_objects = sum(len(m.entries) for m in modules.values())
    n_unused = sum(
        1 for m in modules.values() for e in m.entries if (m.name, e.name) not in used_by
    )
    head = [
        "# The `nnbook` library",
        "",
        "% Generated by `make sync` (tools/libref.py) from the library's docstrings and the "
        "pages that use it. Do not edit: `make check-sync` fails when this page is stale.",
        "",
        "Every page of this book runs code from `nnbook`, the small library that comes with it "
        "(`pip install` it, or open a notebook in Colab, where the first cell installs it). "
        "This appendix lists every public object of the library, module by module, with the "
        "first line of its documentation and the pages that use it. *Shows* means that the "
        "page prints the object's source code, *solution* that only the solution of that "
        "exercise uses it. The from-scratch NumPy code you study is in `nnbook.engine`, the "
        "PyTorch training stack in `nnbook.pytorch`, and the helpers of a single page in "
        "`nnbook.chapters` and `nnbook.exercises`.",
        "",
        f"The library has {len(modules)} public modules and {n_objects} public objects; "
        f"{n_objects - n_unused} of them are used on at least one page.",
        "",
    ]
    body: list[str] = []
    for name, mod in modules.items():
        depth = name.count(".")
        level = "##" if depth <= 1 else "###"
        body += [f"{level} `{name}`", ""]
        if mod.summary:
            body += [_cell(mod.summary).replace("\\|", "|"), ""]
        pages = module_pages.get(name, [])
        if pages and not mod.is_package:
            body += ["Imported on " + ", ".join(link(p) for p in pages) + ".", ""]
        if mod.reexports:
            names = ", ".join(
                f"`{n}` (from `{src}`)" for n, (src, _) in sorted(mod.reexports.items())
            )
            body += [f"Re-exports {names}.", ""]
        if mod.entries:
            body += ["| Object | Kind | Summary | Used on |", "|---|---|---|---|"]
            for e in mod.entries:
                summary = _cell(e.summary) or "*(no docstring)*"
                body.append(
                    f"| {_object_cell(e)} | {e.kind} | {summary} | {pages_cell((name, e.name))} |"
                )
            body.append("")
    return "\n".join(head + body).rstrip() + "\n"
