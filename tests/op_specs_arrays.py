"""Rows of the operation table for array manipulation, cumulative operations, sorting and statistics.

See ``op_specs.py`` for how the table is used and ``op_spec_tools.py`` for ``OpSpec``.
"""

from __future__ import annotations

from tests.op_spec_tools import OpSpec

SPECS: list[OpSpec] = []
