"""Tests of nnbook.data.synthetic: the target functions f* on [0, 1]^d and the spirals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnbook.data import TARGETS, Target, make_spirals


def test_the_targets_have_their_formulas_values():
    """Values at chosen points, from the formulas worked out by hand with math."""
    wiggle, bump = TARGETS["wiggle"], TARGETS["bump2d"]
    x = np.array([[0.0], [0.25], [0.6], [1.0]])
    expected = [0.3, 1.0 + 0.175, math.sin(1.2 * math.pi), 0.2]
    np.testing.assert_allclose(wiggle(x), expected, atol=1e-15)
    X = np.array([[0.35, 0.6], [0.0, 0.0], [1.0, 1.0]])
    peak = 1.0 + 0.5 * math.sin(0.35 * math.pi) * 0.6
    far = math.exp(-(0.65**2 + 0.4**2) / 0.05)
    np.testing.assert_allclose(bump(X), [peak, math.exp(-(0.35**2 + 0.6**2) / 0.05), far])
    assert wiggle.d == 1 and bump.d == 2 and "0.6" in wiggle.formula and "0.05" in bump.formula


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_targets_are_continuous_on_the_cube(name):
    """|f(x) - f(x')| <= L |x - x'|_1 with L = 2 pi + 1/2 (wiggle) or 1/0.05 + 1 (bump2d)."""
    t = TARGETS[name]
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (2000, t.d))
    step = 1e-6 * rng.standard_normal((2000, t.d))
    Xs = np.clip(X + step, 0, 1)
    lipschitz = 2 * np.pi + 0.5 if t.d == 1 else 25.0
    assert np.all(np.abs(t(Xs) - t(X)) <= lipschitz * np.abs(Xs - X).sum(axis=1) + 1e-14)
    assert t(X).shape == (2000,) and np.all(np.isfinite(t(X)))


def test_a_target_checks_its_input():
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 2\)"):
        TARGETS["bump2d"](np.ones((5, 1)))
    with pytest.raises(ValueError, match="finite"):
        TARGETS["wiggle"](np.array([[np.nan]]))
    square = Target("square", 1, lambda X: X[:, 0] ** 2, "x^2")
    assert square(np.array([[3.0]]))[0] == 9.0


def test_spirals():
    X, y = make_spirals(50, K=3, noise=0.0, rng=0)
    assert X.shape == (150, 2) and np.array_equal(np.bincount(y), [50, 50, 50])
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r[:50], np.linspace(0, 1, 50), atol=1e-12)  # r (sin t, cos t)
    X1, _ = make_spirals(50, K=3, noise=0.3, rng=1)
    X2, _ = make_spirals(50, K=3, noise=0.3, rng=1)
    assert np.array_equal(X1, X2)
    with pytest.raises(ValueError, match="K"):
        make_spirals(10, K=1)
