"""MyST Markdown -> plain Markdown, for the notebooks that open on Colab.

The book's pages are MyST notebooks (``.md``); the ``.ipynb`` beside each is generated from it by
``make sync`` for launching (Colab, Binder, a local Jupyter). Colab's Markdown renderer knows no
MyST, so every Markdown cell of a generated notebook is converted:

* ```` ```{literalinclude} ../lib/nnbook/<path>.py```` with ``:pyobject: Name`` (or
  ``Class.method``) becomes the object's code in a ```` ```python```` block, the lines Sphinx
  shows (decorators included, trailing blank and comment lines dropped, indentation kept),
  after a line naming the file (linked to the repository);
* ``prf:`` boxes (theorem, definition, algorithm, ...), ``{exercise}``/``{solution}`` boxes and
  admonitions (``note``, ``tip``, ``warning``, ``admonition``, ...) become a quote block
  (``> ``) that starts with the box's bold title, e.g. ``**Definition 3.1 (Empirical risk)**``;
  the number is the site's where it can be known (see below), otherwise left out;
* ``{cite}`key``` (and ``{cite:p}``) becomes ``(Author Year)``, ``{cite:t}`` becomes
  ``Author (Year)``, linked to the site's bibliography (authors from ``references.bib``: one
  name, "A & B", or "A et al.");
* ``{ref}``, ``{numref}``, ``{prf:ref}`` and ``{doc}`` become links to the site's pages, with
  the text the site shows (a section's title, "Algorithm 5.1", a page's title);
* ``(label)=`` lines and MyST comments (``% ...``) disappear; ``$$ (label)`` loses its label;
  math stays as it is (Colab renders ``$...$``, ``$$...$$`` and amsmath environments).

Anything else in MyST syntax (another directive or role, another ``literalinclude`` option) is a
:class:`ColabError` naming the page: a notebook must never show raw MyST.

**The site's address** is ``html.baseurl`` in ``_config.yml`` when set, otherwise the GitHub
Pages address of ``repository.url`` (``https://github.com/<owner>/<repo>`` is published at
``https://<owner>.github.io/<repo>/``).

**Box numbers** follow Sphinx (``numfig``, depth 1) as sphinx-proof and sphinx-exercise use it:
in a page of a numbered part of ``_toc.yml`` (parts numbered continuously when
``use_multitoc_numbering`` is on), the k-th numbered box of a type is "Type <chapter>.k". Pages
outside numbered parts are numbered by a counter that runs across every such page of the build
(it changes when the solutions are left out), so their boxes get no number here.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

import yaml

# --------------------------------------------------------------------------- MyST syntax
_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,}|:{3,})\s*(?:\{(?P<name>[^}\s]+)\})?")
_ROLE = re.compile(r"\{(?P<name>[a-zA-Z][\w:-]*)\}(?P<ticks>`+)(?P<body>.+?)(?P=ticks)", re.S)
_TICKS = re.compile(r"`+")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)")
_TARGET_LINE = re.compile(r"^\s*\((?P<label>[^)\s]+)\)=\s*$")
_MATH_LABEL = re.compile(r"^(?P<dollars>\s*\$\$)\s*\((?P<label>[^)\s]+)\)\s*$")
_COMMENT_LINE = re.compile(r"^\s*%")
_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
_EMPTY_OR_COMMENT = re.compile(r"^\s*(#.*)?$")  # Sphinx's emptyline_re (sphinx.pycode.parser)

PROOF_TYPES = (
    "algorithm",
    "assumption",
    "axiom",
    "conjecture",
    "corollary",
    "criterion",
    "definition",
    "example",
    "lemma",
    "notation",
    "observation",
    "property",
    "proposition",
    "remark",
    "theorem",
)
ADMONITIONS = {
    "note": "Note",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
}
ROLES = ("cite", "cite:p", "cite:t", "ref", "numref", "prf:ref", "doc")
#: What a generated notebook's Markdown must never contain (Colab would show it raw).
RAW_MYST = re.compile(
    r"^ {0,3}(?:`{3,}|~{3,}|:{3,})\s*\{"  # a directive
    r"|\{(?:cite|ref|numref|prf:|doc|eq|term|download|math)[^}]*\}`"  # a role
    r"|^\s*\([^)\s]+\)=\s*$"  # a (label)= target
    r"|^\s*:(?:label|pyobject|nonumber|class|tags|name):"  # a directive option
    r"|^\s*\$\$\s*\([^)\s]+\)\s*$",  # $$ (label)
    re.M,
)


class ColabError(Exception):
    """MyST that cannot be converted to plain Markdown (the message names the page and why)."""


def fenced_blocks(source: str) -> list[tuple[int, int, str | None]]:
    """The outermost fenced blocks of a markdown source: ``(first, last, directive)``.

    ``first`` and ``last`` are 0-based line indices of the opening and closing fence (an
    unclosed fence runs to the end, as in CommonMark); ``directive`` is the MyST directive
    name (``"solution"``, ``"exercise"``, ``"prf:algorithm"``, ...) or None for a code block.
    As in CommonMark, a block closes at the first line made of the same fence character, at
    least as long as the opening fence; what lies inside (nested directives) is content.
    """
    lines = source.split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m["fence"]
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        blocks.append((i, min(j, len(lines) - 1), m["name"]))
        i = j + 1
    return blocks


@dataclass
class Directive:
    """One fenced MyST directive: its name, argument, options and body (raw MyST)."""

    name: str
    argument: str
    options: dict[str, str]
    body: str


def parse_directive(lines: list[str]) -> Directive:
    """Parse a directive block (``lines`` from its opening to its closing fence)."""
    m = _FENCE_OPEN.match(lines[0])
    name = m["name"]
    argument = lines[0][m.end() :].strip()
    closed = len(lines) > 1 and lines[-1].strip() and set(lines[-1].strip()) == {m["fence"][0]}
    body = lines[1:-1] if closed else lines[1:]
    options: dict[str, str] = {}
    if body and body[0].strip() == "---":  # options as a YAML block
        end = next((i for i in range(1, len(body)) if body[i].strip() == "---"), None)
        if end is not None:
            loaded = yaml.safe_load("\n".join(body[1:end])) or {}
            options = {str(k): "" if v is None else str(v) for k, v in loaded.items()}
            body = body[end + 1 :]
    else:
        while body and re.match(r"^\s*:[\w-]+:", body[0]):
            key, _, value = body[0].strip()[1:].partition(":")
            options[key] = value.strip()
            body = body[1:]
    while body and not body[0].strip():
        body = body[1:]
    return Directive(name, argument, options, "\n".join(body).rstrip())


def split_blocks(source: str) -> Iterable[tuple[str, list[str]]]:
    """The source as runs of ``(kind, lines)``, kind "text", "code" or "directive"."""
    lines = source.split("\n")
    at = 0
    for first, last, name in fenced_blocks(source):
        if first > at:
            yield "text", lines[at:first]
        yield ("directive" if name else "code"), lines[first : last + 1]
        at = last + 1
    if at < len(lines):
        yield "text", lines[at:]


# --------------------------------------------------------------------------- quoted code
def pyobject_lines(path: Path, pyobject: str) -> list[str]:
    """The lines ``literalinclude`` with ``:pyobject:`` shows, found with :mod:`ast`.

    As Sphinx (``sphinx.pycode.ModuleAnalyzer.find_tags``): from the first decorator (or the
    ``def``/``class`` line) to the object's last line, without trailing blank or comment-only
    lines, indentation kept. ``pyobject`` is ``Name`` (module level) or ``Class.method``.
    """
    text = path.read_text(encoding="utf-8")
    body: list[ast.stmt] = ast.parse(text).body
    node: ast.stmt | None = None
    for part in pyobject.split("."):
        kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        node = next((n for n in body if isinstance(n, kinds) and n.name == part), None)
        if node is None:
            raise ColabError(f"{path.name} has no function or class {pyobject!r}")
        body = node.body if isinstance(node, ast.ClassDef) else []
    assert node is not None
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    lines = text.split("\n")[start - 1 : node.end_lineno]
    while lines and _EMPTY_OR_COMMENT.match(lines[-1]):
        lines.pop()
    return lines


# --------------------------------------------------------------------------- the site
@dataclass
class Target:
    """Where a label points: its page, the HTML anchor, and the text a reference shows."""

    doc: str
    anchor: str
    text: str  # a section's title, a box's full title ("Definition 3.1 (Risk)"), or ""
    kind: str  # "section", "target" or "box"
    name: str = ""  # a box's type as the site prints it: "Definition", "Exercise"
    number: str | None = None  # "5.1" where the site's number is known


@dataclass
class Box:
    """A numbered-or-not box on a page, in document order."""

    kind: str  # "prf:definition", "exercise", ...
    label: str
    title: str
    number: str | None


def box_name(kind: str) -> str:
    """``"prf:definition"`` -> ``"Definition"``, ``"exercise"`` -> ``"Exercise"``."""
    return kind.split(":", 1)[-1].title()


def make_id(label: str) -> str:
    """The HTML id docutils gives a target (``docutils.nodes.make_id``)."""
    from docutils.nodes import make_id as docutils_make_id

    return docutils_make_id(label)


def site_url(config: Mapping) -> str:
    """The public address of the site, ending in ``/`` (see the module docstring)."""
    base = (config.get("html") or {}).get("baseurl")
    if base:
        return base.rstrip("/") + "/"
    url = ((config.get("repository") or {}).get("url") or "").rstrip("/")
    m = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?", url)
    if not m:
        raise ColabError(
            "_config.yml: set html.baseurl to the site's public address (repository.url "
            f"{url!r} is not a GitHub repository whose Pages address could be derived)"
        )
    owner, repo = m.groups()
    if repo.lower() == f"{owner.lower()}.github.io":
        return f"https://{owner.lower()}.github.io/"
    return f"https://{owner.lower()}.github.io/{repo}/"


def chapter_numbers(toc: Mapping, config: Mapping) -> dict[str, int | None]:
    """Each page of ``_toc.yml``: its chapter number (numbered parts) or None."""
    sphinx_cfg = ((config.get("sphinx") or {}).get("config")) or {}
    continuous = (config.get("html") or {}).get("use_multitoc_numbering", True)
    numbers: dict[str, int | None] = {toc["root"]: None}
    n = 0
    for part in toc.get("parts", []):
        if not continuous:
            n = 0
        for chapter in part.get("chapters", []):
            flat = "sections" not in chapter and sphinx_cfg.get("numfig_secnum_depth", 1) == 1
            if part.get("numbered"):
                n += 1
            numbers[chapter["file"]] = n if part.get("numbered") and flat else None
            for section in chapter.get("sections", []):
                numbers[section["file"]] = None
    return numbers


@dataclass
class Page:
    """One page of the book: its Markdown cells (source, tags) in order."""

    doc: str  # "chapters/ch05_backpropagation"
    cells: list[tuple[str, list[str]]]

    @property
    def title(self) -> str:
        for source, _ in self.cells:
            for kind, lines in split_blocks(source):
                for line in lines if kind == "text" else []:
                    m = _HEADING.match(line)
                    if m and len(m["hashes"]) == 1:
                        return m["text"]
        return self.doc


class Bibliography:
    """``references.bib``, read with pybtex: each key's authors and year, as a citation shows."""

    def __init__(self, path: Path):
        self.path = path

    @cached_property
    def entries(self):
        from pybtex.database import parse_file

        return parse_file(str(self.path), "bibtex").entries if self.path.exists() else {}

    @cached_property
    def _plain(self):
        """LaTeX (``M{\\"u}ller``) -> plain text (``Müller``), by pybtex."""
        from pybtex.backends.plaintext import Backend
        from pybtex.richtext import Text

        backend = Backend()
        return lambda latex: Text.from_latex(latex).render(backend)

    @functools.cache  # noqa: B019 - one Bibliography per sync, a few hundred keys
    def author_year(self, key: str) -> tuple[str, str]:
        """``("Rumelhart et al.", "1986")``; two authors ``"A & B"``."""
        entry = self.entries.get(key)
        if entry is None:
            raise ColabError(f"{key!r} is not in {self.path.name}")
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [self._plain(" ".join(p.prelast_names + p.last_names)) for p in people]
        if not names:
            names = [self._plain(entry.fields.get("organization", key))]
        who = names[0] if len(names) == 1 else " & ".join(names) if len(names) == 2 else None
        who = who or f"{names[0]} et al."
        year = entry.fields.get("year") or str(entry.fields.get("date", ""))[:4]
        return who, year


