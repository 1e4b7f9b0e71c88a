"""Contractions: ``matmul`` (NumPy's batched matrix product) and ``einsum``.

``matmul_p`` takes operands of at least two dimensions and broadcasts their batch axes;
``minigrad.numpy.matmul`` adds and removes the axes NumPy adds for 1-D operands.
``einsum_p`` takes explicit subscripts (``"ij,jk->ik"``, no ellipsis) and any number of
operands. An einsum's cotangent for one operand is another einsum: the output's
cotangent contracted with the other operands, with identity matrices for repeated
(diagonal) indices and ones for indices that only that operand had.

Two of ``reduce_sum``'s simplifications live here too, beside the products they remove:
a sum over batch axes of a batched ``matmul`` becomes one ``matmul`` contracting them,
and a sum of a large broadcast ``mul`` becomes an ``einsum`` (``vmap`` of per-example
gradients makes both).

Example:
    >>> import numpy as np
    >>> einsum("ij,j->i", np.eye(2), np.array([3.0, 4.0]))
    array([3., 4.])
"""

from __future__ import annotations

import string

import numpy as np

from minigrad.core.ir import Eqn, ShapedArray, Var
from minigrad.core.lowering import FRESH, Code, lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.rewrite import operand_producer
from minigrad.core.trace import bind, get_aval
from minigrad.ops.elementwise import add, broadcast_shapes, mul_p
from minigrad.ops.shape import (
    batch_to_front,
    pad_batched_rank,
    reduce_sum_p,
    reshape,
    reshape_p,
    transpose,
    transpose_p,
)

__all__ = ["matmul", "einsum", "matmul_p", "einsum_p", "swap_last_axes"]


def swap_last_axes(x):
    ndim = get_aval(x).ndim
    return transpose(x, (*range(ndim - 2), ndim - 1, ndim - 2))


matmul_p = Primitive("matmul")


@matmul_p.def_impl
def matmul_impl(a, b):
    if b.ndim == 2 and a.ndim > 2 and a.flags.c_contiguous:
        # One product over all the rows, not one per leading index (``matmul_over_rows``).
        rows = a.reshape(int(np.prod(a.shape[:-1], dtype=np.int64)), a.shape[-1])
        return np.matmul(rows, b).reshape(*a.shape[:-1], b.shape[-1])
    return np.matmul(a, b)


@matmul_p.def_shape_rule
def matmul_shape_rule(a, b):
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(
            f"matmul: operands need at least 2 dimensions here, got shapes {a.shape} and {b.shape}."
        )
    if a.dtype != b.dtype:
        raise TypeError(f"matmul: operands have different dtypes {a.dtype} and {b.dtype}.")
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not align: the last axis of the first "
            f"({a.shape[-1]}) must equal the second-to-last axis of the second ({b.shape[-2]})."
        )
    try:
        batch = broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2])
    except ValueError:
        # Name the operands' shapes, not just the batch parts the broadcast saw.
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not broadcast: their batch axes (all "
            f"but the last two), {a.shape[:-2]} and {b.shape[:-2]}, must match or be 1 from "
            "the right. Reshape or expand_dims an operand, or use einsum."
        ) from None
    return ShapedArray((*batch, a.shape[-2], b.shape[-1]), a.dtype)


def matmul_lhs_vjp(ct, ans, a, b):
    return matmul(ct, swap_last_axes(b))


def matmul_rhs_vjp(ct, ans, a, b):
    return matmul(swap_last_axes(a), ct)


matmul_p.def_vjp(matmul_lhs_vjp, matmul_rhs_vjp)


@matmul_p.def_jvp
def matmul_jvp(primals, tangents, ans):
    (a, b), (ta, tb) = primals, tangents
    out = None if ta is None else matmul(ta, b)
    if tb is not None:
        term = matmul(a, tb)
        out = term if out is None else add(out, term)
    return out


def matmul(a, b):
    """Batched matrix product of operands with at least two dimensions."""
    return bind(matmul_p, a, b)


