"""Reverse mode: ``vjp``, ``grad`` and ``value_and_grad``.

``vjp`` runs the function under a recording trace, which computes every value and
writes every operation down. The returned ``vjp_fn`` then walks that program backwards:
each equation's VJP rule turns the cotangent of its output into cotangents of its
inputs, and cotangents that reach the same variable are added (so ``a + a`` gives 2).
Equations whose outputs received no cotangent are skipped. Because the rules are written
with traceable operations, the backward walk can itself be recorded by an outer
transform, which is all ``grad(grad(f))`` needs.

Example:
    >>> import numpy as np
    >>> from minigrad.ops.elementwise import mul, sin, add
    >>> grad(lambda x: add(mul(x, x), sin(x)))(np.float64(0.0))
    array(1.)
"""

from __future__ import annotations

import functools
import inspect

import numpy as np
from numpy import ndarray  # not `np.name` in hot paths: see core/dtypes.py

from minigrad.core.dtypes import is_float_dtype
from minigrad.core.ir import Literal
from minigrad.core.recording import RecordTrace, RecordTracer
from minigrad.core.trace import get_aval, new_trace
from minigrad.core.user_code import errors_point_at_user_code, reset_equation_source, set_equation_source
from minigrad.ops import elementwise as ew
from minigrad.ops.elementwise import add, convert_element_type
from minigrad.ops.shape import unbroadcast
from minigrad.transforms.api_util import (
    as_array,
    check_argnums_type,
    check_callable,
    derivative_zeros,
    differentiated_arguments,
    flatten_arguments,
    flatten_inputs,
    instantiate_zeros,
)
from minigrad.transforms.backward_plans import PLANS
from minigrad.tree import tree_flatten, tree_leaves, tree_map, tree_unflatten

__all__ = [
    "vjp",
    "grad",
    "value_and_grad",
    "backward_pass",
    "equation_tape",
    "stop_gradient",
    "GRAD_NON_SCALAR_ADVICE",
]

GRAD_NON_SCALAR_ADVICE = (
    "grad only differentiates functions with a scalar output. Reduce the output to a "
    "scalar (for example with `.sum()` or `mnp.mean`), or use `vjp` to pull back a chosen "
    "cotangent, or `jacrev`/`jacfwd` for the full Jacobian."
)


def backward_pass(tape, read, cts_by_var: dict, release: dict | None = None) -> dict:
    """Walk ``tape`` in reverse from output cotangents; return cotangents by variable.

    ``tape`` lists equations as tuples ``(primitive, invars, outvars, params, source)``:
    a recording trace's ``tape``, or ``equation_tape(jaxpr.eqns)``. ``read(atom)`` gives
    the primal value of a variable or literal. ``cts_by_var`` maps output variables to
    their cotangents and is consumed. ``release``, if given, is the dict of recorded
    values by variable: once the walk has passed an equation, its outputs are never read
    again, so a single-use walk drops them from it (peak memory then stays near the
    forward pass's).
    """
    ct_env = cts_by_var
    passed = ()
    for primitive, invars, outvars, params, source in reversed(tape):
        if release is not None:
            for var in passed:
                release.pop(var, None)
            passed = outvars
        if primitive.multiple_results:
            cts_out = _output_cotangents(outvars, ct_env)
            if cts_out is None:
                continue
            ans = list(map(read, outvars))
        else:
            cts_out = ct_env.pop(outvars[0], None)
            if cts_out is None:
                continue  # nothing flows back through this equation
            ans = read(outvars[0])
        # `map`, not a comprehension, which would make `read` a closure cell, slower to read.
        primals = list(map(read, invars))
        # Equations staged while transposing this one belong to the user's line that made it.
        source_token = None if source is None else set_equation_source(source)
        try:
            rules = primitive.vjp_rules
            if rules is None:  # `def_vjp_all` or `def_vjp_argnum`
                _transpose_by_one_rule(primitive, invars, params, cts_out, ans, primals, ct_env)
                continue
            # Per-input rules (`def_vjp`), the usual case, are called here, one input at a
            # time, without `def_vjp`'s dispatching wrapper: this is the hottest loop of
            # reverse mode (a function per equation, or collecting the results first,
            # measurably slowed it).
            arity = len(primals)
            for argnum, atom in enumerate(invars):
                rule = rules[argnum]
                if rule is None or type(atom) is Literal:
                    continue  # no gradient through this input (an index), or a constant
                # Most rules are elementwise, of one or two primals and no params
                # (recorded params are dicts: an empty one is falsy at no cost). Spelling
                # their arguments out spares a star call, which costs CPython 3.11 four
                # plain calls.
                if params:
                    ct = rule(cts_out, ans, *primals, **params)
                elif arity == 1:
                    ct = rule(cts_out, ans, primals[0])
                elif arity == 2:
                    ct = rule(cts_out, ans, primals[0], primals[1])
                else:
                    ct = rule(cts_out, ans, *primals)
                if ct is None:
                    continue
                # The usual case, an input's first cotangent, a NumPy array of its shape
                # and dtype, is stored here; `_add_cotangent` conforms and adds the others.
                aval = atom.aval
                if (
                    type(ct) is ndarray
                    and ct.shape == aval.shape
                    and ct.dtype is aval.dtype
                    and atom not in ct_env
                ):
                    ct_env[atom] = ct
                else:
                    _add_cotangent(ct_env, atom, ct)
        finally:
            if source_token is not None:
                reset_equation_source(source_token)
    return ct_env


