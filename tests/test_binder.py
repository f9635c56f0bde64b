"""The Binder environment (`binder/`) agrees with the pinned one the book is built with.

mybinder.org builds `binder/` with repo2docker: Python from `runtime.txt`, then
`requirements.txt`, then `postBuild`. Nothing there is tested by a build here, so this module
checks what would break it: the Python version (the one the Makefile requires and
`pyproject.toml` allows), every pin equal to `requirements.txt`'s, every package the book
imports installed, and the `postBuild` steps (nnbook installed, `.md` sources opening as
notebooks). The last tests run the same checks on a tampered copy and expect each to fail.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata as md
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jupytext
import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

#: What Binder needs beyond the book's own imports: the notebook interface and the kernel.
INTERFACE = ("jupyterlab", "jupytext", "ipykernel")
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
NOTEBOOK_FOLDERS = ("chapters", "exercises", "solutions")
#: JupyterLab's defaults for the book (Binder's postBuild and `make install` copy them).
LAB_SETTINGS = "jupyterlab-settings.json"
LABCONFIG = "~/.jupyter/labconfig/default_setting_overrides.json"
DOCMANAGER = "@jupyterlab/docmanager-extension:plugin"
BINDER_FILES = ("binder", "requirements.txt", "pyproject.toml", "Makefile")


# --------------------------------------------------------------------------- reading the files
def read_pins(path: Path) -> dict[str, str]:
    """``{canonical name: version}`` of the ``name==version`` lines of a requirements file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        req = Requirement(line)
        spec = list(req.specifier)
        assert len(spec) == 1 and spec[0].operator == "==", f"{path.name}: {line!r} is not pinned"
        pins[canonicalize_name(req.name)] = spec[0].version
    return pins


def read_options(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip().startswith("-") and not line.strip().startswith("-e")
    ]


def lab_settings(root: Path) -> dict:
    return json.loads((root / "binder" / LAB_SETTINGS).read_text())


def makefile_python(root: Path) -> str:
    """The Python version the Makefile builds `.venv` with (``PYTHON_VERSION := 3.11``)."""
    m = re.search(r"^PYTHON_VERSION\s*:?=\s*(\d+\.\d+)\s*$", (root / "Makefile").read_text(), re.M)
    assert m, "the Makefile sets no PYTHON_VERSION"
    return m.group(1)


def pyproject(root: Path) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text())


# --------------------------------------------------------------------------- what the book imports
def _top_level_imports(code: str) -> set[str]:
    # IPython magics and shell escapes are not Python
    code = "\n".join(
        "pass" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines()
    )
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@functools.cache
def _notebook_imports(text: str) -> frozenset[str]:
    cells = jupytext.reads(text, fmt="md:myst").cells
    return frozenset().union(
        *(_top_level_imports(c.source) for c in cells if c.cell_type == "code")
    )


@functools.cache
def _module_imports(text: str) -> frozenset[str]:
    return frozenset(_top_level_imports(text))


def book_imports(root: Path) -> dict[str, str]:
    """``{top-level module: a file importing it}``, for the notebooks and the library."""
    found: dict[str, str] = {}
    files = [
        (p, _notebook_imports) for f in NOTEBOOK_FOLDERS for p in sorted((root / f).glob("*.md"))
    ]
    files += [(p, _module_imports) for p in sorted((root / "lib" / "nnbook").rglob("*.py"))]
    for path, imports in files:
        for name in sorted(imports(path.read_text())):
            found.setdefault(name, str(path.relative_to(root)))
    return {
        name: where
        for name, where in found.items()
        if name not in sys.stdlib_module_names and name != "nnbook"
    }


@functools.cache
def installed_closure(names: frozenset[str]) -> frozenset[str]:
    """``names`` and everything they require, transitively, as installed in this environment."""
    env = default_environment()
    env["extra"] = ""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        for line in requires:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate(env):
                todo.append(canonicalize_name(req.name))
    return frozenset(seen)


@functools.cache
def _owners() -> dict[str, list[str]]:
    return md.packages_distributions()


