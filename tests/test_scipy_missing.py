"""Without SciPy, minigrad still imports and works; minigrad.scipy says how to install it.

SciPy's absence is simulated in a fresh interpreter (``sys.modules["scipy"] = None``
makes every ``import scipy...`` fail), so this process's registry is left alone.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import minigrad

PROGRAM = r"""
import sys
sys.modules["scipy"] = None  # as if SciPy were not installed
import numpy as np
import minigrad as mg
import minigrad.numpy as mnp
import minigrad.scipy
from minigrad import nn

assert float(mg.grad(lambda x: mnp.sin(x) * x)(0.0)) == 0.0
assert np.allclose(nn.gelu(np.array([1.0])), 0.8411920)
# The triangular solver falls back to NumPy.
assert np.allclose(mnp.linalg.solve(np.eye(2) * 2.0, np.ones(2)), 0.5)
for attempt in (lambda: minigrad.scipy.special, lambda: __import__("minigrad.scipy.stats"),
                lambda: __import__("minigrad.scipy.linalg"), lambda: nn.gelu(1.0, approximate=False)):
    try:
        attempt()
    except ImportError as error:
        assert "pip install 'minigrad[scipy]'" in str(error), str(error)
    else:
        raise AssertionError("no ImportError without SciPy")
print("ok")
"""


def test_minigrad_works_without_scipy_and_minigrad_scipy_says_how_to_install_it():
    root = pathlib.Path(minigrad.__file__).parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
