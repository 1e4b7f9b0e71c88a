"""What every transform does at its boundary: flatten pytrees, check the leaves, pick
the arguments named by ``argnums`` and put arguments back together.

Example:
    >>> import numpy as np
    >>> leaves, treedef = flatten_arguments("grad", ({"w": np.ones(2)},))
    >>> len(leaves)
    1
"""

from __future__ import annotations

import attrs
import numpy as np

from minigrad.core.dtypes import (
    PYTHON_SCALARS,
    float0,
    is_float_dtype,
    is_python_scalar,
    plain_array,
    refuse_foreign_array,
)
from minigrad.core.ir import ShapedArray
from minigrad.core.trace import Tracer, get_aval
from minigrad.tree import tree_flatten, tree_flatten_with_path

__all__ = [
    "flatten_arguments",
    "flatten_inputs",
    "argument_aval",
    "normalize_argnums",
    "is_array_leaf",
    "as_array",
    "check_differentiable",
    "differentiated_arguments",
    "instantiate_zeros",
    "derivative_zeros",
    "merge_arguments",
    "check_callable",
    "check_argnums_type",
    "static_argnums_tuple",
    "static_argnames_tuple",
]

_SCALAR_TYPES = (*PYTHON_SCALARS, np.generic)


def is_array_leaf(x) -> bool:
    return isinstance(x, (np.ndarray, Tracer, *_SCALAR_TYPES))


def as_array(x, transform: str = "minigrad"):
    """Leaves as arrays: Python scalars become 0-d NumPy arrays; tracers stay.

    Subclasses of ``numpy.ndarray`` become plain arrays and masked arrays are refused,
    as in ``minigrad.numpy`` (``core.dtypes.plain_array``).
    """
    if type(x) is np.ndarray or isinstance(x, Tracer):
        return x
    return plain_array(x, transform)


def instantiate_zeros(values, avals) -> list:
    """``values`` with zeros of the matching aval where a value is missing (``None``).

    Transforms leave tangents and cotangents that are known to be zero as ``None``;
    where a rule or a user needs an array, this one function makes it.

    Example:
      >>> from minigrad.core.ir import ShapedArray
      >>> instantiate_zeros([None, 1.0], [ShapedArray((2,), np.float32), ShapedArray((), np.float64)])
      [array([0., 0.], dtype=float32), 1.0]
    """
    return [
        np.zeros(aval.shape, aval.dtype) if value is None else value
        for value, aval in zip(values, avals, strict=True)
    ]


def derivative_zeros(aval) -> np.ndarray:
    """The zero derivative of a value typed ``aval``, as JAX gives it: zeros of its dtype
    for a float, zeros of dtype ``float0`` (no data) for an integer or boolean.

    Example:
      >>> from minigrad.core.ir import ShapedArray
      >>> derivative_zeros(ShapedArray((2,), np.int64)).dtype == float0
      True
    """
    return np.zeros(aval.shape, aval.dtype if is_float_dtype(aval.dtype) else float0)


def argument_aval(leaf) -> ShapedArray:
    """The abstract value a transform gives an argument: Python numbers are weakly typed.

    A Python number then promotes under the transform as it does eagerly
    (``float32_array * 2.0`` is float32), whichever transform traces it.

    Example:
      >>> argument_aval(1.0).weak_type, argument_aval(np.float64(1.0)).weak_type
      (True, False)
    """
    aval = get_aval(leaf)
    if is_python_scalar(leaf):
        return attrs.evolve(aval, weak_type=True)
    return aval


def flatten_inputs(transform: str, tree, what: str = "args"):
    """``flatten_arguments`` with each leaf's abstract value (see ``argument_aval``).

    Returns ``(leaves, avals, treedef)``: the leaves as given (Python numbers stay
    numbers, so that one passed on untraced still promotes weakly), the avals weak where
    the leaf is a Python number. Transforms make their input tracers from these avals.

    Example:
      >>> leaves, avals, treedef = flatten_inputs("grad", (1.0, np.ones(2, np.float32)))
      >>> [(str(a), a.weak_type) for a in avals]
      [('f64[]', True), ('f32[2]', False)]
    """
    leaves, treedef = _checked_leaves(transform, tree, what)
    return leaves, [argument_aval(leaf) for leaf in leaves], treedef


def _is_array_subclass(x) -> bool:
    return type(x) is not np.ndarray and isinstance(x, np.ndarray)


