"""The PyTorch stack, used from Chapter 6 on: conversion, the MLP, a short ``fit``,
augmentation and random restarts."""
