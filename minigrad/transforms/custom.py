"""User-controlled differentiation: ``custom_vjp`` and ``checkpoint``.

Both stage the user's function into a program and bind a *call primitive* that carries
the program as a parameter, so every transform meets one equation whose rules say
what the function means to it:

- ``custom_vjp_call`` runs the user's ``fwd`` (outputs and residuals); its VJP calls the
  user's ``bwd`` on the residuals. Forward mode is refused, as in JAX.
- ``checkpoint`` runs the function; its VJP runs it again under ``vjp``, so the
  recording trace outside stores only the inputs and outputs of the call, not the
  intermediates, which are recomputed in the backward pass.

Values the function closes over become leading inputs of the call (the program's
constants), so tracers of outer transforms flow through it like any argument. A
``custom_vjp`` whose ``fwd`` has Python control flow on its arguments cannot be staged:
under ``grad``/``vjp``, whose values are known, it is bound as ``custom_vjp_call_on_values``,
which runs ``fwd`` on them (as JAX does); elsewhere that raises ``ConcretizationError``.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> import minigrad.numpy as mnp
    >>> mg.grad(checkpoint(lambda x: mnp.sin(mnp.sin(x))))(0.0)
    array(1.)
"""

from __future__ import annotations

import contextvars
import functools
import inspect

import numpy as np

from minigrad.core.errors import ConcretizationError
from minigrad.core.interpreter import eval_jaxpr
from minigrad.core.ir import ClosedJaxpr, Jaxpr
from minigrad.core.lowering import lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.recording import RecordTrace
from minigrad.core.staging import stage_flat
from minigrad.core.trace import Tracer, bind, current_depth, get_aval
from minigrad.ops.elementwise import add
from minigrad.ops.shape import batch_size, moveaxis, reduce_sum
from minigrad.transforms.ad import vjp
from minigrad.transforms.api_util import (
    as_array,
    check_callable,
    flatten_arguments,
    flatten_inputs,
    instantiate_zeros,
    merge_arguments,
)
from minigrad.transforms.batching import batch_jaxpr, vmap
from minigrad.transforms.forward import jvp
from minigrad.transforms.staged_program import stage_pytree
from minigrad.tree import tree_flatten, tree_leaves, tree_unflatten

__all__ = [
    "custom_vjp", "checkpoint", "custom_vjp_call_p", "custom_vjp_on_values_p", "checkpoint_p",
    "CUSTOM_VJP_JVP_MESSAGE",
]  # fmt: skip

CUSTOM_VJP_JVP_MESSAGE = (
    "custom_vjp: forward-mode differentiation (jvp, jacfwd, hessian) of a function with a "
    "custom VJP is not defined: the custom rule only says how to pull cotangents back. Use "
    "reverse mode (grad, vjp, jacrev, or jacrev(jacrev(f)) for a Hessian), or call the "
    "function without custom_vjp when you need forward mode."
)


# The custom_vjp functions whose fwd is being staged: fwd usually calls the function
# itself, and that inner call means the plain function, not the rule again.
_defining: contextvars.ContextVar[frozenset] = contextvars.ContextVar(
    "minigrad_custom_vjp_fwd", default=frozenset()
)


def _closure_convert(closed: ClosedJaxpr) -> tuple[Jaxpr, list]:
    """The program with its constants turned into leading inputs, and their values."""
    jaxpr = closed.jaxpr
    return Jaxpr((), (*jaxpr.constvars, *jaxpr.invars), jaxpr.eqns, jaxpr.outvars), list(closed.consts)


def _run(jaxpr, *inputs):
    return eval_jaxpr(jaxpr, (), *inputs)


def _call_shape_rule(name):
    def call_shape_rule(*avals, jaxpr, **params):
        if list(avals) != jaxpr.in_avals:
            raise TypeError(
                f"{name}: inputs typed {[str(a) for a in avals]} do not match the program's "
                f"{[str(a) for a in jaxpr.in_avals]}."
            )
        return list(jaxpr.out_avals)

    call_shape_rule.__name__ = f"{name}_shape_rule"
    return call_shape_rule


def _is_zero(ct) -> bool:
    """A cotangent known to be zero (the backward pass fills unused outputs with zeros)."""
    return isinstance(ct, np.ndarray) and not ct.any()


# ---------------------------------------------------------------------------------------
# checkpoint


checkpoint_p = Primitive("checkpoint", multiple_results=True)


@checkpoint_p.def_impl
def checkpoint_impl(*inputs, jaxpr):
    return _run(jaxpr, *inputs)


