"""The optimizer record and the pieces every transformation shares.

A ``GradientTransformation`` is a pair of pure functions, ``init(params) -> state`` and
``update(grads, state, params=None) -> (updates, state)``; ``chain`` runs several in a
row and ``apply_updates`` adds the result to the parameters. State records are
namedtuples (pytrees), so they pass through ``jit`` and ``minigrad.io``; each claims the
module ``minigrad.optim``, the name it is saved under whatever file defines it.

Example:
    >>> import numpy as np
    >>> identity = GradientTransformation(lambda params: EmptyState(), lambda g, s, p=None: (g, s))
    >>> chain(identity, identity).update(np.ones(2), chain(identity, identity).init(None))
    (array([1., 1.]), (EmptyState(), EmptyState()))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import attrs
import numpy as np

import minigrad.numpy as mnp
from minigrad.tree import tree_map

__all__ = ["GradientTransformation", "EmptyState", "chain", "apply_updates", "identity"]


@attrs.frozen
class GradientTransformation:
    """An optimizer: ``init(params) -> state`` and ``update(grads, state, params=None)``.

    Example:
      >>> import numpy as np
      >>> opt = identity()
      >>> opt.update(np.ones(1), opt.init(np.zeros(1)))
      (array([1.]), EmptyState())
    """

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]


class EmptyState(NamedTuple):
    """The state of a transformation that keeps none."""


EmptyState.__module__ = "minigrad.optim"


def state_record(cls):
    """Mark a state namedtuple as ``minigrad.optim``'s (its saved name), and return it."""
    cls.__module__ = "minigrad.optim"
    return cls


def astype(x, dtype):
    """``x`` as ``dtype``: Python numbers stay weak (they adopt the array's dtype)."""
    if isinstance(x, (int, float)):
        return float(x)
    return x if mnp.asarray(x).dtype == dtype else mnp.astype(x, dtype)


def arrays(tree):
    """``tree`` with NumPy scalars as 0-d arrays.

    NumPy's operators turn 0-d arrays into scalars (``np.array(1.0) * 2`` is a
    ``np.float64``); updates and state hold arrays, whatever the parameters' rank.
    """
    return tree_map(lambda x: np.asarray(x) if isinstance(x, np.generic) else x, tree)


def zero_count():
    """The step count before any update (int32, as optax keeps it)."""
    return np.zeros((), np.int32)


def check_learning_rate(opname: str, learning_rate) -> None:
    if not callable(learning_rate) and not isinstance(learning_rate, (int, float, np.floating)):
        raise TypeError(
            f"optim.{opname}: the learning rate must be a number or a schedule (a function of "
            f"the step), got {type(learning_rate).__name__}."
        )


def check_decay(opname: str, **decays) -> None:
    for name, value in decays.items():
        if not 0.0 <= value < 1.0:
            raise ValueError(f"optim.{opname}: {name} must be in [0, 1), got {value}.")


def identity() -> GradientTransformation:
    """The transformation that changes nothing (a placeholder in a chain).

    Example:
      >>> import numpy as np
      >>> identity().update(np.array([2.0]), EmptyState())[0]
      array([2.])
    """

    def init(params):
        return EmptyState()

    def update(grads, state, params=None):
        return grads, state

    return GradientTransformation(init, update)


# Optimizer states saved before sgd/adam/adamw became chains (issue 16) hold one record.
OLD_STATE_LAYOUT = (
    "optim.chain: the state is a single {record}, but this optimizer is a chain of {parts} "
    "transformations and keeps a tuple of {parts} states, one per part. Since sgd, adam and adamw "
    "became chains (as optax builds them), adam's state is (AdamState, EmptyState()), adamw's "
    "(AdamState, EmptyState(), EmptyState()) and sgd's (SgdState(velocity) or EmptyState(), "
    "EmptyState()); a ScheduleState(count) replaces the last EmptyState() when the learning rate "
    "is a schedule. A state saved by an older minigrad has the single-record layout. To go on "
    "from it, rebuild the tuple: for adam, (optim.AdamState(*old), optim.EmptyState()) keeps the "
    "step count and moments, and for sgd with momentum (optim.SgdState(old.velocity), "
    "optim.EmptyState()) keeps the velocity; or start afresh with optimizer.init(params)."
)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply transformations one after another; the state is a tuple of their states.

    Example:
      >>> import numpy as np
      >>> from minigrad.optim import clip_by_global_norm, sgd
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
        if hasattr(state, "_fields"):  # one state record, where a tuple of parts belongs
            raise ValueError(OLD_STATE_LAYOUT.format(record=type(state).__name__, parts=len(transforms)))
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
    return tree_map(lambda p, u: mnp.add(p, astype(u, mnp.asarray(p).dtype)), params, updates)
