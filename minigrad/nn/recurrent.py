"""Recurrent cells and ``RNN``, which runs a cell along a sequence with ``lax.scan``.

A cell is a layer whose ``apply(params, carry, x) -> (carry, y)`` does one time step;
``initial_carry(batch_shape)`` gives the zero state. ``RNN(cell)`` scans it over the time
axis of a batch-first ``(batch, time, features)`` input: one ``scan`` equation in the
program however long the sequence, and reverse mode stores what each step needs.

Example:
    >>> import numpy as np
    >>> import minigrad.random as mr
    >>> rnn = RNN(GRUCell(3, 5))
    >>> params = rnn.init(mr.key(0))
    >>> rnn.apply(params, np.ones((2, 7, 3), np.float32)).shape
    (2, 7, 5)
"""

from __future__ import annotations

import attrs
import numpy as np

import minigrad.lax as lax
import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad.nn.functions import sigmoid, tanh
from minigrad.nn.initializers import glorot_uniform, orthogonal

__all__ = ["GRUCell", "LSTMCell", "RNN"]


def _check_input(cell: str, x, input_size: int) -> None:
    if mnp.shape(x)[-1:] != (input_size,):
        raise ValueError(
            f"{cell}: expected inputs with {input_size} features on the last axis, got shape "
            f"{tuple(mnp.shape(x))}."
        )


def _gates_init(key, input_size: int, hidden_size: int, gates: int) -> dict:
    input_key, hidden_key = mr.split(key)
    return {
        "wi": glorot_uniform(input_key, (input_size, gates * hidden_size)),
        "wh": orthogonal(hidden_key, (hidden_size, gates * hidden_size)),
        "bi": np.zeros(gates * hidden_size, np.float32),
        "bh": np.zeros(gates * hidden_size, np.float32),
    }


@attrs.frozen
class GRUCell:
    """A gated recurrent unit (Cho et al., 2014), as PyTorch and cuDNN write it.

    ``r = sigmoid(x Wir + bir + h Whr + bhr)``, ``z = sigmoid(x Wiz + biz + h Whz + bhz)``,
    ``n = tanh(x Win + bin + r * (h Whn + bhn))``, ``h' = (1 - z) * n + z * h``; the
    output is ``h'``. ``wi`` holds ``[Wir | Wiz | Win]`` side by side, ``wh`` likewise.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> cell = GRUCell(2, 3)
      >>> params = cell.init(mr.key(0))
      >>> h, y = cell.apply(params, cell.initial_carry((4,)), np.ones((4, 2)))
      >>> h.shape
      (4, 3)
    """

    input_size: int
    hidden_size: int

    def init(self, key) -> dict:
        return _gates_init(key, self.input_size, self.hidden_size, 3)

    def initial_carry(self, batch_shape=(), dtype=np.float32):
        return np.zeros((*batch_shape, self.hidden_size), dtype)

    def apply(self, params: dict, carry, x):
        _check_input("GRUCell", x, self.input_size)
        size = self.hidden_size
        from_input = mnp.matmul(x, params["wi"]) + params["bi"]
        from_hidden = mnp.matmul(carry, params["wh"]) + params["bh"]
        # Both sigmoid gates in one pass over their side-by-side columns: half the
        # array operations of two separate gates, the same values.
        gates = sigmoid(from_input[..., : 2 * size] + from_hidden[..., : 2 * size])
        reset, update = gates[..., :size], gates[..., size:]
        candidate = tanh(from_input[..., 2 * size :] + reset * from_hidden[..., 2 * size :])
        # (1 - z) n + z h, written as a step from n towards h: three operations, not four.
        new = candidate + update * (carry - candidate)
        return new, new


@attrs.frozen
class LSTMCell:
    """A long short-term memory cell (Hochreiter & Schmidhuber, 1997); the carry is ``(h, c)``.

    ``[i, f, g, o] = x Wi + bi + h Wh + bh`` split in four; ``c' = sigmoid(f) * c +
    sigmoid(i) * tanh(g)``, ``h' = sigmoid(o) * tanh(c')``; the output is ``h'``. The
    forget gate's bias starts at 1, so the cell remembers by default (Jozefowicz et al., 2015).

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> cell = LSTMCell(2, 3)
      >>> params = cell.init(mr.key(0))
      >>> (h, c), y = cell.apply(params, cell.initial_carry((4,)), np.ones((4, 2)))
      >>> h.shape, c.shape
      ((4, 3), (4, 3))
    """

    input_size: int
    hidden_size: int

    def init(self, key) -> dict:
        params = _gates_init(key, self.input_size, self.hidden_size, 4)
        params["bi"][self.hidden_size : 2 * self.hidden_size] = 1.0
        return params

    def initial_carry(self, batch_shape=(), dtype=np.float32):
        zeros = np.zeros((*batch_shape, self.hidden_size), dtype)
        return zeros, zeros.copy()

    def apply(self, params: dict, carry, x):
        _check_input("LSTMCell", x, self.input_size)
        h, c = carry
        size = self.hidden_size
        gates = mnp.matmul(x, params["wi"]) + params["bi"] + mnp.matmul(h, params["wh"]) + params["bh"]
        input_gate = sigmoid(gates[..., :size])
        forget_gate = sigmoid(gates[..., size : 2 * size])
        candidate = tanh(gates[..., 2 * size : 3 * size])
        output_gate = sigmoid(gates[..., 3 * size :])
        c = forget_gate * c + input_gate * candidate
        h = output_gate * tanh(c)
        return (h, c), h


@attrs.frozen
class RNN:
    """Run ``cell`` along axis 1 of ``(batch, time, features)`` inputs with ``lax.scan``.

    ``apply(params, xs, initial_carry=None, return_carry=False)`` returns the outputs
    ``(batch, time, hidden)``, or ``(final_carry, outputs)`` with ``return_carry=True``.
    The parameters are the cell's.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> rnn = RNN(LSTMCell(3, 4))
      >>> params = rnn.init(mr.key(0))
      >>> (h, c), ys = rnn.apply(params, np.ones((2, 5, 3)), return_carry=True)
      >>> ys.shape, bool(np.allclose(ys[:, -1], h))
      ((2, 5, 4), True)
    """

    cell: object

    def init(self, key):
        return self.cell.init(key)

    def apply(self, params, xs, initial_carry=None, return_carry: bool = False):
        xs = mnp.asarray(xs)
        if xs.ndim != 3:
            raise ValueError(
                f"RNN({type(self.cell).__name__}): expected inputs of shape (batch, time, features), "
                f"got {tuple(xs.shape)}; add a batch axis with xs[None] for one sequence."
            )
        carry = self.cell.initial_carry((xs.shape[0],), xs.dtype) if initial_carry is None else initial_carry

        def step(carry, x):
            return self.cell.apply(params, carry, x)

        carry, ys = lax.scan(step, carry, mnp.swapaxes(xs, 0, 1))
        ys = mnp.swapaxes(ys, 0, 1)
        return (carry, ys) if return_carry else ys
