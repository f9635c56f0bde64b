"""Tests for nnbook.exercises.ex10_3_backprop_gradients: the references and the nine checks.

Every check must accept the solution page's answer and other correct answers written
differently, report a stub (raising NotImplementedError) as "not attempted" without raising,
and reject plausible wrong answers with a message that names the mistake. The solution's
functions are taken from ``solutions/ex10_3_backprop_gradients.md`` itself and the stubs from
the exercise that ``tools/booktool.py`` generates from it, so the tests follow the page. The
references are compared with PyTorch's ``nn.Linear`` layers, autograd and finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from notebook_functions import fails, notebook_fixtures

from nnbook.engine.activations import sigmoid, sigmoid_grad
from nnbook.exercises import ex10_3_backprop_gradients as ex

CHECKS = {
    "forward": ex.check_forward,
    "output_delta": ex.check_output_delta,
    "hidden_s": ex.check_hidden_s,
    "gradients": ex.check_gradients,
    "full_gradient": ex.check_full_gradient,
    "delta_sigmoid_cross_entropy": ex.check_delta_sigmoid_cross_entropy,
    "delta_sigmoid_squared": ex.check_delta_sigmoid_squared,
    "softmax": ex.check_softmax,
    "delta_softmax_cross_entropy": ex.check_delta_softmax_cross_entropy,
}
HELPERS = ("identity", "backprop_sample")


# --------------------------------------------------------------------------- helpers
solution, exercise = notebook_fixtures(
    "ex10_3_backprop_gradients.md",
    (*CHECKS, *HELPERS),
    {"np": np, "sigmoid": sigmoid, "sigmoid_grad": sigmoid_grad},
)


def _passes(check, answer, capsys) -> None:
    result = check(answer)
    assert result.passed and result.cases >= 4, result
    assert "correct" in capsys.readouterr().out


def _logistic(t):
    """sigma(t) = 1 / (1 + e^-t), written out (not the library's expit)."""
    return 1.0 / (1.0 + np.exp(-t))


# --------------------------------------------------------------------------- the page itself
@pytest.mark.parametrize("name", list(CHECKS))
def test_the_solution_passes_every_check(name, solution, capsys):
    _passes(CHECKS[name], solution[name], capsys)


@pytest.mark.parametrize("name", list(CHECKS))
def test_a_stub_is_not_attempted(name, exercise, capsys):
    result = CHECKS[name](exercise[name])
    assert result.status == "not attempted" and not result.passed
    assert "not attempted yet" in capsys.readouterr().out


def test_full_gradient_of_stubs_is_not_attempted_even_when_written(solution, exercise, capsys):
    """A correct full_gradient that calls the stub of part (a) is reported as not attempted."""
    namespace = dict(exercise)
    exec("def full(X, Y, theta):\n    return backprop_sample(X[0], Y[0], theta)\n", namespace)
    assert ex.check_full_gradient(namespace["full"]).status == "not attempted"


# --------------------------------------------------------------------------- (a) forward
def _forward_loops(x, theta):
    """a, A, f one entry at a time, in plain Python."""
    W, w0, beta, beta0 = theta
    a = [w0[l] + sum(W[l, j] * x[j] for j in range(len(x))) for l in range(len(w0))]
    A = [1.0 / (1.0 + np.exp(-v)) for v in a]
    f = [beta0[k] + sum(beta[k, l] * A[l] for l in range(len(A))) for k in range(len(beta0))]
    return a, A, f


def _forward_torch(x, theta):
    """The same with torch.nn.Linear layers, returning tensors (with requires_grad)."""
    W, w0, beta, beta0 = (torch.tensor(p) for p in theta)
    hidden = torch.nn.Linear(W.shape[1], W.shape[0]).double()
    out = torch.nn.Linear(beta.shape[1], beta.shape[0]).double()
    with torch.no_grad():
        for p, value in zip([*hidden.parameters(), *out.parameters()], (W, w0, beta, beta0)):
            p.copy_(value)
    a = hidden(torch.tensor(x))
    A = torch.sigmoid(a)
    return a, A, out(A)


def _forward_tanh_form(x, theta):
    """sigma(a) = (1 + tanh(a / 2)) / 2, returned as a list."""
    W, w0, beta, beta0 = theta
    a = W @ x + w0
    A = 0.5 * (1 + np.tanh(a / 2))
    return [a, A, beta @ A + beta0]


@pytest.mark.parametrize("answer", [_forward_loops, _forward_torch, _forward_tanh_form])
def test_forward_accepts_correct_answers_written_differently(answer, capsys):
    _passes(ex.check_forward, answer, capsys)


def _forward_with(change):
    def forward(x, theta):
        W, w0, beta, beta0 = theta
        a = w0 + W @ x
        A = _logistic(a)
        return change(a, A, beta0 + beta @ A, x, theta)

    return forward


@pytest.mark.parametrize(
    "change, needles",
    [
        (lambda a, A, f, x, th: (th.W @ x, A, f), ["expected a", "biases are missing"]),
        (lambda a, A, f, x, th: (th.W.T @ x + th.w0, A, f), ["W is transposed"]),
        (lambda a, A, f, x, th: (a, a, f), ["expected A", "Apply sigma"]),
        (lambda a, A, f, x, th: (a, np.tanh(a), f), ["not tanh"]),
        (lambda a, A, f, x, th: (a, A, _logistic(f)), ["the identity"]),
        (lambda a, A, f, x, th: (a, A, th.beta.T @ A + th.beta0), ["beta is transposed"]),
        (lambda a, A, f, x, th: (a, A, th.beta @ A), ["output biases are missing"]),
        (lambda a, A, f, x, th: f, ["should return the tuple (a, A, f)"]),
        (lambda a, A, f, x, th: (a, A), ["should return the 3 values (a, A, f), got 2"]),
        (lambda a, A, f, x, th: (a, A, f * np.nan), ["NaN"]),
        (lambda a, A, f, x, th: None, ["did you forget a `return`"]),
    ],
    ids=[
        "no-hidden-bias",
        "W-transposed",
        "no-sigma",
        "tanh",
        "sigmoid-output",
        "beta-transposed",
        "no-output-bias",
        "only-f",
        "two-values",
        "nan",
        "none",
    ],
)
def test_forward_rejects_wrong_answers(change, needles):
    fails(ex.check_forward, _forward_with(change), "Exercise 10.3(a) forward", *needles)


def test_forward_message_names_the_sizes_and_the_input():
    message = fails(ex.check_forward, _forward_with(lambda a, A, f, x, th: (a, a, f)))
    assert "for (d, K_2, K) = (3, 3, 3) and x = [" in message


def test_forward_cannot_change_the_checks_parameters(capsys):
    def mutating(x, theta):
        out = _forward_loops(x, theta)
        for p in theta:
            p[...] = 99.0
        x[...] = 99.0
        return out

    assert ex.check_forward(mutating).passed


# --------------------------------------------------------------------------- (a) output_delta
@pytest.mark.parametrize(
    "answer",
    [
        lambda f, y: -(y - f),
        lambda f, y: [fk - yk for fk, yk in zip(f, y)],
        lambda f, y: torch.autograd.grad(
            0.5 * ((torch.tensor(y) - (t := torch.tensor(f, requires_grad=True))) ** 2).sum(), t
        )[0],
    ],
    ids=["minus-y-minus-f", "list", "autograd"],
)
def test_output_delta_accepts_correct_answers(answer, capsys):
    _passes(ex.check_output_delta, answer, capsys)


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda f, y: y - f, ["The sign is wrong"]),
        (lambda f, y: 2 * (f - y), ["A factor 2 too many"]),
        (lambda f, y: 0.5 * (y - f) ** 2, ["the loss of each output"]),
        (lambda f, y: np.sum(f - y), ["should have shape (3,), got ()", "do not sum over k"]),
        (lambda f, y: (f - y) * sigmoid_grad(f), ["no sigma'"]),
        (lambda f, y: np.full_like(f, np.nan), ["NaN"]),
    ],
    ids=["sign", "factor-2", "loss", "summed", "sigma-prime", "nan"],
)
def test_output_delta_rejects_wrong_answers(answer, needles):
    fails(ex.check_output_delta, answer, "Exercise 10.3(a) output_delta", *needles)


