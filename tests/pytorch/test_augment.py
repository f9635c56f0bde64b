"""Tests for nnbook.pytorch.augment: perturb the inputs, keep the labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnbook.pytorch import augment


@pytest.mark.parametrize(
    "aug",
    [
        augment.gaussian_noise(0.3),
        augment.random_shift(2),
        augment.compose(augment.random_shift(1), augment.gaussian_noise(0.1)),
    ],
)
@pytest.mark.parametrize("shape", [(6, 784), (6, 28, 28), (6, 1, 28, 28)])
def test_augmentations_keep_shape_and_type(aug, shape):
    x = np.random.default_rng(0).uniform(size=shape).astype(np.float32)
    out = aug(x)
    assert isinstance(out, np.ndarray) and out.shape == shape
    out_t = aug(torch.from_numpy(x))
    assert isinstance(out_t, torch.Tensor) and out_t.shape == shape and out_t.dtype == torch.float32


@pytest.mark.parametrize(
    "make",
    [lambda s: augment.gaussian_noise(0.3, seed=s), lambda s: augment.random_shift(2, seed=s)],
)
def test_augmentations_are_seeded(make):
    x = np.random.default_rng(0).uniform(size=(8, 784))
    a, b, c = make(0), make(0), make(1)
    a1, a2 = a(x), a(x)
    np.testing.assert_array_equal(a1, b(x))  # same seed, same sequence
    np.testing.assert_array_equal(a2, b(x))
    assert not np.array_equal(a1, a2)  # a fresh draw each call
    assert not np.array_equal(a1, c(x))  # another seed, another draw
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    np.testing.assert_array_equal(
        a(x, generator=g1), c(x, generator=g2)
    )  # an explicit generator wins


def test_gaussian_noise_has_the_right_distribution():
    x = np.zeros((400, 784))
    eps = augment.gaussian_noise(0.25, seed=0)(x)
    assert abs(eps.mean()) < 0.002
    assert eps.std() == pytest.approx(0.25, rel=0.01)


def test_random_shift_moves_a_pixel_with_zero_fill():
    n, s = 500, 2
    img = np.zeros((n, 28, 28))
    img[:, 14, 10] = 1.0
    out = augment.random_shift(s, seed=0)(img.reshape(n, 784)).reshape(n, 28, 28)
    offsets = set()
    for k in range(n):
        (r,), (c,) = np.nonzero(out[k])
        assert out[k].sum() == 1.0  # interior pixel: nothing lost, nothing else appears
        dy, dx = r - 14, c - 10
        assert abs(dy) <= s and abs(dx) <= s
        offsets.add((dy, dx))
    assert len(offsets) == (2 * s + 1) ** 2  # every shift occurs

    # zero fill, not wrap-around: a full image loses exactly |dy| rows and |dx| columns
    ones = np.ones((n, 28, 28))
    shifted = augment.random_shift(s, seed=1)(ones)
    for k in range(n):
        rows_kept = int(shifted[k].any(axis=1).sum())
        cols_kept = int(shifted[k].any(axis=0).sum())
        assert shifted[k].sum() == rows_kept * cols_kept
        assert rows_kept >= 28 - s and cols_kept >= 28 - s


def test_random_shift_matches_an_independent_shift():
    """For each sample, recover (dy, dx) from a marker pixel and compare with a numpy shift."""
    rng = np.random.default_rng(0)
    n, s = 50, 3
    img = rng.uniform(size=(n, 28, 28))
    img[:, 14, 14] = 10.0  # marker, away from the borders
    out = augment.random_shift(s, seed=2)(img)
    for k in range(n):
        r, c = np.unravel_index(np.argmax(out[k]), (28, 28))
        dy, dx = r - 14, c - 14
        padded = np.pad(img[k], s)
        want = padded[s - dy : s - dy + 28, s - dx : s - dx + 28]
        np.testing.assert_array_equal(out[k], want)


def test_random_shift_rejects_non_images():
    with pytest.raises(ValueError, match=r"\(n, 784\)"):
        augment.random_shift(2)(np.zeros((3, 100)))
