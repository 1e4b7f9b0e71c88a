"""``while_loop`` and ``fori_loop``, with reverse mode for loops whose length is found at run time.

``while_p`` holds the loop's predicate and body as programs and returns the final carry
and the *trip count*, the number of steps it ran. Forward mode carries tangents beside
the carry; ``vmap`` with a batched predicate runs until every example is done, freezing
finished examples with ``select`` and counting each example's own steps.

Reverse mode, which JAX refuses, works because the trip count is known once the forward
pass has run: the loop is then a ``scan`` of that many steps over the body, and its VJP
is the scan's (a forward pass keeping residuals, then the backward scan). With a
concrete trip count (eager ``grad``) that happens at once. When the count is a staged
value (``jit(grad(f))``), ``trip_count_call_p`` defers it to run time: its
implementation calls a Python function with the count as an int. Its own derivatives
and batching are that function's, transformed, so every composition still works.

``fori_loop`` with Python-int bounds is a ``scan`` (residuals and all); with traced
bounds it is a ``while_loop``.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> def halve_until_small(x):
    ...     return while_loop(lambda x: x > 1.0, lambda x: x * 0.5, x)
    >>> halve_until_small(10.0)
    array(0.625)
    >>> mg.grad(halve_until_small)(10.0)  # four halvings
    array(0.0625)
"""

from __future__ import annotations

import functools

import numpy as np

import minigrad.numpy as mnp
from minigrad.core.dtypes import is_float_dtype
from minigrad.core.ir import Jaxpr, ShapedArray
from minigrad.core.lowering import UNKNOWN, Code, lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.trace import Tracer, bind, get_aval
from minigrad.lax.residuals import float_positions
from minigrad.lax.scan import bind_scan, cast_carry, scan, split_groups, stage_body
from minigrad.lax.subprograms import (
    batch_program,
    check_operand_types,
    compiled,
    run,
    stage_program,
    with_unused_inputs,
)
from minigrad.ops import elementwise as ew
from minigrad.ops.logic import greater
from minigrad.ops.reduce import reduce_max
from minigrad.ops.shape import (
    batch_size,
    batch_to_front,
    concatenate,
    expand_dims,
    reshape,
    slice_axis,
    squeeze,
)
from minigrad.transforms.ad import vjp
from minigrad.transforms.api_util import flatten_inputs, instantiate_zeros
from minigrad.transforms.batching import vmap
from minigrad.transforms.forward import jvp
from minigrad.tree import tree_flatten, tree_unflatten

__all__ = ["while_p", "trip_count_call_p", "while_loop", "fori_loop", "TRIP_COUNT_DTYPE"]

TRIP_COUNT_DTYPE = np.dtype(np.int64)

while_p = Primitive("while", multiple_results=True)


def run_while(cond_fn, body_fn, cond_nconsts, body_nconsts, *args):
    """The loop: compiled predicate and body, called until the predicate fails."""
    cond_consts = args[:cond_nconsts]
    body_consts = args[cond_nconsts : cond_nconsts + body_nconsts]
    carry = list(args[cond_nconsts + body_nconsts :])
    steps = 0
    while cond_fn(*cond_consts, *carry)[0]:
        carry = body_fn(*body_consts, *carry)
        steps += 1
    if steps == 0:  # the inputs themselves come back: the caller may write into results
        carry = [np.array(c) for c in carry]
    return [*carry, np.asarray(steps, TRIP_COUNT_DTYPE)]


