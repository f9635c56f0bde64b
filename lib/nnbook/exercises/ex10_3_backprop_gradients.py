"""Exercise 10.3: the gradients of a network with one hidden layer, by the chain rule.

The exercise numbers the layers from the input: layer 1 is the input, layer 2 the hidden
layer. For one sample (x_i, y_i), with x_i in R^d (d = K_1):

    A^(1) = x_i,   a^(2)_l = w^(2)_l0 + sum_j w^(2)_lj A^(1)_j,   A^(2)_l = sigma(a^(2)_l),
    z_k = beta_0k + sum_l beta_kl A^(2)_l,   f_k = g(z)_k,

for l = 1..K_2 and k = 1..K, where sigma is the logistic function and g the output
activation: the identity in part (a) (f = z), the logistic function in part (c) (K = 1)
and the softmax in part (d). The parameters are ``Params(W, w0, beta, beta0)``, laid out
like ``torch.nn.Linear`` (one row per unit): W of shape (K_2, d) holds w^(2)_lj in row l,
w0 (K_2,) the w^(2)_l0, beta of shape (K, K_2) holds beta_kl in row k, and beta0 (K,) the
beta_0k. A gradient has the same layout. The loss of one sample is one of ``LOSSES``:

* ``"squared"``: (1/2) sum_k (y_ik - f_k)^2 with f = z (part a);
* ``"sigmoid_cross_entropy"``: -[y log f + (1 - y) log(1 - f)] with f = sigma(z), K = 1;
* ``"sigmoid_squared"``: (1/2) (y - f)^2 with f = sigma(z), K = 1 (part c);
* ``"softmax_cross_entropy"``: -sum_k y_ik log f_k with f = softmax(z), y_i one-hot (part d).

Over N samples the risk is the mean R^ = (1/N) sum_i R^(i), the lecture's ERM. This module
holds the reference computations (NumPy in matrix form, PyTorch autograd in float64, finite
differences) and the checks of the student's functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .._util import as_array, as_rng, one_of, positive_int
from ..engine import gradcheck, losses
from ..engine.activations import sigmoid, sigmoid_grad
from .checks import Result, as_numeric, call, fail, fmt, passed, run, shape_of


class Params(NamedTuple):
    """theta = (W, w0, beta, beta0): W (K_2, d), w0 (K_2,), beta (K, K_2), beta0 (K,).

    Row l of W and entry l of w0 hold the weights w^(2)_lj and the bias w^(2)_l0 of hidden
    unit l; row k of beta and entry k of beta0 hold beta_kl and beta_0k of output k. A
    gradient (dR/dW, dR/dw0, dR/dbeta, dR/dbeta0) has the same layout.
    """

    W: np.ndarray
    w0: np.ndarray
    beta: np.ndarray
    beta0: np.ndarray


LOSSES = ("squared", "sigmoid_cross_entropy", "sigmoid_squared", "softmax_cross_entropy")


# --------------------------------------------------------------------------- problems
def random_params(d: int, K2: int, K: int, rng=None, scale: float = 1.0) -> Params:
    """Parameters with independent N(0, scale^2) entries: d inputs, K_2 hidden units, K outputs."""
    d, K2, K = (positive_int(v, name) for v, name in ((d, "d"), (K2, "K2"), (K, "K")))
    rng = as_rng(rng)
    return Params(
        scale * rng.standard_normal((K2, d)),
        scale * rng.standard_normal(K2),
        scale * rng.standard_normal((K, K2)),
        scale * rng.standard_normal(K),
    )


def random_targets(n: int, K: int, loss: str = "squared", rng=None) -> np.ndarray:
    """Targets Y of shape (n, K) for ``loss``: N(0, 1) entries for "squared", labels 0 or 1 for
    the sigmoid losses (K = 1), one-hot rows for "softmax_cross_entropy"."""
    one_of(loss, "loss", LOSSES)
    rng = as_rng(rng)
    if loss == "squared":
        return rng.standard_normal((n, K))
    if loss.startswith("sigmoid"):
        return rng.integers(0, 2, size=(n, K)).astype(float)
    return np.eye(K)[rng.integers(0, K, size=n)]


def random_problem(sizes: Sequence[int], n: int = 1, loss: str = "squared", rng=None):
    """(X, Y, theta) for ``sizes`` = (d, K_2, K): X (n, d) and theta with N(0, 1) entries, and
    targets Y of shape (n, K) for ``loss`` (see :func:`random_targets`)."""
    d, K2, K = sizes
    one_of(loss, "loss", LOSSES)
    if loss.startswith("sigmoid") and K != 1:
        raise ValueError(f"expected K = 1 for the scalar output of {loss!r}, got K = {K}")
    rng = as_rng(rng)
    theta = random_params(d, K2, K, rng)
    X = rng.standard_normal((positive_int(n, "n"), d))
    return X, random_targets(n, K, loss, rng), theta


def _check_problem(X, Y, theta, loss: str):
    one_of(loss, "loss", LOSSES)
    if not isinstance(theta, (tuple, list)) or len(theta) != 4:
        raise TypeError("expected theta = (W, w0, beta, beta0), four arrays")
    W = as_array(theta[0], "W", shape=(None, None))
    K2, d = W.shape
    w0 = as_array(theta[1], "w0", shape=(K2,))
    beta = as_array(theta[2], "beta", shape=(None, K2))
    beta0 = as_array(theta[3], "beta0", shape=(beta.shape[0],))
    X = as_array(X, "X", shape=(None, d))
    Y = as_array(Y, "Y", shape=(X.shape[0], beta.shape[0]))
    if loss.startswith("sigmoid") and (Y.shape[1] != 1 or np.any((Y < 0) | (Y > 1))):
        raise ValueError(f"expected Y of shape (n, 1) with entries in [0, 1] for {loss!r}")
    if loss == "softmax_cross_entropy" and not (
        np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(1) == 1)
    ):
        raise ValueError("expected one-hot rows of Y for 'softmax_cross_entropy'")
    return X, Y, Params(W, w0, beta, beta0)


# --------------------------------------------------------------------------- reference: NumPy
def output_activation(Z, loss: str = "squared") -> np.ndarray:
    """f = g(z) row by row: the identity ("squared"), sigma(z) (sigmoid losses) or softmax(z)."""
    one_of(loss, "loss", LOSSES)
    Z = as_array(Z, "Z", shape=(None, None))
    if loss == "squared":
        return Z.copy()
    if loss.startswith("sigmoid"):
        return sigmoid(Z)
    return losses.softmax(Z)


def reference_delta(Z, Y, loss: str = "squared") -> np.ndarray:
    """delta = dR^(i)/dz for each row (z_i, y_i), with f = g(z):

    "squared": f - y;  "sigmoid_cross_entropy": f - y;  "sigmoid_squared": (f - y) f (1 - f);
    "softmax_cross_entropy": f - y.
    """
    F = output_activation(Z, loss)
    Y = as_array(Y, "Y", shape=F.shape)
    if loss == "sigmoid_squared":
        return (F - Y) * F * (1 - F)
    return F - Y


def risk(X, Y, theta, loss: str = "squared") -> float:
    """R^(theta) = (1/N) sum_i R^(i)(theta), the mean of the per-sample losses of ``loss``."""
    X, Y, theta = _check_problem(X, Y, theta, loss)
    W, w0, beta, beta0 = theta
    Z = sigmoid(X @ W.T + w0) @ beta.T + beta0
    if loss == "squared":
        return losses.squared_error(Z, Y)
    if loss == "sigmoid_cross_entropy":
        return losses.binary_cross_entropy(Z, Y)
    if loss == "sigmoid_squared":
        return losses.squared_error(sigmoid(Z), Y)
    return losses.cross_entropy(Z, Y)


def batch_gradients(X, Y, theta, loss: str = "squared") -> Params:
    """The gradient of R^ = (1/N) sum_i R^(i) in matrix form, one row per sample:

    Delta = rows delta^(i),   S = sigma'(rows a^(2)) * (Delta beta) = rows s^(i),
    dR^/dbeta = Delta^T A / N,   dR^/dbeta0 = Delta^T 1 / N,
    dR^/dW = S^T X / N,          dR^/dw0 = S^T 1 / N.
    """
    X, Y, (W, w0, beta, beta0) = _check_problem(X, Y, theta, loss)
    N = X.shape[0]
    a = X @ W.T + w0  # row i: a^(2) of x_i, shape (N, K_2)
    A = sigmoid(a)  # row i: A^(2)
    Z = A @ beta.T + beta0  # row i: z of x_i, shape (N, K)
    Delta = reference_delta(Z, Y, loss)  # row i: delta^(i) = dR^(i)/dz
    S = sigmoid_grad(a) * (Delta @ beta)  # row i: s^(i) = sigma'(a^(2)) * beta^T delta^(i)
    return Params(S.T @ X / N, S.sum(axis=0) / N, Delta.T @ A / N, Delta.sum(axis=0) / N)


def numerical_gradients(X, Y, theta, loss: str = "squared", eps: float = 1e-6) -> Params:
    """Central differences of :func:`risk` for every entry of theta (2 evaluations per entry)."""
    X, Y, theta = _check_problem(X, Y, theta, loss)
    copies = Params(*(p.copy() for p in theta))
    return Params(
        *(gradcheck.numerical_gradient(lambda _: risk(X, Y, copies, loss), p, eps) for p in copies)
    )


# --------------------------------------------------------------------------- reference: PyTorch
@dataclass(frozen=True)
class TorchPass:
    """What PyTorch's autograd (float64) computes on a batch: the risk (the mean), the
    forward quantities a, A, z, f (one row per sample), the per-sample delta^(i) = dR^(i)/dz
    and s^(i) = dR^(i)/da^(2) (N times the batch gradients, as R^ is the mean), and the
    gradient of R^ laid out like theta."""

    risk: float
    a: np.ndarray
    A: np.ndarray
    z: np.ndarray
    f: np.ndarray
    delta: np.ndarray
    s: np.ndarray
    grads: Params


def torch_pass(X, Y, theta, loss: str = "squared") -> TorchPass:
    """Forward and backward pass of PyTorch's autograd in float64 (the independent reference).

    The cross-entropies are ``F.binary_cross_entropy_with_logits`` and ``F.cross_entropy``
    (with class indices), both with their default mean over the samples.
    """
    import torch
    import torch.nn.functional as F

    X, Y, theta = _check_problem(X, Y, theta, loss)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    W, w0, beta, beta0 = (torch.tensor(p, requires_grad=True) for p in theta)
    a = Xt @ W.T + w0
    A = torch.sigmoid(a)
    z = A @ beta.T + beta0
    a.retain_grad()
    z.retain_grad()
    if loss == "squared":
        f = z
        R = 0.5 * ((Yt - f) ** 2).sum(dim=1).mean()
    elif loss == "sigmoid_cross_entropy":
        f = torch.sigmoid(z)
        R = F.binary_cross_entropy_with_logits(z, Yt)
    elif loss == "sigmoid_squared":
        f = torch.sigmoid(z)
        R = 0.5 * ((Yt - f) ** 2).sum(dim=1).mean()
    else:
        f = torch.softmax(z, dim=1)
        R = F.cross_entropy(z, Yt.argmax(dim=1))
    R.backward()
    N = X.shape[0]
    numpy = [t.detach().numpy().copy() for t in (a, A, z, f)]
    return TorchPass(
        float(R.item()),
        *numpy,
        N * z.grad.numpy(),
        N * a.grad.numpy(),
        Params(*(p.grad.numpy().copy() for p in (W, w0, beta, beta0))),
    )


def _flat(grads: Sequence[Any]) -> np.ndarray:
    return np.concatenate([np.asarray(g, dtype=float).ravel() for g in grads])


def gradient_errors(
    sample_gradient: Callable,
    cases: Sequence[Sequence[int]],
    loss: str = "squared",
    n: int = 1,
    seed: int = 0,
) -> list[dict]:
    """Compare a per-sample gradient with PyTorch and with finite differences, case by case.

    ``sample_gradient(x, y, theta)`` returns the gradient of R^(i), laid out like theta; it is
    averaged over ``n`` random samples. One row per ``(d, K_2, K)`` in ``cases``: the number
    of parameters and the relative errors (:func:`nnbook.engine.gradcheck.relative_error`) of
    all gradient entries together against ``torch_pass`` and ``numerical_gradients``.
    """
    rows = []
    for i, sizes in enumerate(cases):
        X, Y, theta = random_problem(sizes, n, loss, rng=seed + i)
        per_sample = [_flat(sample_gradient(x, y, theta)) for x, y in zip(X, Y)]
        ours = np.mean(per_sample, axis=0)
        rows.append(
            {
                "(d, K_2, K)": tuple(int(s) for s in sizes),
                "parameters": ours.size,
                "rel. error vs torch": gradcheck.relative_error(
                    ours, _flat(torch_pass(X, Y, theta, loss).grads)
                ),
                "rel. error vs finite differences": gradcheck.relative_error(
                    ours, _flat(numerical_gradients(X, Y, theta, loss))
                ),
            }
        )
    return rows


__all__ = [
    "Params",
    "LOSSES",
    "random_params",
    "random_targets",
    "random_problem",
    "output_activation",
    "reference_delta",
    "risk",
    "batch_gradients",
    "numerical_gradients",
    "TorchPass",
    "torch_pass",
    "gradient_errors",
]


# =========================================================================== the checks
# Each check calls the student's function on random inputs of several sizes, compares with
# PyTorch's autograd in float64 (or with the matrix form, in part b) and, when the answer is
# wrong, says for which input, expected vs got, and which known mistake it looks like.

_RTOL, _ATOL = 1e-6, 1e-9
#: (d, K_2, K) for parts (a) and (b): the first is square, so that a transposed matrix gives
#: wrong values (and a hint) rather than a shape error; the others tell d, K_2 and K apart.
_CASES = ((3, 3, 3), (3, 4, 2), (1, 1, 1), (4, 2, 5), (2, 5, 1), (6, 3, 4))


def _unpack(title: str, got: Any, names: Sequence[str], what: str) -> tuple:
    """The student's tuple of ``len(names)`` results, or a readable failure."""
    wanted = "(" + ", ".join(names) + ")"
    if got is None:
        raise fail(title, f"{what} returned None: did you forget a `return`?")
    if not isinstance(got, (tuple, list)):
        raise fail(title, f"{what} should return the tuple {wanted}, got {type(got).__name__}")
    if len(got) != len(names):
        raise fail(title, f"{what} should return the {len(names)} values {wanted}, got {len(got)}")
    return tuple(got)


