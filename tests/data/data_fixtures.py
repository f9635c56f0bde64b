"""Fixtures for tests/data/test_data.py: a loopback HTTP "mirror" and small generated MNIST files.

Everything here binds to 127.0.0.1 only; nothing reaches the internet.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import requests

from nnbook.data import RemoteFile, write_idx

LOOPBACK = "127.0.0.1"


@dataclass
class Route:
    """What the server answers for one path.

    ``declared`` overrides Content-Length (larger than ``body`` -> the connection is
    closed early, a truncated transfer); ``delay`` sleeps between 8 KiB chunks.
    """

    body: bytes
    declared: int | None = None
    delay: float = 0.0


class MirrorServer:
    """A threaded HTTP server on 127.0.0.1:<random port> serving ``routes``; 404 otherwise."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # the name http.server calls
                with server._lock:
                    server.requests.append(self.path)
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(route.declared or len(route.body)))
                self.end_headers()
                for i in range(0, len(route.body), 8192):
                    if route.delay:
                        time.sleep(route.delay)
                    self.wfile.write(route.body[i : i + 8192])
                self.wfile.flush()
                if route.declared and route.declared > len(route.body):
                    self.close_connection = True

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def mirror(self, name: str) -> str:
        """Base URL of a mirror called ``name`` on this server."""
        return f"http://{LOOPBACK}:{self.port}/{name}/"

    def serve(self, mirror: str, filename: str, body: bytes, **kw) -> None:
        self.routes[f"/{mirror}/{filename}"] = Route(body, **kw)

    def hits(self, mirror: str) -> list[str]:
        with self._lock:
            return [p for p in self.requests if p.startswith(f"/{mirror}/")]


@pytest.fixture
def mirror_server():
    """A running :class:`MirrorServer`, shut down after the test."""
    server = MirrorServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture
def dead_mirror() -> str:
    """The URL of a loopback port nobody listens on (connection refused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        port = s.getsockname()[1]
    return f"http://{LOOPBACK}:{port}/mnist/"


def _host(url: str) -> str | None:
    return urllib.parse.urlsplit(url).hostname


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch, tmp_path):
    """Fail any attempt to open a non-loopback URL (urllib or requests, which pooch uses);
    use a fresh data folder and a fresh user cache per test; downloads on."""
    real_urlopen, real_send = urllib.request.urlopen, requests.adapters.HTTPAdapter.send

    def guarded_urlopen(url, *args, **kwargs):
        full = url.full_url if isinstance(url, urllib.request.Request) else url
        if _host(full) != LOOPBACK:
            raise AssertionError(f"test tried to reach the network: {full}")
        return real_urlopen(url, *args, **kwargs)

    def guarded_send(self, request, *args, **kwargs):
        if _host(request.url) != LOOPBACK:
            raise AssertionError(f"test tried to reach the network: {request.url}")
        return real_send(self, request, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guarded_urlopen)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", guarded_send)
    monkeypatch.setenv("NNBOOK_DATA", str(tmp_path / "nnbook-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.delenv("NNBOOK_OFFLINE", raising=False)


def forbid_network(monkeypatch) -> None:
    """Make any network access (urllib or requests) fail the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the loader touched the network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", refuse)


@pytest.fixture
def make_read_only(monkeypatch):
    """``make_read_only(folder)`` creates it if needed and sets mode 0o555; as root (who
    may write anyway) ``os.access`` is patched to say such a folder is not writable. Modes
    are restored afterwards so pytest can clean up."""
    made: list[Path] = []
    real = os.access

    def access(path, mode, **kwargs):
        if Path(path) in made and mode & os.W_OK:
            return False
        return real(path, mode, **kwargs)

    def make(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o555)
        made.append(folder)
        if real(folder, os.W_OK):
            monkeypatch.setattr(os, "access", access)
        return folder

    yield make
    for folder in made:
        folder.chmod(0o755)


def serve_all(server: MirrorServer, mirror: str, blobs: dict, files: dict, **kw) -> None:
    """Serve every file of ``blobs`` under ``mirror``."""
    for key, blob in blobs.items():
        server.serve(mirror, files[key].name, blob, **kw)


def leftovers(folder: Path) -> list[str]:
    """The names in ``folder`` (no partial or temporary files may remain)."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def fake_mnist(n_train: int = 50, n_test: int = 20, seed: int = 1):
    """Random 28x28 uint8 images and labels 0..9, as gzipped IDX bytes.

    Returns ``(arrays, blobs, files)``: the arrays by key, the file bytes by key, and
    ``RemoteFile`` records with sizes and SHA-256 computed here with hashlib.
    """
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, size=n_train).astype(np.uint8),
        "test_images": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, size=n_test).astype(np.uint8),
    }
    return arrays, *_as_files(arrays)


def _as_files(arrays: dict) -> tuple[dict, dict]:
    """Gzipped IDX bytes of each array and their ``RemoteFile`` (hashlib's SHA-256)."""
    names = {
        "train_images": "train-images-idx3-ubyte.gz",
        "train_labels": "train-labels-idx1-ubyte.gz",
        "test_images": "t10k-images-idx3-ubyte.gz",
        "test_labels": "t10k-labels-idx1-ubyte.gz",
    }
    blobs, files = {}, {}
    with tempfile.TemporaryDirectory() as d:
        for key, arr in arrays.items():
            blob = write_idx(Path(d) / names[key], arr).read_bytes()
            blobs[key] = blob
            files[key] = RemoteFile(names[key], len(blob), hashlib.sha256(blob).hexdigest())
    return blobs, files


def indexed_mnist(n_train: int = 5500, n_test: int = 20):
    """MNIST-shaped files whose training image i encodes i (pixels 0 and 1: i // 256,
    i % 256) and whose label is i % 10, so a drawn subset's indices can be read back."""
    index = np.arange(n_train)
    train = np.zeros((n_train, 28, 28), dtype=np.uint8)
    train[:, 0, 0], train[:, 0, 1] = index // 256, index % 256
    arrays = {
        "train_images": train,
        "train_labels": (index % 10).astype(np.uint8),
        "test_images": np.zeros((n_test, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(n_test) % 10).astype(np.uint8),
    }
    return arrays, *_as_files(arrays)