# --------------------------------------------------------------------------- (a) hidden_s
def _s_loops(a, beta, delta):
    A = _logistic(a)
    return np.array(
        [
            A[l] * (1 - A[l]) * sum(beta[k, l] * delta[k] for k in range(len(delta)))
            for l in range(len(a))
        ]
    )


@pytest.mark.parametrize(
    "answer",
    [
        _s_loops,
        lambda a, beta, delta: np.einsum("kl,k->l", beta, delta) * sigmoid_grad(a),
        lambda a, beta, delta: delta @ beta * np.exp(-a) / (1 + np.exp(-a)) ** 2,
    ],
    ids=["loops", "einsum", "exp-form"],
)
def test_hidden_s_accepts_correct_answers(answer, capsys):
    _passes(ex.check_hidden_s, answer, capsys)


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda a, b, d: b.T @ d, ["sigma'(a^(2)_l) is missing"]),
        (lambda a, b, d: _logistic(a) * (b.T @ d), ["You used sigma(a), not sigma'(a)"]),
        (lambda a, b, d: sigmoid_grad(a) * (b @ d), ["beta is not transposed", "beta.T @ delta"]),
        (lambda a, b, d: -sigmoid_grad(a) * (b.T @ d), ["The sign is wrong"]),
        (lambda a, b, d: sigmoid_grad(a) * d.sum(), ["Weight each delta_k by beta_kl"]),
        (lambda a, b, d: np.sum(sigmoid_grad(a) * (b.T @ d)), ["do not sum over l"]),
        (lambda a, b, d: a * np.nan, ["NaN"]),
    ],
    ids=["no-sigma-prime", "sigma", "untransposed", "sign", "unweighted", "summed", "nan"],
)
def test_hidden_s_rejects_wrong_answers(answer, needles):
    fails(ex.check_hidden_s, answer, "Exercise 10.3(a) hidden_s", *needles)


