"""The call view of minigrad.viz: one box per call of the user's code or nn layer, nested
as the calls nest, gradient equations in their forward call's box, boxes opened on
request, and SVG pictures whose boxes link to pictures of their insides."""

import importlib.util
import os
import pathlib
import pickle
import re
import sys
import tempfile
import types

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad import lax, nn
from minigrad.core.call_stack import SourceLine, calls_of, count_calls_into
from minigrad.examples import digits
from minigrad.viz import draw, to_dot
from minigrad.viz.calls import boxes_of, call_tree
from tests.test_viz import needs_dot, parse

STATEMENT = re.compile(r'^\s*(\w+) \[(?:.*?)label="((?:[^"\\]|\\.)*)"')
CLUSTER_LABEL = re.compile(r'^\s*label="((?:[^"\\]|\\.)*)";')


def layout(dot: str):
    """Each node's label (its first line) with the labels of the frames around it."""
    nodes, frames = {}, []
    for line in dot.splitlines():
        stripped = line.strip()
        if stripped.startswith("subgraph cluster_"):
            frames.append(None)
        elif stripped == "}" and frames:
            frames.pop()
        elif frames and frames[-1] is None and (match := CLUSTER_LABEL.match(line)):
            frames[-1] = match[1].split("  (")[0]
        elif (match := STATEMENT.match(line)) and "->" not in line:
            nodes[match[1]] = (match[2].split("\\n"), tuple(f for f in frames if f))
    return nodes


def boxes(dot: str, prefix: str = ""):
    """The closed boxes of a call view: first label line -> (all lines, frames)."""
    found = {}
    for node, (lines, frames) in layout(dot).items():
        if node.startswith(f"{prefix}call_"):
            assert lines[0] not in found, f"two boxes named {lines[0]}"
            found[lines[0]] = (lines, frames)
    return found


def framed_boxes(dot: str):
    """The closed boxes of a call view as (name, frames) pairs, in the order drawn."""
    return [(lines[0], frames) for node, (lines, frames) in layout(dot).items() if node.startswith("call_")]


def _tmp() -> pathlib.Path:
    return pathlib.Path(tempfile.mkdtemp())


MODEL = digits.make_model("mlp")  # the digits example's MLP: 64 -> 256 -> 10
PARAMS = MODEL.init(mr.key(0))
IMAGES = np.ones((32, 64), np.float32)
LABELS = np.zeros(32, np.int64)


def digits_loss(params, x, y):
    logits = MODEL.apply(params, x)
    return nn.cross_entropy(logits, y)


def test_the_digits_mlp_draws_one_box_per_linear_layer_and_the_loss():
    drawing = draw(digits_loss, PARAMS, IMAGES, LABELS, path=_tmp() / "mlp.dot", depth=2)
    found = boxes(drawing.source)
    assert set(found) == {"Linear #1", "relu", "Linear #2", "cross_entropy"}
    # The layers sit in the frame of the MLP that called them; the loss beside it.
    assert found["Linear #1"][1] == ("MLP",)
    assert found["cross_entropy"][1] == ()
    # Shapes in and out, and the parameters each layer reads: 64*256 + 256, 256*10 + 10.
    assert found["Linear #1"][0][1:4] == ["in: f32[32,64]", "out: f32[32,256]", "16,640 parameters"]
    assert found["Linear #2"][0][1:4] == ["in: f32[32,256]", "out: f32[32,10]", "2,570 parameters"]
    # Depth 1: the model is one box.
    assert set(boxes(draw(digits_loss, PARAMS, IMAGES, LABELS, path=_tmp() / "m.dot", depth=1).source)) == {
        "MLP",
        "cross_entropy",
    }


def test_edges_between_boxes_carry_the_shapes_that_flow():
    dot = to_dot(mg.make_jaxpr(digits_loss)(PARAMS, IMAGES, LABELS), depth=2)
    nodes, edges = parse(dot)
    names = {node: lines[0] for node, (lines, _) in layout(dot).items()}
    flows = {(names[a], names[b]) for a, b in edges}
    assert ("Linear #1", "relu") in flows and ("relu", "Linear #2") in flows
    assert ("Linear #2", "cross_entropy") in flows
    assert 'label="logits: f32[32,10]"' in dot  # the value between them, by the user's name


def test_a_transformer_block_draws_its_attention_norm_and_mlp_boxes():
    block = nn.TransformerBlock(8, 2)
    closed = mg.make_jaxpr(block.apply)(block.init(mr.key(0)), np.ones((2, 4, 8), np.float32))
    found = boxes(to_dot(closed, depth=1))
    assert set(found) == {
        "LayerNorm #1",
        "MultiHeadAttention",
        "LayerNorm #2",
        "Linear #1",
        "gelu",
        "Linear #2",
    }
    # One level deeper, the attention layer opens: its four projections and the attention.
    deeper = framed_boxes(to_dot(closed, depth=2))
    inside = {name for name, frames in deeper if frames == ("MultiHeadAttention",)}
    assert inside == {"Linear #1", "Linear #2", "Linear #3", "Linear #4", "attention"}


