"""Tests for nnbook.exercises.checks (the feedback framework) and nnbook.exercises.ex10_1_xor.

Every XOR check must accept the solution notebook's answer, accept other correct answers,
reject plausible wrong answers with a message that says what is wrong, and report a stub
(raising NotImplementedError) as "not attempted" without raising. The solution's answers are
taken from ``solutions/ex10_1_xor.md`` itself, and the stubs from the exercise that
``tools/booktool.py`` generates from it, so the tests follow the notebook.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from notebook_functions import fails, notebook_fixtures, stub

from nnbook.exercises import checks
from nnbook.exercises import ex10_1_xor as xor
from nnbook.exercises.checks import CheckFailed

STUDENT_FUNCTIONS = ("feature_map", "output_weights", "xor_mlp_weights")
XOR_CHECKS = {
    "feature_map": xor.check_feature_map,
    "output_weights": xor.check_output_weights,
    "xor_mlp_weights": xor.check_mlp,
}
X4 = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # written out, not taken from xor
Y4 = np.array([0.0, 1.0, 1.0, 0.0])


# --------------------------------------------------------------------------- helpers
solution, exercise = notebook_fixtures("ex10_1_xor.md", STUDENT_FUNCTIONS, {"np": np})


def _raises_value_error(*args):
    raise ValueError("operands could not be broadcast together")


# --------------------------------------------------------------------------- framework
def test_check_failed_is_an_assertion_error():
    assert issubclass(CheckFailed, AssertionError)


def test_call_returns_the_value_and_passes_the_arguments():
    assert checks.call("t", lambda a, b: a - b, 5, 3) == 2


def test_call_turns_not_implemented_into_not_attempted_for_run(capsys):
    result = checks.run("Part x", lambda: checks.call("Part x", stub, 1.0))
    assert result.status == "not attempted" and not result.passed
    assert "not attempted yet" in capsys.readouterr().out


def test_call_reports_a_student_exception_with_its_input():
    with pytest.raises(
        CheckFailed, match=r"raised ValueError: operands could not.*on input \[1\., 2\.\]"
    ):
        checks.call("t", _raises_value_error, np.array([1.0, 2.0]))


def test_call_rejects_something_that_is_not_a_function():
    with pytest.raises(CheckFailed, match="expected a function, got int"):
        checks.call("t", 3)


def test_run_passes_and_counts_cases(capsys):
    result = checks.run("Part y", lambda: 7)
    assert result.passed and result.cases == 7
    out = capsys.readouterr().out
    assert "Part y" in out and "correct (7 cases checked)" in out


def test_run_lets_a_failure_through():
    def body():
        checks.close("t", [1.0, 2.0], [1.0, 2.5], "v")

    with pytest.raises(CheckFailed, match=r"v: expected \[1\. *, 2\.5\], got \[1\., 2\.\]"):
        checks.run("t", body)


def test_as_numeric_converts_lists_and_tensors():
    np.testing.assert_array_equal(checks.as_numeric("t", [1, 2], "v", shape=(2,)), [1.0, 2.0])
    tensor = torch.tensor([0.5, 1.5], requires_grad=True)  # needs .detach() before NumPy
    np.testing.assert_array_equal(checks.as_numeric("t", tensor, "v"), [0.5, 1.5])


@pytest.mark.parametrize(
    "value, needle",
    [
        (None, "did you forget a `return`"),
        ("1.5", "should be numeric, got str"),
        ([1.0, [2.0, 3.0]], "should be numeric, got list"),
        ({"a": 1}, "should be numeric, got dict"),
        ([1.0, np.nan, 3.0], "contains NaN or inf"),
        ([1.0, 2.0], "should have shape (3,), got (2,)"),
    ],
)
def test_as_numeric_rejects_with_a_message(value, needle):
    with pytest.raises(CheckFailed) as info:
        checks.as_numeric("Part z", value, "the answer", shape=(3,))
    assert needle in str(info.value) and "Part z" in str(info.value)


def test_close_accepts_within_tolerance_and_rejects_outside():
    checks.close("t", [1.0, 2.0 + 1e-9], [1.0, 2.0], "v")
    with pytest.raises(CheckFailed, match=r"expected \[1\., 2\.\], got \[1\. *, 2\.01\]"):
        checks.close("t", [1.0, 2.01], [1.0, 2.0], "v")
    with pytest.raises(CheckFailed, match=r"should have shape \(2,\), got \(3,\)"):
        checks.close("t", [1.0, 2.0, 3.0], [1.0, 2.0], "v")


def test_messages_show_numpy_scalars_plainly():
    with pytest.raises(CheckFailed) as info:
        checks.call("t", _raises_value_error, np.float64(0.5))
    assert "on input 0.5)" in str(info.value)


# --------------------------------------------------------------------------- stubs and solution
@pytest.mark.parametrize("name", STUDENT_FUNCTIONS)
def test_a_stub_is_not_attempted_and_does_not_raise(name, capsys):
    result = XOR_CHECKS[name](stub)
    assert result.status == "not attempted"
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("name", STUDENT_FUNCTIONS)
def test_the_generated_exercise_stubs_are_not_attempted(name, exercise, capsys):
    with pytest.raises(NotImplementedError):
        exercise[name](X4.copy()) if name == "feature_map" else exercise[name]()
    assert XOR_CHECKS[name](exercise[name]).status == "not attempted"
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("name", STUDENT_FUNCTIONS)
def test_the_solution_notebook_passes(name, solution, capsys):
    result = XOR_CHECKS[name](solution[name])
    assert result.passed and result.cases >= 4
    assert "correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- (b) feature_map
def _slide_map_by_hand(X):
    """a1 = max(0, x1 + x2 - 1.5), a2 = max(0, -x1 - x2 + 0.5), one point at a time."""
    return np.array([[max(0.0, x1 + x2 - 1.5), max(0.0, -x1 - x2 + 0.5)] for x1, x2 in X])


def test_reference_feature_map_matches_the_statement():
    X = np.random.default_rng(0).uniform(-2, 3, size=(50, 2))
    np.testing.assert_allclose(xor.reference_feature_map(X), _slide_map_by_hand(X), atol=1e-15)
    np.testing.assert_array_equal(
        xor.reference_feature_map(X4), [[0, 0.5], [0, 0], [0, 0], [0.5, 0]]
    )


def _map_with_weight_matrix(X):
    """The same map as sigma(X W + b) with W holding one column per unit, via np.clip."""
    W = np.array([[1.0, -1.0], [1.0, -1.0]])
    return np.clip(X @ W + np.array([-1.5, 0.5]), 0.0, None)


def _map_in_torch(X):
    """The same map computed by PyTorch, returned as a float32 tensor."""
    s = torch.as_tensor(X, dtype=torch.float32).sum(1, keepdim=True)
    return torch.relu(torch.cat([s - 1.5, 0.5 - s], dim=1))


def _map_as_nested_lists(X):
    """The same map, one point at a time, returned as a list of lists."""
    return [[max(0.0, x1 + x2 - 1.5), max(0.0, 0.5 - x1 - x2)] for x1, x2 in X.tolist()]


@pytest.mark.parametrize(
    "correct", [_slide_map_by_hand, _map_with_weight_matrix, _map_in_torch, _map_as_nested_lists]
)
def test_feature_map_accepts_a_correct_map_written_differently(correct, capsys):
    assert xor.check_feature_map(correct).passed


def _table_unit(X, corner):
    """0.5 at the XOR input ``corner`` and 0 everywhere else: right on the four XOR inputs only."""
    return np.where(np.all(np.asarray(X) == corner, axis=1), 0.5, 0.0)


def test_hard_coded_units_are_rejected():
    """Each unit is tested where it is active: a unit hard-coded from the truth table fails."""

    def second_hard_coded(X):  # a1 right, a2 from the truth table
        return np.c_[np.maximum(0, X.sum(1) - 1.5), _table_unit(X, (0, 0))]

    def first_hard_coded(X):  # a1 from the truth table, a2 right
        return np.c_[_table_unit(X, (1, 1)), np.maximum(0, 0.5 - X.sum(1))]

    def both_zero_outside(X):
        return np.c_[_table_unit(X, (1, 1)), _table_unit(X, (0, 0))]

    for wrong in (second_hard_coded, first_hard_coded, both_zero_outside):
        np.testing.assert_array_equal(wrong(X4), [[0, 0.5], [0, 0], [0, 0], [0.5, 0]])
    msg = fails(
        xor.check_feature_map,
        second_hard_coded,
        "other inputs",
        "a2 = sigma(-x1 - x2 + 0.5) is wrong",
    )
    assert "active here (x1 + x2 < 0.5)" in msg and "a1 = sigma" not in msg
    msg = fails(
        xor.check_feature_map,
        first_hard_coded,
        "other inputs",
        "a1 = sigma(x1 + x2 - 1.5) is wrong",
    )
    assert "active here (x1 + x2 > 1.5)" in msg and "a2 = sigma" not in msg
    fails(xor.check_feature_map, both_zero_outside, "other inputs", "right on the four XOR inputs")


def test_feature_map_check_tests_each_unit_active_and_inactive(monkeypatch):
    """Record the inputs the check passes: each unit is positive on some and zero on others."""
    seen = []

    def recording(X):
        seen.append(np.array(X))
        return _slide_map_by_hand(X)

    assert xor.check_feature_map(recording).passed
    other = np.vstack(seen[1:])
    s = other[:, 0] + other[:, 1]
    assert len(other) >= 6 and not np.any(np.isin(other, [0.0, 1.0]).all(axis=1))
    for active in (s > 1.5, s < 0.5):  # a1 and a2
        assert active.sum() >= 2 and (~active).sum() >= 2
    assert np.min(np.abs(np.r_[s - 1.5, s - 0.5])) > 0.1  # away from the kinks


@pytest.mark.parametrize(
    "wrong, needles",
    [
        (
            lambda X: _slide_map_by_hand(X)[:, ::-1],
            ["expected (a1, a2) = (0, 0.5), got (0.5, 0)", "swapped"],
        ),
        (
            lambda X: np.stack([X.sum(1) - 1.5, -X.sum(1) + 0.5], 1),
            ["x = (0, 0)", "pre-activations"],
        ),
        (
            lambda X: 1 / (1 + np.exp(-np.stack([X.sum(1) - 1.5, -X.sum(1) + 0.5], 1))),
            ["not the logistic"],
        ),
        (
            lambda X: np.maximum(0, np.stack([X.sum(1) + 1.5, -X.sum(1) + 0.5], 1)),
            ["x = (0, 0)", "got (1.5, 0.5)"],
        ),
        (
            lambda X: _slide_map_by_hand(X).T,
            ["should have shape (4, 2)", "got (2, 4)", "transposed"],
        ),
        (
            lambda X: np.array([[0, 0.5], [0, 0], [0, 0], [0.5, 0]]),
            ["on other inputs should have shape (8, 2), got (4, 2)"],
        ),
        (
            lambda X: np.clip(_slide_map_by_hand(X), 0, 0.5),
            ["other inputs", "right on the four XOR inputs"],
        ),
        (lambda X: None, ["did you forget a `return`"]),
        (_raises_value_error, ["raised ValueError"]),
        (lambda X: np.full((len(X), 2), np.nan), ["NaN"]),
    ],
    ids=[
        "swapped",
        "no-relu",
        "logistic",
        "wrong-bias-sign",
        "transposed",
        "hard-coded-table",
        "clipped",
        "none",
        "raises",
        "nan",
    ],
)
def test_feature_map_rejects_wrong_maps(wrong, needles):
    fails(xor.check_feature_map, wrong, "Exercise 10.1(b) feature_map", *needles)


def test_feature_map_cannot_change_the_checks_inputs():
    def mutating(X):
        out = _slide_map_by_hand(X)
        X[:] = 99.0
        return out

    assert xor.check_feature_map(mutating).passed
    np.testing.assert_array_equal(xor.X_XOR, X4)


# --------------------------------------------------------------------------- (b) output_weights
def _separates(v1, v2, c) -> bool:
    """By hand: class 1 maps to a = (0, 0), class 0 to (0, 0.5) and (0.5, 0); rule f > 0.5."""
    return c > 0.5 and 0.5 * v2 + c < 0.5 and 0.5 * v1 + c < 0.5


@pytest.mark.parametrize(
    "triple", [(-2.0, -2.0, 1.0), (-1.0, -1.0, 0.75), (-10.0, -3.0, 0.9), [-4, -4, 2]]
)
def test_output_weights_accepts_any_correct_triple(triple, capsys):
    assert _separates(*triple)
    assert xor.check_output_weights(lambda: triple).passed


@pytest.mark.parametrize(
    "answer, needles",
    [
        (
            (2.0, 2.0, -1.0),
            ["x = (0, 1)", "should be > 0.5 (class 1)", "2 of 4 points are misclassified"],
        ),
        ((-2.0, -2.0, 0.0), ["x = (0, 1)", "f = 0", "2 of 4"]),
        ((-1.0, -1.0, 0.5), ["lies on the line f = 0.5"]),
        ((-2.0, 1.0, 1.0), ["x = (0, 0)", "should be < 0.5 (class 0)"]),
        ((-2.0, -2.0), ["should have shape (3,), got (2,)"]),
        (None, ["did you forget a `return`"]),
        ((np.nan, -2.0, 1.0), ["NaN"]),
        ("(-2, -2, 1)", ["should be numeric, got str"]),
    ],
    ids=[
        "swapped-signs",
        "wrong-bias",
        "on-the-line",
        "wrong-v2-sign",
        "two-numbers",
        "none",
        "nan",
        "string",
    ],
)
def test_output_weights_rejects_wrong_answers(answer, needles):
    if isinstance(answer, tuple) and len(answer) == 3 and np.all(np.isfinite(answer)):
        assert not _separates(*answer)
    fails(xor.check_output_weights, lambda: answer, "Exercise 10.1(b) output_weights", *needles)


def test_output_weights_reports_a_raising_function():
    fails(xor.check_output_weights, _raises_value_error, "raised ValueError")


def test_output_weights_agrees_with_the_hand_rule_on_random_triples(capsys):
    gen = np.random.default_rng(1)
    verdicts = []
    for v1, v2, c in gen.uniform(-3, 3, size=(300, 3)):
        try:
            ok = xor.check_output_weights(lambda triple=(v1, v2, c): triple).passed
        except CheckFailed:
            ok = False
        assert ok == _separates(v1, v2, c), (v1, v2, c)
        verdicts.append(ok)
    assert 0 < sum(verdicts) < len(verdicts)  # both outcomes occurred


# --------------------------------------------------------------------------- (c) xor_mlp
def _net(W1, b1, W2, b2):
    return lambda: (
        np.array(W1, float),
        np.array(b1, float),
        np.array(W2, float),
        np.array(b2, float),
    )


SLIDE = ([[1, 1], [-1, -1]], [-1.5, 0.5], [[-2, -2]], [1])


def _f_by_hand(W1, b1, W2, b2, x):
    """f(x) = sum_j W2[0, j] max(0, sum_k W1[j, k] x_k + b1[j]) + b2[0], in plain Python."""
    hidden = [max(0.0, sum(W1[j][k] * x[k] for k in range(2)) + b1[j]) for j in range(2)]
    return sum(W2[0][j] * hidden[j] for j in range(2)) + b2[0]


@pytest.mark.parametrize(
    "weights",
    [
        SLIDE,
        ([[-1, -1], [1, 1]], [0.5, -1.5], [[-2, -2]], [1]),  # hidden units swapped
        ([[2, 2], [-2, -2]], [-3, 1], [[-1, -1]], [1]),  # hidden layer x2, output /2
        ([[1, 1], [1, 1]], [0, -1], [[1, -2]], [0]),  # a different XOR net: relu(s) - 2 relu(s - 1)
    ],
    ids=["slide", "swapped-units", "rescaled", "other-net"],
)
def test_xor_mlp_accepts_any_exact_network(weights, capsys):
    assert [_f_by_hand(*weights, x) for x in X4] == list(Y4)
    assert xor.check_mlp(_net(*weights)).passed


@pytest.mark.parametrize(
    "answer, needles",
    [
        (
            _net([[1, -1], [1, -1]], *SLIDE[1:]),
            ["f(1, 0) = -2, not 1", "With W1 transposed it would be right"],
        ),
        (_net(SLIDE[0], [1.5, -0.5], *SLIDE[2:]), ["should equal XOR", "f(0, 0) ="]),
        (
            _net(SLIDE[0], SLIDE[1], [[-1, -1]], [0.75]),
            ["classifies all four points correctly", "rescale"],
        ),
        (
            lambda: (
                np.array(SLIDE[0], float),
                np.array(SLIDE[1]),
                np.array([-2.0, -2.0]),
                np.array([1.0]),
            ),
            ["W2 should have shape (1, 2), got (2,)", "nn.Linear(2, 1).weight"],
        ),
        (
            lambda: (np.array(SLIDE[0], float), np.array(SLIDE[1]), np.array([[-2.0, -2.0]]), 1.0),
            ["b2 should have shape (1,), got ()", "np.array([c])"],
        ),
        (
            lambda: (np.array(SLIDE[0], float), np.array(SLIDE[1]), np.array([[-2.0, -2.0]])),
            ["should return the four arrays (W1, b1, W2, b2)", "tuple of length 3"],
        ),
        (lambda: None, ["returned None"]),
        (_raises_value_error, ["raised ValueError"]),
        (_net(SLIDE[0], SLIDE[1], [[np.nan, -2]], [1]), ["W2 contains NaN"]),
    ],
    ids=[
        "transposed-W1",
        "swapped-b1-signs",
        "not-exact",
        "W2-vector",
        "b2-scalar",
        "three-arrays",
        "none",
        "raises",
        "nan",
    ],
)
def test_xor_mlp_rejects_wrong_answers(answer, needles):
    fails(xor.check_mlp, answer, "Exercise 10.1(c) xor_mlp_weights", *needles)


def test_xor_mlp_wrong_answers_are_really_wrong():
    """The rejected networks above do not compute XOR when evaluated by hand."""
    for weights in ([[1, -1], [1, -1]], SLIDE[1], *SLIDE[2:]), (SLIDE[0], [1.5, -0.5], *SLIDE[2:]):
        assert [_f_by_hand(*weights, x) for x in X4] != list(Y4)


# --------------------------------------------------------------------------- nnbook.xor: (a) the LP
def test_separability_lp_certifies_xor_infeasible():
    res = xor.separability_lp(X4, Y4)
    assert not res.separable and res.status == 2 and res.w is None
    lam = res.certificate
    assert np.all(lam >= -1e-12) and np.isclose(lam.sum(), 1.0)
    s = 2 * Y4 - 1
    np.testing.assert_allclose(lam @ (s[:, None] * np.c_[X4, np.ones(4)]), 0.0, atol=1e-12)
    np.testing.assert_allclose(lam, 0.25, atol=1e-9)  # unique: the proof's equal weights


@pytest.mark.parametrize("labels", [[0, 0, 0, 1], [0, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]])
def test_separability_lp_finds_a_separating_line_for_and_or(labels):
    res = xor.separability_lp(X4, labels)
    assert res.separable and res.status == 0
    s = 2 * np.asarray(labels) - 1
    assert np.all(s * (X4 @ res.w + res.c) >= 1 - 1e-9)
    assert np.isclose(res.margin, np.min(s * (X4 @ res.w + res.c)))


def test_separability_lp_on_random_data_in_three_dimensions():
    gen = np.random.default_rng(3)
    X = gen.normal(size=(40, 3))
    w_true = np.array([1.0, -2.0, 0.5])
    score = X @ w_true + 0.3
    keep = np.abs(score) > 0.2
    assert xor.separability_lp(X[keep], (score[keep] > 0).astype(float)).separable
    # a class-0 point at the centroid of class-1 points cannot be separated from them
    P = np.vstack([X[:5], X[:5].mean(0, keepdims=True)])
    assert not xor.separability_lp(P, [1, 1, 1, 1, 1, 0]).separable


def test_separability_lp_rejects_bad_input():
    with pytest.raises(ValueError, match="classes 0 and 1"):
        xor.separability_lp(X4, [0, 1, 2, 0])
    with pytest.raises(ValueError, match=r"expected y of shape \(4,\)"):
        xor.separability_lp(X4, [0, 1, 1])


# ------------------------------------------------------------------ nnbook.xor: network, risk, GD
def _random_params(gen, m=3):
    return gen.normal(size=(m, 2)), gen.normal(size=m), gen.normal(size=(1, m)), gen.normal(size=1)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_mlp_forward_matches_torch(activation):
    gen = np.random.default_rng(4)
    params = _random_params(gen)
    X = gen.normal(size=(10, 2))
    with torch.no_grad():
        f_torch = xor.to_torch(*params, activation=activation)(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(
        xor.mlp_forward(X, *params, activation=activation), f_torch, atol=1e-12
    )


def test_mlp_forward_checks_shapes():
    W1, b1, W2, b2 = (np.array(a, float) for a in SLIDE)
    with pytest.raises(ValueError, match=r"expected b1 of shape \(2,\), got \(3,\)"):
        xor.mlp_forward(X4, W1, np.zeros(3), W2, b2)
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 2\), got \(4, 3\)"):
        xor.mlp_forward(np.zeros((4, 3)), W1, b1, W2, b2)


def test_the_slide_network_has_zero_risk_and_zero_gradient():
    risk, grads = xor.risk_and_gradient([np.array(a, float) for a in SLIDE])
    assert risk == 0.0
    assert all(np.all(g == 0) for g in grads)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize("loss", ["squared", "cross_entropy"])
def test_risk_and_gradient_match_torch_autograd(activation, loss):
    params = _random_params(np.random.default_rng(5))
    risk, grads = xor.risk_and_gradient(params, activation=activation, loss=loss)
    net = xor.to_torch(*params, activation=activation)
    f = net(torch.from_numpy(X4))[:, 0]
    t = torch.from_numpy(Y4)
    if loss == "squared":
        ref = 0.5 * ((f - t) ** 2).mean()
    else:
        ref = torch.nn.functional.binary_cross_entropy_with_logits(f, t)
    ref.backward()
    assert risk == pytest.approx(ref.item(), abs=1e-12)
    for g, p in zip(grads, net.parameters()):
        np.testing.assert_allclose(g, p.grad.numpy(), atol=1e-12)


def test_train_xor_is_deterministic_and_batch_independent():
    a = xor.train_xor(7, steps=300)
    b = xor.train_xor(7, steps=300)
    np.testing.assert_array_equal(a.risks, b.risks)
    many = xor.train_xor_many([3, 7, 11], steps=300)
    np.testing.assert_array_equal(many.run(1).risks, a.risks)
    for p, q in zip(many.run(1).params, a.params):
        np.testing.assert_array_equal(p, q)
    assert a.risks.shape == (301,) and many.risks.shape == (3, 301)


def test_train_xor_starts_from_init_params_and_reports_solved_honestly():
    run = xor.train_xor(1, steps=2000)
    assert run.risks[0] == pytest.approx(xor.empirical_risk(xor.init_params(1)))
    assert run.final_risk == pytest.approx(xor.empirical_risk(run.params))
    f = xor.mlp_forward(X4, *run.params)[:, 0]
    assert run.solved == bool(np.all((f > 0.5) == (Y4 == 1)))


def test_gd_step_matches_the_update_rule():
    theta0 = xor.init_params(2)
    run = xor.train_xor(2, lr=0.05, steps=1)
    _, grads = xor.risk_and_gradient(theta0)
    for p, p0, g in zip(run.params, theta0, grads):
        np.testing.assert_allclose(p, p0 - 0.05 * g, atol=1e-15)


def test_dead_relus_stay_dead_and_the_output_goes_to_the_mean():
    """A start with both hidden units negative on all inputs: only b2 moves, to mean(y) = 1/2."""
    gen = np.random.default_rng(0)
    W1, b1 = np.array([[-1.0, -2.0], [-0.5, -0.5]]), np.array([-0.1, -0.2])
    W2, b2 = gen.normal(size=(1, 2)), np.array([3.0])
    theta = [W1.copy(), b1.copy(), W2.copy(), b2.copy()]
    for _ in range(500):
        _, grads = xor.risk_and_gradient(theta)
        theta = [p - 0.1 * g for p, g in zip(theta, grads)]
    np.testing.assert_array_equal(theta[0], W1)
    np.testing.assert_array_equal(theta[1], b1)
    np.testing.assert_array_equal(theta[2], W2)
    assert theta[3][0] == pytest.approx(0.5, abs=1e-6)
    assert xor.empirical_risk(theta) == pytest.approx(1 / 8, abs=1e-9)


def test_wider_networks_solve_xor_more_often():
    narrow = xor.train_xor_many(range(40), hidden=2, steps=1500)
    wide = xor.train_xor_many(range(40), hidden=8, steps=1500)
    assert narrow.solved.sum() < wide.solved.sum()
    assert 0 < narrow.solved.sum() < 40  # some starts succeed, some get stuck


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"seed": True}, TypeError, "seed to be an int"),
        ({"seed": 0, "lr": -0.1}, ValueError, "lr > 0"),
        ({"seed": 0, "activation": "swish"}, ValueError, "activation name"),
        ({"seed": 0, "loss": "hinge"}, ValueError, "loss to be one of"),
        ({"seed": 0, "hidden": 0}, ValueError, "hidden to be an int >= 1"),
    ],
)
def test_train_xor_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        xor.train_xor(**kwargs)