def test_hidden_s_explains_a_vector_with_one_entry_per_output():
    """s computed at the outputs (K entries): right on the square case, then told to transpose."""

    def wrong(a, beta, delta):
        if beta.shape[0] == beta.shape[1]:
            return sigmoid_grad(a) * (beta.T @ delta)
        return (beta @ sigmoid_grad(a)) * delta

    fails(ex.check_hidden_s, wrong, "should have shape (4,), got (2,)", "use beta.T @ delta")


# --------------------------------------------------------------------------- (a) gradients
def _gradients_loops(x, A, delta, s):
    dW = np.array([[s[l] * x[j] for j in range(len(x))] for l in range(len(s))])
    dbeta = np.array([[delta[k] * A[l] for l in range(len(A))] for k in range(len(delta))])
    return [dW, np.array(list(s)), dbeta, np.array(list(delta))]


@pytest.mark.parametrize(
    "answer",
    [
        _gradients_loops,
        lambda x, A, d, s: ex.Params(s[:, None] * x[None, :], s.copy(), d[:, None] * A, 1.0 * d),
        lambda x, A, d, s: (np.einsum("l,j->lj", s, x), s, np.multiply.outer(d, A), d),
    ],
    ids=["loops-list", "broadcasting-params", "einsum"],
)
def test_gradients_accepts_correct_answers(answer, capsys):
    _passes(ex.check_gradients, answer, capsys)


