"""``einsum`` in Array API standard calls, for a library without its own (array-api-strict).

The operands are contracted left to right, two at a time, as ``matmul`` calls: for a
pair, each index is a batch index (in both operands and needed later), a contracted
one (in both, needed no more), or belongs to one side; each operand is permuted to
(batch, own, contracted) and reshaped to three axes, so one ``matmul`` does the
pair. An index repeated within one operand is its diagonal (``linalg.diagonal`` of
the two axes moved last), and an index needed by nothing later is summed out first.
The last result is permuted to the output's order.

Example:
    >>> import numpy as np
    >>> einsum_standard(np, "ij,jk->ik", np.eye(2), np.arange(4.0).reshape(2, 2))
    array([[0., 1.],
           [2., 3.]])
"""

from __future__ import annotations

import math

__all__ = ["einsum_standard"]


def _distinct(xp, x, letters: str):
    """``(x, letters)`` with each repeated letter's axes replaced by their diagonal."""
    while True:
        repeated = next((c for c in letters if letters.count(c) > 1), None)
        if repeated is None:
            return x, letters
        first = letters.index(repeated)
        second = letters.index(repeated, first + 1)
        rest = [k for k in range(len(letters)) if k not in (first, second)]
        x = xp.linalg.diagonal(xp.permute_dims(x, (*rest, first, second)))
        letters = "".join(letters[k] for k in rest) + repeated


def _sum_out(xp, x, letters: str, needed: set):
    """Sum over the axes whose letters nothing later needs."""
    axes = tuple(k for k, c in enumerate(letters) if c not in needed)
    if not axes:
        return x, letters
    return xp.sum(x, axis=axes), "".join(c for c in letters if c in needed)


def _as_three_axes(xp, x, letters: str, groups):
    """``x`` permuted to the letter groups' order and reshaped to one axis per group."""
    order = [letters.index(c) for group in groups for c in group]
    sizes = {c: x.shape[letters.index(c)] for c in letters}
    x = xp.permute_dims(x, tuple(order))
    return xp.reshape(x, tuple(math.prod(sizes[c] for c in group) for group in groups)), sizes


def _pair(xp, left, left_letters: str, right, right_letters: str, needed: set):
    batch = [c for c in left_letters if c in right_letters and c in needed]
    contracted = [c for c in left_letters if c in right_letters and c not in needed]
    own_left = [c for c in left_letters if c not in right_letters]
    own_right = [c for c in right_letters if c not in left_letters]
    a, sizes = _as_three_axes(xp, left, left_letters, (batch, own_left, contracted))
    b, right_sizes = _as_three_axes(xp, right, right_letters, (batch, contracted, own_right))
    sizes.update(right_sizes)
    product = xp.matmul(a, b)
    letters = "".join(batch + own_left + own_right)
    return xp.reshape(product, tuple(sizes[c] for c in letters)), letters


def einsum_standard(xp, subscripts: str, *operands):
    """``einsum`` with explicit subscripts (``"ij,jk->ik"``, no ellipsis).

    Example:
      >>> import numpy as np
      >>> float(einsum_standard(np, "ii->", np.diag([1.0, 2.0])))
      3.0
    """
    inputs, output = subscripts.replace(" ", "").split("->")
    terms = inputs.split(",")
    pending = [_distinct(xp, x, letters) for x, letters in zip(operands, terms, strict=True)]

    def needed_after(k):
        return set(output).union(*(letters for _, letters in pending[k + 1 :]))

    result, letters = _sum_out(xp, *pending[0], needed_after(0))
    for k in range(1, len(pending)):
        x, x_letters = _sum_out(xp, *pending[k], needed_after(k) | set(letters))
        result, letters = _pair(xp, result, letters, x, x_letters, needed_after(k))
    result, letters = _sum_out(xp, result, letters, set(output))
    return xp.permute_dims(result, tuple(letters.index(c) for c in output)) if output else result
