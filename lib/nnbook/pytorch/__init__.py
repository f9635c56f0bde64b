"""The PyTorch stack, used from Chapter 6 on: conversion (one activation table, one optimiser
registry), the MLP, a short ``fit`` with early stopping, augmentation, random restarts, and the
choice of device (CPU, CUDA or MPS)."""