def test_gradients_reports_its_errors_against_torch_and_finite_differences(solution, capsys):
    ex.check_gradients(solution["gradients"])
    out = capsys.readouterr().out
    assert "against PyTorch" in out and "against finite differences" in out


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda x, A, d, s: (np.outer(x, s), s, np.outer(d, A), d), ["dW is transposed"]),
        (lambda x, A, d, s: (np.outer(s, x), s, np.outer(A, d), d), ["dbeta is transposed"]),
        (lambda x, A, d, s: (np.outer(d, A), d, np.outer(s, x), s), ["theta's order"]),
        (lambda x, A, d, s: (np.outer(s, A), s, np.outer(d, A), d), ["uses the input x_j"]),
        (lambda x, A, d, s: (np.outer(s, x), s.sum(), np.outer(d, A), d), ["do not sum over l"]),
        (lambda x, A, d, s: (np.outer(s, x), s, np.outer(d, A), d.sum()), ["do not sum over k"]),
        (lambda x, A, d, s: (np.outer(d, x), s, np.outer(d, A), d), ["Use s_l, not delta"]),
        (lambda x, A, d, s: (np.outer(s, x), s, np.outer(d, A)), ["4 values"]),
        (lambda x, A, d, s: (np.outer(s, x), s, np.outer(d, A) * np.nan, d), ["dbeta", "NaN"]),
    ],
    ids=[
        "dW-transposed",
        "dbeta-transposed",
        "exercise-order",
        "A-for-x",
        "dw0-summed",
        "dbeta0-summed",
        "delta-for-s",
        "three-values",
        "nan",
    ],
)
def test_gradients_rejects_wrong_answers(answer, needles):
    fails(ex.check_gradients, answer, "Exercise 10.3(a) gradients", *needles)


def test_gradients_explains_the_exercise_order_by_shapes():
    """On non-square sizes the check sees the order (dbeta, dbeta0, dW, dw0) from the shapes."""
    calls = []

    def exercise_order(x, A, d, s):
        calls.append(1)
        if len(calls) == 1:  # the square case: give the right answer
            return np.outer(s, x), s, np.outer(d, A), d
        return np.outer(d, A), d, np.outer(s, x), s

    fails(ex.check_gradients, exercise_order, "return them in the order of theta")


# --------------------------------------------------------------------------- (b) full_gradient
def _full_matrix(X, Y, theta):
    """The batch gradient written independently: one sample per row, as a mean."""
    W, w0, beta, beta0 = theta
    a = X @ W.T + w0
    A = _logistic(a)
    D = A @ beta.T + beta0 - Y
    S = A * (1 - A) * (D @ beta)
    return S.T @ X / len(X), S.mean(0), D.T @ A / len(X), D.mean(0)


def _full_sum_over_n(solution):
    def full(X, Y, theta):
        total = [0.0, 0.0, 0.0, 0.0]
        for x, y in zip(X, Y):
            total = [t + g for t, g in zip(total, solution["backprop_sample"](x, y, theta))]
        return [t / len(X) for t in total]

    return full


def _full_torch(X, Y, theta):
    params = [torch.tensor(p, requires_grad=True) for p in theta]
    W, w0, beta, beta0 = params
    f = torch.sigmoid(torch.tensor(X) @ W.T + w0) @ beta.T + beta0
    (0.5 * ((f - torch.tensor(Y)) ** 2).sum(1).mean()).backward()
    return tuple(p.grad for p in params)


@pytest.mark.parametrize("answer", [_full_matrix, "sum-over-n", _full_torch])
def test_full_gradient_accepts_correct_answers(answer, solution, capsys):
    answer = _full_sum_over_n(solution) if answer == "sum-over-n" else answer
    _passes(ex.check_full_gradient, answer, capsys)


def _scaled(factor):
    return lambda X, Y, theta: [factor(len(X)) * g for g in _full_matrix(X, Y, theta)]


def _wrong_axis(X, Y, theta):
    W, w0, beta, beta0 = theta
    A = _logistic(X @ W.T + w0)
    D = A @ beta.T + beta0 - Y
    S = A * (1 - A) * (D @ beta)
    return S.T @ X / len(X), S.mean(1), D.T @ A / len(X), D.mean(1)