@while_p.def_impl
def while_impl(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    return run_while(compiled(cond_jaxpr), compiled(body_jaxpr), cond_nconsts, body_nconsts, *args)


@while_p.def_shape_rule
def while_shape_rule(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    carry = avals[cond_nconsts + body_nconsts :]
    check_operand_types(
        "while_loop", [*avals[:cond_nconsts], *carry], cond_jaxpr.in_avals, "predicate operands"
    )
    check_operand_types("while_loop", avals[cond_nconsts:], body_jaxpr.in_avals, "body operands")
    check_operand_types("while_loop", body_jaxpr.out_avals, carry, "body outputs")
    if cond_jaxpr.out_avals != [ShapedArray((), np.bool_)]:
        raise TypeError(
            f"while_loop: the predicate must return a boolean scalar, got {cond_jaxpr.out_avals}."
        )
    return [*carry, ShapedArray((), TRIP_COUNT_DTYPE)]


@while_p.def_lowering
def while_lowering(ctx, *args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    loop = functools.partial(
        run_while, compiled(cond_jaxpr), compiled(body_jaxpr), cond_nconsts, body_nconsts
    )
    return Code(f"{ctx.constant(loop, 'while_loop')}({', '.join(args)})", UNKNOWN)


def _split3(args, first, second):
    return list(args[:first]), list(args[first : first + second]), list(args[first + second :])


# -- reverse mode --------------------------------------------------------------------------


def loop_backward(body_jaxpr: Jaxpr, body_nconsts: int, steps: int, *args) -> list:
    """Cotangents of a while loop's floating-point body constants and initial carry,
    given that it ran ``steps`` times: the VJP of a scan of that length over its body.

    ``args``: the body's constants, the initial carry, the cotangents of the
    floating-point final carries.
    """
    in_avals = body_jaxpr.in_avals
    float_in = float_positions(body_jaxpr.invars)
    float_carry = float_positions(body_jaxpr.outvars)
    primals = list(args[: len(in_avals)])
    cts = args[len(in_avals) :]

    def final_carry(*floats):
        inputs = list(primals)
        for position, value in zip(float_in, floats, strict=True):
            inputs[position] = value
        outs = bind_scan(
            inputs, jaxpr=body_jaxpr, num_consts=body_nconsts, num_carry=len(in_avals) - body_nconsts,
            length=steps, reverse=False,
        )  # fmt: skip
        return [outs[i] for i in float_carry]

    _, pullback = vjp(final_carry, *[primals[i] for i in float_in])
    return list(pullback(list(cts)))


@while_p.def_vjp_all
def while_vjp(wanted, cts, ans, *primals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    steps = ans[-1]
    float_carry = float_positions(body_jaxpr.outvars)
    body_args = primals[cond_nconsts:]
    carry_cts = [cts[i] for i in float_carry]
    backward = functools.partial(loop_backward, body_jaxpr, body_nconsts)
    if isinstance(steps, Tracer):  # staged: the count is known when the program runs
        float_in = float_positions(body_jaxpr.invars)
        out_avals = tuple(body_jaxpr.in_avals[i] for i in float_in)
        cts_in = bind(trip_count_call_p, steps, *body_args, *carry_cts, _fn=backward, _out_avals=out_avals)
    else:
        cts_in = backward(int(steps), *body_args, *carry_cts)
    result = [None] * len(primals)
    for position, ct in zip(float_positions(body_jaxpr.invars), cts_in, strict=True):
        result[cond_nconsts + position] = ct
    return result


# -- forward mode --------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _jvp_body(body_jaxpr: Jaxpr, body_nconsts: int, tangent_consts: tuple):
    """Body of the loop carrying tangents: constants and their tangents, carry and theirs."""
    consts = body_jaxpr.in_avals[:body_nconsts]
    carry = body_jaxpr.in_avals[body_nconsts:]
    float_carry = float_positions(body_jaxpr.invars[body_nconsts:])
    avals = [*consts, *(consts[i] for i in tangent_consts), *carry, *(carry[i] for i in float_carry)]
    differentiated = [*tangent_consts, *(body_nconsts + i for i in float_carry)]

    def forward(*args):
        c, c_dot, k, k_dot = split_groups(args, [body_nconsts, len(tangent_consts), len(carry)])
        full = [*c, *k]

        def of_differentiated(*values):
            inputs = list(full)
            for position, value in zip(differentiated, values, strict=True):
                inputs[position] = value
            return run(body_jaxpr, *inputs)

        outs, tangents = jvp(of_differentiated, tuple(full[p] for p in differentiated), (*c_dot, *k_dot))
        return [*outs, *(tangents[i] for i in float_carry)]

    return stage_program(forward, avals)


@while_p.def_jvp
def while_jvp(primals, tangents, ans, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cond_consts, body_consts, carry = _split3(primals, cond_nconsts, body_nconsts)
    _, c_dot, k_dot = _split3(tangents, cond_nconsts, body_nconsts)
    tangent_consts = tuple(i for i, t in enumerate(c_dot) if t is not None)
    float_carry = float_positions(body_jaxpr.invars[body_nconsts:])
    program = _jvp_body(body_jaxpr, body_nconsts, tangent_consts)
    tangent_avals = [body_jaxpr.in_avals[body_nconsts + i] for i in float_carry]
    cond = with_unused_inputs(cond_jaxpr, after=tangent_avals)
    k_dot = instantiate_zeros([k_dot[i] for i in float_carry], tangent_avals)
    body_consts = [*program.consts, *body_consts, *(c_dot[i] for i in tangent_consts)]
    outs = bind(
        while_p, *cond_consts, *body_consts, *carry, *k_dot,
        cond_jaxpr=cond, body_jaxpr=program.jaxpr, cond_nconsts=cond_nconsts, body_nconsts=len(body_consts),
    )  # fmt: skip
    out_tangents = [None] * len(ans)
    for position, tangent in zip(float_carry, outs[len(carry) : -1], strict=True):
        out_tangents[position] = tangent
    return out_tangents


# -- batching ------------------------------------------------------------------------------


@while_p.def_batch
def while_batch(args, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    size = batch_size(args, dims)
    cond_consts, body_consts, carry = _split3(args, cond_nconsts, body_nconsts)
    cond_dims, body_dims, carry_dims = _split3(dims, cond_nconsts, body_nconsts)
    carry_batched = [d is not None for d in carry_dims]
    cond_batched = [d is not None for d in cond_dims]
    body_batched = [d is not None for d in body_dims]
    while True:  # batched carries: those the body or a batched predicate makes batched
        body, out_batched = batch_program(body_jaxpr, [*body_batched, *carry_batched], size, carry_batched)
        predicate, (pred_batched,) = batch_program(cond_jaxpr, [*cond_batched, *carry_batched], size, [False])
        grown = [a or b or pred_batched for a, b in zip(carry_batched, out_batched, strict=True)]
        if grown == carry_batched:
            break
        carry_batched = grown
    cond_consts = [
        batch_to_front(x, d) if d is not None else x for x, d in zip(cond_consts, cond_dims, strict=True)
    ]
    body_consts = [
        batch_to_front(x, d) if d is not None else x for x, d in zip(body_consts, body_dims, strict=True)
    ]
    carry = [
        batch_to_front(x, d, size) if b else x
        for x, d, b in zip(carry, carry_dims, carry_batched, strict=True)
    ]
    out_dims = [0 if b else None for b in carry_batched]
    if not pred_batched:
        outs = bind(
            while_p, *predicate.consts, *cond_consts, *body.consts, *body_consts, *carry,
            cond_jaxpr=predicate.jaxpr, body_jaxpr=body.jaxpr,
            cond_nconsts=len(predicate.consts) + cond_nconsts, body_nconsts=len(body.consts) + body_nconsts,
        )  # fmt: skip
        return outs, [*out_dims, None]
    return _until_every_example_is_done(predicate, cond_consts, body, body_consts, carry, size)


def _until_every_example_is_done(predicate, cond_consts, body, body_consts, carry, size):
    """A batched predicate: loop while any example continues; finished examples keep
    their carry, and each example counts its own steps (its trip count)."""
    cond_args = [*predicate.consts, *cond_consts]
    body_args = [*body.consts, *body_consts]
    carry_avals = [get_aval(x) for x in carry]
    counts_aval = ShapedArray((size,), TRIP_COUNT_DTYPE)

    def any_continues(*args):
        consts, state = args[: len(cond_args)], args[len(cond_args) + 1 :]
        continues = ew.convert_element_type(run(predicate.jaxpr, *consts, *state)[0], np.int8)
        return [greater(reduce_max(continues, (0,)), np.int8(0))]

    def step(*args):
        consts, rest = args[: len(cond_args) + len(body_args)], args[len(cond_args) + len(body_args) :]
        counts, state = rest[0], rest[1:]
        continues = run(predicate.jaxpr, *consts[: len(cond_args)], *state)[0]
        new = run(body.jaxpr, *consts[len(cond_args) :], *state)
        frozen = [_select_examples(continues, n, old) for n, old in zip(new, state, strict=True)]
        return [ew.add(counts, ew.convert_element_type(continues, TRIP_COUNT_DTYPE)), *frozen]

    cond_program = stage_program(any_continues, [*map(get_aval, cond_args), counts_aval, *carry_avals])
    step_program = stage_program(
        step, [*map(get_aval, cond_args), *map(get_aval, body_args), counts_aval, *carry_avals]
    )
    counts = np.zeros((size,), TRIP_COUNT_DTYPE)
    outs = bind(
        while_p, *cond_program.consts, *cond_args, *step_program.consts, *cond_args, *body_args, counts, *carry,
        cond_jaxpr=cond_program.jaxpr, body_jaxpr=step_program.jaxpr,
        cond_nconsts=len(cond_program.consts) + len(cond_args),
        body_nconsts=len(step_program.consts) + len(cond_args) + len(body_args),
    )  # fmt: skip
    counts, state = outs[0], outs[1:-1]
    return [*state, counts], [0] * (len(state) + 1)


def _select_examples(pred, on_true, on_false):
    rank = get_aval(on_true).ndim
    return ew.select(reshape(pred, (get_aval(pred).shape[0], *(1,) * (rank - 1))), on_true, on_false)


# ---------------------------------------------------------------------------------------
# A call whose Python function needs the trip count as an int


trip_count_call_p = Primitive("trip_count_call", multiple_results=True)


@trip_count_call_p.def_impl
def trip_count_call_impl(steps, *args, _fn, _out_avals):
    return [np.asarray(out) for out in _fn(int(steps), *args)]


@trip_count_call_p.def_shape_rule
def trip_count_call_shape_rule(steps, *avals, _fn, _out_avals):
    if steps.shape != () or steps.dtype.kind not in "iu":
        raise TypeError(f"trip_count_call: the trip count must be an integer scalar, got {steps}.")
    return list(_out_avals)


trip_count_call_p.def_lowering(lower_by_impl)  # the function runs when the program does


def _jvp_of(fn, float_in, num_primals, steps, *args):
    """``fn(steps, *primals)``'s output tangents; ``args`` are the primals then the
    tangents of the floating-point ones."""
    primals, tangents = list(args[:num_primals]), args[num_primals:]

    def of_floats(*floats):
        inputs = list(primals)
        for position, value in zip(float_in, floats, strict=True):
            inputs[position] = value
        return list(fn(steps, *inputs))

    return jvp(of_floats, tuple(primals[i] for i in float_in), tuple(tangents))[1]


def _vjp_of(fn, float_in, num_primals, steps, *args):
    """Cotangents of ``fn(steps, *primals)``'s floating-point inputs; ``args`` are the
    primals then the output cotangents."""
    primals, cts = list(args[:num_primals]), args[num_primals:]

    def of_floats(*floats):
        inputs = list(primals)
        for position, value in zip(float_in, floats, strict=True):
            inputs[position] = value
        return list(fn(steps, *inputs))

    _, pullback = vjp(of_floats, *[primals[i] for i in float_in])
    return list(pullback(list(cts)))


@trip_count_call_p.def_jvp
def trip_count_call_jvp(primals, tangents, ans, *, _fn, _out_avals):
    args = primals[1:]
    float_in = [i for i, a in enumerate(args) if is_float_dtype(get_aval(a).dtype)]
    filled = instantiate_zeros([tangents[1 + i] for i in float_in], [get_aval(args[i]) for i in float_in])
    fn = functools.partial(_jvp_of, _fn, float_in, len(args))
    return bind(trip_count_call_p, primals[0], *args, *filled, _fn=fn, _out_avals=_out_avals)


@trip_count_call_p.def_vjp_all
def trip_count_call_vjp(wanted, cts, ans, steps, *args, _fn, _out_avals):
    float_in = [i for i, a in enumerate(args) if is_float_dtype(get_aval(a).dtype)]
    fn = functools.partial(_vjp_of, _fn, float_in, len(args))
    out_avals = tuple(get_aval(args[i]) for i in float_in)
    cts_in = bind(trip_count_call_p, steps, *args, *cts, _fn=fn, _out_avals=out_avals)
    result = [None] * (1 + len(args))
    for position, ct in zip(float_in, cts_in, strict=True):
        result[1 + position] = ct
    return result


def _vmapped(fn, in_axes, steps, *args):
    return vmap(functools.partial(fn, steps), in_axes=in_axes)(*args)


@trip_count_call_p.def_batch
def trip_count_call_batch(args, dims, *, _fn, _out_avals):
    size = batch_size(args, dims)
    batched_avals = tuple(ShapedArray((size, *a.shape), a.dtype) for a in _out_avals)
    if dims[0] is None:  # one count for every example: the function itself is mapped
        fn = functools.partial(_vmapped, _fn, tuple(dims[1:]))
        return bind(trip_count_call_p, *args, _fn=fn, _out_avals=batched_avals), [0] * len(_out_avals)
    # Each example ran its own number of steps: one call per example.
    per_example = []
    for b in range(size):
        example = [
            x if d is None else squeeze(slice_axis(x, d, b, b + 1), (d,))
            for x, d in zip(args, dims, strict=True)
        ]
        per_example.append(bind(trip_count_call_p, *example, _fn=_fn, _out_avals=_out_avals))
    stacked = [
        concatenate([expand_dims(outs[i], (0,)) for outs in per_example], 0) for i in range(len(_out_avals))
    ]
    return stacked, [0] * len(_out_avals)


# ---------------------------------------------------------------------------------------
# The user's functions


def _stage_predicate(cond_fun, carry_tree, carry_avals):
    def flat_cond(*flat):
        return [cond_fun(tree_unflatten(carry_tree, flat))]

    program = stage_program(flat_cond, carry_avals)
    (out,) = program.jaxpr.out_avals
    if out.shape != () or out.dtype != np.bool_:
        raise TypeError(
            f"while_loop: cond_fun must return a boolean scalar, got {out}. Compare (x < n) or reduce "
            "(mnp.all(...)) to one boolean."
        )
    return program


def while_loop(cond_fun, body_fun, init_val):
    """Repeat ``val = body_fun(val)`` while ``cond_fun(val)``, as ``jax.lax.while_loop``.

    One equation, whatever the number of steps. Unlike JAX, reverse-mode ``grad`` works:
    the number of steps is known once the forward pass has run, and the loop is
    differentiated as a ``scan`` of that length (the forward loop runs again, keeping
    what the backward pass needs). Under ``vmap`` with a batched predicate the loop runs
    until every example is done; finished examples keep their value.

    Args:
      cond_fun: ``cond_fun(val)`` returns a boolean scalar.
      body_fun: ``body_fun(val)`` returns a value of ``val``'s structure and types.
      init_val: the initial value (a pytree of arrays).

    Returns:
      The final value.

    Raises:
      TypeError: ``body_fun`` changes the structure, shapes or dtypes of the value, or
        ``cond_fun`` does not return a boolean scalar.

    Example:
      >>> import numpy as np
      >>> while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * 2.0), (0, 1.0))
      (array(5), array(32.))
    """
    leaves, avals, tree = flatten_inputs("while_loop", init_val, "init_val")

    def as_scan_body(carry, _):
        return body_fun(carry), None

    body, _, avals = stage_body("while_loop", as_scan_body, tree, avals, tree_flatten(None)[1], [])
    predicate = _stage_predicate(cond_fun, tree, avals)
    carry = cast_carry([np.asarray(x) if not hasattr(x, "shape") else x for x in leaves], avals)
    outs = bind(
        while_p, *predicate.consts, *body.consts, *carry,
        cond_jaxpr=predicate.jaxpr, body_jaxpr=body.jaxpr,
        cond_nconsts=len(predicate.consts), body_nconsts=len(body.consts),
    )  # fmt: skip
    return tree_unflatten(tree, outs[:-1])


def _is_static_int(x) -> bool:
    if isinstance(x, Tracer):
        return False
    return isinstance(x, (int, np.integer)) or (
        isinstance(x, np.ndarray) and x.shape == () and x.dtype.kind in "iu"
    )


def fori_loop(lower, upper, body_fun, init_val, *, unroll=None):
    """``val = body_fun(i, val)`` for ``i`` from ``lower`` to ``upper - 1``, as ``jax.lax.fori_loop``.

    With concrete bounds this is a ``scan`` of ``upper - lower`` steps (reverse mode
    keeps residuals), and ``unroll`` is that scan's; with traced bounds a
    ``while_loop``, and ``unroll`` must be None. Either way one equation.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> fori_loop(0, 4, lambda i, x: x * 2.0, 1.0)
      array(16.)
      >>> mg.grad(lambda x: fori_loop(0, 3, lambda i, x: x * x, x))(1.5)
      array(136.6875)
    """
    for name, bound in (("lower", lower), ("upper", upper)):
        aval = get_aval(bound)
        if aval.shape != () or aval.dtype.kind not in "iu":
            raise TypeError(f"fori_loop: {name} must be an integer scalar, got {aval}.")
    static = _is_static_int(lower) and _is_static_int(upper)
    if unroll is not None and not static:
        raise ValueError(
            "fori_loop: unroll needs bounds known when tracing (Python ints); these are traced. "
            "Drop unroll, or pass the bounds as static arguments (jit's static_argnums)."
        )
    if static:
        start = np.asarray(lower)

        def step(carry, _):
            i, val = carry
            return (i + 1, body_fun(i, val)), None

        steps = max(int(upper) - int(lower), 0)
        (_, val), _ = scan(step, (start, init_val), length=steps, unroll=1 if unroll is None else unroll)
        return val

    def keep_going(carry):
        return carry[0] < upper

    def body(carry):
        i, val = carry
        return i + 1, body_fun(i, val)

    _, val = while_loop(keep_going, body, (mnp.asarray(lower), init_val))
    return val
