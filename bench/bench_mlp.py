"""Benchmark: one training epoch of the plain NumPy engine against PyTorch, interleaved.

What is timed (both trainers see the same data, weights and batch order, in float32):

* **NumPy**: ``nnbook.engine.optim.train_epoch`` with ``MLP([784, 256, 128, 10])``,
  softmax cross-entropy and ``SGD(lr=0.01)``: exactly the code Chapters 4 and 5 show
  (``train_epoch``, ``train_step``, ``Linear.forward/backward``,
  ``Activation.forward/backward``, ``MLP.backward``), input checks included;
* **PyTorch**: the same network (``mlp_to_torch``), ``nn.CrossEntropyLoss`` and
  ``torch.optim.SGD``, the usual ``zero_grad(); loss.backward(); step()`` loop;

on 60,000 x 784 generated inputs, B = 128 (469 updates per epoch).

How (robust on a busy, shared machine): each trainer lives in its own warm worker process
(one epoch of warm-up first), and the two are asked for one epoch in turn, A B A B ...,
``--pairs`` times; while one works, the other waits. Each epoch is timed in wall-clock
time and in the CPU time of its process (on one thread, CPU time hardly changes when other
programs compete for the cores). Reported: the median of the per-pair ratios NumPy /
PyTorch with their minimum and maximum, the GFLOP/s of NumPy's float32 GEMM (peak,
2048^3), the share of that peak the NumPy epoch reaches, and the roofline: the time the
epoch's eight matrix products per update alone take at their shapes (timed in the NumPy
worker, in the same rounds). The load average is printed before and after.

Run with ``make bench`` or ``python bench/bench_mlp.py [--threads 1] [--pairs 7]`` (one
thread per trainer by default: the comparison of the code, not of the thread pools);
copy the printed block into BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

SIZES = [784, 256, 128, 10]
LR = 0.01


# ---------------------------------------------------------------------------- the workers


def make_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.random((n, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], size=n)
    return X, y


def numpy_trainer(X: np.ndarray, y: np.ndarray, B: int):
    from nnbook.engine.mlp import MLP
    from nnbook.engine.optim import SGD, train_epoch

    model = MLP(SIZES, rng=0, dtype=np.float32)
    opt = SGD(model.parameters(), lr=LR)

    def epoch(seed: int) -> None:
        train_epoch(model, "cross_entropy", opt, X, y, B, np.random.default_rng(seed))

    return epoch


def torch_trainer(X: np.ndarray, y: np.ndarray, B: int):
    import torch

    from nnbook.engine.mlp import MLP
    from nnbook.engine.optim import minibatches
    from nnbook.pytorch.convert import mlp_to_torch

    model = mlp_to_torch(MLP(SIZES, rng=0, dtype=np.float32))  # the same initial weights
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def epoch(seed: int) -> None:
        model.train()
        for idx in minibatches(len(X), B, np.random.default_rng(seed)):
            i = torch.from_numpy(idx)
            opt.zero_grad()
            loss(model(Xt[i]), yt[i]).backward()
            opt.step()

    return epoch


def batch_sizes(n: int, B: int) -> list[int]:
    return [min(B, n - start) for start in range(0, n, B)]


def matmul_operands(b: int, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """The eight products of one update with batch b, as ``Linear`` computes them:
    forward F @ W^T per layer, backward G^T @ F per layer and G @ W for all but the first."""
    d = SIZES

    def a(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32)

    F = [a(b, d[i]) for i in range(3)]  # the input of each layer
    W = [a(d[i + 1], d[i]) for i in range(3)]
    G = [a(b, d[i + 1]) for i in range(3)]  # dR/dZ of each layer
    pairs = [(F[i], W[i].T) for i in range(3)]
    pairs += [(G[i].T, F[i]) for i in (2, 1, 0)]
    pairs += [(G[i], W[i]) for i in (2, 1)]
    return pairs


def roofline_epoch(n: int, B: int):
    """Run the matrix products of one epoch (and nothing else)."""
    rng = np.random.default_rng(1)
    sizes = batch_sizes(n, B)
    operands = {b: matmul_operands(b, rng) for b in set(sizes)}

    def epoch(_: int) -> None:
        for b in sizes:
            for x, w in operands[b]:
                x @ w

    return epoch


def gemm_gflops(n: int = 2048, repeats: int = 5) -> dict[str, float]:
    """NumPy's float32 GEMM throughput in GFLOP/s, best of ``repeats``, in wall-clock
    time (``value``) and in the CPU time of this process (``cpu``)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    wall, cpu = np.inf, np.inf
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        a @ b
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return {"value": 2 * n**3 / wall / 1e9, "cpu": 2 * n**3 / cpu / 1e9}


def worker(kind: str, args: argparse.Namespace) -> None:
    """Serve requests on stdin, one per line: 'epoch SEED', 'roofline', 'peak', 'quit'."""
    from nnbook._util import limit_threads

    with limit_threads(args.threads):
        X, y = make_data(args.n)
        epoch = (numpy_trainer if kind == "numpy" else torch_trainer)(X, y, args.batch)
        roofline = roofline_epoch(args.n, args.batch) if kind == "numpy" else None
        epoch(10**6)  # warm-up: allocations, caches, thread pools
        if roofline:
            roofline(0)
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            request = line.split()
            if request[0] == "quit":
                return
            if request[0] == "peak":
                print(json.dumps(gemm_gflops()), flush=True)
                continue
            fn = epoch if request[0] == "epoch" else roofline
            wall, cpu = time.perf_counter(), time.process_time()
            fn(int(request[1]) if len(request) > 1 else 0)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(json.dumps({"value": wall, "cpu": cpu}), flush=True)