def _matches(got: np.ndarray, value: Any) -> bool:
    if value is None:
        return False
    v = np.asarray(value, dtype=float)
    return v.shape == got.shape and bool(np.allclose(got, v, rtol=_RTOL, atol=_ATOL))


def _expect(
    title: str,
    got: Any,
    expected: np.ndarray,
    what: str,
    where: str,
    mistakes: Sequence[tuple[Any, str]] = (),
    shape_hints: dict | None = None,
) -> np.ndarray:
    """Fail unless ``got`` equals ``expected`` to 1e-6; name a known mistake ``got`` matches.

    ``mistakes`` are pairs (what a plausible wrong answer returns, or None; a hint);
    ``shape_hints`` maps a wrong shape to a hint.
    """
    shape = shape_of(got)
    if got is not None and shape is not None and shape != expected.shape:
        hint = (shape_hints or {}).get(shape, "")
        msg = f"{what} {where} should have shape {expected.shape}, got {shape}."
        raise fail(title, msg + (f" {hint}" if hint else ""))
    arr = as_numeric(title, got, f"{what} {where}", shape=expected.shape)
    if not np.allclose(arr, expected, rtol=_RTOL, atol=_ATOL):
        hint = next((h for value, h in mistakes if _matches(arr, value)), "")
        msg = f"{where}: expected {what} = {fmt(expected)}, got {fmt(arr)}."
        raise fail(title, msg + (f" {hint}" if hint else ""))
    return arr


