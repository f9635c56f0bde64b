"""Shared fixtures: the repository root and the built site (built once per test session)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property-based tests are derandomized: the same examples on every run and every machine.
settings.register_profile("book", derandomize=True, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "book"))

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

SITE_OUT = ROOT / "_build" / "test-site"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def built_site() -> Path:
    """Build the whole site (`jupyter-book build -W -n --keep-going`) once; return its HTML folder.

    `make test` runs with `--dist loadfile` and keeps every test of the built site in
    `tests/test_site.py`, so one worker builds it while the other runs the notebooks. Should
    tests in two workers ask for it anyway, a file lock makes the second wait for the first
    build of this run and reuse it, instead of building into the same folder at the same time.
    """
    from filelock import FileLock

    html = SITE_OUT / "_build" / "html"
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    marker = SITE_OUT / f".built-{run_id}"
    SITE_OUT.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(SITE_OUT.parent / "test-site.lock")):
        if marker.exists():
            return html
        if SITE_OUT.exists():
            shutil.rmtree(SITE_OUT)
        env = {
            k: v for k, v in os.environ.items() if k != "MPLBACKEND"
        }  # kernels must use the inline backend
        env.update(PYTHONHASHSEED="0", NNBOOK_PROGRESS="0")
        cmd = [
            str(Path(sys.executable).parent / "jupyter-book"),
            "build",
            str(ROOT),
            "--path-output",
            str(SITE_OUT),
            "-W",
            "-n",
            "--keep-going",
        ]
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        log = SITE_OUT / "build.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
            pytest.fail(
                f"jupyter-book build failed (exit {proc.returncode}); full log in {log}\n{tail}",
                pytrace=False,
            )
        marker.touch()
    return html