checkpoint_p.def_shape_rule(_call_shape_rule("checkpoint"))
checkpoint_p.def_lowering(lower_by_impl)  # compiled programs run the body as it is


@checkpoint_p.def_vjp_all
def checkpoint_vjp(wanted, cts, ans, *primals, jaxpr):
    # The point of checkpointing: the intermediates are computed again, here.
    _, pullback = vjp(functools.partial(_run, jaxpr), *primals)
    return pullback(list(cts))


@checkpoint_p.def_jvp
def checkpoint_jvp(primals, tangents, ans, *, jaxpr):
    filled = instantiate_zeros(tangents, [get_aval(p) for p in primals])
    _, tangents_out = jvp(functools.partial(_run, jaxpr), tuple(primals), tuple(filled))
    return tangents_out


@checkpoint_p.def_batch
def checkpoint_batch(args, dims, *, jaxpr):
    # The batched function is checkpointed again, so grad(vmap(checkpoint(f))) still
    # recomputes rather than stores.
    batched, out_dims = batch_jaxpr(ClosedJaxpr(jaxpr, ()), dims, batch_size(args, dims))
    new_jaxpr, consts = _closure_convert(batched)
    return bind(checkpoint_p, *consts, *args, jaxpr=new_jaxpr), out_dims


def checkpoint(fun):
    """Make reverse mode recompute ``fun``'s intermediates instead of storing them.

    Under ``grad``/``vjp`` only the inputs and outputs of ``fun`` are kept for the
    backward pass; ``fun`` runs again there to rebuild what its own backward pass needs.
    This trades compute for memory in deep models. ``fun`` is staged (like ``jit``), so
    Python control flow on its traced arguments raises ``ConcretizationError``.

    Args:
      fun: a function of arrays (pytrees of arrays).

    Returns:
      A function with the same values and derivatives as ``fun``.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> import minigrad.numpy as mnp
      >>> layer = checkpoint(lambda x: mnp.tanh(x) ** 2)
      >>> mg.grad(lambda x: layer(x).sum())(np.zeros(2))
      array([0., 0.])
    """

    check_callable("checkpoint", fun)

    def fun_of_args_and_kwargs(args, kwargs):
        return fun(*args, **kwargs)

    @functools.wraps(fun)
    def checkpointed(*args, **kwargs):
        # Keyword arguments are traced like positional ones (their leaves follow them).
        closed, out_tree = stage_pytree(fun_of_args_and_kwargs, (args, kwargs), "checkpoint")
        jaxpr, consts = _closure_convert(closed)
        flat_args, _ = flatten_arguments("checkpoint", (args, kwargs))
        outs = bind(checkpoint_p, *consts, *flat_args, jaxpr=jaxpr)
        return tree_unflatten(out_tree, outs)

    return checkpointed


# ---------------------------------------------------------------------------------------
# custom_vjp


custom_vjp_call_p = Primitive("custom_vjp_call", multiple_results=True)
custom_vjp_call_p.def_lowering(lower_by_impl)


@custom_vjp_call_p.def_impl
def custom_vjp_call_impl(*inputs, jaxpr, num_consts, num_res, _bwd):
    return _run(jaxpr, *inputs)


custom_vjp_call_p.def_shape_rule(_call_shape_rule("custom_vjp_call"))


@custom_vjp_call_p.def_vjp_all
def custom_vjp_call_vjp(wanted, cts, ans, *primals, jaxpr, num_consts, num_res, _bwd):
    num_out = len(cts) - num_res
    out_cts, res_cts = list(cts[:num_out]), list(cts[num_out:])
    arg_cts = list(_bwd(list(ans[num_out:]), out_cts))
    cts_in = [None] * num_consts + arg_cts
    # Cotangents reach the residuals only when the backward pass itself is being
    # differentiated (grad of grad), and closed-over values have no custom rule: both go
    # through the derivative of fwd's own program.
    residuals_used = not all(_is_zero(ct) for ct in res_cts)
    consts_wanted = any(wanted[:num_consts])
    if residuals_used or consts_wanted:
        _, pullback = vjp(functools.partial(_run, jaxpr), *primals)
        zero_outs = instantiate_zeros([None] * num_out, jaxpr.out_avals[:num_out])
        if residuals_used:
            through_residuals = pullback([*zero_outs, *res_cts])
            for i in range(num_consts, len(primals)):
                ct = through_residuals[i]
                cts_in[i] = ct if cts_in[i] is None else add(cts_in[i], ct)
        if consts_wanted:
            through_fwd = pullback([*out_cts, *res_cts])
            cts_in[:num_consts] = through_fwd[:num_consts]
    return cts_in


