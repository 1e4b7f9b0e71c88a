"""Transformations that wrap another: on some leaves only (``masked``), every k steps
(``multi_steps``), only when the gradients are finite (``apply_if_finite``); and the
exponential moving average ``ema`` (of updates, or of parameters).

The choices they make per step (emit or accumulate, apply or skip) are ``where``
selections, not Python branches, so they work unchanged under ``jit``.

Example:
    >>> import numpy as np
    >>> from minigrad.optim.optimizers import sgd
    >>> opt = multi_steps(sgd(1.0), every_k_schedule=2)
    >>> state = opt.init(np.zeros(1))
    >>> updates, state = opt.update(np.array([1.0]), state)
    >>> updates
    array([0.])
    >>> opt.update(np.array([3.0]), state)[0]
    array([-2.])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

import minigrad.numpy as mnp
from minigrad.optim.base import GradientTransformation, arrays, check_decay, state_record, zero_count
from minigrad.tree import tree_flatten, tree_leaves, tree_map, tree_structure, tree_unflatten

__all__ = [
    "masked", "multi_steps", "apply_if_finite", "ema", "MaskedState", "MultiStepsState", "ApplyIfFiniteState",
    "EmaState",
]  # fmt: skip


@state_record
class MaskedState(NamedTuple):
    """The inner transformation's state, over the selected leaves only."""

    inner_state: Any


@state_record
class MultiStepsState(NamedTuple):
    """Steps accumulated so far in this round, their summed gradients, the inner state."""

    mini_step: Any
    accumulated: Any
    inner_state: Any


@state_record
class ApplyIfFiniteState(NamedTuple):
    """Consecutive and total skipped steps, and the inner state."""

    notfinite_count: Any
    total_notfinite: Any
    inner_state: Any


@state_record
class EmaState(NamedTuple):
    """The step count and the moving average."""

    count: Any
    ema: Any


def _select(flag, on_true, on_false):
    """``on_true`` where the scalar ``flag`` holds, else ``on_false``, leaf by leaf."""
    return tree_map(lambda a, b: mnp.where(flag, a, b), on_true, on_false)


def masked(inner: GradientTransformation, mask) -> GradientTransformation:
    """Apply ``inner`` to the leaves where ``mask`` is true; pass the others through unchanged.

    Args:
      inner: the transformation for the selected leaves.
      mask: a pytree of booleans with the structure of the parameters, or a function
        ``params -> mask`` (e.g. "every leaf with more than one axis").

    Example:
      >>> import numpy as np
      >>> from minigrad.optim.transforms import add_decayed_weights
      >>> decay_weights_only = masked(add_decayed_weights(0.5), {"w": True, "b": False})
      >>> params = {"w": np.array([2.0]), "b": np.array([2.0])}
      >>> grads = {"w": np.zeros(1), "b": np.zeros(1)}
      >>> decay_weights_only.update(grads, decay_weights_only.init(params), params)[0]
      {'b': array([0.]), 'w': array([1.])}
    """

    def flags(tree) -> list[bool]:
        chosen = mask(tree) if callable(mask) else mask
        if tree_structure(chosen) != tree_structure(tree):
            raise ValueError(
                f"optim.masked: the mask has structure {tree_structure(chosen)} but the parameters "
                f"have {tree_structure(tree)}; give one boolean per leaf."
            )
        return [bool(flag) for flag in tree_leaves(chosen)]

    def selected(tree, chosen):
        return [leaf for leaf, flag in zip(tree_leaves(tree), chosen, strict=True) if flag]

    def init(params):
        return MaskedState(inner.init(selected(params, flags(params))))

    def update(grads, state, params=None):
        chosen = flags(grads if params is None else params)
        inner_params = None if params is None else selected(params, chosen)
        inner_updates, inner_state = inner.update(selected(grads, chosen), state.inner_state, inner_params)
        leaves, treedef = tree_flatten(grads)
        replacements = iter(inner_updates)
        merged = [next(replacements) if flag else leaf for leaf, flag in zip(leaves, chosen, strict=True)]
        return tree_unflatten(treedef, merged), MaskedState(inner_state)

    return GradientTransformation(init, update)


