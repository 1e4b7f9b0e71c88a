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

__all__ = [
    "mse", "softmax_cross_entropy", "binary_cross_entropy_with_logits", "hinge", "cross_entropy", "nll",
    "huber", "kl_div",
]  # fmt: skip


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


def _masked_mean(opname: str, losses, where):
    """The mean of ``losses`` over all positions, or over those where ``where`` is true."""
    if where is None:
        return mnp.mean(losses)
    if tuple(mnp.shape(where)) != tuple(mnp.shape(losses)):
        raise ValueError(
            f"{opname}: where of shape {tuple(mnp.shape(where))} must have the shape of the "
            f"labels, {tuple(mnp.shape(losses))} (one flag per example or position)."
        )
    weights = mnp.asarray(where).astype(mnp.asarray(losses).dtype)
    # max(count, 1): an all-false mask gives 0, not 0 / 0.
    return mnp.sum(losses * weights) / mnp.maximum(mnp.sum(weights), 1.0)


def _check_integer_labels(opname: str, scores, labels):
    labels = mnp.asarray(labels)
    scores_shape, labels_shape = tuple(mnp.shape(scores)), tuple(labels.shape)
    if labels.dtype.kind not in "iu" or labels_shape != scores_shape[:-1]:
        raise ValueError(
            f"{opname}: labels must be integer class indices of shape {scores_shape[:-1]} "
            f"(the scores' shape {scores_shape} without its class axis), got dtype "
            f"{labels.dtype} and shape {labels_shape}."
        )
    _check_label_range(labels, scores_shape[-1])
    return labels


def nll(log_probs, labels, where=None):
    """The negative log-likelihood ``-log_probs[..., label]``, averaged.

    Args:
      log_probs: log-probabilities of shape ``(..., num_classes)`` (``log_softmax`` output).
      labels: integer class indices of shape ``log_probs.shape[:-1]``.
      where: optional booleans of the labels' shape; only true positions are averaged
        (padding in a batch of sequences, say).

    Example:
      >>> import numpy as np
      >>> float(nll(np.log(np.array([[0.5, 0.5], [0.25, 0.75]])), np.array([0, 1]), where=np.array([False, True])))
      0.2876820724517809
    """
    labels = _check_integer_labels("nll", log_probs, labels)
    picked = mnp.take_along_axis(mnp.asarray(log_probs), labels[..., None], axis=-1)[..., 0]
    return _masked_mean("nll", -picked, where)


def cross_entropy(logits, labels, label_smoothing: float = 0.0, where=None):
    """Cross-entropy of ``softmax(logits)`` against integer labels, optionally smoothed.

    With ``label_smoothing = s`` the target puts ``1 - s`` on the label and spreads ``s``
    evenly over all ``K`` classes: ``(1 - s) * nll + s * mean_k(-log p_k)``.

    Args:
      logits: scores of shape ``(..., num_classes)``.
      labels: integer class indices of shape ``logits.shape[:-1]``.
      label_smoothing: ``s`` in ``[0, 1]``.
      where: optional booleans of the labels' shape; only true positions are averaged.

    Example:
      >>> import numpy as np
      >>> logits = np.log(np.array([[0.8, 0.2]]))
      >>> round(float(cross_entropy(logits, np.array([0]))), 4)
      0.2231
      >>> round(float(cross_entropy(logits, np.array([0]), label_smoothing=0.2)), 4)
      0.3618
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}.")
    labels = _check_integer_labels("cross_entropy", logits, labels)
    log_probs = log_softmax(logits)
    losses = -mnp.take_along_axis(log_probs, labels[..., None], axis=-1)[..., 0]
    if label_smoothing:
        losses = (1.0 - label_smoothing) * losses - label_smoothing * mnp.mean(log_probs, axis=-1)
    return _masked_mean("cross_entropy", losses, where)


def huber(predictions, targets, delta: float = 1.0):
    """The Huber loss: quadratic ``e**2 / 2`` for ``|e| <= delta``, linear beyond, averaged.

    ``delta * (|e| - delta / 2)`` for ``|e| > delta``; ``e = predictions - targets``.

    Example:
      >>> import numpy as np
      >>> float(huber(np.array([0.5, 3.0]), np.zeros(2)))
      1.3125
    """
    _check_same_shape("huber", predictions, targets)
    if not delta > 0:
        raise ValueError(f"huber: delta must be positive, got {delta}.")
    error = mnp.abs(mnp.subtract(predictions, targets))
    # min(|e|, delta) keeps both pieces finite and the gradient continuous at delta.
    quadratic = mnp.minimum(error, delta)
    return mnp.mean(0.5 * mnp.square(quadratic) + delta * (error - quadratic))


def kl_div(log_predictions, targets, axis: int = -1):
    """``KL(targets || predictions) = sum(t * (log t - log p))`` along ``axis``, averaged.

    Args:
      log_predictions: log-probabilities ``log p`` (``log_softmax`` output).
      targets: probabilities ``t`` of the same shape; ``0 * log 0`` counts as 0.

    Example:
      >>> import numpy as np
      >>> round(float(kl_div(np.log(np.array([[0.5, 0.5]])), np.array([[1.0, 0.0]]))), 4)
      0.6931
    """
    _check_same_shape("kl_div", log_predictions, targets)
    targets = mnp.asarray(targets)
    positive = targets > 0
    # log of 1 where t == 0: no log(0) = -inf, so no 0 * inf = nan in value or gradient.
    t_log_t = mnp.where(positive, targets * mnp.log(mnp.where(positive, targets, 1.0)), 0.0)
    return mnp.mean(mnp.sum(t_log_t - targets * log_predictions, axis=axis))
