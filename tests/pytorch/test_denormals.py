"""nnbook.pytorch makes PyTorch flush denormal floats (see its __init__ and BENCHMARKS.md)."""

import torch

import nnbook.pytorch  # noqa: F401  (the import sets it)


def test_denormal_floats_are_computed_as_zero():
    tiny = torch.tensor([1e-39, 1e-30], dtype=torch.float32)  # 1e-39 is a float32 denormal
    assert (tiny * 1.0).tolist() == [0.0, torch.tensor(1e-30).item()]