def _copy(theta: Params) -> Params:
    return Params(*(p.copy() for p in theta))


def _where(sizes: Sequence[Any], **arrays: np.ndarray) -> str:
    shown = ", ".join(f"{k} = {fmt(np.round(v, 4))}" for k, v in arrays.items())
    return f"for (d, K_2, K) = {tuple(sizes)}" + (f" and {shown}" if shown else "")


def _torch_grad(fn: Callable, *arrays: np.ndarray) -> np.ndarray:
    """d fn(t_0, t_1, ...) / d t_0 by PyTorch's autograd in float64 (fn returns a scalar)."""
    import torch

    first, *rest = (torch.tensor(a, dtype=torch.float64) for a in arrays)
    first.requires_grad_(True)
    fn(first, *rest).backward()
    return first.grad.numpy().copy()


# --------------------------------------------------------------------------- (a)
_FORWARD = "Exercise 10.3(a) forward"
_DELTA = "Exercise 10.3(a) output_delta"
_S = "Exercise 10.3(a) hidden_s"
_GRADS = "Exercise 10.3(a) gradients"
_NOT_SIGMA = "sigma is the logistic function 1 / (1 + e^(-a)), not {}."


def _forward_mistakes(x: np.ndarray, theta: Params, ref: TorchPass) -> list:
    """Plausible wrong (a, A, f) for one sample, each with its hint."""
    W, w0, beta, beta0 = theta
    a, A, z = ref.a[0], ref.A[0], ref.z[0]
    square_W, square_beta = W.shape[0] == W.shape[1], beta.shape[0] == beta.shape[1]
    return [
        [
            (W @ x, "The biases are missing: a^(2)_l = w^(2)_l0 + sum_j w^(2)_lj x_j."),
            (W.T @ x + w0 if square_W else None, "W is transposed: a^(2) = w0 + W @ x."),
            (A, "This is A^(2) = sigma(a^(2)); a^(2) is the pre-activation."),
        ],
        [
            (a, "Apply sigma: A^(2)_l = sigma(a^(2)_l), with sigma the logistic function."),
            (np.tanh(a), _NOT_SIGMA.format("tanh")),
            (np.maximum(a, 0), _NOT_SIGMA.format("ReLU")),
        ],
        [
            (sigmoid(z), "In (a) the output activation is the identity: f_k = z_k, no sigma."),
            (beta @ A, "The output biases are missing: f_k = beta_0k + sum_l beta_kl A^(2)_l."),
            (
                beta.T @ A + beta0 if square_beta else None,
                "beta is transposed: f = beta0 + beta @ A.",
            ),
        ],
    ]


