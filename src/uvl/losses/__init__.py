"""Losses as pure functions: the formula in the docstring, shapes in comments, a test against a naive loop."""
