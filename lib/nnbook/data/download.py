"""Verified, cached downloads with pooch: find a verified copy of a file, or fetch one.

The rules every loader in :mod:`nnbook.data` follows:

* **Where copies are looked for, in order.** The data folder :func:`data_dir`
  (``$NNBOOK_DATA`` if set, else the user cache); the user cache :func:`cache_dir`
  (``$XDG_CACHE_HOME/nnbook`` or ``~/.cache/nnbook`` on Linux); then any read-only copy a
  loader knows of (a file bundled with a package, e.g. ISLP's CSV files). The first copy
  that passes verification is used.
* **Nothing unverified is used or kept.** A copy is accepted only if its size and SHA-256
  match the published values (or a loader's own content check passes). A copy that fails
  is deleted when its folder is writable; in a read-only folder (a shared class folder)
  it is left alone and skipped.
* **Downloads go through pooch** (:func:`pooch.retrieve`, with the published SHA-256 as
  its known hash), into the first writable folder of the two above. pooch streams into a
  temporary file in that folder, checks the hash, and only then moves the file into
  place, so a reader (or a second, concurrent download) never sees half a file. We try
  the mirrors in turn; one that fails (unreachable, HTTP error, truncated, wrong size or
  checksum) leaves nothing behind.
* **The network is optional.** Short timeouts (``DEFAULT_TIMEOUT`` seconds), only
  ``http``/``https`` mirrors, and no network at all with ``download=False`` or
  ``NNBOOK_OFFLINE=1``.
* **Quiet pages.** The details of a failure (addresses, server and resolver errors) go to
  the logger ``nnbook.data`` at level INFO, which prints nothing unless asked
  (``logging.basicConfig(level="INFO")``); the exception's text has them too. A loader
  that falls back prints only a short notice.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pooch

from .._util import positive_float

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_DATA",
    "ENV_OFFLINE",
    "DataIntegrityError",
    "DataUnavailableError",
    "RemoteFile",
    "cache_dir",
    "data_dir",
    "fetch",
    "offline",
    "sha256sum",
    "verify_file",
]

ENV_DATA = "NNBOOK_DATA"
"""Environment variable that overrides the data folder."""

ENV_OFFLINE = "NNBOOK_OFFLINE"
"""Environment variable that, when set to 1/true/yes/on, disables all downloads."""

DEFAULT_TIMEOUT = 5.0
"""Seconds to wait for a mirror before trying the next (short: offline machines fall back fast)."""

LOG = logging.getLogger("nnbook.data")
LOG.addHandler(logging.NullHandler())

# The short reasons a file is unavailable (DataUnavailableError.reasons): readable, no addresses.
BAD_COPY = "the copy in the data folder failed verification"
BAD_COPY_KEPT = "the copy in the data folder failed verification and the folder is not writable"
NO_FOLDER = "no data folder is writable"
NO_MIRRORS = "no download address is known"
DOWNLOAD_FAILED = "it could not be downloaded"


class DataUnavailableError(RuntimeError):
    """A data file has no verified copy and could not be downloaded.

    ``str(error)`` lists every problem in detail; ``error.reasons`` holds the short,
    readable reasons (no addresses) and ``error.reason`` joins them into one phrase.
    """

    def __init__(self, message: str, reasons: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.reasons = tuple(reasons)

    @property
    def reason(self) -> str:
        """The reasons as one phrase, e.g. ``"downloads are disabled (NNBOOK_OFFLINE=1)"``."""
        return " and ".join(self.reasons) or "it is not available"


class DataIntegrityError(ValueError):
    """A data file exists but is not the published file (wrong size, checksum or content)."""


@dataclass(frozen=True)
class RemoteFile:
    """A published data file: its name, its size in bytes and its SHA-256 (hex)."""

    name: str
    size: int
    sha256: str

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or "\\" in self.name or self.name.startswith("."):
            raise ValueError(f"expected a plain file name, got {self.name!r}")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise ValueError(f"expected size to be an int >= 0, got {self.size!r}")
        digest = self.sha256.lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"expected sha256 to be 64 hex digits, got {self.sha256!r}")
        object.__setattr__(self, "sha256", digest)


def cache_dir() -> Path:
    """The user cache for downloads, ``pooch.os_cache("nnbook")``.

    ``$XDG_CACHE_HOME/nnbook`` or ``~/.cache/nnbook`` on Linux, ``~/Library/Caches/nnbook``
    on macOS. Created only when something is downloaded into it.
    """
    return Path(pooch.os_cache("nnbook")).expanduser()


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``path`` if given, else ``$NNBOOK_DATA``, else :func:`cache_dir`."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(ENV_DATA, "").strip()
    return Path(env).expanduser() if env else cache_dir()


def offline() -> bool:
    """True when ``$NNBOOK_OFFLINE`` is set to 1/true/yes/on: then nothing is downloaded."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in {"1", "true", "yes", "on"}


