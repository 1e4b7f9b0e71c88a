"""Structure: every primitive has the rules its transforms need, imports follow the
layers of the design, and the program typechecker rejects broken programs."""

import ast
import pathlib

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
import minigrad.random  # noqa: F401 - registers the random primitives the coverage test walks
from minigrad.core.ir import Eqn, Jaxpr, ShapedArray, Var
from minigrad.core.primitive import all_primitives
from minigrad.core.typecheck import JaxprTypeError, typecheck
from minigrad.ops.elementwise import sin_p
from minigrad.ops.operands import ELEMENTWISE_PRIMITIVES
from tests import op_specs_scipy  # noqa: F401 - registers minigrad.scipy's primitives when SciPy is installed

PACKAGE = pathlib.Path(mg.__file__).parent

# Each layer may import from the layers before it (and from itself), never after it.
LAYERS = [
    {"tree", "tree_util"},
    {"core"},
    {"ops"},
    {"numpy", "transforms", "lax", "scipy"},
    {
        "testing",
        "nn",
        "optim",
        "random",
        "io",
        "datasets",
        "viz",
        "config",
        "debug",
        "flatten_util",
        "distributed",
    },
    {"examples"},
]


def _layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "minigrad" or len(parts) < 2:
        return None
    for index, names in enumerate(LAYERS):
        if parts[1] in names:
            return index
    return None


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node, node.module


