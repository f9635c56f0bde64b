"""Fixtures for tests/data/test_data.py: a loopback HTTP "mirror" and small generated MNIST files.

Everything here binds to 127.0.0.1 only; nothing reaches the internet.
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

import numpy as np
import pytest

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

            def do_GET(self) -> None:  # noqa: N802 - http.server API
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


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch, tmp_path):
    """Fail any attempt to open a non-loopback URL; use a fresh data directory per test."""
    real = urllib.request.urlopen

    def guarded(url, *args, **kwargs):
        full = url.full_url if isinstance(url, urllib.request.Request) else url
        host = urllib.parse.urlsplit(full).hostname
        if host != LOOPBACK:
            raise AssertionError(f"test tried to reach the network: {full}")
        return real(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guarded)
    monkeypatch.setenv("NNBOOK_DATA", str(tmp_path / "nnbook-data"))
    monkeypatch.delenv("NNBOOK_OFFLINE", raising=False)


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
    names = {
        "train_images": "train-images-idx3-ubyte.gz",
        "train_labels": "train-labels-idx1-ubyte.gz",
        "test_images": "t10k-images-idx3-ubyte.gz",
        "test_labels": "t10k-labels-idx1-ubyte.gz",
    }
    blobs, files = {}, {}
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        for key, arr in arrays.items():
            blob = write_idx(Path(d) / names[key], arr).read_bytes()
            blobs[key] = blob
            files[key] = RemoteFile(names[key], len(blob), hashlib.sha256(blob).hexdigest())
    return arrays, blobs, files
