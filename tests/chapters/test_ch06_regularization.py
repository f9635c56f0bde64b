"""Tests for nnbook.chapters.ch06_regularization: MAP and input noise as ridge, the CV helpers.

Each closed form is checked against an independent computation: least squares on noisy copies
of the inputs, numerical optimisation of a log posterior written with scipy.stats, or a
brute-force search. The ridge regression they are compared with is tested in
tests/engine/test_linear.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from linear_data import linear_data
from scipy import optimize, stats

from nnbook.chapters import ch06_regularization as reg
from nnbook.engine import linear

# ---------------------------------------------------------------------------------------
# ridge and MAP
# ---------------------------------------------------------------------------------------


def test_map_equals_ridge():
    X, y = linear_data(n=30, d=5, seed=1)
    s2, tau2 = 0.25, 2.0

    def neg_log_posterior(w):
        return -(
            stats.norm.logpdf(y, loc=X @ w, scale=np.sqrt(s2)).sum()
            + stats.norm.logpdf(w, scale=np.sqrt(tau2)).sum()
        )

    w_opt = optimize.minimize(
        neg_log_posterior, np.zeros(5), method="BFGS", options={"gtol": 1e-9}
    ).x
    w_map = reg.map_linear_gaussian(X, y, noise_var=s2, prior_var=tau2)
    w_ridge = linear.ridge(X, y, s2 / tau2)
    np.testing.assert_allclose(w_map, w_ridge, atol=1e-10)
    np.testing.assert_allclose(w_opt, w_ridge, atol=1e-5)
    # and it is not ordinary least squares (the prior matters)
    assert np.max(np.abs(w_ridge - linear.ridge(X, y, 0.0))) > 1e-3


# ---------------------------------------------------------------------------------------
# input noise as ridge
# ---------------------------------------------------------------------------------------


def test_noise_ridge_matches_least_squares_on_noisy_copies():
    X, y = linear_data(n=25, d=3, seed=5)
    sigma = 0.6
    X_aug, y_aug = reg.noisy_copies(X, y, sigma, copies=4000, rng=6)
    assert X_aug.shape == (100_000, 3) and y_aug.shape == (100_000,)
    w_aug = np.linalg.lstsq(X_aug, y_aug, rcond=None)[0]
    w_ridge = linear.ridge(X, y, len(y) * sigma**2)
    np.testing.assert_allclose(reg.noise_ridge(X, y, sigma), w_ridge)
    w_ols = linear.ridge(X, y, 0.0)
    assert np.linalg.norm(w_aug - w_ridge) < 0.05 * np.linalg.norm(w_ols - w_ridge)
    # the wrong convention (lambda = sigma^2, not N sigma^2) is clearly worse
    w_wrong = linear.ridge(X, y, sigma**2)
    assert np.linalg.norm(w_aug - w_wrong) > 5 * np.linalg.norm(w_aug - w_ridge)


def test_l2_penalty():
    torch = pytest.importorskip("torch")
    layer = torch.nn.Linear(3, 2)
    with torch.no_grad():
        expected = float((layer.weight**2).sum() + (layer.bias**2).sum())
    assert reg.l2_penalty(layer) == pytest.approx(expected, rel=1e-6)
    assert reg.l2_penalty([np.array([3.0, 4.0])]) == 25.0


# ---------------------------------------------------------------------------------------
# cross-validation
# ---------------------------------------------------------------------------------------


def test_kfold_indices_partition():
    folds = reg.kfold_indices(23, 5, seed=1)
    assert len(folds) == 5
    val = np.concatenate([v for _, v in folds])
    assert sorted(val.tolist()) == list(range(23))
    for tr, va in folds:
        assert set(tr).isdisjoint(va) and len(tr) + len(va) == 23
    assert sorted(len(v) for _, v in folds) == [4, 4, 5, 5, 5]


def test_grids():
    assert len(reg.param_grid(M=[8, 32, 128], lam=[0, 1e-3])) == 6
    s = reg.one_at_a_time({"M": 32, "lam": 0.0}, M=[8, 32, 128], lam=[1e-3])
    assert s == [
        {"M": 32, "lam": 0.0},
        {"M": 8, "lam": 0.0},
        {"M": 128, "lam": 0.0},
        {"M": 32, "lam": 1e-3},
    ]


def test_cross_validate_shape_and_known_best():
    # y = 5 + noise; predicting the constant c has validation MSE about (c - 5)^2 + 1: c = 5 wins
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 2))
    y = 5.0 + rng.normal(size=60)

    def score(setting, X_tr, y_tr, X_va, y_va):
        assert len(X_tr) + len(X_va) == 60 and len(y_tr) == len(X_tr)
        return float(np.mean((y_va - setting["c"] * setting["scale"]) ** 2))

    result = reg.cross_validate(score, {"c": [0.0, 2.5, 5.0, 7.5], "scale": [1.0, 0.5]}, X, y, K=4)
    assert result.errors.shape == (8, 4)
    assert result.best == {"c": 5.0, "scale": 1.0}
    df = result.to_frame()
    assert list(df.columns) == ["c", "scale", "cv_error", "se"] and len(df) == 8
    # the CV error of a setting is the mean of its fold errors, and it is an honest estimate
    assert result.mean[result.best_index] == pytest.approx(1.0, abs=0.5)


def test_cross_validate_picks_ridge_lambda_like_brute_force():
    X, y = linear_data(n=50, d=8, seed=8, noise=2.0)

    def score(setting, X_tr, y_tr, X_va, y_va):
        w = linear.ridge(X_tr, y_tr, setting["lam"])
        return float(np.mean((y_va - X_va @ w) ** 2))

    lams = [0.0, 1.0, 10.0, 100.0, 1000.0]
    result = reg.cross_validate(score, [{"lam": l} for l in lams], X, y, K=5, seed=3)
    # independent recomputation of the CV errors with our own loop
    folds = reg.kfold_indices(50, 5, seed=3)
    brute = [
        np.mean([score({"lam": l}, X[tr], y[tr], X[va], y[va]) for tr, va in folds]) for l in lams
    ]
    np.testing.assert_allclose(result.mean, brute)
    assert result.best == {"lam": lams[int(np.argmin(brute))]}
    assert result.best["lam"] != 1000.0  # a huge penalty is clearly bad here


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------


def test_bad_input():
    X, y = linear_data()
    with pytest.raises(ValueError, match="noise_var > 0"):
        reg.map_linear_gaussian(X, y, noise_var=0.0, prior_var=1.0)
    with pytest.raises(ValueError, match="K <= n"):
        reg.kfold_indices(3, 5)
    with pytest.raises(ValueError, match="K to be an int >= 2"):
        reg.kfold_indices(10, 1)
    with pytest.raises(TypeError, match="dict of lists or a non-empty list of dicts"):
        reg.cross_validate(lambda *a: 0.0, [], X, y)
    with pytest.raises(TypeError, match="score to return a number"):
        reg.cross_validate(lambda *a: "bad", {"a": [1]}, X, y)
    with pytest.raises(ValueError, match="non-empty list of values for a"):
        reg.param_grid(a=[])
    with pytest.raises(ValueError, match="hyperparameters in base"):
        reg.one_at_a_time({"M": 8}, lam=[1.0])


def test_fold_errors_scores_every_setting_on_every_fold():
    """errors[s, k] is the score of setting s trained without fold k and validated on it."""
    X = np.arange(12.0)[:, None]
    y = np.arange(12.0)
    folds = reg.kfold_indices(12, 3, seed=0)
    settings = [{"a": 1.0}, {"a": 2.0}]

    def score(setting, X_tr, y_tr, X_va, y_va):
        assert not set(y_tr) & set(y_va) and len(y_tr) + len(y_va) == 12
        return setting["a"] * 100 + y_va.sum()  # identifies the setting and the fold

    errors = reg.fold_errors(score, settings, X, y, folds)
    want = [[a * 100 + y[va].sum() for _, va in folds] for a in (1.0, 2.0)]
    np.testing.assert_array_equal(errors, want)


def test_draw_thinned_network_crosses_out_exactly_the_dropped_units():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keep = [np.ones(3, bool), np.array([True, False, True, False]), np.ones(1, bool)]
    fig, ax = plt.subplots()
    reg.draw_thinned_network(ax, keep, ["x", "h", "f"])
    crosses = [c for c in ax.collections if c.get_offsets().shape[0] and c.get_sizes()[0] == 50]
    assert sum(len(c.get_offsets()) for c in crosses) == 2  # the two dropped hidden units
    dark = [ln for ln in ax.lines if ln.get_color() == "#000000"]
    assert len(dark) == 3 * 2 + 2 * 1  # the connections between kept units only
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "h", "f"]
    plt.close(fig)


def test_map_is_weight_decay_on_the_mean_squared_error_with_lambda_2s2_lambda_prime_over_n():
    """Chapter 6: R = (1/N) sum (y - x^T theta)^2 without a 1/2, so lambda = 2 s^2 lambda' / N."""
    X, y = linear_data(n=30, d=5, seed=2)
    s2, tau2 = 0.5, 0.8
    lam = 2 * s2 * (1 / tau2) / len(y)

    def penalised_mse(theta):
        return np.mean((y - X @ theta) ** 2) + lam / 2 * np.sum(theta**2)

    theta = optimize.minimize(penalised_mse, np.zeros(5), method="BFGS", options={"gtol": 1e-12}).x
    w_map = reg.map_linear_gaussian(X, y, noise_var=s2, prior_var=tau2)
    np.testing.assert_allclose(theta, w_map, atol=1e-6)
    # with the 1/2 in front of the loss, the same lambda would be twice too strong
    half = optimize.minimize(
        lambda t: 0.5 * np.mean((y - X @ t) ** 2) + lam / 2 * np.sum(t**2), np.zeros(5)
    ).x
    assert np.max(np.abs(half - w_map)) > 1e-3
    # and ridge on the sum of squares needs N lambda / 2
    np.testing.assert_allclose(linear.ridge(X, y, len(y) * lam / 2), w_map, atol=1e-10)