def check_forward(forward: Callable) -> Result:
    """Check ``forward(x, theta)`` -> (a, A, f): a^(2), A^(2) = sigma(a^(2)) and the identity
    output f = beta0 + beta A^(2) of one sample x, against PyTorch, for several (d, K_2, K)."""

    def body() -> int:
        for i, sizes in enumerate(_CASES):
            X, Y, theta = random_problem(sizes, 1, rng=100 + i)
            ref, x = torch_pass(X, Y, theta), X[0]
            got = call(_FORWARD, forward, x.copy(), _copy(theta))
            got = _unpack(_FORWARD, got, ("a", "A", "f"), "forward(x, theta)")
            mistakes = _forward_mistakes(x, theta, ref)
            for value, expected, what, m in zip(
                got, (ref.a, ref.A, ref.z), ("a", "A", "f"), mistakes
            ):
                _expect(_FORWARD, value, expected[0], what, _where(sizes, x=x), m)
        return len(_CASES)

    return run(_FORWARD, body)


def check_output_delta(output_delta: Callable) -> Result:
    """Check ``output_delta(f, y)`` -> delta, delta_k = dR^(i)/df_k for the squared error
    R^(i) = (1/2) sum_k (y_k - f_k)^2, against PyTorch's autograd, for random f, y of length K."""

    def body() -> int:
        gen = np.random.default_rng(200)
        for K in (3, 1, 5, 2):
            f, y = gen.standard_normal(K), gen.standard_normal(K)
            expected = _torch_grad(lambda ft, yt: 0.5 * ((yt - ft) ** 2).sum(), f, y)
            got = call(_DELTA, output_delta, f.copy(), y.copy())
            mistakes = [
                (y - f, "The sign is wrong: d/df_k (1/2)(y_k - f_k)^2 = -(y_k - f_k) = f_k - y_k."),
                (2 * (f - y), "A factor 2 too many: the 1/2 in the loss cancels the 2."),
                (0.5 * (y - f) ** 2, "This is the loss of each output, not its derivative."),
                ((f - y) * sigmoid_grad(f), "The output activation is the identity: no sigma'."),
            ]
            hints = {(): "delta has one entry per output k: do not sum over k."}
            _expect(
                _DELTA, got, expected, "delta", f"for f = {fmt(f)}, y = {fmt(y)}", mistakes, hints
            )
        return 4

    return run(_DELTA, body)


