"""Helpers used by one page of the book each; the module name says which page.

When a second page needs a helper, it moves to ``nnbook.engine`` or ``nnbook.pytorch``.
"""
