"""Book maintenance: launch notebooks, the setup cell, and exercises generated from solutions.

Usage (through the Makefile):
    python tools/booktool.py sync          # setup cells, exercises/, the .ipynb, reference page
    python tools/booktool.py check         # exit 1 and list every stale file (nothing is written)
    python tools/booktool.py format [MD]   # ruff-fix and ruff-format the code cells of .md sources
    python tools/booktool.py toc --no-solutions OUT   # a _toc.yml without the Solutions part

Single sources of truth:
* ``_config.yml`` ``repository.url`` / ``repository.branch`` -> the setup cell of every notebook,
  plus the packages a page declares in its front matter (see :func:`page_requires`);
* ``solutions/*.md`` -> ``exercises/*.md`` (see :func:`make_exercise`);
* every ``*.md`` notebook -> the ``*.ipynb`` beside it, for launching (Colab, Binder, a local
  Jupyter): no outputs, and its Markdown converted from MyST to plain Markdown
  (``tools/colab.py``), so it is generated, not a jupytext pair (the ``.md`` sources declare no
  ``formats``; jupytext opens them as text notebooks on their own);
* ``lib/nnbook`` and the pages -> the library reference page (see ``tools/libref.py``).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/, also when loaded by path
import colab
import libref

fenced_blocks = colab.fenced_blocks  # the CommonMark fences of MyST directives

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIRS = ("chapters", "solutions", "exercises")

SETUP_MARKER = "# Setup: install the book's library `nnbook` where it is missing (e.g. on Colab)."
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
STUB = 'raise NotImplementedError("Your code here: see the exercise statement above.")'
ANSWER_PLACEHOLDER = "*Your answer here.*"
SOLUTION_TAG = "solution"
GENERATED_NOTE = (
    "% This page is generated from {source} by `make sync`. Edit that file, not this one."
)


class BookError(Exception):
    """A problem with a notebook source that the author must fix (message says what and where)."""


# --------------------------------------------------------------------------- config
def load_config(root: Path = ROOT) -> dict:
    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))


def install_target(config: dict) -> str:
    """The pip requirement that installs nnbook from the book's repository."""
    repo = config.get("repository") or {}
    url, branch = repo.get("url"), repo.get("branch")
    if not url or not branch:
        raise BookError("_config.yml: expected repository.url and repository.branch to be set")
    return f"nnbook @ git+{url.rstrip('/')}@{branch}"


def page_requires(metadata: dict, where: str) -> list[str]:
    """What a page needs beyond ``nnbook`` and its dependencies, from its front matter.

    A page declares it as a list of pip requirements (PEP 508), in its front matter::

        nnbook:
          requires: ["sympy>=1.12"]

    The setup cell installs them with ``nnbook``. Keep lower bounds only (or none), so that pip
    keeps a version Colab already has instead of replacing it.
    """
    from packaging.requirements import InvalidRequirement, Requirement

    declared = (metadata.get("nnbook") or {}).get("requires") or []
    if isinstance(declared, str) or not isinstance(declared, list):
        raise BookError(f"{where}: nnbook.requires must be a list of pip requirements")
    for item in declared:
        try:
            req = Requirement(str(item))
        except InvalidRequirement as exc:
            msg = f"{where}: nnbook.requires: {item!r} is no pip requirement ({exc})"
            raise BookError(msg) from None
        if req.name.lower() == "nnbook" or req.url:
            raise BookError(f"{where}: nnbook.requires lists {item!r}: name packages by name")
        if any(spec.operator in ("==", "===", "<", "<=", "~=", "!=") for spec in req.specifier):
            raise BookError(
                f"{where}: nnbook.requires: {item!r} caps or pins a version; give a lower bound "
                "at most, so that installing it never downgrades a package Colab has"
            )
    return [str(item) for item in declared]


