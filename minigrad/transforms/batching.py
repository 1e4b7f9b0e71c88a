"""Batching: ``vmap`` maps a function over an axis of its inputs.

``vmap`` stages the function at the shapes of one example (``core/staging.py``), then
walks the program once with whole batches: each equation's batching rule receives its
operands with their batch axes (``None`` for operands shared by every example) and
returns the result with its own. Shared operands stay shared, so a weight matrix used
by every example is never copied. Arguments with ``in_axes=None`` are passed to the
function as they are, so Python control flow on them works; on batched values it raises
``ConcretizationError``, since each example may need a different branch.

Because rules are written with traceable operations, the walk runs under any outer
transform, and the program's constants may be tracers of those transforms: that is how
``grad(vmap(f))``, ``vmap(grad(f))`` and ``vmap(vmap(f))`` work.

Example:
    >>> import numpy as np
    >>> vmap(lambda x, w: x @ w, in_axes=(0, None))(np.ones((4, 3)), np.ones((3, 2))).shape
    (4, 2)
"""

from __future__ import annotations

import functools

import numpy as np

from minigrad.core.errors import ConcretizationError
from minigrad.core.ir import ClosedJaxpr, Jaxpr, Literal, ShapedArray
from minigrad.core.staging import stage_flat
from minigrad.core.trace import bind, get_aval
from minigrad.core.user_code import reset_equation_source, set_equation_source
from minigrad.ops.shape import batch_to_front, broadcast_to, moveaxis
from minigrad.transforms.api_util import check_callable, flatten_arguments, merge_arguments
from minigrad.tree import tree_flatten, tree_flatten_with_path, tree_structure, tree_unflatten

__all__ = ["vmap", "batch_jaxpr", "eval_jaxpr_batched", "broadcast_prefix"]


def broadcast_prefix(transform: str, what: str, prefix, treedef) -> list:
    """One entry of ``prefix`` per leaf of ``treedef``: ``prefix`` is a pytree prefix of it.

    A leaf of ``prefix`` (an int or ``None``) applies to the whole subtree under it.

    Example:
      >>> from minigrad.tree import tree_structure
      >>> broadcast_prefix("vmap", "in_axes", (0, None), tree_structure((1, {"a": 2, "b": 3})))
      [0, None, None]
    """
    prefix_leaves, prefix_def = tree_flatten(prefix, is_leaf=lambda x: x is None)
    out: list = []
    leaves = iter(prefix_leaves)

    def walk(prefix_node, tree_node):
        if prefix_node.node is None:
            out.extend([next(leaves)] * tree_node.num_leaves)
            return
        if (
            prefix_node.node is not tree_node.node
            or prefix_node.aux != tree_node.aux
            or len(prefix_node.children) != len(tree_node.children)
        ):
            raise ValueError(
                f"{transform}: {what}={prefix!r} must be an int, None, or a pytree prefix of the "
                f"structure {tree_node!r} it applies to (at {prefix_node!r}); give one entry per "
                "argument, e.g. in_axes=(0, None) for two arguments."
            )
        for p_child, t_child in zip(prefix_node.children, tree_node.children, strict=True):
            walk(p_child, t_child)

    walk(prefix_def, treedef)
    return out


def _check_axis_spec(transform, what, axis):
    if axis is not None and (not isinstance(axis, (int, np.integer)) or isinstance(axis, bool)):
        raise TypeError(f"{transform}: {what} entries must be ints or None, got {axis!r}.")


# ---------------------------------------------------------------------------------------
# The interpreter


def eval_jaxpr_batched(jaxpr: Jaxpr, consts, args, dims) -> tuple[list, list]:
    """Run ``jaxpr`` on batched ``args`` (batch axes ``dims``); return outputs and axes.

    Constants are shared by every example. Equations none of whose operands is batched
    are simply bound, once.
    """
    env: dict = {}

    def read(atom):
        return (atom.val, None) if type(atom) is Literal else env[atom]

    for var, value in zip(jaxpr.constvars, consts, strict=True):
        env[var] = (value, None)
    for var, value, dim in zip(jaxpr.invars, args, dims, strict=True):
        env[var] = (value, dim)
    for eqn in jaxpr.eqns:
        values, in_dims = [], []
        for atom in eqn.invars:
            value, dim = read(atom)
            values.append(value)
            in_dims.append(dim)
        # A NaN the equation makes, or an equation staged from it, is blamed on the
        # user's line that made it, not on the line that called vmap.
        token = None if eqn.source is None else set_equation_source(eqn.source)
        try:
            if all(d is None for d in in_dims):
                out = bind(eqn.primitive, *values, **eqn.params)
                out_dims = [None] * len(eqn.outvars) if eqn.primitive.multiple_results else None
            else:
                rule = eqn.primitive.batch
                if rule is None:
                    raise TypeError(
                        f"vmap: the primitive {eqn.primitive.name!r} has no batching rule; "
                        "define one with `prim.def_batch(rule)` beside the primitive."
                    )
                out, out_dims = rule(values, in_dims, **eqn.params)
        finally:
            if token is not None:
                reset_equation_source(token)
        if eqn.primitive.multiple_results:
            for var, value, dim in zip(eqn.outvars, out, out_dims, strict=True):
                env[var] = (value, dim)
        else:
            env[eqn.outvars[0]] = (out, out_dims)
    results = [read(atom) for atom in jaxpr.outvars]
    return [value for value, _ in results], [dim for _, dim in results]


