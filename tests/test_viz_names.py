"""minigrad.viz draws what the user wrote: parameter and local names, dz/dx for
gradients, relu and indexing as written, long programs folded layer by layer, and paths
and commands that survive any file name."""

import collections
import re
import shlex
import shutil
import struct

import numpy as np

import minigrad as mg
import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad import nn
from minigrad.viz import draw, to_dot
from tests.test_viz import needs_dot, parse

LABEL = re.compile(r'label="((?:[^"\\]|\\.)*)"')


def label(attributes: str) -> str:
    return LABEL.search(attributes)[1]


def named(nodes, name):
    """The ids of record nodes whose first field is ``name: <type>``."""
    return [n for n, a in nodes.items() if label(a).startswith(f"{{ {name}: ")]


def op_labels(dot):
    nodes, _ = parse(dot)
    ops = {int(n.split("_")[-1]): a for n, a in nodes.items() if n.startswith("op_")}
    return [label(ops[k]) for k in sorted(ops)]


def seed(x1, x2):
    product = x1 * x2
    return product + mnp.sin(x1)


WEIGHTS = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


def layer(x):
    h = mnp.tanh(x @ WEIGHTS + 1.0)
    return mnp.sum(h)


def test_inputs_locals_constants_and_result_carry_the_users_names(tmp_path):
    nodes, edges = parse(draw(seed, 2.0, 3.0, path=tmp_path / "s.dot").source)
    (x1,), (x2,) = named(nodes, "x1"), named(nodes, "x2")
    assert "dbeafe" in nodes[x1] and "dbeafe" in nodes[x2]
    (product,) = named(nodes, "product")
    (made_by,) = [src for src, dst in edges if dst == product]
    assert label(nodes[made_by]) == "mul" and (x1, made_by) in edges and (x2, made_by) in edges
    (result,) = named(nodes, "seed")
    assert "peripheries=2" in nodes[result]
    # No box shows a printer name such as `b` or `e` for the user's values.
    assert not [n for n, a in nodes.items() if re.match(r"\{ [a-e]: ", label(a))]
    nodes, _ = parse(draw(layer, np.ones((4, 3)), path=tmp_path / "l.dot").source)
    assert named(nodes, "WEIGHTS") and named(nodes, "h") and named(nodes, "x")


def test_pytree_arguments_are_named_by_their_paths(tmp_path):
    bias = collections.namedtuple("Bias", "b")

    def loss(params, x):
        return mnp.sum(params[0]["w"] * x + params[1].b)

    params = [{"w": np.ones(2)}, bias(np.float64(1.0))]
    nodes, _ = parse(draw(loss, params, np.ones(2), path=tmp_path / "p.dot").source)
    assert named(nodes, "params[0]['w']") and named(nodes, "params[1].b") and named(nodes, "x")


def test_gradient_outputs_say_which_input_they_belong_to(tmp_path):
    drawing = draw(seed, 2.0, 3.0, path=tmp_path / "g.dot", grads=True, values=True)
    nodes, _ = parse(drawing.source)
    (dx1,), (dx2,) = named(nodes, "dseed/dx1"), named(nodes, "dseed/dx2")
    assert f"data {3 + np.cos(2.0):.4g}" in nodes[dx1] and "data 2 " in nodes[dx2]
    assert "peripheries=2" in nodes[dx1] and "peripheries=2" in nodes[dx2]
    assert "gradient program: grad(seed, argnums=(0, 1))" in drawing.source
    only_first = draw(lambda x, n: x * n, 2.0, 3, path=tmp_path / "one.dot", grads=True).source
    assert "grad(out)" in only_first and named(parse(only_first)[0], "dout/dx")


def test_rebinding_in_a_loop_names_each_value():
    def loop(x):
        for _ in range(3):
            x = mnp.sin(x)
            x = x * 2.0
        return x

    nodes, edges = parse(to_dot(mg.make_jaxpr(loop)(1.0)))
    rebound = named(nodes, "x")
    assert len(rebound) == 6  # each sine and product; the input is printed as `a`
    makers = {label(nodes[src]) for src, dst in edges if dst in rebound}
    assert makers == {"sin", "mul"}


