"""Thread limits for the library's measuring and training helpers.

The book is tested with several notebook kernels at once on two cores. More BLAS/OpenMP
threads than cores slows small problems down by 10x or more, so helpers that train or time
small models run inside :func:`limit_threads`.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


@contextmanager
def limit_threads(n: int | None, *, torch_too: bool = True) -> Iterator[None]:
    """Limit NumPy's BLAS (through threadpoolctl, when installed) and, unless ``torch_too`` is
    False, PyTorch to ``n`` threads; restore both afterwards. ``n=None`` changes nothing."""
    if n is None:
        yield
        return
    old = None
    if torch_too:
        import torch

        old = torch.get_num_threads()
        torch.set_num_threads(n)
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
            yield
        else:
            with threadpool_limits(limits=n):
                yield
    finally:
        if old is not None:
            import torch

            torch.set_num_threads(old)
