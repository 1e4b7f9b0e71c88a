"""Tests for minigrad.transforms.jit.compiler: generated code equals the interpreter, frees
intermediates, and writes in place only into buffers nobody else can see."""

import ast
import gc
import linecache
import re
import traceback
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.interpreter import eval_jaxpr
from minigrad.core.ir import Eqn, Jaxpr, Literal, ShapedArray, Var
from minigrad.core.lowering import FRESH, Code
from minigrad.core.primitive import Primitive, all_primitives
from minigrad.core.staging import stage_flat
from minigrad.core.trace import bind
from minigrad.transforms.jit import compiler as compiler_module
from minigrad.transforms.jit.compiler import compile_jaxpr
from minigrad.transforms.jit.passes import optimize


def _check(fun, *args):
    """Compile ``fun``'s program; compare with the interpreter; inputs must not change."""
    closed = mg.make_jaxpr(fun)(*args)
    copies = [np.array(a, copy=True) for a in args]
    expected = eval_jaxpr(closed.jaxpr, closed.consts, *args)
    for program in (closed, optimize(closed)):
        compiled = compile_jaxpr(program)
        got = compiled(*args)
        for a, c in zip(args, copies, strict=True):
            np.testing.assert_array_equal(a, c)  # no input was written into
        for g, e in zip(got, expected, strict=True):
            assert isinstance(g, np.ndarray) and g.dtype == e.dtype and g.shape == e.shape
            np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-13)
    return compiled


