"""Stochastic (mini-batch) gradient descent: the mini-batch gradient, initialisation, optimisers.

The ERM objective is a finite sum, and so is its gradient,

    R^(theta) = (1/N) sum_{i=1}^N R^(i)(theta),
    grad R^(theta) = (1/N) sum_{i=1}^N grad R^(i)(theta).

SGD replaces the full gradient by the mean over a mini-batch {i_1, ..., i_B} drawn uniformly,

    g_k = (1/B) sum_{j=1}^B grad R^(i_j)(theta^(k)),      theta^(k+1) = theta^(k) - eta g_k.

This module holds the tools the chapter uses to *measure* that estimator and the training
it drives (the optimisers themselves live in :mod:`nnbook.engine.optim`):

* the mini-batch gradient: :class:`LeastSquaresRisk` (per-sample gradients in closed form),
  :func:`model_gradient` and :func:`per_sample_gradients` (any :class:`nnbook.engine.mlp.MLP`),
  :func:`sample_batches`, :func:`minibatch_gradients`, :func:`unbiasedness_check`, and the
  variance E||g_k - grad R^||^2 exactly (:func:`gradient_variance`) and by sampling
  (:func:`sampled_variance`), with the finite-population correction (N - B) / (N - 1), for a
  range of batch sizes (:func:`variance_by_batch_size`);
* epochs: :func:`updates_per_epoch`, and :func:`enumerate_epochs` (what a shuffled epoch's
  later batches do to unbiasedness, by exact enumeration of all orders);
* initialisation: :func:`symmetry_gap` and :func:`one_unit_equivalent` (the symmetry problem
  of zero init), :func:`activation_statistics` (mean and std of f_l across depth) and
  :func:`infinite_width_std` (the same std predicted by the variance recursion);
* training: :func:`train_trace` (loss against updates, epochs and seconds),
  :func:`compare_optimizers`, :func:`tune_learning_rate` (a grid extended until its best
  value is bracketed), and :func:`torch_trajectory_gap` (our optimiser against
  ``torch.optim`` on the same mini-batches).

Arrays are ``(n_samples, n_features)``; parameter vectors theta and gradients are flat,
shape ``(p,)``, in the order of ``model.parameters()`` (W_0, b_0, ..., W_L, b_L, each row by row).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from math import ceil
from typing import Any, NamedTuple

import numpy as np

from .._util import as_array, as_rng, one_of, positive_float, positive_int
from ..engine import activations
from ..engine.init import ALIASES, INITIALIZERS
from ..engine.init import init as draw_weights
from ..engine.losses import Loss
from ..engine.losses import get as get_loss
from ..engine.mlp import MLP
from ..engine.optim import (
    OPTIMIZERS,
    Optimizer,
    _check_data,
    make_optimizer,
    minibatch_stream,
    train_step,
)

Array = np.ndarray

__all__ = [
    "LeastSquaresRisk",
    "flat_parameters",
    "model_gradient",
    "per_sample_gradients",
    "updates_per_epoch",
    "EpochEnumeration",
    "enumerate_epochs",
    "sample_batches",
    "minibatch_gradients",
    "UnbiasednessCheck",
    "unbiasedness_check",
    "finite_population_correction",
    "gradient_variance",
    "sampled_variance",
    "VarianceSweep",
    "variance_by_batch_size",
    "symmetry_gap",
    "one_unit_equivalent",
    "ActivationStats",
    "activation_statistics",
    "infinite_width_std",
    "Trace",
    "train_trace",
    "compare_optimizers",
    "LearningRateSearch",
    "final_loss",
    "tune_learning_rate",
    "torch_trajectory_gap",
]


# =========================================================================== finite sums


class LeastSquaresRisk:
    """Least squares as a finite sum, R^(theta) = (1/N) sum_i R^(i)(theta) with

        R^(i)(theta) = 1/2 (x_i^T theta - y_i)^2,     grad R^(i)(theta) = (x_i^T theta - y_i) x_i.

    ``risk(theta, idx)`` and ``risk.grad(theta, idx)`` are the mean over the rows ``idx``
    (all N rows if ``idx`` is None): with a mini-batch ``idx`` of size B, ``grad`` is g_k.
    """

    def __init__(self, X: Any, y: Any) -> None:
        self.X = as_array(X, "X", ndim=2)
        self.y = as_array(y, "y", shape=(self.X.shape[0],))
        if self.X.shape[0] < 1:
            raise ValueError("expected at least one sample (a row of X), got none")

    @property
    def N(self) -> int:
        """The number of samples (terms of the sum)."""
        return self.X.shape[0]

    @property
    def p(self) -> int:
        """The number of parameters (columns of X)."""
        return self.X.shape[1]

    def _theta(self, theta: Any) -> Array:
        return as_array(theta, "theta", shape=(self.p,), finite=False)

    def _rows(self, idx: Any) -> tuple[Array, Array]:
        if idx is None:
            return self.X, self.y
        idx = np.asarray(idx)
        if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
            raise ValueError(
                f"expected idx to be a non-empty 1-D array of row indices, got {idx!r}"
            )
        return self.X[idx], self.y[idx]

    def __call__(self, theta: Any, idx: Any = None) -> float:
        """R^(theta), or the mean of R^(i)(theta) over the rows ``idx``."""
        X, y = self._rows(idx)
        r = X @ self._theta(theta) - y
        return float(0.5 * np.mean(r * r))

    def grad(self, theta: Any, idx: Any = None) -> Array:
        """grad R^(theta) = X^T (X theta - y) / N, or the mean over the rows ``idx`` (g_k)."""
        X, y = self._rows(idx)
        return X.T @ (X @ self._theta(theta) - y) / X.shape[0]

    def per_sample_grads(self, theta: Any) -> Array:
        """The N per-sample gradients grad R^(i)(theta) as the rows of an ``(N, p)`` array."""
        r = self.X @ self._theta(theta) - self.y
        return r[:, None] * self.X

    def minimizer(self) -> Array:
        """The least-squares solution theta^* (``np.linalg.lstsq``)."""
        return np.linalg.lstsq(self.X, self.y, rcond=None)[0]

    def __repr__(self) -> str:
        return f"LeastSquaresRisk(N={self.N}, p={self.p})"


def _check_model(model: Any) -> MLP:
    if not isinstance(model, MLP):
        raise TypeError(f"expected an nnbook.engine.mlp.MLP, got {type(model).__name__}")
    return model


def flat_parameters(model: MLP) -> Array:
    """theta: every parameter of ``model`` in one vector of shape ``(p,)`` (a copy), in the
    order W_0, b_0, ..., W_L, b_L.
    """
    return np.concatenate([p.data.ravel() for p in _check_model(model).parameters()])


def model_gradient(model: MLP, loss: str | Loss, X: Any, y: Any) -> Array:
    """grad R^(theta) of the mean loss (1/n) sum_i L(f_theta(x_i), y_i) over the rows of
    ``(X, y)``, flattened to shape ``(p,)`` (one forward and one backward pass; the model's
    gradients are overwritten). With ``(X[idx], y[idx])`` for a mini-batch ``idx`` it is g_k.
    """
    model = _check_model(model)
    loss = get_loss(loss)
    model.zero_grad()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    return np.concatenate([g.ravel() for g in model.grads()])


def per_sample_gradients(model: MLP, loss: str | Loss, X: Any, y: Any) -> Array:
    """The per-sample gradients grad R^(i)(theta), i = 1..N, as the rows of an ``(N, p)``
    array (one backward pass per sample; for small networks and data sets).
    """
    model = _check_model(model)
    X = as_array(X, "X", shape=(None, model.d), dtype=model.dtype)
    y = np.asarray(y)
    if y.shape[:1] != X.shape[:1]:
        raise ValueError(
            f"expected y with {X.shape[0]} rows (one per row of X), got shape {y.shape}"
        )
    return np.stack(
        [model_gradient(model, loss, X[i : i + 1], y[i : i + 1]) for i in range(X.shape[0])]
    )


# =========================================================================== mini-batches


def updates_per_epoch(N: int, B: int, drop_last: bool = False) -> int:
    """The number of mini-batch updates in one epoch (one pass over the N samples):
    ceil(N / B), or floor(N / B) if the last, smaller batch is dropped.

    >>> updates_per_epoch(60_000, 128)   # the lecture's MNIST question
    469
    """
    N, B = positive_int(N, "N"), positive_int(B, "B")
    if B > N:
        raise ValueError(f"expected a batch size B <= N = {N}, got B = {B}")
    return N // B if drop_last else ceil(N / B)


def _check_batch(N: Any, B: Any, replace: bool) -> tuple[int, int]:
    N, B = positive_int(N, "N"), positive_int(B, "B")
    if not replace and B > N:
        raise ValueError(
            f"expected a batch size B <= N = {N} (sampling without replacement), got B = {B}"
        )
    return N, B


def sample_batches(
    N: int, B: int, n_draws: int, rng: np.random.Generator | int | None, replace: bool = False
) -> Array:
    """``n_draws`` independent mini-batches {i_1, ..., i_B}, each drawn uniformly from
    {0, ..., N-1}: as the rows of an int array of shape ``(n_draws, B)``.
    Without replacement (the default, what an epoch of shuffled batches does) each row is
    a uniform random B-subset; with ``replace=True`` the B indices are independent.
    """
    N, B = _check_batch(N, B, replace)
    n_draws = positive_int(n_draws, "n_draws")
    rng = as_rng(rng)
    if replace:
        return rng.integers(0, N, size=(n_draws, B))
    out = np.empty((n_draws, B), dtype=np.intp)
    chunk = max(1, 2**20 // N)  # about a million random keys at a time
    for start in range(0, n_draws, chunk):
        stop = min(start + chunk, n_draws)
        keys = rng.random((stop - start, N))
        # the B smallest of N i.i.d. uniform keys sit at a uniformly random B-subset
        out[start:stop] = (
            np.argpartition(keys, B - 1, axis=1)[:, :B] if B < N else np.argsort(keys, axis=1)
        )
    return out


def minibatch_gradients(
    grad: Callable[[Array], Array],
    N: int,
    B: int,
    n_draws: int,
    rng: np.random.Generator | int | None,
    replace: bool = False,
) -> Array:
    """``n_draws`` mini-batch gradients g = grad(idx), one per random mini-batch ``idx`` of
    size B (see :func:`sample_batches`), as the rows of an ``(n_draws, p)`` array.

    ``grad`` maps an index array to the gradient of the mean loss on those rows, e.g.
    ``lambda idx: risk.grad(theta, idx)`` or
    ``lambda idx: model_gradient(model, loss, X[idx], y[idx])``.
    """
    if not callable(grad):
        raise TypeError(
            f"expected grad to be a function idx -> gradient, got {type(grad).__name__}"
        )
    batches = sample_batches(N, B, n_draws, rng, replace)
    return np.stack([np.asarray(grad(idx), dtype=np.float64).ravel() for idx in batches])


class UnbiasednessCheck(NamedTuple):
    """The Monte Carlo check of E[g_k | theta] = grad R^(theta), coordinate by coordinate.

    ``mean`` is the average of ``n_draws`` mini-batch gradients, ``full`` the full gradient,
    ``stderr`` the standard error of ``mean`` (sample std / sqrt(n_draws)), and ``z`` the
    standardised differences (mean - full) / stderr, which are roughly N(0, 1) if the
    estimator is unbiased.
    """

    mean: Array
    full: Array
    stderr: Array
    z: Array
    n_draws: int
    B: int

    @property
    def max_abs_z(self) -> float:
        """max_j |z_j|: the largest deviation, in standard errors."""
        return float(np.max(np.abs(self.z)))

    @property
    def max_abs_diff(self) -> float:
        """max_j |mean_j - full_j|."""
        return float(np.max(np.abs(self.mean - self.full)))


def unbiasedness_check(
    grad: Callable[[Array], Array],
    full: Any,
    N: int,
    B: int,
    n_draws: int,
    rng: np.random.Generator | int | None,
    replace: bool = False,
) -> UnbiasednessCheck:
    """Average ``n_draws`` mini-batch gradients (see :func:`minibatch_gradients`) and compare
    the average with the full gradient ``full``, in units of its standard error.

    Coordinates whose mini-batch gradient never varies (standard error 0) get z = 0 if the
    mean equals ``full`` to rounding, and z = inf otherwise.
    """
    G = minibatch_gradients(grad, N, B, n_draws, rng, replace)
    full = as_array(full, "full", ndim=1).ravel()
    if full.shape != G.shape[1:]:
        raise ValueError(
            f"expected full of shape ({G.shape[1]},) (the gradient's shape), got {full.shape}"
        )
    if G.shape[0] < 2:
        raise ValueError(f"expected n_draws >= 2 (to estimate a standard error), got {G.shape[0]}")
    mean = G.mean(axis=0)
    stderr = G.std(axis=0, ddof=1) / np.sqrt(G.shape[0])
    diff = mean - full
    tiny = 1e-12 * max(1.0, float(np.abs(full).max(initial=0.0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(
            stderr > tiny,
            diff / np.where(stderr > tiny, stderr, 1.0),
            np.where(np.abs(diff) <= tiny, 0.0, np.inf),
        )
    return UnbiasednessCheck(mean, full, stderr, z, G.shape[0], int(B))


# =========================================================================== shuffled epochs


class EpochEnumeration(NamedTuple):
    """What :func:`enumerate_epochs` returns, exactly (averages over every equally likely
    epoch): ``bias[k]`` = E[g_k - grad R^(theta^(k))] and ``grad_norm[k]`` =
    E||grad R^(theta^(k))|| for the K = N / B steps of the epoch (shapes ``(K, p)`` and
    ``(K,)``), and ``ends``, the end point theta^(K) of every epoch (shape ``(n_epochs, p)``).
    """

    bias: Array
    grad_norm: Array
    ends: Array


def enumerate_epochs(
    risk: LeastSquaresRisk, theta0: Any, eta: float, B: int = 1, replace: bool = False
) -> EpochEnumeration:
    """One epoch of SGD, theta^(k+1) = theta^(k) - eta g_k from theta^(0), run on every
    equally likely draw of its K = N / B batches, and the bias of g_k averaged over them:

        bias[k] = E[g_k - grad R^(theta^(k))].

    Without replacement (a shuffled epoch) the draws are the N! orders of the samples, cut
    into batches of B; with ``replace=True``, the N^N sequences of K batches of B independent
    uniform indices. If every batch is independent of theta^(k), every bias[k] is 0. An exact
    enumeration: N! (or N^N) must stay below 50,000.
    """
    N, B = risk.N, _check_batch(risk.N, B, replace=False)[1]
    n_draws = N**N if replace else np.prod(range(1, N + 1))
    if N % B or n_draws > 50_000:
        raise ValueError(
            f"expected a small N divisible by B (N! or N^N <= 50,000), got N = {N}, B = {B}"
        )
    theta0 = as_array(theta0, "theta0", shape=(risk.p,))
    eta = positive_float(eta, "eta")
    draws = itertools.product(range(N), repeat=N) if replace else itertools.permutations(range(N))
    K = N // B
    bias, grad_norm, ends = np.zeros((K, risk.p)), np.zeros(K), []
    for order in draws:
        theta = theta0
        for k in range(K):
            g, full = risk.grad(theta, np.array(order[k * B : (k + 1) * B])), risk.grad(theta)
            bias[k] += g - full
            grad_norm[k] += np.linalg.norm(full)
            theta = theta - eta * g
        ends.append(theta)
    return EpochEnumeration(bias / len(ends), grad_norm / len(ends), np.array(ends))


# =========================================================================== variance


def finite_population_correction(N: int, B: int) -> float:
    """(N - B) / (N - 1): the factor by which sampling B of N items *without* replacement
    shrinks the variance of their mean, compared with sampling with replacement
    (1 for B = 1, 0 for B = N: the whole data set has no sampling noise).
    """
    N, B = _check_batch(N, B, replace=False)
    return 1.0 if N == 1 else (N - B) / (N - 1)


def _check_G(G: Any) -> Array:
    G = as_array(G, "G (the per-sample gradients)", ndim=2)
    if G.shape[0] < 1:
        raise ValueError(
            "expected G with at least one row (one per-sample gradient per row), got none"
        )
    return G


def gradient_variance(G: Any, B: int, replace: bool = False) -> float:
    """The exact total variance of the mini-batch gradient, E||g_k - grad R^||^2, from the
    per-sample gradients (the rows of ``G``, shape ``(N, p)``):

        sigma^2 / B                       with replacement,
        sigma^2 / B * (N - B) / (N - 1)   without replacement,

    where sigma^2 = (1/N) sum_i ||grad R^(i) - grad R^||^2 is the variance of one sample's gradient.
    """
    G = _check_G(G)
    N, B = _check_batch(G.shape[0], B, replace)
    sigma2 = float(np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1)))
    return sigma2 / B if replace else sigma2 / B * finite_population_correction(N, B)


def sampled_variance(
    G: Any, B: int, n_draws: int, rng: np.random.Generator | int | None, replace: bool = False
) -> float:
    """A Monte Carlo estimate of E||g_k - grad R^||^2: draw ``n_draws`` mini-batches of size B
    (see :func:`sample_batches`), average the rows of ``G`` (the per-sample gradients, shape
    ``(N, p)``) over each, and average the squared distances to the full gradient, the mean
    of all rows.
    """
    G = _check_G(G)
    N = G.shape[0]
    full = G.mean(axis=0)
    batches = sample_batches(N, B, n_draws, rng, replace)
    total, chunk = 0.0, max(1, 2**21 // (B * G.shape[1]))
    for start in range(0, batches.shape[0], chunk):
        g = G[batches[start : start + chunk]].mean(axis=1)  # (chunk, p): one g_k per row
        total += float(np.sum((g - full) ** 2))
    return total / batches.shape[0]


class VarianceSweep(NamedTuple):
    """E||g_k - grad R^||^2 against the batch size (arrays of shape ``(n_sizes,)``): the
    batch sizes ``B``, the Monte Carlo estimate ``measured``, the exact value without
    replacement ``exact`` and with replacement ``with_replacement``."""

    B: Array
    measured: Array
    exact: Array
    with_replacement: Array


def variance_by_batch_size(
    G: Any, n_sizes: int, n_draws: int, rng: np.random.Generator | int | None
) -> VarianceSweep:
    """The variance of the mini-batch gradient for about ``n_sizes`` batch sizes from 1 to N,
    evenly spaced on a log scale: measured by :func:`sampled_variance` (``n_draws`` batches
    each) and exact by :func:`gradient_variance`. ``G`` holds the per-sample gradients."""
    G, rng = _check_G(G), as_rng(rng)
    N = G.shape[0]
    sizes = np.unique(np.round(np.logspace(0, np.log10(N), positive_int(n_sizes, "n_sizes"))))
    Bs = sizes.astype(int)
    return VarianceSweep(
        Bs,
        np.array([sampled_variance(G, int(b), n_draws, rng) for b in Bs]),
        np.array([gradient_variance(G, int(b)) for b in Bs]),
        np.array([gradient_variance(G, int(b), replace=True) for b in Bs]),
    )


# =========================================================================== initialisation


def symmetry_gap(model: MLP) -> float:
    """How far the hidden units of ``model`` are from being identical copies of each other:
    the largest |[W_l]_{jm} - [W_l]_{1m}| and |[b_l]_j - [b_l]_1| over the hidden layers
    l = 0..L-1, units j and inputs m. It is 0 exactly when, in every hidden layer, all units
    have the same incoming weights and bias (the symmetric state that zero init never leaves).
    """
    gap = 0.0
    for lin in _check_model(model).hidden:
        W, b = lin.W.data, lin.b.data
        gap = max(gap, float(np.abs(W - W[:1]).max()), float(np.abs(b - b[:1]).max()))
    return gap


def _check_symmetric(model: Any, atol: float) -> MLP:
    gap = symmetry_gap(model)
    if gap > atol:
        raise ValueError(
            f"expected a model whose hidden units are identical (symmetry gap <= {atol}), "
            f"got a gap of {gap:.3g}"
        )
    return model


def one_unit_equivalent(model: MLP, atol: float = 1e-12) -> MLP:
    """The network with **one** unit per hidden layer that computes the same function as
    ``model``, whose hidden units must be identical (``symmetry_gap(model) <= atol``).

    If all d_{l+1} units of layer l equal the first one, each unit of layer l+1 receives
    [W_l]_{1,:} f_l = (sum_m [W_l]_{1m}) f_{l,1}: so the one-unit network keeps the first row
    of W_0 and b_0, replaces W_l (l >= 1) by the row sum of its first row and b_l by [b_l]_1,
    and replaces the output weights W_L = beta^T by their row sums.
    """
    model = _check_symmetric(model, atol)
    small = MLP(
        [model.d] + [1] * model.L + [model.K],
        activation=model.activation,
        init="zeros",
        dtype=model.dtype,
    )
    for l, (big, one) in enumerate(zip(model.linears, small.linears)):
        W, b = big.W.data, big.b.data
        if l == 0:
            one.W.data[...] = W[:1]
        elif l < model.L:
            one.W.data[...] = W[:1].sum(axis=1, keepdims=True)
        else:
            one.W.data[...] = W.sum(axis=1, keepdims=True)
        one.b.data[...] = b if l == model.L else b[:1]
    return small


class ActivationStats(NamedTuple):
    """Statistics of a deep network at initialisation, one entry per hidden layer l = 1..depth
    (arrays of shape ``(depth,)``):

    * ``mean[l-1]``, ``std[l-1]``: mean and std of the activations f_l over all samples and units;
    * ``grad_std[l-1]``: std of the co-state p_l = d(u^T f_depth)/d f_l, the gradient that
      reaches layer l when the layer above is pushed in a random direction u ~ N(0, I)
      (p_depth = u; Chapter 5, Backpropagation).

    ``std_input`` is the std of the input f_0.
    """

    mean: Array
    std: Array
    grad_std: Array
    std_input: float
    init: str
    activation: str


def _weights_for(
    init: str | float, d_in: int, d_out: int, rng: np.random.Generator
) -> tuple[Array, str]:
    if isinstance(init, str):
        return draw_weights(init, d_in, d_out, rng), init
    std = positive_float(init, "init (a standard deviation)", allow_zero=True)
    return std * rng.standard_normal((d_out, d_in)), f"N(0, {std:g}^2)"


def _check_statistics(init: Any, activation: str, depth: int, width: int, n: int) -> tuple:
    if not isinstance(init, (str, int, float, np.integer, np.floating)) or isinstance(init, bool):
        raise TypeError(
            f"expected init to be a scheme name or a standard deviation, got {type(init).__name__}"
        )
    if isinstance(init, str):
        one_of(ALIASES.get(init, init), "init", list(INITIALIZERS))
    sizes = (positive_int(depth, "depth"), positive_int(width, "width"), positive_int(n, "n"))
    return activations.get(activation), *sizes


def _costate_stds(Ws: list[Array], Zs: list[Array], sigma: Any, P: Array) -> Array:
    """std of p_l, l = 1, ..., depth, from p_depth = P and
    p_l = W_l^T (sigma'(z_{l+1}) * p_{l+1})."""
    stds = np.empty(len(Ws))
    stds[-1] = P.std()
    for l in range(len(Ws) - 1, 0, -1):
        P = (sigma.df(Zs[l]) * P) @ Ws[l]  # rows are samples: p_l^T = (sigma' * p_{l+1})^T W_l
        stds[l - 1] = P.std()
    return stds


def activation_statistics(
    init: str | float,
    activation: str = "relu",
    depth: int = 15,
    width: int = 256,
    n: int = 1000,
    rng: np.random.Generator | int | None = None,
) -> ActivationStats:
    """Push ``n`` standard normal inputs f_0 in R^width through ``depth`` layers
    f_{l+1} = sigma(z_{l+1}), z_{l+1} = W_l f_l (biases 0, as at initialisation), record the
    mean and std of f_1, ..., f_depth, then run the backward recursion
    p_l = W_l^T (sigma'(z_{l+1}) * p_{l+1}) from a random p_depth = u ~ N(0, I) and record the
    std of p_1, ..., p_depth.

    ``init`` is a scheme of :mod:`nnbook.engine.init` (``"small"``, ``"xavier"``, ``"he"``,
    ...) or a number s, meaning [W_l]_{ij} ~ N(0, s^2) (e.g. ``1.0``, a "too large" init for
    width 256).
    """
    sigma, depth, width, n = _check_statistics(init, activation, depth, width, n)
    rng = as_rng(rng)
    F = rng.standard_normal((n, width))  # rows are samples, so z_{l+1} = W_l f_l is F W_l^T
    std_input, means, stds, Ws, Zs = float(F.std()), [], [], [], []
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for _ in range(depth):
            W, label = _weights_for(init, width, width, rng)
            Z = F @ W.T
            F = sigma.f(Z)
            Ws.append(W)
            Zs.append(Z)
            means.append(F.mean())
            stds.append(F.std())
        grad_stds = _costate_stds(Ws, Zs, sigma, rng.standard_normal((n, width)))
    return ActivationStats(np.array(means), np.array(stds), grad_stds, std_input, label, sigma.name)


def infinite_width_std(gain2: float, activation: str, depth: int, q0: float = 1.0) -> Array:
    """The std of f_1, ..., f_depth that the variance recursion predicts at infinite width.

    With [W_l]_ij independent, mean 0 and d_l s^2 = ``gain2``, each z_{l+1} = W_l f_l is
    Gaussian with variance q_{l+1} = gain2 E[f_l^2], so, with xi ~ N(0, 1),

        q_1 = gain2 q_0,   q_{l+1} = gain2 E[sigma(sqrt(q_l) xi)^2],
        std f_l = sqrt(E[sigma(sqrt(q_l) xi)^2] - E[sigma(sqrt(q_l) xi)]^2),

    where q_0 = E[f_0^2] (1 for standard normal inputs). The expectations are sums over a fine
    grid of xi in [-12, 12] weighted by the normal density (fine enough for a saturated tanh,
    which is nearly a step). Xavier and LeCun at equal widths have gain2 = 1, He has
    gain2 = 2. Returns shape ``(depth,)``.
    """
    gain2 = positive_float(gain2, "gain2")
    sigma, depth = activations.get(activation), positive_int(depth, "depth")
    xi = np.linspace(-12.0, 12.0, 48_001)
    w = np.exp(-(xi**2) / 2)
    w = w / w.sum()  # the weights of E[h(xi)], xi ~ N(0, 1)
    q, stds = gain2 * positive_float(q0, "q0"), np.empty(depth)
    for l in range(depth):
        f = sigma.f(np.sqrt(q) * xi)
        second, mean = w @ f**2, w @ f
        stds[l] = np.sqrt(max(second - mean**2, 0.0))
        q = gain2 * second
    return stds


# =========================================================================== training


class Trace(NamedTuple):
    """A training run recorded at a few points: the number of updates k, the epochs (passes
    over the data, k B / N), the wall-clock seconds spent in the updates (evaluations of the
    loss not counted), and the full-data loss R^(theta^(k)) there. All have shape ``(n_points,)``.
    """

    updates: Array
    epochs: Array
    seconds: Array
    loss: Array


def train_trace(
    model: MLP,
    X: Any,
    y: Any,
    optimizer: Optimizer,
    *,
    loss: str | Loss = "squared_error",
    B: int = 32,
    epochs: float = 1,
    rng: np.random.Generator | int | None = None,
    evals_per_epoch: int = 1,
) -> Trace:
    """Run mini-batch training (:func:`nnbook.engine.optim.train_step` on shuffled batches
    of size B) for ``epochs`` passes over the data, and record the full-data loss at the
    start and ``evals_per_epoch`` times per epoch (for B = N this is gradient descent, one
    update per epoch). ``epochs`` may be fractional. The clock stops while the loss is
    evaluated, so ``seconds`` is the time spent training.
    """
    X, y, K, every, per_epoch = _check_trace(model, X, y, optimizer, B, epochs, evals_per_epoch)
    loss = get_loss(loss)

    def full_loss() -> float:
        return float(loss.forward(model.predict(X), y))

    updates, seconds, values, elapsed = [0], [0.0], [full_loss()], 0.0
    model.train()
    for k, idx in enumerate(minibatch_stream(len(X), B, K, rng), start=1):
        start = time.perf_counter()
        train_step(model, loss, optimizer, X[idx], y[idx])
        elapsed += time.perf_counter() - start
        if k % every == 0 or k == K:
            updates.append(k)
            seconds.append(elapsed)
            values.append(full_loss())
    k = np.array(updates)
    return Trace(k, k / per_epoch, np.array(seconds), np.array(values))


def _check_trace(model, X, y, optimizer, B, epochs, evals_per_epoch) -> tuple:
    """The checked data, the number of updates K, how often to record, updates per epoch."""
    model = _check_model(model)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"expected an nnbook.engine.optim optimizer, got {type(optimizer).__name__}"
        )
    X, y = _check_data(model, X, y)
    B = _check_batch(len(X), B, replace=False)[1]
    per_epoch = updates_per_epoch(len(X), B)
    K = max(1, round(positive_float(epochs, "epochs") * per_epoch))
    every = max(1, per_epoch // positive_int(evals_per_epoch, "evals_per_epoch"))
    return X, y, K, every, per_epoch


def _copy_model(model: MLP) -> MLP:
    twin = MLP(
        model.sizes,
        activation=model.activation,
        init="zeros",
        dropout=list(model.dropout),
        dtype=model.dtype,
    )
    return twin.load_state_dict(model.state_dict())


def compare_optimizers(
    model: MLP,
    X: Any,
    y: Any,
    settings: Mapping[str, tuple[str, Mapping[str, Any]]],
    *,
    loss: str | Loss = "squared_error",
    B: int = 32,
    epochs: float = 10,
    seed: int = 0,
    evals_per_epoch: int = 1,
) -> dict[str, Trace]:
    """Train a copy of ``model`` (so every run starts from the same theta^(0)) with each
    optimiser in ``settings = {label: (name, kwargs)}``, e.g.
    ``{"Adam": ("adam", {"lr": 1e-3})}``, on the same sequence of mini-batches (each run's
    shuffling uses a generator seeded with ``seed``). Returns ``{label: Trace}``;
    ``model`` itself is not changed.
    """
    model = _check_model(model)
    if not isinstance(settings, Mapping) or not settings:
        raise TypeError(
            "expected settings to be a non-empty dict {label: (optimizer name, kwargs)}"
        )
    out = {}
    for label, spec in settings.items():
        if not (isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], Mapping)):
            raise TypeError(
                f"expected settings[{label!r}] to be a pair (optimizer name, kwargs dict), "
                f"got {spec!r}"
            )
        name, kwargs = spec
        twin = _copy_model(model)
        opt = make_optimizer(name, twin.parameters(), **kwargs)
        rng = np.random.default_rng(seed)
        out[label] = train_trace(
            twin, X, y, opt, loss=loss, B=B, epochs=epochs, rng=rng, evals_per_epoch=evals_per_epoch
        )
    return out