def equation_tape(eqns) -> list[tuple]:
    """A program's equations as the tuples ``backward_pass`` walks.

    Example:
      >>> from minigrad.core.ir import Eqn, Params, ShapedArray, Var
      >>> x = Var(ShapedArray((), np.dtype("float64")))
      >>> equation_tape([Eqn(ew.neg_p, (x,), (x,))]) == [(ew.neg_p, (x,), (x,), Params(), None)]
      True
    """
    return [(eqn.primitive, eqn.invars, eqn.outvars, eqn.params, eqn.source) for eqn in eqns]


def _output_cotangents(outvars, ct_env: dict):
    """The cotangents of a multiple-result equation's ``outvars``, taken out of ``ct_env``;
    None if none has one (the equation is then skipped); missing ones become zeros."""
    cts_out = [ct_env.pop(v, None) for v in outvars]
    if all(ct is None for ct in cts_out):
        return None
    return instantiate_zeros(cts_out, [v.aval for v in outvars])


def _transpose_by_one_rule(primitive, invars, params, cts_out, ans, primals, ct_env: dict) -> None:
    """Pull ``cts_out`` back through an equation whose primitive has one rule for all its
    inputs (``vjp_all``, or ``def_vjp_argnum``'s), adding each cotangent into ``ct_env``."""
    if primitive.vjp_all is not None:
        cts_in = _all_input_cotangents(primitive, invars, cts_out, ans, primals, params)
        for atom, ct in zip(invars, cts_in, strict=True):
            if ct is not None and type(atom) is not Literal:
                _add_cotangent(ct_env, atom, ct)
        return
    for argnum, atom in enumerate(invars):
        if type(atom) is not Literal:
            ct = primitive.vjp(argnum, cts_out, ans, *primals, **params)
            if ct is not None:
                _add_cotangent(ct_env, atom, ct)


def _all_input_cotangents(primitive, invars, cts_out, ans, primals, params):
    """A ``vjp_all`` rule's cotangents, checked to be one per input."""
    wanted = tuple(type(atom) is not Literal for atom in invars)
    cts_in = primitive.vjp_all(wanted, cts_out, ans, *primals, **params)
    if not isinstance(cts_in, (tuple, list)) or len(cts_in) != len(invars):
        returned = f"{len(cts_in)} cotangents" if isinstance(cts_in, (tuple, list)) else type(cts_in).__name__
        raise ValueError(
            f"the vjp_all rule of primitive {primitive.name!r} returned {returned} for "
            f"{len(invars)} inputs; a VJP rule returns a tuple or list with one cotangent "
            "(or None) per input."
        )
    return cts_in


def _add_cotangent(ct_env: dict, atom, ct) -> None:
    """Add ``ct`` into ``atom``'s cotangent, first given ``atom``'s shape and dtype (this is
    the one place broadcasting is undone)."""
    aval = atom.aval
    # The usual case, a NumPy cotangent of its primal's shape and dtype, is told without
    # looking its aval up.
    if not (type(ct) is ndarray and ct.shape == aval.shape and ct.dtype is aval.dtype):
        ct_aval = get_aval(ct)
        if ct_aval.shape != aval.shape:
            ct = unbroadcast(ct, aval.shape)
        if ct_aval.dtype != aval.dtype:
            ct = convert_element_type(ct, aval.dtype)
    existing = ct_env.get(atom)
    ct_env[atom] = ct if existing is None else add(existing, ct)


