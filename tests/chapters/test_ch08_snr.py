"""Tests for nnbook.chapters.ch08_snr: the SNR experiment's data, models and comparisons, and
the NYSE AR(5) fit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import r2_score as sk_r2_score

from nnbook.chapters import ch08_snr as snr


def test_friedman1_by_hand():
    X = np.array(
        [
            [0.0, 0.0, 0.0, 0.0, 0.0, 0.3],  # 20 * 1/4 = 5
            [1.0, 0.5, 0.5, 1.0, 1.0, 0.9],  # 10 sin(pi/2) + 0 + 10 + 5 = 25
            [1.0, 1.0, 1.0, 0.0, 0.2, 0.1],  # 10 sin(pi) + 20/4 + 0 + 1 = 6
        ]
    )
    assert snr.friedman1(X) == pytest.approx([5.0, 25.0, 6.0], abs=1e-12)


def test_friedman1_variance_matches_monte_carlo():
    rng = np.random.default_rng(0)
    f = snr.friedman1(rng.uniform(size=(1_000_000, 5)))
    # SE of a sample variance ~ sqrt((m4 - s^4) / N); allow 4 SE
    v = f.var()
    se = np.sqrt((np.mean((f - f.mean()) ** 4) - v**2) / len(f))
    assert abs(snr.FRIEDMAN1_VARIANCE - v) < 4 * se
    assert 20 < snr.FRIEDMAN1_VARIANCE < 30


def test_make_data_has_the_requested_snr_and_common_random_numbers():
    X1, y1 = snr.make_data(200_000, snr=2.0, d=6, seed=3)
    resid = y1 - snr.friedman1(X1)
    assert resid.var() == pytest.approx(snr.FRIEDMAN1_VARIANCE / 2.0, rel=0.01)
    X2, y2 = snr.make_data(200_000, snr=8.0, d=6, seed=3)
    assert np.array_equal(X1, X2)
    assert np.allclose(y2 - snr.friedman1(X2), resid / 2.0)  # same epsilon, sigma halved
    X3, _ = snr.make_data(10, snr=8.0, d=6, seed=4)
    assert not np.array_equal(X3, X1[:10])
    assert snr.noise_sd(1.0) ** 2 == pytest.approx(snr.FRIEDMAN1_VARIANCE)


def test_r2_score_equals_sklearn():
    rng = np.random.default_rng(1)
    y = rng.normal(size=50)
    y_hat = y + rng.normal(scale=0.7, size=50)
    assert snr.r2_score(y, y_hat) == pytest.approx(sk_r2_score(y, y_hat), abs=1e-14)
    assert snr.r2_score(y, np.full(50, y.mean())) == pytest.approx(0.0, abs=1e-14)


@pytest.mark.parametrize("lam", [0.0, 3.0])
def test_least_squares_equals_sklearn(lam):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 6))
    y = X @ rng.normal(size=6) + 2.0 + rng.normal(size=80)
    ours = snr.LeastSquares(lam).fit(X, y)
    ref = (Ridge(alpha=lam) if lam > 0 else LinearRegression()).fit(X, y)
    assert np.max(np.abs(ours.beta - ref.coef_)) < 1e-10
    assert ours.beta_0 == pytest.approx(ref.intercept_, abs=1e-10)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), abs=1e-12)


def test_nyse_ar5_least_squares_r2_equals_sklearn_and_islp_lab():
    pytest.importorskip("ISLP")
    from nnbook.data import nyse_lagged

    for day_of_week, islp_lab in [(False, 0.413), (True, 0.460)]:
        X_train, y_train, X_test, y_test = nyse_lagged(day_of_week=day_of_week)
        ours = snr.LeastSquares().fit(X_train, y_train).score(X_test, y_test)
        ref = LinearRegression().fit(X_train, y_train).score(X_test, y_test)
        assert ours == pytest.approx(ref, abs=1e-10)
        assert ours == pytest.approx(islp_lab, abs=0.0015)  # the number printed in ISLP's lab


def test_paired_difference_matches_paired_t_test_and_batch_means_by_hand():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=103), rng.normal(size=103) + 0.2
    res = snr.paired_difference(a, b)
    t = stats.ttest_rel(a, b).statistic
    assert res.mean / res.se == pytest.approx(t, rel=1e-12)
    assert res.n == 103
    blocked = snr.paired_difference(a, b, block=10)
    means = [np.mean(a[10 * j : 10 * j + 10] - b[10 * j : 10 * j + 10]) for j in range(10)]
    assert blocked.n == 10
    assert blocked.mean == pytest.approx(np.mean(means))
    assert blocked.se == pytest.approx(np.std(means, ddof=1) / np.sqrt(10))


def test_advantage_vanishes_on_constructed_differences():
    snrs = np.array([0.1, 100.0, 10.0, 1.0])  # unsorted on purpose
    clear = np.array([[0.5, 0.6], [0.5, 0.6]])  # mean 0.55, SE 0.05
    tie = np.array([[0.0, 0.1], [0.0, 0.1]])  # mean 0.05, SE 0.05: within one SE
    diffs = np.stack([tie[0], clear[0], clear[0], tie[0]])
    assert snr.advantage_vanishes(snrs, diffs) == 1.0
    assert snr.advantage_vanishes(snrs, np.stack([clear[0]] * 4)) is None
    assert snr.advantage_vanishes(snrs, np.stack([-clear[0]] * 4)) == 100.0


def test_network_advantage_shrinks_as_noise_grows():
    sweep = snr.snr_sweep([30.0, 0.3], [1000], seeds=2)
    mean, se = sweep.advantage()
    high, low = mean[0]
    # measured: about 0.22 at SNR 30 and about 0.00 at SNR 0.3 (n = 1000)
    assert high > 0.12
    assert high - low > 0.1
    assert low < 0.05
    assert np.all(
        sweep.r2_net <= sweep.ceiling[None, :, None] + 0.02
    )  # nothing beats the noise floor
    rows = sweep.rows()
    assert [r["SNR"] for r in rows] == [30.0, 0.3]
    assert rows[0]["MLP - linear"] == pytest.approx(high)


def test_bad_inputs_fail_with_a_message():
    with pytest.raises(ValueError, match=r"expected X of shape \(n, d\) with d >= 5"):
        snr.friedman1(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="expected snr > 0"):
        snr.noise_sd(0.0)
    with pytest.raises(ValueError, match="expected d to be an int >= 5"):
        snr.make_data(10, snr=1.0, d=3)
    with pytest.raises(ValueError, match=r"expected y_hat of shape \(3,\)"):
        snr.r2_score([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="not all equal"):
        snr.r2_score([1.0, 1.0], [1.0, 2.0])
    with pytest.raises(RuntimeError, match="call fit"):
        snr.LeastSquares().predict(np.zeros((2, 3)))
    ls = snr.LeastSquares().fit(np.eye(4, 3), np.arange(4.0))
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 3\)"):
        ls.predict(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="expected lam >= 0"):
        snr.LeastSquares(-1.0)
    with pytest.raises(ValueError, match=r"expected b of shape \(3,\)"):
        snr.paired_difference([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least 2 seeds"):
        snr.advantage_vanishes([1.0, 2.0], [[0.1], [0.2]])
    with pytest.raises(ValueError, match="val_fraction in"):
        snr.MLPRegressor(val_fraction=1.0)
    with pytest.raises(ValueError, match="expected snr > 0"):
        snr.snr_sweep([1.0, -1.0], [100], seeds=2)


@pytest.mark.parametrize("name", ["X", "y"])
def test_mlp_regressor_rejects_non_finite_data_naming_the_array(name):
    X, y = snr.make_data(50, snr=10.0, seed=0)
    data = {"X": X, "y": y}
    data[name] = data[name].copy()
    data[name][(3, 1) if name == "X" else 3] = np.nan
    with pytest.raises(ValueError, match=f"expected {name} to be finite"):
        snr.MLPRegressor(epochs=2).fit(data["X"], data["y"])


def test_mlp_regressor_stops_early_and_keeps_its_best_epoch():
    X, y = snr.make_data(300, snr=1.0, seed=0)
    net = snr.MLPRegressor(patience=5, epochs=400, seed=0).fit(X, y)
    h = net.history
    assert h.stopped_early and h.epochs == h.best_epoch + 5  # patience epochs after the best
    assert h.best_value == min(h.val_loss)
    assert h.device == "cpu"  # NNBOOK_DEVICE=cpu in tests, or no GPU here


def _design(n=300, seed=4):
    """Two series with five lags each: the first's lags strongly correlated (a random walk)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(size=n + 5)) * 0.2
    noise = rng.normal(size=n + 5)
    cols = {}
    for name, v in [("a", walk), ("b", noise)]:
        for lag in range(1, 6):
            cols[f"{name}_{lag}"] = v[5 - lag : n + 5 - lag]
    X = pd.DataFrame(cols)
    y = 5 * (X["a_1"] - X["a_2"]) + 0.5 * X["b_1"] + rng.normal(size=n)
    return X, y.to_numpy()


