"""Save and load pytrees of arrays (parameters, optimizer states) as one ``.npz`` file.

The file is an ordinary NumPy ``.npz`` archive: one ``.npy`` member per leaf (``leaf_0``,
``leaf_1``, ...) and a ``__minigrad__`` member holding the tree's structure as JSON.
Loading trusts nothing in the file: it never unpickles, imports or looks anything up by
a name the file gives, checks every declared size against the bytes really there, and
raises ``CheckpointError`` for anything it cannot read. Saving writes a temporary file
and renames it over the target, so a crash leaves the previous file intact. The promises
and refusals are listed in ``docs/security.md``.

- ``checkpoint``: ``save`` and ``load``.
- ``structure``: the tree's shape as a flat node list.
- ``archive``: reading the archive's members without trusting them.
- ``atomic_write``: replacing a file safely; ``files``: regular files only.

Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "params.npz")
    >>> save(path, {"w": np.eye(2), "layers": [np.zeros(3), None], "step": 7})
    >>> tree = load(path)
    >>> tree["w"], tree["step"]
    (array([[1., 0.],
           [0., 1.]]), 7)
"""

from __future__ import annotations

from minigrad.io.checkpoint import FORMAT, TRUSTED_NAMEDTUPLES, load, save
from minigrad.io.errors import CheckpointError

__all__ = ["save", "load", "CheckpointError", "FORMAT", "TRUSTED_NAMEDTUPLES"]