def _fold_rows(a, b):
    """``a @ b`` for a 2-D ``b``, as one matrix product over all of ``a``'s rows.

    NumPy's broadcasting matmul runs one small product per leading index (a
    matrix-vector product each, for a vmapped ``W @ x``); folding the leading axes into
    the rows makes it one matrix-matrix product, and its gradient for ``b`` one product
    contracting the batch too, instead of a (batch x k x n) tensor that is then summed.
    """
    shape = get_aval(a).shape
    rows = reshape(a, (int(np.prod(shape[:-1], dtype=np.int64)), shape[-1]))
    return reshape(matmul(rows, b), (*shape[:-1], get_aval(b).shape[-1]))


@matmul_p.def_batch
def matmul_batch(args, dims):
    (a, b), (a_dim, b_dim) = args, dims
    # A shared 2-D weight: fold the batch into the rows of one product; a shared left
    # operand goes through (b^T a^T)^T, whose transposes are views.
    if a_dim is not None and b_dim is None and get_aval(b).ndim == 2:
        return _fold_rows(batch_to_front(a, a_dim), b), 0
    if a_dim is None and b_dim is not None and get_aval(a).ndim == 2:
        return swap_last_axes(_fold_rows(swap_last_axes(batch_to_front(b, b_dim)), swap_last_axes(a))), 0
    # Otherwise the vmapped axis becomes a leading batch axis of matmul's own batch
    # broadcasting; an unbatched operand is used as it is.
    rank = max(get_aval(x).ndim - (d is not None) for x, d in zip(args, dims))
    a, b = (x if d is None else pad_batched_rank(batch_to_front(x, d), rank) for x, d in zip(args, dims))
    return matmul(a, b), 0


@matmul_p.def_lowering
def matmul_lowering(ctx, a, b):
    return Code(f"{a} @ {b}", FRESH)


@transpose_p.def_simplification
def transposed_matmul(eqn, producers):
    """``swap(a @ b)`` is ``swap(b) @ swap(a)``: the product is written in the order it
    is read (a weight's gradient ``(x^T ct)^T`` comes out row-major, like the weight it
    updates), and the operands' transposes are views BLAS reads as they are."""
    inner = operand_producer(eqn, producers)
    if inner is None or inner.primitive is not matmul_p:
        return None
    ndim = eqn.outvars[0].aval.ndim
    if eqn.params["permutation"] != (*range(ndim - 2), ndim - 1, ndim - 2):
        return None
    eqns, operands = [], []
    for x in reversed(inner.invars):
        rank = x.aval.ndim
        more, x = _staged_transpose(x, (*range(rank - 2), rank - 1, rank - 2), eqn.source)
        eqns += more
        operands.append(x)
    eqns.append(Eqn(matmul_p, operands, eqn.outvars, {}, eqn.source))
    return eqns, eqn.outvars[0]


@matmul_p.def_simplification
def matmul_operand_copied_by_rows(eqn, producers):
    """An operand that is a transpose flattened across its memory order is copied with
    its matrix axis of unit stride innermost, then read through a transposed view.

    A weight's gradient hoisted out of a scan contracts (time, batch) of the stacked
    inputs: ``x.transpose((2, 1, 0)).reshape((features, time * batch))`` for inputs
    ``x`` of (batch, time, features). NumPy's copy for that reshape gathers one element
    at a time; ``x.transpose((1, 0, 2)).reshape((time * batch, features)).T`` copies
    rows of ``features`` contiguous elements, and BLAS reads the transposed view as it
    is. A GRU's input-weight gradient, (32, 32, 32) float32 embeddings against a
    (1024, 192) cotangent: 172 us gathered, 141 us copied by rows (medians of 15 x 200
    calls, one CPU).
    """
    eqns, operands, changed = [], [], False
    for position, matrix_axis in ((0, -2), (1, -1)):
        more, operand = _copied_by_rows(eqn, producers, position, matrix_axis)
        eqns += more
        operands.append(operand)
        changed |= bool(more)
    if not changed:
        return None
    eqns.append(Eqn(matmul_p, operands, eqn.outvars, {}, eqn.source))
    return eqns, eqn.outvars[0]