def _move_batch_axis(value, dim, out_axis, size):
    """Put the batch axis of ``value`` at ``out_axis`` (broadcasting an unbatched value)."""
    if out_axis is None:
        return value
    if dim is None:
        aval = get_aval(value)
        value = broadcast_to(value, (size, *aval.shape))
        dim = 0
    ndim = get_aval(value).ndim
    target = out_axis % ndim
    return value if target == dim else moveaxis(value, dim, target)


def batch_jaxpr(
    closed: ClosedJaxpr, in_dims, axis_size: int, all_batched: bool = False
) -> tuple[ClosedJaxpr, list]:
    """The program that runs ``closed`` on batches; also returns its outputs' batch axes.

    ``in_dims`` gives each input's batch axis (or None); the batched program's inputs
    have the batch axis there. Outputs come with the batch axis first, or unbatched
    (axis None) unless ``all_batched`` asks every output to carry the batch axis.
    """
    in_avals = []
    for aval, dim in zip(closed.in_avals, in_dims, strict=True):
        if dim is None:
            in_avals.append(aval)
        else:
            shape = list(aval.shape)
            shape.insert(dim, axis_size)
            in_avals.append(ShapedArray(shape, aval.dtype))
    out_dims: list = []

    def batched(*args):
        outs, dims = eval_jaxpr_batched(closed.jaxpr, closed.consts, args, in_dims)
        moved = []
        for value, dim in zip(outs, dims, strict=True):
            if dim is None and not all_batched:
                out_dims.append(None)
                moved.append(value)
            else:
                out_dims.append(0)
                moved.append(batch_to_front(value, dim, axis_size))
        return moved

    return stage_flat(batched, in_avals), out_dims


# ---------------------------------------------------------------------------------------
# vmap


def _axis_sizes_error(flat_axes, flat_args, paths):
    lines = [
        f"  {paths[i]}: axis {axis} of shape {get_aval(x).shape} has size {get_aval(x).shape[axis]}"
        for i, (axis, x) in enumerate(zip(flat_axes, flat_args, strict=True))
        if axis is not None
    ]
    return ValueError(
        "vmap: the mapped axes of the arguments have different sizes; all must be the same "
        "batch size:\n" + "\n".join(lines)
    )


_VMAP_CONCRETIZATION_ADVICE = (
    "Under vmap, each example's mapped values are traced; a value Python control flow "
    "needs can be shared by every example instead: pass it with in_axes=None (or close "
    "over it) and it stays concrete."
)


def _mention_vmap_advice(error: ConcretizationError) -> None:
    message = error.args[0] if error.args and isinstance(error.args[0], str) else None
    if message is None or _VMAP_CONCRETIZATION_ADVICE in message:
        return
    # Before the " (at file:line)" the message ends with, if it names the user's line.
    body, at, where = message.rpartition(" (at ")
    if not at:
        body, where = message, ""
    error.args = (f"{body} {_VMAP_CONCRETIZATION_ADVICE}{at}{where}", *error.args[1:])


def vmap(fun, in_axes=0, out_axes=0):
    """Vectorise ``fun`` over an axis of its arguments.

    Args:
      fun: a function of arrays (pytrees of arrays).
      in_axes: for each argument, the axis to map over, or ``None`` for an argument
        shared by every example: an int, ``None``, or a pytree prefix of the arguments
        (a tuple with one entry per positional argument, say ``(0, None)``).
      out_axes: where the mapped axis goes in the outputs: an int, ``None`` (only for
        outputs that do not depend on the mapped axis), or a pytree prefix of the output.

    Returns:
      A function with ``fun``'s arguments whose outputs stack ``fun``'s outputs for
      each example along ``out_axes``.

    Raises:
      ValueError: the mapped axes have different sizes, or an axis is out of range.
      ConcretizationError: ``fun`` uses Python control flow on a mapped value.

    Example:
      >>> import numpy as np
      >>> import minigrad.numpy as mnp
      >>> vmap(mnp.dot)(np.ones((3, 2)), np.arange(6.0).reshape(3, 2))
      array([1., 5., 9.])
    """
    check_callable("vmap", fun)
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)  # as JAX does, a list of axes means one per argument

    @functools.wraps(fun)
    def vmapped(*args, **kwargs):
        flat_args, in_tree, flat_in_axes, paths = _flatten_mapped_arguments(args, kwargs, in_axes)
        dims = [
            _batch_dim(axis, x, path) for axis, x, path in zip(flat_in_axes, flat_args, paths, strict=True)
        ]
        axis_size = _axis_size(dims, flat_args, paths)
        batched_positions = [i for i, d in enumerate(dims) if d is not None]
        closed, out_tree = _stage_one_example(fun, flat_args, dims, batched_positions, in_tree)
        outs, out_dims = eval_jaxpr_batched(
            closed.jaxpr,
            closed.consts,
            [flat_args[i] for i in batched_positions],
            [dims[i] for i in batched_positions],
        )
        flat_out_axes = broadcast_prefix("vmap", "out_axes", out_axes, out_tree)
        results = [
            _place_output(value, dim, axis, axis_size)
            for value, dim, axis in zip(outs, out_dims, flat_out_axes, strict=True)
        ]
        return tree_unflatten(out_tree, results)

    return vmapped