def check_hidden_s(hidden_s: Callable) -> Result:
    """Check ``hidden_s(a, beta, delta)`` -> s, s_l = sigma'(a^(2)_l) sum_k beta_kl delta_k,
    against PyTorch's autograd of delta . (beta sigma(a)) with respect to a, for several (K_2, K).
    """
    import torch

    def body() -> int:
        gen = np.random.default_rng(300)
        for sizes in _CASES:
            _, K2, K = sizes
            a, beta, delta = gen.normal(0, 2, K2), gen.normal(size=(K, K2)), gen.normal(size=K)
            s = _torch_grad(lambda at, bt, dt: dt @ (bt @ torch.sigmoid(at)), a, beta, delta)
            got = call(_S, hidden_s, a.copy(), beta.copy(), delta.copy())
            mistakes = [
                (
                    beta.T @ delta,
                    "sigma'(a^(2)_l) is missing: a^(2)_l reaches the loss through "
                    "A^(2)_l = sigma(a^(2)_l).",
                ),
                (sigmoid(a) * (beta.T @ delta), "You used sigma(a), not sigma'(a)."),
                (
                    sigmoid_grad(a) * (beta @ delta) if K == K2 else None,
                    "beta is not transposed: "
                    "s_l sums beta_kl delta_k over the outputs k, that is beta.T @ delta.",
                ),
                (-s, "The sign is wrong."),
                (sigmoid_grad(a) * delta.sum(), "Weight each delta_k by beta_kl."),
            ]
            hints = {(): "s has one entry per hidden unit l: do not sum over l."}
            if K != K2:
                hints[(K,)] = "s has one entry per hidden unit l: use beta.T @ delta."
            where = _where(sizes, a=a, beta=beta, delta=delta)
            _expect(_S, got, s, "s", where, mistakes, hints)
        return len(_CASES)

    return run(_S, body)


_GRAD_NAMES = ("dW", "dw0", "dbeta", "dbeta0")


def _gradient_tuple(title: str, got: Any, theta: Params, what: str) -> tuple:
    """Unpack a gradient (dW, dw0, dbeta, dbeta0); explain the exercise's order (beta first)."""
    grads = _unpack(title, got, _GRAD_NAMES, what)
    shapes = [shape_of(g) for g in grads]
    wanted = [p.shape for p in theta]
    if shapes != wanted and shapes == [wanted[i] for i in (2, 3, 0, 1)]:
        raise fail(
            title,
            f"{what} returned arrays of shapes {shapes}: return them in the order of theta, "
            "(dW, dw0, dbeta, dbeta0), each with the shape of its parameter.",
        )
    return grads


