"""Tests for nnbook.chapters.ch03_gd (Empirical risk minimisation and gradient descent).

References are independent of the code under test: matrix powers, PyTorch autograd and
torch.optim.SGD, finite differences of function values, closed forms chosen by construction.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from spd_matrices import spd

from nnbook.chapters import ch03_gd as gd
from nnbook.engine.quadratic import Quadratic
from nnbook.engine.shallow import ShallowNet
from nnbook.pytorch.convert import shallow_to_torch


def teacher_data(N=60, d=2, M=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (N, d))
    w, b, beta = rng.standard_normal((M, d)), rng.standard_normal(M), rng.standard_normal(M)
    y = np.tanh(X @ w.T + b) @ beta + 0.1 * rng.standard_normal(N)
    return X, y, rng


# ---------------------------------------------------------------------- gradient descent itself


def test_gd_matches_matrix_powers_on_a_quadratic():
    A, _ = spd([0.3, 1.0, 2.5, 4.0])
    Q = Quadratic(A)
    theta0 = np.array([1.0, -2.0, 0.5, 3.0])
    eta, K = 0.3, 25
    traj = gd.gradient_descent(Q.grad, theta0, eta, K)
    assert traj.shape == (K + 1, 4)
    expected = np.array(
        [np.linalg.matrix_power(np.eye(4) - eta * A, k) @ theta0 for k in range(K + 1)]
    )
    np.testing.assert_allclose(traj, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        Q.gd_closed_form(theta0, eta, np.arange(K + 1)), expected, rtol=1e-10, atol=1e-12
    )


def test_gd_matches_torch_sgd_with_constant_and_cosine_rate():
    from nnbook.engine import optim

    A, _ = spd([0.5, 1.0, 3.0], seed=1)
    b = np.array([1.0, -1.0, 0.5])
    Q = Quadratic(A, b)
    theta0 = np.array([2.0, 0.0, -1.0])
    K, eta = 40, 0.2
    for schedule in (None, "cosine"):
        t = torch.tensor(theta0, requires_grad=True)
        opt = torch.optim.SGD([t], lr=eta)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=K) if schedule else None
        At, bt = torch.tensor(A), torch.tensor(b)
        for _ in range(K):
            opt.zero_grad()
            (0.5 * t @ At @ t - bt @ t).backward()
            opt.step()
            if sched:
                sched.step()
        ours = gd.gradient_descent(
            Q.grad, theta0, optim.CosineDecay(eta, K) if schedule else eta, K
        )[-1]
        np.testing.assert_allclose(ours, t.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_schedule_enters_the_update_as_eta_k():
    # R(theta) = theta^2 / 2: theta^(K) = prod_k (1 - eta_k) theta^(0)
    etas = [0.5, 0.25, 0.1, 0.1, 0.05]
    traj = gd.gradient_descent(lambda t: t, [2.0], lambda k: etas[k], len(etas))
    assert traj[-1, 0] == pytest.approx(2.0 * np.prod([1 - e for e in etas]), rel=1e-14)


@pytest.mark.parametrize("margin", [0.9, 0.97])
def test_quadratic_converges_below_2_over_L(margin):
    lam = np.array([1.0, 2.0, 4.0])
    A, _ = spd(lam, seed=2)
    Q = Quadratic(A)
    L = lam.max()
    theta0 = np.array([1.0, 1.0, 1.0])
    eta = margin * 2 / L
    K = 400
    traj = gd.gradient_descent(Q.grad, theta0, eta, K)
    predicted = np.max(np.abs(1 - eta * lam)) ** K  # < 1 by construction
    assert np.linalg.norm(traj[-1]) <= 1.01 * predicted * np.linalg.norm(theta0)
    assert np.linalg.norm(traj[-1]) < 1e-4 * np.linalg.norm(theta0)


@pytest.mark.parametrize("margin", [1.03, 1.1])
def test_quadratic_diverges_above_2_over_L(margin):
    lam = np.array([1.0, 2.0, 4.0])
    A, _ = spd(lam, seed=2)
    Q = Quadratic(A)
    eta = margin * 2 / lam.max()
    theta0 = np.array([1.0, 1.0, 1.0])
    traj = gd.gradient_descent(Q.grad, theta0, eta, 400)
    norms = np.linalg.norm(traj, axis=1)
    assert norms[-1] > 1e4 * norms[0]
    assert np.all(np.diff(norms[50:]) > 0)  # keeps growing


def test_overflow_fills_the_rest_with_nan():
    traj = gd.gradient_descent(lambda t: 1e3 * t, [1.0], 10.0, 200)
    finite = np.isfinite(traj[:, 0])
    assert finite[0] and not finite[-1]
    first_bad = np.argmin(finite)
    assert np.all(finite[:first_bad]) and np.all(~finite[first_bad:])


@pytest.mark.parametrize("eta_L", [0.5, 1.5, 1.9, 2.1])
def test_measured_contraction_factor_matches_1_minus_eta_lambda(eta_L):
    lam = np.array([0.2, 1.0])
    A, V = spd(lam, seed=3)
    Q = Quadratic(A)
    eta = eta_L / lam.max()
    traj = gd.gradient_descent(Q.grad, V @ np.array([1.0, 1.0]), eta, 60)
    coords = traj @ V  # coordinates along the eigenvectors (columns of V)
    for i in range(2):
        ratios = (
            coords[1:11, i] / coords[:10, i]
        )  # early steps, before one coordinate sinks into round-off
        np.testing.assert_allclose(ratios, 1 - eta * lam[i], rtol=1e-8)  # signed: oscillation shows
    rho = max(abs(1 - eta * lam))
    assert gd.measured_rate(np.linalg.norm(traj, axis=1), tail=20) == pytest.approx(rho, rel=1e-6)


def test_quadratic_2d_has_the_requested_spectrum():
    Q = gd.quadratic_2d(L=2.0, kappa=8.0, angle=0.4)
    np.testing.assert_allclose(np.linalg.eigvalsh(Q.A), [0.25, 2.0], rtol=1e-12)
    assert pytest.approx(2.0) == Q.L and Q.mu == pytest.approx(0.25)


# --------------------------------------------------------------------------- the SNN risk


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus"])
@pytest.mark.parametrize("loss", ["squared", "cross_entropy"])
def test_snn_risk_and_gradient_match_torch(activation, loss):
    X, y, rng = teacher_data(N=40, d=3, M=4)
    labels = y if loss == "squared" else (y > 0).astype(float)
    R = gd.SNNRisk(X, labels, M=4, activation=activation, loss=loss)
    assert R.p == (3 + 2) * 4
    theta = R.init(rng)
    net = R.net(theta)
    model = shallow_to_torch(net)  # nn.Sequential(Linear(d, M), sigma, Linear(M, 1, bias=False))
    f = model(torch.tensor(X))[:, 0]
    yt = torch.tensor(labels)
    value = (
        0.5 * torch.mean((f - yt) ** 2)
        if loss == "squared"
        else torch.nn.functional.binary_cross_entropy_with_logits(f, yt)
    )
    value.backward()
    assert R(theta) == pytest.approx(value.item(), rel=1e-12, abs=1e-14)
    g_w, g_b, g_beta = gd.unpack(R.grad(theta), 3, 4)
    np.testing.assert_allclose(g_w, model[0].weight.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(g_b, model[0].bias.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(g_beta, model[2].weight.grad.numpy()[0], rtol=1e-10, atol=1e-13)
    # the ERM objective is the mean of the per-sample terms R^(i)
    assert R.per_sample(theta).shape == (40,)
    assert R.per_sample(theta).mean() == pytest.approx(R(theta), rel=1e-12)


def test_pack_unpack_round_trip_and_order():
    w = np.arange(6.0).reshape(3, 2)
    b = np.array([10.0, 11.0, 12.0])
    beta = np.array([-1.0, -2.0, -3.0])
    theta = gd.pack(w, b, beta)
    # theta = (beta_m, w_mj, b_m) as in the lecture
    np.testing.assert_array_equal(theta, [-1, -2, -3, 0, 1, 2, 3, 4, 5, 10, 11, 12])
    w2, b2, beta2 = gd.unpack(theta, d=2, M=3)
    np.testing.assert_array_equal(w2, w)
    np.testing.assert_array_equal(b2, b)
    np.testing.assert_array_equal(beta2, beta)


def test_snn_predict_is_the_shallow_net():
    X, y, rng = teacher_data()
    R = gd.SNNRisk(X, y, M=3)
    theta = R.init(rng)
    w, b, beta = gd.unpack(theta, 2, 3)
    np.testing.assert_allclose(R.predict(theta), ShallowNet(w, b, beta, "tanh")(X), rtol=1e-14)
    np.testing.assert_allclose(R.predict(theta), np.tanh(X @ w.T + b) @ beta, rtol=1e-14)


def test_gd_reaches_a_stationary_point_of_the_snn_risk():
    X, y, rng = teacher_data()
    R = gd.SNNRisk(X, y, M=3)
    traj = gd.gradient_descent(R.grad, R.init(rng), 0.05, 3000)
    norms = gd.grad_norms(R.grad, traj)
    risks = np.array([R(t) for t in traj])
    assert np.all(np.diff(risks) <= 1e-15)  # small eta: R^ decreases at every step
    assert norms[-1] < 1e-2 * norms[0]
    # the descent-lemma guarantee min_j ||grad||^2 <= 2 R(theta0) / (eta (k+1))
    k = np.arange(len(norms))
    assert np.all(np.minimum.accumulate(norms) ** 2 <= 2 * risks[0] / (0.05 * (k + 1)))


def test_zero_is_a_saddle_of_the_tanh_snn_risk():
    X, y, _ = teacher_data()
    R = gd.SNNRisk(X, y, M=3)
    zero = np.zeros(R.p)
    assert np.linalg.norm(R.grad(zero)) == 0.0
    eig = np.linalg.eigvalsh(gd.hessian(R.grad, zero))
    assert eig.min() < -1e-3 < 1e-3 < eig.max()


# ---------------------------------------------------------------------- steepest ascent, Hessian


def test_directional_derivative_is_grad_dot_u_and_largest_along_grad():
    A, _ = spd([0.5, 1.0, 2.0, 3.0], seed=4)
    Q = Quadratic(A, b=np.ones(4))
    theta = np.array([0.3, -1.0, 2.0, 0.5])
    g = A @ theta - np.ones(4)  # computed here, not by Q.grad
    U = gd.random_unit_vectors(200, 4, np.random.default_rng(0))
    np.testing.assert_allclose(np.linalg.norm(U, axis=1), 1.0, rtol=1e-12)
    slopes = np.array([gd.directional_derivative(Q, theta, u) for u in U])
    np.testing.assert_allclose(slopes, U @ g, rtol=1e-6, atol=1e-7)
    best = gd.directional_derivative(Q, theta, g / np.linalg.norm(g))
    assert best == pytest.approx(np.linalg.norm(g), rel=1e-7)
    assert slopes.max() < best


def test_hessian_of_a_quadratic_is_A():
    A, _ = spd([0.5, 1.0, 2.0], seed=5)
    Q = Quadratic(A)
    np.testing.assert_allclose(gd.hessian(Q.grad, np.array([1.0, 2.0, -1.0])), A, atol=1e-8)


# --------------------------------------------------------------------------- convexity and rates


def test_chord_gaps_of_squared_norm_match_the_closed_form():
    # ||l a + (1-l) b||^2 - l ||a||^2 - (1-l) ||b||^2 = -l (1-l) ||a - b||^2
    a, b = np.array([1.0, 2.0, -1.0]), np.array([0.0, -1.0, 3.0])
    lams = np.linspace(0, 1, 11)
    gaps = gd.chord_gaps(lambda t: float(t @ t), a, b, lams)
    np.testing.assert_allclose(gaps, -lams * (1 - lams) * np.sum((a - b) ** 2), atol=1e-12)


def test_convexity_check_least_squares_versus_snn():
    X, y, rng = teacher_data()
    ls = Quadratic.least_squares(rng.standard_normal((60, 20)), y)
    c_ls = gd.convexity_check(ls, np.zeros(20), 200, rng)
    assert c_ls.n_violating == 0 and c_ls.max_gap <= 0
    R = gd.SNNRisk(X, y, M=3)
    c_snn = gd.convexity_check(R, R.init(rng), 200, rng)
    assert c_snn.n_violating > 0 and c_snn.max_gap > 0
    a, b = c_snn.worst_pair
    assert np.max(gd.chord_gaps(R, a, b, [0.25, 0.5, 0.75])) == pytest.approx(c_snn.max_gap)


def test_convex_rate_bound_and_strongly_convex_linear_rate():
    rng = np.random.default_rng(6)
    N, p = 20, 40  # more parameters than samples: singular Hessian, convex but not strongly convex
    X = rng.standard_normal((N, p)) * np.logspace(0, -2, p)
    y = rng.standard_normal(N)
    P = Quadratic.least_squares(X, y)
    assert P.mu == pytest.approx(0.0, abs=1e-10)
    theta_star = np.linalg.pinv(X) @ y  # the min-norm least-squares solution, independently
    R_star = 0.5 * np.mean((X @ theta_star - y) ** 2)
    assert P.minimum() == pytest.approx(R_star, abs=1e-10)
    K = 2000
    traj = gd.gradient_descent(P.grad, np.zeros(p), 1 / P.L, K)
    gaps = P(traj[1:]) - R_star
    k = np.arange(1, K + 1)
    bound = P.L * np.linalg.norm(theta_star) ** 2 / (2 * k)
    np.testing.assert_allclose(
        gd.convex_bound(k, P.L, np.linalg.norm(theta_star)), bound, rtol=1e-14
    )
    assert np.all(gaps <= bound + 1e-12)
    # with a ridge term mu > 0: R(theta^(k)) - R* <= (1 - mu/L)^k (R(theta^(0)) - R*)
    Ps = Quadratic.least_squares(X, y, ridge=0.05)
    traj = gd.gradient_descent(Ps.grad, np.zeros(p), 1 / Ps.L, 300)
    gs = Ps(traj) - Ps.minimum()
    assert np.all(gs <= (1 - Ps.mu / Ps.L) ** np.arange(301) * gs[0] + 1e-12)


# -------------------------------------------------------------------- the non-convex 1-D example


def sine_problem():
    rng = np.random.default_rng(0)
    x = np.linspace(1, 4, 5)
    return gd.SineRegression(x, np.sin(1.5 * x) + 0.1 * rng.standard_normal(5))


def test_sine_regression_value_and_derivative():
    S = sine_problem()
    theta = np.array([0.3, 1.7, 4.2])
    expected = np.array([0.5 * np.sum((S.y - np.sin(t * S.x)) ** 2) for t in theta])
    np.testing.assert_allclose(S(theta), expected, rtol=1e-14)
    h = 1e-6
    np.testing.assert_allclose(
        S.grad(theta), (S(theta + h) - S(theta - h)) / (2 * h), rtol=1e-6, atol=1e-8
    )


def test_nonconvex_1d_gd_reaches_distinct_local_minima_from_different_starts():
    S = sine_problem()
    eta = 0.5 / S.curvature_bound()
    ends = np.array([gd.gradient_descent(S.grad, [t0], eta, 1000)[-1, 0] for t0 in [0.7, 3.5, 4.4]])
    grid = np.linspace(0, 6, 60001)
    grid_mins = gd.grid_minima(S, grid)
    assert len(grid_mins) >= 2
    h = 1e-4
    for end in ends:
        assert abs(S.grad(end)) < 1e-8  # stationary
        assert S(end + h) > S(end) and S(end - h) > S(end)  # a minimum, from values of R only
        assert np.min(np.abs(grid_mins - end)) < 1e-3  # one of the minima the grid finds
    distinct = np.unique(np.round(ends, 3))
    assert len(distinct) >= 2
    assert len(np.unique(np.round(S(ends), 6))) >= 2  # different values: not all global
    assert S(ends).min() == pytest.approx(
        S(grid).min(), abs=1e-6
    )  # one start finds the global minimum


def test_grid_minima_of_a_known_function():
    mins = gd.grid_minima(np.cos, np.linspace(0, 4 * np.pi, 4001))
    np.testing.assert_allclose(mins, [np.pi, 3 * np.pi], atol=1e-2)


# --------------------------------------------------------------------------- bad input


def test_gradient_descent_rejects_bad_input():
    def grad(t):
        return t

    with pytest.raises(TypeError, match="grad"):
        gd.gradient_descent("not a function", [1.0], 0.1, 5)
    with pytest.raises(ValueError, match="eta"):
        gd.gradient_descent(grad, [1.0], 0.0, 5)
    with pytest.raises(ValueError, match="eta"):
        gd.gradient_descent(grad, [1.0], -0.1, 5)
    with pytest.raises(ValueError, match="eta"):
        gd.gradient_descent(grad, [1.0], float("nan"), 5)
    with pytest.raises(TypeError, match="K"):
        gd.gradient_descent(grad, [1.0], 0.1, 2.5)
    with pytest.raises(ValueError, match="K"):
        gd.gradient_descent(grad, [1.0], 0.1, -1)
    with pytest.raises(TypeError, match="theta0"):
        gd.gradient_descent(grad, "abc", 0.1, 5)
    with pytest.raises(ValueError, match="theta0"):
        gd.gradient_descent(grad, [1.0, np.inf], 0.1, 5)
    with pytest.raises(ValueError, match=r"grad\(theta\) of shape \(2,\)"):
        gd.gradient_descent(lambda t: np.zeros(3), [1.0, 2.0], 0.1, 5)
    with pytest.raises(ValueError, match="eta_1"):
        gd.gradient_descent(grad, [1.0], lambda k: 0.1 if k == 0 else -0.1, 5)


def test_snn_risk_rejects_bad_input():
    X, y, _ = teacher_data()
    with pytest.raises(ValueError, match=r"expected X of shape \(n, n\)|expected X of shape"):
        gd.SNNRisk(X[:, 0], y, M=3)
    with pytest.raises(ValueError, match=r"expected y of shape \(60,\)"):
        gd.SNNRisk(X, y[:10], M=3)
    with pytest.raises(ValueError, match="loss"):
        gd.SNNRisk(X, y, M=3, loss="hinge")
    with pytest.raises(ValueError, match="activation"):
        gd.SNNRisk(X, y, M=3, activation="swish")
    with pytest.raises(ValueError, match=r"labels y in \{0, 1\}"):
        gd.SNNRisk(X, y, M=3, loss="cross_entropy")
    with pytest.raises(ValueError, match="M"):
        gd.SNNRisk(X, y, M=0)
    R = gd.SNNRisk(X, y, M=3)
    with pytest.raises(ValueError, match=r"theta of shape \(12,\)"):
        R(np.zeros(11))
    with pytest.raises(ValueError, match=r"theta of shape \(12,\)"):
        R.grad(np.zeros((12, 1)))
    with pytest.raises(ValueError, match=r"theta of shape \(12,\)"):
        gd.unpack(np.zeros(13), d=2, M=3)


def test_other_functions_reject_bad_input():
    with pytest.raises(ValueError, match="kappa"):
        gd.quadratic_2d(kappa=0.5)
    with pytest.raises(ValueError, match="more than tail"):
        gd.measured_rate([1.0, 0.5], tail=5)
    with pytest.raises(ValueError, match="positive, finite"):
        gd.measured_rate([1.0, 0.5, 0.0, 0.0], tail=2)
    with pytest.raises(ValueError, match=r"lambdas in \[0, 1\]"):
        gd.chord_gaps(lambda t: float(t @ t), np.zeros(2), np.ones(2), [0.5, 1.5])
    with pytest.raises(ValueError, match="theta_prime"):
        gd.chord_gaps(lambda t: float(t @ t), np.zeros(2), np.ones(3), [0.5])
    with pytest.raises(ValueError, match="increasing grid"):
        gd.grid_minima(np.cos, [0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="k >= 1"):
        gd.convex_bound(np.arange(3), 1.0, 1.0)
    with pytest.raises(ValueError, match=r"y of shape \(3,\)"):
        gd.SineRegression([1.0, 2.0, 3.0], [1.0, 2.0])
