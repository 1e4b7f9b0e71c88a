"""Seeing values inside transformed functions, when the program runs.

Python's ``print(x)`` inside ``jit`` runs once, while the function is staged, and can
show only a shape. ``debug.print`` and ``debug.callback`` instead put one equation in
the program, a ``debug_callback`` primitive that carries the Python function; every
interpreter runs it when it runs the program, with concrete values: ``grad``, ``vjp``
and ``jvp`` at once (their values are known), ``jit`` on every call of the compiled
code, ``vmap`` once per example. The primitive has no derivative, and the program passes
keep it although nothing uses its result (it is ``effectful``).

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> @mg.jit
    ... def double(x):
    ...     mg.debug.print("x = {}", x)
    ...     return 2 * x
    >>> double(np.array([1.0, 2.0]))
    x = [1. 2.]
    array([2., 4.])
    >>> double(np.array([3.0, 4.0]))
    x = [3. 4.]
    array([6., 8.])
"""

from __future__ import annotations

import builtins
from collections.abc import Callable

import attrs
import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.core.lowering import lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.trace import Tracer, bind, evaluate, get_aval, innermost_staging_trace
from minigrad.ops.shape import slice_axis, squeeze
from minigrad.tree import tree_flatten, tree_unflatten

__all__ = ["print", "callback", "debug_callback_p"]

_ARRAY_LIKE = (Tracer, np.ndarray, np.generic, bool, int, float, complex)


@attrs.frozen(eq=False)
class _Callback:
    """The user's function and how to rebuild its arguments from the primitive's inputs.

    Compared by identity, so a program's params stay hashable. Leaves that are not
    arrays (strings, ``None`` inside a pytree) travel here instead of through the program.
    """

    fun: Callable
    treedef: object
    static_leaves: tuple  # one per leaf: the leaf itself, or None for an array input
    description: str

    def __call__(self, *arrays):
        arrays = iter(arrays)
        leaves = [next(arrays) if static is None else static.value for static in self.static_leaves]
        args, kwargs = tree_unflatten(self.treedef, leaves)
        self.fun(*args, **kwargs)

    def __str__(self):
        return self.description


@attrs.frozen
class _Static:
    value: object


# ---------------------------------------------------------------------------------------
# The primitive


debug_callback_p = Primitive("debug_callback")
debug_callback_p.def_nondifferentiable()
debug_callback_p.def_effectful()
debug_callback_p.def_lowering(lower_by_impl)  # compiled code calls the impl: the callback runs
_NOTHING = ShapedArray((), np.dtype(bool))  # the result nobody reads


@debug_callback_p.def_impl
def debug_callback_impl(*arrays, callback):
    callback(*arrays)
    return np.zeros((), bool)


@debug_callback_p.def_shape_rule
def debug_callback_shape_rule(*avals, callback):
    return _NOTHING


@debug_callback_p.def_batch
def debug_callback_batch(args, dims, *, callback):
    # As jax.debug.print does under vmap: the callback sees one example at a time.
    size = next(get_aval(arg).shape[dim] for arg, dim in zip(args, dims, strict=True) if dim is not None)
    for index in range(size):
        example = [
            arg if dim is None else squeeze(slice_axis(arg, dim, index, index + 1), (dim,))
            for arg, dim in zip(args, dims, strict=True)
        ]
        bind(debug_callback_p, *example, callback=callback)
    return np.zeros((), bool), None


# ---------------------------------------------------------------------------------------
# The functions users call


def callback(fun: Callable, *args, **kwargs) -> None:
    """Call ``fun(*args, **kwargs)`` with concrete values when the program runs.

    Args:
      fun: a Python function; its result is ignored.
      *args, **kwargs: pytrees of arrays (traced or not) and other Python values.

    Returns:
      None.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> seen = []
      >>> def f(x):
      ...     mg.debug.callback(seen.append, x)
      ...     return x.sum()
      >>> _ = mg.vmap(f)(np.arange(4.0).reshape(2, 2))
      >>> seen
      [array([0., 1.]), array([2., 3.])]
    """
    name = getattr(fun, "__name__", type(fun).__name__)
    _bind_callback(fun, args, kwargs, f"callback({name})")


def print(fmt: str, *args, **kwargs) -> None:  # noqa: A001 - the name JAX users know
    """Print ``fmt.format(*args, **kwargs)`` with concrete values, under every transform.

    Under ``jit`` it prints on every call of the compiled function (not once at trace
    time, as Python's ``print`` does); under ``vmap`` once per example.

    Args:
      fmt: a format string, as for ``str.format``.
      *args, **kwargs: the values to format (pytrees of arrays, traced or not).

    Returns:
      None.

    Example:
      >>> import minigrad as mg
      >>> def f(x):
      ...     mg.debug.print("x = {x:.2f}, 2x = {}", 2 * x, x=x)
      ...     return x * x
      >>> mg.grad(f)(1.5)
      x = 1.50, 2x = 3.0
      array(3.)
    """
    _bind_callback(_Printer(fmt), args, kwargs, f"print({fmt!r})")


@attrs.frozen
class _Printer:
    fmt: str

    def __call__(self, *args, **kwargs):
        builtins.print(self.fmt.format(*args, **kwargs))


def _bind_callback(fun, args, kwargs, description) -> None:
    leaves, treedef = tree_flatten((args, kwargs))
    arrays = [leaf for leaf in leaves if isinstance(leaf, _ARRAY_LIKE)]
    static_leaves = tuple(None if isinstance(leaf, _ARRAY_LIKE) else _Static(leaf) for leaf in leaves)
    params = {"callback": _Callback(fun, treedef, static_leaves, description)}
    if any(isinstance(a, Tracer) for a in arrays):
        bind(debug_callback_p, *arrays, **params)
        return
    # No traced argument: a staged program must still hold it (inside jit, a print of
    # constants prints on every call, not only while the function is staged).
    trace = innermost_staging_trace()
    if trace is None:
        evaluate(debug_callback_p, arrays, params)
    else:
        trace.process_primitive(debug_callback_p, arrays, params)
