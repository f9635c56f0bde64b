"""The harness the exercise tests share: the student functions of a solution page and of the
exercise generated from it, and the assertions about a check's verdict.

A test module of Exercise 10.x takes its ``solution`` and ``exercise`` fixtures from
:func:`notebook_fixtures`, named by the solution page, the functions it defines and the
namespace its code cells expect (what the page's setup and import cells would have defined).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

import booktool  # tools/ is on sys.path (tests/conftest.py)
from nnbook.exercises.checks import CheckFailed

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


def functions_from(
    nb, names: Iterable[str], namespace: dict, also: tuple[str, ...] = ()
) -> dict[str, object]:
    """Execute the code cells of ``nb`` that define one of ``names`` (and those whose source
    starts with one of the prefixes ``also``) in a copy of ``namespace``; return those names."""
    names = tuple(names)
    namespace = dict(namespace)
    for cell in nb.cells:
        source = cell.source
        defines = any(f"def {name}(" in source for name in names)
        if cell.cell_type == "code" and (defines or source.startswith(also)):
            exec(compile(source, "<notebook cell>", "exec"), namespace)
    missing = [name for name in names if name not in namespace]
    assert not missing, f"the notebook does not define {missing}"
    return {name: namespace[name] for name in names}


def notebook_fixtures(page: str, names: Iterable[str], namespace: dict, also: tuple[str, ...] = ()):
    """The module-scoped fixtures ``solution`` and ``exercise``: the functions ``names`` as
    ``solutions/<page>`` defines them, and as the exercise ``tools/booktool.py`` generates from
    it (stubs raising NotImplementedError). Assign them in the test module:
    ``solution, exercise = notebook_fixtures(...)``."""
    names = tuple(names)
    path = SOLUTIONS / page

    @pytest.fixture(scope="module")
    def solution() -> dict:
        return functions_from(booktool.read_md(path), names, namespace, also)

    @pytest.fixture(scope="module")
    def exercise() -> dict:
        nb = booktool.make_exercise(booktool.read_md(path), f"solutions/{page}", path.read_text())
        return functions_from(nb, names, namespace, also)

    return solution, exercise


def fails(check, answer, *needles: str) -> str:
    """Run ``check(answer)``, expect CheckFailed, and that its message contains every needle."""
    with pytest.raises(CheckFailed) as info:
        check(answer)
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in message:\n{message}"
    return message


def stub(*args, **kwargs):
    """A student's function not written yet, as the generated exercise has it."""
    raise NotImplementedError("Your code here")