def _last_only(X, Y, theta):
    return _full_matrix(X[-1:], Y[-1:], theta)


@pytest.mark.parametrize(
    "answer, needles",
    [
        (_scaled(lambda n: n), ["N = 7 times the mean", "the gradient of the sum"]),
        (_scaled(lambda n: 1 / n), ["You divided by N twice"]),
        (_last_only, ["the last sample only"]),
        (_wrong_axis, ["should have shape (4,), got (7,)", "axis 0"]),
        (lambda X, Y, theta: _scaled(lambda n: np.nan)(X, Y, theta), ["NaN"]),
        (lambda X, Y, theta: np.zeros(4), ["should return the tuple"]),
    ],
    ids=["sum", "twice", "last", "wrong-axis", "nan", "array"],
)
def test_full_gradient_rejects_wrong_answers(answer, needles):
    fails(ex.check_full_gradient, answer, "Exercise 10.3(b) full_gradient", *needles)


def test_full_gradient_of_the_solution_is_the_mean_not_the_sum(solution):
    """Independent of the check: N times the solution's gradient is the gradient of the sum."""
    X, Y, theta = ex.random_problem((3, 4, 2), 9, rng=3)
    params = [torch.tensor(p, requires_grad=True) for p in theta]
    W, w0, beta, beta0 = params
    f = torch.sigmoid(torch.tensor(X) @ W.T + w0) @ beta.T + beta0
    (0.5 * ((f - torch.tensor(Y)) ** 2).sum()).backward()  # the sum over the 9 samples
    for g, p in zip(solution["full_gradient"](X, Y, theta), params):
        np.testing.assert_allclose(9 * np.asarray(g), p.grad.numpy(), atol=1e-12)


# --------------------------------------------------------------------------- (c) sigmoid deltas
@pytest.mark.parametrize(
    "answer",
    [
        lambda f, y: -(y * (1 - f) - (1 - y) * f),
        lambda f, y: (f - y) / (f * (1 - f)) * (f * (1 - f)),
        lambda f, y: np.where(y == 1, f - 1, f),
    ],
    ids=["expanded", "chain-rule-product", "by-class"],
)
def test_delta_sigmoid_cross_entropy_accepts_correct_answers(answer, capsys):
    _passes(ex.check_delta_sigmoid_cross_entropy, answer, capsys)


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda f, y: y - f, ["at z = -12 (f = sigma(z) = 6.14417e-06) and y = 0", "sign"]),
        (lambda f, y: (f - y) * f * (1 - f), ["delta of the squared error", "cancels"]),
        (lambda f, y: (f - y) / (f * (1 - f)), ["This is dR/df"]),
        (lambda f, y: np.sum(f - y), ["should have shape (18,)", "element-wise"]),
        (lambda f, y: f * np.nan, ["NaN"]),
    ],
    ids=["sign", "squared-error-delta", "dR-df", "summed", "nan"],
)
def test_delta_sigmoid_cross_entropy_rejects_wrong_answers(answer, needles):
    fails(
        ex.check_delta_sigmoid_cross_entropy,
        answer,
        "Exercise 10.3(c) delta_sigmoid_cross_entropy",
        *needles,
    )