def setup_cell_source(config: dict, requires: list[str] | tuple[str, ...] = ()) -> str:
    """The source of the one short setup cell every notebook starts with (ruff-format clean).

    On Colab (no ``nnbook``) it pip-installs ``nnbook`` from the book's repository and the
    packages the page declares (:func:`page_requires`); elsewhere it does nothing.
    """
    url = install_target(config).split(" @ ", 1)[1]
    items = ['f"nnbook @ {url}"'] + [f'"{r}"' for r in requires]
    need = f"    need = [{', '.join(items)}]"
    if len(need) > 100:  # as ruff formats a list too long for one line
        need = "\n".join(["    need = ["] + [f"        {item}," for item in items] + ["    ]"])
    return "\n".join(
        [
            SETUP_MARKER,
            "import importlib.util",
            "import subprocess",
            "import sys",
            "",
            'if importlib.util.find_spec("nnbook") is None:',
            f'    url = "{url}"',
            need,
            '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", *need], check=True)',
        ]
    )


# --------------------------------------------------------------------------- notebooks
def notebook_sources(root: Path = ROOT) -> list[Path]:
    """Every MyST notebook (a ``.md`` with a kernelspec) under the notebook folders, sorted."""
    found = []
    for d in NOTEBOOK_DIRS:
        for md in sorted((root / d).glob("*.md")):
            head = md.read_text(encoding="utf-8").split("\n---", 1)[0]
            if "kernelspec:" in head:
                found.append(md)
    return found


def read_md(path: Path) -> nbformat.NotebookNode:
    return jupytext.read(path, fmt="md:myst")