@matmul_p.def_simplification
def matmul_over_rows(eqn, producers):
    """A stack of products with one 2-D right operand is one product over all the rows.

    NumPy's ``(..., n, k) @ (k, m)`` calls BLAS once per leading index: a read-out layer
    over (32, 32, 64) GRU states costs 32 products of (32, 64) rows. Folding the leading
    axes into rows makes it one product (on (32, 32, 64) @ (64, 27) float32: 66 us as 32
    products, 32 us as one). A stack whose rows do not fold as a view (a (time, batch)
    transpose, as far as the program shows: ``_assumed_strides``) is copied by the
    reshape, which costs less than the products it saves (92 us as 32 products, 47 us
    copied and multiplied once) unless the product has few columns: then it is left.
    """
    a, b = eqn.invars
    if b.aval.ndim != 2 or a.aval.ndim < 3 or type(a) is not Var:
        return None
    shape, columns = a.aval.shape, b.aval.shape[-1]
    if columns < _FEW_COLUMNS and not _folds_as_view(a, producers):
        return None
    eqns, rows = _staged_reshape(a, (int(np.prod(shape[:-1], dtype=np.int64)), shape[-1]), eqn.source)
    product = Var(ShapedArray((rows.aval.shape[0], columns), eqn.outvars[0].aval.dtype))
    eqns.append(Eqn(matmul_p, [rows, b], [product], {}, eqn.source))
    eqns.append(Eqn(reshape_p, [product], eqn.outvars, {"new_sizes": eqn.outvars[0].aval.shape}, eqn.source))
    return eqns, eqn.outvars[0]


# Below this many columns a product reads each row about as often as copying it would.
_FEW_COLUMNS = 8


def _folds_as_view(x, producers) -> bool:
    """Whether ``x``'s leading axes and rows merge into one axis without a copy, if the
    array its transposes read is row-major."""
    strides, shape = _assumed_strides(x, producers), x.aval.shape
    axes = [i for i in range(len(shape) - 1) if shape[i] != 1]
    return all(strides[i] == strides[j] * shape[j] for i, j in zip(axes, axes[1:])) and (
        not axes or strides[axes[-1]] == shape[-1] * strides[-1]
    )


def _copied_by_rows(eqn, producers, position, matrix_axis):
    """Equations remaking operand ``position`` of a matmul (its uncontracted axis is
    ``matrix_axis``) as a copy by rows and a transposed view, and the new operand; no
    equations when the operand is not a gathering copy of a transpose."""
    operand = eqn.invars[position]
    flatten = operand_producer(eqn, producers, position)
    if flatten is None or flatten.primitive is not reshape_p:
        return [], operand
    reorder = operand_producer(flatten, producers)
    if reorder is None or reorder.primitive is not transpose_p or type(reorder.invars[0]) is not Var:
        return [], operand
    x, permutation = reorder.invars[0], reorder.params["permutation"]
    shape, transposed = operand.aval.shape, reorder.outvars[0].aval.shape
    kept = len(shape) - 2
    # The reshape keeps the leading axes and the matrix axis, and merges the contracted ones.
    matrix_position = kept if matrix_axis == -2 else len(transposed) - 1
    merged = range(kept + 1, len(transposed)) if matrix_axis == -2 else range(kept, len(transposed) - 1)
    if (
        len(merged) < 2
        or transposed[:kept] != shape[:kept]
        or transposed[matrix_position] != shape[matrix_axis]
    ):
        return [], operand
    # The matrix axis moves to the other end of the matrix (innermost for a left
    # operand, outermost for a right one); the contracted axes keep their order.
    contracted = [permutation[i] for i in merged]
    if matrix_axis == -2:
        rows_order = (*permutation[:kept], *contracted, permutation[matrix_position])
    else:
        rows_order = (*permutation[:kept], permutation[matrix_position], *contracted)
    strides = _assumed_strides(x, producers)
    if (
        strides[permutation[-1]] == 1
        or strides[rows_order[-1]] != 1
        or not _copied_elements(x, permutation, merged, matrix_position, producers)
    ):
        return [], operand
    eqns, rows = _staged_transpose(x, rows_order, eqn.source)
    more, rows = _staged_reshape(rows, (*shape[:kept], shape[-1], shape[-2]), eqn.source)
    eqns += more
    more, view = _staged_transpose(rows, (*range(kept), kept + 1, kept), eqn.source)
    return eqns + more, view


