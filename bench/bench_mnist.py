"""Benchmark: the four models of Chapter 7's MNIST table on data of the full MNIST size.

Generates a seeded random 60,000 x 784 training set and a 10,000 x 784 test set (uint8
pixels 0..255, random labels 0..9; the errors are meaningless, only the times count) and
runs :func:`nnbook.chapters.ch07_mnist.run_table` with its defaults -- the code path the chapter
runs on the real data. Budget: all four models in at most 3 minutes on 2 CPU cores.

    python bench/bench_mnist.py [--threads N] [--epochs E]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from nnbook._util import limit_threads
from nnbook.chapters.ch07_mnist import MODELS, run_table
from nnbook.data import Dataset

BUDGET_SECONDS = 180.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch/BLAS threads (default 2)")
    parser.add_argument(
        "--epochs", type=int, default=None, help="epochs (default: run_table's default)"
    )
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    data = Dataset(
        rng.integers(0, 256, size=(60_000, 784), dtype=np.uint8),
        rng.integers(0, 10, size=60_000),
        rng.integers(0, 256, size=(10_000, 784), dtype=np.uint8),
        rng.integers(0, 10, size=10_000),
        source="random-full-size",
    )
    kwargs = {} if args.epochs is None else {"epochs": args.epochs}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    t0 = time.perf_counter()
    with limit_threads(args.threads):
        table = run_table(data, **kwargs)
    total = time.perf_counter() - t0
    print(
        f"bench_mnist: run_table on {data.X_train.shape[0]:,} x 784 train / "
        f"{data.X_test.shape[0]:,} test (random data), threads={args.threads}, "
        f"device={table.settings['device']}, epochs={table.settings['epochs']}, "
        f"load avg before {load:.1f}"
    )
    for key in MODELS:
        r = table[key]
        print(f"  {r.method:<42} {r.seconds:7.1f} s")
    status = "OK" if total <= BUDGET_SECONDS else "OVER BUDGET"
    print(f"  {'total':<42} {total:7.1f} s   (budget {BUDGET_SECONDS:.0f} s: {status})")
    return 0 if total <= BUDGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
