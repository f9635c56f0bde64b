"""Verified, cached downloads: find a file in the data directory or fetch it from a mirror.

The rules every loader in :mod:`nnbook.data` follows:

* **One data directory.** ``$NNBOOK_DATA`` if set, else ``$XDG_CACHE_HOME/nnbook``,
  else ``~/.cache/nnbook`` (:func:`data_dir`).
* **Nothing unverified is used or kept.** A file is accepted only if its size and
  SHA-256 match the published values (or a loader's own content check passes). A
  cached file that fails is deleted and fetched again; a download that fails is
  deleted and the next mirror is tried.
* **Atomic writes.** A download goes to a temporary file in the same directory and is
  moved into place with :func:`os.replace`, so a reader (or a second, concurrent
  download) never sees half a file.
* **Fast and optional network.** Short timeouts (``DEFAULT_TIMEOUT`` seconds), only
  ``http``/``https`` URLs, and no network at all with ``download=False`` or
  ``NNBOOK_OFFLINE=1``. A data directory that is not writable is never downloaded
  into, so pointing ``NNBOOK_DATA`` at a read-only folder of verified files keeps the
  loaders off the network.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_DATA",
    "ENV_OFFLINE",
    "DataIntegrityError",
    "DataUnavailableError",
    "RemoteFile",
    "data_dir",
    "fetch",
    "offline",
    "sha256sum",
    "verify_file",
]

ENV_DATA = "NNBOOK_DATA"
"""Environment variable that overrides the data directory."""

ENV_OFFLINE = "NNBOOK_OFFLINE"
"""Environment variable that, when set to 1/true/yes/on, disables all downloads."""

DEFAULT_TIMEOUT = 5.0
"""Seconds to wait for a mirror before trying the next one (short, so offline machines fall back fast)."""

_CHUNK = 1 << 16


class DataUnavailableError(RuntimeError):
    """A data file is not in the data directory and could not be downloaded."""


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


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the data directory (it is created only when something is downloaded into it).

    ``path`` if given; else ``$NNBOOK_DATA``; else ``$XDG_CACHE_HOME/nnbook``; else
    ``~/.cache/nnbook``.
    """
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(ENV_DATA, "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "nnbook"


def offline() -> bool:
    """True when ``$NNBOOK_OFFLINE`` is set to 1/true/yes/on: then nothing is downloaded."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in {"1", "true", "yes", "on"}


def sha256sum(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file, as 64 hex digits."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path: str | os.PathLike[str], remote: RemoteFile) -> str | None:
    """Check a file against its published size and SHA-256.

    Returns ``None`` if it matches, else a short reason (``"size 100 bytes, expected 4542"``).
    """
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    if size != remote.size:
        return f"size {size} bytes, expected {remote.size}"
    digest = sha256sum(path)
    if digest != remote.sha256:
        return f"sha256 {digest[:12]}..., expected {remote.sha256[:12]}..."
    return None


Verifier = Callable[[Path], "str | None"]


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _join(mirror: str, name: str) -> str:
    url = mirror if mirror.endswith(name) else mirror.rstrip("/") + "/" + name
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in {"http", "https"}:
        raise ValueError(f"expected an http(s) mirror URL, got {mirror!r}")
    return url


def _progress_bar(total: int, desc: str, enabled: bool | None):
    """A tqdm bar when wanted (interactive terminal, or ``progress=True``), else a no-op."""
    if enabled is None:
        enabled = bool(getattr(sys.stderr, "isatty", lambda: False)())
    if enabled:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is optional
            enabled = False
        else:
            return tqdm(
                total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, leave=False
            )

    class _Quiet:
        def update(self, n: int) -> None:
            pass

        def close(self) -> None:
            pass

    return _Quiet()


def _download(
    url: str,
    dest: Path,
    remote: RemoteFile,
    verify: Verifier,
    timeout: float,
    progress: bool | None,
) -> None:
    """Stream ``url`` into a temporary file next to ``dest``, verify it, then ``os.replace``."""
    request = urllib.request.Request(url, headers={"User-Agent": "nnbook-data/1"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        tmp = Path(tmp_name)
        bar = _progress_bar(remote.size, remote.name, progress)
        try:
            n = 0
            with os.fdopen(fd, "wb") as f:
                while chunk := response.read(_CHUNK):
                    n += len(chunk)
                    if n > remote.size:
                        raise DataIntegrityError(f"more than the expected {remote.size} bytes")
                    f.write(chunk)
                    bar.update(len(chunk))
                f.flush()
                os.fsync(f.fileno())
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and n < int(declared):
                raise DataIntegrityError(
                    f"truncated transfer: connection closed after {n} of {declared} bytes"
                )
            reason = verify(tmp)
            if reason is not None:
                raise DataIntegrityError(reason)
            os.replace(tmp, dest)
        except BaseException:
            _remove(tmp)
            raise
        finally:
            bar.close()


def fetch(
    remote: RemoteFile,
    mirrors: Sequence[str],
    *,
    directory: str | os.PathLike[str] | None = None,
    download: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool | None = None,
    verify: Verifier | None = None,
) -> Path:
    """Return the path of a verified copy of ``remote``, downloading it if needed.

    1. If ``directory/remote.name`` exists and passes ``verify`` (default: size and
       SHA-256, :func:`verify_file`), return it. If it fails, delete it.
    2. Unless ``download`` is false or ``$NNBOOK_OFFLINE`` is set, try each mirror in
       turn (``mirror + "/" + remote.name``): stream into a temporary file in
       ``directory``, verify, ``os.replace`` into place. A failed attempt (unreachable,
       HTTP error, truncated, wrong checksum) leaves nothing behind.
    3. Otherwise raise :class:`DataUnavailableError` listing what went wrong.

    ``progress``: ``True``/``False`` shows/hides a tqdm bar; ``None`` shows it only
    on an interactive terminal.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"expected timeout > 0 seconds, got {timeout!r}")
    if isinstance(mirrors, str):
        mirrors = [mirrors]
    directory = data_dir(directory)
    dest = directory / remote.name
    if verify is None:

        def verify(p: Path) -> str | None:
            return verify_file(p, remote)

    problems: list[str] = []
    if dest.exists():
        reason = verify(dest)
        if reason is None:
            return dest
        try:
            _remove(dest)
        except OSError as exc:
            raise DataIntegrityError(
                f"{dest} failed verification ({reason}) and could not be removed ({exc.strerror or exc})"
            ) from None
        problems.append(f"the cached {remote.name} failed verification ({reason}) and was deleted")

    if not download or offline():
        why = "download=False" if not download else f"{ENV_OFFLINE} is set"
        problems.append(f"not downloading ({why})")
        raise DataUnavailableError(_explain(remote, directory, problems))
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problems.append(f"cannot create the data directory ({exc.strerror or exc})")
        raise DataUnavailableError(_explain(remote, directory, problems)) from None
    if not os.access(directory, os.W_OK):
        problems.append("the data directory is not writable, so nothing is downloaded into it")
        raise DataUnavailableError(_explain(remote, directory, problems))
    if not mirrors:
        problems.append("no mirrors given")
        raise DataUnavailableError(_explain(remote, directory, problems))

    for mirror in mirrors:
        url = _join(mirror, remote.name)
        try:
            _download(url, dest, remote, verify, timeout, progress)
        except urllib.error.HTTPError as exc:
            problems.append(f"{url}: HTTP {exc.code} {exc.reason}")
        except urllib.error.URLError as exc:
            problems.append(f"{url}: {getattr(exc.reason, 'strerror', None) or exc.reason}")
        except DataIntegrityError as exc:
            problems.append(f"{url}: downloaded file rejected ({exc}); deleted")
        except (OSError, http.client.HTTPException) as exc:
            problems.append(f"{url}: {type(exc).__name__}: {exc}")
        else:
            return dest
    raise DataUnavailableError(_explain(remote, directory, problems))


def _explain(remote: RemoteFile, directory: Path, problems: list[str]) -> str:
    lines = [f"{remote.name} is not available in {directory}:"]
    lines += [f"  - {p}" for p in problems]
    return "\n".join(lines)
