"""The building blocks optimizers are chained from, each one idea of an update rule.

Every function here returns a ``GradientTransformation``; ``sgd``, ``adam`` and the other
optimizers in ``optimizers.py`` are ``chain``s of them. Equations use ``g`` for the
incoming updates (the gradients at the head of a chain), ``t`` for the number of this
update counted from 1.

Example:
    >>> import numpy as np
    >>> from minigrad.optim.base import chain
    >>> opt = chain(scale_by_adam(), scale_by_learning_rate(0.1))
    >>> opt.update(np.array([3.0]), opt.init(np.zeros(1)))[0]
    array([-0.1])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

import minigrad.numpy as mnp
from minigrad.optim.base import (
    EmptyState,
    GradientTransformation,
    arrays,
    astype,
    check_decay,
    check_learning_rate,
    state_record,
    zero_count,
)
from minigrad.tree import tree_flatten, tree_leaves, tree_map, tree_unflatten

__all__ = [
    "scale_by_adam", "scale_by_learning_rate", "add_decayed_weights", "trace", "clip_by_global_norm",
    "scale_by_rms", "scale_by_rss", "scale_by_lion", "scale_by_trust_ratio", "scale_by_factored_rms",
    "AdamState", "SgdState", "ClipState", "ScheduleState", "RmsState", "RssState", "LionState",
    "FactoredState",
]  # fmt: skip


@state_record
class AdamState(NamedTuple):
    """The step count and the first and second moment estimates."""

    count: Any
    mu: Any
    nu: Any


@state_record
class SgdState(NamedTuple):
    """The velocity of momentum (a pytree like the params)."""

    velocity: Any


@state_record
class ClipState(NamedTuple):
    """Clipping keeps no state."""


@state_record
class ScheduleState(NamedTuple):
    """The step count a learning-rate schedule is evaluated at."""

    count: Any


@state_record
class RmsState(NamedTuple):
    """The moving average of squared gradients."""

    nu: Any


@state_record
class RssState(NamedTuple):
    """The running sum of squared gradients."""

    sum_of_squares: Any


@state_record
class LionState(NamedTuple):
    """Lion's momentum."""

    mu: Any


@state_record
class FactoredState(NamedTuple):
    """Adafactor's step count and second moments: row and column means for matrices, the
    full average ``v`` for vectors and scalars (unused parts are 0-d placeholders)."""

    count: Any
    rows: Any
    cols: Any
    v: Any


