"""``scan``: a loop with a carry, over the leading axis of ``xs``, as one equation.

``scan_p`` holds the loop body as a program (constants, carry, one slice of ``xs`` in;
the new carry and one slice of ``ys`` out), so a program with a loop of a million steps
has the size of one step. Eagerly and under ``jit`` the body is compiled once and called
by a Python loop. With ``unroll=k`` (a parameter of the equation) each turn of that loop
calls one compiled function holding ``k`` copies of the body, and a remainder of
``length % k`` steps runs the single-step body: fewer Python calls per step, the same
results, and the program stays one equation.

Every transform maps the body:

- forward mode scans the JVP of the body, carrying primals and tangents together;
- ``vmap`` scans the batched body; a carry becomes batched if the body makes it so
  (found by iterating to a fixed point);
- reverse mode keeps residuals. When the innermost transform records for ``grad``
  (``is_recorded``), the scan is bound with the residuals its backward pass reads added
  to its outputs (``residuals.py``), so the recorded forward pass stacks them; the
  backward pass is a scan in the other direction over those stacks, whose body is the
  body's backward pass staged once. That backward scan is an ordinary scan, so
  ``grad(grad(f))``, ``jit(vmap(grad(f)))`` and the rest follow. A scan nested in a
  loop body or a branch returns its stacked residuals to the enclosing construct
  (``scan_residual_form``), which keeps them in turn. A scan replayed under ``grad``
  from an already staged program (``grad(jit(f))``) runs its forward loop once more,
  keeping residuals, before going back.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> def cumulative_product(xs):
    ...     return scan(lambda c, x: (c * x, c * x), 1.0, xs)[1]
    >>> cumulative_product(np.array([1.0, 2.0, 3.0]))
    array([1., 2., 6.])
    >>> mg.grad(lambda xs: cumulative_product(xs)[-1])(np.array([1.0, 2.0, 3.0]))
    array([6., 3., 2.])
"""

from __future__ import annotations

import functools

import numpy as np

from minigrad.core.ir import Eqn, Jaxpr, ShapedArray, Var
from minigrad.core.lowering import UNKNOWN, Code
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind, get_aval
from minigrad.lax.residuals import (
    Linearized,
    backward_step,
    float_positions,
    is_zero_cotangent,
    linearize,
    residual_forms,
)
from minigrad.lax.scan_loop import scan_loop
from minigrad.lax.subprograms import (
    Program,
    batch_program,
    check_operand_types,
    describe_types,
    is_recorded,
    run,
    split_groups,
    stage_program,
    structure_error,
)
from minigrad.ops.elementwise import add, convert_element_type
from minigrad.ops.shape import batch_size, batch_to_front, moveaxis
from minigrad.transforms.api_util import flatten_arguments, flatten_inputs, instantiate_zeros
from minigrad.transforms.forward import jvp
from minigrad.tree import tree_flatten, tree_unflatten

__all__ = ["scan_p", "scan", "map", "bind_scan", "split_groups", "stage_body", "cast_carry"]

scan_p = Primitive("scan", multiple_results=True)


def _ys_avals(jaxpr: Jaxpr, num_carry: int) -> list[ShapedArray]:
    return jaxpr.out_avals[num_carry:]


@scan_p.def_impl
def scan_impl(*args, jaxpr, num_consts, num_carry, length, reverse, unroll, _residuals):
    return scan_loop(jaxpr, num_consts, num_carry, length, reverse, unroll, _ys_avals(jaxpr, num_carry))(
        *args
    )


@scan_p.def_shape_rule
def scan_shape_rule(*avals, jaxpr, num_consts, num_carry, length, reverse, unroll, _residuals):
    split = num_consts + num_carry
    xs = avals[split:]
    for aval in xs:
        if aval.shape[:1] != (length,):
            raise TypeError(f"scan: every xs must have leading axis {length}, got {aval}.")
    step_avals = [*avals[:split], *(ShapedArray(a.shape[1:], a.dtype) for a in xs)]
    check_operand_types("scan", step_avals, jaxpr.in_avals, "operands (one step)")
    carry_out = jaxpr.out_avals[:num_carry]
    check_operand_types("scan", carry_out, jaxpr.in_avals[num_consts:split], "carry outputs")
    return [*carry_out, *(ShapedArray((length, *a.shape), a.dtype) for a in _ys_avals(jaxpr, num_carry))]