def _module_name(path: pathlib.Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(relative.parts)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_layers(path):
    own = _layer_of(_module_name(path))
    if own is None:
        return  # minigrad/__init__.py sits on top of everything
    for node, imported in _imports(path):
        target = _layer_of(imported)
        assert target is None or target <= own, (
            f"{path.relative_to(PACKAGE)}:{node.lineno} imports {imported} from a higher layer"
        )


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_function_local_imports_of_minigrad(path):
    tree = ast.parse(path.read_text())
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("minigrad"):
                    raise AssertionError(
                        f"{path.name}:{node.lineno}: a function-local import hides a layering cycle"
                    )


@pytest.mark.parametrize("name", sorted(all_primitives()))
def test_every_primitive_has_the_rules_its_transforms_need(name):
    # docs/design.md, "Adding a primitive": one declaration with every rule. A call
    # primitive (jit's) replays its body under every transform and is never compiled
    # as an equation, so it needs only impl, shape rule and replay.
    primitive = all_primitives()[name]
    assert primitive.impl is not None, f"{name} has no impl"
    assert primitive.shape_rule is not None, f"{name} has no shape rule"
    if primitive.replay is not None:
        return
    assert primitive.batch is not None, f"{name} has no batching rule"
    assert primitive.lowering is not None, (
        f"{name} has no lowering rule (declare lower_by_impl if its impl is what jit should call)"
    )
    if primitive.differentiable:
        assert primitive.vjp is not None, f"{name} has no vjp rule (or mark it def_nondifferentiable)"
        assert primitive.jvp is not None, f"{name} has no jvp rule (or mark it def_nondifferentiable)"


def test_the_registry_holds_every_family_of_primitives():
    # The coverage test above walks the registry: it must see every family, including
    # the random primitives, which `import minigrad` alone does not load.
    names = set(all_primitives())
    for expected in ("add", "sin", "eq", "reshape", "reduce_max", "gather", "matmul", "random_bits"):
        assert expected in names


def test_elementwise_primitives_declare_their_batching_rule_where_they_are_declared():
    # Nothing installs rules for a whole family from another module: shape (which the
    # elementwise rule is built from) sits below the arithmetic and never imports it.
    shape_source = (PACKAGE / "ops" / "shape.py").read_text()
    assert "ops.elementwise" not in shape_source and "ops.logic" not in shape_source
    for primitive in ELEMENTWISE_PRIMITIVES:
        assert primitive.batch.__name__ == f"{primitive.name}_batch"


# Within a package, modules that others build on come first; a module may import only
# from modules listed before it (or from outside the package).
PACKAGE_ORDER = {
    "ops": [
        "operands",
        "reduce_kernels",
        "shape",
        "selection",
        "complex_parts",
        "logic",
        "predicates",
        "integer",
        "elementwise",
        "clipping",
        "rounding",
        "trigonometry",
        "logaddexp",
        "floating",
        "reduce",
        "index",
        "scatter",
        "rolling",
        "linalg",
        "solvers",
        "decompositions",
        "spectral",
        "cumulative",
        "fourier",
        "sorting",
        "random",
    ],
    "transforms.jit": [
        "tree_code",
        "pending",
        "constants",
        "array_api",
        "cache",
        "passes",
        "fusion_text",
        "fusion",
        "loop_nest",
        "gemm",
        "gemm_kernel",
        "heap",
        "compiler",
        "fusion_tier",
        "array_api_einsum",
        "array_api_rules",
        "array_api_composed",
        "array_api_scatter",
        "array_api_linalg",
        "array_api_random",
        "array_api_roots",
        "array_api_gamma",
        "array_api_incomplete_beta",
        "array_api_error_functions",
        "array_api_bessel",
        "array_api_special",
        "array_api_nans",
        "array_api_writer",
        "transform",
    ],
    "lax": [
        "subprogram_cache",
        "subprograms",
        "residuals",
        "conditionals",
        "scan_loop",
        "scan",
        "scan_invariants",
        "scan_sink",
        "scan_carry_stacks",
        "scan_hoist",
        "loops",
        "associative",
        "array_api",
    ],
}


@pytest.mark.parametrize("package", sorted(PACKAGE_ORDER))
def test_modules_within_a_package_import_only_those_below_them(package):
    order = PACKAGE_ORDER[package]
    folder = PACKAGE.joinpath(*package.split("."))
    on_disk = sorted(path.stem for path in folder.glob("*.py") if path.stem != "__init__")
    assert sorted(order) == on_disk, f"PACKAGE_ORDER[{package!r}] must list every module of {package}"
    prefix = f"minigrad.{package}."
    for rank, module in enumerate(order):
        for node, imported in _imports(folder / f"{module}.py"):
            if imported.startswith(prefix):
                target = imported[len(prefix) :].split(".")[0]
                assert order.index(target) < rank, (
                    f"{package}/{module}.py:{node.lineno} imports {target}, which comes after it"
                )


def test_rules_are_named_functions_not_lambdas():
    for name, primitive in all_primitives().items():
        rules = (primitive.impl, primitive.shape_rule, primitive.vjp, primitive.jvp, primitive.batch)
        for rule in (*rules, primitive.lowering, *primitive.simplifications):
            if rule is not None and hasattr(rule, "__name__"):
                assert rule.__name__ != "<lambda>", f"{name} has a lambda rule"


def test_typechecker_accepts_transformed_programs():
    def f(x, y):
        return (mnp.tanh(x @ y) * x[:, :1]).sum() + mnp.logsumexp(y, axis=0).mean()

    x, y = np.ones((2, 3)), np.ones((3, 3))
    for program in (
        mg.make_jaxpr(f)(x, y),
        mg.make_jaxpr(mg.grad(f, argnums=(0, 1)))(x, y),
        mg.make_jaxpr(mg.grad(mg.grad(lambda x: mnp.sin(x) * x)))(np.float64(1.0)),
        mg.make_jaxpr(lambda x: mg.jvp(lambda x: f(x, y), (x,), (x,)))(x),
    ):
        typecheck(program)


def test_typechecker_rejects_broken_programs():
    a = Var(ShapedArray((3,), np.float64))
    b = Var(ShapedArray((3,), np.float64))
    wrong_type = Var(ShapedArray((4,), np.float64))
    with pytest.raises(JaxprTypeError, match="before it is bound"):
        typecheck(Jaxpr((), (a,), [Eqn(sin_p, [b], [wrong_type])], [wrong_type]))
    with pytest.raises(JaxprTypeError, match="shape rule"):
        typecheck(Jaxpr((), (a,), [Eqn(sin_p, [a], [wrong_type])], [wrong_type]))
    with pytest.raises(JaxprTypeError, match="bound twice"):
        typecheck(Jaxpr((), (a,), [Eqn(sin_p, [a], [a])], [a]))
    with pytest.raises(JaxprTypeError, match="before it is bound"):
        typecheck(Jaxpr((), (a,), [], [b]))


def test_one_definition_of_which_dtypes_carry_derivatives():
    # The transforms must agree on it; a copy that drifts (say, forgetting complex) would
    # make grad and jvp disagree. core/dtypes.py holds the one definition.
    spelled = []
    for path in [
        *PACKAGE.glob("core/*.py"),
        *PACKAGE.glob("transforms/*.py"),
        PACKAGE / "testing.py",
        *PACKAGE.glob("viz/*.py"),
    ]:
        if path.name != "dtypes.py" and '"fc"' in path.read_text():
            spelled.append(path.name)
    assert not spelled, f"use minigrad.core.dtypes.is_float_dtype in {spelled}"


def test_missing_tangents_and_cotangents_are_filled_by_one_helper():
    # transforms/api_util.instantiate_zeros is the one place that makes zeros for a
    # missing (None) tangent or cotangent.
    for name in ("ad.py", "forward.py", "custom.py"):
        code = [
            line for line in (PACKAGE / "transforms" / name).read_text().splitlines() if ">>>" not in line
        ]
        assert not any("np.zeros(" in line for line in code), f"transforms/{name} fills zeros itself"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_600_lines(path):
    # A module that passes ~600 lines is usually two ideas: split it by idea.
    lines = len(path.read_text().splitlines())
    assert lines <= 600, f"{path.relative_to(PACKAGE)} has {lines} lines; split it by idea"


def test_the_jit_wing_finds_primitives_by_object_never_by_name():
    # A table or branch keyed by a primitive's name diverges from the primitive itself
    # (a user's primitive named "sin" is not sin); names are only for messages. So no
    # module of the jit wing compares anything with a primitive's name or keys a table
    # by one.
    names = set(all_primitives())

    def texts(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return set().union(*(texts(e) for e in node.elts)) if node.elts else set()
        if isinstance(node, ast.Dict):
            return set().union(*(texts(k) for k in node.keys if k is not None)) if node.keys else set()
        return set()

    for path in sorted((PACKAGE / "transforms" / "jit").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                found = set().union(*(texts(o) for o in (node.left, *node.comparators)))
            elif isinstance(node, ast.Dict):
                found = texts(node)
            else:
                continue
            assert not found & names, (
                f"transforms/jit/{path.name}:{node.lineno} refers to primitives by name "
                f"{sorted(found & names)}; use the primitive objects"
            )