class LearningRateSearch(NamedTuple):
    """What :func:`tune_learning_rate` returns: a :class:`Trace` per learning rate tried
    (sorted), the best rate (lowest final loss, see :func:`final_loss`), and whether it is
    bracketed: tried rates on both sides of it have a higher final loss."""

    traces: dict[float, Trace]
    best: float
    bracketed: bool

    def final_losses(self) -> dict[float, float]:
        """The final loss of each run (:func:`final_loss`)."""
        return {lr: final_loss(tr) for lr, tr in self.traces.items()}


def final_loss(trace: Trace, last: int = 5) -> float:
    """The mean of the ``last`` recorded losses of a run (the last 5 epochs with one record per
    epoch), which damps the noise of a single epoch; inf if the run diverged."""
    tail = trace.loss[-positive_int(last, "last") :]
    return float(tail.mean()) if np.all(np.isfinite(tail)) else np.inf


def _neighbour(lr: float, up: bool) -> float:
    """The next rate on the grid ..., 0.01, 0.03, 0.1, 0.3, 1, ... (half a decade apart)."""
    exponent = np.floor(np.log10(lr) + 1e-9)
    leading = round(lr / 10**exponent)
    if up:
        return float(f"{(3 if leading < 3 else 10) * 10**exponent:.3g}")
    return float(f"{(1 if leading > 1 else 0.3) * 10**exponent:.3g}")


