"""Rows of the operation table for elementwise and scalar mathematics (issue: the whole differentiable NumPy).

See ``op_specs.py`` for how the table is used and ``op_spec_tools.py`` for ``OpSpec``.
"""

from __future__ import annotations

from tests.op_spec_tools import OpSpec

SPECS: list[OpSpec] = []
