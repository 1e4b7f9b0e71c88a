"""Runnable examples: ``python -m minigrad.examples.NAME``; ``python -m minigrad.examples`` lists them.

Besides the examples (``__main__.EXAMPLES``), the modules here are the pieces they share:
``flags``, ``training``, ``classifier``, ``plots``, ``progress`` and ``threads``.
"""