def tune_learning_rate(
    model: MLP,
    X: Any,
    y: Any,
    optimizer: str,
    lrs: Any,
    *,
    max_extra: int = 4,
    **train: Any,
) -> LearningRateSearch:
    """Train copies of ``model`` with ``optimizer`` at each learning rate in ``lrs``, and
    while the best one (lowest :func:`final_loss`) is an end of the grid, try the next rate beyond
    it on the grid ..., 0.01, 0.03, 0.1, 0.3, ... (at most ``max_extra`` more runs).

    Every run starts from the same theta^(0) and sees the same batches
    (:func:`compare_optimizers`, which gets ``train``: ``loss``, ``B``, ``epochs``, ``seed``).
    A run whose loss overflows counts as an infinite loss.
    """
    lrs = sorted({positive_float(lr, "lr") for lr in lrs})
    runs: dict[float, Trace] = {}

    def run(lr: float) -> None:
        with np.errstate(all="ignore"):
            setting = {"run": (optimizer, {"lr": lr})}
            runs[lr] = compare_optimizers(model, X, y, setting, **train)["run"]

    for lr in lrs:
        run(lr)
    for _ in range(positive_int(max_extra, "max_extra", minimum=0)):
        grid = sorted(runs)
        best = min(grid, key=lambda lr: final_loss(runs[lr]))
        if best not in (grid[0], grid[-1]):
            break
        run(_neighbour(best, up=best == grid[-1]))
    grid = sorted(runs)
    best = min(grid, key=lambda lr: final_loss(runs[lr]))
    return LearningRateSearch({lr: runs[lr] for lr in grid}, best, best not in (grid[0], grid[-1]))


