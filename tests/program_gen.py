"""Random well-typed programs over ``minigrad.numpy``, as a hypothesis strategy.

A ``Program`` is data: input shapes, a list of ``Op`` records (each one line of Python
that binds a new value from earlier ones) and the values it returns. It prints as Python
source that can be pasted into a regression test, and it runs as a function in two
worlds: with ``mnp`` bound to ``minigrad.numpy`` (the thing under test) or to plain
NumPy (the reference). The same source text is executed in both, so what is printed is
exactly what ran.

The generator builds a program one line at a time, evaluating each candidate line with
NumPy on the program's concrete arguments. That gives every value's shape (so each op
is chosen to fit: broadcasting, matmul alignment, einsum letters, index bounds) and its
numbers, which keep the checks meaningful:

- domain guards are written into the source (``log(x * x + 1.0)``, ``sqrt(x * x + 0.5)``,
  division by ``y * y + 1.0``, ``exp`` only of bounded values), so every program is
  smooth where it is defined;
- values whose size grows past ``MAGNITUDE`` are scaled back by a power of ten;
- non-differentiable ops (``abs``, ``maximum``, ``max``, ``where``, ``clip``, relu,
  ``argmax`` indices) are only used where no operand lies within ``KINK_MARGIN`` of the
  kink, so finite differences are a valid oracle. Exact ties are kept: they are
  structural, as in ``maximum(x, x)``, and API.md says how they split. The exception is
  values descending from exact roots, made on purpose (``prod(x - c)`` with ``c`` holding
  some of ``x``'s values, so that every derivative of a product is checked at zeros):
  their exact zeros are real kinks and are avoided too.

Hypothesis shrinks a failing program by shrinking its draws: fewer ops, earlier
operands, simpler op kinds (the op tables list the simplest first), smaller shapes.

Example:
    >>> from hypothesis import find
    >>> program = find(programs(max_ops=1), lambda p: True)
    >>> program.source().startswith("def program(x0")  # shrinking need not reach one input
    True
"""

from __future__ import annotations

import itertools
import re
import string
import types

import attrs
import numpy as np
from hypothesis import strategies as st

import minigrad.numpy as mnp
from minigrad.ops import elementwise as ew

__all__ = ["Op", "Program", "programs", "REFERENCE_NAMESPACE", "MINIGRAD_NAMESPACE"]

MAGNITUDE = 20.0  # values are kept within about this size
KINK_MARGIN = 1e-2  # operands this close to a kink (but not on it) are avoided
MAX_SIZE = 36  # elements per value, so finite differences stay cheap


def _reference_logsumexp(a, axis=None, keepdims=False):
    shift = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - shift), axis=axis, keepdims=True)) + shift
    return out if keepdims else np.squeeze(out, axis=axis)


def _reference_logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


# The names a program's source uses, bound to NumPy (the reference) or to minigrad.
_REFERENCE_MNP = types.SimpleNamespace(
    **{name: getattr(np, name) for name in mnp.__all__ if hasattr(np, name)},
    logsumexp=_reference_logsumexp,
)
REFERENCE_NAMESPACE = {
    "np": np,
    "mnp": _REFERENCE_MNP,
    "ew": types.SimpleNamespace(logistic=_reference_logistic),
}
MINIGRAD_NAMESPACE = {"np": np, "mnp": mnp, "ew": ew}


def _literal(array: np.ndarray) -> str:
    """Python source for a constant array (shortest round-tripping floats)."""
    return f"np.array({array.tolist()!r})"


@attrs.frozen
class Op:
    """One line of a program: ``name = expr``."""

    name: str
    expr: str


@attrs.frozen(repr=False)
class Program:
    """A generated program and the arguments it is checked at."""

    input_names: tuple[str, ...] = attrs.field(converter=tuple)
    ops: tuple[Op, ...] = attrs.field(converter=tuple)
    output_names: tuple[str, ...] = attrs.field(converter=tuple)
    args: tuple[np.ndarray, ...] = attrs.field(converter=tuple, eq=False)

    def source(self) -> str:
        """The program as a Python function ``program`` (plus its arguments)."""
        lines = [f"def program({', '.join(self.input_names)}):"]
        lines += [f"    {op.name} = {op.expr}" for op in self.ops]
        returned = self.output_names[0] if len(self.output_names) == 1 else ", ".join(self.output_names)
        lines.append(f"    return {returned}")
        lines.append("")
        lines.append(f"args = ({''.join(_literal(a) + ', ' for a in self.args)})")
        return "\n".join(lines)

    def function(self, namespace=None):
        """The program as a callable, with ``mnp`` bound as in ``namespace``."""
        scope = dict(MINIGRAD_NAMESPACE if namespace is None else namespace)
        body = self.source().split("\nargs = ")[0]
        exec(compile(body, "<generated program>", "exec"), scope)  # noqa: S102 - our own source
        return scope["program"]

    def reference(self):
        """The program's outputs computed by NumPy alone."""
        out = self.function(REFERENCE_NAMESPACE)(*self.args)
        return out if isinstance(out, tuple) else (out,)

    def __repr__(self):
        return "\n" + self.source()


