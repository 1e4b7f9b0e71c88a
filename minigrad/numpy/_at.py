"""``x.at[index]``: functional indexed updates, as JAX spells ``x[index] op= v``.

Arrays here are immutable values, so ``x[index] = v`` cannot be recorded; instead
``x.at[index].set(v)`` returns a new array (``add``, ``multiply``, ``divide``, ``power``,
``min``, ``max``, ``apply`` and ``get`` likewise). The index is anything ``x[index]``
accepts, read by the same normalisation as indexing (``_indexing.py``), and the update
is one ``scatter`` equation (``ops/scatter.py``). Tracers get ``.at`` as a property;
``mnp.asarray(x)`` and ``mnp.array(x)`` return an ndarray that has it, and so do
``mnp.zeros``, ``mnp.ones`` and the other creation functions while a transform runs
(outside transforms they return plain ndarrays, which libraries keep as state).

Example:
    >>> import numpy as np
    >>> x = asarray(np.zeros(3))
    >>> x.at[[0, 0, 2]].add(1.0)
    array([2., 0., 1.])
    >>> x
    array([0., 0., 0.])
"""

from __future__ import annotations

import functools

import numpy as np

from minigrad.core.trace import current_depth, get_aval
from minigrad.numpy import _creation, _math
from minigrad.numpy._indexing import _normalize_index, getitem
from minigrad.numpy._promotion import to_array
from minigrad.ops import index as ix
from minigrad.ops import scatter as sc
from minigrad.ops import shape as sh

__all__ = [
    "IndexUpdateHelper",
    "IndexUpdateRef",
    "ArrayWithAt",
    "with_at",
    "returns_with_at",
    "asarray",
    "array",
]