def _staged_reshape(x, shape, source):
    """An equation reshaping atom ``x`` to ``shape`` and its result, or none if it has it."""
    if x.aval.shape == shape:
        return [], x
    out = Var(ShapedArray(shape, x.aval.dtype))
    return [Eqn(reshape_p, [x], [out], {"new_sizes": shape}, source)], out


def _staged_transpose(x, permutation, source):
    if permutation == tuple(range(len(permutation))):
        return [], x
    out = Var(ShapedArray(tuple(x.aval.shape[i] for i in permutation), x.aval.dtype))
    return [Eqn(transpose_p, [x], [out], {"permutation": permutation}, source)], out


# reduce_sum is declared in ``shape``, below matmul; its rewrite of a summed product is
# declared here, beside the product it rewrites.
@reduce_sum_p.def_simplification
def sum_of_matmul(eqn, producers):
    """``sum(a @ b)`` over batch axes is one product contracting them with ``k``.

    ``vmap`` of a per-example gradient makes each weight's gradient an outer product per
    example, (batch x out x in), that is then summed over the batch. Moving the summed
    axes next to ``k`` (``a``: ``(..., n, summed*k)``, ``b``: ``(..., summed*k, m)``)
    computes the same sum in one matrix product without that tensor.
    """
    inner = operand_producer(eqn, producers)
    if inner is None or inner.primitive is not matmul_p:
        return None
    a, b = inner.invars
    product, axes = inner.outvars[0].aval, eqn.params["axes"]
    batch = product.ndim - 2
    if (
        not axes
        or axes[-1] >= batch
        or type(a) is not Var
        or type(b) is not Var
        or a.aval.shape[:-2] != product.shape[:-2]
        or b.aval.shape[:-2] != product.shape[:-2]
        or eqn.outvars[0].aval.dtype != product.dtype
    ):
        return None
    kept = tuple(i for i in range(batch) if i not in axes)
    kept_shape = tuple(product.shape[i] for i in kept)
    contracted = int(np.prod([product.shape[i] for i in axes], dtype=np.int64)) * a.aval.shape[-1]
    n, m = product.shape[-2:]
    # The contracted axes may be flattened with the summed ones first or with k first:
    # either is the same sum. Each order needs some operands copied (reshaped across
    # their memory order); the order copying fewer elements is taken. The output layer
    # of a GRU, whose states come from a scan in (time, batch) order: 0.18 ms with the
    # states copied, 0.07 ms with the smaller gradient copied instead.
    summed_first = ((*kept, batch, *axes, batch + 1), (*kept, *axes, batch, batch + 1))
    k_first = ((*kept, batch, batch + 1, *axes), (*kept, batch, *axes, batch + 1))

    def copied(orders):
        a_order, b_order = orders  # lhs (*kept, n, contracted), rhs (*kept, contracted, m)
        lhs_copied = _copied_elements(a, a_order, range(len(kept) + 1, batch + 2), len(kept), producers)
        return lhs_copied + _copied_elements(b, b_order, range(len(kept), batch + 1), batch + 1, producers)

    a_order, b_order = min((summed_first, k_first), key=copied)
    eqns, lhs = _staged_transpose(a, a_order, eqn.source)
    more, lhs = _staged_reshape(lhs, (*kept_shape, n, contracted), eqn.source)
    eqns += more
    more, rhs = _staged_transpose(b, b_order, eqn.source)
    eqns += more
    more, rhs = _staged_reshape(rhs, (*kept_shape, contracted, m), eqn.source)
    eqns += more
    eqns.append(Eqn(matmul_p, [lhs, rhs], eqn.outvars, {}, eqn.source))
    return eqns, eqn.outvars[0]


