"""Tests for nnbook.exercises.ex10_2_activations: the four checks of Exercise 10.2 and the helpers.

Every check must accept the solution notebook's answer, accept other correct answers written
differently, reject plausible wrong answers with a message that says what is wrong, and report
a stub (raising NotImplementedError) as "not attempted" without raising. The solution's answers
are taken from ``solutions/ex10_2_activations.md`` itself and the stubs from the exercise that
``tools/booktool.py`` generates from it. Reference values come from closed forms, finite
differences, scikit-learn and PyTorch, never from the module under test.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from notebook_functions import fails, notebook_fixtures, stub
from scipy.special import expit
from sklearn.metrics import log_loss

from nnbook.engine import activations
from nnbook.engine.losses import BCEWithLogits
from nnbook.engine.mlp import MLP
from nnbook.exercises import ex10_2_activations as ex
from nnbook.pytorch.convert import mlp_to_torch

STUDENT_FUNCTIONS = ("backward", "h_prime", "sigmoid_prime", "relu_prime")
CHECKS = {
    "backward": ex.check_backward,
    "h_prime": ex.check_h_prime,
    "sigmoid_prime": ex.check_sigmoid_prime,
    "relu_prime": ex.check_relu_prime,
}


# --------------------------------------------------------------------------- helpers
solution, exercise = notebook_fixtures(
    "ex10_2_activations.md", STUDENT_FUNCTIONS, {"np": np, "activations": activations}
)


def _sigmoid(z):
    """The logistic function, written out (not the module's)."""
    return 1.0 / (1.0 + np.exp(-z))


# --------------------------------------------------------------------------- stubs and solution
@pytest.mark.parametrize("name", STUDENT_FUNCTIONS)
def test_a_stub_is_not_attempted_and_does_not_raise(name, capsys):
    result = CHECKS[name](stub)
    assert result.status == "not attempted" and not result.passed
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("name", STUDENT_FUNCTIONS)
def test_the_generated_exercise_stubs_are_not_attempted(name, exercise, capsys):
    with pytest.raises(NotImplementedError):
        exercise[name](*([np.zeros(3)] if name != "backward" else [None] * 5))
    assert CHECKS[name](exercise[name]).status == "not attempted"
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("name", STUDENT_FUNCTIONS)
def test_the_solution_notebook_passes(name, solution, capsys):
    result = CHECKS[name](solution[name])
    assert result.passed and result.cases >= 5
    assert "correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- h_prime
@pytest.mark.parametrize(
    "answer",
    [
        lambda z: np.zeros_like(z, dtype=float),
        lambda z: 0.0 * z,
        lambda z: np.where(z > 0, 0.0, 0.0),
        lambda z: torch.zeros(np.shape(z), dtype=torch.float64),
    ],
    ids=["zeros_like", "times-zero", "where", "torch-tensor"],
)
def test_h_prime_accepts_correct_answers(answer, capsys):
    assert ex.check_h_prime(answer).passed


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda z: (z > 0).astype(float), ["expected h_prime(z) = 0, got 1", "h(z) itself"]),
        (lambda z: np.where(z == 0, np.inf, 0.0), ["at z = 0 you returned inf", "Dirac"]),
        (lambda z: np.where(z == 0, 1.0, 0.0), ["at z = 0 expected", "uses h'(0) = 0"]),
        (lambda z: np.ones_like(z), ["expected h_prime(z) = 0, got 1", "constant on z < 0"]),
        (lambda z: 0.0, ["shape of z, (13,), got shape ()", "np.zeros_like(z)"]),
        (lambda z: np.full(z.shape, np.nan), ["NaN"]),
        (lambda z: None, ["returned None"]),
    ],
    ids=["h-itself", "dirac", "one-at-zero", "ones", "scalar", "nan", "none"],
)
def test_h_prime_rejects_wrong_answers(answer, needles):
    fails(ex.check_h_prime, answer, "Exercise 10.2(a) h_prime", *needles)