def test_the_layers_of_a_sequential_are_named_by_position():
    model = nn.Sequential(nn.Linear(4, 5), nn.relu, nn.Linear(5, 2))
    closed = mg.make_jaxpr(model.apply)(model.init(mr.key(0)), np.ones((3, 4)))
    assert set(boxes(to_dot(closed, depth=1))) == {
        "Sequential[0] Linear",
        "Sequential[1] relu",
        "Sequential[2] Linear",
    }


def inner(x):
    return mnp.sin(x) * 2.0


def middle(x):
    return inner(x) + inner(x * x)


def outer(x):
    y = middle(x)
    for _ in range(3):  # one line, three calls: three boxes
        y = inner(y)
    return y


def test_nested_helper_functions_become_nested_boxes():
    closed = mg.make_jaxpr(outer)(1.0)
    top = boxes(to_dot(closed, depth=1))
    assert set(top) == {"middle", "inner #1", "inner #2", "inner #3"}
    nested = framed_boxes(to_dot(closed, depth=2))
    assert sorted(nested) == [
        ("inner #1", ()),
        ("inner #1", ("middle",)),
        ("inner #2", ()),
        ("inner #2", ("middle",)),
        ("inner #3", ()),
    ]
    # Each call of inner makes a sin and a mul: two equations per box.
    assert to_dot(closed, depth=2).count("2 equations") == 5


def test_the_call_tree_holds_every_equation_once():
    closed = mg.make_jaxpr(outer)(1.0)
    tree = call_tree(closed)
    assert tree.eqns == tuple(range(len(closed.eqns)))
    for box in boxes_of(tree):
        assert sorted(box.eqns) == sorted([*box.own, *(i for child in box.children for i in child.eqns)])


def test_gradient_equations_are_in_their_forward_calls_box():
    closed = mg.make_jaxpr(mg.grad(digits_loss))(PARAMS, IMAGES, LABELS)
    by_path = {box.path: box for box in boxes_of(call_tree(closed))}
    matmuls = {
        path: sum(closed.eqns[i].primitive.name == "matmul" for i in box.eqns)
        for path, box in by_path.items()
    }
    # Forward x@w1 and backward dw1 in the first layer; forward h@w2, dw2 and dh in the second.
    assert matmuls["MLP/Linear #1"] == 2
    assert matmuls["MLP/Linear #2"] == 3
    assert sum(eqn.primitive.name == "matmul" for eqn in closed.eqns) == 5
    # draw's gradient program differentiates x too; its boxes count what call_tree finds.
    drawn = call_tree(mg.make_jaxpr(mg.grad(digits_loss, argnums=(0, 1)))(PARAMS, IMAGES, LABELS))
    expected = {box.name: f"{len(box.eqns)} equations" for box in boxes_of(drawn)}
    source = draw(digits_loss, PARAMS, IMAGES, LABELS, path=_tmp() / "g.dot", depth=2, grads=True).source
    found = boxes(source, "g_")
    assert {name: lines[-1] for name, (lines, _) in found.items()} == {k: expected[k] for k in found}


def test_expand_shows_the_inner_equations():
    closed = mg.make_jaxpr(digits_loss)(PARAMS, IMAGES, LABELS)
    closed_view = layout(to_dot(closed, depth=1))
    assert not any(lines[0] == "matmul" for lines, _ in closed_view.values())
    opened = layout(to_dot(closed, depth=1, expand=["Linear #2"]))
    ops = [(lines[0], frames) for node, (lines, frames) in opened.items() if node.startswith("op_")]
    assert ops == [("matmul", ("MLP", "Linear #2")), ("add", ("MLP", "Linear #2"))]
    assert "Linear #1" in boxes(to_dot(closed, expand="MLP/Linear #2"))  # by path; its sibling stays closed


def test_bad_depth_or_expand_say_what_to_do():
    closed = mg.make_jaxpr(outer)(1.0)
    with pytest.raises(ValueError, match=r"to_dot: depth must be a whole number >= 1.*got 0"):
        to_dot(closed, depth=0)
    with pytest.raises(ValueError, match=r"to_dot: expand names 'inenr'.*'middle', 'middle/inner #1'"):
        to_dot(closed, expand=["inenr"])