def _gradient_hints(d: int, K2: int, K: int) -> list[dict]:
    """Hints for wrong shapes of dW, dw0, dbeta, dbeta0."""
    hints: list[dict] = [{}, {}, {}, {}]
    if d != K2:
        hints[0][(d, K2)] = "dR/dw_lj = s_l x_j has one row per hidden unit, like W: outer(s, x)."
    if K != K2:
        hints[2][(K2, K)] = "dR/dbeta_kl = delta_k A_l has one row per output: outer(delta, A)."
    hints[1][()] = "dR/dw_l0 = s_l has one entry per hidden unit l: do not sum over l."
    hints[3][()] = "dR/dbeta_0k = delta_k has one entry per output k: do not sum over k."
    return hints


def _gradient_mistakes(x, A, a, delta, s) -> list:
    """Plausible wrong (dW, dw0, dbeta, dbeta0) for one sample, each with its hint."""
    return [
        [
            (np.outer(s, A), "dR/dw_lj = s_l A^(1)_j uses the input x_j = A^(1)_j, not A^(2)."),
            (np.outer(x, s), "dW is transposed: dR/dw_lj = s_l x_j is np.outer(s, x)."),
            (np.outer(delta, x), "Use s_l, not delta: dR/dw_lj = s_l x_j."),
            (np.outer(delta, A), "This is dbeta: return (dW, dw0, dbeta, dbeta0), theta's order."),
        ],
        [(np.full(s.shape, s.sum()), "dR/dw_l0 = s_l for each hidden unit l, not a sum.")],
        [
            (np.outer(A, delta), "dbeta is transposed: dR/dbeta_kl = delta_k A_l."),
            (np.outer(delta, a), "Use the activation A^(2) = sigma(a^(2)), not a^(2)."),
        ],
        [(np.full(delta.shape, delta.sum()), "dR/dbeta_0k = delta_k for each k, not a sum.")],
    ]


def check_gradients(gradients: Callable) -> Result:
    """Check ``gradients(x, A, delta, s)`` -> (dW, dw0, dbeta, dbeta0), the exercise's four
    formulas, against PyTorch's autograd and finite differences of R^(i).

    The inputs A = A^(2), delta and s come from the forward and backward pass of a random
    network with the squared error, for several (d, K_2, K).
    """

    def body() -> Result:
        worst_torch = worst_fd = 0.0
        for i, sizes in enumerate(_CASES):
            X, Y, theta = random_problem(sizes, 1, rng=400 + i)
            ref = torch_pass(X, Y, theta)
            x, A, delta, s = X[0], ref.A[0], ref.delta[0], ref.s[0]
            got = call(_GRADS, gradients, x.copy(), A.copy(), delta.copy(), s.copy())
            grads = _gradient_tuple(_GRADS, got, theta, "gradients(x, A, delta, s)")
            mistakes = _gradient_mistakes(x, A, ref.a[0], delta, s)
            hints = _gradient_hints(*sizes)
            for j, name in enumerate(_GRAD_NAMES):
                where = _where(sizes, x=x)
                _expect(_GRADS, grads[j], ref.grads[j], name, where, mistakes[j], hints[j])
            ours = _flat(grads)
            fd = numerical_gradients(X, Y, theta)
            worst_torch = max(worst_torch, gradcheck.relative_error(ours, _flat(ref.grads)))
            worst_fd = max(worst_fd, gradcheck.relative_error(ours, _flat(fd)))
        detail = (
            f"Largest relative error against PyTorch {worst_torch:.1e}, "
            f"against finite differences {worst_fd:.1e}."
        )
        return passed(_GRADS, len(_CASES), detail)

    return run(_GRADS, body)


# --------------------------------------------------------------------------- (b)
_FULL = "Exercise 10.3(b) full_gradient"
#: (N, (d, K_2, K)) for part (b): N differs from K_2 and K, so a sum over a wrong axis shows.
_FULL_CASES = ((7, (3, 4, 2)), (5, (3, 3, 3)), (12, (2, 5, 4)), (1, (2, 2, 2)))
_WRONG_AXIS = "Sum the bias gradients over the samples i (axis 0), not over the units."


def check_full_gradient(full_gradient: Callable) -> Result:
    """Check ``full_gradient(X, Y, theta)`` -> the gradient of R^ = (1/N) sum_i R^(i) (the mean,
    as in the lecture's ERM), laid out like theta, against the matrix form :func:`batch_gradients`.
    """

    def body() -> int:
        for i, (N, sizes) in enumerate(_FULL_CASES):
            X, Y, theta = random_problem(sizes, N, rng=500 + i)
            expected = batch_gradients(X, Y, theta)
            first = batch_gradients(X[:1], Y[:1], theta)
            last = batch_gradients(X[-1:], Y[-1:], theta)
            got = call(_FULL, full_gradient, X.copy(), Y.copy(), _copy(theta))
            grads = _gradient_tuple(_FULL, got, theta, "full_gradient(X, Y, theta)")
            hints = _gradient_hints(*sizes)
            hints[1][(N,)] = hints[3][(N,)] = _WRONG_AXIS
            where = f"for N = {N} samples and (d, K_2, K) = {sizes}"
            for j, name in enumerate(_GRAD_NAMES):
                mistakes = [
                    (
                        N * expected[j],
                        f"This is N = {N} times the mean, the gradient of the sum "
                        "sum_i R^(i). The lecture's R^ is the mean (1/N) sum_i R^(i).",
                    ),
                    (expected[j] / N, "You divided by N twice."),
                    (last[j], "This is the gradient of the last sample only."),
                    (first[j], "This is the gradient of the first sample only."),
                ]
                _expect(_FULL, grads[j], expected[j], name, where, mistakes, hints[j])
        return len(_FULL_CASES)

    return run(_FULL, body)