# --------------------------------------------------------------------------- sigmoid_prime
def _sigmoid_prime_autograd(z):
    zt = torch.tensor(z, requires_grad=True)
    (g,) = torch.autograd.grad(torch.sigmoid(zt).sum(), zt)
    return g.numpy()


@pytest.mark.parametrize(
    "answer",
    [
        lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2,
        lambda z: expit(z) * expit(-z),
        lambda z: 1.0 / (2.0 + 2.0 * np.cosh(z)),  # sigma' = 1 / (4 cosh^2(z/2))
        _sigmoid_prime_autograd,
    ],
    ids=["exp-form", "sigma(z)sigma(-z)", "cosh-form", "torch-autograd"],
)
def test_sigmoid_prime_accepts_correct_answers(answer, capsys):
    z = np.linspace(-30, 30, 61)
    s = _sigmoid(z)
    np.testing.assert_allclose(answer(z), s * (1 - s), atol=1e-12)  # they are correct
    assert ex.check_sigmoid_prime(answer).passed


@pytest.mark.parametrize(
    "answer, needles",
    [
        (_sigmoid, ["at z = 40 expected", "got 1", "sigma(z) itself"]),
        (lambda z: -_sigmoid(z) * (1 - _sigmoid(z)), ["got -0.25", "sign is wrong"]),
        (lambda z: 1 - _sigmoid(z) ** 2, ["tanh"]),
        (lambda z: _sigmoid(z) * (1 + _sigmoid(z)), ["Check the algebra"]),
        (lambda z: np.full(z.shape, 0.25), ["at z = -40", "got 0.25"]),
        (lambda z: np.full(z.shape, np.nan), ["NaN"]),
    ],
    ids=["sigma-itself", "wrong-sign", "tanh-form", "plus-instead-of-minus", "constant", "nan"],
)
def test_sigmoid_prime_rejects_wrong_answers(answer, needles):
    fails(ex.check_sigmoid_prime, answer, "Exercise 10.2(b) sigmoid_prime", *needles)


# --------------------------------------------------------------------------- relu_prime
@pytest.mark.parametrize(
    "answer",
    [
        lambda z: (z > 0).astype(float),
        lambda z: np.heaviside(z, 0.0),
        lambda z: np.where(z > 0, 1, 0),  # integers
        lambda z: z > 0,  # booleans
        lambda z: np.sign(np.maximum(z, 0.0)),
    ],
    ids=["astype", "heaviside-0", "where-int", "bool", "sign-of-relu"],
)
def test_relu_prime_accepts_correct_answers(answer, capsys):
    assert ex.check_relu_prime(answer).passed


@pytest.mark.parametrize(
    "answer, needles",
    [
        (lambda z: np.heaviside(z, 1.0), ["at z = 0 expected", "got 1", "ReLU'(0) = 0"]),
        (lambda z: (z >= 0).astype(float), ["at z = 0", "as PyTorch's autograd does"]),
        (lambda z: np.heaviside(z, 0.5), ["at z = 0", "got 0.5"]),
        (lambda z: (z < 0).astype(float), ["sides are swapped"]),
        (lambda z: np.maximum(z, 0.0), ["at z = 40 expected", "got 40", "ReLU(z) = max(0, z)"]),
        (lambda z: None, ["returned None"]),
    ],
    ids=["heaviside-1", "greater-equal", "heaviside-half", "swapped", "relu-itself", "none"],
)
def test_relu_prime_rejects_wrong_answers(answer, needles):
    fails(ex.check_relu_prime, answer, "Exercise 10.2(c) relu_prime", *needles)


def test_the_derivative_checks_test_the_kink_and_saturation():
    assert 0.0 in ex.Z_POINTS and ex.Z_POINTS.min() <= -30 and ex.Z_POINTS.max() >= 30


# --------------------------------------------------------------------------- backward
def _backward_matrix(X, y, params, rho, rho_prime):
    """The backward pass in matrix form, written independently of the notebook."""
    W, b, beta, beta0 = params
    Z = X @ W.T + b
    A = rho(Z)
    delta = (_sigmoid(A @ beta + beta0) - y) / len(y)
    S = delta[:, None] * beta[None, :] * rho_prime(Z)
    return S.T @ X, S.sum(0), A.T @ delta, delta.sum()


