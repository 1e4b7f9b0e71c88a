"""The value and the gradient at every variable of a program (micrograd's data | grad).

Example:
    >>> import minigrad as mg
    >>> closed = mg.make_jaxpr(lambda x: x * 3.0)(2.0)
    >>> [float(v) for v in values_of_all_vars(closed, [2.0]).values()]
    [2.0, 6.0]
"""

from __future__ import annotations

import attrs
import numpy as np

from minigrad.core.dtypes import is_float_dtype
from minigrad.core.interpreter import eval_jaxpr
from minigrad.core.ir import ClosedJaxpr, Eqn, Jaxpr, Var
from minigrad.ops.elementwise import add_p
from minigrad.transforms.ad import grad

__all__ = ["values_of_all_vars", "grads_of_all_vars", "has_scalar_float_output", "is_float"]


def is_float(aval) -> bool:
    return is_float_dtype(aval.dtype)


def values_of_all_vars(closed: ClosedJaxpr, flat_args) -> dict:
    """The value of every input, constant and intermediate variable at ``flat_args``."""
    jaxpr = closed.jaxpr
    every_var = [*jaxpr.constvars, *jaxpr.invars, *(v for eqn in jaxpr.eqns for v in eqn.outvars)]
    everything = Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.eqns, every_var)
    return dict(zip(every_var, eval_jaxpr(everything, closed.consts, *flat_args), strict=True))


def grads_of_all_vars(closed: ClosedJaxpr, flat_args) -> dict:
    """d output / d v for every floating variable ``v``, at ``flat_args``.

    Each intermediate ``v`` is rewritten as ``v = v' + probe_v`` with a new input
    ``probe_v`` (zero); the gradient with respect to ``probe_v`` is the gradient at ``v``.
    """
    jaxpr = closed.jaxpr
    probes, eqns = [], []
    for eqn in jaxpr.eqns:
        renamed = [Var(v.aval) if is_float(v.aval) else v for v in eqn.outvars]
        eqns.append(attrs.evolve(eqn, outvars=renamed))
        for original, new in zip(eqn.outvars, renamed, strict=True):
            if new is not original:
                probe = Var(original.aval)
                probes.append((original, probe))
                eqns.append(Eqn(add_p, (new, probe), (original,), source=eqn.source))
    probed = Jaxpr(jaxpr.constvars, (*jaxpr.invars, *(p for _, p in probes)), eqns, jaxpr.outvars)
    float_inputs = [i for i, v in enumerate(jaxpr.invars) if is_float(v.aval)]

    def output(chosen_inputs, probe_values):
        inputs = list(flat_args)
        for i, value in zip(float_inputs, chosen_inputs, strict=True):
            inputs[i] = value
        return eval_jaxpr(probed, closed.consts, *inputs, *probe_values)[0]

    zeros = [np.zeros(v.aval.shape, v.aval.dtype) for v, _ in probes]
    input_grads, probe_grads = grad(output, argnums=(0, 1))([flat_args[i] for i in float_inputs], zeros)
    grads = {jaxpr.invars[i]: g for i, g in zip(float_inputs, input_grads, strict=True)}
    grads.update({var: g for (var, _), g in zip(probes, probe_grads, strict=True)})
    return grads


def has_scalar_float_output(closed: ClosedJaxpr) -> bool:
    outs = closed.jaxpr.outvars
    return len(outs) == 1 and outs[0].aval.shape == () and is_float(outs[0].aval)