# ----------------------------------------------------------------------------------------
# The values a program has built so far, and how a candidate line is tried.


class _Builder:
    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.names: list[str] = []
        self.values: dict[str, np.ndarray] = {}
        self.ops: list[Op] = []
        self.root_values: set[str] = set()
        self._counter = itertools.count()
        self._const_counter = itertools.count()

    def add_input(self, value: np.ndarray) -> None:
        name = f"x{len(self.names)}"
        self.names.append(name)
        self.values[name] = value

    def evaluate(self, expr: str):
        try:
            with np.errstate(all="raise"):
                out = eval(expr, REFERENCE_NAMESPACE, dict(self.values))  # noqa: S307 - our own source
        except (ValueError, IndexError, TypeError, FloatingPointError, np.exceptions.AxisError):
            return None
        out = np.asarray(out)
        if (
            out.dtype != np.float64
            or out.ndim > 3
            or not 0 < out.size <= MAX_SIZE
            or not np.all(np.isfinite(out))
        ):
            return None
        return out

    def constant(self, shape, value=None) -> str:
        """A new named constant array of ``shape`` (random unless given), on its own line."""
        if value is None:
            value = np.round(self.rng.uniform(-1.5, 1.5, shape), 2)
            value = np.where(value == 0, 0.5, value)
        name = f"c{next(self._const_counter)}"
        self.ops.append(Op(name, _literal(value)))
        self.values[name] = value
        return name

    def on_root(self, *operands: str) -> bool:
        """Whether an operand may hold exact zeros whose derivative is not zero."""
        return any(name in self.root_values for name in operands)

    def commit(self, expr: str, value: np.ndarray) -> str:
        # Values computed from exact roots may sit exactly on a kink: taint them.
        uses_root = "mnp.prod(" in expr and " - c" in expr
        uses_root = uses_root or self.on_root(*re.findall(r"\b[vx]\d+\b", expr))
        scale = float(np.max(np.abs(value)))
        if scale > MAGNITUDE:
            factor = 10.0 ** int(np.ceil(np.log10(scale / MAGNITUDE * 4)))
            expr = f"({expr}) / {factor!r}"
            value = value / factor
        name = f"v{next(self._counter)}"
        self.ops.append(Op(name, expr))
        self.names.append(name)
        self.values[name] = value
        if uses_root:
            self.root_values.add(name)
        return name


def _near_kink(*gaps, on_root: bool = False) -> bool:
    """True if some distance to a kink is small but not exactly zero.

    Exact zeros are structural ties (``maximum(x, x)``, ``abs(x - x)``) unless the
    operand descends from an exact root (``on_root``), where they are real kinks.
    """
    for gap in gaps:
        gap = np.abs(np.asarray(gap, np.float64))
        lowest = -1.0 if on_root else 0.0
        if np.any((gap > lowest) & (gap < KINK_MARGIN)):
            return True
    return False


def _broadcast_partner_shape(draw, shape) -> tuple[int, ...]:
    """A shape that broadcasts with ``shape``: trailing axes kept or set to 1, maybe more axes."""
    keep = draw(st.integers(0, len(shape)))
    partner = [d if draw(st.booleans()) else 1 for d in shape[len(shape) - keep :]]
    if draw(st.integers(0, 3)) == 0 and len(shape) < 3:
        partner = [draw(st.integers(1, 2)), *([1] * (len(shape) - keep)), *partner]
    return tuple(partner)


def _pick(draw, builder: _Builder, fits=None) -> str | None:
    """An earlier value (recent ones are likelier); ``fits(value)`` filters."""
    names = [n for n in reversed(builder.names) if fits is None or fits(builder.values[n])]
    if not names:
        return None
    return names[draw(st.integers(0, len(names) - 1))]