@custom_vjp_call_p.def_jvp
def custom_vjp_call_jvp(primals, tangents, ans, **params):
    raise TypeError(CUSTOM_VJP_JVP_MESSAGE)


@custom_vjp_call_p.def_batch
def custom_vjp_call_batch(args, dims, *, jaxpr, num_consts, num_res, _bwd):
    size = batch_size(args, dims)
    # Every output is batched, so each example's cotangent reaches its own bwd call.
    batched, out_dims = batch_jaxpr(ClosedJaxpr(jaxpr, ()), dims, size, all_batched=True)
    new_jaxpr, consts = _closure_convert(batched)
    arg_dims = dims[num_consts:]

    def batched_bwd(residuals, out_cts):
        per_example = vmap(_bwd)(residuals, out_cts)
        arg_cts = []
        for ct, dim in zip(per_example, arg_dims, strict=True):
            if ct is None:
                arg_cts.append(None)
            elif dim is None:
                arg_cts.append(reduce_sum(ct, (0,)))  # a shared input: add every example's share
            else:
                arg_cts.append(moveaxis(ct, 0, dim) if dim else ct)
        return arg_cts

    outs = bind(
        custom_vjp_call_p,
        *consts,
        *args,
        jaxpr=new_jaxpr,
        num_consts=len(consts) + num_consts,
        num_res=num_res,
        _bwd=batched_bwd,
    )
    return outs, out_dims


# ---------------------------------------------------------------------------------------
# custom_vjp run on values: when fwd has Python control flow on its arguments, it cannot
# be staged; under grad and vjp the values are known, so fwd runs on them instead.


class _RuleOnValues:
    """fwd as a Python function of flat leaves, and bwd with the layout of fwd's outputs
    (known once fwd has run: ``trees`` gets ``out``, ``res`` and ``num_out``)."""

    def __init__(self, flat_fwd, user_bwd, in_tree, arg_avals, trees):
        self.flat_fwd = flat_fwd
        self.user_bwd = user_bwd
        self.in_tree = in_tree
        self.arg_avals = arg_avals
        self.trees = trees

    def bwd(self, residuals, out_cts) -> list:
        trees = self.trees
        return _call_bwd(
            self.user_bwd, self.in_tree, trees["out"], trees["res"], self.arg_avals, residuals, out_cts
        )


def _innermost_trace_records(args) -> bool:
    traces = [arg._trace for arg in args if isinstance(arg, Tracer)]
    return bool(traces) and isinstance(max(traces, key=lambda trace: trace.level), RecordTrace)


custom_vjp_on_values_p = Primitive("custom_vjp_call_on_values", multiple_results=True)
custom_vjp_on_values_p.def_lowering(lower_by_impl)


@custom_vjp_on_values_p.def_impl
def custom_vjp_on_values_impl(*inputs, _rule):
    outs = _rule.flat_fwd(*inputs)
    if any(isinstance(out, Tracer) for out in outs):
        raise TypeError(
            "custom_vjp: fwd closes over a value traced by the transform that calls it and uses "
            "Python control flow, so it can be neither staged nor run on plain values. Pass that "
            "value as an argument of the function."
        )
    return outs


@custom_vjp_on_values_p.def_shape_rule
def custom_vjp_on_values_shape_rule(*avals, _rule):
    return list(stage_flat(_rule.flat_fwd, avals).out_avals)


@custom_vjp_on_values_p.def_vjp_all
def custom_vjp_on_values_vjp(wanted, cts, ans, *primals, _rule):
    num_out = _rule.trees["num_out"]
    out_cts, res_cts = list(cts[:num_out]), list(cts[num_out:])
    cts_in = list(_rule.bwd(list(ans[num_out:]), out_cts))
    if not all(_is_zero(ct) for ct in res_cts):
        # grad of grad: cotangents of the residuals go through the derivative of fwd.
        _, pullback = vjp(_rule.flat_fwd, *primals)
        zero_outs = instantiate_zeros([None] * num_out, [get_aval(a) for a in ans[:num_out]])
        through_residuals = pullback([*zero_outs, *res_cts])
        cts_in = [
            t if c is None else (c if t is None else add(c, t)) for c, t in zip(cts_in, through_residuals)
        ]
    return cts_in


@custom_vjp_on_values_p.def_jvp
def custom_vjp_on_values_jvp(primals, tangents, ans, **params):
    raise TypeError(CUSTOM_VJP_JVP_MESSAGE)


@custom_vjp_on_values_p.def_batch
def custom_vjp_on_values_batch(args, dims, *, _rule):
    # Staging this equation needs fwd staged, which failed before it was bound, so no
    # program holds it; mapped for completeness, without the custom rule.
    outs = vmap(_rule.flat_fwd, in_axes=tuple(dims))(*args)
    return outs, [0] * len(outs)