def _backward_einsum(X, y, params, rho, rho_prime):
    W, b, beta, beta0 = params
    Z = np.einsum("md,nd->nm", W, X) + b
    A = rho(Z)
    delta = (_sigmoid(np.einsum("nm,m->n", A, beta) + beta0) - y) / len(y)
    S = np.einsum("n,m,nm->nm", delta, beta, rho_prime(Z))
    return (
        np.einsum("nm,nd->md", S, X),
        np.einsum("nm->m", S),
        np.einsum("nm,n->m", A, delta),
        np.array([delta.sum()]),  # beta0's gradient as a 1-element array
    )


def _backward_loops(X, y, params, rho, rho_prime):
    """One sample at a time, summing the per-sample gradients and dividing by N."""
    W, b, beta, beta0 = params
    N = len(y)
    gW, gb, gbeta, gbeta0 = np.zeros_like(W), np.zeros_like(b), np.zeros_like(beta), 0.0
    for x_i, y_i in zip(X, y):
        z = W @ x_i + b
        a = rho(z)
        d = _sigmoid(beta @ a + beta0) - y_i
        s = d * beta * rho_prime(z)
        gW += np.outer(s, x_i)
        gb += s
        gbeta += d * a
        gbeta0 += d
    return [gW / N, gb / N, gbeta / N, gbeta0 / N]  # a list, not a tuple


def _backward_torch(X, y, params, rho, rho_prime):
    """A student who lets PyTorch differentiate: rho is applied to a detached copy, so the
    hidden-layer factor comes from rho_prime (the only way to get it from NumPy functions)."""
    W, b, beta, beta0 = (torch.tensor(np.asarray(p, float), requires_grad=True) for p in params)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    Z = Xt @ W.T + b
    A_val = torch.from_numpy(rho(Z.detach().numpy()))
    dA = torch.from_numpy(rho_prime(Z.detach().numpy()))
    A = A_val + (Z - Z.detach()) * dA  # value rho(Z), derivative rho'(Z)
    f = A @ beta + beta0
    torch.nn.functional.binary_cross_entropy_with_logits(f, yt).backward()
    return W.grad, b.grad, beta.grad, beta0.grad


@pytest.mark.parametrize(
    "answer",
    [_backward_matrix, _backward_einsum, _backward_loops, _backward_torch],
    ids=["matrix", "einsum", "per-sample-loops", "torch"],
)
def test_backward_accepts_correct_answers(answer, capsys):
    assert ex.check_backward(answer).passed


def _variant(**change):
    """The matrix backward pass with one deliberate mistake."""

    def wrong(X, y, params, rho, rho_prime):
        W, b, beta, beta0 = params
        Z = X @ W.T + b
        A = rho(Z)
        f = A @ beta + beta0
        delta = ((f if change.get("delta_f") else _sigmoid(f)) - y) / len(y)
        factor = rho(Z) if change.get("rho_for_prime") else rho_prime(Z)
        if change.get("no_prime"):
            factor = 1.0
        S = np.outer(delta, np.ones_like(beta) if change.get("no_beta") else beta) * factor
        grads = [S.T @ X, S.sum(0), A.T @ delta, delta.sum()]
        if change.get("transpose"):
            grads[0] = X.T @ S
        if change.get("no_mean"):
            grads = [g * len(y) for g in grads]
        if change.get("sign"):
            grads = [-g for g in grads]
        if change.get("nan"):
            grads[1] = np.full_like(grads[1], np.nan)
        return tuple(grads)

    return wrong