# ----------------------------------------------------------------------------------------
# Op kinds. Each takes (draw, builder, a) with ``a`` the name of its first operand and
# returns (expr, value) or None when it does not fit; the caller then falls back to sin.

_UNARY = [
    "mnp.sin({a})",
    "-{a}",
    "mnp.cos({a})",
    "mnp.tanh({a})",
    "mnp.square({a})",
    "{a} ** 3",
    "mnp.arctan({a})",
    "ew.logistic({a})",
    "mnp.log({a} * {a} + 1.0)",
    "mnp.log1p({a} * {a})",
    "mnp.sqrt({a} * {a} + 0.5)",
    "({a} * {a} + 1.0) ** 0.5",
    "mnp.power({a} * {a} + 1.0, 1.5)",
    "mnp.reciprocal({a} * {a} + 1.0)",
    "mnp.tan(mnp.tanh({a}))",
    "mnp.exp({a})",
    "mnp.expm1({a})",
    "mnp.abs({a})",
    "mnp.where({a} > 0, {a}, 0.0)",
    "mnp.clip({a}, -0.5, 0.5)",
    "abs({a})",
    "mnp.log2({a} * {a} + 1.0)",
    "mnp.exp2(mnp.tanh({a}))",
    "mnp.cbrt({a} * {a} + 0.5)",
    "mnp.ones_like({a}) * 0.5 + {a}",
    "mnp.true_divide({a}, 4.0)",
]
_UNARY_KINKS = {
    "mnp.abs({a})": (0.0,),
    "abs({a})": (0.0,),
    "mnp.where({a} > 0, {a}, 0.0)": (0.0,),
    "mnp.clip({a}, -0.5, 0.5)": (-0.5, 0.5),
}


def unary_op(draw, builder, a):
    template = draw(st.sampled_from(_UNARY))
    x = builder.values[a]
    if "exp" in template and np.max(np.abs(x)) > 3:
        return None
    if _near_kink(*(x - k for k in _UNARY_KINKS.get(template, ())), on_root=builder.on_root(a)):
        return None
    expr = template.format(a=a)
    return expr, builder.evaluate(expr)


_BINARY = [
    "{a} + {b}",
    "{a} * {b}",
    "{a} - {b}",
    "{a} / ({b} * {b} + 1.0)",
    "mnp.maximum({a}, {b})",
    "mnp.minimum({a}, {b})",
    "mnp.where({a} > {b}, {a} * {b}, {a} - {b})",
    "mnp.power({a} * {a} + 1.0, mnp.tanh({b}))",
    "mnp.add({a}, {b})",
    "mnp.multiply({a}, {b})",
]
_COMMUTATIVE = {
    "{a} + {b}",
    "{a} * {b}",
    "mnp.maximum({a}, {b})",
    "mnp.add({a}, {b})",
    "mnp.multiply({a}, {b})",
}
_BINARY_KINKED = {
    "mnp.maximum({a}, {b})",
    "mnp.minimum({a}, {b})",
    "mnp.where({a} > {b}, {a} * {b}, {a} - {b})",
}


def binary_op(draw, builder, a):
    x = builder.values[a]
    source = draw(st.integers(0, 4))
    if source == 4:
        b = a  # the same value twice: x * x, maximum(x, x) (a tie, split 0.5/0.5)
    elif source == 0:
        b = repr(draw(st.sampled_from([2.0, -1.5, 0.5, 3.0])))  # a weak Python scalar
    elif source == 1:
        b = builder.constant(_broadcast_partner_shape(draw, x.shape))
    else:

        def broadcastable(v):
            try:
                return len(np.broadcast_shapes(x.shape, v.shape)) <= 3
            except ValueError:
                return False

        b = _pick(draw, builder, broadcastable)
    template = draw(st.sampled_from(_BINARY))
    if template in _COMMUTATIVE and draw(st.booleans()):
        a, b = b, a  # exercise reflected operators: 2.0 * x, numpy_constant * x
    if template in _BINARY_KINKED:
        y = eval(b, REFERENCE_NAMESPACE, dict(builder.values))  # noqa: S307
        x_value = eval(a, REFERENCE_NAMESPACE, dict(builder.values))  # noqa: S307
        if _near_kink(x_value - y, on_root=builder.on_root(a, b)):
            return None
    expr = template.format(a=a, b=b)
    return expr, builder.evaluate(expr)