def _torch_loss(loss: Loss):
    """The torch function computing the same loss as ours."""
    import torch.nn.functional as F

    name = type(loss).__name__
    if name == "SquaredError":
        return lambda out, y: 0.5 * ((out - y.reshape(out.shape)) ** 2).sum(dim=1).mean()
    if name == "CrossEntropy":
        return F.cross_entropy
    if name == "BCEWithLogits":
        return lambda out, y: F.binary_cross_entropy_with_logits(out, y.reshape(out.shape))
    raise ValueError(f"expected a squared, cross-entropy or binary cross-entropy loss, got {name}")


def torch_trajectory_gap(
    model: MLP,
    X: Any,
    y: Any,
    optimizer: str,
    *,
    loss: str | Loss = "squared_error",
    B: int = 32,
    steps: int = 100,
    seed: int = 0,
    **kwargs: Any,
) -> Array:
    """Run ``steps`` updates of our optimiser ``optimizer`` (a name of
    :data:`nnbook.engine.optim.OPTIMIZERS`, with ``kwargs`` such as ``lr``) on a copy of
    ``model``, and of the same ``torch.optim`` optimiser on ``mlp_to_torch(model)``, both on
    the same mini-batches of size B (float64 models give a float64 comparison). Returns,
    after each step, the largest difference max |theta_ours - theta_torch| over all
    parameters, shape ``(steps,)``.
    """
    import torch

    from ..pytorch.convert import TORCH_OPTIMIZERS, mlp_to_torch

    X, y, steps = _check_gap(model, X, y, optimizer, B, steps)
    loss, ours, theirs = get_loss(loss), _copy_model(model), mlp_to_torch(model)
    opt = make_optimizer(optimizer, ours.parameters(), **kwargs)
    torch_kwargs = {"momentum": 0.9, **kwargs} if optimizer == "momentum" else kwargs
    topt = TORCH_OPTIMIZERS[optimizer](theirs.parameters(), **torch_kwargs)
    tloss, Xt, yt = _torch_loss(loss), torch.from_numpy(X), torch.from_numpy(y)
    yt = yt.to(Xt.dtype) if yt.is_floating_point() else yt.long()  # class labels: int64
    gaps = np.empty(steps)
    for k, idx in enumerate(minibatch_stream(len(X), B, steps, np.random.default_rng(seed))):
        train_step(ours, loss, opt, X[idx], y[idx])
        topt.zero_grad()
        i = torch.from_numpy(idx)
        tloss(theirs(Xt[i]), yt[i]).backward()
        topt.step()
        gaps[k] = max(
            float(np.abs(p.data - t.detach().numpy()).max())
            for p, t in zip(ours.parameters(), theirs.parameters())
        )
    return gaps


def _check_gap(model, X, y, optimizer, B, steps) -> tuple[Array, Array, int]:
    model = _check_model(model)
    one_of(optimizer, "optimizer", list(OPTIMIZERS))
    if any(model.dropout):
        raise ValueError(
            "expected a model without dropout (the two frameworks would draw different masks)"
        )
    X, y = _check_data(model, X, y)
    _check_batch(len(X), B, replace=False)
    X, y = np.ascontiguousarray(X), np.ascontiguousarray(y)
    return X, y, positive_int(steps, "steps")