def _flatten_mapped_arguments(args, kwargs, in_axes):
    """The leaves of ``(args, kwargs)``, their tree, each leaf's in_axes entry and path."""
    # As in JAX, keyword arguments are always mapped over their axis 0.
    # Python numbers stay numbers: shared ones are passed to the function as they are,
    # and promote weakly there, as they do eagerly.
    arg_leaves, args_tree = flatten_arguments("vmap", args, keep_numbers=True)
    kwarg_leaves, _ = flatten_arguments("vmap", kwargs, "kwargs", keep_numbers=True)
    flat_args = [*arg_leaves, *kwarg_leaves]
    in_tree = tree_structure((args, kwargs))
    flat_in_axes = [*broadcast_prefix("vmap", "in_axes", in_axes, args_tree), *[0] * len(kwarg_leaves)]
    paths = [f"args{path}" for path, _ in tree_flatten_with_path(args)[0]]
    paths += [f"kwargs{path}" for path, _ in tree_flatten_with_path(kwargs)[0]]
    return flat_args, in_tree, flat_in_axes, paths


def _batch_dim(axis, x, path):
    """The batch axis of argument ``x`` (at ``path``), counted from the front, or None."""
    _check_axis_spec("vmap", "in_axes", axis)
    if axis is None:
        return None
    ndim = get_aval(x).ndim
    if ndim == 0:
        share = (
            "Give it in_axes=None to share it with every example"
            if path.startswith("args")
            else "Keyword arguments are always mapped over axis 0; pass it positionally "
            "with in_axes=None, or close over it, to share it with every example"
        )
        raise ValueError(
            f"vmap: {path} is 0-d (shape ()), so it has no axis to map over "
            f"(in_axes gives it axis {axis}). {share}, or pass an array with a batch axis."
        )
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"vmap: in_axes={axis} for {path} of shape {get_aval(x).shape}, which has "
            f"{ndim} axes; choose an axis in [-{ndim}, {ndim}) or None to share it."
        )
    return int(axis) % ndim


def _axis_size(dims, flat_args, paths) -> int:
    """The one batch size every mapped argument agrees on."""
    sizes = {get_aval(x).shape[d] for x, d in zip(flat_args, dims, strict=True) if d is not None}
    if not sizes:
        raise ValueError(
            "vmap: no argument is mapped (every in_axes entry is None, or the arguments have "
            "no arrays); map at least one argument."
        )
    if len(sizes) > 1:
        raise _axis_sizes_error(dims, flat_args, paths)
    (axis_size,) = sizes
    return axis_size


def _stage_one_example(fun, flat_args, dims, batched_positions, in_tree):
    """``fun`` staged at the shapes of one example; returns the program and the output tree."""
    example_avals = []
    for i in batched_positions:
        aval = get_aval(flat_args[i])
        shape = list(aval.shape)
        del shape[dims[i]]
        example_avals.append(ShapedArray(shape, aval.dtype))
    out_trees = []

    def fun_of_example(*example_args):
        # Shared arguments are passed as they are, so their values stay visible.
        shared = [x for x, d in zip(flat_args, dims, strict=True) if d is None]
        full = merge_arguments(batched_positions, example_args, shared)
        example_args, example_kwargs = tree_unflatten(in_tree, full)
        # Only arrays and numbers can be stacked (a str or a generator would make an
        # object array): the same check jit and grad make.
        out = fun(*example_args, **example_kwargs)
        out_leaves, out_tree = flatten_arguments("vmap", out, "output", keep_numbers=True)
        out_trees.append(out_tree)
        return out_leaves

    try:
        closed = stage_flat(fun_of_example, example_avals)
    except ConcretizationError as error:
        _mention_vmap_advice(error)
        raise
    return closed, out_trees[0]


def _place_output(value, dim, axis, axis_size):
    """One batched output with its batch axis (``dim``) moved to its ``out_axes`` entry."""
    _check_axis_spec("vmap", "out_axes", axis)
    if axis is None and dim is not None:
        raise ValueError(
            f"vmap: out_axes=None for an output of shape {get_aval(value).shape} that depends "
            "on the mapped axis; give the axis where the examples should be stacked."
        )
    if not hasattr(value, "shape"):
        value = np.asarray(value)
    if axis is not None:
        ndim = get_aval(value).ndim + (dim is None)
        if not -ndim <= axis < ndim:
            raise ValueError(
                f"vmap: out_axes={axis} is out of range for an output with {ndim} axes (batch axis included)."
            )
    return _move_batch_axis(value, dim, axis, axis_size)