def multi_steps(inner: GradientTransformation, every_k_schedule: int) -> GradientTransformation:
    """Gradient accumulation: average ``k`` steps' gradients, then make one ``inner`` update.

    The first ``k - 1`` calls of each round return zero updates (the parameters stay
    put); the ``k``-th applies ``inner`` to the mean of the ``k`` gradients. With the
    loss a mean over its batch, ``k`` steps on ``k`` equal minibatches thus equal one step
    on their union.

    Example:
      >>> import numpy as np
      >>> from minigrad.optim.optimizers import adam
      >>> opt = multi_steps(adam(0.1), 3)
      >>> int(opt.init(np.zeros(2)).mini_step)
      0
    """
    k = int(every_k_schedule)
    if k < 1:
        raise ValueError(f"optim.multi_steps: every_k_schedule must be >= 1, got {every_k_schedule}.")

    def init(params):
        return MultiStepsState(zero_count(), tree_map(mnp.zeros_like, params), inner.init(params))

    def update(grads, state, params=None):
        accumulated = tree_map(lambda a, g: a + g, state.accumulated, grads)
        mini_step = mnp.add(state.mini_step, 1)
        emit = mini_step == k
        mean = tree_map(lambda a: a / float(k), accumulated)
        inner_updates, inner_state = inner.update(mean, state.inner_state, params)
        updates = _select(emit, inner_updates, tree_map(mnp.zeros_like, inner_updates))
        new_state = MultiStepsState(
            mnp.where(emit, 0, mini_step).astype(np.int32),
            _select(emit, tree_map(mnp.zeros_like, accumulated), accumulated),
            _select(emit, inner_state, state.inner_state),
        )
        return arrays(updates), arrays(new_state)

    return GradientTransformation(init, update)


def apply_if_finite(inner: GradientTransformation, max_consecutive_errors: int = 5) -> GradientTransformation:
    """Skip steps whose gradients hold ``nan`` or ``inf``: zero updates, ``inner``'s state kept.

    After ``max_consecutive_errors`` skipped steps in a row the next bad step is applied
    anyway (as optax does), so a run that cannot recover shows it instead of stalling.
    The state counts skipped steps (``notfinite_count`` in a row, ``total_notfinite``).

    Example:
      >>> import numpy as np
      >>> from minigrad.optim.optimizers import sgd
      >>> opt = apply_if_finite(sgd(0.1))
      >>> updates, state = opt.update(np.array([np.nan]), opt.init(np.zeros(1)))
      >>> updates, int(state.total_notfinite)
      (array([0.]), 1)
    """

    def init(params):
        return ApplyIfFiniteState(zero_count(), zero_count(), inner.init(params))

    def update(grads, state, params=None):
        finite = [mnp.all(mnp.isfinite(g)) for g in tree_leaves(grads)]
        all_finite = finite[0] if finite else np.asarray(True)
        for flag in finite[1:]:
            all_finite = mnp.logical_and(all_finite, flag)
        apply = mnp.logical_or(all_finite, state.notfinite_count >= max_consecutive_errors)
        # A skipped step feeds zeros to the inner update (whose result is discarded), so
        # no inf or nan is computed with on the way.
        fed = tree_map(lambda g: mnp.where(apply, g, mnp.zeros_like(g)), grads)
        inner_updates, inner_state = inner.update(fed, state.inner_state, params)
        updates = _select(apply, inner_updates, tree_map(mnp.zeros_like, inner_updates))
        new_state = ApplyIfFiniteState(
            mnp.where(all_finite, 0, state.notfinite_count + 1).astype(np.int32),
            (state.total_notfinite + mnp.where(all_finite, 0, 1)).astype(np.int32),
            _select(apply, inner_state, state.inner_state),
        )
        return arrays(updates), arrays(new_state)

    return GradientTransformation(init, update)


def ema(decay: float, debias: bool = True) -> GradientTransformation:
    """The exponential moving average of what it is given: ``a <- decay a + (1 - decay) x``.

    The output is ``a``, or ``a / (1 - decay**t)`` with ``debias`` (undoing the start at
    zero). Fed gradients it smooths them; fed the parameters after each step it keeps
    their running average (Polyak averaging), often better to evaluate than the last
    parameters: ``averaged, ema_state = avg.update(params, ema_state)``.

    Example:
      >>> import numpy as np
      >>> avg = ema(0.5)
      >>> state = avg.init(np.zeros(1))
      >>> _, state = avg.update(np.array([2.0]), state)
      >>> avg.update(np.array([4.0]), state)[0]
      array([3.33333333])
    """
    check_decay("ema", decay=decay)

    def init(params):
        return EmaState(zero_count(), tree_map(mnp.zeros_like, params))

    def update(updates, state, params=None):
        count = mnp.add(state.count, 1)
        average = tree_map(lambda a, x: decay * a + (1.0 - decay) * x, state.ema, updates)
        out = average
        if debias:
            correction = 1.0 - mnp.power(decay, count)
            out = tree_map(lambda a: a / mnp.astype(correction, mnp.asarray(a).dtype), average)
        return arrays(out), EmaState(count, arrays(average))

    return GradientTransformation(init, update)