class Site:
    """The book as the site shows it: pages, labels, box numbers, citations, addresses."""

    def __init__(self, root: Path, pages: Mapping[str, Page], config: Mapping, toc: Mapping):
        self.root = root
        self.pages = dict(pages)
        self.url = site_url(config)
        repo = config.get("repository") or {}
        self.repo_url = str(repo.get("url", "")).rstrip("/")
        self.branch = str(repo.get("branch", "main"))
        self.chapters = chapter_numbers(toc, config)
        self.bib_page = str(toc["root"])
        self.bib = Bibliography(root / "references.bib")
        sphinx_cfg = ((config.get("sphinx") or {}).get("config")) or {}
        self.countertype = dict(sphinx_cfg.get("prf_realtyp_to_countertyp") or {})
        self.boxes: dict[str, list[Box]] = {}
        self.labels: dict[str, Target] = {}
        for page in self.pages.values():
            self._index(page)

    # ----------------------------------------------------------------- the index
    def _index(self, page: Page) -> None:
        chapter = self.chapters.get(page.doc)
        counters: dict[str, int] = {}
        boxes: list[Box] = []
        pending: list[str] = []  # (label)= lines waiting for what they label

        def settle(text: str, kind: str = "target") -> None:
            for label in pending:
                self._add(label, Target(page.doc, make_id(label), text, kind))
            pending.clear()

        for source, tags in page.cells:
            removed = "remove-cell" in tags
            for kind, lines in split_blocks(source):
                if kind == "code":
                    settle("")
                    continue
                if kind == "text":
                    for line in lines:
                        target, heading = _TARGET_LINE.match(line), _HEADING.match(line)
                        if target:
                            pending.append(target["label"])
                        elif heading:
                            settle(heading["text"], "section")
                        elif line.strip():
                            settle("")
                    continue
                found = self._boxes_in(lines)
                for box in found:
                    if box.number == "?" and not removed and chapter is not None:
                        counter = self._counter(box.kind)
                        counters[counter] = counters.get(counter, 0) + 1
                        box.number = f"{chapter}.{counters[counter]}"
                    else:
                        box.number = None
                    boxes.append(box)
                    if box.label:
                        self._add(box.label, self._box_target(page.doc, box))
                settle(self.box_title(found[0]) if found else "")
        settle("")
        self.boxes[page.doc] = boxes

    def _add(self, label: str, target: Target) -> None:
        self.labels.setdefault(label, target)

    def _counter(self, kind: str) -> str:
        if kind == "exercise":
            return "exercise"
        realtype = kind.split(":", 1)[1]
        return self.countertype.get(realtype, realtype)

    def _boxes_in(self, lines: list[str]) -> list[Box]:
        """The numbered-or-not boxes (exercise, prf:) of a directive block and of the directives
        nested in it, in order; the number is "?" until :meth:`_index` knows it."""
        d = parse_directive(lines)
        found = []
        if d.name == "exercise" or (d.name.startswith("prf:") and d.name != "prf:proof"):
            number = None if "nonumber" in d.options else "?"
            found.append(Box(d.name, d.options.get("label", ""), d.argument, number))
        for kind, inner in split_blocks(d.body):
            if kind == "directive":
                found += self._boxes_in(inner)
        return found

    def _box_target(self, doc: str, box: Box) -> Target:
        return Target(doc, box.label, self.box_title(box), "box", box_name(box.kind), box.number)

    def box_title(self, box: Box) -> str:
        """The title the site prints on a box: "Definition 3.1 (Title)", "Exercise (Title)"."""
        name = box_name(box.kind)
        head = f"{name} {box.number}" if box.number else name
        return f"{head} ({box.title})" if box.title else head

    # ----------------------------------------------------------------- addresses
    def page_url(self, doc: str, anchor: str = "") -> str:
        return f"{self.url}{doc}.html" + (f"#{anchor}" if anchor else "")

    def source_url(self, rel: str) -> str:
        return f"{self.repo_url}/blob/{self.branch}/{rel}"

    def resolve_doc(self, doc: str, target: str) -> str:
        """The page a ``{doc}`` target names, relative to ``doc`` (or to the root with ``/``)."""
        target = target.strip().removesuffix(".md").removesuffix(".ipynb")
        if target.startswith("/"):
            path = PurePosixPath(target.lstrip("/"))
        else:
            path = PurePosixPath(doc).parent / target
        parts: list[str] = []
        for part in path.parts:
            if part == "..":
                if not parts:
                    raise ColabError(f"{doc}.md: {{doc}} target {target!r} leaves the book")
                parts.pop()
            elif part != ".":
                parts.append(part)
        resolved = "/".join(parts)
        if resolved not in self.pages:
            raise ColabError(f"{doc}.md: {{doc}} target {target!r} is no page of the book")
        return resolved


