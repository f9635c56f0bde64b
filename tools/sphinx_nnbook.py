"""The book's local Sphinx extension (loaded through `_config.yml`).

1. **The execution cache follows the library.** Jupyter Book reuses executed notebooks through
   jupyter-cache (``execute_notebooks: cache``), whose key is a notebook's code cells (and
   kernelspec): a prose edit reuses the outputs, a code edit re-executes that notebook. The
   outputs also depend on the library and the pinned environment, which that key does not
   see. So at ``config-inited`` we hash every file under ``lib/`` with ``requirements.txt``
   and ``pyproject.toml`` and point ``nb_execution_cache_path`` at
   ``<cache>/<digest>`` (``<cache>`` is ``_build/.jupyter_cache`` beside the HTML output
   unless ``execute.cache`` says otherwise): after any change there the cache is empty, and,
   the path being a configuration value that Sphinx tracks, every page is read again, so every
   notebook runs again. Caches of other digests are deleted. A build into a fresh
   ``--path-output`` (the test site, CI) starts from an empty cache.
2. **Cold builds run notebooks in parallel.** Before Sphinx reads the pages, the notebooks it
   is about to read that the cache lacks are executed ``NNBOOK_EXECUTE_JOBS`` at a time
   (``make book`` sets it to 2) with jupyter-cache's local-parallel worker, and cached;
   Sphinx then finds them there. A notebook that fails here is left to Sphinx, which runs it
   again and reports the error as usual. Without the variable (or with 1) nothing changes.
3. sphinx-thebe registers its inline configuration script once per read phase; when a build
   reads documents more than once (as Jupyter Book's does), every page declares
   ``const THEBE_JS_URL`` twice and the browser reports a JavaScript error. We remove
   duplicate script registrations before any page is written.
4. **Citations are a list of list items.** Docutils writes a bibliography as
   ``<div role="list">`` holding ``<div role="doc-biblioentry">`` entries. DPUB-ARIA 1.1
   deprecates ``doc-biblioentry``, and assistive technology then finds a list without list
   items (axe: ``aria-required-children``, critical; ``aria-deprecated-role`` and
   ``aria-allowed-role``). Each entry becomes ``role="listitem"``, what DPUB-ARIA 1.1 says to
   use instead.
5. **Blank header cells of tables are data cells.** pandas writes the corner above a
   DataFrame's index, and the cells beside a named index, as empty ``<th>`` header cells,
   which label nothing (axe: ``empty-table-header``); in a table's ``<thead>`` an empty
   ``<th>`` becomes an empty ``<td>``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import multiprocessing
import os
import re
import shutil
from pathlib import Path

#: The files besides ``lib/**`` whose content the executed outputs depend on.
ENVIRONMENT_FILES = ("requirements.txt", "pyproject.toml")
#: Under ``lib/``: build artefacts that do not change what the code does.
IGNORED = ("__pycache__", "*.pyc", "*.egg-info", ".DS_Store")
DIGEST_LENGTH = 16
JOBS_VARIABLE = "NNBOOK_EXECUTE_JOBS"


# --------------------------------------------------------------------------- 1. the cache key
def _ignored(rel: Path) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in rel.parts for pattern in IGNORED)


def environment_digest(root: Path) -> str:
    """A short hash of every file under ``root/lib`` and of :data:`ENVIRONMENT_FILES`.

    Paths and contents both count, so adding, removing, renaming or editing a file changes it.
    """
    h = hashlib.sha256()
    files = [p for p in sorted((root / "lib").rglob("*")) if p.is_file()]
    files = [p for p in files if not _ignored(p.relative_to(root / "lib"))]
    files += [root / name for name in ENVIRONMENT_FILES if (root / name).is_file()]
    for path in files:
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:DIGEST_LENGTH]


def _is_digest(name: str) -> bool:
    return len(name) == DIGEST_LENGTH and all(c in "0123456789abcdef" for c in name)


def cache_path(base: Path, digest: str, prune: bool = True) -> Path:
    """``base/digest``; with ``prune``, the caches of other digests under ``base`` are deleted."""
    if prune and base.is_dir():
        for old in base.iterdir():
            if old.is_dir() and _is_digest(old.name) and old.name != digest:
                shutil.rmtree(old, ignore_errors=True)
    return base / digest


def _set_cache_path(app, config) -> None:
    if config.nb_execution_mode != "cache":
        return
    base = config.nb_execution_cache_path
    base = Path(app.srcdir, base) if base else Path(app.outdir).parent / ".jupyter_cache"
    path = cache_path(base.resolve(), environment_digest(Path(app.srcdir)))
    config.nb_execution_cache_path = str(path)


# --------------------------------------------------------------------------- 2. parallel execution
def _jobs() -> int:
    try:
        return max(1, int(os.environ.get(JOBS_VARIABLE, "1")))
    except ValueError:
        return 1


def _read_notebook(path: Path):
    """The notebook as myst-nb reads it (its jupyter-cache reader), or None if not a notebook."""
    import nbformat
    from myst_nb.core.read import is_myst_markdown_notebook, myst_nb_reader_plugin

    if path.suffix == ".ipynb":
        return nbformat.read(path, as_version=4), {"name": "nbformat", "type": "plugin"}
    if path.suffix == ".md" and is_myst_markdown_notebook(path.read_text(encoding="utf-8")):
        return myst_nb_reader_plugin(str(path)), {"name": "myst_nb_md", "type": "plugin"}
    return None


def uncached_notebooks(cache, paths: list[Path]) -> list[tuple[Path, dict]]:
    """Those of ``paths`` that are notebooks whose code the cache has not executed yet."""
    missing = []
    for path in paths:
        read = _read_notebook(path)
        if read is None:
            continue
        try:
            cache.match_cache_notebook(read[0])
        except KeyError:
            missing.append((path, read[1]))
    return missing


def execute_in_parallel(cache_dir: Path, paths: list[Path], jobs: int, timeout: int | None):
    """Execute the uncached notebooks among ``paths``, ``jobs`` at a time, into the cache.

    Returns (succeeded, failed) as lists of paths. Each notebook runs in its own kernel with
    its folder as working directory, as Sphinx would run it.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData

    cache = get_cache(str(cache_dir))
    todo = uncached_notebooks(cache, paths)
    if not todo:
        return [], []
    records = [cache.add_nb_to_project(str(p), read_data=fmt) for p, fmt in todo]
    data = [ProcessData(r.pk, r.uri, cache, timeout, False) for r in records]
    with multiprocessing.get_context("fork").Pool(min(jobs, len(data))) as pool:
        results = pool.map(ExecutionWorkerLocalMProc(), data)
    succeeded = [Path(uri) for status, uri in results if status == 0]
    failed = [Path(uri) for status, uri in results if status != 0]
    return succeeded, failed