@pytest.mark.parametrize(
    "answer, needles",
    [
        (_variant(no_prime=True), ["dR/dW[", "rho = sigmoid", "without the factor rho'(z)"]),
        (_variant(transpose=True), ["should have the shape of its parameter, (5, 3), got (3, 5)"]),
        (_variant(no_mean=True), ["N = 7 times too large", "mean over N"]),
        (_variant(sign=True), ["wrong sign"]),
        (_variant(rho_for_prime=True), ["rho(z) where rho'(z) belongs"]),
        (_variant(delta_f=True), ["delta = f - y", "(sigma(f_i) - y_i) / N"]),
        (_variant(no_beta=True), ["dR/dW[", "expected"]),
        (_variant(nan=True), ["dR/db contains NaN"]),
        (lambda *args: _backward_matrix(*args)[:3], ["four gradients", "tuple of length 3"]),
        (lambda *args: None, ["returned None"]),
    ],
    ids=[
        "forgot-rho-prime",
        "transposed-dW",
        "sum-not-mean",
        "sign",
        "rho-for-rho-prime",
        "squared-loss-delta",
        "forgot-beta",
        "nan",
        "three-gradients",
        "none",
    ],
)
def test_backward_rejects_wrong_answers(answer, needles):
    fails(ex.check_backward, answer, "Exercise 10.2(a) backward", *needles)


def test_backward_reports_a_raising_function():
    def broken(X, y, params, rho, rho_prime):
        return X @ params[0]  # shapes do not match

    fails(ex.check_backward, broken, "raised ValueError")


def test_backward_cases_expose_transposes_and_a_missing_mean():
    for N, d, M, _act, _seed in ex.BACKWARD_CASES:
        assert d != M and N > 1 and N != M
    assert {case[3] for case in ex.BACKWARD_CASES} >= {"threshold", "sigmoid", "relu"}


# --------------------------------------------------------------------------- module helpers
def test_hard_threshold_matches_the_statement_and_torch():
    z = np.array([-3.0, -1e-300, 0.0, 1e-300, 2.0])
    np.testing.assert_array_equal(ex.hard_threshold(z), [0, 0, 0, 1, 1])  # h(0) = 0
    np.testing.assert_array_equal(ex.hard_threshold_grad(z), np.zeros(5))
    with torch.no_grad():
        np.testing.assert_array_equal(
            ex.torch_activation("threshold")(torch.from_numpy(z)).numpy(), ex.hard_threshold(z)
        )


def _random_problem(seed=0, N=9, d=3, M=4):
    g = np.random.default_rng(seed)
    X = g.standard_normal((N, d))
    y = (g.random(N) < 0.5).astype(float)
    params = (g.standard_normal((M, d)), g.standard_normal(M), g.standard_normal(M), 0.2)
    return X, y, params


def test_risk_is_the_cross_entropy_of_scikit_learn():
    X, y, params = _random_problem()
    W, b, beta, beta0 = params
    p = _sigmoid(np.tanh(X @ W.T + b) @ beta + beta0)
    assert ex.risk(X, y, params, np.tanh) == pytest.approx(log_loss(y, p), rel=1e-12)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "leaky_relu"])
def test_torch_gradients_match_finite_differences(activation):
    X, y, params = _random_problem(seed=1)
    rho = ex.get_activation(activation)
    grads = ex.torch_gradients(X, y, params, activation)
    eps = 1e-6
    for k in range(4):
        base = np.array(params[k], dtype=float)
        fd = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            plus, minus = base.copy(), base.copy()
            plus[idx] += eps
            minus[idx] -= eps
            p_plus = tuple(plus if j == k else params[j] for j in range(4))
            p_minus = tuple(minus if j == k else params[j] for j in range(4))
            fd[idx] = (ex.risk(X, y, p_plus, rho) - ex.risk(X, y, p_minus, rho)) / (2 * eps)
        np.testing.assert_allclose(grads[k], fd, atol=1e-7)


def test_gradient_descent_with_h_never_moves_the_first_layer():
    X, y = ex.make_data(n=60, seed=1)
    theta0 = ex.init_params(2, 8, rng=2)
    h = ex.HARD_THRESHOLD
    theta, risks = ex.gradient_descent(X, y, theta0, _backward_matrix, h.f, h.df, 0.5, 50)
    np.testing.assert_array_equal(theta[0], theta0[0])
    np.testing.assert_array_equal(theta[1], theta0[1])
    assert not np.allclose(theta[2], theta0[2]) and risks[-1] < risks[0]
    assert risks.shape == (51,)


