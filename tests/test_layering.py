"""The library's layering, read from the source with `ast` (nothing is imported).

* ``nnbook.engine`` (what students study) imports neither torch, matplotlib, ``nnbook.chapters``,
  ``nnbook.viz`` nor ``nnbook.pytorch``, not even inside a function;
* ``nnbook.data`` and ``nnbook.viz`` do not import ``nnbook.chapters``;
* a chapter module (``nnbook.chapters.<page>``) serves one page: no other module of the library
  imports it (a helper a second page needs moves to ``engine/`` or ``pytorch/``);
* there are no import cycles among the modules' module-level imports.

The same functions run on a small synthetic package, to show that each rule can fail.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parent.parent / "lib"


# --------------------------------------------------------------------------- reading imports
def modules_of(lib: Path, package: str = "nnbook") -> dict[str, Path]:
    """Every module of ``package`` under ``lib``: dotted name -> file."""
    found = {}
    for path in sorted((lib / package).rglob("*.py")):
        parts = list(path.relative_to(lib).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def imports_of(
    name: str, path: Path, modules: dict[str, Path], *, module_level: bool = False
) -> list[tuple[str, int]]:
    """The absolute names ``name`` imports, with line numbers.

    Relative imports are resolved; ``from package import x`` names the submodule ``package.x``
    when there is one. With ``module_level``, only imports that run when the module is imported:
    not those inside functions, nor under ``if TYPE_CHECKING:``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        if module_level and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        if module_level and isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((a.name, node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for a in node.names:
                sub = f"{source}.{a.name}"
                found.append((sub if sub in modules else source, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


# --------------------------------------------------------------------------- the rules
FORBIDDEN = {
    "nnbook.engine": ("torch", "matplotlib", "nnbook.chapters", "nnbook.viz", "nnbook.pytorch"),
    "nnbook.data": ("nnbook.chapters",),
    "nnbook.viz": ("nnbook.chapters",),
}


def layering_violations(lib: Path) -> list[str]:
    """Every import that breaks a rule, as ``file, line N: a imports b (why)``."""
    modules = modules_of(lib)
    problems = []
    for name, path in modules.items():
        where = path.relative_to(lib).as_posix()
        for target, line in imports_of(name, path, modules):
            for layer, banned in FORBIDDEN.items():
                hit = next((b for b in banned if _within(target, b)), None)
                if _within(name, layer) and hit:
                    problems.append(
                        f"{where}, line {line}: {name} imports {target} ({layer} may not "
                        f"import {hit})"
                    )
            if (
                _within(target, "nnbook.chapters")
                and target != "nnbook.chapters"
                and not _within(name, target)
            ):
                problems.append(
                    f"{where}, line {line}: {name} imports the chapter module {target}, which "
                    "serves one page (move what a second page needs to engine/ or pytorch/)"
                )
    return problems


def import_graph(lib: Path) -> dict[str, set[str]]:
    """module -> the modules of the package it imports when it is imported."""
    modules = modules_of(lib)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {t for t, _ in imports_of(name, path, modules, module_level=True)}
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``[a, b, ..., a]``, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := dfs(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := dfs(node)):
            return cycle
    return None


# --------------------------------------------------------------------------- the real library
def test_the_library_is_found():
    modules = modules_of(LIB)
    for required in ("nnbook", "nnbook.engine.layers", "nnbook.pytorch.train", "nnbook.viz.plots"):
        assert required in modules
    assert any(m.startswith("nnbook.chapters.") for m in modules)


def test_the_layers_import_only_what_they_may():
    problems = layering_violations(LIB)
    assert not problems, "layering violations:\n" + "\n".join(problems)


def test_there_are_no_import_cycles():
    graph = import_graph(LIB)
    assert "nnbook.engine.activations" in graph["nnbook.exercises.ex10_1_xor"]  # the graph is read
    assert sum(map(len, graph.values())) > 50
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


# --------------------------------------------------------------------------- the rules can fail
SYNTHETIC = {
    "__init__.py": "",
    "engine/__init__.py": "from . import core\n",
    "engine/core.py": """
        import numpy as np

        def plot(x):
            import matplotlib.pyplot as plt  # inside a function: still a violation
            return plt.plot(x)

        def to_torch(x):
            from ..pytorch import convert
            return convert
        """,
    "engine/typed.py": """
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from nnbook.viz import plots
        """,
    "pytorch/__init__.py": "",
    "pytorch/convert.py": "from ..engine import core\n",
    "chapters/__init__.py": "",
    "chapters/ch01_a.py": "from .ch02_b import helper\n",
    "chapters/ch02_b.py": "def helper():\n    pass\n",
    "data/__init__.py": "from nnbook.chapters import ch01_a\n",
    "viz/__init__.py": "",
    "viz/a.py": "from . import b\n",
    "viz/b.py": "from .c import f\n",
    "viz/c.py": """
        def f():
            from . import a  # lazy: not part of the module-level graph
        from nnbook.viz import a
        """,
}


@pytest.fixture
def synthetic(tmp_path) -> Path:
    for rel, text in SYNTHETIC.items():
        path = tmp_path / "nnbook" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return tmp_path


def test_violations_are_caught_with_file_and_line(synthetic):
    problems = layering_violations(synthetic)
    expected = [
        "nnbook/engine/core.py, line 4: nnbook.engine.core imports matplotlib.pyplot",
        "nnbook/engine/core.py, line 8: nnbook.engine.core imports nnbook.pytorch.convert",
        "nnbook/engine/typed.py, line 4: nnbook.engine.typed imports nnbook.viz ",
        "nnbook/chapters/ch01_a.py, line 1: nnbook.chapters.ch01_a imports the chapter module "
        "nnbook.chapters.ch02_b",
        "nnbook/data/__init__.py, line 1: nnbook.data imports nnbook.chapters.ch01_a",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert len(problems) == len(expected) + 1  # data also imports a chapter module of a page
    assert not any("numpy" in p or "pytorch/convert.py" in p for p in problems)


def test_an_import_cycle_is_reported_with_its_path(synthetic):
    graph = import_graph(synthetic)
    assert graph["nnbook.viz.a"] == {"nnbook.viz.b"}
    assert graph["nnbook.viz.b"] == {"nnbook.viz.c"}
    assert find_cycle(graph) == ["nnbook.viz.a", "nnbook.viz.b", "nnbook.viz.c", "nnbook.viz.a"]
    # engine.core -> pytorch.convert -> engine.core is lazy (inside a function): no cycle
    assert "nnbook.pytorch.convert" not in graph["nnbook.engine.core"]


def test_without_the_module_level_import_there_is_no_cycle(synthetic):
    c = synthetic / "nnbook" / "viz" / "c.py"
    c.write_text(c.read_text().replace("from nnbook.viz import a\n", ""))
    assert find_cycle(import_graph(synthetic)) is None
