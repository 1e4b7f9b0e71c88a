"""Optimizers, each a ``chain`` of the building blocks in ``transforms.py``, as optax builds them.

``adam(lr)`` is ``chain(scale_by_adam(), scale_by_learning_rate(lr))``; its state is the
tuple of the two parts' states. Writing them this way keeps each update equation in one
place and lets users assemble variants (Adam with clipping and masked weight decay, say)
from the same parts.

Example:
    >>> import numpy as np
    >>> opt = adamw(0.1, weight_decay=0.5)
    >>> params = np.array([2.0])
    >>> updates, state = opt.update(np.array([3.0]), opt.init(params), params)
    >>> updates
    array([-0.2])
"""

from __future__ import annotations

from minigrad.optim.base import GradientTransformation, chain, check_decay, check_learning_rate, identity
from minigrad.optim.transforms import (
    add_decayed_weights,
    scale_by_adam,
    scale_by_factored_rms,
    scale_by_learning_rate,
    scale_by_lion,
    scale_by_rms,
    scale_by_rss,
    scale_by_trust_ratio,
    trace,
)

__all__ = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "lion", "lamb", "adafactor"]


def sgd(lr, momentum: float = 0.0, nesterov: bool = False) -> GradientTransformation:
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    With ``v`` the velocity (zeros at first) and ``g`` the gradient:
    ``v <- momentum * v + g``; the update is ``-lr * v``, or ``-lr * (g + momentum * v)``
    with ``nesterov=True``. Without momentum it is ``-lr * g``.
    ``chain(trace(momentum, nesterov), scale_by_learning_rate(lr))``.

    Example:
      >>> import numpy as np
      >>> opt = sgd(0.1, momentum=0.9)
      >>> state = opt.init(np.zeros(1))
      >>> updates, state = opt.update(np.ones(1), state)
      >>> updates, state = opt.update(np.ones(1), state)
      >>> updates
      array([-0.19])
    """
    check_learning_rate("sgd", lr)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"optim.sgd: momentum must be in [0, 1), got {momentum}.")
    if nesterov and momentum == 0.0:
        raise ValueError("optim.sgd: nesterov=True needs a momentum > 0.")
    velocity = trace(momentum, nesterov) if momentum else identity()
    return chain(velocity, scale_by_learning_rate(lr))


def adam(lr, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Adam (Kingma & Ba, 2015): ``chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(lr))``.

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
    check_learning_rate("adam", lr)
    check_decay("adam", b1=b1, b2=b2)
    return chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(lr))


def adamw(
    lr, weight_decay: float = 1e-4, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    As ``adam``, plus ``-lr * weight_decay * params`` in each update; ``update`` needs
    ``params``. ``chain(scale_by_adam(...), add_decayed_weights(weight_decay),
    scale_by_learning_rate(lr))``.

    Example:
      >>> import numpy as np
      >>> opt = adamw(0.1, weight_decay=0.5)
      >>> params = np.array([2.0])
      >>> updates, state = opt.update(np.array([3.0]), opt.init(params), params)
      >>> updates
      array([-0.2])
    """
    check_learning_rate("adamw", lr)
    check_decay("adamw", b1=b1, b2=b2)
    if weight_decay < 0:
        raise ValueError(f"optim.adamw: weight_decay must be >= 0, got {weight_decay}.")
    return chain(scale_by_adam(b1, b2, eps), add_decayed_weights(weight_decay), scale_by_learning_rate(lr))


def rmsprop(lr, decay: float = 0.9, eps: float = 1e-8) -> GradientTransformation:
    """RMSProp: ``v <- decay v + (1 - decay) g**2``, update ``-lr * g / (sqrt(v) + eps)``.

    Example:
      >>> import numpy as np
      >>> opt = rmsprop(0.1, decay=0.75)
      >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0].round(6)
      array([-0.2])
    """
    check_learning_rate("rmsprop", lr)
    return chain(scale_by_rms(decay, eps), scale_by_learning_rate(lr))


def adagrad(lr, initial_accumulator_value: float = 0.1, eps: float = 1e-7) -> GradientTransformation:
    """Adagrad: ``s <- s + g**2`` (from ``initial_accumulator_value``), update ``-lr * g / (sqrt(s) + eps)``.

    Example:
      >>> import numpy as np
      >>> opt = adagrad(1.0, initial_accumulator_value=0.0, eps=0.0)
      >>> opt.update(np.array([4.0]), opt.init(np.zeros(1)))[0]
      array([-1.])
    """
    check_learning_rate("adagrad", lr)
    return chain(scale_by_rss(initial_accumulator_value, eps), scale_by_learning_rate(lr))


def lion(lr, b1: float = 0.9, b2: float = 0.99, weight_decay: float = 0.0) -> GradientTransformation:
    """Lion (Chen et al., 2023): update ``-lr * (sign(b1 m + (1 - b1) g) + weight_decay * params)``,
    then ``m <- b2 m + (1 - b2) g``. Use a learning rate 3-10 times smaller than Adam's.

    Example:
      >>> import numpy as np
      >>> opt = lion(0.01)
      >>> opt.update(np.array([5.0, -0.1]), opt.init(np.zeros(2)))[0]
      array([-0.01,  0.01])
    """
    check_learning_rate("lion", lr)
    decay = add_decayed_weights(weight_decay) if weight_decay else identity()
    return chain(scale_by_lion(b1, b2), decay, scale_by_learning_rate(lr))


def lamb(
    lr, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-6, weight_decay: float = 0.0
) -> GradientTransformation:
    """LAMB (You et al., 2020): Adam's direction plus weight decay, each leaf rescaled by the
    trust ratio ``norm(params) / norm(direction)``, times ``-lr``.

    Example:
      >>> import numpy as np
      >>> opt = lamb(0.1)
      >>> params = np.array([3.0, 4.0])
      >>> opt.update(np.array([1.0, 1.0]), opt.init(params), params)[0].round(4)
      array([-0.3536, -0.3536])
    """
    check_learning_rate("lamb", lr)
    decay = add_decayed_weights(weight_decay) if weight_decay else identity()
    return chain(scale_by_adam(b1, b2, eps), decay, scale_by_trust_ratio(), scale_by_learning_rate(lr))


def adafactor(
    lr, decay_rate: float = 0.8, eps: float = 1e-30, clipping_threshold: float = 1.0
) -> GradientTransformation:
    """Adafactor in its plain form (Shazeer & Stern, 2018): factored second moments for
    matrices, update clipping, no momentum, a given learning rate (no relative step size).

    See ``scale_by_factored_rms`` for the equations; the update is ``-lr`` times its output.

    Example:
      >>> import numpy as np
      >>> opt = adafactor(0.01)
      >>> opt.update(np.full((2, 2), 3.0), opt.init(np.zeros((2, 2))))[0]
      array([[-0.01, -0.01],
             [-0.01, -0.01]])
    """
    check_learning_rate("adafactor", lr)
    return chain(scale_by_factored_rms(decay_rate, eps, clipping_threshold), scale_by_learning_rate(lr))