def _assumed_strides(x, producers) -> tuple:
    """The strides of ``x``, in elements, if the array its transposes read is row-major
    (as the results of NumPy's calls are)."""
    producer = producers.get(x)
    if producer is not None and producer.primitive is transpose_p and type(producer.invars[0]) is Var:
        base = _assumed_strides(producer.invars[0], producers)
        return tuple(base[i] for i in producer.params["permutation"])
    strides, step = [], 1
    for size in reversed(x.aval.shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def _copied_elements(x, permutation, merged, other, producers) -> int:
    """How many elements ``x`` transposed by ``permutation``, its axes ``merged``
    flattened into one, costs to copy: none when NumPy reshapes it as a view that BLAS
    reads as it is (the merged axis or the ``other`` matrix axis has unit stride),
    else all of ``x``."""
    shape = [x.aval.shape[i] for i in permutation]
    assumed = _assumed_strides(x, producers)
    strides = [assumed[i] for i in permutation]
    axes = [i for i in merged if shape[i] != 1]
    chained = all(strides[i] == strides[j] * shape[j] for i, j in zip(axes, axes[1:]))
    unit = (not axes or strides[axes[-1]] == 1) or shape[other] == 1 or strides[other] == 1
    return 0 if chained and unit else x.aval.size


# ---------------------------------------------------------------------------------------
# einsum


def parse_subscripts(subscripts: str) -> tuple[list[str], str]:
    inputs, output = subscripts.split("->")
    return inputs.split(","), output


einsum_p = Primitive("einsum")


@einsum_p.def_impl
def einsum_impl(*operands, subscripts):
    return np.einsum(subscripts, *operands, optimize=len(operands) > 1)


@einsum_p.def_shape_rule
def einsum_shape_rule(*operands, subscripts):
    inputs, output = parse_subscripts(subscripts)
    shown = ", ".join(str(op.shape) for op in operands)
    if len(inputs) != len(operands):
        raise ValueError(
            f"einsum: {subscripts!r} names {len(inputs)} operands but {len(operands)} were given."
        )
    sizes: dict[str, int] = {}
    for letters, op in zip(inputs, operands):
        if len(letters) != op.ndim:
            raise ValueError(
                f"einsum: {letters!r} in {subscripts!r} does not match an operand of shape {op.shape}."
            )
        for letter, size in zip(letters, op.shape):
            if sizes.setdefault(letter, size) != size:
                raise ValueError(
                    f"einsum: index {letter!r} of {subscripts!r} has sizes {sizes[letter]} and "
                    f"{size} in operands of shapes {shown}."
                )
    if any(letter not in sizes for letter in output) or len(set(output)) != len(output):
        raise ValueError(f"einsum: the output {output!r} of {subscripts!r} must name distinct input indices.")
    dtypes = {op.dtype for op in operands}
    if len(dtypes) > 1:
        raise TypeError(f"einsum: operands have different dtypes {sorted(map(str, dtypes))}.")
    return ShapedArray(tuple(sizes[letter] for letter in output), operands[0].dtype)


@einsum_p.def_vjp_argnum
def einsum_vjp(argnum, ct, ans, *operands, subscripts):
    inputs, output = parse_subscripts(subscripts)
    others = [(s, op) for j, (s, op) in enumerate(zip(inputs, operands)) if j != argnum]
    used = set(output).union(*[set(s) for s, _ in others])
    unused_letters = iter(c for c in string.ascii_letters if c not in subscripts)
    dtype = get_aval(ct).dtype
    target, helpers, seen = [], [], set()
    for letter, size in zip(inputs[argnum], get_aval(operands[argnum]).shape):
        if letter in seen:
            # A repeated index reads a diagonal; its cotangent lives on that diagonal.
            fresh = next(unused_letters)
            target.append(fresh)
            helpers.append((letter + fresh, np.eye(size, dtype=dtype)))
            continue
        seen.add(letter)
        target.append(letter)
        if letter not in used:
            # Summed within this operand only: every element gets the cotangent.
            helpers.append((letter, np.ones(size, dtype)))
            used.add(letter)
    all_subscripts = [output] + [s for s, _ in others] + [s for s, _ in helpers]
    spec = ",".join(all_subscripts) + "->" + "".join(target)
    return einsum(spec, ct, *[op for _, op in others], *[h for _, h in helpers])


@einsum_p.def_jvp
def einsum_jvp(primals, tangents, ans, *, subscripts):
    out = None
    for i, tangent in enumerate(tangents):
        if tangent is None:
            continue
        operands = list(primals)
        operands[i] = tangent
        term = einsum(subscripts, *operands)
        out = term if out is None else add(out, term)
    return out


def einsum(subscripts: str, *operands):
    """``np.einsum`` with explicit output subscripts and no ellipsis."""
    return bind(einsum_p, *operands, subscripts=subscripts.replace(" ", ""))


@einsum_p.def_batch
def einsum_batch(args, dims, *, subscripts):
    # The batch axis gets a letter of its own, kept in the output.
    inputs, output = parse_subscripts(subscripts)
    letter = next(c for c in string.ascii_letters if c not in subscripts)
    operands, letters = [], []
    for x, d, s in zip(args, dims, inputs):
        operands.append(x if d is None else batch_to_front(x, d))
        letters.append(s if d is None else letter + s)
    return einsum(",".join(letters) + "->" + letter + output, *operands), 0


einsum_p.def_lowering(lower_by_impl)


# A summed product of broadcast operands becomes an einsum only when the product it
# avoids is large against its operands: np.einsum's contraction-path search costs tens
# of microseconds per call, more than a small mul-and-sum.
_MIN_AVOIDED_ELEMENTS = 1 << 16
_MIN_GROWTH = 4


@reduce_sum_p.def_simplification
def sum_of_broadcast_product(eqn, producers):
    """``sum(a * b)`` where ``a * b`` broadcasts to a large array is ``einsum(a, b)``.

    Each operand keeps the letters of its own (non-broadcast) axes; the summed axes are
    left out of the output, so the product is never made.
    """
    inner = operand_producer(eqn, producers)
    if inner is None or inner.primitive is not mul_p:
        return None
    product = inner.outvars[0].aval
    operands = inner.invars
    if (
        product.size < _MIN_AVOIDED_ELEMENTS
        or product.size < _MIN_GROWTH * sum(x.aval.size for x in operands)
        or not np.issubdtype(product.dtype, np.inexact)
        or any(x.aval.dtype != product.dtype for x in operands)
        or eqn.outvars[0].aval.dtype != product.dtype
        or product.ndim > len(string.ascii_letters)
    ):
        return None
    letters = string.ascii_letters[: product.ndim]
    eqns, squeezed, subscripts = [], [], []
    for x in operands:
        offset = product.ndim - x.aval.ndim
        own = [i for i, size in enumerate(x.aval.shape) if size == product.shape[offset + i]]
        more, x = _staged_reshape(x, tuple(x.aval.shape[i] for i in own), eqn.source)
        eqns += more
        squeezed.append(x)
        subscripts.append("".join(letters[offset + i] for i in own))
    axes = eqn.params["axes"]
    output = "".join(letter for i, letter in enumerate(letters) if i not in axes)
    spec = f"{subscripts[0]},{subscripts[1]}->{output}"
    eqns.append(Eqn(einsum_p, squeezed, eqn.outvars, {"subscripts": spec}, eqn.source))
    return eqns, eqn.outvars[0]