def _written_in_place(compiled) -> list[str]:
    """The names the generated code passes as a ufunc's ``out`` (the argument after its
    operands), in order."""
    written = []
    for node in ast.walk(ast.parse(compiled.source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            function = compiled.fn.__globals__.get(node.func.id)
            if isinstance(function, np.ufunc) and len(node.args) > function.nin:
                written.append(node.args[function.nin].id)
    return written


def test_source_deletes_dead_intermediates_and_writes_in_place():
    compiled = _check(lambda x: mnp.exp(mnp.sin(x) * 2.0) + 1.0, np.ones(4))
    source = compiled.source
    # Each result written into its dead operand takes over the operand's name, so no
    # `del` is needed for it.
    assert source.count("b = ") == 4 and _written_in_place(compiled) == ["b", "b", "b"]
    assert "del " not in source
    assert "eval_jaxpr" not in source and "bind" not in source
    # A result that cannot take its operand's buffer leaves the operand to be deleted.
    reduced = _check(lambda x: mnp.sum(mnp.exp(x), axis=0), np.ones((2, 3)))
    assert "del b" in reduced.source and _written_in_place(reduced) == []


def test_inputs_are_never_overwritten():
    compiled = _check(lambda x, y: (mnp.exp(x) + y, y * 2.0), np.ones(3), np.full(3, 2.0))
    written = _written_in_place(compiled)
    assert written and "a" not in written and "b" not in written


def test_returned_values_are_not_overwritten_later():
    # `h` is returned and also feeds later elementwise work of its shape.
    def f(x):
        h = mnp.sin(x) * 3.0
        k = mnp.exp(h) + 1.0
        return h, k * 2.0

    x = np.linspace(0, 1, 5)
    h, k = compile_jaxpr(mg.make_jaxpr(f)(x))(x)
    np.testing.assert_allclose(h, np.sin(x) * 3.0)
    np.testing.assert_allclose(k, (np.exp(np.sin(x) * 3.0) + 1.0) * 2.0)


def test_views_of_a_buffer_keep_it_from_being_reused():
    def f(x):
        a = mnp.exp(x)  # owned buffer
        view = a.reshape(2, 3).T  # a live view of it
        b = a * 2.0  # must not write into `a` while `view` lives
        return view, b

    x = np.arange(6.0)
    view, b = _check(f, x)(x)
    np.testing.assert_allclose(view, np.exp(x).reshape(2, 3).T)
    np.testing.assert_allclose(b, 2 * np.exp(x))


def test_broadcast_views_are_never_written():
    def f(x, y):
        s = mnp.sum(x, axis=1, keepdims=True)
        wide = mnp.broadcast_to(s, (3, 4))
        return wide * y

    _check(f, np.ones((3, 2)), np.ones((3, 4)))


def test_literal_outputs_are_fresh_copies():
    compiled = compile_jaxpr(optimize(mg.make_jaxpr(lambda x: (mnp.ones(3) * 2.0, x))(np.ones(3))))
    first, _ = compiled(np.ones(3))
    first[:] = 0.0
    second, _ = compiled(np.ones(3))
    np.testing.assert_array_equal(second, np.full(3, 2.0))


def test_scalar_outputs_are_arrays():
    out = compile_jaxpr(mg.make_jaxpr(lambda x: mnp.sum(x) * 2.0)(np.ones(3)))(np.ones(3))[0]
    assert type(out) is np.ndarray and out.shape == () and out == 6.0


def test_fallback_primitives_run_through_their_implementation():
    def f(x):
        return mnp.pad(x, ((1, 1),)) * 2.0, mnp.argmax(x, axis=0), mnp.einsum("i,i->", x, x)

    compiled = _check(f, np.array([3.0, 1.0, 2.0]))
    assert "_pad(" in compiled.source and "_argmax(" in compiled.source


def test_fallback_results_are_not_reused_in_place():
    # einsum can return a view of its operand; its buffer must not be overwritten.
    def f(x):
        e = mnp.exp(x)
        t = mnp.einsum("ij->ji", e)
        return t, e * 2.0

    x = np.arange(6.0).reshape(2, 3)
    t, doubled = _check(f, x)(x)
    np.testing.assert_allclose(t, np.exp(x).T)
    np.testing.assert_allclose(doubled, 2 * np.exp(x))


def test_indexing_gather_basic_and_advanced():
    _check(
        lambda x: (x[1:, ::-1] * 2.0, x[np.array([2, 0, 0])] + 1.0, x[0, None]), np.arange(12.0).reshape(3, 4)
    )


def test_names_that_are_python_keywords_are_escaped():
    def many(x):
        for _ in range(400):
            x = x * 1.5 + 0.5
        return x

    # 0-d results are never written in place, so each takes a fresh name.
    program = stage_flat(lambda x: [many(x)], [ShapedArray((), np.float64)])
    compiled = compile_jaxpr(program)
    assert " as_ = " in compiled.source or " if_ = " in compiled.source
    np.testing.assert_allclose(compiled(np.float64(0.0))[0], many(np.float64(0.0)))


def test_multiple_results_and_repeated_outputs():
    closed = mg.make_jaxpr(lambda x: (x * 2.0, x * 2.0, x))(np.ones(2))
    x = np.ones(2)
    outs = compile_jaxpr(optimize(closed))(x)
    assert outs[0] is not outs[1] and not np.shares_memory(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[2], np.ones(2))
    assert not np.shares_memory(outs[2], x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes_are_kept(dtype):
    x = np.linspace(0.1, 1, 4).astype(dtype)
    out = _check(lambda v: mnp.log(v) * 3.0 + v**2, x)(x)[0]
    assert out.dtype == dtype


OPS = ["exp", "sin", "mul_self", "add_const", "transpose", "reshape", "sum_keep", "neg", "square"]


@given(st.lists(st.sampled_from(OPS), min_size=1, max_size=10), st.integers(0, 9))
def test_random_programs_with_views_and_reuse(ops, output_every):
    def f(x):
        outs = []
        y = x
        for i, op in enumerate(ops):
            if op == "exp":
                y = mnp.exp(y * 0.1)
            elif op == "sin":
                y = mnp.sin(y)
            elif op == "mul_self":
                y = y * y
            elif op == "add_const":
                y = y + 1.0
            elif op == "transpose":
                y = y.T
            elif op == "reshape":
                y = y.reshape(y.shape[::-1])
            elif op == "sum_keep":
                y = y - mnp.sum(y, axis=0, keepdims=True)
            elif op == "neg":
                y = -y
            else:
                y = y**2
            if output_every and i % output_every == 0:
                outs.append(y)
        return (*outs, y)

    # Repeated squaring and exp can overflow to inf (and inf - inf to nan): compiled and
    # interpreted programs must still agree, so those floating-point warnings are expected.
    with np.errstate(over="ignore", invalid="ignore"):
        _check(f, np.arange(6.0).reshape(2, 3) / 6.0)


def test_a_primitive_lowering_rule_is_used():
    cube_p = Primitive("cube_for_compile_test", register=False)

    @cube_p.def_impl
    def cube_impl(x):
        return x * x * x

    @cube_p.def_shape_rule
    def cube_shape_rule(x):
        return x

    @cube_p.def_lowering
    def cube_lowering(ctx, x):
        return Code(f"{ctx.constant(np.power, 'power')}({x}, 3)", FRESH)

    x, y = Var(ShapedArray((2,), np.float64)), Var(ShapedArray((2,), np.float64))
    compiled = compile_jaxpr(Jaxpr((), [x], [Eqn(cube_p, [x], [y])], [y]))
    assert "_power(a, 3)" in compiled.source
    np.testing.assert_array_equal(compiled(np.array([2.0, 3.0]))[0], [8.0, 27.0])


def test_large_programs_are_split_into_parts_that_free_memory():
    def f(x, y):
        keep = mnp.exp(x)  # read again at the very end
        for _ in range(30):
            x = mnp.sin(x) * 1.01 + y
        return x + keep, y

    x, y = np.linspace(0, 1, 5), np.full(5, 0.1)
    closed = mg.make_jaxpr(f)(x, y)
    compiled = compile_jaxpr(closed, block_size=7)
    assert "def _part0(_live):" in compiled.source and "_live.clear()" in compiled.source
    for got, expected in zip(compiled(x, y), f(x, y), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-13)
    assert compile_jaxpr(closed).source.count("def ") == 1  # small programs stay one function


def test_each_part_is_compiled_on_its_own_and_tracebacks_show_its_lines(monkeypatch):
    # One compile() of a 200k-equation module took 18 s and 1.5 GB; parts are compiled
    # one at a time, each at its own lines of the whole source.
    def f(x, y):
        for _ in range(30):
            y = mnp.sin(y) * 1.01
        return y + mnp.log(x)

    closed = mg.make_jaxpr(f)(np.ones(2), np.ones(2))
    compiled_lengths = []

    def counting_compile(source, *args):
        compiled_lengths.append(source.count("\n"))
        return compile(source, *args)

    monkeypatch.setattr(compiler_module, "compile", counting_compile, raising=False)
    compiled = compile_jaxpr(closed, block_size=7)
    assert len(compiled_lengths) == compiled.source.count("def ") > 5
    assert max(compiled_lengths) < 7 * 4 + 10  # a part's equations and a few lines around them
    with pytest.raises(TypeError) as info:
        compiled("not an array", np.ones(2))  # log(x) is in the last part
    assert "_log(" in traceback.format_tb(info.value.__traceback__)[-1]


def test_generated_source_shows_in_tracebacks_and_is_forgotten_with_the_function():
    compiled = compile_jaxpr(mg.make_jaxpr(lambda x: mnp.log(x) * 2.0)(np.ones(2)))
    filename = compiled.fn.__code__.co_filename
    assert filename in linecache.cache
    with pytest.raises(TypeError) as info:
        compiled("not an array")
    assert "_log(a)" in "".join(traceback.format_tb(info.value.__traceback__))
    del compiled, info
    gc.collect()
    compile_jaxpr(mg.make_jaxpr(lambda x: x * 3.0)(np.ones(2)))  # forgets freed sources
    assert filename not in linecache.cache


def test_freeing_a_program_while_linecache_is_scanned_is_harmless():
    # linecache.checkcache() (run by pdb and doctest) lists the cache's keys, then reads
    # each; a garbage collection in between used to remove a freed program's entry.
    compiled = compile_jaxpr(mg.make_jaxpr(lambda x: mnp.sin(x))(np.ones(2)))
    names = list(linecache.cache)
    del compiled
    gc.collect()
    for name in names:
        assert linecache.cache[name] is not None
    linecache.checkcache()


def test_bitwise_and_exact_functions_compile_to_their_ufuncs():
    # and/or/xor/not are bitwise on integers (logical only on booleans).
    ints, flags = np.array([5, 3, 12]), np.array([True, False, True])
    compiled = _check(lambda a, b: ((a & 6) | 1, ~a, a ^ 3, ~b, b & ~b), ints, flags)
    np.testing.assert_array_equal(compiled(ints, flags)[0], [5, 3, 5])
    np.testing.assert_array_equal(compiled(ints, flags)[1], [-6, -4, -13])
    compiled = _check(
        lambda t: (mnp.cbrt(t), mnp.log10(t), mnp.exp2(t), mnp.log2(t)), np.array([8.0, 1000.0])
    )
    assert compiled(np.array([1000.0]))[1] == 3.0


def test_results_are_distinct_writable_arrays():
    # Eager calls return arrays of their own; so must jit: writing into one result
    # must not change another result or an input.
    x = np.ones(3)
    a, b = mg.jit(lambda v: (v * 2, v * 2))(x)
    a += 1
    np.testing.assert_array_equal(b, [2.0, 2.0, 2.0])
    assert mg.jit(lambda v: v)(x) is not x
    s = np.array(1.0)
    assert mg.jit(lambda v: v)(s) is not s
    y, view = mg.jit(lambda v: (v, v.reshape(3, 1)))(x)
    assert not np.shares_memory(y, x) and not np.shares_memory(view, x) and not np.shares_memory(y, view)
    c, d = mg.jit(lambda v: (v.reshape(3, 1), v.T))(np.ones((3, 1)) * 1.0 + x[:, None])
    assert not np.shares_memory(c, d)
    wide = mg.jit(lambda v: mnp.broadcast_to(v, (2, 3)))(x)
    assert wide.flags.writeable


def test_results_that_need_no_copy_are_not_copied():
    source = compile_jaxpr(optimize(mg.make_jaxpr(lambda v: (v * 2, v + 1))(np.ones(2)))).source
    assert "_array(" not in source and "_writable(" not in source


def test_results_of_opaque_implementations_are_checked_for_sharing_when_run():
    # An implementation compile cannot see into may return its operand, a view of it, or
    # a read-only array: the result is copied exactly when that happens.
    passthrough_p = Primitive("passthrough_for_compile_test", register=False)
    passthrough_p.def_impl(
        lambda x, mode: {"same": x, "view": x[::1], "fresh": x + 0, "ro": np.broadcast_to(x, x.shape)}[mode]
    )
    passthrough_p.def_shape_rule(lambda x, mode: x)
    mul_p = all_primitives()["mul"]
    for mode in ("same", "view", "fresh", "ro"):
        x, y, z = (Var(ShapedArray((2,), np.float64)) for _ in range(3))
        compiled = compile_jaxpr(Jaxpr((), [x], [Eqn(passthrough_p, [x], [y], {"mode": mode})], [y]))
        data = np.array([1.0, 2.0])
        assert "_own(b, a)" in compiled.source  # checked when run, not always copied
        (out,) = compiled(data)
        assert out.flags.writeable and not np.shares_memory(out, data), mode
        # and against an earlier result
        double = Eqn(mul_p, [x, Literal(np.array(2.0), ShapedArray((), np.float64))], [z])
        compiled = compile_jaxpr(
            Jaxpr((), [x], [double, Eqn(passthrough_p, [z], [y], {"mode": mode})], [z, y])
        )
        first, second = compiled(data)
        assert not np.shares_memory(first, second), mode
        np.testing.assert_array_equal(second, [2.0, 4.0])


# ---------------------------------------------------------------------------------------
# Primitives are found by object: names are only for printing


def _unregistered_unary(name, impl):
    primitive = Primitive(name, register=False)
    primitive.def_impl(impl)

    @primitive.def_shape_rule
    def unary_shape_rule(x):
        return x

    return primitive


def _jit_of(primitive, times=1):
    def f(x):
        for _ in range(times):
            x = bind(primitive, x)
        return x

    return mg.jit(f)


def test_a_primitive_with_a_misleading_name_compiles_to_its_own_impl():
    # Named like the built-in sin, computing cos: jit must agree with eager evaluation.
    impostor = _unregistered_unary("sin", np.cos)
    x = np.array([0.0, 1.0, 2.0])
    jitted = _jit_of(impostor)
    np.testing.assert_array_equal(jitted(x), bind(impostor, x))
    np.testing.assert_array_equal(jitted(x), np.cos(x))


def test_rewrites_apply_to_the_primitive_object_not_its_name():
    # Two "neg"s in a row cancel for the real neg_p; an impostor named "neg" that
    # squares must be applied twice.
    impostor = _unregistered_unary("neg", np.square)
    x = np.array([2.0, 3.0])
    np.testing.assert_array_equal(_jit_of(impostor, times=2)(x), [16.0, 81.0])
    transpose_named = _unregistered_unary("transpose", np.negative)
    np.testing.assert_array_equal(_jit_of(transpose_named, times=2)(x), x)
    assert _jit_of(transpose_named, times=2).lower(x).source.count("= _transpose") == 2


@pytest.mark.parametrize("name", ["add-one", "0starts with a digit", "", "class", "ünïcode"])
def test_primitive_names_that_are_not_identifiers_compile(name):
    add_one = _unregistered_unary(name, lambda x: x + 1.0)
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(_jit_of(add_one)(x), [2.0, 3.0])


def test_a_crafted_primitive_name_cannot_run_code(tmp_path):
    marker = tmp_path / "ran"
    crafted = f"x); open({str(marker)!r}, 'w'); (\n__import__('os')"
    primitive = _unregistered_unary(crafted, np.negative)
    x = np.array([1.0, -2.0])
    jitted = _jit_of(primitive)
    np.testing.assert_array_equal(jitted(x), [-1.0, 2.0])
    source = jitted.lower(x).source
    assert not marker.exists()
    assert "open(" not in source and "__import__(" not in source and "'" not in source
    # The function name of the generated code is sanitised too.
    assert compile_jaxpr(mg.make_jaxpr(lambda x: x)(x), name="f(); import os").source.startswith("def _f")


def _names_used_by_the_executor(source: str) -> set:
    tree = ast.parse(source)
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    used |= {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    used |= {
        arg.arg for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) for arg in node.args.args
    }
    return used


def test_program_variables_can_take_any_name_the_executor_uses():
    # Every name of the executor's own starts with "_"; give the program's variables the
    # rest of those names (and the function's) and split it into parts, which pass values
    # along in a list: nothing may be shadowed.
    def f(x, y):
        for _ in range(6):
            x = mnp.sin(x) * 1.5 + y
        return x, mnp.exp(y)[::2].sum()

    x, y = np.linspace(0, 1, 4), np.full(4, 0.25)
    closed = mg.make_jaxpr(f)(x, y)
    first = compile_jaxpr(closed, block_size=3)
    executor_names = {n for n in _names_used_by_the_executor(first.source) if n.startswith("_")}
    assert executor_names, "expected the executor to use names of its own"
    risky = ["live", "jitted", "part0", "part1", "own", "array", "asarray", "writable", "k0", "s0"]
    risky += sorted(n.lstrip("_") for n in executor_names)
    names = iter([*dict.fromkeys(risky), *(f"v{i}" for i in range(10_000))])
    compiled = compile_jaxpr(closed, block_size=3, variable_names=names)
    assert "live = " in compiled.source or "live," in compiled.source
    expected = eval_jaxpr(closed.jaxpr, closed.consts, x, y)
    for got, want in zip(compiled(x, y), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-15)


def test_equal_scalar_literals_share_one_name_and_signed_zeros_stay_apart():
    def f(x):
        for _ in range(5):
            x = mnp.sin(x) * 1.5
        return x * 0.0, x * -0.0

    x = np.full(3, 0.5)
    compiled = _check(f, x)
    # 1.5 five times is one constant; 0.0 and -0.0 compare equal but stay two.
    assert compiled.source.count("_k0") == 5
    assert len(set(re.findall(r"_k\d+", compiled.source))) == 3
    for got, expected in zip(compiled(x), f(x), strict=True):
        np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


def test_maximum_and_minimum_name_their_out_argument():
    # NumPy 2.4 deprecates a positional `out` for these two ufuncs (only these two).
    f = mg.jit(lambda x: mnp.maximum(mnp.minimum(x * 2.0, 3.0), -1.0) * 2.0)
    x = np.arange(4.0)
    source = f.lower(x).source
    assert "_minimum(b, _k1, out=b)" in source and "_maximum(b, _k2, out=b)" in source
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(f(x), [0.0, 4.0, 6.0, 6.0])