def test_jit_vmap_and_lax_programs_keep_their_calls():
    per_example = mg.vmap(digits_loss, in_axes=(None, 0, 0))
    closed = mg.make_jaxpr(per_example)(PARAMS, IMAGES[:, None], LABELS[:, None])
    assert set(boxes(to_dot(closed, depth=2))) == {"Linear #1", "relu", "Linear #2", "cross_entropy"}
    closed = mg.make_jaxpr(mg.jit(digits_loss))(PARAMS, IMAGES, LABELS)
    assert set(boxes(to_dot(closed, depth=1))) == {"MLP", "cross_entropy"}
    staged_by_jit = mg.jit(digits_loss).lower(PARAMS, IMAGES, LABELS).staged
    assert set(boxes(to_dot(staged_by_jit, depth=1))) == {"MLP", "cross_entropy"}

    def rollout(x):
        return lax.scan(lambda c, _: (inner(c), c), x, length=5)[0]

    def run(x):
        return rollout(x) + middle(x)

    dot = to_dot(mg.make_jaxpr(run)(1.0), depth=1, expand=["rollout"])
    assert ("scan", ("rollout",)) in [(lines[0], frames) for lines, frames in layout(dot).values()]


def test_pictures_name_files_without_machine_paths():
    source = draw(digits_loss, PARAMS, IMAGES, LABELS, path=_tmp() / "p.dot", depth=2, grads=True).source
    package = os.path.dirname(os.path.dirname(mg.__file__))
    assert package not in source and os.getcwd() not in source
    assert not re.search(r"/\w+/\w+", source.replace("dparams", ""))  # no absolute paths at all
    assert "layers.py:" in source  # where each layer is defined, by the file's name


def test_a_source_line_pickles_as_the_plain_line():
    line = SourceLine("model.py:3", ())
    assert pickle.loads(pickle.dumps(line)) == "model.py:3"
    eqn = mg.make_jaxpr(inner)(1.0).eqns[0]
    assert [call.name for call in calls_of(eqn.source)] == ["inner"]


def test_eager_gradients_record_no_chains():
    # Only staging reads the calls; grad's recording pays nothing for pictures.
    assert mg.grad(outer)(0.3) == pytest.approx(mg.grad(outer)(0.3))
    assert calls_of("model.py:3") == ()


@needs_dot
def test_an_svg_call_view_links_each_box_to_a_picture_of_its_inside():
    folder = _tmp()
    drawing = draw(digits_loss, PARAMS, IMAGES, LABELS, path=folder / "mlp.svg", depth=1)
    assert drawing.rendered
    pages = sorted(path.name for path in (folder / "mlp.calls").iterdir())
    assert "1-mlp-linear-1.svg" in pages and "4-cross-entropy.svg" in pages
    svg = drawing.path.read_text()
    assert 'href="mlp.calls/0-mlp.svg"' in svg
    inside = (folder / "mlp.calls" / "0-mlp.svg").read_text()
    assert "Linear #1" in inside and 'href="1-mlp-linear-1.svg"' in inside


def steps(x):
    for _ in range(2):
        x = inner(x)
        yield x


def test_a_generator_and_a_comprehension_are_drawn_by_their_calls():
    def run(x):
        first, second = list(steps(x))
        return sum([inner(v) for v in (first, second)])

    dot = to_dot(mg.make_jaxpr(run)(1.0), depth=2)
    # The generator is one call holding inner's two calls; the comprehension is no call.
    assert sorted(framed_boxes(dot)) == [
        ("inner #1", ()),
        ("inner #1", ("steps",)),
        ("inner #2", ()),
        ("inner #2", ("steps",)),
    ]


LAYER_PACKAGE_SOURCE = """
import minigrad.numpy as mnp

__all__ = ["Scale", "double"]


class Scale:
    def __call__(self, x):
        return _Hidden()(x) * 3.0


class _Hidden:
    def __call__(self, x):
        return mnp.sin(x)


def double(x):
    return x * 2.0
"""


def test_a_registered_package_counts_its_public_classes_called_as_functions(tmp_path):
    # A library package registers; its public class called as a function is a call of its
    # own, found by the class's `__call__` code, while its private class stays hidden.
    package_name = "minigrad.call_counting_test"
    module_name = package_name + ".layers"
    path = tmp_path / "layers.py"
    path.write_text(LAYER_PACKAGE_SOURCE)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    package = types.ModuleType(package_name)
    sys.modules[module_name], sys.modules[package_name] = module, package
    try:
        spec.loader.exec_module(module)
        package.Scale, package.double, package.__all__ = module.Scale, module.double, module.__all__
        count_calls_into(package_name)
        closed = mg.make_jaxpr(lambda x: package.double(package.Scale()(x)))(1.0)
        chains = [tuple(call.name for call in calls_of(eqn.source)) for eqn in closed.eqns]
    finally:
        del sys.modules[module_name], sys.modules[package_name]
    assert [eqn.primitive.name for eqn in closed.eqns] == ["sin", "mul", "mul"]
    assert chains[0][-1:] == ("Scale",) and chains[1][-1:] == ("Scale",)
    assert chains[2][-1:] == ("double",)
    assert not any("_Hidden" in chain for chain in chains)
