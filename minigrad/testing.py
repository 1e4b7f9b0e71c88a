"""Gradient checking against central finite differences.

``check_grads`` compares what a transform computes with what the function's values
say numerically. In reverse mode it pulls back a random cotangent ``u`` and compares
each element of the result with the central difference of ``<u, f(x)>``; in forward
mode it pushes a random tangent ``v`` and compares with ``(f(x + h v) - f(x - h v)) / 2h``.
Higher orders apply the same check to the derivative functions themselves.

Complex inputs and outputs are checked as JAX checks them: a complex number is a pair
of reals, directions are complex, and the check holds for any function, holomorphic or
not. Reverse mode is the *transpose* of forward mode (docs/complex.md): a cotangent
``c`` reads a tangent ``t`` as ``Re(sum(c * t))``, so the gradient entry of a complex
input ``z_k`` is ``Re<c, J e_k> - 1j Re<c, J (1j e_k)>`` (``grad(abs)(z)`` is
``conj(z) / abs(z)``, as in JAX).

Example:
    >>> import numpy as np
    >>> import minigrad.numpy as mnp
    >>> check_grads(mnp.sin, (np.array([0.5, 1.0]),), order=2)
    >>> check_grads(lambda z: mnp.abs(z) + mnp.exp(z), (np.array([1.0 + 2.0j]),))
"""

from __future__ import annotations

import numpy as np

from minigrad.core.dtypes import is_float_dtype
from minigrad.transforms.ad import vjp
from minigrad.transforms.forward import jvp
from minigrad.tree import tree_flatten, tree_flatten_with_path, tree_map, tree_unflatten

__all__ = ["check_grads", "numerical_jvp"]

# (step, absolute tolerance, relative tolerance) by floating dtype.
_DEFAULTS = {
    np.dtype(np.float64): (1e-5, 1e-5, 1e-5),
    np.dtype(np.float32): (1e-2, 2e-2, 2e-2),
    np.dtype(np.float16): (1e-1, 2e-1, 2e-1),
}


def _inexact(x) -> bool:
    return is_float_dtype(np.result_type(x))


def _random_like(rng, x):
    x = np.asarray(x)
    if not _inexact(x):
        return np.zeros(x.shape, x.dtype)
    if x.dtype.kind == "c":
        return (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)).astype(x.dtype)
    return rng.standard_normal(x.shape).astype(x.dtype)


def _wide(x):
    """``x`` in float64, or complex128 if it is complex: differences lose nothing."""
    x = np.asarray(x)
    return x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)


def _flat(tree):
    return [np.asarray(leaf) for leaf in tree_flatten(tree)[0]]


def _pairing(cotangents, tangents) -> float:
    """``Re(sum(c * t))`` over flat lists: how a cotangent reads a tangent (reverse mode
    transposes forward mode, without conjugating)."""
    return float(sum(np.sum(np.real(_wide(c) * _wide(t))) for c, t in zip(cotangents, tangents, strict=True)))


def numerical_jvp(fun, args, tangents, eps):
    """Central difference of ``fun`` at ``args`` in direction ``tangents`` (flat lists).

    Example:
      >>> [round(float(d), 6) for d in numerical_jvp(lambda x: x**3, [np.array(2.0)], [np.array(1.0)], 1e-5)]
      [12.0]
    """
    plus = fun(*[a + eps * t if _inexact(a) else a for a, t in zip(args, tangents, strict=True)])
    minus = fun(*[a - eps * t if _inexact(a) else a for a, t in zip(args, tangents, strict=True)])
    return [(_wide(p) - _wide(m)) / (2 * eps) for p, m in zip(_flat(plus), _flat(minus), strict=True)]


def _tolerances(args, eps, atol, rtol, order):
    # A complex dtype is as precise as its parts (complex64: float32).
    dtypes = [np.finfo(np.result_type(a)).dtype for a in args if _inexact(a)]
    worst = min(dtypes, key=lambda d: d.itemsize) if dtypes else np.dtype(np.float64)
    default_eps, default_atol, default_rtol = _DEFAULTS.get(worst, _DEFAULTS[np.dtype(np.float64)])
    scale = 10.0 ** (order - 1)
    return (
        eps if eps is not None else default_eps,
        atol if atol is not None else default_atol * scale,
        rtol if rtol is not None else default_rtol * scale,
    )