# --------------------------------------------------------------------------- the conversion
@dataclass
class Converter:
    """Converts the Markdown cells of one page (``doc``) for Colab."""

    site: Site
    doc: str
    cursor: int = 0  # the next box of the page (Site.boxes[doc]), in document order

    def fail(self, what: str) -> ColabError:
        return ColabError(f"{self.doc}.md: {what}")

    # ----------------------------------------------------------------- blocks
    def markdown(self, source: str) -> str:
        out: list[str] = []
        for kind, lines in split_blocks(source):
            if kind == "code":
                out += lines
            elif kind == "directive":
                out += self.directive(parse_directive(lines)).split("\n")
            else:
                out += self.text(lines)
        return "\n".join(out)

    def text(self, lines: list[str]) -> list[str]:
        kept = []
        for line in lines:
            if _TARGET_LINE.match(line) or _COMMENT_LINE.match(line):
                continue
            m = _MATH_LABEL.match(line)
            kept.append(m["dollars"] if m else line)
        return self.inline("\n".join(kept)).split("\n") if kept else []

    def directive(self, d: Directive) -> str:
        if d.name == "literalinclude":
            return self.literalinclude(d)
        if d.name == "prf:proof":
            return quote("**Proof.**", self.markdown(d.body))
        if d.name.startswith("prf:") and d.name[4:] in PROOF_TYPES:
            title = self.site.box_title(self._box(d))
            return quote(f"**{self.inline(title)}**", self.markdown(d.body))
        if d.name == "exercise":
            title = self.site.box_title(self._box(d))
            return quote(f"**{self.inline(title)}**", self.markdown(d.body))
        if d.name == "solution":
            target = self.site.labels.get(d.argument.strip())
            title = f"Solution to {target.text}" if target else "Solution"
            return quote(f"**{self.inline(title)}**", self.markdown(d.body))
        if d.name in ADMONITIONS:
            title = ADMONITIONS[d.name]
            return quote(f"**{title}**", self.markdown(d.body))
        if d.name == "admonition":
            return quote(f"**{self.inline(d.argument or 'Note')}**", self.markdown(d.body))
        raise self.fail(f"the directive {{{d.name}}} has no plain-Markdown form for Colab")

    def _box(self, d: Directive) -> Box:
        """The page's next box (the index and the conversion walk the page in one order)."""
        boxes = self.site.boxes.get(self.doc, [])
        box = boxes[self.cursor] if self.cursor < len(boxes) else None
        if box is None or box.kind != d.name or box.title != d.argument:
            raise self.fail(f"the box {{{d.name}}} {d.argument} is not where the index has it")
        self.cursor += 1
        return box

    def literalinclude(self, d: Directive) -> str:
        extra = set(d.options) - {"pyobject"}
        if extra or "pyobject" not in d.options:
            raise self.fail(
                "literalinclude takes exactly the option :pyobject: here (got "
                f"{sorted(d.options) or 'none'}): Colab shows the object's code"
            )
        rel = (PurePosixPath(self.doc).parent / d.argument.strip()).as_posix()
        path = (self.site.root / rel).resolve()
        try:
            rel = path.relative_to(self.site.root.resolve()).as_posix()
        except ValueError:
            raise self.fail(f"literalinclude of {d.argument!r} leaves the repository") from None
        if not path.is_file():
            raise self.fail(f"literalinclude of a missing file {rel}")
        try:
            code = "\n".join(pyobject_lines(path, d.options["pyobject"]))
        except ColabError as exc:
            raise self.fail(f"literalinclude :pyobject: {exc}") from None
        note = f"From [`{rel}`]({self.site.source_url(rel)}):"
        return f"{note}\n\n```python\n{code}\n```"

    # ----------------------------------------------------------------- roles
    def inline(self, line: str) -> str:
        """Replace the roles of a run of text (a role may span lines), leaving code spans alone."""
        out, i = [], 0
        while i < len(line):
            role = _ROLE.match(line, i) if line[i] == "{" else None
            if role:
                out.append(self.role(role["name"], role["body"]))
                i = role.end()
                continue
            if line[i] == "`":
                ticks = _TICKS.match(line, i).group(0)
                end = line.find(ticks, i + len(ticks))
                if end >= 0:
                    out.append(line[i : end + len(ticks)])
                    i = end + len(ticks)
                    continue
                out.append(ticks)
                i += len(ticks)
                continue
            out.append(line[i])
            i += 1
        return "".join(out)

    def role(self, name: str, body: str) -> str:
        if name in ("cite", "cite:p", "cite:t", "cite:ps", "cite:ts"):
            return self.cite(name, body)
        explicit = _EXPLICIT.match(body)
        text, target = (explicit["text"], explicit["target"]) if explicit else ("", body)
        target = target.strip()
        if name == "doc":
            doc = self.site.resolve_doc(self.doc, target)
            return link(text or self.site.pages[doc].title, self.site.page_url(doc))
        if name in ("ref", "numref", "prf:ref"):
            found = self.site.labels.get(target)
            if found is None:
                raise self.fail(f"{{{name}}} to an unknown label {target!r}")
            shown = text or found.text or target
            if found.kind == "box" and (not text or (name == "numref" and "%s" in text)):
                # the site prints "Algorithm 5.1"; where its number is not known, the box's title
                number = f"{found.name} {found.number}" if found.number else found.text
                shown = text.replace("%s", found.number) if text and found.number else number
            return link(shown, self.site.page_url(found.doc, found.anchor))
        raise self.fail(f"the role {{{name}}} has no plain-Markdown form for Colab")

    def cite(self, name: str, body: str) -> str:
        url = self.site.page_url(self.site.bib_page, "bibliography")
        parts = []
        for key in (k.strip() for k in body.split(",")):
            try:
                who, year = self.site.bib.author_year(key)
            except ColabError as exc:
                raise self.fail(f"{{cite}} {exc}") from None
            if name.startswith("cite:t"):
                parts.append(f"[{who} ({year})]({url})")
            else:
                parts.append(f"[{who} {year}]({url})")
        return "; ".join(parts) if name.startswith("cite:t") else f"({'; '.join(parts)})"