def _lower(trace, x):
    """A value leaving the recording trace: its concrete (or outer) value."""
    return x.value if isinstance(x, RecordTracer) and x._trace is trace else x


def _vjp_flat(fun, primals_flat, in_avals, in_tree, has_aux):
    with new_trace(RecordTrace) as trace:
        inputs = [
            trace.new_input(as_array(x), aval) if is_float_dtype(aval.dtype) else x
            for x, aval in zip(primals_flat, in_avals, strict=True)
        ]
        with errors_point_at_user_code():
            result = fun(*tree_unflatten(in_tree, inputs))
        if has_aux:
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise TypeError(
                    "has_aux=True needs the function to return a pair (output, aux), got "
                    f"{type(result).__name__}."
                )
            result, aux = result
            aux = tree_map(functools.partial(_lower, trace), aux)
        else:
            aux = None
        out_leaves, out_tree = tree_flatten(result)
        out_vars = [
            leaf.variable if isinstance(leaf, RecordTracer) and leaf._trace is trace else None
            for leaf in out_leaves
        ]
        out_values = [_lower(trace, leaf) for leaf in out_leaves]
    # Python numbers returned by the function become arrays, as everywhere else.
    out_values = [v if hasattr(v, "shape") else np.asarray(v) for v in out_values]
    in_vars = [x.variable if isinstance(x, RecordTracer) else None for x in inputs]
    return trace, in_vars, out_vars, out_values, out_tree, aux


def _ordinary_array(x):
    """A cotangent handed to the user as an ordinary writable array.

    Rules return broadcasts (the cotangent of ``sum`` is a zero-stride, read-only view of
    one number); those are copied, everything else is returned as is.
    """
    if type(x) is np.ndarray and not x.flags.writeable:
        return x.copy()
    return x


def _make_vjp_fn(trace, in_vars, out_vars, out_values, out_tree, primals_flat, in_tree):
    out_avals = [get_aval(v) for v in out_values]

    def vjp_fn(cotangent):
        ct_leaves, ct_tree = tree_flatten(cotangent)
        if ct_tree != out_tree:
            raise ValueError(
                f"vjp_fn: the cotangent has structure {ct_tree!r} but the function's output "
                f"has structure {out_tree!r}; they must match."
            )
        cts_by_var: dict = {}
        for var, ct, aval in zip(out_vars, ct_leaves, out_avals, strict=True):
            ct_aval = get_aval(ct)
            if ct_aval.shape != aval.shape:
                raise ValueError(
                    f"vjp_fn: a cotangent of shape {ct_aval.shape} was given for an output of "
                    f"shape {aval.shape}; each cotangent must have its output's shape."
                )
            if var is None:
                continue
            if not hasattr(ct, "shape"):
                ct = np.asarray(ct, aval.dtype)
            elif ct_aval.dtype != aval.dtype:
                # As between any two steps of the backward pass: a cotangent has its
                # output's dtype (a float64 one for a float32 output would otherwise meet
                # float32 residuals, which staged programs reject and eager ones widen).
                ct = convert_element_type(ct, aval.dtype)
            existing = cts_by_var.get(var)
            cts_by_var[var] = ct if existing is None else add(existing, ct)
        return _input_cotangents(trace, in_vars, primals_flat, in_tree, cts_by_var)

    return vjp_fn


def _input_cotangents(
    trace, in_vars, primals_flat, in_tree, cts_by_var: dict, single_use: bool = False, ct_env=None
) -> tuple:
    """Walk the recorded program back from ``cts_by_var``; one cotangent pytree per primal.

    ``single_use`` (grad walks once) lets the recorded values go as the walk passes them.
    ``ct_env``, if given, holds the input cotangents already (from a backward plan).
    """
    if ct_env is None:
        ct_env = backward_pass(trace.tape, trace.read, cts_by_var, trace.values if single_use else None)
    in_cts = instantiate_zeros(
        [None if var is None else ct_env.get(var) for var in in_vars], [get_aval(p) for p in primals_flat]
    )
    return tuple(tree_unflatten(in_tree, [_ordinary_array(ct) for ct in in_cts]))