def _assert_close(name, what, actual, expected, atol, rtol):
    actual, expected = _wide(actual), _wide(expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{name}: {what} has shape {actual.shape}, expected {expected.shape}")
    if actual.size == 0:
        return
    excess = np.abs(actual - expected) - (atol + rtol * np.abs(expected))
    excess = np.where(np.isnan(actual) != np.isnan(expected), np.inf, np.nan_to_num(excess, nan=-1.0))
    worst = np.unravel_index(np.argmax(excess), excess.shape)
    if excess[worst] > 0:
        raise AssertionError(
            f"{name}: {what} disagrees with finite differences; worst element {tuple(int(i) for i in worst)}: "
            f"got {actual[worst]!r}, expected {expected[worst]!r} (atol={atol}, rtol={rtol})"
        )


def check_grads(
    fun, args, order: int = 1, modes=("fwd", "rev"), eps=None, atol=None, rtol=None, seed: int = 0
):
    """Check ``fun``'s derivatives at ``args`` against central finite differences.

    Args:
      fun: a function of the positional ``args`` (pytrees of arrays).
      args: a tuple of arguments.
      order: check derivatives up to this order (each order differentiates the previous
        order's derivative function).
      modes: ``"rev"`` checks ``vjp``; ``"fwd"`` checks ``jvp``.
      eps, atol, rtol: finite-difference step and tolerances (defaults by dtype).
      seed: seeds the random directions.

    Raises:
      AssertionError naming the argument and the worst element.

    Example:
      >>> import numpy as np
      >>> check_grads(lambda x, y: x * y, (np.array(2.0), np.array(3.0)))
    """
    args = tuple(args)
    flat_args, in_tree = tree_flatten(args)
    names = [f"args{path}" for path, _ in tree_flatten_with_path(args)[0]]
    flat_args = [np.asarray(a) for a in flat_args]
    eps, atol, rtol = _tolerances(flat_args, eps, atol, rtol, order)
    rng = np.random.default_rng(seed)

    def flat_fun(*flat):
        return fun(*tree_unflatten(in_tree, flat))

    if "fwd" in modes:
        tangents = [_random_like(rng, a) for a in flat_args]
        _, out_tangent = jvp(flat_fun, tuple(flat_args), tuple(tangents))
        expected = numerical_jvp(flat_fun, flat_args, tangents, eps)
        for i, (got, want) in enumerate(zip(_flat(out_tangent), expected, strict=True)):
            _assert_close("check_grads (jvp)", f"output {i} tangent", got, want, atol, rtol)
        if order > 1:

            def jvp_of_fun(*flat):
                return jvp(flat_fun, tuple(flat), tuple(tangents))[1]

            check_grads(jvp_of_fun, flat_args, order - 1, ("fwd",), eps, atol, rtol, seed + 1)

    if "rev" in modes:
        out, vjp_fn = vjp(flat_fun, *flat_args)
        cotangent = tree_map(lambda o: _random_like(rng, o), out)
        cts = vjp_fn(cotangent)
        u = _flat(cotangent)

        def read_by_u(position, index, direction):
            basis = [np.zeros_like(a) for a in flat_args]
            basis[position][index] = direction
            return _pairing(u, numerical_jvp(flat_fun, flat_args, basis, eps))

        for position, (arg, ct) in enumerate(zip(flat_args, cts, strict=True)):
            if not _inexact(arg):
                continue
            expected = np.zeros(arg.shape, np.complex128 if arg.dtype.kind == "c" else np.float64)
            for index in np.ndindex(*arg.shape):
                expected[index] = read_by_u(position, index, 1)
                if arg.dtype.kind == "c":
                    expected[index] -= 1j * read_by_u(position, index, 1j)
            _assert_close("check_grads (vjp)", f"the gradient of {names[position]}", ct, expected, atol, rtol)
        if order > 1:

            def vjp_of_fun(*flat):
                return vjp(flat_fun, *flat)[1](cotangent)

            check_grads(vjp_of_fun, flat_args, order - 1, ("rev",), eps, atol, rtol, seed + 1)
