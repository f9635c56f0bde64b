"""Long-range toy tasks for sequence models: the adding problem.

The **adding problem** (Hochreiter & Schmidhuber, 1997; in the form of Le et al., 2015)
tests whether a model can carry information across many time steps. Each input is a
sequence x_1, ..., x_T with x_t = (v_t, m_t) in R^2:

- v_t ~ U(0, 1), independent (the values);
- m_t in {0, 1} marks exactly two steps: one t_1 drawn uniformly from the first half
  {1, ..., floor(T/2)} and one t_2 from the second half {floor(T/2) + 1, ..., T}.

The target is one number per sequence (a "type 1" output), y = v_{t_1} + v_{t_2}. To
predict it, a model must remember v_{t_1} over T - t_1 >= T/2 steps among distracting values.

Two reference points come with it:

- :data:`ADDING_BASELINE_MSE` = Var(y) = 1/6, the mean squared error of the trivial
  prediction y_hat = E[y] = 1, which ignores the input;
- :func:`adding_accuracy`, the fraction of sequences predicted to within 0.04 in absolute
  value, the success criterion of Hochreiter & Schmidhuber (1997).

Arrays follow PyTorch's ``batch_first`` layout: X has shape ``(n_samples, T, 2)``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._util import as_array, as_rng, positive_float, positive_int

Array = np.ndarray

#: Var(v_1 + v_2) for independent U(0, 1) values: the MSE of always predicting E[y] = 1.
ADDING_BASELINE_MSE = 1.0 / 6.0

#: The tolerance |y_hat - y| < 0.04 of Hochreiter & Schmidhuber (1997).
ADDING_TOLERANCE = 0.04


class AddingTask(NamedTuple):
    """One draw of the adding problem.

    ``X`` ``(n, T, 2)``: values in channel 0, markers in channel 1; ``y`` ``(n,)``: the sum
    of the two marked values; ``positions`` ``(n, 2)``: the marked steps t_1 < t_2, as
    0-based indices into axis 1 of ``X``.
    """

    X: Array
    y: Array
    positions: Array


def make_adding(n_samples: int, T: int, rng: np.random.Generator | int | None = None) -> AddingTask:
    """Draw ``n_samples`` sequences of the adding problem of length ``T`` (T >= 2).

    x_t = (v_t, m_t), v_t ~ U(0, 1); m_t = 1 at one step of the first half and one of the
    second half, 0 elsewhere; y = sum_t m_t v_t. ``rng`` is a NumPy Generator or a seed:
    the same seed gives the same arrays. Returns an :class:`AddingTask` ``(X, y, positions)``.
    """
    n = positive_int(n_samples, "n_samples")
    T = positive_int(T, "T", minimum=2)
    rng = as_rng(rng)
    half = T // 2
    values = rng.uniform(0.0, 1.0, size=(n, T))
    t1 = rng.integers(0, half, size=n)  # 0-based: steps 1..floor(T/2)
    t2 = rng.integers(half, T, size=n)  # steps floor(T/2)+1..T
    markers = np.zeros((n, T))
    rows = np.arange(n)
    markers[rows, t1] = 1.0
    markers[rows, t2] = 1.0
    X = np.stack([values, markers], axis=-1)
    y = values[rows, t1] + values[rows, t2]
    return AddingTask(X, y, np.column_stack([t1, t2]))


def adding_accuracy(y: Any, y_hat: Any, tol: float = ADDING_TOLERANCE) -> float:
    """The fraction of sequences with |y_hat - y| < ``tol`` (0.04 by default)."""
    y = as_array(y, "y", ndim=1)
    y_hat = as_array(y_hat, "y_hat", shape=(len(y),))
    tol = positive_float(tol, "tol")
    return float(np.mean(np.abs(y_hat - y) < tol))


__all__ = [
    "ADDING_BASELINE_MSE",
    "ADDING_TOLERANCE",
    "AddingTask",
    "adding_accuracy",
    "make_adding",
]
