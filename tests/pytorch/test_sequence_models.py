"""Tests for nnbook.pytorch.sequences: recurrent sequence models and their training."""

from __future__ import annotations

import numpy as np
import torch

from nnbook.data.sequences import make_adding
from nnbook.pytorch import sequences as seqs


def test_sequence_model_output_types_and_seed():
    X = torch.randn(4, 7, 3)
    for cell in seqs.CELLS:
        type1 = seqs.SequenceModel(cell, 3, 5, K=2, seed=1)
        type2 = seqs.SequenceModel(cell, 3, 5, K=2, per_step=True, seed=1)
        o_T, O = type1(X), type2(X)
        assert o_T.shape == (4, 2) and O.shape == (4, 7, 2)
        torch.testing.assert_close(O[:, -1], o_T)  # same seed: the same weights
    state = torch.get_rng_state()
    seqs.SequenceModel("gru", 3, 5, seed=3)
    assert torch.equal(state, torch.get_rng_state())  # the global generator untouched


def test_training_learns_a_short_adding_problem():
    task = make_adding(1000, 4, rng=0)
    model = seqs.SequenceModel("gru", 2, 8, seed=0)
    losses = seqs.train_sequence_model(model, task.X, task.y, steps=150, lr=1e-2, seed=0)
    assert len(losses) == 150
    assert np.mean(losses[-20:]) < 0.2 * np.mean(losses[:5])


def test_training_is_seeded():
    task = make_adding(200, 4, rng=1)
    runs = []
    for _ in range(2):
        model = seqs.SequenceModel("rnn", 2, 4, seed=0)
        runs.append(seqs.train_sequence_model(model, task.X, task.y, steps=10, seed=5))
    assert runs[0] == runs[1]


def test_adding_sweep_table():
    table, models = seqs.adding_sweep([4], {"rnn": 3, "gru": 2}, n_train=64, n_test=32, steps=3)
    assert list(table["cell"]) == ["Elman RNN", "GRU"] and set(models) == {("rnn", 4), ("gru", 4)}
    np.testing.assert_allclose(table["MSE / baseline"], 6 * table["test MSE"])
    # G (M d + M^2 + 2 M) + (M + 1): G affine maps per step with PyTorch's two biases, then the head
    expected = [1 * (3 * 2 + 9 + 6) + 4, 3 * (2 * 2 + 4 + 4) + 3]
    assert list(table["parameters"]) == expected
    assert table["accuracy"].between(0, 1).all()
