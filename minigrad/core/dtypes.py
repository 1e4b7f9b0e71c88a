"""Two facts about values that every layer agrees on: which dtypes carry derivatives,
which numbers are *weak*, and what counts as an array.

Real and complex floating point values have tangents and cotangents; integers and
booleans are constants to every transform.

A Python number (``bool``, ``int``, ``float``, ``complex``) is weak: it has no dtype of
its own and takes the dtype of the arrays it meets, so ``float32_array * 2.0`` stays
float32. NumPy scalars (``np.float64(2.0)``, ``np.float32(2.0)``) are strong, like 0-d
arrays, even though ``np.float64`` subclasses ``float``. This is NumPy 2's rule (NEP 50)
and JAX's.

Arrays are plain ``numpy.ndarray``s. Subclasses change what operators mean
(``np.matrix`` makes ``*`` a matrix product, a masked array's reductions skip masked
elements but its ufuncs do not), so every entry point sees them through
``plain_array``: the plain array of the same data, or, for a masked array, an error.

Example:
    >>> import numpy as np
    >>> is_float_dtype(np.float32), is_float_dtype(np.int64), is_float_dtype(bool)
    (True, False, False)
    >>> is_python_scalar(2.0), is_python_scalar(np.float64(2.0))
    (True, False)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "is_float_dtype",
    "FLOAT_KINDS",
    "PYTHON_SCALARS",
    "is_python_scalar",
    "weak_scalar_array",
    "float0",
    "plain_array",
    "refuse_foreign_array",
    "MASKED_ARRAY_ADVICE",
]

# A note for the hot paths (bind, the recording trace, the backward walk, promotion):
# NumPy's module defines `__getattr__`, and CPython then never specialises attribute
# lookups on it, so each `np.ndarray` there costs a full module lookup. Those modules
# import the few names they test with from numpy instead (`from numpy import ndarray`).

# numpy.dtype.kind of the dtypes that carry derivatives.
FLOAT_KINDS = frozenset("fc")


# JAX's dtype of the tangent or gradient of an integer value: it holds no data
# (`grad(..., allow_int=True)`, the tangents custom_jvp rules get for integer inputs).
float0 = np.dtype([("float0", np.void, 0)])


def is_float_dtype(dtype) -> bool:
    """Whether values of ``dtype`` carry derivatives (real or complex floating point)."""
    return np.dtype(dtype).kind in FLOAT_KINDS


# The weak scalar types, matched by exact type: NumPy's float64 and complex128 subclass
# float and complex but are strong. A frozenset lookup of `type(x)` is also the cheapest
# test, and the hot paths (every operation's operands) inline it.
PYTHON_SCALARS = frozenset((bool, int, float, complex))


def is_python_scalar(x) -> bool:
    """Whether ``x`` is a weak Python number (not a NumPy scalar, not an array).

    Args:
      x: any value.

    Returns:
      True for exactly ``bool``, ``int``, ``float`` and ``complex`` values.

    Example:
      >>> import numpy as np
      >>> [is_python_scalar(v) for v in (1, True, 1.0, 1j, np.float64(1.0), np.array(1.0))]
      [True, True, True, True, False, False]
    """
    return type(x) in PYTHON_SCALARS


# The 0-d arrays that weak Python numbers became, by number and dtype: a program applies
# the same few constants over and over (`x * 1.1` in a loop, `1 - tanh(x) ** 2` in every
# backward step), and `np.asarray(1.1, dtype)` costs as much as the multiplication.
_WEAK_SCALAR_ARRAYS: dict = {}


def weak_scalar_array(value, dtype: np.dtype) -> np.ndarray:
    """``np.asarray(value, dtype)`` for a Python number, shared and read-only when it can be.

    Floats and ints are kept by value, type and dtype. Zeros (``0.0 == -0.0`` would
    share one entry), NaNs (which never equal themselves) and complex numbers (whose
    parts may be signed zeros) are converted afresh each time.

    Example:
      >>> import numpy as np
      >>> a = weak_scalar_array(1.5, np.dtype("float32"))
      >>> a, a is weak_scalar_array(1.5, np.dtype("float32")), a.flags.writeable
      (array(1.5, dtype=float32), True, False)
    """
    # The dtype's identity, not its hash (NumPy computes a dtype's hash anew each time);
    # the cached array keeps its dtype alive, so the identity stays its own.
    key = (value, type(value), id(dtype))
    array = _WEAK_SCALAR_ARRAYS.get(key)
    if array is not None:
        return array
    array = np.asarray(value, dtype)
    if type(value) in (float, int) and value and value == value and array.dtype is dtype:
        if len(_WEAK_SCALAR_ARRAYS) > 1_000:
            _WEAK_SCALAR_ARRAYS.clear()
        array.flags.writeable = False  # shared by every operation that meets `value`
        _WEAK_SCALAR_ARRAYS[key] = array
    return array


MASKED_ARRAY_ADVICE = (
    "minigrad does not support masked arrays: its operations would use the masked "
    "elements in some places and skip them in others. Pass x.filled(fill_value) to "
    "use a fill value, or np.asarray(x) to use the data as it is."
)


# Array libraries whose arrays only ``jit`` computes on (by the Array API standard);
# eager evaluation is NumPy's and never converts them silently.
_FOREIGN_LIBRARIES = frozenset(
    {"torch", "array_api_strict", "dask", "cupy", "jax", "jaxlib", "mlx", "ndonnx", "sparse"}
)


def refuse_foreign_array(x, where: str = "minigrad") -> None:
    """A ``TypeError`` if ``x`` is an array of another library (torch, array-api-strict,
    Dask, CuPy, ...): eager transforms compute with NumPy, and converting such an array
    silently would copy it off its device (or compute a whole Dask graph).

    Example:
      >>> import numpy as np
      >>> refuse_foreign_array(np.zeros(2))  # NumPy arrays pass
    """
    library = type(x).__module__.partition(".")[0]
    if library in _FOREIGN_LIBRARIES:
        raise TypeError(
            f"{where}: got a {library} array ({type(x).__name__}). Outside jit, minigrad computes "
            "with NumPy and does not convert other libraries' arrays; wrap the function in "
            "mg.jit, which compiles it for the arguments' library and device, or convert "
            "the arrays with mg.device_get."
        )


def plain_array(x, where: str = "minigrad"):
    """``x`` as a plain ``numpy.ndarray``, as every entry point takes arrays.

    Subclasses such as ``np.matrix`` become the plain array of the same data (a view,
    not a copy), so ``*`` stays elementwise; a masked array raises ``TypeError``.

    Args:
      x: an array or anything ``np.asarray`` accepts.
      where: the operation or transform, for the error message.

    Returns:
      A ``numpy.ndarray`` (exactly that type).

    Example:
      >>> import numpy as np
      >>> type(plain_array(np.matrix([[1.0, 2.0]]))).__name__
      'ndarray'
      >>> try:
      ...     plain_array(np.ma.masked_array([1.0, 2.0], mask=[False, True]), "jit(f)")
      ... except TypeError as error:
      ...     print(str(error).split(";")[0])
      jit(f): got a masked array of shape (2,) and dtype float64
    """
    refuse_foreign_array(x, where)
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"{where}: got a masked array of shape {x.shape} and dtype {x.dtype}; {MASKED_ARRAY_ADVICE}"
        )
    return np.asarray(x)
