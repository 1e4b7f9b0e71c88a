"""Optimizers as pure functions of pytrees, in the style of optax.

An optimizer is a ``GradientTransformation``: a pair of functions

- ``init(params) -> state``: the optimizer's state (moments, a step count) as a pytree;
- ``update(grads, state, params=None) -> (updates, state)``: turn gradients into
  updates, which ``apply_updates(params, updates)`` adds to the parameters.

Nothing is mutated, so a training step is an ordinary function of
``(params, opt_state, batch)``, and the state can be saved with ``minigrad.io``.
Learning rates may be numbers or schedules ``step -> lr`` (the step counts updates made
so far, starting at 0). ``chain`` composes transformations, e.g. clipping then Adam.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> params = {"w": np.array([1.0, -2.0])}
    >>> opt = sgd(0.1)
    >>> state = opt.init(params)
    >>> grads = mg.grad(lambda p: (p["w"] ** 2).sum())(params)
    >>> updates, state = opt.update(grads, state)
    >>> apply_updates(params, updates)
    {'w': array([ 0.8, -1.6])}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import attrs
import numpy as np

import minigrad.numpy as mnp
from minigrad.tree import tree_leaves, tree_map

__all__ = [
    "GradientTransformation",
    "sgd",
    "adam",
    "adamw",
    "clip_by_global_norm",
    "chain",
    "apply_updates",
    "constant_schedule",
    "exponential_decay",
    "cosine_decay",
    "warmup",
    "SgdState",
    "AdamState",
    "ClipState",
]


@attrs.frozen
class GradientTransformation:
    """An optimizer: ``init(params) -> state`` and ``update(grads, state, params=None)``."""

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]


class SgdState(NamedTuple):
    """The step count and, with momentum, the velocity (a pytree like the params)."""

    count: Any
    velocity: Any


class AdamState(NamedTuple):
    """The step count and the first and second moment estimates."""

    count: Any
    mu: Any
    nu: Any


class ClipState(NamedTuple):
    """Clipping keeps no state."""


def _astype(x, dtype):
    """``x`` as ``dtype``: Python numbers stay weak (they adopt the array's dtype)."""
    if isinstance(x, (int, float)):
        return float(x)
    return x if mnp.asarray(x).dtype == dtype else mnp.astype(x, dtype)


def _arrays(tree):
    """``tree`` with NumPy scalars as 0-d arrays.

    NumPy's operators turn 0-d arrays into scalars (``np.array(1.0) * 2`` is a
    ``np.float64``); updates and state hold arrays, whatever the parameters' rank.
    """
    return tree_map(lambda x: np.asarray(x) if isinstance(x, np.generic) else x, tree)


def _value_at(learning_rate, count):
    return learning_rate(count) if callable(learning_rate) else learning_rate


def _zero_count():
    return np.zeros((), np.int32)


def _check_learning_rate(opname, learning_rate):
    if not callable(learning_rate) and not isinstance(learning_rate, (int, float, np.floating)):
        raise TypeError(
            f"optim.{opname}: the learning rate must be a number or a schedule (a function of "
            f"the step), got {type(learning_rate).__name__}."
        )


def sgd(lr, momentum: float = 0.0, nesterov: bool = False) -> GradientTransformation:
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    With ``v`` the velocity (zeros at first) and ``g`` the gradient:
    ``v <- momentum * v + g``; the update is ``-lr * v``, or ``-lr * (g + momentum * v)``
    with ``nesterov=True``. Without momentum it is ``-lr * g``.

    Args:
      lr: a learning rate or a schedule.
      momentum: the decay of the velocity, in ``[0, 1)``.
      nesterov: use Nesterov's look-ahead form.

    Example:
      >>> import numpy as np
      >>> opt = sgd(0.1, momentum=0.9)
      >>> state = opt.init(np.zeros(1))
      >>> updates, state = opt.update(np.ones(1), state)
      >>> updates, state = opt.update(np.ones(1), state)
      >>> updates
      array([-0.19])
    """
    _check_learning_rate("sgd", lr)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"optim.sgd: momentum must be in [0, 1), got {momentum}.")
    if nesterov and momentum == 0.0:
        raise ValueError("optim.sgd: nesterov=True needs a momentum > 0.")

    def init(params):
        velocity = tree_map(mnp.zeros_like, params) if momentum else None
        return SgdState(_zero_count(), velocity)

    def update(grads, state, params=None):
        rate = _value_at(lr, state.count)
        if momentum:
            velocity = tree_map(lambda v, g: momentum * v + g, state.velocity, grads)
            if nesterov:
                direction = tree_map(lambda v, g: g + momentum * v, velocity, grads)
            else:
                direction = velocity
        else:
            velocity, direction = None, grads
        updates = tree_map(lambda d: -_astype(rate, mnp.asarray(d).dtype) * d, direction)
        return _arrays(updates), SgdState(mnp.add(state.count, 1), _arrays(velocity))

    return GradientTransformation(init, update)


def _adam(opname, lr, b1, b2, eps, weight_decay):
    _check_learning_rate(opname, lr)
    if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
        raise ValueError(f"optim.{opname}: b1 and b2 must be in [0, 1), got b1={b1}, b2={b2}.")

    def init(params):
        return AdamState(_zero_count(), tree_map(mnp.zeros_like, params), tree_map(mnp.zeros_like, params))

    def update(grads, state, params=None):
        if weight_decay and params is None:
            raise ValueError(
                f"optim.{opname}: weight decay needs the parameters; call update(grads, state, params)."
            )
        count = mnp.add(state.count, 1)
        rate = _value_at(lr, state.count)
        mu = tree_map(lambda m, g: b1 * m + (1.0 - b1) * g, state.mu, grads)
        nu = tree_map(lambda v, g: b2 * v + (1.0 - b2) * mnp.square(g), state.nu, grads)
        # Bias corrections 1 - b**t undo the moments' start at zero.
        correction1 = 1.0 - mnp.power(b1, count)
        correction2 = 1.0 - mnp.power(b2, count)

        def step(m, v, p=None):
            dtype = mnp.asarray(m).dtype
            m_hat = m / _astype(correction1, dtype)
            v_hat = v / _astype(correction2, dtype)
            direction = m_hat / (mnp.sqrt(v_hat) + eps)
            if weight_decay:
                direction = direction + weight_decay * p
            return -_astype(rate, dtype) * direction

        if weight_decay:
            updates = tree_map(step, mu, nu, params)
        else:
            updates = tree_map(step, mu, nu)
        return _arrays(updates), AdamState(count, _arrays(mu), _arrays(nu))

    return GradientTransformation(init, update)


def adam(lr, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Adam (Kingma & Ba, 2015).

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g**2``, and with ``t`` the number
    of this update (from 1) the update is
    ``-lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)``.

    Example:
      >>> import numpy as np
      >>> opt = adam(0.1)
      >>> updates, state = opt.update(np.array([3.0]), opt.init(np.zeros(1)))
      >>> updates
      array([-0.1])
    """
    return _adam("adam", lr, b1, b2, eps, 0.0)


def adamw(
    lr, weight_decay: float = 1e-4, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    As ``adam``, plus ``-lr * weight_decay * params`` in each update; ``update`` needs
    ``params``.

    Example:
      >>> import numpy as np
      >>> opt = adamw(0.1, weight_decay=0.5)
      >>> params = np.array([2.0])
      >>> updates, state = opt.update(np.array([3.0]), opt.init(params), params)
      >>> updates
      array([-0.2])
    """
    if weight_decay < 0:
        raise ValueError(f"optim.adamw: weight_decay must be >= 0, got {weight_decay}.")
    return _adam("adamw", lr, b1, b2, eps, float(weight_decay))


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
        leaves = tree_leaves(grads)
        if not leaves:
            return grads, state
        squares = [mnp.sum(mnp.square(mnp.astype(g, np.float64))) for g in leaves]
        norm = mnp.sqrt(sum(squares[1:], squares[0]))
        # max_norm / max(norm, max_norm) is min(1, max_norm / norm) and never divides by 0.
        scale = max_norm / mnp.maximum(norm, max_norm)
        return _arrays(tree_map(lambda g: g * _astype(scale, mnp.asarray(g).dtype), grads)), state

    return GradientTransformation(init, update)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply transformations one after another; the state is a tuple of their states.

    Example:
      >>> import numpy as np
      >>> opt = chain(clip_by_global_norm(1.0), sgd(0.5))
      >>> updates, state = opt.update(np.array([10.0]), opt.init(np.zeros(1)))
      >>> updates
      array([-0.5])
    """
    for transform in transforms:
        if not isinstance(transform, GradientTransformation):
            raise TypeError(
                f"optim.chain: expected GradientTransformations (sgd(...), adam(...), ...), got "
                f"{type(transform).__name__}."
            )

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(grads, state, params=None):
        if len(state) != len(transforms):
            raise ValueError(
                f"optim.chain: the state has {len(state)} parts for {len(transforms)} transforms; "
                "make it with this chain's init."
            )
        new_state = []
        for transform, part in zip(transforms, state, strict=True):
            grads, part = transform.update(grads, part, params)
            new_state.append(part)
        return grads, tuple(new_state)

    return GradientTransformation(init, update)


def apply_updates(params, updates):
    """``params + updates`` leaf by leaf, keeping each parameter's dtype.

    Example:
      >>> import numpy as np
      >>> apply_updates([np.ones(2, np.float32)], [np.full(2, 0.5)])
      [array([1.5, 1.5], dtype=float32)]
    """
    return tree_map(lambda p, u: mnp.add(p, _astype(u, mnp.asarray(p).dtype)), params, updates)


# ---------------------------------------------------------------------------------------
# Learning-rate schedules: functions of the step count, written with minigrad.numpy so
# they also work when the count is traced (under jit).


def constant_schedule(value: float) -> Callable:
    """The same learning rate at every step.

    Example:
      >>> constant_schedule(0.1)(1000)
      0.1
    """
    value = float(value)

    def schedule(step):
        return value

    return schedule


def exponential_decay(init_value: float, decay_rate: float, transition_steps: int) -> Callable:
    """``init_value * decay_rate ** (step / transition_steps)``.

    Example:
      >>> float(exponential_decay(1.0, 0.5, 10)(20))
      0.25
    """
    if transition_steps <= 0:
        raise ValueError(
            f"optim.exponential_decay: transition_steps must be positive, got {transition_steps}."
        )

    def schedule(step):
        return init_value * mnp.power(float(decay_rate), mnp.divide(step, float(transition_steps)))

    return schedule


def cosine_decay(init_value: float, decay_steps: int, alpha: float = 0.0) -> Callable:
    """Cosine decay from ``init_value`` to ``alpha * init_value`` over ``decay_steps``, then flat.

    ``init_value * ((1 - alpha) * (1 + cos(pi * t)) / 2 + alpha)``, ``t = min(step, decay_steps) / decay_steps``.

    Example:
      >>> schedule = cosine_decay(1.0, 100)
      >>> float(schedule(0)), float(schedule(50)), float(schedule(200))
      (1.0, 0.5, 0.0)
    """
    if decay_steps <= 0:
        raise ValueError(f"optim.cosine_decay: decay_steps must be positive, got {decay_steps}.")

    def schedule(step):
        t = mnp.minimum(mnp.astype(step, np.float64), float(decay_steps)) / float(decay_steps)
        return init_value * ((1.0 - alpha) * 0.5 * (1.0 + mnp.cos(np.pi * t)) + alpha)

    return schedule


def warmup(peak_value: float, warmup_steps: int, then: Callable | None = None) -> Callable:
    """Linear warm-up from 0 to ``peak_value`` over ``warmup_steps``, then ``then``.

    After the warm-up the schedule ``then`` runs with its step counted from the end of
    the warm-up; without ``then`` the rate stays at ``peak_value``.

    Example:
      >>> schedule = warmup(1.0, 10, then=cosine_decay(1.0, 100))
      >>> float(schedule(0)), float(schedule(5)), float(schedule(10)), float(schedule(60))
      (0.0, 0.5, 1.0, 0.5)
    """
    if warmup_steps <= 0:
        raise ValueError(f"optim.warmup: warmup_steps must be positive, got {warmup_steps}.")
    then = constant_schedule(peak_value) if then is None else then

    def schedule(step):
        step = mnp.astype(step, np.float64)
        rising = peak_value * step / float(warmup_steps)
        after = then(mnp.maximum(step - float(warmup_steps), 0.0))
        return mnp.where(step < warmup_steps, rising, after)

    return schedule