@pytest.mark.parametrize("activation", ["threshold", "sigmoid", "relu"])
def test_two_gradient_descent_implementations_agree(activation):
    X, y = ex.make_data(n=40, seed=2)
    theta0 = ex.init_params(2, 5, rng=3)
    rho = ex.get_activation(activation)
    ours, _ = ex.gradient_descent(X, y, theta0, _backward_matrix, rho.f, rho.df, 0.3, 20)
    engine = ex.engine_gradient_descent(X, y, theta0, activation, 0.3, 20)
    for p, q in zip(ours, engine):
        np.testing.assert_allclose(p, q, atol=1e-12)


def test_first_layer_gradient_norm_matches_torch():
    X, y = ex.make_data(n=50, seed=3)
    got = ex.first_layer_gradient_norm(X, y, depth=3, activation="sigmoid", init="xavier",
                                       width=8, seed=4)  # fmt: skip
    model = MLP([2, 8, 8, 8, 1], activation="sigmoid", init="xavier", rng=4)
    seq = mlp_to_torch(model)
    out = seq(torch.from_numpy(X))
    torch.nn.functional.binary_cross_entropy_with_logits(
        out, torch.from_numpy(y[:, None])
    ).backward()
    assert got == pytest.approx(seq[0].weight.grad.norm().item(), rel=1e-12)


def test_gradient_norms_by_depth_is_the_geometric_mean_over_seeds():
    X, y = ex.make_data(n=30, seed=4)
    norms = ex.gradient_norms_by_depth(X, y, [1, 2], "relu", "he", width=6, seeds=[0, 1])
    each = [
        [ex.first_layer_gradient_norm(X, y, L, "relu", "he", 6, s) for s in (0, 1)] for L in (1, 2)
    ]
    np.testing.assert_allclose(norms, [np.sqrt(a * b) for a, b in each], rtol=1e-12)


def test_dead_units_finds_the_units_negative_on_all_inputs():
    X = np.random.default_rng(5).uniform(-1, 1, size=(50, 2))
    model = MLP([2, 4, 1], activation="relu", rng=0)
    layer = model.hidden[0]
    layer.W.data[:] = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]]
    layer.b.data[:] = [-2.0, 0.0, -5.0, 0.5]  # units 0 and 2 are negative on all of [-1, 1]^2
    np.testing.assert_array_equal(ex.dead_units(model, X), [True, False, True, False])
    # and no gradient reaches their weights, whatever the targets
    loss = BCEWithLogits()
    loss.forward(model.forward(X), (X[:, :1] > 0).astype(float))
    model.zero_grad()
    model.backward(loss.backward())
    assert np.all(layer.W.grad[[0, 2]] == 0) and np.all(layer.b.grad[[0, 2]] == 0)
    assert np.any(layer.W.grad[[1, 3]] != 0)


def test_train_and_count_is_deterministic_and_consistent():
    X, y = ex.make_data(n=60, seed=6)
    m1, c1 = ex.train_and_count(X, y, "relu", eta=5.0, seed=0, epochs=3)
    _, c2 = ex.train_and_count(X, y, "relu", eta=5.0, seed=0, epochs=3)
    assert c1 == c2
    assert c1["dead units"] == ex.dead_units(m1, X).mean()
    assert c1["training accuracy"] == np.mean(m1.predict_labels(X) == y)


def test_risk_along_line_starts_at_the_risk():
    X, y, params = _random_problem(seed=7)
    D = (np.ones_like(params[0]), np.ones_like(params[1]))
    curve = ex.risk_along_line(X, y, params, D, [0.0, 0.5], "sigmoid")
    assert curve[0] == ex.risk(X, y, params, activations.sigmoid)
    moved = (params[0] + 0.5, params[1] + 0.5, *params[2:])
    assert curve[1] == ex.risk(X, y, moved, activations.sigmoid)


def test_activation_times_times_both_functions():
    times = ex.activation_times(("relu", "sigmoid"), n=1000, repeats=2)
    assert set(times) == {"relu", "sigmoid"}
    assert all(len(t) == 2 and min(t) > 0 for t in times.values())
