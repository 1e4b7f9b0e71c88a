"""Every row of the operation table, jitted on torch, array-api-strict and Dask arrays.

For each row (``transform_specs.ALL_SPECS``: the op table and the extra primitives) the
jitted function on another library's arrays must give NumPy's results within 1e-12 of
each result's largest entry, and so must the jitted gradient of its sum of squares
(a composition of ``jit``, ``grad`` and the row). A row whose primitive has no Array API
lowering on a library must be refused with ``NotImplementedError`` when compiled, and
only the rows listed in ``REFUSED`` may be: a row that starts or stops working changes
this list on purpose.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings

import minigrad as mg
from tests.op_specs import op_args
from tests.test_jit_array_api import LIBRARIES
from tests.transform_specs import ALL_SPECS, array_arguments

array_api_compat = pytest.importorskip("array_api_compat")

RTOL = 1e-12

# Rows refused on every library: none left.
_EVERYWHERE: set = set()
# Rows refused on one library: none left (Dask's linalg lacks det, slogdet, eigh, eigvalsh
# and pinv; those run as NumPy's own on each block of whole matrices).
REFUSED = {
    "array_api_strict": set(),
    "torch": set(),
    "dask.array": set(),
}
# Rows that fail on one library for a reason of the library's (not a refusal): known,
# and marked so that a fix shows up as an unexpected pass.
BROKEN = {
    "array_api_strict": {},
    "torch": {},
    "dask.array": {},
}


def _library(lib) -> str:
    return array_api_compat.array_namespace(lib.asarray(np.zeros(1))).__name__.removeprefix(
        "array_api_compat."
    )


def _close(got, want, where: str):
    got_leaves, _ = mg.tree.tree_flatten(mg.device_get(got))
    want_leaves, _ = mg.tree.tree_flatten(want)
    assert len(got_leaves) == len(want_leaves), where
    for g, w in zip(got_leaves, want_leaves, strict=True):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, where
        if w.dtype.kind in "fc":
            scale = float(np.max(np.abs(w), initial=0.0))
            np.testing.assert_allclose(g, w, rtol=RTOL, atol=RTOL * scale, err_msg=where)
        else:
            np.testing.assert_array_equal(g, w, err_msg=where)


def _sum_of_squares(fun):
    def loss(*xs):
        out = fun(*xs)
        leaves = mg.tree.tree_leaves(out)
        return sum(
            (leaf.real**2 + leaf.imag**2).sum() if leaf.dtype.kind == "c" else (leaf**2).sum()
            for leaf in leaves
        )

    return loss


def _run_row(lib, spec, args) -> bool:
    """Check one drawn example of ``spec``; False if the library refused it."""
    fun, arrays = array_arguments(spec, args)
    try:
        want = mg.jit(fun)(*arrays)
    except Exception:  # not jittable even on NumPy (a data-dependent shape): nothing to compare
        return True
    moved = [mg.device_put(a, lib.asarray(np.zeros(1))) for a in arrays]
    try:
        got = mg.jit(lambda *xs: fun(*xs))(*moved)
    except NotImplementedError:
        return False
    _close(got, want, f"{spec.name} on {_library(lib)}")
    floats = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    if spec.order >= 1 and floats:
        gradient = mg.jit(mg.grad(_sum_of_squares(fun), argnums=tuple(floats)))
        want = gradient(*arrays)
        try:
            got = gradient(*moved)
        except NotImplementedError:
            return False
        _close(got, want, f"grad of {spec.name} on {_library(lib)}")
    return True


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.name)
def test_op_table_row_under_jit_on_other_libraries(lib, spec, request):
    library = _library(lib)
    if spec.name in BROKEN[library]:
        request.node.add_marker(pytest.mark.xfail(reason=BROKEN[library][spec.name], strict=True))
    outcomes = []

    # One example, not shrunk: a library's failure (expected or not) is reported as found.
    @settings(max_examples=1, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(op_args(spec))
    def check(args):
        outcomes.append(_run_row(lib, spec, args))

    check()
    refused = not all(outcomes)
    expected = spec.name in REFUSED[library] or spec.name in _EVERYWHERE
    assert refused == expected, (
        f"{spec.name} on {library}: {'refused' if refused else 'ran'}, "
        f"but REFUSED says it {'is refused' if expected else 'runs'}"
    )
