"""Convolution and pooling over NCHW images, built from slicing and ``matmul``.

Every window position of a kernel is one strided slice of the (padded) input; stacking
the ``kh * kw`` slices gives the patches ("im2col"), and a convolution is then one
matrix product of weights and patches. Because this uses only differentiable, traceable
operations, ``grad``, ``jvp``, ``vmap`` and ``jit`` handle convolutions with no rules of
their own. Pooling reduces the same patches with ``max`` or ``mean``.

Example:
    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2)
    array([[[[ 5.,  7.],
             [13., 15.]]]])
"""

from __future__ import annotations

import numpy as np

import minigrad.numpy as mnp

__all__ = ["conv1d", "conv2d", "max_pool2d", "avg_pool2d"]


def _pair(opname: str, name: str, value, minimum: int) -> tuple[int, int]:
    """``value`` (an int or two) as a pair, each at least ``minimum``, checked here so the
    error names the user's argument rather than the pad or slice built from it."""
    if isinstance(value, (int, np.integer)):
        pair = int(value), int(value)
    else:
        pair = tuple(int(v) for v in value)
        if len(pair) != 2:
            raise ValueError(f"{opname}: {name} must be an int or a pair of ints, got {value!r}.")
    if min(pair) < minimum:
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{opname}: {name} must be {kind}, got {value!r}.")
    return pair


def _patches(opname: str, x, window, stride):
    """The windows of ``x`` (N, C, H, W) as (N, C, kh * kw, out_h, out_w)."""
    (kh, kw), (sh, sw) = window, stride  # checked positive by _pair (kernels by their shape)
    height, width = x.shape[2], x.shape[3]
    out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(
            f"{opname}: a window of {kh}x{kw} does not fit in an input of shape {tuple(x.shape)} "
            "(after padding); use a smaller window or more padding."
        )
    slices = [
        x[:, :, i : i + sh * (out_h - 1) + 1 : sh, j : j + sw * (out_w - 1) + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]
    return mnp.stack(slices, axis=2)


def _check_images(opname: str, x):
    x = mnp.asarray(x)
    if x.ndim != 4:
        raise ValueError(
            f"{opname}: expected images of shape (batch, channels, height, width), got shape "
            f"{tuple(x.shape)}. Add a batch axis with x[None] for a single image."
        )
    return x


def conv2d(x, w, b=None, stride=1, padding=0):
    """2-D convolution (cross-correlation, as in deep learning libraries).

    Args:
      x: images of shape ``(N, C, H, W)``.
      w: kernels of shape ``(O, C, kh, kw)``.
      b: optional bias of shape ``(O,)``.
      stride: an int or a pair ``(sh, sw)``.
      padding: zero padding, an int or a pair ``(ph, pw)`` added on both sides.

    Returns:
      An array of shape ``(N, O, (H + 2 ph - kh) // sh + 1, (W + 2 pw - kw) // sw + 1)``.

    Example:
      >>> x = np.ones((1, 1, 3, 3))
      >>> conv2d(x, np.ones((1, 1, 2, 2)), padding=1)[0, 0]
      array([[1., 2., 2., 1.],
             [2., 4., 4., 2.],
             [2., 4., 4., 2.],
             [1., 2., 2., 1.]])
    """
    x, w = _check_images("conv2d", x), mnp.asarray(w)
    if w.ndim != 4 or x.shape[1] != w.shape[1]:
        raise ValueError(
            f"conv2d: input of shape {tuple(x.shape)} (N, C, H, W) and weight of shape "
            f"{tuple(w.shape)} (O, C, kh, kw) do not match: the weight needs 4 axes and its "
            f"second axis must equal the input's channels ({x.shape[1]})."
        )
    if b is not None and tuple(mnp.shape(b)) != (w.shape[0],):
        raise ValueError(
            f"conv2d: bias of shape {tuple(mnp.shape(b))} does not match weight of shape "
            f"{tuple(w.shape)}; it needs shape ({w.shape[0]},), one per output channel."
        )
    ph, pw = _pair("conv2d", "padding", padding, minimum=0)
    if ph or pw:
        x = mnp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out_channels, in_channels, kh, kw = w.shape
    if kh < 1 or kw < 1:
        raise ValueError(
            f"conv2d: weight of shape {tuple(w.shape)} (O, C, kh, kw) has an empty kernel; "
            "its height and width must be positive."
        )
    patches = _patches("conv2d", x, (kh, kw), _pair("conv2d", "stride", stride, minimum=1))
    batch, _, _, out_h, out_w = patches.shape
    # (O, C*K) @ (N, C*K, out_h*out_w): one batched matrix product, no transposes.
    columns = mnp.reshape(patches, (batch, in_channels * kh * kw, out_h * out_w))
    kernels = mnp.reshape(w, (out_channels, in_channels * kh * kw))
    out = mnp.reshape(mnp.matmul(kernels, columns), (batch, out_channels, out_h, out_w))
    if b is not None:
        out = out + mnp.reshape(b, (1, out_channels, 1, 1))
    return out


def conv1d(x, w, b=None, stride: int = 1, padding: int = 0):
    """1-D convolution of sequences ``(N, C, L)`` with kernels ``(O, C, k)``.

    It is ``conv2d`` on images one pixel high.

    Example:
      >>> conv1d(np.arange(5.0).reshape(1, 1, 5), np.ones((1, 1, 2)))[0, 0]
      array([1., 3., 5., 7.])
    """
    x, w = mnp.asarray(x), mnp.asarray(w)
    if x.ndim != 3 or w.ndim != 3 or x.shape[1] != w.shape[1]:
        raise ValueError(
            f"conv1d: input of shape {tuple(x.shape)} must be (N, C, L) and weight of shape "
            f"{tuple(w.shape)} must be (O, C, k) with the same C; add a batch axis with x[None] "
            "for a single sequence."
        )
    out = conv2d(x[:, :, None, :], w[:, :, None, :], b, stride=(1, int(stride)), padding=(0, int(padding)))
    return out[:, :, 0, :]


def _pooling_windows(opname, x, size, stride):
    """The ``size`` windows of ``x`` (stride defaults to ``size``), stacked on axis 2."""
    x = _check_images(opname, x)
    window = _pair(opname, "size", size, minimum=1)
    stride = window if stride is None else _pair(opname, "stride", stride, minimum=1)
    return _patches(opname, x, window, stride)


def max_pool2d(x, size, stride=None):
    """The maximum over each ``size`` window (stride defaults to ``size``).

    Where several elements of a window tie for the maximum they share its gradient.

    Example:
      >>> max_pool2d(np.arange(9.0).reshape(1, 1, 3, 3), 2, stride=1)[0, 0]
      array([[4., 5.],
             [7., 8.]])
    """
    return mnp.max(_pooling_windows("max_pool2d", x, size, stride), axis=2)


def avg_pool2d(x, size, stride=None):
    """The mean over each ``size`` window (stride defaults to ``size``).

    Example:
      >>> avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0]
      array([[ 2.5,  4.5],
             [10.5, 12.5]])
    """
    return mnp.mean(_pooling_windows("avg_pool2d", x, size, stride), axis=2)