@pytest.mark.parametrize(
    "answer",
    [
        lambda f, y: (f - y) * (f - f**2),
        lambda f, y: -(y - f) * sigmoid_grad(scipy.special.logit(f)),
        lambda f, y: torch.tensor((f - y) * f * (1 - f)),
    ],
    ids=["expanded", "sigma-prime-at-logit", "tensor"],
)
def test_delta_sigmoid_squared_accepts_correct_answers(answer, capsys):
    _passes(ex.check_delta_sigmoid_squared, answer, capsys)


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda f, y: f - y, ["sigma'(z) = f (1 - f) is missing"]),
        (lambda f, y: 2 * (f - y) * f * (1 - f), ["A factor 2 too many"]),
        (lambda f, y: (y - f) * f * (1 - f), ["The sign is wrong"]),
        (lambda f, y: (f - y) * sigmoid_grad(f), ["taken at z, not at f"]),
        (lambda f, y: None, ["did you forget a `return`"]),
    ],
    ids=["no-sigma-prime", "factor-2", "sign", "sigma-prime-at-f", "none"],
)
def test_delta_sigmoid_squared_rejects_wrong_answers(answer, needles):
    fails(
        ex.check_delta_sigmoid_squared, answer, "Exercise 10.3(c) delta_sigmoid_squared", *needles
    )


def test_the_squared_error_saturates_and_the_cross_entropy_does_not(solution):
    """The claim of part (c), with torch's autograd: at z = -10 and y = 1 (confidently wrong)."""
    z = torch.tensor([-10.0], dtype=torch.float64, requires_grad=True)
    F.binary_cross_entropy_with_logits(z, torch.ones(1, dtype=torch.float64)).backward()
    ce = abs(z.grad.item())
    z.grad = None
    (0.5 * (1 - torch.sigmoid(z)) ** 2).sum().backward()
    se = abs(z.grad.item())
    assert ce > 0.99 and se < 1e-4
    f = sigmoid(-10.0)
    assert abs(solution["delta_sigmoid_cross_entropy"](f, 1.0)) == pytest.approx(ce)
    assert abs(solution["delta_sigmoid_squared"](f, 1.0)) == pytest.approx(se)


# --------------------------------------------------------------------------- (d) softmax
@pytest.mark.parametrize(
    "answer",
    [
        lambda z: scipy.special.softmax(z, axis=-1),
        lambda z: np.exp(z - scipy.special.logsumexp(z, axis=-1, keepdims=True)),
        lambda z: torch.softmax(torch.tensor(z), dim=-1),
    ],
    ids=["scipy", "logsumexp", "torch"],
)
def test_softmax_accepts_correct_answers(answer, capsys):
    _passes(ex.check_softmax, answer, capsys)


def _naive_softmax(z):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda z: np.exp(z) / np.exp(z).sum(axis=0), ["z (a batch", "Normalise each row"]),
        (lambda z: np.exp(z) / np.exp(z).sum(), ["z (a batch", "Normalise each row"]),
        (lambda z: _logistic(z), ["logistic function of each z_k"]),
        (lambda z: np.exp(z), ["Divide by sum_m"]),
        (lambda z: np.exp(z - z.max(axis=-1, keepdims=True)), ["expected softmax(z)"]),
        (lambda z: None, ["did you forget a `return`"]),
    ],
    ids=["axis-0", "whole-array", "sigmoid", "unnormalised", "not-normalised", "none"],
)
def test_softmax_rejects_wrong_answers(answer, needles):
    with np.errstate(over="ignore", invalid="ignore"):
        fails(ex.check_softmax, answer, "Exercise 10.3(d) softmax", *needles)


def test_softmax_explains_the_overflow_of_the_naive_formula():
    message = fails(ex.check_softmax, _naive_softmax, "overflows", "Subtract max_m z_m")
    assert "for z = [ 1000.,   999., -1000.] softmax returned [nan, nan,  0.]" in message