def _pre_execute(app, env, docnames: list[str]) -> None:
    from sphinx.util import logging

    jobs, config = _jobs(), env.mystnb_config
    if jobs < 2 or config.execution_mode != "cache" or len(docnames) < 2:
        return
    excluded = config.execution_excludepatterns
    paths = [
        Path(env.doc2path(d))
        for d in sorted(docnames)
        if not any(fnmatch.fnmatch(env.doc2path(d, False), p) for p in excluded)
    ]
    logger = logging.getLogger(__name__)
    timeout = config.execution_timeout if config.execution_timeout > 0 else None
    done, failed = execute_in_parallel(Path(config.execution_cache_path), paths, jobs, timeout)
    if done or failed:
        logger.info(
            f"[nnbook] executed {len(done)} notebook(s), {jobs} at a time, into the cache"
            + (f"; {len(failed)} failed and will be run again by Sphinx" if failed else "")
        )


# --------------------------------------------------------------------------- 3. sphinx-thebe
def _unique(scripts: list) -> list:
    seen, unique = set(), []
    for js in scripts:
        # The same inline script may be registered with filename None and with "": alike.
        attrs = tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items()))
        key = (getattr(js, "filename", str(js)) or "", attrs)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    return unique


def _dedupe_page_scripts(app, pagename, templatename, context, doctree) -> None:
    if context.get("script_files"):
        context["script_files"][:] = _unique(context["script_files"])


# --------------------------------------------------------------------------- 4. citations
DEPRECATED_ROLES = {"doc-biblioentry": "listitem"}


def accessible_roles(body: str) -> str:
    """``body`` with each deprecated DPUB-ARIA role attribute replaced by its successor."""
    for old, new in DEPRECATED_ROLES.items():
        body = body.replace(f'role="{old}"', f'role="{new}"')
    return body


# --------------------------------------------------------------------------- 5. blank headers
THEAD = re.compile(r"<thead\b.*?</thead>", re.DOTALL)
BLANK_TH = re.compile(r"<th\b([^>]*)>(?:\s|&nbsp;|&#160;)*</th>")


def blank_headers_as_cells(body: str) -> str:
    """``body`` with every empty ``<th>`` of a ``<thead>`` written as an empty ``<td>``."""
    return THEAD.sub(lambda m: BLANK_TH.sub(r"<td\1></td>", m.group(0)), body)


def _accessible_body(app, pagename, templatename, context, doctree) -> None:
    if isinstance(context.get("body"), str):
        context["body"] = blank_headers_as_cells(accessible_roles(context["body"]))


def setup(app):
    # after myst-nb has registered nb_execution_cache_path (it is loaded before us)
    app.connect("config-inited", _set_cache_path, priority=900)
    app.connect("env-before-read-docs", _pre_execute)
    # html-page-context is emitted with emit_firstresult: run first, before a handler that
    # returns a template
    app.connect("html-page-context", _dedupe_page_scripts, priority=100)
    app.connect("html-page-context", _accessible_body, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