def test_f_test_equals_statsmodels_nested_comparison():
    sm = pytest.importorskip("statsmodels.api")
    X, y = _design()
    full = sm.OLS(y, sm.add_constant(X)).fit()
    for drop in (["a_1", "a_2", "a_3", "a_4", "a_5"], ["b_3"]):
        small = sm.OLS(y, sm.add_constant(X.drop(columns=drop))).fit()
        F_ref, p_ref, q_ref = full.compare_f_test(small)
        ours = snr.f_test(X, X.drop(columns=drop), y)
        assert pytest.approx(F_ref, rel=1e-9) == ours.F
        assert ours.p_value == pytest.approx(p_ref, rel=1e-6, abs=1e-300)
        assert (ours.q, ours.df) == (q_ref, len(y) - 10 - 1)
    # one dropped column: F is the square of that coefficient's t statistic
    assert (
        pytest.approx(full.tvalues["b_3"] ** 2, rel=1e-9)
        == snr.f_test(X, X.drop(columns=["b_3"]), y).F
    )


def test_lag_groups_against_statsmodels_wald_tests_and_pandas():
    sm = pytest.importorskip("statsmodels.api")
    X, y = _design()
    table = snr.lag_groups(X, y, ["a", "b"], 5)
    full = sm.OLS(y, sm.add_constant(X)).fit()
    for s in ["a", "b"]:
        cols = [f"{s}_{lag}" for lag in range(1, 6)]
        row = table.loc[s]
        corr = X[cols].corr().to_numpy()
        off = corr[~np.eye(5, dtype=bool)]
        assert row["corr min"] == pytest.approx(off.min()) and row["corr max"] == pytest.approx(
            off.max()
        )
        assert row["coef sum"] == pytest.approx(full.params[cols].sum(), abs=1e-10)
        group = full.f_test([f"{c} = 0" for c in cols])  # Wald form of the same F
        assert row["F group"] == pytest.approx(float(np.squeeze(group.fvalue)), rel=1e-8)
        level = full.f_test(" + ".join(cols) + " = 0")
        assert row["F sum"] == pytest.approx(float(np.squeeze(level.fvalue)), rel=1e-8)
        assert row["p sum"] == pytest.approx(float(level.pvalue), rel=1e-6)
    # the walk's lags are strongly correlated; its changes matter, its level does not (5 - 5 = 0)
    assert table.loc["a", "corr min"] > 0.9 > table.loc["b", "corr max"]
    assert table.loc["a", "p group"] < 1e-6
    assert table.loc["a", "p sum"] > 1e-3 and table.loc["b", "p sum"] < 0.01