@pytest.mark.parametrize(
    "answer",
    [
        lambda f, y: (np.diag(f) - np.outer(f, f)) @ (-y / f),  # Jacobian^T dR/df
        lambda f, y: np.where(y == 1, f - 1, f),
        lambda f, y: f - y / y.sum(),
    ],
    ids=["jacobian", "by-class", "normalised-y"],
)
def test_delta_softmax_cross_entropy_accepts_correct_answers(answer, capsys):
    _passes(ex.check_delta_softmax_cross_entropy, answer, capsys)


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda f, y: y - f, ["The sign is wrong"]),
        (lambda f, y: -y / f, ["This is dR/df_k"]),
        (lambda f, y: (f - y) * f * (1 - f), ["the terms m != k matter"]),
        (lambda f, y: y * (f - 1), ["The wrong classes matter too"]),
        (lambda f, y: np.sum(f - y), ["One entry per class"]),
        (lambda f, y: f * np.nan, ["NaN"]),
    ],
    ids=["sign", "dR-df", "diagonal", "true-class-only", "summed", "nan"],
)
def test_delta_softmax_cross_entropy_rejects_wrong_answers(answer, needles):
    title = "Exercise 10.3(d) delta_softmax_cross_entropy"
    fails(ex.check_delta_softmax_cross_entropy, answer, title, *needles)


# --------------------------------------------------------------------------- the references
def _torch_net(theta):
    """The exercise's network as torch.nn layers: Linear(d, K_2), Sigmoid, Linear(K_2, K)."""
    W, w0, beta, beta0 = theta
    net = torch.nn.Sequential(
        torch.nn.Linear(W.shape[1], W.shape[0]),
        torch.nn.Sigmoid(),
        torch.nn.Linear(beta.shape[1], beta.shape[0]),
    ).double()
    with torch.no_grad():
        for p, value in zip(net.parameters(), theta):
            p.copy_(torch.from_numpy(value))
    return net


def _nn_loss(loss, z, Y):
    if loss == "squared":
        return 0.5 * ((z - Y) ** 2).sum(1).mean()
    if loss == "sigmoid_cross_entropy":
        p = torch.sigmoid(z)
        return -(Y * torch.log(p) + (1 - Y) * torch.log(1 - p)).mean()
    if loss == "sigmoid_squared":
        return 0.5 * ((torch.sigmoid(z) - Y) ** 2).sum(1).mean()
    return -(Y * torch.log_softmax(z, dim=1)).sum(1).mean()


def _sizes_for(loss, d, K2, K):
    return (d, K2, 1) if loss.startswith("sigmoid") else (d, K2, K)


