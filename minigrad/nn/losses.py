"""Loss functions: each returns the mean over examples, a scalar ready for ``grad``.

The classification losses take logits (unnormalised scores) and are computed in a
numerically stable form, so very confident wrong predictions give large finite losses,
never ``inf`` or ``nan``.

Example:
    >>> import numpy as np
    >>> float(mse(np.array([1.0, 2.0]), np.array([1.0, 4.0])))
    2.0
"""

from __future__ import annotations

import numpy as np

import minigrad.numpy as mnp
from minigrad.core.trace import Tracer
from minigrad.nn.functions import log_softmax, one_hot, relu, softplus

__all__ = ["mse", "softmax_cross_entropy", "binary_cross_entropy_with_logits", "hinge"]


def _check_same_shape(opname: str, predictions, targets) -> None:
    if tuple(mnp.shape(predictions)) != tuple(mnp.shape(targets)):
        raise ValueError(
            f"{opname}: predictions of shape {tuple(mnp.shape(predictions))} and targets of shape "
            f"{tuple(mnp.shape(targets))} differ; reshape one so they match (silent "
            "broadcasting here would compare every prediction with every target)."
        )


def _check_label_range(labels, num_classes: int) -> None:
    if isinstance(labels, Tracer):
        return
    labels = np.asarray(labels)
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        shown = ", ".join(str(v) for v in np.unique(bad)[:10])
        raise ValueError(
            f"softmax_cross_entropy: labels must be class indices in [0, {num_classes}) for "
            f"logits with {num_classes} classes, but got {shown}; out-of-range labels would "
            "add nothing to the loss."
        )


def mse(predictions, targets):
    """The mean squared error ``mean((predictions - targets) ** 2)``.

    Example:
      >>> import numpy as np
      >>> float(mse(np.zeros(4), np.ones(4)))
      1.0
    """
    _check_same_shape("mse", predictions, targets)
    return mnp.mean(mnp.square(mnp.subtract(predictions, targets)))


def softmax_cross_entropy(logits, labels):
    """Cross-entropy between ``softmax(logits)`` and the labels, averaged over examples.

    Args:
      logits: scores of shape ``(..., num_classes)``.
      labels: integer class indices of shape ``logits.shape[:-1]``, or probabilities
        (one-hot rows, say) of the same shape as ``logits``.

    Raises:
      ValueError: if integer labels are concrete (not traced, e.g. under ``jit``) and
        one lies outside ``[0, num_classes)``; such a label would silently add nothing
        to the loss. Traced labels cannot be checked: keep them in range.

    Example:
      >>> import numpy as np
      >>> logits = np.array([[0.0, 0.0], [0.0, 0.0]])
      >>> round(float(softmax_cross_entropy(logits, np.array([0, 1]))), 4)
      0.6931
    """
    logits_shape, labels_shape = tuple(mnp.shape(logits)), tuple(mnp.shape(labels))
    labels_dtype = mnp.asarray(labels).dtype
    if labels_dtype.kind in "iu":
        if labels_shape != logits_shape[:-1]:
            raise ValueError(
                f"softmax_cross_entropy: integer labels of shape {labels_shape} need the shape "
                f"of the logits {logits_shape} without its last (class) axis, {logits_shape[:-1]}."
            )
        _check_label_range(labels, logits_shape[-1])
        labels = one_hot(labels, logits_shape[-1], dtype=mnp.asarray(logits).dtype)
    elif labels_shape != logits_shape:
        raise ValueError(
            f"softmax_cross_entropy: probability (one-hot) labels of shape {labels_shape} need "
            f"the shape of the logits {logits_shape}; pass integer labels of shape "
            f"{logits_shape[:-1]} otherwise."
        )
    return mnp.mean(-mnp.sum(labels * log_softmax(logits), axis=-1))


def binary_cross_entropy_with_logits(logits, labels):
    """Binary cross-entropy of ``sigmoid(logits)`` against labels in [0, 1], averaged.

    Computed as ``softplus(x) - x * y``, which equals
    ``-(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x)))`` without overflowing.

    Example:
      >>> import numpy as np
      >>> round(float(binary_cross_entropy_with_logits(np.array([0.0]), np.array([1.0]))), 4)
      0.6931
    """
    _check_same_shape("binary_cross_entropy_with_logits", logits, labels)
    return mnp.mean(softplus(logits) - mnp.multiply(logits, labels))


def hinge(scores, labels):
    """The max-margin (SVM) loss ``mean(max(0, 1 - labels * scores))``, labels in {-1, +1}.

    Example:
      >>> import numpy as np
      >>> float(hinge(np.array([2.0, 0.5]), np.array([1.0, 1.0])))
      0.25
    """
    _check_same_shape("hinge", scores, labels)
    return mnp.mean(relu(1.0 - mnp.multiply(labels, scores)))