def _zeros_like(tree):
    return tree_map(mnp.zeros_like, tree)


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Adam's direction: ``m_hat / (sqrt(v_hat) + eps)`` (Kingma & Ba, 2015).

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g**2``, ``m_hat = m / (1 - b1**t)``,
    ``v_hat = v / (1 - b2**t)``.

    Example:
      >>> import numpy as np
      >>> opt = scale_by_adam()
      >>> opt.update(np.array([-5.0]), opt.init(np.zeros(1)))[0].round(6)
      array([-1.])
    """
    check_decay("scale_by_adam", b1=b1, b2=b2)

    def init(params):
        return AdamState(zero_count(), _zeros_like(params), _zeros_like(params))

    def update(grads, state, params=None):
        count = mnp.add(state.count, 1)
        mu = tree_map(lambda m, g: b1 * m + (1.0 - b1) * g, state.mu, grads)
        nu = tree_map(lambda v, g: b2 * v + (1.0 - b2) * mnp.square(g), state.nu, grads)
        # Bias corrections 1 - b**t undo the moments' start at zero.
        correction1 = 1.0 - mnp.power(b1, count)
        correction2 = 1.0 - mnp.power(b2, count)

        def direction(m, v):
            dtype = mnp.asarray(m).dtype
            return (m / astype(correction1, dtype)) / (mnp.sqrt(v / astype(correction2, dtype)) + eps)

        return arrays(tree_map(direction, mu, nu)), AdamState(count, arrays(mu), arrays(nu))

    return GradientTransformation(init, update)


def scale_by_learning_rate(learning_rate, flip_sign: bool = True) -> GradientTransformation:
    """Multiply by ``-learning_rate`` (by ``+learning_rate`` with ``flip_sign=False``).

    A schedule is evaluated at the number of updates made so far, which this
    transformation counts in its state; a number needs no state.

    Example:
      >>> import numpy as np
      >>> opt = scale_by_learning_rate(lambda step: 0.1 * (step + 1))
      >>> state = opt.init(np.zeros(1))
      >>> _, state = opt.update(np.ones(1), state)
      >>> opt.update(np.ones(1), state)[0]
      array([-0.2])
    """
    check_learning_rate("scale_by_learning_rate", learning_rate)
    sign = -1.0 if flip_sign else 1.0

    def init(params):
        return ScheduleState(zero_count()) if callable(learning_rate) else EmptyState()

    def update(grads, state, params=None):
        if callable(learning_rate):
            rate, state = learning_rate(state.count), ScheduleState(mnp.add(state.count, 1))
        else:
            rate = learning_rate
        scaled = tree_map(lambda g: g * astype(sign * rate, mnp.asarray(g).dtype), grads)
        return arrays(scaled), state

    return GradientTransformation(init, update)


def add_decayed_weights(weight_decay: float = 0.0) -> GradientTransformation:
    """Add ``weight_decay * params`` (decoupled weight decay, Loshchilov & Hutter, 2019).

    Example:
      >>> import numpy as np
      >>> opt = add_decayed_weights(0.5)
      >>> opt.update(np.array([1.0]), opt.init(None), np.array([4.0]))[0]
      array([3.])
    """
    if weight_decay < 0:
        raise ValueError(f"optim.add_decayed_weights: weight_decay must be >= 0, got {weight_decay}.")

    def init(params):
        return EmptyState()

    def update(grads, state, params=None):
        if params is None:
            raise ValueError(
                "optim.add_decayed_weights: weight decay needs the parameters; call "
                "update(grads, state, params)."
            )
        return arrays(tree_map(lambda g, p: g + weight_decay * p, grads, params)), state

    return GradientTransformation(init, update)


def trace(decay: float, nesterov: bool = False) -> GradientTransformation:
    """Momentum: ``v <- decay * v + g``; the output is ``v``, or ``g + decay * v`` (Nesterov).

    Example:
      >>> import numpy as np
      >>> opt = trace(0.9)
      >>> _, state = opt.update(np.ones(1), opt.init(np.zeros(1)))
      >>> opt.update(np.ones(1), state)[0]
      array([1.9])
    """
    check_decay("trace", decay=decay)

    def init(params):
        return SgdState(_zeros_like(params))

    def update(grads, state, params=None):
        velocity = tree_map(lambda v, g: decay * v + g, state.velocity, grads)
        out = tree_map(lambda v, g: g + decay * v, velocity, grads) if nesterov else velocity
        return arrays(out), SgdState(arrays(velocity))

    return GradientTransformation(init, update)


def _global_norm(tree):
    squares = [mnp.sum(mnp.square(mnp.astype(g, np.float64))) for g in tree_leaves(tree)]
    return mnp.sqrt(sum(squares[1:], squares[0]))


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Scale all gradients by ``min(1, max_norm / norm)``, ``norm`` over every leaf.

    Example:
      >>> import numpy as np
      >>> clip = clip_by_global_norm(1.0)
      >>> updates, _ = clip.update({"a": np.array([3.0]), "b": np.array([4.0])}, clip.init(None))
      >>> updates
      {'a': array([0.6]), 'b': array([0.8])}
    """
    if not max_norm > 0:
        raise ValueError(f"optim.clip_by_global_norm: max_norm must be positive, got {max_norm}.")

    def init(params):
        return ClipState()

    def update(grads, state, params=None):
        if not tree_leaves(grads):
            return grads, state
        # max_norm / max(norm, max_norm) is min(1, max_norm / norm) and never divides by 0.
        scale = max_norm / mnp.maximum(_global_norm(grads), max_norm)
        return arrays(tree_map(lambda g: g * astype(scale, mnp.asarray(g).dtype), grads)), state

    return GradientTransformation(init, update)


def scale_by_rms(decay: float = 0.9, eps: float = 1e-8) -> GradientTransformation:
    """RMSProp's direction (Tieleman & Hinton, 2012): ``v <- decay v + (1 - decay) g**2``;
    the output is ``g / (sqrt(v) + eps)``.

    Example:
      >>> import numpy as np
      >>> opt = scale_by_rms(0.75)
      >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0].round(6)
      array([2.])
    """
    check_decay("scale_by_rms", decay=decay)

    def init(params):
        return RmsState(_zeros_like(params))

    def update(grads, state, params=None):
        nu = tree_map(lambda v, g: decay * v + (1.0 - decay) * mnp.square(g), state.nu, grads)
        out = tree_map(lambda g, v: g / (mnp.sqrt(v) + eps), grads, nu)
        return arrays(out), RmsState(arrays(nu))

    return GradientTransformation(init, update)


def scale_by_rss(initial_accumulator_value: float = 0.1, eps: float = 1e-7) -> GradientTransformation:
    """Adagrad's direction (Duchi et al., 2011): ``s <- s + g**2``; the output is
    ``g / (sqrt(s) + eps)``, ``s`` starting at ``initial_accumulator_value``.

    Example:
      >>> import numpy as np
      >>> opt = scale_by_rss(0.0, eps=0.0)
      >>> opt.update(np.array([-3.0]), opt.init(np.zeros(1)))[0]
      array([-1.])
    """

    def init(params):
        return RssState(tree_map(lambda p: mnp.full_like(p, initial_accumulator_value), params))

    def update(grads, state, params=None):
        total = tree_map(lambda s, g: s + mnp.square(g), state.sum_of_squares, grads)
        out = tree_map(lambda g, s: g / (mnp.sqrt(s) + eps), grads, total)
        return arrays(out), RssState(arrays(total))

    return GradientTransformation(init, update)