def sha256sum(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file, as 64 hex digits (``pooch.file_hash``)."""
    return pooch.file_hash(str(path), alg="sha256")


def verify_file(path: str | os.PathLike[str], remote: RemoteFile) -> str | None:
    """Check a file against its published size and SHA-256.

    Returns ``None`` if it matches, else a short reason (``"size 100 bytes, expected 4542"``).
    """
    try:
        size = os.path.getsize(path)
        digest = sha256sum(path) if size == remote.size else ""
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    if size != remote.size:
        return f"size {size} bytes, expected {remote.size}"
    if digest != remote.sha256:
        return f"sha256 {digest[:12]}..., expected {remote.sha256[:12]}..."
    return None


Verifier = Callable[[Path], "str | None"]


@dataclass
class _Trail:
    """What went wrong while looking for one file: details for the log, reasons for people."""

    name: str
    problems: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def add(self, problem: str, reason: str | None = None) -> None:
        LOG.info("%s: %s", self.name, problem)
        self.problems.append(problem)
        if reason is not None and reason not in self.reasons:
            self.reasons.append(reason)

    def error(self) -> DataUnavailableError:
        lines = [f"{self.name} is not available:"] + [f"  - {p}" for p in self.problems]
        message = "\n".join(lines)
        return DataUnavailableError(message, self.reasons)


def _writable(folder: Path) -> bool:
    """Whether files can be written into ``folder`` (created if missing)."""
    if not folder.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
    return folder.is_dir() and os.access(folder, os.W_OK)


def _remove(path: Path) -> bool:
    """Delete ``path``; False if that is not allowed."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        return False
    return True


def _mirror_urls(mirrors: Sequence[str] | str, name: str) -> list[str]:
    """``mirror + "/" + name`` for each mirror (a mirror may already end in ``name``)."""
    if isinstance(mirrors, str):
        mirrors = [mirrors]
    urls = []
    for mirror in mirrors:
        url = mirror if mirror.endswith(name) else mirror.rstrip("/") + "/" + name
        if urllib.parse.urlsplit(url).scheme.lower() not in {"http", "https"}:
            raise ValueError(f"expected an http(s) mirror URL, got {mirror!r}")
        urls.append(url)
    return urls


def _find_copy(
    candidates: Sequence[Path], folders: Sequence[Path], verify: Verifier, trail: _Trail
) -> Path | None:
    """The first candidate that passes ``verify``; bad copies in writable folders are deleted."""
    for path in candidates:
        if not path.is_file():
            continue
        problem = verify(path)
        if problem is None:
            LOG.info("using %s", path)
            return path
        if path.parent in folders and _writable(path.parent) and _remove(path):
            trail.add(f"{path} failed verification ({problem}) and was deleted", BAD_COPY)
        elif path.parent in folders:
            problem = f"{path} failed verification ({problem}); its folder is read-only"
            trail.add(problem, BAD_COPY_KEPT)
        else:
            trail.add(f"{path} failed verification ({problem}) and was skipped")
    return None


def _progress(progress: bool | None) -> bool:
    """A progress bar when asked or on an interactive terminal; never if NNBOOK_PROGRESS=0."""
    quiet = os.environ.get("NNBOOK_PROGRESS", "").strip().lower() in {"0", "false", "no", "off"}
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    return bool(progress) and not quiet


_local = threading.local()


class _WhileNotFetching(logging.Filter):
    """Drops pooch's own log lines ("Downloading data from <url> ...") during :func:`fetch`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_local, "fetching", False)


@contextmanager
def _quiet_pooch() -> Iterator[None]:
    """pooch logs to stderr, which a notebook prints into the page; ours go to ``LOG``."""
    logger = pooch.get_logger()
    if not any(type(f).__name__ == "_WhileNotFetching" for f in logger.filters):
        logger.addFilter(_WhileNotFetching())
    _local.fetching = True
    try:
        yield
    finally:
        _local.fetching = False


def _downloader(remote: RemoteFile, timeout: float, progress: bool | None):
    """pooch's HTTP downloader, plus a size check with a readable message."""
    http = pooch.HTTPDownloader(progressbar=_progress(progress), timeout=timeout)

    def download(url: str, output_file, pooch_obj, check_only: bool = False):
        http(url, output_file, pooch_obj, check_only=check_only)
        size = os.path.getsize(output_file)
        if size != remote.size:
            raise DataIntegrityError(f"size {size} bytes, expected {remote.size}")

    return download


def _describe(exc: Exception, timeout: float) -> str:
    """One line on why a download failed (for the log and the exception's text)."""
    import requests

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason}"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, requests.ConnectionError):
        return f"cannot connect ({exc})"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"truncated transfer ({exc})"
    if isinstance(exc, DataIntegrityError):
        return f"downloaded file rejected ({exc}); deleted"
    if isinstance(exc, ValueError) and "hash" in str(exc):  # pooch's known-hash check
        return "downloaded file rejected (its sha256 differs from the published one); deleted"
    return f"{type(exc).__name__}: {exc}"


