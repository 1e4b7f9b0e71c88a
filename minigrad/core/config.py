"""Runtime switches, such as ``debug_nans``.

Each switch has a process-wide default, set once (typically at start-up) with
``config.update(name, value)``, and may be overridden for a block of code with a context
manager such as ``debug_nans()``. Overrides live in a context variable, so one thread (or
asyncio task) turning a switch on never changes what another thread sees. Reading a
switch is one context-variable lookup, so checks cost next to nothing when off.

Example:
    >>> config.debug_nans
    False
    >>> with debug_nans():
    ...     config.debug_nans
    True
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Config", "config", "debug_nans", "disable_jit", "jit_disabled"]

# Unset means "use the process-wide default"; `get(default)` is the whole lookup.
_debug_nans_override: contextvars.ContextVar[bool] = contextvars.ContextVar("minigrad_debug_nans")

# False until debug_nans is first switched on anywhere: until then the hot path reads
# this one module attribute and nothing else.
nan_checks_armed = False


class Config:
    """minigrad's switches. Read them as attributes; set defaults with ``update``.

    - ``debug_nans`` (default False): the first primitive that turns finite inputs into
      a NaN or an infinity raises ``FloatingPointError`` naming the primitive and the line
      of your code that ran it. Values are only known where minigrad computes them (plain
      calls, ``grad``, ``vjp``, ``jvp``, ``vmap``; ``jit`` runs its program one primitive
      at a time while the switch is on); ``make_jaxpr`` sees no values.
    """

    _OPTIONS = ("debug_nans",)

    def __init__(self):
        self._debug_nans_default = False

    @property
    def debug_nans(self) -> bool:
        return _debug_nans_override.get(self._debug_nans_default)

    def update(self, name: str, value) -> None:
        """Set the process-wide default of switch ``name``.

        Example:
          >>> config.update("debug_nans", False)
        """
        if name not in self._OPTIONS:
            raise ValueError(
                f"config.update: unknown option {name!r}; the options are {list(self._OPTIONS)}."
            )
        if not isinstance(value, bool):
            raise TypeError(f"config.update: {name} takes True or False, got {value!r}.")
        global nan_checks_armed
        nan_checks_armed = nan_checks_armed or value
        self._debug_nans_default = value

    def __repr__(self):
        return f"Config(debug_nans={self.debug_nans})"


config = Config()


def nan_checks_enabled() -> bool:
    """Whether ``debug_nans`` is on here (the hot path's single lookup)."""
    return _debug_nans_override.get(config._debug_nans_default)


@contextmanager
def debug_nans(enabled: bool = True) -> Iterator[None]:
    """Turn NaN/inf checking on (or off) for the code inside the block, in this context.

    Inside the block, the first primitive whose output holds a NaN or an infinity while
    its inputs were finite raises ``FloatingPointError``, naming the primitive and the
    line of your code that ran it.

    Args:
      enabled: True to check, False to switch checks off inside the block.

    Example:
      >>> import numpy as np
      >>> import minigrad.numpy as mnp
      >>> with debug_nans():
      ...     mnp.log(np.array([1.0, 0.0]))  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      FloatingPointError: debug_nans: log produced -inf from finite inputs ...
    """
    global nan_checks_armed
    nan_checks_armed = nan_checks_armed or bool(enabled)
    token = _debug_nans_override.set(bool(enabled))
    try:
        yield
    finally:
        _debug_nans_override.reset(token)


# As for debug_nans: False until disable_jit is first used, so jitted calls read one
# module attribute and nothing more while nobody has asked for eager execution.
jit_disable_armed = False
_jit_disabled: contextvars.ContextVar[bool] = contextvars.ContextVar("minigrad_disable_jit", default=False)


def jit_disabled() -> bool:
    """Whether jitted functions run eagerly here (inside ``disable_jit()``)."""
    return _jit_disabled.get()


@contextmanager
def disable_jit(disable: bool = True) -> Iterator[None]:
    """Run jitted functions as plain Python inside the block (as ``jax.disable_jit``).

    The function is called directly on its arguments, so ``print`` shows values and
    a debugger can stop inside it; results are those the compiled program computes.
    The switch is per thread (and asyncio task).

    Args:
      disable: True to run eagerly inside the block, False to compile again.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> @mg.jit
      ... def f(x):
      ...     print(type(x).__name__)
      ...     return x * 2.0
      >>> with disable_jit():
      ...     f(np.ones(2))
      ndarray
      array([2., 2.])
    """
    global jit_disable_armed
    jit_disable_armed = jit_disable_armed or bool(disable)
    token = _jit_disabled.set(bool(disable))
    try:
        yield
    finally:
        _jit_disabled.reset(token)
