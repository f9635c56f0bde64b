"""The generated files are in sync with their sources, and the generator does what it says."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import booktool
import libref


def test_everything_generated_is_in_sync(root):
    problems = booktool.stale(root)
    assert not problems, "run `make sync` and commit:\n" + "\n".join(problems)


def test_every_notebook_has_a_launch_notebook_and_starts_with_the_setup_cell(root):
    import nbformat

    sources = booktool.notebook_sources(root)
    assert sources, "no notebooks found"
    config = booktool.load_config(root)
    for md in sources:
        assert md.with_suffix(".ipynb").exists(), f"{md.name} has no .ipynb"
        nb = booktool.read_md(md)
        setup = booktool.setup_cell_source(config, booktool.page_requires(nb.metadata, md.name))
        first_code = next(c for c in nb.cells if c.cell_type == "code")
        assert first_code.source == setup, f"{md.name}: stale setup cell"
        launch = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
        assert next(c for c in launch.cells if c.cell_type == "code").source == setup
        text = md.read_text()
        assert "format_name: myst" in text and "kernelspec:" in text, f"{md.name}: front matter"
        # the .ipynb is generated (its Markdown is converted for Colab): no jupytext pairing
        head = text.split("\n---", 1)[0]
        assert "formats:" not in head, f"{md.name}: front matter pairs it with the .ipynb"
        assert "jupytext" not in launch.metadata, f"{md.name}: the .ipynb declares a pairing"


def test_launch_notebooks_have_no_outputs(root):
    import nbformat

    for md in booktool.notebook_sources(root):
        nb = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{md.name} has outputs"


def test_every_solution_has_an_exercise_and_vice_versa(root):
    sols = {p.name for p in (root / "solutions").glob("*.md")}
    exs = {p.name for p in (root / "exercises").glob("*.md")}
    assert sols == exs


def test_toc_lists_every_notebook_and_the_library_reference_and_nothing_else(root):
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = {c["file"] for part in toc["parts"] for c in part["chapters"]}
    sources = {
        md.relative_to(root).with_suffix("").as_posix() for md in booktool.notebook_sources(root)
    }
    assert files == sources | {libref.PAGE.removesuffix(".md")}
    assert (root / f"{toc['root']}.md").exists()


def test_toc_without_solutions_drops_only_that_part(root):
    full = yaml.safe_load((root / "_toc.yml").read_text())
    nosol = yaml.safe_load(booktool.toc_without_solutions(root))
    assert [p["caption"] for p in nosol["parts"]] == [
        p["caption"] for p in full["parts"] if p["caption"] != "Solutions"
    ]
    assert all(
        not c["file"].startswith("solutions/") for p in nosol["parts"] for c in p["chapters"]
    )


def test_setup_cell_follows_the_repository_setting():
    cfg = {"repository": {"url": "https://github.com/someone/fork/", "branch": "dev"}}
    src = booktool.setup_cell_source(cfg)
    assert "git+https://github.com/someone/fork@dev" in src
    with pytest.raises(booktool.BookError, match="repository.url"):
        booktool.setup_cell_source({"repository": {}})


@pytest.mark.parametrize(
    "requires",
    [[], ["sympy>=1.12"], ["sympy", "networkx>=3", "seaborn>=0.13", "plotly", "graphviz>=0.20"]],
    ids=["none", "one", "many"],
)
def test_setup_cell_installs_what_the_page_declares_and_is_ruff_clean(tmp_path, root, requires):
    """The cell pip-installs nnbook and the page's packages, runs, and is ruff-format stable."""
    import subprocess
    import sys

    cfg = {"repository": {"url": "https://github.com/someone/fork", "branch": "dev"}}
    src = booktool.setup_cell_source(cfg, requires)
    assert src.startswith(booktool.SETUP_MARKER)
    code = tmp_path / "cell.py"
    code.write_text(src + "\n")
    ruff = [str(Path(sys.executable).parent / "ruff"), "--config", str(root / "pyproject.toml")]
    for cmd in (["format", "--diff"], ["check"]):
        out = subprocess.run([*ruff, *cmd, str(code)], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
    # What it would run, with pip and find_spec replaced: the pip command and its arguments.
    calls: list[list[str]] = []
    patched = src.replace("subprocess.run(", "run(").replace(
        'importlib.util.find_spec("nnbook") is None', "True"
    )
    exec(compile(patched, "setup cell", "exec"), {"run": lambda args, **kw: calls.append(args)})
    (args,) = calls
    assert args[1:5] == ["-m", "pip", "install", "-q"]
    assert args[5:] == ["nnbook @ git+https://github.com/someone/fork@dev", *requires]


@pytest.mark.parametrize(
    "declared, message",
    [
        ("sympy", "must be a list"),
        (["sympy==1.12"], "pins"),
        (["numpy<2"], "caps"),
        (["not a requirement!"], "no pip requirement"),
        (["nnbook"], "name packages by name"),
        (["pkg @ https://example.org/pkg.whl"], "name packages by name"),
    ],
)
def test_page_requirements_are_checked(declared, message):
    with pytest.raises(booktool.BookError, match=message):
        booktool.page_requires({"nnbook": {"requires": declared}}, "chapters/x.md")
    assert booktool.page_requires({}, "chapters/x.md") == []
    assert booktool.page_requires({"nnbook": {"requires": ["a>=1", "b"]}}, "x") == ["a>=1", "b"]


def test_a_page_declares_its_extra_packages_in_its_front_matter(tmp_path, root):
    book = _make_book(
        tmp_path,
        root,
        SOLUTION.replace("kernelspec:", 'nnbook:\n  requires: ["sympy>=1.12"]\nkernelspec:', 1),
    )
    booktool.sync(book)
    for path in (
        "solutions/ex9_9.md",
        "exercises/ex9_9.md",
        "solutions/ex9_9.ipynb",
        "exercises/ex9_9.ipynb",
    ):
        text = (book / path).read_text()
        assert "sympy>=1.12" in text, path
    # the source keeps its declaration and its layout; only the setup cell and pairing changed
    src = (book / "solutions" / "ex9_9.md").read_text()
    assert 'nnbook:\n  requires: ["sympy>=1.12"]\n' in src and "formats:" not in src


# --------------------------------------------------------------------------- the generator
SOLUTION = """---
jupytext:
  formats: ipynb,md:myst
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

```{code-cell} ipython3
:tags: [remove-cell]

# Setup: install the book's library `nnbook` where it is missing (e.g. on Colab).
```

# Solutions to Exercise 9.9: doubling

```{exercise} 9.9(a) Double it
:label: sol-ex9-9a
:nonumber:

Write `double(x)`.
```

```{code-cell} ipython3
def double(x):
    y = x
    # BEGIN SOLUTION
    return 2 * y
    # END SOLUTION
```

+++ {"tags": ["solution"]}

```{solution} sol-ex9-9a
The secret answer is $2x$.
```

```{code-cell} ipython3
:tags: [solution]

print("secret demo", double(3))
```
"""


def _make_book(tmp_path: Path, root: Path, solution: str) -> Path:
    shutil.copy(root / "_config.yml", tmp_path / "_config.yml")
    for d in booktool.NOTEBOOK_DIRS:
        (tmp_path / d).mkdir()
    (tmp_path / "solutions" / "ex9_9.md").write_text(solution)
    return tmp_path


def test_generator_stubs_solutions_and_hides_answers(tmp_path, root):
    book = _make_book(tmp_path, root, SOLUTION)
    assert "missing: exercises/ex9_9.md" in booktool.stale(book)
    booktool.sync(book)
    assert booktool.stale(book) == []
    ex = (book / "exercises" / "ex9_9.md").read_text()
    assert "return 2 * y" not in ex and "secret" not in ex
    assert "    y = x\n    raise NotImplementedError(" in ex
    assert "*Your answer here.*" in ex
    assert ":label: ex9-9a" in ex and "sol-ex" not in ex
    assert "# Exercise 9.9: doubling" in ex and "Solutions to" not in ex
    sol = (book / "solutions" / "ex9_9.md").read_text()
    assert "git+https://github.com" in sol, (
        "the setup cell of the source is rewritten from _config.yml"
    )
    assert "return 2 * y" in sol
    assert "formats:" not in sol, "the source is no longer paired with the .ipynb"


def test_editing_a_solution_makes_the_exercise_stale(tmp_path, root):
    book = _make_book(tmp_path, root, SOLUTION)
    booktool.sync(book)
    src = book / "solutions" / "ex9_9.md"
    src.write_text(src.read_text().replace("Write `double(x)`.", "Write `double(x)` please."))
    assert set(booktool.stale(book)) == {
        "out of date: exercises/ex9_9.md",
        "out of date: exercises/ex9_9.ipynb",
        "out of date: solutions/ex9_9.ipynb",
    }


@pytest.mark.parametrize(
    "broken, message",
    [
        (SOLUTION.replace("    # END SOLUTION\n", ""), "never closed"),
        (SOLUTION.replace("    # BEGIN SOLUTION\n", ""), "without"),
        (SOLUTION.replace("# Solutions to Exercise", "# Exercise"), "Solutions to"),
        (SOLUTION.replace("# Setup: install", "# Something else"), "setup cell"),
    ],
)
def test_generator_rejects_malformed_sources(tmp_path, root, broken, message):
    book = _make_book(tmp_path, root, broken)
    with pytest.raises(booktool.BookError, match=message):
        booktool.sync(book)


# --------------------------------------------------------------------------- what survives
STATEMENTS = SOLUTION.replace(
    """```{code-cell} ipython3
:tags: [solution]
""",
    """+++

## (b) Triple it

```{exercise} 9.9(b) Triple it
:label: sol-ex9-9b
:nonumber:

Define $t(x) = 3x$ and write `triple(x)`.
```

````{solution} sol-ex9-9b
:label: sol-ex9-9b-answer

```{prf:proof}
The hidden derivation.
```
````

Prose the student needs, after an untagged solution.

```{prf:algorithm} Tripling
:label: sol-alg-triple

1. Multiply by three.
```

As {prf:ref}`sol-alg-triple` says.

```{code-cell} ipython3
:tags: [solution]
""",
)


def _sync_one(tmp_path, root, source):
    book = _make_book(tmp_path, root, source)
    booktool.sync(book)
    return (book / "exercises" / "ex9_9.md").read_text()


def test_statements_headings_and_algorithm_boxes_survive(tmp_path, root):
    ex = _sync_one(tmp_path, root, STATEMENTS)
    for kept in (
        "## (b) Triple it",
        "```{exercise} 9.9(b) Triple it\n:label: ex9-9b\n:nonumber:\n\nDefine $t(x) = 3x$",
        "Prose the student needs, after an untagged solution.",
        "```{prf:algorithm} Tripling\n:label: alg-triple\n\n1. Multiply by three.\n```",
        "As {prf:ref}`alg-triple` says.",
        "```{exercise} 9.9(a) Double it",
    ):
        assert kept in ex, kept
    for removed in ("secret", "hidden derivation", "{solution}", "prf:proof", "sol-"):
        assert removed not in ex, removed
    assert ex.count("*Your answer here.*") == 2  # one per {solution} block


def test_only_solution_blocks_and_cells_are_removed(tmp_path, root):
    sol_nb = booktool.read_md(
        _make_book(tmp_path, root, STATEMENTS) / "solutions" / "ex9_9.md"
    )  # the source, parsed
    ex = booktool.make_exercise(sol_nb, "solutions/ex9_9.md")
    sol_cells = [c for c in sol_nb.cells if "solution" not in c.metadata.get("tags", [])]
    # every untagged markdown cell keeps all its lines outside {solution} blocks
    ex_md = [c.source for c in ex.cells if c.cell_type == "markdown"]
    for cell in sol_cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.split("\n")
        hidden = {
            i
            for a, b, name in booktool.fenced_blocks(cell.source)
            if name == "solution"
            for i in range(a, b + 1)
        }
        for i, line in enumerate(lines):
            if i not in hidden and line.strip():
                want = line.replace("sol-", "").replace("# Solutions to ", "# ")
                assert any(want in s for s in ex_md), line
    # the code cells: the tagged demonstration is gone, the rest are there
    ex_code = [c.source for c in ex.cells if c.cell_type == "code"]
    assert len(ex_code) == sum(
        c.cell_type == "code" and "solution" not in c.metadata.get("tags", []) for c in sol_nb.cells
    )
    assert not any("secret demo" in s for s in ex_code)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if line.startswith(needle))


