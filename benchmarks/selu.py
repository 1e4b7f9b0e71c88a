"""The ``selu_1e6`` workload: a jitted elementwise chain on 10^6 float32 values (issue 17).

``selu(x) = scale * where(x > 0, x, alpha * exp(x) - alpha)`` is five cheap operations
around one ``exp``. Unfused, every operation is a NumPy call and a pass over memory, and
``np.where`` on a mask that changes unpredictably costs ten times an addition. With
the ``fast`` extra (numba), minigrad's jit fuses everything but the ``exp`` into one
loop (``minigrad/transforms/jit/fusion.py``). Baselines: the hand-written NumPy
expression and JAX's jit when ``import_peers`` has imported JAX.
"""

from __future__ import annotations

import sys

import numpy as np
from workloads import RNG, check_close

import minigrad as mg
import minigrad.numpy as mnp

ALPHA = 1.6732632423543772
SCALE = 1.0507009873554805
SIZE = 10**6


def selu(xp, x):
    return SCALE * xp.where(x > 0, x, ALPHA * xp.exp(x) - ALPHA)


def numpy_selu(x):
    # Python floats keep float32 float32 in NumPy 2, as in minigrad and JAX.
    return selu(np, x)


def selu_candidates():
    x = RNG.standard_normal(SIZE).astype(np.float32)
    reference = numpy_selu(x)
    jitted = mg.jit(lambda v: selu(mnp, v))
    candidates = {
        "numpy (hand-written)": lambda: numpy_selu(x),
        "minigrad jit": lambda: jitted(x),
    }
    jax = sys.modules.get("jax")  # imported by import_peers, when installed
    if jax is not None:
        jnp = sys.modules["jax.numpy"]
        jax_selu = jax.jit(lambda v: selu(jnp, v))
        jx = jnp.asarray(x)
        candidates["jax jit"] = lambda: jax_selu(jx).block_until_ready()
    for name, fn in candidates.items():
        result = fn()
        assert np.asarray(result).dtype == np.float32, f"{name} returned {np.asarray(result).dtype}"
        check_close(reference, result, name, rtol=1e-5)
    return candidates