def link(text: str, url: str) -> str:
    text = " ".join(text.split()).replace("[", "\\[").replace("]", "\\]")
    return f"[{text}]({url})"


def quote(title: str, body: str) -> str:
    """A quote block: the bold title, then the body, every line prefixed with ``> ``."""
    lines = [title] + ([""] + body.split("\n") if body.strip() else [])
    return "\n".join(f"> {line}".rstrip() for line in lines)


def raw_myst(markdown: str) -> list[str]:
    """The lines of ``markdown`` with MyST syntax Colab would show raw (empty when clean).

    Code is left alone: a fenced code block, and an inline code span, may show MyST.
    """
    hits = []
    for kind, lines in split_blocks(markdown):
        if kind == "code":
            continue
        for line in lines:
            if RAW_MYST.search(_CODE_SPAN.sub("``", line)):
                hits.append(line)
    return hits


# --------------------------------------------------------------------------- notebooks
def markdown_cells(nb) -> list[tuple[str, list[str]]]:
    """A notebook's Markdown cells as ``(source, tags)``, in order."""
    return [
        (c.source, list(c.metadata.get("tags", []))) for c in nb.cells if c.cell_type == "markdown"
    ]


def build_site(root: Path, notebooks: Mapping, config: Mapping | None = None) -> Site:
    """The :class:`Site` of the book: ``notebooks`` (doc -> notebook, the exercises generated)
    plus the other pages of ``_toc.yml`` (the landing page, ...) read from disk."""
    config = config if config is not None else yaml.safe_load((root / "_config.yml").read_text())
    toc_file = root / "_toc.yml"
    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8")) if toc_file.exists() else {}
    toc = {"root": "intro", "parts": [], **(toc or {})}
    pages = {doc: Page(doc, markdown_cells(nb)) for doc, nb in notebooks.items()}
    listed = [toc["root"]] + [
        entry["file"]
        for part in toc.get("parts", [])
        for chapter in part.get("chapters", [])
        for entry in [chapter, *chapter.get("sections", [])]
    ]
    for doc in listed:
        path = root / f"{doc}.md"
        if doc not in pages and path.exists():
            pages[doc] = Page(doc, [(path.read_text(encoding="utf-8"), [])])
    return Site(root, pages, config, toc)


def convert_notebook(nb, doc: str, site: Site):
    """A copy of ``nb`` whose Markdown cells are plain Markdown (see the module docstring)."""
    import copy

    nb = copy.deepcopy(nb)
    converter = Converter(site, doc)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = converter.markdown(cell.source)
            left = raw_myst(cell.source)
            if left:
                raise converter.fail(f"MyST left after the conversion: {left[0]!r}")
    return nb