@scan_p.def_lowering
def scan_lowering(ctx, *args, jaxpr, num_consts, num_carry, length, reverse, unroll, _residuals):
    # A real loop over the body compiled once (and over ``unroll`` copies of it, compiled
    # as one function); the generated code calls it.
    loop = scan_loop(jaxpr, num_consts, num_carry, length, reverse, unroll, _ys_avals(jaxpr, num_carry))
    return Code(f"{ctx.constant(loop, 'scan')}({', '.join(args)})", UNKNOWN)


def bind_scan(args, *, jaxpr, num_consts, num_carry, length, reverse, unroll=1) -> list:
    """Bind ``scan_p``; under a recording transform, keep the residuals its VJP reads.

    Returns the body's outputs only (carry, then stacked ``ys``).
    """
    unroll = max(1, min(unroll, length))
    if is_recorded(args):
        lin = linearize(jaxpr, num_consts, num_carry)
        outs = bind(
            scan_p,
            *args,
            jaxpr=lin.forward,
            num_consts=num_consts,
            num_carry=num_carry,
            length=length,
            reverse=reverse,
            unroll=unroll,
            _residuals=lin,
        )
        return outs[: lin.num_out]
    return bind(
        scan_p,
        *args,
        jaxpr=jaxpr,
        num_consts=num_consts,
        num_carry=num_carry,
        length=length,
        reverse=reverse,
        unroll=unroll,
        _residuals=None,
    )


# ---------------------------------------------------------------------------------------
# Reverse mode


def scan_residual_form(eqn: Eqn) -> Eqn:
    """A scan inside a loop body or a branch, returning its stacked residuals too: the
    outer backward pass then reads them instead of running this loop forward again."""
    if eqn.params["_residuals"] is not None:
        return eqn
    params = dict(eqn.params)
    lin = linearize(params["jaxpr"], params["num_consts"], params["num_carry"])
    stacks = [Var(ShapedArray((params["length"], *v.aval.shape), v.aval.dtype)) for v in lin.residuals]
    params.update(jaxpr=lin.forward, _residuals=lin)
    return Eqn(scan_p, eqn.invars, (*eqn.outvars, *stacks), params, eqn.source)


residual_forms[scan_p] = scan_residual_form


def _aval_list(atoms) -> list[ShapedArray]:
    return [atom.aval for atom in atoms]


@functools.lru_cache(maxsize=256)
def _backward_body(
    lin: Linearized, residual_cotangents: bool, wanted_consts: tuple, wanted_xs: tuple
) -> Program:
    """The body of the backward scan: one step's backward pass, with the cotangents of
    the body's constants summed over the steps in the carry.

    Constants: ``lin.loop_constants()``. Carry: cotangents of the floating-point
    carries, then the running sums for the wanted floating-point constants. Per step:
    ``lin.per_step()``, the cotangents of the floating-point ``ys`` (and residuals).
    Outputs per step: the cotangents of the wanted floating-point ``xs`` (the others,
    say of data nobody differentiates, are not computed).
    """
    step, step_consts = backward_step(lin, residual_cotangents)
    body = lin.body
    consts = body.invars[: lin.num_consts]
    carry = body.invars[lin.num_consts : lin.num_consts + lin.num_carry]
    ys = body.outvars[lin.num_carry :]
    float_consts, float_carry = float_positions(consts), float_positions(carry)
    float_xs = float_positions(body.invars[lin.num_consts + lin.num_carry :])
    kept_consts = [k for k, i in enumerate(float_consts) if wanted_consts[i]]
    kept_xs = [k for k, i in enumerate(float_xs) if wanted_xs[i]]
    res_floats = float_positions(lin.residuals) if residual_cotangents else []
    groups = [
        _aval_list(lin.loop_constants()),
        [carry[i].aval for i in float_carry],
        [consts[float_consts[k]].aval for k in kept_consts],
        _aval_list(lin.per_step()),
        [ys[i].aval for i in float_positions(ys)],
        [lin.residuals[i].aval for i in res_floats],
    ]
    sizes = [len(g) for g in groups]

    def backward(*args):
        loop_consts, ct_carry, sums, per_step, ct_ys, ct_res = split_groups(args, sizes[:-1])
        outs = run(step, *step_consts, *loop_consts, *per_step, *ct_carry, *ct_ys, *ct_res)
        ct_consts, ct_carry_in, ct_xs = split_groups(outs, [len(float_consts), len(float_carry)])
        sums = [add(s, ct_consts[k]) for s, k in zip(sums, kept_consts, strict=True)]
        return [*ct_carry_in, *sums, *(ct_xs[k] for k in kept_xs)]

    return stage_program(backward, [aval for group in groups for aval in group])