@pytest.mark.parametrize(
    "broken, culprit",
    [
        # the classic: no `+++` after the solution block, so the next heading joins the cell
        (STATEMENTS.replace("```\n\n+++\n\n## (b) Triple it", "```\n\n## (b) Triple it"), "## (b)"),
        # prose before the block in a tagged cell
        (
            SOLUTION.replace(
                '+++ {"tags": ["solution"]}\n\n', '+++ {"tags": ["solution"]}\n\nAn intro.\n\n'
            ),
            "An intro.",
        ),
    ],
    ids=["missing-cell-break", "prose-in-solution-cell"],
)
def test_a_solution_cell_with_anything_else_fails_with_file_and_line(
    tmp_path, root, broken, culprit
):
    book = _make_book(tmp_path, root, broken)
    line = _line_of(broken, culprit)
    with pytest.raises(booktool.BookError, match=rf"solutions/ex9_9\.md, line {line}:") as info:
        booktool.stale(book)
    assert "+++" in str(info.value) and culprit[:6] in str(info.value)
    assert booktool.check(book) == 2  # what `make check-sync` runs


def test_a_tagged_cell_without_a_solution_block_fails(tmp_path, root):
    broken = SOLUTION.replace(
        "```{solution} sol-ex9-9a\nThe secret answer is $2x$.\n```", "The secret answer is $2x$."
    )
    book = _make_book(tmp_path, root, broken)
    with pytest.raises(booktool.BookError, match="no {solution} block"):
        booktool.sync(book)