def _axis_arg(draw, ndim):
    """An axis argument as source text, and the normalised axes it reduces."""
    kind = draw(st.integers(0, 2)) if ndim else 0
    if kind == 0:
        return "None", tuple(range(ndim))
    if kind == 1:
        axis = draw(st.integers(-ndim, ndim - 1))
        return repr(axis), (axis % ndim,)
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return repr(tuple(axes)), tuple(sorted(axes))


_REDUCTIONS = [
    "sum",
    "mean",
    "max",
    "min",
    "logsumexp",
    "prod",
    "var",
    "std",
    "prod_of_relu",
    "prod_at_roots",
]


def reduction_op(draw, builder, a):
    x = builder.values[a]
    name = draw(st.sampled_from(_REDUCTIONS))
    axis, axes = _axis_arg(draw, x.ndim)
    keepdims = draw(st.booleans())
    if name in ("max", "min") and axes:
        # Elements of one reduced slice down axis 0, sorted: near (not exact) ties are kinks.
        slices = np.moveaxis(x, axes, tuple(range(len(axes)))).reshape(
            -1, x.size // np.prod([x.shape[i] for i in axes])
        )
        ordered = np.sort(slices, axis=0)
        if _near_kink(ordered[1:] - ordered[:-1], on_root=builder.on_root(a)):
            return None
    if name == "std" and np.min(np.var(x, axis=axes)) < KINK_MARGIN:
        return None  # sqrt'(0) is infinite: std at zero spread is not differentiable
    if name.startswith("prod") and np.prod([x.shape[i] for i in axes]) > 4:
        return None
    method = name in ("sum", "mean", "max", "min") and draw(st.booleans())
    kd = f", keepdims={keepdims}" if keepdims else ""
    if name == "prod_at_roots":
        # Exact zeros with derivative 1 (x - c where c holds x's value at some places):
        # every derivative of a product must be right there, not only the first.
        at_root = draw(st.lists(st.booleans(), min_size=x.size, max_size=x.size))
        shifted = np.where(np.reshape(at_root, x.shape), x, x - 0.5)
        c = builder.constant(x.shape, shifted)
        expr = f"mnp.prod({a} - {c}, axis={axis}{kd})"
        return expr, builder.evaluate(expr)
    if name == "prod_of_relu":  # a product with zeros in it: its gradient must not divide by them
        if _near_kink(x, on_root=builder.on_root(a)):
            return None
        expr = f"mnp.prod(mnp.where({a} > 0, {a}, 0.0), axis={axis}{kd})"
        return expr, builder.evaluate(expr)
    expr = f"{a}.{name}(axis={axis}{kd})" if method else f"mnp.{name}({a}, axis={axis}{kd})"
    return expr, builder.evaluate(expr)