@scan_p.def_vjp_all
def scan_vjp(wanted, cts, ans, *primals, jaxpr, num_consts, num_carry, length, reverse, unroll, _residuals):
    lin = _residuals
    params = dict(num_consts=num_consts, num_carry=num_carry, length=length, reverse=reverse, unroll=unroll)
    if lin is None:
        # Replayed from a staged program: run forward again, keeping the residuals.
        lin = linearize(jaxpr, num_consts, num_carry)
        stacked = bind(scan_p, *primals, jaxpr=lin.forward, _residuals=lin, **params)[lin.num_out :]
        res_cts = []
    else:
        stacked = ans[lin.num_out :]
        res_cts = [cts[lin.num_out + i] for i in float_positions(lin.residuals)]
        if all(is_zero_cotangent(ct) for ct in res_cts):
            res_cts = []  # the usual case: nobody differentiates the backward pass
    body = lin.body
    consts, carry, xs = split_groups(primals, [num_consts, num_carry])
    float_consts = float_positions(body.invars[:num_consts])
    float_carry = float_positions(body.invars[num_consts : num_consts + num_carry])
    float_xs = float_positions(body.invars[num_consts + num_carry :])
    wanted_consts, wanted_xs = split_groups(wanted, [num_consts, num_carry])[::2]
    float_consts = [i for i in float_consts if wanted_consts[i]]
    float_xs = [i for i in float_xs if wanted_xs[i]]
    hoisted = run(lin.invariant, *consts) if lin.invariant is not None else []
    loop_consts = [*(consts[i] for i in lin.const_reads), *hoisted]
    per_step = [*(xs[i] for i in lin.xs_reads), *stacked]
    ct_ys = [cts[num_carry + i] for i in float_positions(body.outvars[num_carry:])]
    sums = [np.zeros(get_aval(consts[i]).shape, get_aval(consts[i]).dtype) for i in float_consts]
    program = _backward_body(lin, bool(res_cts), tuple(wanted_consts), tuple(wanted_xs))
    outs = bind_scan(
        [*program.consts, *loop_consts, *(cts[i] for i in float_carry), *sums, *per_step, *ct_ys, *res_cts],
        jaxpr=program.jaxpr,
        num_consts=len(program.consts) + len(loop_consts),
        num_carry=len(float_carry) + len(float_consts),
        length=length,
        reverse=not reverse,
        unroll=unroll,
    )
    ct_carry, ct_consts, ct_xs = split_groups(outs, [len(float_carry), len(float_consts)])
    result = [None] * len(primals)
    for offset, positions, values in (
        (0, float_consts, ct_consts),
        (num_consts, float_carry, ct_carry),
        (num_consts + num_carry, float_xs, ct_xs),
    ):
        for position, value in zip(positions, values, strict=True):
            result[offset + position] = value
    return result


# ---------------------------------------------------------------------------------------
# Forward mode


