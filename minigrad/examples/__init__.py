"""Runnable examples: ``python -m minigrad.examples.NAME``."""