class IndexUpdateHelper:
    """What ``x.at`` is: index it to choose the elements to update."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index) -> IndexUpdateRef:
        return IndexUpdateRef(self.array, index)

    def __repr__(self):
        return f"_IndexUpdateHelper({self.array!r})"


def _scatter(x, index, values, mode: str):
    """``x`` with ``values`` combined into ``x[index]`` by ``mode``, as a new array."""
    x = to_array(x)
    target, indexer, arrays = _normalize_index(x, index)
    indexed_shape = ix._indexed_shape(get_aval(target), [get_aval(a) for a in arrays], indexer)
    updates = to_array(values, np.dtype(x.dtype))
    try:
        updates = sh.broadcast_to(updates, tuple(indexed_shape))
    except ValueError:
        raise ValueError(
            f"x.at[...]: values of shape {tuple(get_aval(updates).shape)} cannot be broadcast to "
            f"the indexed shape {tuple(indexed_shape)} of an array of shape {tuple(x.shape)}; "
            "give values of the indexed shape (or one that broadcasts to it)."
        ) from None
    out = sc.scatter(target, updates, arrays, indexer, mode)
    # A 0-d boolean in the index gave x a length-1 axis: take it away again.
    return out if target is x else sh.reshape(out, tuple(x.shape))


class IndexUpdateRef:
    """``x.at[index]``: each method returns a new array; ``x`` is never modified.

    Every method takes (and ignores) JAX's ``indices_are_sorted`` and
    ``unique_indices`` hints; ``mode`` may be None or ``"promise_in_bounds"``
    (an out-of-bounds index is an ``IndexError``, as in NumPy).
    """

    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array = array
        self.index = index

    def __repr__(self):
        return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

    def get(self, *, indices_are_sorted=False, unique_indices=False, mode=None, fill_value=None):
        """``x[index]``.

        Example:
          >>> asarray(np.arange(4.0)).at[1:3].get()
          array([1., 2.])
        """
        _check_mode(mode, fill_value)
        return getitem(self.array, self.index)

    def set(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[index] = values`` (where indices repeat, the last value wins).

        Example:
          >>> asarray(np.zeros(3)).at[1].set(5.0)
          array([0., 5., 0.])
        """
        _check_mode(mode)
        return _scatter(self.array, self.index, values, "set")

    def add(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[index] += values``; repeated indices add up (``np.add.at``).

        Example:
          >>> asarray(np.zeros(2)).at[[1, 1]].add(2.0)
          array([0., 4.])
        """
        _check_mode(mode)
        return _scatter(self.array, self.index, values, "add")

    def multiply(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[index] *= values``; repeated indices multiply.

        Example:
          >>> asarray(np.full(2, 3.0)).at[0].multiply(2.0)
          array([6., 3.])
        """
        _check_mode(mode)
        return _scatter(self.array, self.index, values, "mul")

    mul = multiply

    def divide(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[index] /= values``.

        Example:
          >>> asarray(np.full(2, 3.0)).at[1].divide(2.0)
          array([3. , 1.5])
        """
        _check_mode(mode)
        return _math.divide(self.array, _factors(self.array, self.index, values))

    def power(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[index] **= values``.

        Example:
          >>> asarray(np.full(2, 3.0)).at[0].power(2.0)
          array([9., 3.])
        """
        _check_mode(mode)
        return _math.power(self.array, _factors(self.array, self.index, values))

    def min(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[index] = minimum(x[index], values)`` (``np.minimum.at``).

        Example:
          >>> asarray(np.array([1.0, 5.0])).at[:].min(2.0)
          array([1., 2.])
        """
        _check_mode(mode)
        return _scatter(self.array, self.index, values, "min")

    def max(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[index] = maximum(x[index], values)`` (``np.maximum.at``).

        Example:
          >>> asarray(np.array([1.0, 5.0])).at[:].max(2.0)
          array([2., 5.])
        """
        _check_mode(mode)
        return _scatter(self.array, self.index, values, "max")

    def apply(self, func, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[index] = func(x[index])``; ``func`` is elementwise, applied once
        per element however often the index names it.

        Example:
          >>> asarray(np.array([1.0, 4.0])).at[1].apply(_math.sqrt)
          array([1., 2.])
        """
        _check_mode(mode)
        return _scatter(self.array, self.index, func(getitem(self.array, self.index)), "set")


def _factors(x, index, values):
    """Ones shaped like ``x``, times ``values`` at ``index`` (repeats multiply)."""
    x = to_array(x)
    return _scatter(np.ones(x.shape, x.dtype), index, values, "mul")


def _check_mode(mode, fill_value=None) -> None:
    if mode not in (None, "promise_in_bounds") or fill_value is not None:
        raise NotImplementedError(
            f"x.at[...]: mode={mode!r} (fill_value={fill_value!r}) is not supported; minigrad "
            "indexes as NumPy does (out-of-bounds indices raise IndexError). Clip the index "
            "with mnp.clip, or mask the result with mnp.where."
        )


def _plain(array) -> np.ndarray:
    """The same data as a plain ``numpy.ndarray`` (a view, no copy)."""
    return np.ndarray.view(array, np.ndarray)


class ArrayWithAt(np.ndarray):
    """A ``numpy.ndarray`` with JAX's ``.at``: what ``mnp.asarray`` and ``mnp.array``
    return outside transforms, so ``mnp.asarray(x).at[i].set(v)`` works.

    NumPy's own type cannot be given an attribute, so this subclass is the one place
    minigrad returns something other than a plain ``numpy.ndarray``; it stays that one
    place. Everything made from it is plain: ufuncs and NumPy functions, indexing,
    ``.at`` updates, and the methods that would otherwise keep the subclass (``copy``,
    ``reshape``, ``T``, ``astype``, ...). It prints, pickles and saves as the plain array.
    """

    @property
    def at(self) -> IndexUpdateHelper:
        return IndexUpdateHelper(_plain(self))

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # Results of NumPy's functions on this array are plain ndarrays.
        plain = _plain(array)
        return plain[()] if return_scalar else plain

    def __getitem__(self, index):
        return _plain(self)[index]

    def __repr__(self):
        return repr(_plain(self))

    def __reduce__(self):
        # Pickles (and copies through pickle) as the plain array it stands for, so that
        # a reader needs NumPy only.
        return _plain(self).__reduce__()

    def __reduce_ex__(self, protocol):
        return _plain(self).__reduce_ex__(protocol)

    @property
    def T(self):  # noqa: N802 - NumPy's name
        return _plain(self).T

    @property
    def mT(self):  # noqa: N802 - NumPy's name
        return _plain(self).mT

    @property
    def real(self):
        return _plain(self).real

    @real.setter
    def real(self, value):
        _plain(self).real = value

    @property
    def imag(self):
        return _plain(self).imag

    @imag.setter
    def imag(self, value):
        _plain(self).imag = value


def _on_plain(name: str):
    """``ndarray.<name>`` applied to the plain view, so its result is plain."""
    method = getattr(np.ndarray, name)

    @functools.wraps(method)
    def on_plain(self, *args, **kwargs):
        return method(_plain(self), *args, **kwargs)

    return on_plain


# The ndarray methods that return an array of the caller's subclass (found by calling
# each one on an ArrayWithAt); with these, no method hands the subclass on.
_SUBCLASS_KEEPING_METHODS = (
    "argpartition",
    "argsort",
    "astype",
    "byteswap",
    "conj",
    "conjugate",
    "copy",
    "diagonal",
    "dot",
    "flatten",
    "getfield",
    "ravel",
    "repeat",
    "reshape",
    "squeeze",
    "swapaxes",
    "transpose",
    "view",
    "__copy__",
    "__deepcopy__",
)
for _name in _SUBCLASS_KEEPING_METHODS:
    setattr(ArrayWithAt, _name, _on_plain(_name))


def with_at(array):
    """``array`` as an ``ArrayWithAt`` view (no copy); tracers are returned as they are."""
    return np.ndarray.view(array, ArrayWithAt) if type(array) is np.ndarray else array


def returns_with_at(create):
    """``create`` (an array-creation function), returning arrays with ``.at`` while a
    transform runs, so that JAX's ``mnp.zeros(n).at[i].set(v)`` inside a jitted or
    differentiated function runs as written. Outside transforms it returns plain
    ``numpy.ndarray`` objects (use ``mnp.asarray(x).at`` there).

    Example:
      >>> import minigrad as mg
      >>> mg.jit(lambda v: returns_with_at(_creation.zeros)(2).at[0].set(v))(1.0)
      array([1., 0.])
    """

    @functools.wraps(create)
    def create_with_at(*args, **kwargs):
        array = create(*args, **kwargs)
        return array if current_depth() == 0 else with_at(array)

    return create_with_at


def asarray(a, dtype=None, order=None, *, copy=None, device=None, like=None):
    """An array from ``a`` (arrays, numbers, nested lists, possibly of tracers); outside
    transforms an ndarray with ``.at`` (``ArrayWithAt``), inside a tracer. The keywords
    are NumPy's (see ``_creation.asarray``).

    Example:
      >>> asarray([1, 2], dtype=np.float32)
      array([1., 2.], dtype=float32)
      >>> asarray([1.0, 2.0]).at[0].set(7.0)
      array([7., 2.])
    """
    return with_at(_creation.asarray(a, dtype, order, copy=copy, device=device, like=like))


def array(object, dtype=None, *, copy=True, order="K", ndmin=0, device=None, like=None):  # noqa: A002
    """Like ``asarray``; plain inputs are copied as in NumPy, and ``ndmin`` prepends axes.

    Example:
      >>> array([[1.0, 2.0]]).at[0, 1].add(1.0)
      array([[1., 3.]])
    """
    return with_at(
        _creation.array(object, dtype, copy=copy, order=order, ndmin=ndmin, device=device, like=like)
    )