@pytest.mark.parametrize(
    "label_line",
    [":label: alg-triple", "(alg-triple)=", "$$ (alg-triple)"],
    ids=["option", "target", "math"],
)
def test_a_solution_label_without_the_sol_prefix_fails_with_file_and_line(
    tmp_path, root, label_line
):
    """The exercise page repeats the solution's boxes: a label must not be defined twice."""
    broken = STATEMENTS.replace(":label: sol-alg-triple", label_line)
    if not label_line.startswith(":"):
        broken = broken.replace(
            "```{prf:algorithm} Tripling\n", label_line + "\n\n```{prf:algorithm} Tripling\n"
        )
    book = _make_book(tmp_path, root, broken)
    line = _line_of(broken, label_line)
    with pytest.raises(booktool.BookError, match=rf"ex9_9\.md, line {line}: label 'alg-triple'"):
        booktool.sync(book)


def test_fenced_blocks_follow_commonmark():
    src = "\n".join(
        [
            "text",  # 0
            "````{solution} a",  # 1
            "```{prf:proof}",  # 2  nested: content of the outer block
            "```",  # 3  too short to close the outer block
            "````",  # 4
            ":::{note}",  # 5
            "::::",  # 6  longer colon fence closes it too
            "```python",  # 7
            "```{solution} not a directive inside code",  # 8
            "```",  # 9
        ]
    )
    assert booktool.fenced_blocks(src) == [(1, 4, "solution"), (5, 6, "note"), (7, 9, None)]


