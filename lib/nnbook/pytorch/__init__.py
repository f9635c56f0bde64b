"""The PyTorch stack, used from Chapter 6 on: conversion (one activation table, one optimiser
registry), the MLP, a short ``fit`` with early stopping, augmentation, random restarts, and the
choice of device (CPU, CUDA or MPS)."""

import torch

# Denormal floats (nonzero magnitudes below 1.2e-38 in float32) are computed as zero, on CPUs
# that support it. Under a ridge penalty the weights of an always-blank MNIST pixel have no
# gradient but the penalty's and decay into that range, where a CPU computes many times slower:
# Chapter 7's ridge network took 1.9 s an epoch after 11 epochs, and 4 s with lambda = 0.03,
# instead of 1.1 s (full-size data, 2 threads; bench/bench_mnist.py). Set at import, before
# PyTorch starts its worker threads, which inherit the setting (set later, it reaches only the
# calling thread). It is a setting of the process's floating-point unit, so NumPy's arithmetic in
# those threads flushes too: only magnitudes below 1.2e-38 (float32) or 2.2e-308 (float64) are
# affected. Every number the book prints was the same with and without it. (hypothesis refuses
# float strategies that include subnormals in such a process: use allow_subnormal=False.)
torch.set_flush_denormal(True)
