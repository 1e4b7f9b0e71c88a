"""Optimizers as pure functions of pytrees, in the style of optax.

An optimizer is a ``GradientTransformation``: a pair of functions

- ``init(params) -> state``: the optimizer's state (moments, a step count) as a pytree;
- ``update(grads, state, params=None) -> (updates, state)``: turn gradients into
  updates, which ``apply_updates(params, updates)`` adds to the parameters.

Nothing is mutated, so a training step is an ordinary function of
``(params, opt_state, batch)``, and the state can be saved with ``minigrad.io``.
Learning rates may be numbers or schedules ``step -> lr`` (the step counts updates made
so far, starting at 0).

The package is split by idea: ``base`` (the record, ``chain``, ``apply_updates``),
``transforms`` (the building blocks: ``scale_by_adam``, ``scale_by_learning_rate``,
``add_decayed_weights``, ``trace``, clipping, ...), ``optimizers`` (``sgd``, ``adam``,
``adamw``, ``rmsprop``, ``adagrad``, ``lion``, ``lamb``, ``adafactor``, each a chain of
building blocks), ``wrappers`` (``masked``, ``multi_steps``, ``apply_if_finite``, ``ema``)
and ``schedules``.

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

from minigrad.optim.base import EmptyState, GradientTransformation, apply_updates, chain, identity
from minigrad.optim.optimizers import adafactor, adagrad, adam, adamw, lamb, lion, rmsprop, sgd
from minigrad.optim.schedules import (
    constant_schedule,
    cosine_decay,
    exponential_decay,
    join_schedules,
    linear_schedule,
    warmup,
    warmup_cosine_decay_schedule,
)
from minigrad.optim.transforms import (
    AdamState,
    ClipState,
    FactoredState,
    LionState,
    RmsState,
    RssState,
    ScheduleState,
    SgdState,
    add_decayed_weights,
    clip_by_global_norm,
    scale_by_adam,
    scale_by_factored_rms,
    scale_by_learning_rate,
    scale_by_lion,
    scale_by_rms,
    scale_by_rss,
    scale_by_trust_ratio,
    trace,
)
from minigrad.optim.wrappers import (
    ApplyIfFiniteState,
    EmaState,
    MaskedState,
    MultiStepsState,
    apply_if_finite,
    ema,
    masked,
    multi_steps,
)

# Every state record an optimizer of this package can hold; minigrad.io loads them as themselves.
STATE_TYPES = (
    EmptyState, AdamState, SgdState, ClipState, ScheduleState, RmsState, RssState, LionState, FactoredState,
    MaskedState, MultiStepsState, ApplyIfFiniteState, EmaState,
)  # fmt: skip

__all__ = [
    "GradientTransformation", "chain", "apply_updates", "identity",
    "sgd", "adam", "adamw", "rmsprop", "adagrad", "lion", "lamb", "adafactor",
    "scale_by_adam", "scale_by_learning_rate", "add_decayed_weights", "trace", "clip_by_global_norm",
    "scale_by_rms", "scale_by_rss", "scale_by_lion", "scale_by_trust_ratio", "scale_by_factored_rms",
    "masked", "multi_steps", "apply_if_finite", "ema",
    "constant_schedule", "exponential_decay", "cosine_decay", "warmup", "linear_schedule", "join_schedules",
    "warmup_cosine_decay_schedule",
    "STATE_TYPES", "EmptyState", "AdamState", "SgdState", "ClipState", "ScheduleState", "RmsState", "RssState",
    "LionState", "FactoredState", "MaskedState", "MultiStepsState", "ApplyIfFiniteState", "EmaState",
]  # fmt: skip
