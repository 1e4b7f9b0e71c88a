"""jit, the compiling transform, in six modules that run in this order on a cache miss.

``transform`` holds ``jit`` itself and its call primitive; ``cache`` the compiled
programs of one jitted function, keyed by everything a staged program depends on
(``pending`` its slots being filled, which other threads wait for);
``constants`` the one copy of each array the function closes over;
``passes`` the program-to-program optimisations; ``compiler`` the writer of
straight-line NumPy source from an optimised program.

Example:
    >>> import numpy as np
    >>> jit(lambda x: x * 2.0)(np.ones(2))
    array([2., 2.])
"""

from minigrad.transforms.jit.transform import JittedFunction, Lowered, jit, jit_p

__all__ = ["jit", "jit_p", "JittedFunction", "Lowered"]