def _download(
    remote: RemoteFile, urls: Sequence[str], folder: Path, timeout: float, progress: bool | None
) -> tuple[Path | None, list[str]]:
    """Try each URL in turn with ``pooch.retrieve``; return (path or None, problems)."""
    import requests

    problems = []
    for url in urls:
        try:
            with _quiet_pooch():
                path = pooch.retrieve(
                    url,
                    known_hash=f"sha256:{remote.sha256}",
                    fname=remote.name,
                    path=folder,
                    downloader=_downloader(remote, timeout, progress),
                )
        except (requests.RequestException, ValueError, OSError) as exc:
            problems.append(f"{url}: {_describe(exc, timeout)}")
        else:
            LOG.info("downloaded %s from %s into %s", remote.name, url, folder)
            return Path(path), problems
    return None, problems


def fetch(
    remote: RemoteFile,
    mirrors: Sequence[str],
    *,
    directory: str | os.PathLike[str] | None = None,
    download: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool | None = None,
    verify: Verifier | None = None,
    sources: Sequence[str | os.PathLike[str]] = (),
) -> Path:
    """Return the path of a verified copy of ``remote``, downloading it if needed.

    1. Look for ``remote.name`` in the data folder (``directory``, default
       :func:`data_dir`), then in :func:`cache_dir`, then at the paths ``sources``
       (read-only copies, e.g. a package's bundled file). Return the first that passes
       ``verify`` (default: size and SHA-256, :func:`verify_file`). A failing copy is
       deleted if its folder is writable, else skipped.
    2. Unless ``download`` is false or ``$NNBOOK_OFFLINE`` is set, download it with
       pooch from each mirror in turn (``mirror + "/" + remote.name``) into the first
       writable of those two folders, verified by size and SHA-256.
    3. Otherwise raise :class:`DataUnavailableError` listing what went wrong.

    ``progress``: ``True``/``False`` shows/hides a progress bar; ``None`` shows it only on
    an interactive terminal. ``NNBOOK_PROGRESS=0`` hides it always.
    """
    timeout = positive_float(timeout, "timeout")
    urls = _mirror_urls(mirrors, remote.name)
    folders = list(dict.fromkeys([data_dir(directory), cache_dir()]))
    verify = verify or (lambda p: verify_file(p, remote))
    trail = _Trail(remote.name)
    candidates = [f / remote.name for f in folders] + [Path(s) for s in sources]
    found = _find_copy(candidates, folders, verify, trail)
    if found is not None:
        return found
    if not download or offline():
        why = "download=False" if not download else f"{ENV_OFFLINE}=1"
        trail.add(f"not downloading ({why})", f"downloads are disabled ({why})")
        raise trail.error()
    target = next((f for f in folders if _writable(f)), None)
    if target is None:
        trail.add(f"none of {[str(f) for f in folders]} is writable", NO_FOLDER)
    elif not urls:
        trail.add("no mirrors given", NO_MIRRORS)
    else:
        path, problems = _download(remote, urls, target, timeout, progress)
        if path is not None:
            return path
        for problem in problems:
            trail.add(problem, DOWNLOAD_FAILED)
    raise trail.error()