def vjp(fun, *primals, has_aux: bool = False):
    """Evaluate ``fun(*primals)`` and return a function that pulls cotangents back.

    Args:
      fun: a function of arrays (pytrees of arrays) returning arrays.
      *primals: the point at which to linearise.
      has_aux: if True, ``fun`` returns ``(output, aux)`` and ``aux`` is returned as is.

    Returns:
      ``(out, vjp_fn)`` or ``(out, vjp_fn, aux)``; ``vjp_fn(cotangent)`` returns a tuple
      with one cotangent pytree per primal. Each cotangent leaf must have its output's
      shape; one of another dtype is cast to the output's dtype.

    Example:
      >>> import numpy as np
      >>> from minigrad.ops.elementwise import mul
      >>> out, vjp_fn = vjp(mul, np.array(2.0), np.array(3.0))
      >>> vjp_fn(np.array(1.0))
      (array(3.), array(2.))
    """
    check_callable("vjp", fun)
    return _vjp(fun, primals, has_aux)


def _vjp(fun, primals, has_aux):
    primals_flat, in_avals, in_tree = flatten_inputs("vjp", primals, "primals")
    trace, in_vars, out_vars, out_values, out_tree, aux = _vjp_flat(
        fun, primals_flat, in_avals, in_tree, has_aux
    )
    vjp_fn = _make_vjp_fn(trace, in_vars, out_vars, out_values, out_tree, primals_flat, in_tree)
    out = tree_unflatten(out_tree, out_values)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _function_and_line(fun) -> str:
    """``name (defined at file:line)`` for a Python function, else its name: composed
    transforms run ``fun`` far from the user's call, so errors say which function it is."""
    name = getattr(fun, "__name__", None) or type(fun).__name__
    code = getattr(inspect.unwrap(fun), "__code__", None)
    return f"{name} (defined at {code.co_filename}:{code.co_firstlineno})" if code is not None else name


def value_and_grad(fun, argnums=0, has_aux: bool = False, holomorphic: bool = False, allow_int: bool = False):
    """Like ``grad``, but the new function returns ``(value, gradient)``.

    With ``has_aux=True`` it returns ``((value, aux), gradient)``. ``holomorphic`` and
    ``allow_int`` are as for ``grad``.

    Example:
      >>> import numpy as np
      >>> from minigrad.ops.elementwise import mul
      >>> value_and_grad(lambda x: mul(x, x))(np.array(3.0))
      (array(9.), array(6.))
    """
    check_callable("value_and_grad", fun)
    check_argnums_type("value_and_grad", argnums)
    return functools.wraps(fun)(_value_and_grad_fun(fun, argnums, has_aux, holomorphic, allow_int))


def _value_and_grad_fun(fun, argnums, has_aux, holomorphic, allow_int):
    """The function ``value_and_grad`` returns, before it takes ``fun``'s name: ``grad``
    builds on it and names only its own function (each ``functools.wraps`` costs about
    as much as a small differentiated function)."""

    def value_and_grad_fun(*args, **kwargs):
        picked, fun_of_picked = differentiated_arguments("grad", fun, argnums, args, kwargs, allow_int)
        if holomorphic:
            _check_complex_inputs(picked, argnums)
        primals_flat, in_avals, in_tree = flatten_inputs("vjp", (picked,), "primals")
        trace, in_vars, out_vars, out_values, out_tree, aux = _vjp_flat(
            fun_of_picked, primals_flat, in_avals, in_tree, has_aux
        )
        out = tree_unflatten(out_tree, out_values)
        out_aval = get_aval(out) if hasattr(out, "shape") or np.isscalar(out) else None
        if out_aval is None:
            if has_aux:
                what, aux_advice = f"the first output of {_function_and_line(fun)} is", ""
            else:
                what = f"{_function_and_line(fun)} returns"
                aux_advice = " If it returns (loss, auxiliary values), pass has_aux=True."
            raise TypeError(
                f"grad: {what} a {type(out).__name__}, not a scalar array.{aux_advice} {GRAD_NON_SCALAR_ADVICE}"
            )
        if out_aval.shape != ():
            raise TypeError(
                f"grad: the output of {_function_and_line(fun)} has shape {out_aval.shape}. "
                f"{GRAD_NON_SCALAR_ADVICE}"
            )
        _check_output_dtype(fun, out_aval.dtype, holomorphic)
        seed = np.ones((), out_aval.dtype)
        if out_tree.node is None:
            # The output is one array, of the seed's shape and dtype: the seed is its
            # cotangent as it stands, without ``vjp_fn``'s checks of a user's cotangent.
            (out_var,) = out_vars
            cts_by_var = {} if out_var is None else {out_var: seed}
            # Recordings that repeat run their backward pass as compiled code (backward_plans.py).
            ct_env = (
                None
                if out_var is None
                else PLANS.input_cotangents(backward_pass, trace, in_vars, out_var, seed)
            )
            (grads,) = _input_cotangents(
                trace, in_vars, primals_flat, in_tree, cts_by_var, single_use=True, ct_env=ct_env
            )
        else:  # a container with a shape: vjp_fn says how the structures differ
            vjp_fn = _make_vjp_fn(trace, in_vars, out_vars, out_values, out_tree, primals_flat, in_tree)
            (grads,) = vjp_fn(seed)
        if allow_int:
            grads = tree_map(_float0_for_integers, picked, grads)
        value = (out, aux) if has_aux else out
        return value, grads

    return value_and_grad_fun