def set_setup_cell(nb: nbformat.NotebookNode, config: dict, where: str) -> nbformat.NotebookNode:
    """Return a copy of ``nb`` whose first code cell is the current setup cell."""
    nb = copy.deepcopy(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or not code[0].source.startswith(SETUP_MARKER):
        raise BookError(
            f"{where}: the first code cell must be the setup cell starting with {SETUP_MARKER!r}"
        )
    code[0].source = setup_cell_source(config, page_requires(nb.metadata, where))
    tags = code[0].metadata.setdefault("tags", [])
    if "remove-cell" not in tags:
        tags.append("remove-cell")
    return nb


def _replace_solution_code(source: str, where: str) -> str:
    out, inside, indent = [], False, ""
    for i, line in enumerate(source.split("\n"), 1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise BookError(f"{where}, line {i}: {BEGIN} inside another solution block")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out.append(indent + STUB)
        elif stripped == END:
            if not inside:
                raise BookError(f"{where}, line {i}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise BookError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out)


def _cell_first_lines(text: str | None, nb: nbformat.NotebookNode) -> list[int | None]:
    """For each cell, the 1-based line of ``text`` (the ``.md`` source) where it starts."""
    found: list[int | None] = []
    cursor = 0
    for cell in nb.cells:
        at = text.find(cell.source, cursor) if text and cell.source.strip() else -1
        if at < 0:
            found.append(None)
            continue
        found.append(text.count("\n", 0, at) + 1)
        cursor = at + len(cell.source)
    return found


def _remove_solution_blocks(source: str, tagged: bool, where: str, first_line: int | None) -> str:
    """Replace every ``{solution}`` block by the answer placeholder.

    A cell tagged ``solution`` must contain nothing but ``{solution}`` blocks: anything else
    (a heading, the next statement, an algorithm box) would vanish from the student's page, so
    it is an error naming the line. The usual cause is a missing ``+++`` after the block.
    """
    lines = source.split("\n")
    solutions = [(a, b) for a, b, name in fenced_blocks(source) if name == "solution"]
    inside = {i for a, b in solutions for i in range(a, b + 1)}
    if tagged:
        extra = [i for i, line in enumerate(lines) if i not in inside and line.strip()]
        if extra or not solutions:
            i = extra[0] if extra else 0
            at = f"{where.split(',')[0]}, line {first_line + i}" if first_line else where
            shown = repr(lines[i].strip()[:60])
            what = (
                f"also holds {shown}" if solutions else f"holds no {{solution}} block, only {shown}"
            )
            raise BookError(
                f"{at}: a markdown cell tagged 'solution' may contain only {{solution}} blocks, "
                f"but it {what}. It would be lost from the exercise page: put a line `+++` "
                "after the {solution} block so that the rest starts a new cell."
            )
    out, i = [], 0
    starts = dict(solutions)
    while i < len(lines):
        if i in starts:
            out.append(ANSWER_PLACEHOLDER)
            i = starts[i] + 1
        else:
            out.append(lines[i])
            i += 1
    return "\n".join(out)


# A label defined in a markdown cell: a directive option, a `(target)=` line, or `$$ (label)`.
_LABEL_DEF = re.compile(
    r"^\s*(?::label:\s*(?P<opt>\S+)|\((?P<target>[^)\s]+)\)=\s*$|\$\$\s*\((?P<math>[^)\s]+)\)\s*$)"
)
# The solution prefix of a label or reference: `sol-` at the start of a name.
_SOL_PREFIX = re.compile(r"(?<![\w-])sol-(?=\w)")


def _check_labels(source: str, where: str, first_line: int | None) -> None:
    """Every label a solution defines outside its {solution} blocks starts with ``sol-``.

    The exercise page repeats these statements, boxes and targets with the prefix dropped, so
    each label exists once per page (two pages with one label are a Sphinx warning), and the
    exercise page, which every build has, owns the plain name that other pages refer to.
    """
    hidden = {
        i for a, b, name in fenced_blocks(source) if name == "solution" for i in range(a, b + 1)
    }
    for i, line in enumerate(source.split("\n")):
        m = _LABEL_DEF.match(line)
        label = m and (m["opt"] or m["target"] or m["math"])
        if label and i not in hidden and not label.startswith("sol-"):
            at = f"{where.split(',')[0]}, line {first_line + i}" if first_line else where
            raise BookError(
                f"{at}: label {label!r} must start with 'sol-' in a solution (write "
                f"'sol-{label}'): the generated exercise page defines {label!r} itself"
            )


def make_exercise(
    solution: nbformat.NotebookNode, source_name: str, text: str | None = None
) -> nbformat.NotebookNode:
    """Turn a solution notebook into the student's exercise notebook.

    * code between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes a stub raising
      ``NotImplementedError`` (at the marker's indentation);
    * every ``{solution}`` block becomes "*Your answer here.*"; a markdown cell tagged
      ``solution`` must hold nothing else (:class:`BookError` naming the line otherwise;
      ``text``, the ``.md`` source, gives the line numbers);
    * code cells tagged ``solution`` are dropped (demonstrations that need the answers);
    * everything else survives: statements (``{exercise}``), headings, ``prf:`` boxes, prose;
    * labels and references ``sol-...`` lose their prefix (the solution page keeps its own); a
      label without it in a solution is a :class:`BookError` (one label, two pages);
    * the title ``# Solutions to Exercise ...`` becomes ``# Exercise ...``.
    """
    nb = copy.deepcopy(solution)
    first_lines = _cell_first_lines(text, nb)
    cells = []
    title_done = False
    for n, cell in enumerate(nb.cells):
        where = f"{source_name}, cell {n}"
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code":
            if SOLUTION_TAG in tags:
                continue
            cell.source = _replace_solution_code(cell.source, where)
            cell.outputs, cell.execution_count = [], None
        elif cell.cell_type == "markdown":
            tagged = SOLUTION_TAG in tags
            _check_labels(cell.source, where, first_lines[n])
            cell.source = _remove_solution_blocks(cell.source, tagged, where, first_lines[n])
            if tagged:
                cell.metadata["tags"] = [t for t in tags if t != SOLUTION_TAG]
                if not cell.metadata["tags"]:
                    del cell.metadata["tags"]
            cell.source = _SOL_PREFIX.sub("", cell.source)
            if not title_done and re.search(r"^# ", cell.source, flags=re.M):
                if not re.search(r"^# Solutions to ", cell.source, flags=re.M):
                    raise BookError(f"{where}: the title must start with '# Solutions to '")
                cell.source = re.sub(r"^# Solutions to ", "# ", cell.source, count=1, flags=re.M)
                cell.source = GENERATED_NOTE.format(source=source_name) + "\n\n" + cell.source
                title_done = True
        cells.append(cell)
    if not title_done:
        raise BookError(f"{source_name}: no '# Solutions to Exercise ...' title found")
    nb.cells = cells
    return nb


def outline(nb: nbformat.NotebookNode) -> list[str]:
    """What a reader navigates by: the headings and the directive boxes of the markdown cells.

    One entry per heading (``"## (b) ..."``) and per directive other than ``{solution}``
    (``"{exercise} 10.1(b) ..."``, ``"{prf:algorithm} ..."``), in order. An exercise page must
    have the same outline as its solution page (up to the title and the ``sol-`` labels).
    """
    items = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.split("\n")
        blocks = {a: (b, name) for a, b, name in fenced_blocks(cell.source)}
        i = 0
        while i < len(lines):
            if i in blocks:
                last, name = blocks[i]
                if name and name != "solution":
                    items.append(f"{{{name}}}" + lines[i].split("}", 1)[1].rstrip())
                i = last + 1
                continue
            if re.match(r"^#{1,6} ", lines[i]):
                items.append(lines[i].rstrip())
            i += 1
    return items


def _strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def _stable(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Deterministic cell ids and no tool-version stamps, so `check` compares like with like."""
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
    nb.metadata.get("jupytext", {}).get("text_representation", {}).pop("jupytext_version", None)
    return nb


def launch_notebook(nb: nbformat.NotebookNode, doc: str, site: colab.Site) -> nbformat.NotebookNode:
    """The ``.ipynb`` of a page, for Colab, Binder and a local Jupyter.

    Its Markdown is plain Markdown (:func:`colab.convert_notebook`), its code cells have no
    outputs, and its metadata is the kernelspec alone: it pairs with nothing.
    """
    try:
        nb = colab.convert_notebook(_strip_outputs(nb), doc, site)
    except colab.ColabError as exc:
        raise BookError(str(exc)) from None
    nb.metadata = nbformat.from_dict({"kernelspec": dict(nb.metadata.get("kernelspec", {}))})
    return nb


def ipynb_text(nb: nbformat.NotebookNode) -> str:
    return jupytext.writes(_stable(_strip_outputs(nb)), fmt="ipynb")


def md_text(nb: nbformat.NotebookNode) -> str:
    text = jupytext.writes(_stable(_unpaired(nb)), fmt="md:myst")
    return re.sub(r"\n    jupytext_version: [^\n]*", "", text)


def _unpaired(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy without jupytext's ``formats`` (the pairing): the ``.ipynb`` is generated."""
    nb = copy.deepcopy(nb)
    nb.metadata.get("jupytext", {}).pop("formats", None)
    return nb


_PAIRING = re.compile(r"\A(---\n(?:.*\n)*?)(jupytext:\n(?:[ \t]+.*\n)*?)[ \t]+formats: .*\n")


def unpaired_source(text: str) -> str:
    """A ``.md`` source without ``formats:`` in its front matter's ``jupytext`` block."""
    return _PAIRING.sub(r"\1\2", text, count=1)


# --------------------------------------------------------------------------- plan
def expected_files(root: Path = ROOT, errors: list[str] | None = None) -> dict[Path, str]:
    """Every file ``sync`` would write, with its expected content.

    A page whose Markdown cannot be converted for Colab raises :class:`BookError`; with a list
    ``errors``, its message is appended there instead and that page's ``.ipynb`` is left out
    (``sync`` still writes every other file).
    """
    config = load_config(root)
    want: dict[Path, str] = {}
    notebooks: dict[str, nbformat.NotebookNode] = {}  # page -> notebook, for the .ipynb files
    sources = notebook_sources(root)
    solutions = [p for p in sources if p.parent.name == "solutions"]
    for md in sources:
        if md.parent.name == "exercises":
            continue  # generated below
        rel = md.relative_to(root).as_posix()
        original = md.read_text(encoding="utf-8")
        nb = set_setup_cell(read_md(md), config, rel)
        # Rewrite the .md only when its setup cell or front matter is stale, keeping the
        # author's formatting.
        old_setup = [c for c in read_md(md).cells if c.cell_type == "code"][0].source
        new_setup = [c for c in nb.cells if c.cell_type == "code"][0].source
        text = original if old_setup == new_setup else original.replace(old_setup, new_setup, 1)
        want[md] = unpaired_source(text)
        notebooks[rel.removesuffix(".md")] = nb
    try:
        want[root / libref.PAGE] = libref.reference_page(
            root,
            lambda nb, page: make_exercise(
                nb, f"{page}.md", (root / f"{page}.md").read_text(encoding="utf-8")
            ),
        )
    except libref.LibraryError as exc:
        raise BookError(f"library reference page: {exc}") from None
    for sol in solutions:
        rel = sol.relative_to(root).as_posix()
        text = sol.read_text(encoding="utf-8")
        ex_nb = make_exercise(set_setup_cell(read_md(sol), config, rel), rel, text)
        ex_md = root / "exercises" / sol.name
        want[ex_md] = md_text(ex_nb)
        notebooks[f"exercises/{sol.stem}"] = ex_nb
    try:
        site = colab.build_site(root, notebooks, config)
    except colab.ColabError as exc:
        raise BookError(str(exc)) from None
    for page, nb in notebooks.items():
        try:
            want[root / f"{page}.ipynb"] = ipynb_text(launch_notebook(nb, page, site))
        except BookError as exc:
            if errors is None:
                raise
            errors.append(str(exc))
    return want


def stale(root: Path = ROOT) -> list[str]:
    """Problems ``check`` reports: stale or missing generated files, and orphans."""
    problems = []
    want = expected_files(root)
    for path, text in want.items():
        rel = path.relative_to(root).as_posix()
        if not path.exists():
            problems.append(f"missing: {rel}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"out of date: {rel}")
    candidates = [f for d in NOTEBOOK_DIRS for f in (root / d).glob("*.ipynb")]
    candidates += list((root / "exercises").glob("*.md"))
    for f in candidates:
        if f not in want:
            problems.append(f"orphan (no source): {f.relative_to(root).as_posix()}")
    return sorted(set(problems))


def sync(root: Path = ROOT) -> list[str]:
    """Write every stale generated file; a page that cannot be converted fails at the end."""
    written, errors = [], []
    for path, text in expected_files(root, errors).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path.relative_to(root).as_posix())
    if errors:
        print("\n".join(f"wrote {w}" for w in written))
        raise BookError("\n".join(errors))
    return written


def format_sources(
    root: Path = ROOT, only: list[Path] | None = None, ruff: str | None = None
) -> list[str]:
    """``make format``: ruff-fix and ruff-format the code cells of every source ``.md``, in place.

    ruff reads notebooks, not MyST Markdown: each source (not the generated exercises) is
    written to a temporary ``.ipynb``, ruff (``check --fix``, then ``format``, with the
    project's configuration) rewrites it, and each changed cell's code replaces the old code in
    the ``.md`` text, so the prose and the author's layout stay as they are. Afterwards ``make
    sync`` writes pairs and exercises whose code is format-stable: ``ruff format --check`` on
    the ``.ipynb`` then passes.
    """
    import subprocess
    import tempfile

    ruff = ruff or str(Path(sys.executable).parent / "ruff")
    sources = [p for p in notebook_sources(root) if p.parent.name != "exercises"]
    if only is not None:
        wanted = {p.resolve() for p in only}
        sources = [p for p in sources if p.resolve() in wanted]
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_paths = {}
        for i, md in enumerate(sources):
            tmp_paths[md] = Path(tmp) / f"nb{i:03d}_{md.stem}.ipynb"
            tmp_paths[md].write_text(jupytext.writes(read_md(md), fmt="ipynb"), encoding="utf-8")
        config = ["--config", str(root / "pyproject.toml")]
        files = [str(p) for p in tmp_paths.values()]
        if files:
            subprocess.run([ruff, "check", "--fix", "--silent", *config, *files], check=False)
            subprocess.run([ruff, "format", "--quiet", *config, *files], check=True)
        for md, tmp_nb in tmp_paths.items():
            before = [c for c in read_md(md).cells if c.cell_type == "code"]
            after = [c for c in jupytext.read(tmp_nb).cells if c.cell_type == "code"]
            text, cursor = md.read_text(encoding="utf-8"), 0
            for old, new in zip(before, after):
                at = text.find(old.source, cursor) if old.source else -1
                if at < 0:
                    continue
                text = text[:at] + new.source + text[at + len(old.source) :]
                cursor = at + len(new.source)
            if text != md.read_text(encoding="utf-8"):
                md.write_text(text, encoding="utf-8")
                written.append(md.relative_to(root).as_posix())
    return written


def toc_only(pages: list[str], root: Path = ROOT) -> str:
    """A table of contents with the landing page and ``pages`` only (``make page``)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    for page in pages:
        if not (root / f"{page}.md").exists():
            raise BookError(
                f"no such page: {page}.md (give paths like chapters/ch01_universal_approximation)"
            )
    out = {
        "format": toc["format"],
        "root": toc["root"],
        "parts": [{"caption": "Pages", "chapters": [{"file": p} for p in pages]}],
    }
    return yaml.safe_dump(out, sort_keys=False)


def toc_without_solutions(root: Path = ROOT) -> str:
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    toc["parts"] = [p for p in toc.get("parts", []) if p.get("caption") != "Solutions"]
    return yaml.safe_dump(toc, sort_keys=False)


def check(root: Path = ROOT) -> int:
    """``make check-sync``: 0 when in sync, 1 listing stale files, 2 on a malformed source."""
    try:
        problems = stale(root)
    except BookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if problems:
        print("Generated files are stale; run `make sync` and commit the result:", file=sys.stderr)
        print("\n".join(f"  {p}" for p in problems), file=sys.stderr)
        return 1
    print(f"in sync: {len(notebook_sources(root))} notebook sources")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("sync", help="regenerate setup cells, exercises and .ipynb pairs")
    sub.add_parser("check", help="fail if anything generated is stale")
    fmt = sub.add_parser("format", help="ruff-fix and ruff-format the code cells of .md sources")
    fmt.add_argument("md", nargs="*", type=Path, help="only these sources (default: all)")
    toc = sub.add_parser("toc", help="write a table of contents")
    toc.add_argument("--no-solutions", action="store_true")
    toc.add_argument(
        "--only", nargs="+", metavar="PAGE", help="the landing page and these pages only"
    )
    toc.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.cmd == "sync":
            written = sync()
            print("\n".join(f"wrote {w}" for w in written) or "everything already in sync")
        elif args.cmd == "check":
            return check()
        elif args.cmd == "format":
            written = format_sources(only=args.md or None)
            print("\n".join(f"formatted {w}" for w in written) or "code cells already formatted")
        elif args.cmd == "toc":
            text = (
                toc_only(args.only)
                if args.only
                else toc_without_solutions()
                if args.no_solutions
                else (ROOT / "_toc.yml").read_text(encoding="utf-8")
            )
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text, encoding="utf-8")
    except BookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