def test_compositions_are_drawn_as_the_user_wrote_them():
    x = np.ones((3, 4))
    assert op_labels(to_dot(mg.make_jaxpr(nn.relu)(x))) == ["relu"]
    assert op_labels(to_dot(mg.make_jaxpr(lambda x: mnp.maximum(x, 0))(x))) == ["maximum"]
    assert op_labels(to_dot(mg.make_jaxpr(nn.log_softmax)(x))) == ["log_softmax"]
    # Something else spelled with the same primitives stays as it is.
    assert op_labels(to_dot(mg.make_jaxpr(lambda x: mnp.where(x > 1.0, x, 0.0))(x))) == ["gt", "select"]


def test_a_composition_whose_parts_are_read_elsewhere_is_not_folded():
    closed = mg.make_jaxpr(mg.grad(lambda x: mnp.sum(nn.relu(x))))(np.ones(3))
    labels = op_labels(to_dot(closed))
    assert "relu" not in labels and "gt" in labels  # the backward pass reads the comparison


def test_indexing_is_printed_in_python_syntax(tmp_path):
    y = np.arange(4)
    assert op_labels(to_dot(mg.make_jaxpr(lambda y: y[:, None])(y))) == ["[:, None]"]
    assert op_labels(to_dot(mg.make_jaxpr(lambda m: m[1:, None, ::-1][0])(np.ones((3, 4))))) == [
        "[1:, None, ::-1]",
        "[0]",
    ]
    source = draw(
        lambda table, rows: table[rows, -1], np.ones((3, 4)), np.array([0, 2]), path=tmp_path / "i.dot"
    )
    assert "[rows, -1]" in op_labels(source.source)


def digits_mlp():
    model = nn.MLP([64, 256, 10])
    params = model.init(mr.key(0))
    x = np.asarray(mr.uniform(mr.key(1), (32, 64)))
    y = np.arange(32) % 10

    def loss(params, x, y):
        logits = model.apply(params, x)
        return nn.softmax_cross_entropy(logits, y)

    return loss, params, x, y


def test_a_model_is_folded_layer_by_layer_top_to_bottom(tmp_path):
    loss, params, x, y = digits_mlp()
    drawing = draw(loss, params, x, y, path=tmp_path / "mlp.dot", grads=True)
    assert "rankdir=TB;" in drawing.source
    nodes, edges = parse(drawing.source)
    blocks = {n: label(a) for n, a in nodes.items() if "block_" in n}
    forward = [text for n, text in blocks.items() if n.startswith("f_")]
    for group in ("params[0]", "params[1]"):
        assert sum(f"layer {group}" in text for text in forward) == 1
        assert sum(f"layer {group}" in text and "backward pass" in text for text in blocks.values()) == 1
    (first,) = [n for n, text in blocks.items() if n.startswith("f_") and "layer params[0]" in text]
    assert "matmul, add, relu" in blocks[first]
    # The first layer feeds the second; the gradient of each layer's weight leaves its block.
    (second,) = [n for n, text in blocks.items() if n.startswith("f_") and "layer params[1]" in text]
    assert (first, second) in edges
    (dw,) = named(nodes, "dloss/dparams[1]['w']")
    (source,) = [src for src, dst in edges if dst == dw]
    assert "layer params[1]" in blocks[source] and "backward pass" in blocks[source]
    assert len(nodes) < 40


@needs_dot
def test_the_folded_model_has_a_reasonable_aspect_ratio(tmp_path):
    loss, params, x, y = digits_mlp()
    drawing = draw(loss, params, x, y, path=tmp_path / "mlp.png", grads=True)
    width, height = struct.unpack(">II", drawing.path.read_bytes()[16:24])
    assert width < 4 * height and width < 4000, (width, height)


@needs_dot
def test_a_path_that_looks_like_an_option_renders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    drawing = draw(seed, 2.0, 3.0, path="-x.svg")
    assert drawing.rendered and (tmp_path / "-x.svg").read_text().lstrip().startswith("<?xml")


def test_the_printed_command_is_shell_quoted(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "no-programs-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None
    drawing = draw(seed, 2.0, 3.0, path="-my pic's.svg")
    command = drawing.hint.rsplit(" with: ", 1)[1]
    assert shlex.split(command) == ["dot", "-Tsvg", "./-my pic's.dot", "-o", "./-my pic's.svg"]
    assert command in capsys.readouterr().err
    dot_only = draw(seed, 2.0, 3.0, path="a b.dot")
    assert shlex.split(dot_only.hint) == ["dot", "-Tsvg", "a b.dot", "-o", "a b.svg"]