def _check_output_dtype(fun, dtype, holomorphic: bool) -> None:
    """grad needs a real floating-point output, or a complex one with ``holomorphic``."""
    if not is_float_dtype(dtype):
        raise TypeError(
            f"grad: the output of {_function_and_line(fun)} has dtype {dtype}; it must be "
            "floating point to be differentiated."
        )
    if np.dtype(dtype).kind == "c" and not holomorphic:
        raise TypeError(
            f"grad: the output of {_function_and_line(fun)} is complex ({dtype}). grad needs a "
            "real output: take mnp.abs(...) ** 2 or the real part, or pass holomorphic=True "
            "if the function is complex-differentiable (then use vjp for other cases)."
        )
    if holomorphic and np.dtype(dtype).kind != "c":
        raise TypeError(
            f"grad: holomorphic=True needs a complex output, but {_function_and_line(fun)} "
            f"returns {dtype}; drop holomorphic=True for a real function."
        )


def _check_complex_inputs(picked, argnums) -> None:
    for leaf in tree_leaves(picked):
        dtype = get_aval(leaf).dtype
        if dtype.kind != "c":
            raise TypeError(
                f"grad: holomorphic=True needs complex inputs, but the argument chosen by "
                f"argnums={argnums!r} has dtype {dtype}; pass it as complex (x + 0j)."
            )


def _float0_for_integers(arg, gradient):
    """The gradient of an integer argument under ``allow_int``: float0 zeros."""
    aval = get_aval(arg)
    return gradient if is_float_dtype(aval.dtype) else derivative_zeros(aval)


def grad(fun, argnums=0, has_aux: bool = False, holomorphic: bool = False, allow_int: bool = False):
    """The gradient of a scalar-valued ``fun`` with respect to argument(s) ``argnums``.

    Args:
      fun: returns a scalar (0-d) real float array, or a complex one with ``holomorphic``.
      argnums: an int, or a tuple of ints (then a tuple of gradients is returned).
      has_aux: ``fun`` returns ``(scalar, aux)``; the new function returns ``(grad, aux)``.
      holomorphic: ``fun`` is complex-differentiable, of complex inputs with a complex
        output; the result is the complex derivative. Without it a complex output is a
        ``TypeError``.
      allow_int: integer (and boolean) arguments may be differentiated; their gradient
        is zeros of dtype ``float0`` (no data), as in JAX.

    Returns:
      A function with ``fun``'s arguments returning gradients shaped like the arguments.

    Example:
      >>> import numpy as np
      >>> from minigrad.ops.elementwise import mul
      >>> grad(lambda x: mul(mul(x, x), x))(np.array(2.0))
      array(12.)
      >>> grad(lambda z: mul(z, z), holomorphic=True)(np.array(1.0 + 2.0j))
      array(2.+4.j)
    """
    check_callable("grad", fun)
    check_argnums_type("grad", argnums)
    value_and_grad_fun = _value_and_grad_fun(fun, argnums, has_aux, holomorphic, allow_int)

    @functools.wraps(fun)
    def grad_fun(*args, **kwargs):
        value, grads = value_and_grad_fun(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return grad_fun


def stop_gradient(x):
    """The identity on a pytree of arrays, whose derivative is zero (as ``jax.lax.stop_gradient``).

    Args:
      x: an array, a number, or a pytree of them.

    Returns:
      ``x`` with the same structure, its leaves as arrays that no transform differentiates.

    Example:
      >>> import numpy as np
      >>> stop_gradient({"a": 1.0, "b": np.ones(2)})
      {'a': array(1.), 'b': array([1., 1.])}
      >>> grad(lambda x: x * stop_gradient(x))(3.0)
      array(3.)
    """
    leaves, treedef = flatten_arguments("stop_gradient", x, "x")
    return tree_unflatten(treedef, [ew.stop_gradient(leaf) for leaf in leaves])
