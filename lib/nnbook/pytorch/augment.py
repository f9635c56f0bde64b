"""Data augmentation for :func:`nnbook.pytorch.train.fit`: perturb the inputs, keep the labels.

Each augmentation creates a "cloud" around every training sample. For least squares,
Gaussian input noise is approximately ridge regression with lambda about N sigma^2.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.nn import functional as F

from .._util import positive_float, positive_int
from .inputs import _as_tensor, _check_seed


class Augmentation:
    """Base class of the augmentations: ``aug(X, generator=None)`` returns a perturbed copy of X.

    The labels are kept fixed; only the inputs move, creating a "cloud" around each sample.
    ``X`` may be a NumPy array or a tensor (the result has the same type and shape). Random
    numbers come from ``generator`` when given (:func:`fit` passes its own seeded one), else
    from the augmentation's own generator, seeded with ``seed`` when it was made: two
    augmentations made with the same seed produce the same sequence of perturbations.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = _check_seed(seed)
        self._generator = torch.Generator().manual_seed(self.seed)

    def __call__(self, X: Any, generator: torch.Generator | None = None) -> Any:
        is_numpy = not isinstance(X, torch.Tensor)
        t = _as_tensor(X, "X")
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
        if t.ndim < 2:
            raise ValueError(f"expected X of shape (n, d), got {tuple(t.shape)}")
        out = self._apply(t, generator if generator is not None else self._generator)
        return out.numpy() if is_numpy else out

    def _apply(self, X: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError


class GaussianNoise(Augmentation):
    """x -> x + epsilon, epsilon ~ N(0, sigma^2 I), drawn afresh for every sample and every call.

    For least squares this is approximately ridge regression with lambda about N sigma^2.
    """

    def __init__(self, sigma: float, seed: int = 0) -> None:
        super().__init__(seed)
        self.sigma = positive_float(sigma, "sigma", allow_zero=True)

    def _apply(self, X: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        noise = torch.randn(X.shape, generator=generator, dtype=X.dtype)
        return X + self.sigma * noise

    def __repr__(self) -> str:
        return f"gaussian_noise(sigma={self.sigma}, seed={self.seed})"


class RandomShift(Augmentation):
    """Shift each image by (dy, dx) pixels, dy, dx uniform in {-s, ..., s}, filling with zeros.

    ``out[r, c] = x[r - dy, c - dx]`` where that pixel exists and 0 otherwise (no wrap-around):
    the digit moves down by dy and right by dx. Images are ``height x width`` (28 x 28 for
    MNIST), given flattened as ``(n, height * width)`` or as ``(n, height, width)`` /
    ``(n, 1, height, width)``.
    """

    def __init__(
        self, max_shift: int = 2, image_shape: tuple[int, int] = (28, 28), seed: int = 0
    ) -> None:
        super().__init__(seed)
        self.max_shift = positive_int(max_shift, "max_shift", minimum=0)
        if not (isinstance(image_shape, Sequence) and len(image_shape) == 2):
            raise TypeError(f"expected image_shape to be (height, width), got {image_shape!r}")
        self.image_shape = (
            positive_int(image_shape[0], "height"),
            positive_int(image_shape[1], "width"),
        )

    def _apply(self, X: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        H, W = self.image_shape
        if math.prod(X.shape[1:]) != H * W:
            raise ValueError(
                f"expected X of shape (n, {H * W}) or (n, {H}, {W}) for {H} x {W} images, "
                f"got {tuple(X.shape)}"
            )
        n, s = X.shape[0], self.max_shift
        if s == 0:
            return X.clone()
        shifts = torch.randint(-s, s + 1, (n, 2), generator=generator)
        padded = F.pad(X.reshape(n, H, W), (s, s, s, s))  # zeros around each image
        # out[i, r, c] = padded[i, r - dy_i + s, c - dx_i + s]
        rows = (s - shifts[:, :1]) + torch.arange(H)  # (n, H)
        cols = (s - shifts[:, 1:]) + torch.arange(W)  # (n, W)
        out = padded[torch.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
        return out.reshape(X.shape)

    def __repr__(self) -> str:
        return (
            f"random_shift(max_shift={self.max_shift}, image_shape={self.image_shape}, "
            f"seed={self.seed})"
        )


class Compose(Augmentation):
    """Apply several augmentations one after the other (e.g. a shift, then noise)."""

    def __init__(self, *augmentations: Augmentation, seed: int = 0) -> None:
        super().__init__(seed)
        for a in augmentations:
            if not isinstance(a, Augmentation):
                raise TypeError(
                    f"expected nnbook.pytorch.train augmentations, got {type(a).__name__}"
                )
        self.augmentations = augmentations

    def _apply(self, X: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        for a in self.augmentations:
            X = a._apply(X, generator)
        return X

    def __repr__(self) -> str:
        return "compose(" + ", ".join(map(repr, self.augmentations)) + ")"


def gaussian_noise(sigma: float, *, seed: int = 0) -> GaussianNoise:
    """Augmentation x -> x + epsilon with epsilon ~ N(0, sigma^2 I); use as ``fit(augment=...)``."""
    return GaussianNoise(sigma, seed=seed)


def random_shift(
    max_shift: int = 2, *, image_shape: tuple[int, int] = (28, 28), seed: int = 0
) -> RandomShift:
    """Augmentation shifting each image by up to ``max_shift`` pixels each way, with zero fill.

    For 28 x 28 digits flattened to 784 by default. Use as ``fit(augment=random_shift(2))``.
    """
    return RandomShift(max_shift, image_shape=image_shape, seed=seed)


def compose(*augmentations: Augmentation, seed: int = 0) -> Compose:
    """Chain augmentations: ``compose(random_shift(2), gaussian_noise(0.1))``."""
    return Compose(*augmentations, seed=seed)


def _accepts_generator(fn: Callable) -> bool:
    if isinstance(fn, Augmentation):
        return True
    try:
        inspect.signature(fn).bind(None, generator=None)
    except (TypeError, ValueError):
        return False
    return True


__all__ = [
    "Augmentation",
    "GaussianNoise",
    "RandomShift",
    "Compose",
    "gaussian_noise",
    "random_shift",
    "compose",
]
