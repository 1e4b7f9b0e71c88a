"""How much of ``jax.numpy``'s main namespace ``minigrad.numpy`` has: a ratchet.

The list of names is stored in ``jax_numpy_names.py`` (JAX itself is no test
dependency). The count may only grow: raise ``COVERED`` when you add functions.
"""

import minigrad.numpy as mnp
from tests.jax_numpy_names import JAX_NUMPY_FUNCTIONS

COVERED = 344  # of the 344


def test_minigrad_numpy_covers_at_least_the_ratchet_of_jax_numpy():
    have = [name for name in JAX_NUMPY_FUNCTIONS if name in mnp.__all__]
    missing = sorted(set(JAX_NUMPY_FUNCTIONS) - set(have))
    assert len(have) >= COVERED, (
        f"minigrad.numpy has {len(have)} of the {len(JAX_NUMPY_FUNCTIONS)} functions of jax.numpy, "
        f"fewer than the {COVERED} it had; missing: {missing}"
    )
    print(
        f"minigrad.numpy has {len(have)} of {len(JAX_NUMPY_FUNCTIONS)} jax.numpy functions; missing: {missing}"
    )
