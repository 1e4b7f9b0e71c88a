"""Transforms: interpreters of traced programs (reverse mode, and more to come)."""