@pytest.mark.parametrize("loss", ex.LOSSES)
@settings(max_examples=25)
@given(d=st.integers(1, 5), K2=st.integers(1, 5), K=st.integers(1, 4), n=st.integers(1, 6))
def test_batch_gradients_match_torch_nn_and_finite_differences(loss, d, K2, K, n):
    sizes = _sizes_for(loss, d, K2, K)
    X, Y, theta = ex.random_problem(sizes, n, loss, rng=d + 10 * K2 + 100 * K + 1000 * n)
    net = _torch_net(theta)
    R = _nn_loss(loss, net(torch.from_numpy(X)), torch.from_numpy(Y))
    R.backward()
    ours = ex.batch_gradients(X, Y, theta, loss)
    for g, p in zip(ours, net.parameters()):
        np.testing.assert_allclose(g, p.grad.numpy(), atol=1e-12, rtol=1e-9)
    fd = ex.numerical_gradients(X, Y, theta, loss)
    for g, h in zip(ours, fd):
        np.testing.assert_allclose(g, h, atol=1e-7)
    assert ex.risk(X, Y, theta, loss) == pytest.approx(R.item(), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("loss", ex.LOSSES)
def test_torch_pass_gives_the_forward_quantities_and_per_sample_sensitivities(loss):
    X, Y, theta = ex.random_problem(_sizes_for(loss, 3, 4, 5), 6, loss, rng=7)
    ref = ex.torch_pass(X, Y, theta, loss)
    net = _torch_net(theta)
    with torch.no_grad():
        z = net(torch.from_numpy(X)).numpy()
        a = net[0](torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(ref.z, z, atol=1e-13)
    np.testing.assert_allclose(ref.a, a, atol=1e-13)
    np.testing.assert_allclose(ref.A, _logistic(a), atol=1e-13)
    np.testing.assert_allclose(ref.delta, ex.reference_delta(z, Y, loss), atol=1e-12)
    W, w0, beta, beta0 = theta
    s = _logistic(a) * (1 - _logistic(a)) * (ref.delta @ beta)
    np.testing.assert_allclose(ref.s, s, atol=1e-12)
    # the batch gradient is the mean of the per-sample outer products
    np.testing.assert_allclose(ref.grads.beta, ref.delta.T @ ref.A / 6, atol=1e-12)


def test_reference_delta_is_f_minus_y_for_the_matched_pairs():
    gen = np.random.default_rng(0)
    Z = gen.normal(size=(5, 3))
    Y = np.eye(3)[[0, 2, 1, 1, 0]]
    np.testing.assert_allclose(ex.reference_delta(Z, Y, "squared"), Z - Y)
    P = np.exp(Z) / np.exp(Z).sum(1, keepdims=True)
    np.testing.assert_allclose(ex.reference_delta(Z, Y, "softmax_cross_entropy"), P - Y)
    z, y = Z[:, :1], Y[:, :1]
    f = _logistic(z)
    np.testing.assert_allclose(ex.reference_delta(z, y, "sigmoid_cross_entropy"), f - y)
    np.testing.assert_allclose(ex.reference_delta(z, y, "sigmoid_squared"), (f - y) * f * (1 - f))


def test_gradient_errors_are_small_for_a_right_gradient_and_large_for_a_wrong_one(solution):
    right = ex.gradient_errors(solution["backprop_sample"], [(3, 4, 2), (1, 1, 1)])
    assert all(r["rel. error vs torch"] < 1e-13 for r in right)
    assert all(r["rel. error vs finite differences"] < 1e-7 for r in right)
    assert [r["parameters"] for r in right] == [3 * 4 + 4 + 4 * 2 + 2, 4]

    def double(x, y, theta):
        return [2 * g for g in solution["backprop_sample"](x, y, theta)]

    wrong = ex.gradient_errors(double, [(3, 4, 2)])
    assert wrong[0]["rel. error vs torch"] > 0.4


def test_random_problem_makes_targets_for_each_loss():
    X, Y, theta = ex.random_problem((3, 4, 5), 8, "softmax_cross_entropy", rng=0)
    assert X.shape == (8, 3) and Y.shape == (8, 5) and np.all(Y.sum(1) == 1)
    assert [p.shape for p in theta] == [(4, 3), (4,), (5, 4), (5,)]
    _, Y, _ = ex.random_problem((2, 2, 1), 50, "sigmoid_cross_entropy", rng=0)
    assert set(np.unique(Y)) == {0.0, 1.0}
    a = ex.random_problem((2, 3, 2), 4, rng=5)
    b = ex.random_problem((2, 3, 2), 4, rng=5)
    for u, v in zip(a[:2] + tuple(a[2]), b[:2] + tuple(b[2])):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: ex.random_problem((2, 3, 2), 1, "sigmoid_squared"), ValueError, "K = 1"),
        (lambda: ex.random_problem((2, 3, 2), 1, "hinge"), ValueError, "loss to be one of"),
        (lambda: ex.random_params(0, 3, 2), ValueError, "d to be an int >= 1"),
        (lambda: ex.risk(np.zeros((2, 3)), np.zeros((2, 2)), (1, 2)), TypeError, "four arrays"),
        (
            lambda: ex.batch_gradients(
                np.zeros((2, 3)), np.zeros((2, 2)), ex.random_params(2, 3, 2)
            ),
            ValueError,
            r"expected X of shape \(n, 2\), got \(2, 3\)",
        ),
        (
            lambda: ex.risk(
                np.zeros((2, 2)),
                np.ones((2, 2)),
                ex.random_params(2, 3, 2),
                "softmax_cross_entropy",
            ),
            ValueError,
            "one-hot",
        ),
    ],
    ids=["sigmoid-K", "loss-name", "zero-inputs", "theta", "X-shape", "not-one-hot"],
)
def test_references_validate_their_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call()
