"""Benchmark: Chapter 7's MNIST table, rerun, on data of the full MNIST size.

Chapter 7 downloads the full MNIST (60,000 + 10,000 images) when the network allows and
then runs :func:`nnbook.chapters.ch07_mnist.run_table` on it. Without the network we cannot
time that run on the real images, so this benchmark generates data of the same size that
trains like digits: the 5,000 real digits of the offline subset, each copied with random
shifts of up to 2 pixels (15 copies of each of the 4,000 training digits, 10 of each of the
1,000 test digits). Early stopping then decides the number of epochs as it would on real
digits, and every model of the table is trained for real. Budget: the whole table (six
methods, 14 trainings with the validation grids) in at most 6 minutes on 2 CPU cores, an idle
machine (the load average is printed); what a student waits for on Colab's 2 cores.

    python bench/bench_mnist.py [--threads N]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from nnbook._util import limit_threads
from nnbook.chapters.ch07_mnist import run_table
from nnbook.data import Dataset, load_mnist_subset
from nnbook.pytorch.augment import random_shift

BUDGET_SECONDS = 360.0  # was 180 s for the four untuned models; see BENCHMARKS.md


def shifted_copies(X: np.ndarray, copies: int, seed: int) -> np.ndarray:
    """``copies`` randomly shifted versions of every image of ``X`` (uint8, (n, 784))."""
    shift = random_shift(2, seed=seed)
    X = X.astype(np.float32) / 255
    return np.concatenate([np.rint(255 * shift(X)).astype(np.uint8) for _ in range(copies)])


def full_size_digits() -> Dataset:
    """60,000 training and 10,000 test images made from the 5,000-digit subset."""
    subset = load_mnist_subset()
    return Dataset(
        shifted_copies(subset.X_train, 15, seed=0),
        np.tile(subset.y_train, 15),
        shifted_copies(subset.X_test, 10, seed=1),
        np.tile(subset.y_test, 10),
        source="shifted-subset-full-size",
    )


def _load() -> float:
    """The one-minute load average (NaN where the system has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch/BLAS threads (default 2)")
    args = parser.parse_args()

    data = full_size_digits()
    load = _load()
    t0, cpu0 = time.perf_counter(), time.process_time()
    with limit_threads(args.threads):
        table = run_table(data)
    total, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(
        f"bench_mnist: run_table on {data.n_train:,} train / {data.n_test:,} test "
        f"(shifted copies of the real subset), threads={args.threads}, "
        f"device={table.settings['device']}, load average before {load:.1f}"
    )
    for r in table:
        epochs = [c.history.epochs for c in r.candidates if c.history is not None]
        print(
            f"  {r.method:<42} {r.seconds:7.1f} s   candidates {len(r.candidates)}, "
            f"epochs run {epochs}, test error {r.test_error:.3f}"
        )
    status = "OK" if total <= BUDGET_SECONDS else "OVER BUDGET"
    print(f"  {'total':<42} {total:7.1f} s   (budget {BUDGET_SECONDS:.0f} s: {status})")
    print(f"  {'CPU time of this process':<42} {cpu:7.1f} s   (load average after {_load():.1f})")
    return 0 if total <= BUDGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