def _checked_leaves(transform: str, tree, what: str):
    leaves, treedef = tree_flatten(tree)
    if not all(is_array_leaf(leaf) for leaf in leaves):
        _check_leaves(transform, tree, what)
    if any(map(_is_array_subclass, leaves)):
        # np.matrix would make `*` a matrix product inside the function: plain arrays,
        # as minigrad.numpy uses them (masked arrays are refused).
        leaves = [plain_array(leaf, transform) if _is_array_subclass(leaf) else leaf for leaf in leaves]
    return leaves, treedef


def _check_leaves(transform: str, tree, what: str) -> list:
    with_path = tree_flatten_with_path(tree)[0]
    for path, leaf in with_path:
        if not is_array_leaf(leaf):
            refuse_foreign_array(leaf, transform)
            raise TypeError(
                f"{transform}: {what}{path} is of type {type(leaf).__name__}, "
                "which is not an array. Leaves of the pytrees passed to a transform must be "
                "arrays or numbers; register other containers with "
                "minigrad.tree.register_pytree_node, or close over non-array values."
            )
    return with_path


def flatten_arguments(
    transform: str, tree, what: str = "args", with_paths: bool = False, keep_numbers: bool = False
):
    """Flatten a pytree of arguments, rejecting leaves that are not arrays or scalars.

    Returns ``(leaves, treedef)``, or with ``with_paths`` a list of ``(path, leaf)``.
    Leaves become arrays, except that with ``keep_numbers`` Python numbers stay numbers
    (for a transform that hands them on to another, which must see them as weak).
    """
    if with_paths:
        return [(path, as_array(leaf, transform)) for path, leaf in _check_leaves(transform, tree, what)]
    leaves, treedef = _checked_leaves(transform, tree, what)
    if keep_numbers:
        return leaves, treedef
    return [as_array(leaf, transform) for leaf in leaves], treedef


def check_callable(transform: str, fun) -> None:
    """A TypeError, when the transform is built, if ``fun`` is not a function.

    Example:
      >>> try:
      ...     check_callable("grad", 3)
      ... except TypeError as error:
      ...     print(error)
      grad: expected a function to transform, got int (3). Pass the function itself, grad(f), and call what it returns with the arguments: grad(f)(x).
    """
    if not callable(fun):
        shown = repr(fun)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise TypeError(
            f"{transform}: expected a function to transform, got {type(fun).__name__} ({shown}). "
            f"Pass the function itself, {transform}(f), and call what it returns with the "
            f"arguments: {transform}(f)(x)."
        )


def _is_int(argnum) -> bool:
    return isinstance(argnum, (int, np.integer)) and not isinstance(argnum, (bool, np.bool_))


def check_argnums_type(transform: str, argnums) -> None:
    """A TypeError, when the transform is built, if ``argnums`` is not an int or ints.

    Whether the positions exist is known only at the call (``normalize_argnums``).

    Example:
      >>> check_argnums_type("grad", (0, 2))
      >>> try:
      ...     check_argnums_type("grad", 1.5)
      ... except TypeError as error:
      ...     print(error)
      grad: argnums must be an int or a tuple of ints, got 1.5.
    """
    if _is_int(argnums):
        return
    if not isinstance(argnums, (tuple, list)) or not all(map(_is_int, argnums)):
        raise TypeError(f"{transform}: argnums must be an int or a tuple of ints, got {argnums!r}.")


def static_argnums_tuple(transform: str, static_argnums) -> tuple[int, ...]:
    """``static_argnums`` (an int, ints, or None for none, as in JAX) as a tuple of ints.

    Example:
      >>> static_argnums_tuple("jit", None), static_argnums_tuple("jit", 1), static_argnums_tuple("jit", [0, 2])
      ((), (1,), (0, 2))
    """
    if static_argnums is None:
        return ()
    if _is_int(static_argnums):
        return (int(static_argnums),)
    if isinstance(static_argnums, (tuple, list, range)) and all(map(_is_int, static_argnums)):
        return tuple(int(position) for position in static_argnums)
    raise TypeError(
        f"{transform}: static_argnums must be an int, a tuple of ints or None, got "
        f"{static_argnums!r}; it names argument positions, e.g. static_argnums=(1,)."
    )


def static_argnames_tuple(transform: str, static_argnames) -> tuple[str, ...]:
    """``static_argnames`` (a str, strs, or None for none) as a tuple of str.

    Example:
      >>> static_argnames_tuple("jit", "n"), static_argnames_tuple("jit", None)
      (('n',), ())
    """
    if static_argnames is None:
        return ()
    if isinstance(static_argnames, str):
        return (static_argnames,)
    if isinstance(static_argnames, (tuple, list, set, frozenset)) and all(
        isinstance(name, str) for name in static_argnames
    ):
        return tuple(static_argnames)
    raise TypeError(
        f"{transform}: static_argnames must be a str, a tuple of str or None, got "
        f"{static_argnames!r}; it names parameters, e.g. static_argnames=('n',)."
    )


