"""``associative_scan``: all prefix combinations in O(log n) vectorised rounds.

For an associative ``fn``, the prefixes ``x0, fn(x0, x1), fn(fn(x0, x1), x2), ...`` can
be computed by combining neighbours pairwise, recursing on the half as long sequence of
pairs, and filling in the even positions from the odd ones (the parallel prefix sum of
Ladner and Fischer, as ``jax.lax.associative_scan``). Each round is a few slices, one
call of ``fn`` on whole arrays and an interleave, all ordinary operations of
``minigrad.numpy``: every transform applies without rules of its own, and the program
grows with log2 of the length.

Example:
    >>> import numpy as np
    >>> associative_scan(lambda a, b: a + b, np.arange(1.0, 6.0))
    array([ 1.,  3.,  6., 10., 15.])
"""

from __future__ import annotations

import minigrad.numpy as mnp
from minigrad.core.trace import get_aval
from minigrad.transforms.api_util import flatten_arguments
from minigrad.tree import tree_flatten, tree_unflatten

__all__ = ["associative_scan"]


def _interleave(evens: list, odds: list) -> list:
    """``e0, o0, e1, o1, ...`` along axis 0 (there may be one more even than odd)."""
    out = []
    for even, odd in zip(evens, odds, strict=True):
        pairs = min(even.shape[0], odd.shape[0])
        woven = mnp.stack([even[:pairs], odd[:pairs]], axis=1)
        woven = mnp.reshape(woven, (2 * pairs, *even.shape[1:]))
        out.append(mnp.concatenate([woven, even[pairs:]], axis=0) if even.shape[0] > pairs else woven)
    return out


def _prefixes(combine, elems: list) -> list:
    """Inclusive prefix combinations of the leaves ``elems`` along axis 0."""
    length = elems[0].shape[0]
    if length < 2:
        return elems
    pairs = combine([e[0:-1:2] for e in elems], [e[1::2] for e in elems])
    odds = _prefixes(combine, pairs)  # the prefixes ending at positions 1, 3, 5, ...
    if length % 2 == 0:
        evens = combine([o[:-1] for o in odds], [e[2::2] for e in elems])
    else:
        evens = combine(odds, [e[2::2] for e in elems])
    evens = [mnp.concatenate([e[:1], rest], axis=0) for e, rest in zip(elems, evens, strict=True)]
    return _interleave(evens, odds)


def associative_scan(fn, elems, reverse: bool = False, axis: int = 0):
    """Inclusive prefix combinations of ``elems`` along ``axis`` with an associative ``fn``.

    ``fn(a, b)`` combines two pytrees of ``elems``' structure whose leaves are arrays of
    equal shape (slices of ``elems`` along ``axis``), elementwise, as in
    ``jax.lax.associative_scan``. With ``reverse=True`` the combinations run from the
    end: the result is the scan of the reversed elements, reversed.

    Args:
      fn: an associative function of two pytrees, vectorised over the leading axis.
      elems: a pytree of arrays with the same length along ``axis``.
      reverse: scan from the last element to the first.
      axis: the axis to scan along.

    Returns:
      A pytree like ``elems``.

    Example:
      >>> import numpy as np
      >>> associative_scan(lambda a, b: a * b, np.array([1.0, 2.0, 3.0, 4.0]), reverse=True)
      array([24., 24., 12.,  4.])
    """
    leaves, tree = flatten_arguments("associative_scan", elems, "elems")
    if not leaves:
        return elems
    lengths = set()
    for leaf in leaves:
        ndim = get_aval(leaf).ndim
        if not -ndim <= axis < ndim:
            raise ValueError(
                f"associative_scan: axis {axis} is out of range for a leaf of shape {leaf.shape}."
            )
        lengths.add(get_aval(leaf).shape[axis])
    if len(lengths) > 1:
        raise ValueError(
            f"associative_scan: the leaves of elems have lengths {sorted(lengths)} along axis {axis}; "
            "they must all have the same length."
        )
    moved = [mnp.moveaxis(leaf, axis, 0) for leaf in leaves]
    if reverse:
        moved = [mnp.flip(leaf, 0) for leaf in moved]

    def combine(a_leaves, b_leaves):
        out = fn(tree_unflatten(tree, a_leaves), tree_unflatten(tree, b_leaves))
        out_leaves, out_tree = tree_flatten(out)
        if out_tree != tree:
            raise TypeError(
                f"associative_scan: fn must return the structure of elems, {tree!r}; it returned {out_tree!r}."
            )
        return out_leaves

    scanned = _prefixes(combine, moved)
    if reverse:
        scanned = [mnp.flip(leaf, 0) for leaf in scanned]
    return tree_unflatten(tree, [mnp.moveaxis(leaf, 0, axis) for leaf in scanned])