class custom_vjp:  # noqa: N801 - the name users know from JAX
    """A function whose reverse-mode derivative is given by the user.

    Decorate ``fun``, then give ``f.defvjp(fwd, bwd)``:

    - ``fwd(*args)`` returns ``(fun(*args), residuals)``, residuals being any pytree of
      arrays that ``bwd`` needs;
    - ``bwd(residuals, cotangent)`` returns a tuple with one cotangent per argument of
      ``fun`` (each shaped like its argument, or ``None`` for zero).

    Args:
      fun: the function, of arrays (pytrees of arrays) and the static arguments below.
      nondiff_argnums: positions of arguments that are not differentiated, such as
        Python numbers, strings or functions: ``bwd`` receives them first,
        ``bwd(*nondiff_args, residuals, cotangent)``, and returns cotangents for the
        other arguments only. They must not be traced arrays.

    Returns:
      A callable with ``fun``'s signature and values, and a ``defvjp`` method.

    ``grad``, ``vjp``, ``jacrev``, ``vmap`` and ``make_jaxpr`` use the rule; ``grad`` of
    ``grad`` differentiates ``fwd`` and ``bwd`` themselves. Forward mode (``jvp``,
    ``jacfwd``, ``hessian``) raises ``TypeError``, as in JAX. ``fwd`` is staged when it
    can be; when it has Python control flow on its arguments, ``grad`` and ``vjp`` run it
    on their values instead (as JAX does), while ``jit``, ``vmap`` and ``make_jaxpr``
    raise ``ConcretizationError``.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> import minigrad.numpy as mnp
      >>> @custom_vjp
      ... def clip_gradient(x):
      ...     return x
      >>> def clip_fwd(x):
      ...     return x, None
      >>> def clip_bwd(residuals, g):
      ...     return (mnp.clip(g, -1.0, 1.0),)
      >>> clip_gradient.defvjp(clip_fwd, clip_bwd)
      >>> mg.grad(lambda x: 5.0 * clip_gradient(x))(2.0)
      array(1.)
    """

    def __init__(self, fun, nondiff_argnums=()):
        check_callable("custom_vjp", fun)
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd = None
        self.bwd = None

    def defvjp(self, fwd, bwd) -> None:
        """Set the forward function (output and residuals) and the backward function."""
        self.fwd = fwd
        self.bwd = bwd

    def __call__(self, *args, **kwargs):
        args = _resolve_kwargs(self.fun, args, kwargs)
        if self.fwd is None:
            raise TypeError(
                f"custom_vjp: {getattr(self.fun, '__name__', 'the function')} has no VJP yet; call "
                "f.defvjp(fwd, bwd) before calling it."
            )
        if current_depth() == 0 or id(self) in _defining.get():
            # No transform is active, or fwd is calling the function: no rule is needed.
            return self.fun(*args)
        static = self._static_arguments(args)
        dynamic = tuple(a for i, a in enumerate(args) if i not in static)
        leaves, in_avals, in_tree = flatten_inputs("custom_vjp", dynamic)
        flat_args = [as_array(leaf) for leaf in leaves]
        trees = {}

        def flat_fwd(*leaves):
            dynamic_args = tree_unflatten(in_tree, leaves)
            token = _defining.set(_defining.get() | {id(self)})
            try:
                result = self.fwd(*merge_arguments(static.keys(), static.values(), dynamic_args))
            finally:
                _defining.reset(token)
            if not (isinstance(result, tuple) and len(result) == 2):
                raise TypeError(
                    f"custom_vjp: fwd must return a pair (output, residuals), got {type(result).__name__}."
                )
            out_leaves, trees["out"] = tree_flatten(result[0])
            res_leaves, trees["res"] = flatten_arguments("custom_vjp fwd", result[1], "residuals")
            trees["num_out"] = len(out_leaves)
            return [*out_leaves, *res_leaves]

        user_bwd = functools.partial(self.bwd, *(static[i] for i in sorted(static)))
        arg_avals = [get_aval(x) for x in flat_args]
        try:
            closed = stage_flat(flat_fwd, in_avals)
        except ConcretizationError:
            if not _innermost_trace_records(flat_args):
                raise
            # Under grad/vjp values are known: run fwd on them, as JAX does, so Python
            # control flow in fwd works there.
            rule = _RuleOnValues(flat_fwd, user_bwd, in_tree, arg_avals, trees)
            outs = bind(custom_vjp_on_values_p, *flat_args, _rule=rule)
            return tree_unflatten(trees["out"], outs[: trees["num_out"]])
        jaxpr, consts = _closure_convert(closed)
        out_tree, res_tree, num_out = trees["out"], trees["res"], trees["num_out"]
        bwd = functools.partial(_call_bwd, user_bwd, in_tree, out_tree, res_tree, arg_avals)
        outs = bind(
            custom_vjp_call_p,
            *consts,
            *flat_args,
            jaxpr=jaxpr,
            num_consts=len(consts),
            num_res=len(jaxpr.outvars) - num_out,
            _bwd=bwd,
        )
        return tree_unflatten(out_tree, outs[:num_out])

    def _static_arguments(self, args) -> dict:
        """The ``nondiff_argnums`` arguments by position, checked not to be traced."""
        return nondiff_arguments(
            "custom_vjp",
            self.nondiff_argnums,
            args,
            "pass arrays as ordinary arguments and return None as their cotangent from bwd.",
        )


