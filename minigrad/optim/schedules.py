"""Learning-rate schedules: functions ``step -> value`` of the update count (from 0).

They are written with ``minigrad.numpy``, so they work when the count is traced (under
``jit``) as well as on plain numbers. Any of them can stand where an optimizer takes a
learning rate.

Example:
    >>> schedule = warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=10, decay_steps=110)
    >>> [round(float(schedule(step)), 3) for step in (0, 5, 10, 60, 110, 200)]
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import minigrad.numpy as mnp

__all__ = [
    "constant_schedule", "exponential_decay", "cosine_decay", "warmup", "linear_schedule", "join_schedules",
    "warmup_cosine_decay_schedule",
]  # fmt: skip


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


def linear_schedule(
    init_value: float, end_value: float, transition_steps: int, transition_begin: int = 0
) -> Callable:
    """``init_value`` until ``transition_begin``, then linearly to ``end_value`` over ``transition_steps``.

    Example:
      >>> schedule = linear_schedule(1.0, 0.0, 10, transition_begin=5)
      >>> [float(schedule(step)) for step in (0, 5, 10, 15, 99)]
      [1.0, 1.0, 0.5, 0.0, 0.0]
    """
    if transition_steps <= 0:
        raise ValueError(f"optim.linear_schedule: transition_steps must be positive, got {transition_steps}.")
    init_value, end_value = float(init_value), float(end_value)

    def schedule(step):
        elapsed = mnp.clip(
            mnp.astype(step, np.float64) - float(transition_begin), 0.0, float(transition_steps)
        )
        return init_value + (end_value - init_value) * elapsed / float(transition_steps)

    return schedule


def join_schedules(schedules: Sequence[Callable], boundaries: Sequence[int]) -> Callable:
    """Run ``schedules[0]`` until ``boundaries[0]``, then ``schedules[1]`` (its step counted
    from that boundary) until ``boundaries[1]``, and so on.

    Example:
      >>> schedule = join_schedules([constant_schedule(1.0), linear_schedule(1.0, 0.0, 4)], [2])
      >>> [float(schedule(step)) for step in (0, 1, 2, 4, 6)]
      [1.0, 1.0, 1.0, 0.5, 0.0]
    """
    schedules, boundaries = list(schedules), [int(b) for b in boundaries]
    if len(schedules) != len(boundaries) + 1:
        raise ValueError(
            f"optim.join_schedules: {len(schedules)} schedules need {len(schedules) - 1} boundaries "
            f"between them, got {len(boundaries)}."
        )
    if sorted(boundaries) != boundaries:
        raise ValueError(f"optim.join_schedules: boundaries must be increasing, got {boundaries}.")

    def schedule(step):
        value = schedules[0](step)
        for boundary, later in zip(boundaries, schedules[1:], strict=True):
            value = mnp.where(step < boundary, value, later(step - boundary))
        return value

    return schedule


def warmup_cosine_decay_schedule(
    init_value: float, peak_value: float, warmup_steps: int, decay_steps: int, end_value: float = 0.0
) -> Callable:
    """Linear warm-up from ``init_value`` to ``peak_value``, then cosine decay to ``end_value``.

    ``decay_steps`` counts the whole schedule, warm-up included (as optax does): the
    value reaches ``end_value`` at step ``decay_steps`` and stays there.

    Example:
      >>> schedule = warmup_cosine_decay_schedule(0.1, 1.0, 2, 12, end_value=0.1)
      >>> [round(float(schedule(step)), 3) for step in (0, 1, 2, 7, 12)]
      [0.1, 0.55, 1.0, 0.55, 0.1]
    """
    if not 0 < warmup_steps < decay_steps:
        raise ValueError(
            "optim.warmup_cosine_decay_schedule: need 0 < warmup_steps < decay_steps, got "
            f"warmup_steps={warmup_steps}, decay_steps={decay_steps}."
        )
    alpha = float(end_value) / float(peak_value) if peak_value else 0.0
    return join_schedules(
        [
            linear_schedule(init_value, peak_value, warmup_steps),
            cosine_decay(peak_value, decay_steps - warmup_steps, alpha=alpha),
        ],
        [warmup_steps],
    )