# --------------------------------------------------------------------------- (c)
_SIG_CE = "Exercise 10.3(c) delta_sigmoid_cross_entropy"
_SIG_SE = "Exercise 10.3(c) delta_sigmoid_squared"
_Z_GRID = np.array([-12.0, -6.0, -2.0, -0.5, 0.0, 0.7, 2.5, 6.0, 12.0])


def _sigmoid_cases() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z on a grid from -12 to 12, each with y = 0 and with y = 1, and f = sigma(z)."""
    z = np.concatenate([_Z_GRID, _Z_GRID])
    y = np.repeat([0.0, 1.0], _Z_GRID.size)
    return z, sigmoid(z), y


def _check_elementwise(title: str, fn: Callable, z, y, expected, mistakes) -> int:
    """Call ``fn(f, y)`` on all (f, y) pairs at once; name the first pair that is wrong."""
    f = sigmoid(z)
    got = call(title, fn, f.copy(), y.copy())
    shape = shape_of(got)
    if got is not None and shape is not None and shape != expected.shape:
        raise fail(
            title,
            f"for f and y of shape {f.shape}, delta should have shape {expected.shape} (one entry "
            f"per pair (f, y)), got {shape}. Write the formula element-wise.",
        )
    arr = as_numeric(title, got, f"delta for f = sigma(z), z = {fmt(z)}", shape=expected.shape)
    bad = ~np.isclose(arr, expected, rtol=_RTOL, atol=_ATOL)
    if bad.any():
        j = int(np.argmax(bad))
        hint = next((h for value, h in mistakes if _matches(arr, value)), "")
        msg = (
            f"at z = {z[j]:g} (f = sigma(z) = {f[j]:.6g}) and y = {y[j]:g}: expected delta = "
            f"dR/dz = {expected[j]:.6g}, got {arr[j]:.6g} ({int(bad.sum())} of {bad.size} wrong)."
        )
        raise fail(title, msg + (f" {hint}" if hint else ""))
    return bad.size


def check_delta_sigmoid_cross_entropy(delta_fn: Callable) -> Result:
    """Check ``delta_fn(f, y)`` -> dR/dz for f = sigma(z) and R = -[y log f + (1 - y) log(1 - f)],
    element-wise, against autograd of ``F.binary_cross_entropy_with_logits``, z in [-12, 12]."""
    import torch.nn.functional as F

    def body() -> int:
        z, f, y = _sigmoid_cases()
        bce = lambda zt, yt: F.binary_cross_entropy_with_logits(zt, yt, reduction="sum")  # noqa: E731
        mistakes = [
            (y - f, "The sign is wrong: delta = dR/dz = f - y."),
            (
                (f - y) * f * (1 - f),
                "This is the delta of the squared error. For the cross-entropy "
                "dR/df = (f - y) / (f (1 - f)), and sigma'(z) = f (1 - f) cancels the denominator.",
            ),
            ((f - y) / (f * (1 - f)), "This is dR/df; delta = dR/dz = dR/df sigma'(z)."),
        ]
        return _check_elementwise(_SIG_CE, delta_fn, z, y, _torch_grad(bce, z, y), mistakes)

    return run(_SIG_CE, body)


def check_delta_sigmoid_squared(delta_fn: Callable) -> Result:
    """Check ``delta_fn(f, y)`` -> dR/dz for f = sigma(z) and R = (1/2)(y - f)^2, element-wise,
    against PyTorch's autograd, for z in [-12, 12]."""
    import torch

    def body() -> int:
        z, f, y = _sigmoid_cases()
        se = lambda zt, yt: 0.5 * ((yt - torch.sigmoid(zt)) ** 2).sum()  # noqa: E731
        mistakes = [
            (f - y, "sigma'(z) = f (1 - f) is missing: delta = dR/df df/dz = (f - y) f (1 - f)."),
            (2 * (f - y) * f * (1 - f), "A factor 2 too many: the loss has a factor 1/2."),
            ((y - f) * f * (1 - f), "The sign is wrong: dR/df = f - y."),
            ((f - y) * sigmoid_grad(f), "sigma' is taken at z, not at f: sigma'(z) = f (1 - f)."),
        ]
        return _check_elementwise(_SIG_SE, delta_fn, z, y, _torch_grad(se, z, y), mistakes)

    return run(_SIG_SE, body)