def test_f_test_and_lag_groups_reject_bad_inputs():
    X, y = _design(n=50)
    with pytest.raises(ValueError, match="fewer effective columns"):
        snr.f_test(X, X, y)
    with pytest.raises(ValueError, match=r"expected X_0 of shape \(50, n\)"):
        snr.f_test(X, X.to_numpy()[:10], y)
    with pytest.raises(ValueError, match=r"columns \['c_1'"):
        snr.lag_groups(X, y, ["a", "c"], 5)
    with pytest.raises(ValueError, match="expected lags to be an int >= 2"):
        snr.lag_groups(X, y, ["a"], 1)


def test_verdicts_read_the_constructed_sweep():
    # n = 100: MLP ahead by 0.3 +- 0 at SNR 10, tie at 1, worse at 0.1
    # n = 1000: ahead everywhere by more than one SE
    snrs = np.array([0.1, 10.0, 1.0])
    lin = np.zeros((2, 3, 2))
    net = np.zeros((2, 3, 2))
    net[0] = [[-0.2, -0.1], [0.3, 0.3], [0.0, 0.02]]
    net[1] = [[0.1, 0.12], [0.5, 0.52], [0.2, 0.21]]
    sweep = snr.SNRSweep(snrs, [100, 1000], [0, 1], net, lin)
    table = sweep.verdicts()
    assert list(table.columns) == ["n = 100", "n = 1000"]
    col = table["n = 100"].tolist()
    assert col[0].startswith("MLP - linear = +0.300 ± 0.000 at SNR 10")
    assert col[1] == "advantage gone at SNR 1"
    assert col[2] == "-0.150 ± 0.050 at SNR 0.1: MLP worse"
    col = table["n = 1000"].tolist()
    assert col[1] == "advantage never gone"
    assert col[2].endswith("MLP ahead")
    net[0, 0] = [-0.01, 0.01]  # mean 0, SE 0.01 at the lowest SNR
    tie = snr.SNRSweep(snrs, [100, 1000], [0, 1], net, lin)
    assert tie.verdicts()["n = 100"].iloc[2] == "+0.000 ± 0.010 at SNR 0.1: a tie"
