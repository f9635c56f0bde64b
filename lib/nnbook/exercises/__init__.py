"""Immediate feedback for the exercises: the check framework and one module per exercise."""