# --------------------------------------------------------------------------- (d)
_SOFTMAX = "Exercise 10.3(d) softmax"
_SM_CE = "Exercise 10.3(d) delta_softmax_cross_entropy"
_ROWS = "Normalise each row (one sample) over the last axis: keepdims=True, axis=-1."


def _softmax_cases() -> list[tuple[str, np.ndarray]]:
    gen = np.random.default_rng(600)
    return [
        ("z", gen.normal(0, 2, 4)),
        ("z (a batch, one row per sample)", gen.normal(0, 2, (5, 3))),
        ("large z", np.array([1000.0, 999.0, -1000.0])),
        ("z of one class", np.array([0.3])),
    ]


def check_softmax(softmax: Callable) -> Result:
    """Check ``softmax(z)`` -> e^{z_k} / sum_m e^{z_m} over the last axis, for z of shape (K,) and
    (n, K), against ``torch.softmax``, including z with entries of size 1000."""
    import torch

    def body() -> int:
        cases = _softmax_cases()
        for name, z in cases:
            expected = torch.softmax(torch.from_numpy(z), dim=-1).numpy()
            got = call(_SOFTMAX, softmax, z.copy())
            if name == "large z" and shape_of(got) == z.shape:
                values = got.detach().numpy() if hasattr(got, "detach") else got
                if not np.all(np.isfinite(np.asarray(values, dtype=float))):
                    raise fail(
                        _SOFTMAX,
                        f"for z = {fmt(z)} softmax returned {fmt(np.asarray(values))}: e^1000 "
                        "overflows. Subtract max_m z_m from every z_k first: softmax(z - c) = "
                        "softmax(z) for any constant c.",
                    )
            by_column = np.exp(z - z.max(axis=0, keepdims=True))  # normalised over axis 0
            by_column /= by_column.sum(axis=0, keepdims=True)
            whole = np.exp(z - z.max())  # normalised over the whole array
            whole /= whole.sum()
            with np.errstate(over="ignore"):
                unnormalised = np.exp(z)
            mistakes = [
                (
                    sigmoid(z),
                    "This is the logistic function of each z_k; the softmax normalises "
                    "over the K classes.",
                ),
                (unnormalised, "Divide by sum_m e^{z_m}, so that the entries add up to 1."),
                (by_column, _ROWS),
                (whole, _ROWS),
            ]
            _expect(_SOFTMAX, got, expected, "softmax(z)", f"for {name} = {fmt(z)}", mistakes)
        return len(cases)

    return run(_SOFTMAX, body)


def check_delta_softmax_cross_entropy(delta_fn: Callable) -> Result:
    """Check ``delta_fn(f, y)`` -> dR/dz for f = softmax(z), y one-hot and R = -sum_k y_k log f_k,
    against autograd of ``torch.nn.functional.cross_entropy``, for several K."""
    import torch
    import torch.nn.functional as F

    def body() -> int:
        gen = np.random.default_rng(700)
        for K in (3, 2, 5, 10):
            z, label = gen.normal(0, 2, K), int(gen.integers(K))
            f, y = losses.softmax(z[None])[0], np.eye(K)[label]
            target = torch.tensor([label])
            expected = _torch_grad(lambda zt: F.cross_entropy(zt[None], target), z)  # noqa: B023
            got = call(_SM_CE, delta_fn, f.copy(), y.copy())
            mistakes = [
                (y - f, "The sign is wrong: delta_k = dR/dz_k = f_k - y_k."),
                (-y / f, "This is dR/df_k; delta_k = dR/dz_k = sum_m dR/df_m df_m/dz_k."),
                (
                    (f - y) * f * (1 - f),
                    "Each z_k moves every f_m, df_m/dz_k = f_m (1[m = k] - f_k): "
                    "the terms m != k matter.",
                ),
                (
                    y * (f - 1),
                    "The wrong classes matter too: their z_k enter the normalisation, "
                    "so delta_k = f_k for k != label.",
                ),
            ]
            where = f"for f = softmax(z) = {fmt(f)} and y = {fmt(y)}"
            _expect(_SM_CE, got, expected, "delta", where, mistakes, {(): "One entry per class."})
        return 4

    return run(_SM_CE, body)


__all__ += [
    "check_forward",
    "check_output_delta",
    "check_hidden_s",
    "check_gradients",
    "check_full_gradient",
    "check_delta_sigmoid_cross_entropy",
    "check_delta_sigmoid_squared",
    "check_softmax",
    "check_delta_softmax_cross_entropy",
]