@functools.lru_cache(maxsize=256)
def _jvp_body(jaxpr: Jaxpr, num_consts: int, num_carry: int, tangent_consts: tuple, tangent_xs: tuple):
    """The body scanning primals and tangents together: constants and their tangents,
    carries and theirs (every floating-point carry), slices of ``xs`` and theirs."""
    invars = jaxpr.invars
    consts, carry, xs = split_groups(invars, [num_consts, num_carry])
    float_carry = float_positions(carry)
    float_out = float_positions(jaxpr.outvars)
    groups = [
        _aval_list(consts),
        [consts[i].aval for i in tangent_consts],
        _aval_list(carry),
        [carry[i].aval for i in float_carry],
        _aval_list(xs),
        [xs[i].aval for i in tangent_xs],
    ]
    sizes = [len(g) for g in groups]
    differentiated = [
        *tangent_consts,
        *(num_consts + i for i in float_carry),
        *(num_consts + num_carry + i for i in tangent_xs),
    ]

    def forward(*args):
        c, c_dot, k, k_dot, x, x_dot = split_groups(args, sizes[:-1])
        full = [*c, *k, *x]

        def of_differentiated(*values):
            inputs = list(full)
            for position, value in zip(differentiated, values, strict=True):
                inputs[position] = value
            return run(jaxpr, *inputs)

        primals = tuple(full[p] for p in differentiated)
        outs, tangents = jvp(of_differentiated, primals, (*c_dot, *k_dot, *x_dot))
        carry_tangents = [tangents[i] for i in float_out if i < num_carry]
        ys_tangents = [tangents[i] for i in float_out if i >= num_carry]
        return [*outs[:num_carry], *carry_tangents, *outs[num_carry:], *ys_tangents]

    return stage_program(forward, [aval for group in groups for aval in group])


@scan_p.def_jvp
def scan_jvp(primals, tangents, ans, *, jaxpr, num_consts, num_carry, length, reverse, unroll, _residuals):
    consts, carry, xs = split_groups(primals, [num_consts, num_carry])
    c_dot, k_dot, x_dot = split_groups(tangents, [num_consts, num_carry])
    tangent_consts = tuple(i for i, t in enumerate(c_dot) if t is not None)
    tangent_xs = tuple(i for i, t in enumerate(x_dot) if t is not None)
    float_carry = float_positions(jaxpr.invars[num_consts : num_consts + num_carry])
    program = _jvp_body(jaxpr, num_consts, num_carry, tangent_consts, tangent_xs)
    k_dot = instantiate_zeros([k_dot[i] for i in float_carry], [get_aval(carry[i]) for i in float_carry])
    outs = bind_scan(
        [
            *program.consts,
            *consts,
            *(c_dot[i] for i in tangent_consts),
            *carry,
            *k_dot,
            *xs,
            *(x_dot[i] for i in tangent_xs),
        ],
        jaxpr=program.jaxpr,
        num_consts=len(program.consts) + num_consts + len(tangent_consts),
        num_carry=num_carry + len(float_carry),
        length=length,
        reverse=reverse,
        unroll=unroll,
    )
    float_out = float_positions(jaxpr.outvars)
    out_tangents = [None] * len(jaxpr.outvars)
    carry_floats = [i for i in float_out if i < num_carry]
    ys_floats = [i for i in float_out if i >= num_carry]
    for i, tangent in zip(carry_floats, outs[num_carry : num_carry + len(carry_floats)], strict=True):
        out_tangents[i] = tangent
    ys_tangents = outs[len(jaxpr.outvars) + len(carry_floats) :]  # after carries, their tangents, ys
    for i, tangent in zip(ys_floats, ys_tangents, strict=True):
        out_tangents[i] = tangent
    return out_tangents


# ---------------------------------------------------------------------------------------
# Batching


