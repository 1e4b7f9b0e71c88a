"""``debug_nans`` for programs on another library's arrays: blame the first primitive.

On NumPy arrays ``debug_nans`` runs a jitted program one primitive at a time. On
another library's arrays (torch, array-api-strict, Dask, a GPU) the program is compiled
again with a check after every equation that has floating-point results: the first
NaN or infinity made from finite operands raises a ``FloatingPointError`` that names
the primitive, its operand types, the library and the user's line that staged it, as
on NumPy. Each check reads one boolean back from the device (a Dask array is computed
up to that point), so this version is only compiled and run while the flag is on.

Example:
    >>> import numpy as np
    >>> check = EquationCheck(np, "log", "f64[2]", "example.py:3")
    >>> check([np.log(np.array([1.0, 2.0]))], [np.array([1.0, 2.0])])
    >>> check([np.array([np.nan])], [np.array([-1.0])])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FloatingPointError: debug_nans: log produced nan from finite inputs (f64[2]) on numpy arrays (at example.py:3). ...
"""

from __future__ import annotations

from minigrad.core.dtypes import is_float_dtype
from minigrad.core.errors import DEBUG_NANS_ADVICE
from minigrad.transforms.jit.array_api import library_name

__all__ = ["EquationCheck", "nan_check_source"]


def _all_finite(xp, value) -> bool:
    if not xp.isdtype(value.dtype, ("real floating", "complex floating")):
        return True
    return bool(xp.all(xp.isfinite(value)))


def _produced(xp, value) -> list[str]:
    """Which of nan, inf, -inf ``value`` holds (its real and imaginary parts for complex)."""
    parts = [xp.real(value), xp.imag(value)] if xp.isdtype(value.dtype, "complex floating") else [value]
    found = set()
    for part in parts:
        if bool(xp.any(xp.isnan(part))):
            found.add("nan")
        if bool(xp.any(part == float("inf"))):
            found.add("inf")
        if bool(xp.any(part == -float("inf"))):
            found.add("-inf")
    return sorted(found)


class EquationCheck:
    """The check after one equation: its results are finite, or its operands were not."""

    def __init__(self, xp, primitive_name: str, operand_types: str, source: str | None):
        self.xp, self.primitive_name = xp, primitive_name
        self.operand_types, self.source = operand_types, source

    def __call__(self, results, operands) -> None:
        xp = self.xp
        bad = [value for value in results if not _all_finite(xp, value)]
        if not bad or not all(_all_finite(xp, value) for value in operands):
            return
        produced = sorted({kind for value in bad for kind in _produced(xp, value)})
        where = f" (at {self.source})" if self.source else ""
        raise FloatingPointError(
            f"debug_nans: {self.primitive_name} produced {'/'.join(produced)} from finite inputs "
            f"({self.operand_types}) on {library_name(xp)} arrays{where}. {DEBUG_NANS_ADVICE}"
        )


def nan_check_source(ctx, eqn, args: list, outs: list) -> list[str]:
    """The statements checking ``eqn``'s results (none if it has no floating-point one)."""
    if not any(is_float_dtype(var.aval.dtype) for var in eqn.outvars):
        return []
    operand_types = ", ".join(str(atom.aval) for atom in eqn.invars)
    check = EquationCheck(ctx.xp_module, eqn.primitive.name, operand_types, eqn.source)
    name = ctx.constant(check, f"check_{eqn.primitive.name}")
    return [f"{name}([{', '.join(outs)}], [{', '.join(args)}])"]