# ---------------------------------------------------------------------------- the parent


class Worker:
    def __init__(self, kind: str, args: argparse.Namespace) -> None:
        cmd = [sys.executable, __file__, "--worker", kind, "--n", str(args.n)]
        cmd += ["--batch", str(args.batch), "--threads", str(args.threads)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.proc.args} exited with {self.proc.wait()}")
        return json.loads(line)

    def ask(self, request: str) -> dict:
        self.proc.stdin.write(request + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait()


def epoch_gflop(n: int, B: int) -> float:
    """Matrix-product GFLOP per epoch: 2 b d_l d_{l+1} per layer forward, twice that
    backward, less the first layer's input gradient (nobody needs dR/dX)."""
    per_sample = sum(a * b for a, b in zip(SIZES[:-1], SIZES[1:]))
    return 2 * n * (3 * per_sample - SIZES[0] * SIZES[1]) / 1e9


def machine(threads: int) -> list[str]:
    import torch
    from threadpoolctl import threadpool_info

    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = "; ".join(
        f"{i['internal_api']} {i.get('version', '')} ({i.get('architecture', '')})"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    )
    return [
        f"- machine: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}",
        f"- numpy {np.__version__} with {blas}; torch {torch.__version__} "
        f"({'MKL' if torch.backends.mkl.is_available() else 'its own'} BLAS)",
        f"- threads per trainer: {threads} (BLAS through threadpoolctl, torch.set_num_threads)",
    ]


def share(gflop: float, seconds: float, peak: float) -> str:
    """The share of ``peak`` GFLOP/s reached by ``gflop`` GFLOP in ``seconds``."""
    return f"{100 * gflop / seconds / peak:.0f} %"


def median_ratio(ratios: list[float]) -> str:
    return f"{statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=60_000, help="training samples (60,000)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--pairs", type=int, default=7, help="A B rounds (at least 5)")
    parser.add_argument("--threads", type=int, default=1, help="threads for each trainer")
    parser.add_argument("--worker", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args)
        return

    load_before = os.getloadavg()
    numpy_w, torch_w = Worker("numpy", args), Worker("torch", args)
    peaks = [numpy_w.ask("peak")]
    rows = []
    for r in range(args.pairs):
        t_np, t_torch = numpy_w.ask(f"epoch {r}"), torch_w.ask(f"epoch {r}")
        rows.append((t_np, t_torch, numpy_w.ask("roofline")))
    peaks.append(numpy_w.ask("peak"))
    numpy_w.close()
    torch_w.close()
    load_after = os.getloadavg()
    report(args, rows, peaks, load_before, load_after)


def report(args, rows, peaks, load_before, load_after) -> None:
    gflop = epoch_gflop(args.n, args.batch)
    wall = [(a["value"], b["value"], c["value"]) for a, b, c in rows]
    cpu = [(a["cpu"], b["cpu"], c["cpu"]) for a, b, c in rows]
    t_np, t_torch, t_roof = (statistics.median(col) for col in zip(*wall))
    peak, peak_cpu = max(p["value"] for p in peaks), max(p["cpu"] for p in peaks)
    np_cpu = statistics.median(c[0] for c in cpu)
    print(f"## bench_mlp, {time.strftime('%Y-%m-%d %H:%M')}")
    print("\n".join(machine(args.threads)))
    before, after = (", ".join(f"{x:.2f}" for x in load) for load in (load_before, load_after))
    print(f"- load average (1, 5, 15 min): before {before}; after {after}")
    updates = len(batch_sizes(args.n, args.batch))
    print(
        f"- {args.n:,} x {SIZES[0]} float32, B = {args.batch}, {updates} updates, "
        f"{'-'.join(map(str, SIZES))}: {gflop:.1f} GFLOP of matrix products per epoch"
    )
    print("- wall-clock seconds; CPU seconds of the worker process in brackets\n")
    print("| round | NumPy epoch | PyTorch epoch | ratio | matrix products alone |")
    print("| --- | --- | --- | --- | --- |")
    for i, ((a, b, c), (ca, cb, cc)) in enumerate(zip(wall, cpu), 1):
        print(
            f"| {i} | {a:.3f} [{ca:.3f}] | {b:.3f} [{cb:.3f}] | {a / b:.2f} [{ca / cb:.2f}] "
            f"| {c:.3f} [{cc:.3f}] |"
        )
    ratios, cpu_ratios = [a / b for a, b, _ in wall], [a / b for a, b, _ in cpu]
    rows_out = [
        (f"NumPy / PyTorch epoch time, median of {len(rows)} pairs", median_ratio(ratios)),
        ("the same in CPU time", median_ratio(cpu_ratios)),
        ("NumPy epoch, median", f"{t_np:.3f} s ({gflop / t_np:.1f} GFLOP/s)"),
        ("PyTorch epoch, median", f"{t_torch:.3f} s ({gflop / t_torch:.1f} GFLOP/s)"),
        ("roofline: the products alone", f"{t_roof:.3f} s ({gflop / t_roof:.1f} GFLOP/s)"),
        ("NumPy float32 GEMM peak, 2048^3", f"{peak:.1f} GFLOP/s [{peak_cpu:.1f}]"),
        (
            "NumPy epoch / GEMM peak",
            f"{share(gflop, t_np, peak)} [{share(gflop, np_cpu, peak_cpu)}]",
        ),
        ("roofline / NumPy epoch", f"{100 * t_roof / t_np:.0f} %"),
        ("goal: median ratio <= 1.0", "met" if statistics.median(ratios) <= 1.0 else "NOT met"),
    ]
    print("\n| measure | value |\n| --- | --- |")
    for name, value in rows_out:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