@scan_p.def_batch
def scan_batch(args, dims, *, jaxpr, num_consts, num_carry, length, reverse, unroll, _residuals):
    size = batch_size(args, dims)
    consts, carry, xs = split_groups(args, [num_consts, num_carry])
    const_dims, carry_dims, xs_dims = split_groups(dims, [num_consts, num_carry])
    carry_batched = [d is not None for d in carry_dims]
    step_batched = [*(d is not None for d in const_dims), None, *(d is not None for d in xs_dims)]
    num_ys = len(jaxpr.outvars) - num_carry
    while True:  # a carry is batched if the body makes it so: iterate to a fixed point
        batched = [*step_batched[:num_consts], *carry_batched, *step_batched[num_consts + 1 :]]
        program, out_batched = batch_program(jaxpr, batched, size, [*carry_batched, *[False] * num_ys])
        grown = [a or b for a, b in zip(carry_batched, out_batched[:num_carry], strict=True)]
        if grown == carry_batched:
            break
        carry_batched = grown
    consts = [batch_to_front(x, d) if d is not None else x for x, d in zip(consts, const_dims, strict=True)]
    carry = [
        batch_to_front(x, d, size) if b else x
        for x, d, b in zip(carry, carry_dims, carry_batched, strict=True)
    ]
    # Slices of xs are taken along axis 0, so the batch axis of xs goes second.
    xs = [x if d is None else moveaxis(x, d, 1) if d != 1 else x for x, d in zip(xs, xs_dims, strict=True)]
    outs = bind_scan(
        [*program.consts, *consts, *carry, *xs],
        jaxpr=program.jaxpr,
        num_consts=len(program.consts) + num_consts,
        num_carry=num_carry,
        length=length,
        reverse=reverse,
        unroll=unroll,
    )
    out_dims = [0 if b else None for b in carry_batched] + [1 if b else None for b in out_batched[num_carry:]]
    return outs, out_dims


# ---------------------------------------------------------------------------------------
# The user's functions


def _scan_length(xs_leaves, length) -> int:
    sizes = set()
    for leaf in xs_leaves:
        shape = get_aval(leaf).shape
        if not shape:
            raise ValueError("scan: every leaf of xs must have a leading axis to scan over; got a 0-d array.")
        sizes.add(shape[0])
    if len(sizes) > 1:
        raise ValueError(
            f"scan: the leaves of xs have different leading axis sizes {sorted(sizes)}; they must all "
            "have the length of the loop."
        )
    if length is not None:
        length = int(length)
        if sizes and sizes != {length}:
            raise ValueError(f"scan: length={length} but xs have leading axis size {sizes.pop()}.")
        return length
    if not sizes:
        raise ValueError("scan: with xs=None (or no arrays in xs), give the number of steps as length=.")
    return sizes.pop()


def _steps_per_turn(unroll, length: int) -> int:
    """``scan``'s ``unroll`` argument as a number of steps (JAX's meaning of True/False)."""
    if isinstance(unroll, (bool, np.bool_)):
        return max(length, 1) if unroll else 1
    if not isinstance(unroll, (int, np.integer)) or unroll < 1:
        raise TypeError(
            f"scan: unroll must be a positive int (steps per turn of the loop) or a bool (True: "
            f"all {length} steps), got {unroll!r}."
        )
    return int(unroll)


def _stage_step(construct, f, init_tree, carry_avals, xs_tree, x_avals):
    """``f`` staged at one step's types; returns the program and its carry and ys trees."""
    trees = {}
    num_carry = len(carry_avals)

    def flat_body(*flat):
        result = f(tree_unflatten(init_tree, flat[:num_carry]), tree_unflatten(xs_tree, flat[num_carry:]))
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise TypeError(
                f"{construct}: the body function must return a pair (carry, y), got {type(result).__name__}."
            )
        carry_leaves, trees["carry"] = tree_flatten(result[0])
        y_leaves, trees["ys"] = tree_flatten(result[1])
        return [*carry_leaves, *y_leaves]

    program = stage_program(flat_body, [*carry_avals, *x_avals])
    return program, trees["carry"], trees["ys"]


def stage_body(construct: str, f, init_tree, carry_avals, xs_tree, x_avals):
    """Stage ``f(carry, x) -> (carry, y)`` at one step's types; check the carry keeps its type.

    Returns ``(program, ys_tree, carry_avals)``; a weakly typed carry (a Python number)
    takes the type the body gives it, as in JAX.
    """
    program, carry_tree, ys_tree = _stage_step(construct, f, init_tree, carry_avals, xs_tree, x_avals)
    out_avals = program.jaxpr.out_avals[: len(program.jaxpr.outvars) - ys_tree.num_leaves]
    if carry_tree == init_tree and out_avals != list(carry_avals):
        promoted = _promote_weak(carry_avals, out_avals)
        if promoted is not None:
            carry_avals = promoted
            program, carry_tree, ys_tree = _stage_step(construct, f, init_tree, carry_avals, xs_tree, x_avals)
            out_avals = program.jaxpr.out_avals[: len(program.jaxpr.outvars) - ys_tree.num_leaves]
    if carry_tree != init_tree or out_avals != list(carry_avals):
        raise structure_error(
            construct,
            "the body function must return a carry of the same structure and types as its input carry",
            "input carry",
            describe_types(init_tree, carry_avals),
            "carry returned by the body",
            describe_types(carry_tree, out_avals),
        )
    return program, ys_tree, carry_avals


