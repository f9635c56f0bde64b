"""Tests for nnbook.data.spam: the UCI spam data, from the shared offline folder or a
loopback mirror, verified by bytes or by parsed content."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import forbid_network, leftovers

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
