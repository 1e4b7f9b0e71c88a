"""The first compiled program sets glibc's malloc thresholds (transforms/jit/heap.py)."""

import os
import platform
import subprocess
import sys

import pytest

from minigrad.transforms.jit import heap

glibc_only = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="the thresholds are glibc's; other C libraries are left alone",
)

# Eight temporaries of 1 MiB alive at once, freed at the end of each call: glibc's own
# trim threshold (twice the largest block freed, 2 MiB here) hands them back to the
# kernel, so each call faults their pages in again unless the thresholds are set.
_PROGRAM = """
import resource
import numpy as np
import minigrad as mg

def f(x):
    ys = [x * float(k) for k in range(1, 9)]
    return sum((ys[k] * ys[7 - k]).sum() for k in range(8))

step = mg.jit(f)
x = np.ones(2**18, np.float32)
for _ in range(3):
    step(x)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step(x)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def run_fresh(program, **environment) -> str:
    """What ``program`` prints in a new Python process, started without glibc settings
    of its own or ``MINIGRAD_KEEP_MALLOC`` but with ``environment``."""
    env = {name: value for name, value in os.environ.items() if name not in heap._USER_SETTINGS}
    env.pop("MINIGRAD_KEEP_MALLOC", None)
    done = subprocess.run(
        [sys.executable, "-c", program],
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@glibc_only
def test_a_jitted_program_reuses_its_temporaries_pages_from_call_to_call():
    # 8 MiB of temporaries a call is 2,048 pages: left alone, glibc faults them all in.
    assert float(run_fresh(_PROGRAM, MINIGRAD_KEEP_MALLOC="1")) > 1000
    assert float(run_fresh(_PROGRAM)) < 50


@glibc_only
@pytest.mark.parametrize(
    "environment, expected",
    [
        ({}, "True True"),
        ({"MINIGRAD_KEEP_MALLOC": "1"}, "False False"),
        ({"MALLOC_TRIM_THRESHOLD_": "65536"}, "False False"),
    ],
)
def test_set_once_unless_the_process_chose_its_own(environment, expected):
    # A fresh process: the outcome of the first call is kept; a process started with
    # glibc settings of its own, or told to keep malloc as it is, is left alone.
    program = "from minigrad.transforms.jit import heap; print(heap.tune_malloc(), heap.tune_malloc())"
    assert run_fresh(program, **environment) == expected