def normalize_argnums(transform: str, argnums, num_args: int) -> tuple[int, ...]:
    """``argnums`` (an int or a sequence of ints) as non-negative positions, each once.

    Example:
      >>> normalize_argnums("grad", (0, -1), 3)
      (0, 2)
    """
    if type(argnums) is int and 0 <= argnums < num_args:
        return (argnums,)  # the usual case, told before the general checks (grad pays them per call)
    single = isinstance(argnums, (int, np.integer))
    try:
        argnums_tuple = (argnums,) if single else tuple(argnums)
    except TypeError:
        argnums_tuple = (argnums,)
    for argnum in argnums_tuple:
        if isinstance(argnum, (bool, np.bool_)) or not isinstance(argnum, (int, np.integer)):
            raise TypeError(f"{transform}: argnums must be an int or a tuple of ints, got {argnums!r}.")
        if not -num_args <= argnum < num_args:
            raise ValueError(
                f"{transform}: argnums={argnums!r} does not fit a call with {num_args} positional arguments."
            )
    normalized = tuple(int(a) % num_args for a in argnums_tuple)
    if len(set(normalized)) != len(normalized):
        raise ValueError(
            f"{transform}: argnums={argnums!r} names an argument more than once; list each "
            "argument once (the same input cannot be differentiated as two inputs)."
        )
    return normalized


def check_differentiable(transform: str, argnums, argnum: int, arg) -> None:
    """A TypeError naming the argument (and the place in its pytree) if it is not float."""
    leaves, _ = _checked_leaves(transform, arg, f"argument {argnum}")
    if all(is_float_dtype(get_aval(leaf).dtype) for leaf in leaves):
        return  # the usual case: no need for the paths, which only the message uses
    for path, leaf in flatten_arguments(transform, arg, f"argument {argnum}", with_paths=True):
        dtype = get_aval(leaf).dtype
        if not is_float_dtype(dtype):
            raise TypeError(
                f"{transform}: argnums={argnums!r} selects argument {argnum}{path}, of dtype {dtype}, "
                "but derivatives are only defined for floating-point inputs. Pass floats (for "
                "example x.astype(float)), or leave the argument out of argnums."
            )


def merge_arguments(positions, values, rest) -> list:
    """A call's arguments rebuilt from two parts: ``values`` at ``positions``, ``rest`` around them.

    Transforms trace some arguments and pass the others through as they are (static
    arguments, ones not differentiated, ones shared by every example); the function
    they stage or call puts the two parts back in their places with this.

    Args:
      positions: where each of ``values`` goes, in the order of ``values``; distinct,
        each in ``range(len(values) + len(rest))``.
      values: the arguments for ``positions``.
      rest: the other arguments, in the order of their positions.

    Returns:
      A list of ``len(values) + len(rest)`` arguments.

    Example:
      >>> merge_arguments((2, 0), ["c", "a"], ["b", "d"])
      ['a', 'b', 'c', 'd']
    """
    by_position = dict(zip(positions, values, strict=True))
    num_args = len(values) + len(rest)
    assert len(by_position) == len(values) and all(0 <= p < num_args for p in by_position), positions
    others = iter(rest)
    return [by_position[i] if i in by_position else next(others) for i in range(num_args)]


def differentiated_arguments(transform: str, fun, argnums, args, kwargs=None, allow_int: bool = False):
    """The arguments ``argnums`` picks and ``fun`` as a function of them alone.

    The picks are one argument for an int ``argnums``, else a tuple; each must be
    floating point unless ``allow_int``. ``fun_of_picked(picked)`` calls ``fun`` with
    them put back in place.

    Example:
      >>> picked, f = differentiated_arguments("grad", lambda a, b: a - b, 1, (5.0, 2.0))
      >>> picked, f(3.0)
      (2.0, 2.0)
    """
    kwargs = {} if kwargs is None else kwargs
    chosen = normalize_argnums(transform, argnums, len(args))
    for argnum in chosen:
        if not allow_int:
            check_differentiable(transform, argnums, argnum, args[argnum])
    single = isinstance(argnums, (int, np.integer))
    picked = args[chosen[0]] if single else tuple(args[i] for i in chosen)
    others = [arg for i, arg in enumerate(args) if i not in chosen]

    def fun_of_picked(new_picked):
        return fun(*merge_arguments(chosen, (new_picked,) if single else new_picked, others), **kwargs)

    return picked, fun_of_picked
