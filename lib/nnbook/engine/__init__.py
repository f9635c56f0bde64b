"""The from-scratch NumPy engine: what students study, reused across chapters.

Reference versions only, written to be read: automatic differentiation (``autodiff``,
``tensor``, ``forward_mode``), activations, losses, initialisers, layers, the MLP and the
shallow network, optimisers, and gradient checks. The engine imports neither torch nor
matplotlib nor any chapter code.
"""