def _factorizations(size):
    """Shapes of rank <= 3 with ``size`` elements."""
    shapes = [(size,)]
    for i in range(1, size + 1):
        if size % i == 0:
            shapes.append((i, size // i))
            for j in range(1, size // i + 1):
                if (size // i) % j == 0:
                    shapes.append((i, j, size // i // j))
    return shapes


def movement_op(draw, builder, a):
    x = builder.values[a]
    nd = x.ndim
    kinds = ["reshape"]
    kinds += ["transpose", "swapaxes"] if nd >= 2 else []
    kinds += ["expand_dims", "broadcast_to", "stack"] if nd < 3 else []
    kinds += ["squeeze"] if 1 in x.shape else []
    kinds += ["flip", "concatenate", "split_or_pad"] if nd >= 1 else []
    kind = draw(st.sampled_from(kinds))
    if kind == "reshape":
        shape = draw(st.sampled_from(_factorizations(x.size)))
        if draw(st.booleans()):
            shape = tuple(-1 if i == 0 else d for i, d in enumerate(shape))
        expr = f"mnp.reshape({a}, {shape!r})" if draw(st.booleans()) else f"{a}.reshape{shape!r}"
    elif kind == "transpose":
        perm = tuple(draw(st.permutations(range(nd))))
        expr = f"{a}.T" if nd == 2 and draw(st.booleans()) else f"mnp.transpose({a}, {perm!r})"
    elif kind == "swapaxes":
        i, j = draw(st.integers(-nd, nd - 1)), draw(st.integers(-nd, nd - 1))
        expr = f"mnp.swapaxes({a}, {i}, {j})" if draw(st.booleans()) else f"mnp.moveaxis({a}, {i}, {j})"
    elif kind == "expand_dims":
        expr = f"mnp.expand_dims({a}, {draw(st.integers(-nd - 1, nd))})"
    elif kind == "squeeze":
        expr = f"mnp.squeeze({a})"
    elif kind == "broadcast_to":
        expr = f"mnp.broadcast_to({a}, {(draw(st.integers(1, 3)), *x.shape)!r})"
    elif kind == "flip":
        axis = draw(st.sampled_from(["None", *map(str, range(nd))]))
        expr = f"mnp.flip({a}, axis={axis})"
    elif kind == "concatenate":
        b = _pick(draw, builder, lambda v: v.ndim == nd)
        axis = draw(st.integers(0, nd - 1))
        if any(builder.values[b].shape[i] != x.shape[i] for i in range(nd) if i != axis):
            b = a  # fan-out: join a value with itself
        expr = f"mnp.concatenate([{a}, {b}], axis={axis})"
    elif kind == "stack":
        b = _pick(draw, builder, lambda v: v.shape == x.shape)
        expr = f"mnp.stack([{a}, {b}], axis={draw(st.integers(-nd - 1, nd))})"
    else:
        axis = draw(st.integers(0, nd - 1))
        if x.shape[axis] >= 2 and draw(st.booleans()):
            cut = draw(st.integers(1, x.shape[axis] - 1))
            expr = f"mnp.split({a}, [{cut}], axis={axis})[{draw(st.integers(0, 1))}]"
        else:
            mode = draw(st.sampled_from(["constant", "edge", "reflect", "wrap"]))
            widths = tuple((draw(st.integers(0, 1)), draw(st.integers(0, 1))) for _ in range(nd))
            expr = f"mnp.pad({a}, {widths!r}, mode={mode!r})"
    return expr, builder.evaluate(expr)


def _bound(draw, position, size):
    """A slice bound as source: ``position`` as is, counted from the end, or left out."""
    if position is None:
        return ""
    if position < 0:  # one before the start: only expressible by leaving the bound out
        return ""
    if position < size and draw(st.booleans()):
        return str(position - size)
    return str(position)


def _index_entry(draw, size):
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return ":"
    if kind == 1:
        return str(draw(st.integers(-size, size - 1)))
    if kind == 2:  # a non-empty slice, forwards or backwards
        step = draw(st.sampled_from([1, -1, 2, -2]))
        start = draw(st.integers(0, size - 1))
        if step > 0:
            stop = draw(st.integers(start + 1, size))
            text = f"{_bound(draw, start, size) if start else ''}:{_bound(draw, stop, size) if stop < size else ''}"
        else:
            stop = draw(st.integers(-1, start - 1))
            text = f"{_bound(draw, start, size) if start < size - 1 else ''}:{_bound(draw, stop, size)}"
        return text + ("" if step == 1 else f":{step}")
    if kind == 3:
        return "None"
    indices = draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=4))
    return f"np.array({indices!r})"


def index_op(draw, builder, a):
    x = builder.values[a]
    if x.ndim == 0:
        return None
    special = draw(st.integers(0, 6))
    if special == 0:
        axis = draw(st.integers(0, x.ndim - 1))
        indices = draw(st.lists(st.integers(-x.shape[axis], x.shape[axis] - 1), min_size=1, max_size=3))
        expr = f"mnp.take({a}, np.array({indices!r}), axis={axis})"
        return expr, builder.evaluate(expr)
    if special == 1:  # indices computed from the program's own values (traced under jit/vmap)
        ordered = np.sort(x, axis=0)
        if _near_kink(ordered[1:] - ordered[:-1], on_root=builder.on_root(a)):
            return None
        arg = draw(st.sampled_from(["argmax", "argmin"]))
        expr = f"{a}[mnp.{arg}({a}, axis=0)]"
        return expr, builder.evaluate(expr)
    if special == 2:  # a boolean mask known before tracing
        mask = draw(st.lists(st.booleans(), min_size=x.shape[0], max_size=x.shape[0]))
        expr = f"{a}[np.array({mask!r})]"
        return expr, builder.evaluate(expr)
    count = draw(st.integers(1, x.ndim))
    entries = [_index_entry(draw, x.shape[i]) for i in range(count)]
    if sum("np.array" in e for e in entries) > 1:
        return None  # several index arrays broadcast together; one keeps shapes readable
    if count < x.ndim and draw(st.booleans()):
        entries = ["...", *entries[1:]] if draw(st.booleans()) else [*entries, "..."]
    expr = f"{a}[{', '.join(entries)}]"
    return expr, builder.evaluate(expr)


def contraction_op(draw, builder, a):
    x = builder.values[a]
    if x.ndim == 0:
        return None
    kind = draw(st.integers(0, 2))
    if kind == 0:  # matmul, NumPy style, with an operand found or made to fit
        k = x.shape[-1]
        b = _pick(draw, builder, lambda v: v.ndim >= 1 and v.shape[-2 if v.ndim >= 2 else 0] == k)
        if b is None or draw(st.booleans()):
            b = builder.constant(draw(st.sampled_from([(k,), (k, 2), (k, 1), (2, k, 3)])))
        spelling = draw(st.sampled_from(["{a} @ {b}", "mnp.matmul({a}, {b})", "mnp.dot({a}, {b})"]))
        if spelling.startswith("mnp.dot") and (x.ndim > 2 or builder.values[b].ndim > 2):
            spelling = "{a} @ {b}"
        expr = spelling.format(a=a, b=b)
    elif kind == 1:  # einsum: letters shared where sizes agree, any output order
        b = _pick(draw, builder, lambda v: v.ndim >= 1) or a
        y = builder.values[b]
        letters = iter(string.ascii_lowercase)
        a_sub = []
        for size in x.shape:  # now and then a diagonal: a letter repeated in one operand
            same = [c for c, d in zip(a_sub, x.shape, strict=False) if d == size]
            a_sub.append(same[0] if same and draw(st.integers(0, 3)) == 0 else next(letters))
        b_sub = []
        for size in y.shape:
            same = [c for c, d in zip(a_sub, x.shape, strict=True) if d == size and c not in b_sub]
            same = list(dict.fromkeys(same))
            b_sub.append(draw(st.sampled_from(same)) if same and draw(st.booleans()) else next(letters))
        used = list(dict.fromkeys(a_sub + b_sub))
        out = draw(st.permutations(used))[: draw(st.integers(0, len(used)))]
        expr = f'mnp.einsum("{"".join(a_sub)},{"".join(b_sub)}->{"".join(out)}", {a}, {b})'
    else:
        b = _pick(draw, builder, lambda v: v.size * x.size <= MAX_SIZE) or a
        expr = f"mnp.outer({a}, {b})"
    return expr, builder.evaluate(expr)


# Simplest first: hypothesis shrinks a choice towards the start of the list.
_OP_KINDS = [unary_op, binary_op, reduction_op, movement_op, index_op, contraction_op]
_NEED_AXES = (index_op, contraction_op)


def _shape(draw):
    # Matrices first (the simplest shape that still has axes to move), scalars last.
    rank = draw(st.sampled_from([2, 1, 3, 0]))
    shape = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    return shape if np.prod(shape) <= 12 else shape[:2]


@st.composite
def programs(draw, max_inputs: int = 3, max_ops: int = 10):
    """A strategy for ``Program``: random ops over 1..``max_inputs`` float64 inputs."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    builder = _Builder(rng)
    for _ in range(draw(st.integers(1, max_inputs))):
        builder.add_input(rng.uniform(-2.0, 2.0, _shape(draw)))
    # Another op with probability 9/10 (and up to max_ops): shrinking stops the program early.
    for count in range(max_ops):
        if count and draw(st.integers(0, 9)) == 0:
            break
        kind = draw(st.sampled_from(_OP_KINDS))
        needs_axes = kind in _NEED_AXES
        a = _pick(draw, builder, lambda v, needs_axes=needs_axes: v.ndim >= needs_axes) or _pick(
            draw, builder
        )
        ops_before = len(builder.ops)
        made = kind(draw, builder, a)
        if made is None or made[1] is None:
            del builder.ops[ops_before:]  # drop constants made for the failed attempt
            made = f"mnp.sin({a})", np.sin(builder.values[a])
        builder.commit(*made)
    last = builder.names[-1]
    outputs = [last]
    if draw(st.integers(0, 2)) == 0:
        other = _pick(draw, builder)
        if other != last:
            outputs.append(other)
    inputs = [n for n in builder.names if n.startswith("x")]
    return Program(inputs, builder.ops, outputs, [builder.values[n] for n in inputs])
