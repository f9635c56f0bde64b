"""Benchmark: the from-scratch NumPy MLP against PyTorch, one training epoch on MNIST-shaped data.

Setup (issue: "Chapters 2-5"): 60,000 x 784 float32 inputs, 10 classes, batch B = 128,
784-256-128-10 ReLU network, softmax cross-entropy, plain SGD. Both trainers see the same
data and the same batch order. Reported, from one run:

* the epoch time of each (best of ``--repeats`` epochs after one warm-up epoch);
* their ratio (goal: NumPy <= 0.5 x PyTorch);
* the achieved GFLOP/s against NumPy's own float32 matrix-multiply peak, measured in the
  same run (goal: >= 60 % of that peak).

The FLOP count is the matrix products only: 2*B*d_in*d_out per layer forward, twice that
backward, less the input gradient of the first layer (nobody needs dL/dx), as in
``nnbook.backprop.matmul_flops``. Run with ``make bench`` (or ``python bench/bench_mlp.py``)
on an otherwise idle machine; copy the printed block into BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
import torch
from threadpoolctl import threadpool_info

from nnbook.backprop import matmul_flops
from nnbook.losses import CrossEntropy
from nnbook.mlp import MLP
from nnbook.optim import SGD, minibatches

SIZES = [784, 256, 128, 10]


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def matmul_peak(n: int = 2048, repeats: int = 10) -> float:
    """NumPy's float32 GEMM throughput in GFLOP/s (best of ``repeats``)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=out)
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def numpy_epoch(X: np.ndarray, y: np.ndarray, B: int, order: list[np.ndarray], lr: float) -> float:
    model = MLP(SIZES, activation="relu", init="he", rng=0, dtype=np.float32)
    loss = CrossEntropy()
    opt = SGD(model.parameters(), lr=lr)

    def epoch() -> float:
        t = time.perf_counter()
        model.train()
        for idx in order:
            loss.forward(model.forward(X[idx]), y[idx])
            opt.zero_grad()
            model.backward(loss.backward())
            opt.step()
        return time.perf_counter() - t

    return epoch


def torch_epoch(X: np.ndarray, y: np.ndarray, B: int, order: list[np.ndarray], lr: float):
    torch.manual_seed(0)
    layers: list[torch.nn.Module] = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    idxs = [torch.from_numpy(i) for i in order]
    lossf = torch.nn.CrossEntropyLoss()

    def epoch() -> float:
        t = time.perf_counter()
        model.train()
        for idx in idxs:
            opt.zero_grad(set_to_none=True)
            lossf(model(Xt[idx]), yt[idx]).backward()
            opt.step()
        return time.perf_counter() - t

    return epoch


def best_of(epoch, repeats: int) -> float:
    epoch()  # warm-up
    return min(epoch() for _ in range(repeats))


def measure(what: str, args: argparse.Namespace) -> float:
    """One measurement, run in this process: 'peak' (GFLOP/s) or an epoch time in seconds."""
    if what == "peak":
        matmul_peak()  # warm up the BLAS threads and the clock
        return matmul_peak()
    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    X = rng.random((args.n, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], size=args.n).astype(np.int64)
    order = list(minibatches(args.n, args.batch, rng=1))
    make = numpy_epoch if what == "numpy" else torch_epoch
    return best_of(make(X, y, args.batch, order, 0.01), args.repeats)


def in_subprocess(what: str, args: argparse.Namespace) -> float:
    """Each trainer runs in a fresh process: in one process, PyTorch's and OpenBLAS's thread
    pools slow each other down, which would distort the comparison."""
    cmd = [
        sys.executable,
        __file__,
        "--only",
        what,
        "--n",
        str(args.n),
        "--batch",
        str(args.batch),
        "--repeats",
        str(args.repeats),
    ] + (["--threads", str(args.threads)] if args.threads else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return float(json.loads(out.strip().splitlines()[-1])["value"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=60_000, help="training samples (default 60,000)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's own)"
    )
    parser.add_argument("--only", choices=["peak", "numpy", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        print(json.dumps({"value": measure(args.only, args)}))
        return

    order = list(minibatches(args.n, args.batch, rng=1))
    flops = 0.0
    for idx in order:
        f = matmul_flops(SIZES, len(idx))
        flops += f["forward"] + f["backward"]

    peak = in_subprocess("peak", args)
    t_np = in_subprocess("numpy", args)
    t_torch = in_subprocess("torch", args)
    peak_after = in_subprocess("peak", args)

    blas = [
        f"{i['internal_api']} {i.get('version', '')} ({i['num_threads']} threads, {i.get('architecture', '')})"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    gflops_np, gflops_torch = flops / t_np / 1e9, flops / t_torch / 1e9
    ratio = t_np / t_torch
    frac = gflops_np / max(peak, peak_after)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"## bench_mlp — {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"- machine: {cpu_name()}, {os.cpu_count()} cores, load average {load:.2f} at the start")
    print("- each trainer and each peak measurement ran in its own process")
    print(
        f"- python {platform.python_version()}, numpy {np.__version__} ({'; '.join(blas)}), "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )
    print(
        f"- data: {args.n:,} x {SIZES[0]} float32, B = {args.batch}, {len(order)} updates per epoch, "
        f"network {'-'.join(map(str, SIZES))}, {flops / 1e9:.1f} GFLOP of matrix products per epoch"
    )
    print()
    print("| measure | value | goal |")
    print("| --- | --- | --- |")
    print(
        f"| NumPy float32 GEMM peak (2048^3, best of 10) | {max(peak, peak_after):.1f} GFLOP/s "
        f"(before {peak:.1f}, after {peak_after:.1f}) | |"
    )
    print(f"| NumPy trainer, epoch | {t_np:.3f} s ({gflops_np:.1f} GFLOP/s) | |")
    print(f"| PyTorch trainer, epoch | {t_torch:.3f} s ({gflops_torch:.1f} GFLOP/s) | |")
    print(
        f"| NumPy / PyTorch epoch time | {ratio:.2f} | <= 0.50: {'met' if ratio <= 0.5 else 'NOT met'} |"
    )
    print(
        f"| NumPy trainer / GEMM peak | {100 * frac:.0f} % | >= 60 %: {'met' if frac >= 0.6 else 'NOT met'} |"
    )


if __name__ == "__main__":
    main()