# --------------------------------------------------------------------------- the checks
def binder_problems(root: Path) -> list[str]:
    """Every way in which ``root/binder`` disagrees with the pinned environment; [] if none."""
    problems = []
    binder = root / "binder"

    # Python: runtime.txt says the Makefile's version, which pyproject.toml allows.
    version = makefile_python(root)
    runtime = binder / "runtime.txt"
    got = runtime.read_text().strip() if runtime.exists() else "(no binder/runtime.txt)"
    if got != f"python-{version}":
        problems.append(f"binder/runtime.txt says {got!r}; the Makefile builds with {version}")
    requires = pyproject(root)["project"]["requires-python"]
    if f"{version}.0" not in SpecifierSet(requires):
        problems.append(f"Python {version} is outside pyproject's requires-python {requires!r}")

    # Pins: each one equal to requirements.txt's.
    pins, reference = read_pins(binder / "requirements.txt"), read_pins(root / "requirements.txt")
    for name, pin in sorted(pins.items()):
        if name not in reference:
            problems.append(f"binder pins {name}=={pin}, which requirements.txt does not pin")
        elif reference[name] != pin:
            problems.append(
                f"binder pins {name}=={pin}, requirements.txt {name}=={reference[name]}"
            )
    for name in INTERFACE:
        if name not in pins:
            problems.append(f"binder/requirements.txt does not install {name}")
    if f"--extra-index-url {TORCH_CPU_INDEX}" not in read_options(binder / "requirements.txt"):
        problems.append(f"binder/requirements.txt lacks the CPU torch index ({TORCH_CPU_INDEX})")

    # nnbook is installed with --no-deps: binder must pin its dependencies and offline extra.
    project = pyproject(root)["project"]
    declared = list(project["dependencies"]) + [
        r for extra in project.get("optional-dependencies", {}).values() for r in extra
    ]
    for line in declared:
        name = canonicalize_name(Requirement(line).name)
        if name not in pins:
            problems.append(f"nnbook needs {name} (pyproject.toml), which binder does not pin")

    # Every package the book imports is pinned in binder or required by one that is.
    available = installed_closure(frozenset(pins))
    owners = _owners()
    for module, where in sorted(book_imports(root).items()):
        dists = {canonicalize_name(d) for d in owners.get(module, [])}
        if not dists:
            problems.append(f"{where} imports {module}, which no installed package provides")
        elif not dists & available:
            problems.append(f"{where} imports {module} ({', '.join(sorted(dists))}), not in binder")

    # postBuild: executable, installs nnbook without touching the pins, sets the viewer.
    post = binder / "postBuild"
    text = post.read_text() if post.exists() else ""
    if not os.access(post, os.X_OK):
        problems.append("binder/postBuild is missing or not executable")
    if not re.search(r"^python -m pip install --no-deps -e \.$", text, re.M):
        problems.append("binder/postBuild does not install nnbook (pip install --no-deps -e .)")
    if not re.search(rf"^cp binder/{LAB_SETTINGS} {LABCONFIG}$", text, re.M):
        problems.append(f"binder/postBuild does not install {LAB_SETTINGS} as {LABCONFIG}")
    viewers = lab_settings(root).get(DOCMANAGER, {}).get("defaultViewers", {})
    if viewers.get("markdown") != "Jupytext Notebook":
        problems.append(f"{LAB_SETTINGS} does not make Jupytext the viewer of .md files")
    if "python" in viewers:
        problems.append(f"{LAB_SETTINGS} opens .py files as notebooks (the library's too)")
    return problems


# --------------------------------------------------------------------------- tests
def test_binder_agrees_with_the_pinned_environment(root):
    assert binder_problems(root) == []


def test_binder_python_is_the_one_pyproject_and_the_makefile_name(root):
    assert (root / "binder" / "runtime.txt").read_text() == f"python-{makefile_python(root)}\n"


def test_the_book_imports_what_binder_must_provide(root):
    """The import scan sees what the pages use (a scan that finds nothing proves nothing)."""
    imports = book_imports(root)
    assert {"numpy", "torch", "matplotlib", "pandas", "sklearn", "IPython"} <= set(imports)


def test_postbuild_installs_the_lab_settings(root, tmp_path):
    """Run postBuild's JupyterLab lines in an empty home; JupyterLab reads what they write."""
    text = (root / "binder" / "postBuild").read_text()
    lines = [x for x in text.splitlines() if "labconfig" in x and not x.startswith("#")]
    subprocess.run(
        ["bash", "-c", "\n".join(lines)],
        cwd=root,
        env={**os.environ, "HOME": str(tmp_path)},
        check=True,
    )
    written = tmp_path / ".jupyter" / "labconfig" / "default_setting_overrides.json"
    assert json.loads(written.read_text()) == lab_settings(root)


# ------------------------------------------------------------------ the checks can fail
@pytest.fixture
def tampered(root, tmp_path) -> Path:
    """A copy of the files the checks read, which each test below breaks in one way."""
    for name in BINDER_FILES:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name)
        else:
            shutil.copy2(src, tmp_path / name)
    for folder in NOTEBOOK_FOLDERS:
        shutil.copytree(root / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.ipynb"))
    shutil.copytree(root / "lib", tmp_path / "lib", ignore=shutil.ignore_patterns("__pycache__"))
    assert binder_problems(tmp_path) == [], "the untampered copy must pass"
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_a_different_pin_is_reported(tampered):
    _edit(tampered / "binder" / "requirements.txt", "numpy==", "numpy==1.26.4\n# ")
    assert any("numpy==1.26.4" in p for p in binder_problems(tampered))


def test_repo2docker_default_python_is_reported(tampered):
    (tampered / "binder" / "runtime.txt").unlink()
    assert any("runtime.txt" in p for p in binder_problems(tampered))
    (tampered / "binder" / "runtime.txt").write_text("python-3.10\n")
    assert any("python-3.10" in p for p in binder_problems(tampered))


def test_a_missing_dependency_of_nnbook_is_reported(tampered):
    _edit(tampered / "binder" / "requirements.txt", "pooch==", "# pooch==")
    assert any("pooch" in p for p in binder_problems(tampered))


def test_a_new_import_binder_lacks_is_reported(tampered):
    page = tampered / "chapters" / "ch01_universal_approximation.md"
    _edit(page, "import numpy as np", "import numpy as np\nimport hypothesis")
    assert any("imports hypothesis" in p for p in binder_problems(tampered))


def test_the_cpu_index_and_the_viewer_are_required(tampered):
    _edit(tampered / "binder" / "requirements.txt", f"--extra-index-url {TORCH_CPU_INDEX}", "")
    _edit(
        tampered / "binder" / LAB_SETTINGS,
        '"markdown": "Jupytext Notebook"',
        '"markdown": "Editor"',
    )
    problems = binder_problems(tampered)
    assert any("CPU torch index" in p for p in problems)
    assert any("viewer of .md" in p for p in problems)
    _edit(tampered / "binder" / "postBuild", f"cp binder/{LAB_SETTINGS}", "true")
    assert any(f"install {LAB_SETTINGS}" in p for p in binder_problems(tampered))