def _resolve_kwargs(fun, args, kwargs) -> tuple:
    """``args`` with ``kwargs`` put in their positions, as ``fwd`` and ``bwd`` take
    positional arguments only (JAX does the same); defaults are filled in too, so
    ``fwd`` receives every argument."""
    name = getattr(fun, "__name__", "the function")
    try:
        signature = inspect.signature(fun)
    except (TypeError, ValueError):  # no signature to read (a builtin): positions only
        if kwargs:
            raise TypeError(f"custom_vjp: {name} takes positional arguments only.") from None
        return args
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as error:
        raise TypeError(f"custom_vjp: the call does not fit the signature of {name}: {error}.") from None
    bound.apply_defaults()
    if bound.kwargs:
        raise TypeError(
            f"custom_vjp: {name} was called with keyword-only arguments {sorted(bound.kwargs)}, "
            "which cannot be given positions for fwd and bwd. Make them ordinary parameters, "
            "or bind them with functools.partial before applying custom_vjp."
        )
    return bound.args


def _call_bwd(bwd, in_tree, out_tree, res_tree, arg_avals, residuals, out_cts) -> list:
    """Call the user's ``bwd`` on flat lists; return one cotangent (or None) per leaf."""
    result = bwd(tree_unflatten(res_tree, residuals), tree_unflatten(out_tree, out_cts))
    args = tree_unflatten(in_tree, arg_avals)
    if not isinstance(result, (tuple, list)) or len(result) != len(args):
        raise TypeError(
            f"custom_vjp: bwd must return a tuple with one cotangent per argument ({len(args)}), "
            f"got {type(result).__name__}"
            + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
            + "."
        )
    cts: list = []
    for position, (ct, arg) in enumerate(zip(result, args, strict=True)):
        arg_leaves, arg_tree = tree_flatten(arg)
        if ct is None:
            cts.extend([None] * len(arg_leaves))
            continue
        ct_leaves, ct_tree = tree_flatten(ct)
        if ct_tree != arg_tree:
            raise TypeError(
                f"custom_vjp: bwd returned a cotangent of structure {ct_tree!r} for argument "
                f"{position}, which has structure {arg_tree!r}."
            )
        for ct_leaf, arg_leaf in zip(ct_leaves, arg_leaves, strict=True):
            ct_leaf = as_array(ct_leaf)
            if get_aval(ct_leaf).shape != arg_leaf.shape:
                raise ValueError(
                    f"custom_vjp: bwd returned a cotangent of shape {get_aval(ct_leaf).shape} for "
                    f"argument {position} of shape {arg_leaf.shape}; they must match."
                )
            cts.append(ct_leaf)
    return cts


def nondiff_arguments(construct: str, nondiff_argnums, args, advice: str) -> dict:
    """The ``nondiff_argnums`` arguments of a call by position, checked not to be traced.

    Shared by ``custom_vjp`` and ``custom_jvp``; ``advice`` ends the error for a traced one.

    Example:
      >>> nondiff_arguments("custom_vjp", (1,), (2.0, "mode"), "")
      {1: 'mode'}
    """
    static = {}
    for argnum in nondiff_argnums:
        if not -len(args) <= argnum < len(args):
            raise ValueError(
                f"{construct}: nondiff_argnums={nondiff_argnums} does not fit a call with "
                f"{len(args)} arguments."
            )
        value = args[argnum]
        if any(isinstance(leaf, Tracer) for leaf in tree_leaves(value)):
            raise TypeError(
                f"{construct}: argument {argnum % len(args)} is in nondiff_argnums but is a traced "
                f"array. nondiff_argnums is for static values (numbers, strings, functions); {advice}"
            )
        static[argnum % len(args)] = value
    return static
