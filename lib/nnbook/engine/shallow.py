"""The shallow (single-hidden-layer) network of the lecture, in NumPy.

    hidden layer   h_m(X) = sigma(w_m^T X + b_m),            m = 1, ..., M
    output layer   f(X)   = sum_{m=1}^M beta_m h_m(X)          (output bias b_0 = 0)

with parameters theta = {w_m in R^d, b_m in R, beta_m in R}: (d + 2) M numbers in all.
Inputs are arrays of shape ``(n_samples, d)``; outputs have shape ``(n_samples,)``.

* :func:`least_squares_beta` fits the output weights beta for fixed hidden features.
* :func:`random_features_fit` fixes (w_m, b_m) at random (:func:`random_hidden_weights`)
  and fits beta by least squares: a model in the *linear* hypothesis space H_linear.
  (Training all of theta, in H_SNN,M, is :func:`nnbook.pytorch.shallow.train_shallow`.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._util import as_array, as_rng, one_of, positive_float, positive_int
from . import activations as _act

Array = np.ndarray


def n_parameters(d: int, M: int) -> int:
    """Number of parameters of a shallow network, (d + 2) M.

    Each of the M hidden units has d input weights w_mj, one bias b_m and one output
    weight beta_m (the output bias b_0 is set to zero, as in the lecture).
    """
    d = positive_int(d, "d")
    M = positive_int(M, "M")
    return (d + 2) * M


# --------------------------------------------------------------------------- the model


@dataclass
class ShallowNet:
    """A single-hidden-layer network f(X) = sum_m beta_m sigma(w_m^T X + b_m) (NumPy).

    ``w`` has shape ``(M, d)`` (row m is w_m), ``b`` shape ``(M,)``, ``beta`` shape ``(M,)``.
    ``activation`` names sigma (see :mod:`nnbook.engine.activations`). ``info`` holds optional
    notes from fitting (e.g. the final training loss); it does not affect predictions.
    """

    w: Array
    b: Array
    beta: Array
    activation: str = "relu"
    info: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.w = as_array(self.w, "w", ndim=2)
        M, d = self.w.shape
        if M < 1 or d < 1:
            raise ValueError(f"expected w of shape (M, d) with M, d >= 1, got {self.w.shape}")
        self.b = as_array(self.b, "b", shape=(M,))
        self.beta = as_array(self.beta, "beta", shape=(M,))
        self.activation = _act.get(self.activation).name

    @property
    def M(self) -> int:
        """Number of hidden units (the width)."""
        return self.w.shape[0]

    @property
    def d(self) -> int:
        """Input dimension."""
        return self.w.shape[1]

    def hidden(self, X) -> Array:
        """Hidden features h_m(X) = sigma(w_m^T X + b_m), shape ``(n_samples, M)``."""
        X = as_array(X, "X", shape=(None, self.d))
        sigma = _act.get(self.activation)
        return sigma(X @ self.w.T + self.b)

    def forward(self, X) -> Array:
        """Network output f(X) = sum_m beta_m h_m(X), shape ``(n_samples,)``."""
        return self.hidden(X) @ self.beta

    __call__ = forward
    predict = forward

    def parameters(self) -> list[Array]:
        """The parameters theta as a list ``[w, b, beta]`` (the arrays themselves, not copies)."""
        return [self.w, self.b, self.beta]

    @property
    def n_parameters(self) -> int:
        """Number of parameters, counted from the arrays (equals (d + 2) M)."""
        return sum(p.size for p in self.parameters())


def least_squares_beta(H, y, *, ridge: float = 0.0) -> Array:
    """Output weights minimising sum_i (y_i - sum_m beta_m H_im)^2 + ridge * ||beta||^2.

    ``H`` is the ``(n_samples, M)`` matrix of hidden features, ``y`` the ``(n_samples,)``
    targets. With ``ridge = 0`` this is the minimum-norm least-squares solution.
    """
    H = as_array(H, "H", ndim=2)
    y = as_array(y, "y", shape=(H.shape[0],))
    ridge = positive_float(ridge, "ridge", allow_zero=True)
    if ridge > 0:
        M = H.shape[1]
        A = np.vstack([H, np.sqrt(ridge) * np.eye(M)])
        y = np.concatenate([y, np.zeros(M)])
        H = A
    beta, *_ = np.linalg.lstsq(H, y, rcond=None)
    return beta


# --------------------------------------------------------------------------- random features


def random_hidden_weights(
    d: int, M: int, rng=None, *, scale: float = 1.0, spread: str = "random"
) -> tuple[Array, Array]:
    """Draw hidden weights w_m = s u_m and biases b_m = -w_m^T c_m, m = 1, ..., M.

    u_m is a random unit direction in R^d (a random sign when d = 1), s = ``scale`` sets
    how steep each unit is, and c_m is a point of [0, 1]^d where unit m switches on
    (the kink of a ReLU, the midpoint of a sigmoid). With ``spread="random"`` the c_m are
    uniform in the cube; with ``spread="even"`` they are spread evenly: the midpoints
    (m - 1/2)/M of [0, 1] when d = 1, the first M points of the Halton sequence otherwise.
    ``rng`` is a NumPy Generator or an int seed. Returns ``(w, b)`` of shapes ``(M, d)``
    and ``(M,)``.
    """
    d, M = positive_int(d, "d"), positive_int(M, "M")
    scale = positive_float(scale, "scale")
    one_of(spread, "spread", ["random", "even"])
    rng = as_rng(rng)
    u = rng.standard_normal((M, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    if spread == "even" and d == 1:
        c = ((np.arange(M) + 0.5) / M)[:, None]
    elif spread == "even":
        from scipy.stats import qmc

        c = qmc.Halton(d, scramble=False).random(M + 1)[1:]  # skip the corner point 0
    else:
        c = rng.uniform(0.0, 1.0, size=(M, d))
    w = scale * u
    return w, -np.sum(w * c, axis=1)


def default_scale(activation: str, M: int, d: int = 1) -> float:
    """Steepness s of the random features when none is given.

    ReLU-like units do not need one (a ReLU's slope is absorbed by beta), so s = 1. A
    sigmoid switches from 0 to 1 over a width of about 4/s; with M units spread over
    [0, 1]^d, about M^(-1/d) apart, s = M^(1/d) lets each transition overlap a few
    neighbours, which fits smoothly and trains well. tanh(z) = 2 sigmoid(2z) - 1 is twice
    as steep, so it gets half that s.
    """
    name = _act.get(activation).name
    M, d = positive_int(M, "M"), positive_int(d, "d")
    if name == "sigmoid":
        return float(M ** (1.0 / d))
    if name == "tanh":
        return 0.5 * M ** (1.0 / d)
    return 1.0


def random_features_fit(
    x,
    y,
    M: int,
    activation: str = "relu",
    rng=None,
    *,
    scale: float | None = None,
    spread: str = "random",
    ridge: float = 1e-8,
) -> ShallowNet:
    """Fit f in H_linear: fixed random (w_m, b_m), beta by least squares.

    The hidden weights come from :func:`random_hidden_weights` and are never changed;
    only beta is fitted, by solving the linear least-squares problem
    min_beta sum_i (y_i - sum_m beta_m sigma(w_m^T x_i + b_m))^2. ``x`` has shape
    ``(n_samples, d)``, ``y`` shape ``(n_samples,)``. A tiny ``ridge`` keeps beta finite
    when two random features almost coincide (their difference would otherwise get a huge
    weight that fits the data points but spikes between them).
    """
    x, y = check_xy(x, y)
    sigma = _act.get(activation)
    M = positive_int(M, "M")
    scale = default_scale(sigma.name, M, x.shape[1]) if scale is None else scale
    w, b = random_hidden_weights(x.shape[1], M, rng, scale=scale, spread=spread)
    H = sigma(x @ w.T + b)
    beta = least_squares_beta(H, y, ridge=ridge)
    mse = float(np.mean((H @ beta - y) ** 2))
    return ShallowNet(w, b, beta, sigma.name, {"train_mse": mse, "method": "random features"})


def check_xy(x, y) -> tuple[Array, Array]:
    """Training data as arrays: ``x`` of shape ``(n_samples, d)`` with n_samples >= 1 and
    ``y`` of shape ``(n_samples,)``, both finite."""
    x = as_array(x, "x", ndim=2)
    y = as_array(y, "y", shape=(x.shape[0],))
    if x.shape[0] < 1:
        raise ValueError("expected at least one sample in x, got 0")
    return x, y


__all__ = [
    "ShallowNet",
    "n_parameters",
    "least_squares_beta",
    "random_hidden_weights",
    "default_scale",
    "random_features_fit",
    "check_xy",
]
