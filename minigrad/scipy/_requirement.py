"""SciPy is an optional dependency: one place imports it and explains what to do if
it is missing.

Example:
    >>> require_scipy("special").__name__
    'scipy.special'
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["SCIPY_MISSING", "require_scipy"]

SCIPY_MISSING = (
    "minigrad.scipy.{part} needs SciPy, which is not installed ({error}). SciPy computes the "
    "values of these functions; minigrad adds their derivatives. Install it with the extra:\n"
    "    pip install 'minigrad[scipy]'\n"
    "(or `pip install scipy`). The rest of minigrad works without it."
)


def require_scipy(part: str) -> ModuleType:
    """Import ``scipy.<part>``, or raise an ``ImportError`` that says how to install it."""
    try:
        return importlib.import_module(f"scipy.{part}")
    except ImportError as error:
        raise ImportError(SCIPY_MISSING.format(part=part, error=error)) from error
