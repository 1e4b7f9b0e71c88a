"""The exceptions users can catch, and the long advice they carry.

Example:
    >>> issubclass(ConcretizationError, TypeError)
    True
"""

__all__ = [
    "ConcretizationError",
    "TracerLeakError",
    "CONCRETIZATION_ADVICE",
    "LEAK_ADVICE",
    "DEBUG_NANS_ADVICE",
    "NUMPY_ON_TRACER_ADVICE",
    "TRACED_INDEX_ADVICE",
    "DROPPED_DERIVATIVE_ADVICE",
]

CONCRETIZATION_ADVICE = (
    "The value of this array is not known while the function is being staged "
    "(under jit, make_jaxpr or vmap only its shape and dtype are). Python control flow "
    "such as `if`, `while`, `bool()`, `int()` or `float()` needs the value. Compute both "
    "branches and choose with `mnp.where(condition, a, b)`, or mark the argument as "
    "static with `jit(f, static_argnums=...)` so its value is known when tracing."
)

LEAK_ADVICE = (
    "A tracer escaped the transform that created it (for example it was stored in a "
    "global or in a closure that runs later) and was used after that transform ended. "
    "Return values from the transformed function instead of saving intermediate ones."
)

DEBUG_NANS_ADVICE = (
    "Look at that line's inputs: log or sqrt of values <= 0, division by zero, or exp "
    "overflowing are the usual causes. For a branch guarded by `where` that must not be "
    "evaluated where it is not chosen, guard its input too: "
    "`mnp.where(x > 0, mnp.log(mnp.where(x > 0, x, 1.0)), 0.0)`. Turn the check off "
    "with `minigrad.config.update('debug_nans', False)`."
)

NUMPY_ON_TRACER_ADVICE = (
    "A NumPy function was applied to a traced array, which NumPy cannot compute on while "
    "a transform is watching. Inside transformed functions use the functions of "
    "`minigrad.numpy` (import minigrad.numpy as mnp; mnp.sin(x) instead of np.sin(x))."
)

TRACED_INDEX_ADVICE = (
    "To index a NumPy array (or a list) with a traced integer, as in an embedding lookup "
    "`table[i]`, index through minigrad.numpy instead: `mnp.take(table, i, axis=0)`, or "
    "`mnp.getitem(table, index)` for any index. NumPy's own indexing cannot see the transform."
)

DROPPED_DERIVATIVE_ADVICE = (
    "A Python number has no derivative, so turning a differentiated value into one would "
    "lose its derivative without a word. Keep computing with arrays: use the function of "
    "`minigrad.numpy` (import minigrad.numpy as mnp; `mnp.tanh(x)` for `math.tanh(x)`, "
    "`mnp.exp(x)` for `math.exp(x)`). To take the value on purpose, with a zero "
    "derivative, write `float(mg.stop_gradient(x))`. `bool()`, `int()`, `if` and `while` "
    "keep working: control flow needs no derivative."
)


FUNCTIONAL_GRADIENT_ADVICE = (
    "minigrad is functional, as JAX is: gradients are returned by a transform, never "
    "stored on arrays. Write `grads = mg.grad(loss)(params, x)` (or `mg.value_and_grad`). "
    "docs/micrograd.md shows micrograd's and PyTorch's habits side by side with minigrad's."
)

# What a PyTorch or micrograd habit means here, for each attribute a traced array lacks.
IMPERATIVE_ATTRIBUTES = {
    "backward": "a traced array has no `.backward()`: nothing records a graph to walk back through later.",
    "grad": "a traced array has no `.grad`: nothing stores a gradient on an array.",
    "requires_grad": (
        "a traced array has no `.requires_grad`: `mg.grad(f, argnums=...)` chooses what to "
        "differentiate with respect to."
    ),
    "requires_grad_": (
        "a traced array has no `.requires_grad_()`: `mg.grad(f, argnums=...)` chooses what "
        "to differentiate with respect to."
    ),
    "zero_grad": "a traced array has no `.zero_grad()`: nothing accumulates, each call of `mg.grad` starts afresh.",
    "retain_grad": (
        "a traced array has no `.retain_grad()`: to get the gradient at an intermediate "
        "value, make it an argument of the function you differentiate."
    ),
    "detach": (
        "a traced array has no `.detach()`: write `mg.stop_gradient(x)` for the same value "
        "with a zero derivative."
    ),
}


class ConcretizationError(TypeError):
    """Python needed the value of an array whose value is not known while staging."""


class TracerLeakError(RuntimeError):
    """A tracer was used after the transform that created it had ended."""
