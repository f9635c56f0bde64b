"""Tests for nnbook.data.islp: Default, Hitters and NYSE from verified CSV files.

The reference is the ISLP package itself (``ISLP.load_data``, in the book's pinned
environment): our loaders must return the same DataFrames whichever source they read
(the package's bundled copy, a download, or a copy in the data folder).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from data_fixtures import forbid_network, leftovers

import nnbook.data as D
from nnbook.data import islp as islp_module

ISLP = pytest.importorskip("ISLP")
NAMES = ("Default", "Hitters", "NYSE")


def bundled(name: str) -> Path:
    """ISLP's own copy of the CSV file (what ISLP.load_data reads)."""
    return Path(ISLP.__file__).parent / "data" / f"{name}.csv"


def load(name: str, **kwargs) -> pd.DataFrame:
    return D.load_islp(name, **kwargs)


@pytest.fixture
def without_islp(monkeypatch):
    """As on Colab: no bundled copy of the CSV files."""
    monkeypatch.setattr(islp_module, "_bundled", lambda name: [])


@pytest.mark.parametrize("name", NAMES)
def test_checksums_are_those_of_the_islp_package(name):
    blob = bundled(name).read_bytes()
    remote = D.ISLP_FILES[name]
    assert (remote.name, remote.size) == (f"{name}.csv", len(blob))
    assert remote.sha256 == hashlib.sha256(blob).hexdigest()


@pytest.mark.parametrize("name", NAMES)
def test_offline_loaders_equal_islp_load_data(name, monkeypatch):
    monkeypatch.setenv("NNBOOK_OFFLINE", "1")
    forbid_network(monkeypatch)
    ours = load(name)
    pd.testing.assert_frame_equal(ours, ISLP.load_data(name), check_exact=True)


def test_public_loaders_equal_islp_load_data(monkeypatch):
    forbid_network(monkeypatch)
    default, hitters, nyse = D.load_default(), D.load_hitters(dropna=False), D.load_nyse()
    pd.testing.assert_frame_equal(default, ISLP.load_data("Default"), check_exact=True)
    pd.testing.assert_frame_equal(hitters, ISLP.load_data("Hitters"), check_exact=True)
    pd.testing.assert_frame_equal(nyse, ISLP.load_data("NYSE"), check_exact=True)
    assert list(default.columns) == ["default", "student", "balance", "income"]
    assert int((default["default"] == "Yes").sum()) == 333
    assert D.load_hitters().shape == (263, 20) and hitters.shape == (322, 20)
    assert nyse.shape == (6051, 5) and nyse.index[0] == "1962-12-03"
    assert list(nyse["day_of_week"].cat.categories) == ["mon", "tues", "wed", "thur", "fri"]
    assert int(nyse["train"].sum()) == 4281


@pytest.mark.parametrize("name", NAMES)
def test_download_over_loopback_without_islp(name, without_islp, mirror_server, monkeypatch):
    blob = bundled(name).read_bytes()
    bad = blob[:100] + b"9" + blob[101:]  # same size, one digit changed
    mirror_server.serve("bad", f"{name}.csv", bad)
    mirror_server.serve("gh", f"{name}.csv", blob)
    mirrors = [mirror_server.mirror("bad"), mirror_server.mirror("gh")]
    ours = load(name, mirrors=mirrors, progress=False)
    pd.testing.assert_frame_equal(ours, ISLP.load_data(name), check_exact=True)
    assert len(mirror_server.hits("bad")) == 1 and len(mirror_server.hits("gh")) == 1
    assert leftovers(D.data_dir()) == [f"{name}.csv"]
    # Next time from the data folder, without the network.
    forbid_network(monkeypatch)
    pd.testing.assert_frame_equal(load(name), ours, check_exact=True)


def test_default_mirrors_are_pinned_https_urls():
    assert len(D.ISLP_MIRRORS) >= 2
    for mirror in D.ISLP_MIRRORS:
        assert mirror.startswith("https://") and islp_module.ISLP_COMMIT in mirror
        assert mirror.endswith("/ISLP/data/")
    assert len(islp_module.ISLP_COMMIT) == 40


@pytest.mark.parametrize("name", ["NYSE", "Hitters"])
def test_copy_with_other_bytes_but_the_same_table_is_accepted(name, without_islp, monkeypatch):
    # CRLF line endings, quotes dropped, numbers spelled differently: same parsed table.
    text = bundled(name).read_text().replace('"', "")
    text = text.replace(",475.0,", ",475,").replace(",-0.004461,", ",-4.461e-3,")
    assert text.replace("\r", "") != bundled(name).read_text().replace('"', "")
    folder = D.data_dir()
    folder.mkdir(parents=True)
    (folder / f"{name}.csv").write_bytes(text.replace("\n", "\r\n").encode())
    forbid_network(monkeypatch)
    pd.testing.assert_frame_equal(load(name), ISLP.load_data(name), check_exact=True)
    assert (folder / f"{name}.csv").exists()


@pytest.mark.parametrize(
    "change",
    ["one value", "a row dropped", "ints written as floats", "a column renamed"],
)
def test_changed_copy_is_deleted_and_the_package_copy_used(change, monkeypatch, caplog):
    lines = bundled("Hitters").read_text().splitlines()
    if change == "one value":
        lines[5] = lines[5].replace("321", "322", 1)
    elif change == "a row dropped":
        del lines[7]
    elif change == "ints written as floats":
        lines[1:] = [
            ",".join(f"{v}.0" if v.isdigit() else v for v in ln.split(",")) for ln in lines[1:]
        ]
    else:
        lines[0] = lines[0].replace("AtBat", "AtBats")
    folder = D.data_dir()
    folder.mkdir(parents=True)
    (folder / "Hitters.csv").write_text("\n".join(lines) + "\n")
    forbid_network(monkeypatch)
    caplog.set_level("INFO", logger="nnbook.data")
    pd.testing.assert_frame_equal(load("Hitters"), ISLP.load_data("Hitters"), check_exact=True)
    assert not (folder / "Hitters.csv").exists()
    assert "failed verification" in caplog.text and str(bundled("Hitters")) in caplog.text


def test_no_source_at_all_names_a_working_install(without_islp, monkeypatch):
    monkeypatch.setenv("NNBOOK_OFFLINE", "1")
    with pytest.raises(D.DataUnavailableError) as err:
        D.load_nyse()
    msg = str(err.value)
    assert "pip install ISLP" in msg and "nnbook[" not in msg
    assert err.value.reasons == ("downloads are disabled (NNBOOK_OFFLINE=1)",)


def test_a_bad_package_copy_is_skipped_not_deleted(tmp_path, monkeypatch):
    fake = tmp_path / "ISLP" / "data" / "Default.csv"
    fake.parent.mkdir(parents=True)
    fake.write_text("default,student,balance,income\nNo,No,1.0,2.0\n")
    monkeypatch.setattr(islp_module, "_bundled", lambda name: [fake])
    monkeypatch.setenv("NNBOOK_OFFLINE", "1")
    with pytest.raises(D.DataUnavailableError, match="skipped"):
        D.load_default()
    assert fake.exists()


def test_load_islp_validates_the_name():
    with pytest.raises(ValueError, match="expected name to be one of"):
        D.load_islp("Wage")
    with pytest.raises(ValueError, match="expected name to be one of"):
        D.read_islp_csv("nyse", bundled("NYSE"))


# --------------------------------------------------------------------------- nyse_lagged


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