def _promote_weak(in_avals, out_avals):
    """Input carry types with weak (Python number) entries given the body's dtype, or None."""
    if len(in_avals) != len(out_avals):
        return None
    promoted = []
    for a, b in zip(in_avals, out_avals, strict=True):
        if a == b:
            promoted.append(a)
        elif a.weak_type and a.shape == b.shape:
            promoted.append(ShapedArray(b.shape, b.dtype))
        else:
            return None
    return promoted


def cast_carry(leaves, avals) -> list:
    return [
        convert_element_type(x, a.dtype) if get_aval(x).dtype != a.dtype else x
        for x, a in zip(leaves, avals, strict=True)
    ]


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loop ``f`` over the leading axis of ``xs``, threading a carry, as ``jax.lax.scan``.

    The semantics are those of this Python loop, as one equation in the program::

        def scan(f, init, xs, length=None):
            carry, ys = init, []
            for x in xs:
                carry, y = f(carry, x)
                ys.append(y)
            return carry, stack(ys)

    Args:
      f: ``f(carry, x) -> (carry, y)``; the new carry has the structure, shapes and
        dtypes of the old one.
      init: the initial carry (a pytree of arrays).
      xs: a pytree of arrays with a common leading axis, or None (then give ``length``).
      length: the number of steps, when ``xs`` has no arrays.
      reverse: run from the last slice to the first (``ys`` stay aligned with ``xs``).
      unroll: how many steps each turn of the compiled loop runs (a positive int;
        ``True`` for all of them, ``False`` for 1). The results are the same for every
        value; larger ones trade compile time for fewer Python calls per step. Every
        transform keeps it (the backward scan of ``grad`` unrolls alike).

    Returns:
      ``(carry, ys)``: the final carry and the ``y`` of every step stacked on axis 0.

    Raises:
      TypeError: ``f`` returns a carry of another structure, shape or dtype.

    Example:
      >>> import numpy as np
      >>> carry, ys = scan(lambda c, x: (c + x, 2 * c), 0.0, np.array([1.0, 2.0, 3.0]))
      >>> carry, ys
      (array(6.), array([0., 2., 6.]))
    """
    init_leaves, init_avals, init_tree = flatten_inputs("scan", init, "init")
    xs_leaves, xs_tree = flatten_arguments("scan", xs, "xs")
    length = _scan_length(xs_leaves, length)
    unroll = _steps_per_turn(unroll, length)
    x_avals = [ShapedArray(get_aval(x).shape[1:], get_aval(x).dtype) for x in xs_leaves]
    program, ys_tree, carry_avals = stage_body("scan", f, init_tree, init_avals, xs_tree, x_avals)
    carry = cast_carry([np.asarray(x) if not hasattr(x, "shape") else x for x in init_leaves], carry_avals)
    outs = bind_scan(
        [*program.consts, *carry, *xs_leaves],
        jaxpr=program.jaxpr,
        num_consts=len(program.consts),
        num_carry=len(carry),
        length=length,
        reverse=bool(reverse),
        unroll=unroll,
    )
    return tree_unflatten(init_tree, outs[: len(carry)]), tree_unflatten(ys_tree, outs[len(carry) :])


def map(f, xs):  # noqa: A001 - jax.lax's name; inside this package call it as scan.map
    """``f`` applied to each slice of ``xs`` along axis 0, stacked (``jax.lax.map``).

    A ``scan`` without a carry: one equation, and one step's memory at a time.

    Example:
      >>> import numpy as np
      >>> import minigrad.numpy as mnp
      >>> map(lambda row: mnp.sum(row ** 2), np.arange(6.0).reshape(3, 2))
      array([ 1., 13., 41.])
    """
    _, ys = scan(lambda carry, x: (carry, f(x)), (), xs)
    return ys