def scale_by_lion(b1: float = 0.9, b2: float = 0.99) -> GradientTransformation:
    """Lion's direction (Chen et al., 2023): ``sign(b1 m + (1 - b1) g)``, then
    ``m <- b2 m + (1 - b2) g``.

    Example:
      >>> import numpy as np
      >>> opt = scale_by_lion()
      >>> opt.update(np.array([0.3, -2.0, 0.0]), opt.init(np.zeros(3)))[0]
      array([ 1., -1.,  0.])
    """
    check_decay("scale_by_lion", b1=b1, b2=b2)

    def init(params):
        return LionState(_zeros_like(params))

    def update(grads, state, params=None):
        out = tree_map(lambda m, g: mnp.sign(b1 * m + (1.0 - b1) * g), state.mu, grads)
        mu = tree_map(lambda m, g: b2 * m + (1.0 - b2) * g, state.mu, grads)
        return arrays(out), LionState(arrays(mu))

    return GradientTransformation(init, update)


def scale_by_trust_ratio() -> GradientTransformation:
    """LAMB's layer-wise scaling (You et al., 2020): each leaf times ``norm(params) / norm(u)``,
    or times 1 where either norm is 0.

    Example:
      >>> import numpy as np
      >>> opt = scale_by_trust_ratio()
      >>> opt.update(np.array([3.0, 4.0]), opt.init(None), np.array([0.0, 1.0]))[0]
      array([0.6, 0.8])
    """

    def init(params):
        return EmptyState()

    def update(grads, state, params=None):
        if params is None:
            raise ValueError(
                "optim.scale_by_trust_ratio: needs the parameters; call update(grads, state, params)."
            )

        def scale(u, p):
            u_norm, p_norm = mnp.sqrt(mnp.sum(mnp.square(u))), mnp.sqrt(mnp.sum(mnp.square(p)))
            both = (u_norm > 0) & (p_norm > 0)
            ratio = mnp.where(both, p_norm / mnp.where(both, u_norm, 1.0), 1.0)
            return u * astype(ratio, mnp.asarray(u).dtype)

        return arrays(tree_map(scale, grads, params)), state

    return GradientTransformation(init, update)


def scale_by_factored_rms(
    decay_rate: float = 0.8, eps: float = 1e-30, clipping_threshold: float = 1.0
) -> GradientTransformation:
    """Adafactor's direction in its plain form (Shazeer & Stern, 2018), without momentum.

    With ``b = 1 - t**(-decay_rate)`` and ``G = g**2 + eps``: a matrix (the last two axes)
    keeps row and column means, ``r <- b r + (1 - b) mean(G, -1)``, ``c <- b c + (1 - b)
    mean(G, -2)``, and ``v = outer(r, c) / mean(r)``; a vector keeps ``v <- b v + (1 - b) G``.
    The output ``u = g / sqrt(v)`` is clipped: ``u / max(1, rms(u) / clipping_threshold)``.

    Example:
      >>> import numpy as np
      >>> opt = scale_by_factored_rms()
      >>> opt.update(np.full((2, 3), 0.5), opt.init(np.zeros((2, 3))))[0]
      array([[1., 1., 1.],
             [1., 1., 1.]])
    """

    def factored(p) -> bool:
        return np.ndim(p) >= 2

    def init(params):
        def rows(p):
            return mnp.zeros(np.shape(p)[:-1], mnp.asarray(p).dtype) if factored(p) else np.zeros(())

        def cols(p):
            shape = np.shape(p)
            return mnp.zeros(shape[:-2] + shape[-1:], mnp.asarray(p).dtype) if factored(p) else np.zeros(())

        def full(p):
            return np.zeros(()) if factored(p) else mnp.zeros_like(p)

        return FactoredState(
            zero_count(), tree_map(rows, params), tree_map(cols, params), tree_map(full, params)
        )

    def update(grads, state, params=None):
        count = mnp.add(state.count, 1)
        beta = 1.0 - mnp.power(mnp.astype(count, np.float64), -decay_rate)

        def one_leaf(g, r, c, v):
            dtype = mnp.asarray(g).dtype
            b = astype(beta, dtype)
            squared = mnp.square(g) + eps
            if factored(g):
                r = b * r + (1.0 - b) * mnp.mean(squared, axis=-1)
                c = b * c + (1.0 - b) * mnp.mean(squared, axis=-2)
                estimate = r[..., :, None] * c[..., None, :] / mnp.mean(r, axis=-1, keepdims=True)[..., None]
            else:
                v = b * v + (1.0 - b) * squared
                estimate = v
            u = g / mnp.sqrt(estimate)
            rms = mnp.sqrt(mnp.mean(mnp.square(u)))
            return u / mnp.maximum(1.0, rms / clipping_threshold), r, c, v

        flat_grads, treedef = tree_flatten(grads)
        if not flat_grads:
            return grads, state._replace(count=count)
        parts = [tree_flatten(part)[0] for part in (state.rows, state.cols, state.v)]
        results = [one_leaf(*leaf) for leaf in zip(flat_grads, *parts, strict=True)]
        updates, rows, cols, v = (
            tree_unflatten(treedef, list(column)) for column in zip(*results, strict=True)
        )
        return arrays(updates), FactoredState(count, arrays(rows), arrays(cols), arrays(v))

    return GradientTransformation(init, update)