def test_every_real_exercise_keeps_the_outline_of_its_solution(root):
    """Headings, {exercise} boxes and prf: boxes of every solution page are on its exercise page."""
    sources = sorted((root / "solutions").glob("*.md"))
    assert sources
    for sol in sources:
        ex = root / "exercises" / sol.name
        want = [
            item.replace("# Solutions to ", "# ", 1).replace("sol-", "")
            for item in booktool.outline(booktool.read_md(sol))
        ]
        got = booktool.outline(booktool.read_md(ex))
        assert got == want, f"{ex.name} lost part of the outline of {sol.name}"
        assert any(item.startswith("{exercise}") for item in got), f"{sol.name}: no statement"


# --------------------------------------------------------------------------- make format
def test_format_rewrites_only_the_code_cells_and_makes_the_pairs_format_stable(tmp_path, root):
    import subprocess
    import sys

    ugly = SOLUTION.replace(
        "def double(x):\n    y = x\n",
        "import os,sys\ndef double( x ):\n    y=x # keep  this   comment\n",
    ).replace("Write `double(x)`.", "Write `double(x)`,  with   two spaces kept in prose.")
    book = _make_book(tmp_path, root, ugly)
    shutil.copy(root / "pyproject.toml", book / "pyproject.toml")
    assert booktool.format_sources(book) == ["solutions/ex9_9.md"]
    text = (book / "solutions" / "ex9_9.md").read_text()
    assert "def double(x):\n    y = x  # keep  this   comment\n" in text
    assert "import os" not in text  # ruff check --fix removed the unused imports
    assert "Write `double(x)`,  with   two spaces kept in prose." in text
    assert "    # BEGIN SOLUTION\n    return 2 * y\n    # END SOLUTION" in text
    assert booktool.format_sources(book) == []  # idempotent
    booktool.sync(book)
    ruff = Path(sys.executable).parent / "ruff"
    config = ["--config", str(root / "pyproject.toml")]
    pairs = [str(book / d / "ex9_9.ipynb") for d in ("solutions", "exercises")]
    out = subprocess.run([ruff, "format", "--check", *config, *pairs], capture_output=True)
    assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()
