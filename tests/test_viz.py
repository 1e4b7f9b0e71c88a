"""minigrad.viz: the DOT text matches the program it draws; draw renders with Graphviz
when it is installed and falls back to writing the DOT file when it is not."""

import math
import re
import shutil

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.ir import Literal
from minigrad.viz import DOT_MISSING_ADVICE, Drawing, draw, to_dot

HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz's dot is not installed")

NODE = re.compile(r"^\s*(\w+) \[(.*)\];$")
EDGE = re.compile(r"^\s*(\w+) -> (\w+)( \[.*\])?;$")


def parse(dot: str):
    """Node ids with their attribute text, and the list of edges, from our DOT layout."""
    nodes, edges = {}, []
    for line in dot.splitlines():
        if match := EDGE.match(line):
            edges.append((match[1], match[2]))
        elif (match := NODE.match(line)) and match[1] not in ("node", "edge"):
            assert match[1] not in nodes, f"node {match[1]} declared twice"
            nodes[match[1]] = match[2]
    for src, dst in edges:
        assert src in nodes and dst in nodes, (src, dst)
    return nodes, edges


def z(x1, x2):
    product = x1 * x2
    return product + mnp.sin(x1)


WEIGHTS = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


def layer(x):
    h = mnp.tanh(x @ WEIGHTS + 1.0)
    return h.sum(), h * 2.0


def counts(closed):
    jaxpr = closed.jaxpr
    literal_uses = sum(isinstance(a, Literal) for eqn in jaxpr.eqns for a in eqn.invars)
    nodes = (
        len(jaxpr.constvars)
        + len(jaxpr.invars)
        + sum(len(eqn.outvars) for eqn in jaxpr.eqns)
        + len(jaxpr.eqns)
        + literal_uses
    )
    nodes += sum(isinstance(a, Literal) for a in jaxpr.outvars)  # literal outputs get a node
    edges = sum(len(eqn.invars) + len(eqn.outvars) for eqn in jaxpr.eqns)
    return nodes, edges


@pytest.mark.parametrize(
    "fun, args",
    [
        (z, (2.0, 3.0)),
        (layer, (np.ones((4, 3)),)),
        (lambda x: x, (1.0,)),
        (lambda x: (1.0, x, x * 2.0), (2.0,)),
        (mg.grad(z, argnums=(0, 1)), (2.0, 3.0)),
    ],
    ids=["seed", "layer", "identity", "literal-output", "gradient"],
)
def test_node_and_edge_counts_match_the_program(fun, args):
    closed = mg.make_jaxpr(fun)(*args)
    nodes, edges = parse(to_dot(closed))
    assert (len(nodes), len(edges)) == counts(closed)


def test_the_seed_graph_by_hand():
    # z = x1*x2 + sin(x1): 2 inputs, 3 operations, 3 results; 2+1+2 edges in, 3 out.
    nodes, edges = parse(to_dot(mg.make_jaxpr(z)(2.0, 3.0)))
    assert len(nodes) == 8 and len(edges) == 8
    ops = {node: attributes for node, attributes in nodes.items() if node.startswith("op_")}
    assert sorted(re.search(r'label="(\w+)"', a)[1] for a in ops.values()) == ["add", "mul", "sin"]


def test_edges_follow_the_printed_program():
    closed = mg.make_jaxpr(layer)(np.ones((4, 3)))
    _, edges = parse(to_dot(closed))
    printed = str(closed).splitlines()[1:-1]
    for i, (line, eqn) in enumerate(zip(printed, closed.eqns, strict=True)):
        outs, rhs = line.split(" = ")
        arguments = rhs.split()[-len(eqn.invars) :]
        for j, name in enumerate(arguments):
            source = f"lit_{i}_{j}" if ":" in name else f"v_{name}"
            assert (source, f"op_{i}") in edges, (line, name)
        for out in outs.split():
            assert (f"op_{i}", f"v_{out.split(':')[0]}") in edges, line


def test_variables_are_labelled_with_shape_and_dtype():
    closed = mg.make_jaxpr(layer)(np.ones((4, 3), np.float32))
    nodes, _ = parse(to_dot(closed))
    assert "a: f64[3,2]" in nodes["v_a"] and "fef9c3" in nodes["v_a"]  # the constant
    assert "b: f32[4,3]" in nodes["v_b"]
    for var in closed.jaxpr.constvars:
        assert str(var.aval) in to_dot(closed)
    assert "peripheries=2" in nodes["v_" + str(closed).splitlines()[-1].split("(")[1].split(",")[0]]


def test_an_input_that_is_an_output_is_drawn_as_both():
    nodes, _ = parse(to_dot(mg.make_jaxpr(lambda x, y: (x, x * y))(1.0, 2.0)))
    assert "dbeafe" in nodes["v_a"] and "peripheries=2" in nodes["v_a"]
    assert "peripheries=2" not in nodes["v_b"]


def test_equations_are_framed_by_source_line():
    dot = to_dot(mg.make_jaxpr(z)(2.0, 3.0))
    frames = re.findall(r'label="(\S*test_viz\.py:\d+  [^"]*)"', dot)[::-1]  # declared last line first
    lines = z.__code__.co_firstlineno
    assert [frame.split("  ", 1)[0].split("/")[-1] for frame in frames] == [
        f"test_viz.py:{lines + 1}",
        f"test_viz.py:{lines + 2}",
    ]
    assert frames[0].endswith("product = x1 * x2")


def repeated(x):
    for _ in range(30):
        x = mnp.sin(x)
        x = x * 0.5
    return x


def test_long_programs_collapse_repeated_blocks():
    closed = mg.make_jaxpr(repeated)(1.0)
    assert len(closed.eqns) == 60
    nodes, edges = parse(to_dot(closed, collapse_above=10))
    # one input, one block for the loop, one output
    assert len(nodes) == 3 and len(edges) == 2
    (block,) = [attributes for node, attributes in nodes.items() if node.startswith("block_")]
    assert "repeated x30" in block and "60 equations: sin x30, mul x30" in block
    # below the threshold nothing is collapsed
    assert len(parse(to_dot(closed, collapse_above=None))[0]) == counts(closed)[0]


def test_collapsed_edges_connect_blocks_in_order():
    def two_parts(x, y):
        for _ in range(5):
            x = mnp.sin(x)
        return mnp.cos(x) * y

    closed = mg.make_jaxpr(two_parts)(1.0, 2.0)
    nodes, edges = parse(to_dot(closed, collapse_above=1))
    blocks = sorted(n for n in nodes if n.startswith("block_"))
    assert len(blocks) == 2
    assert set(edges) == {
        ("v_a", blocks[0]),
        (blocks[0], blocks[1]),
        ("v_b", blocks[1]),
        (blocks[1], "out_0"),
    }


def test_values_show_data_and_gradient_at_every_variable(tmp_path):
    drawing = draw(z, 2.0, 3.0, path=tmp_path / "z.dot", values=True)
    records = dict(
        re.findall(r'(\w+) \[shape=record, label="\{ (?:\w+: )?f64\[\] \| ([^"]*) \}"', drawing.source)
    )
    # dz/dx1 = x2 + cos(x1), dz/dx2 = x1; every intermediate feeds the sum with slope 1.
    assert records["v_a"] == f"data 2 | grad {3 + math.cos(2.0):.4g}"
    assert records["v_b"] == "data 3 | grad 2"
    assert sorted(records[v] for v in ("v_c", "v_d", "v_e")) == sorted(
        ["data 6 | grad 1", f"data {math.sin(2.0):.4g} | grad 1", f"data {6 + math.sin(2.0):.4g} | grad 1"]
    )


def test_values_without_a_scalar_output_show_data_only(tmp_path):
    drawing = draw(lambda x: x * 2.0, np.arange(3.0), path=tmp_path / "v.dot", values=True)
    assert "data [0, 2, 4]" in drawing.source and "grad" not in drawing.source


def test_gradient_program_is_drawn_with_its_backward_pass(tmp_path):
    drawing = draw(z, 2.0, 3.0, path=tmp_path / "z.dot", grads=True)
    nodes, edges = parse(drawing.source)
    backward = mg.make_jaxpr(mg.grad(z, argnums=(0, 1)))(2.0, 3.0)
    forward = mg.make_jaxpr(z)(2.0, 3.0)
    assert len(nodes) == counts(forward)[0] + counts(backward)[0]
    assert len(edges) == counts(forward)[1] + counts(backward)[1]
    assert "backward pass" in drawing.source
    assert "gradient program: grad(z, argnums=(0, 1))" in drawing.source


def test_grads_needs_a_float_argument(tmp_path):
    with pytest.raises(TypeError, match="no floating-point argument"):
        draw(lambda n: n * 2, 3, path=tmp_path / "n.dot", grads=True)


def test_unknown_suffix_and_wrong_argument_are_refused(tmp_path):
    with pytest.raises(ValueError, match="suffix"):
        draw(z, 2.0, 3.0, path=tmp_path / "z.jpeg")
    with pytest.raises(TypeError, match="make_jaxpr"):
        to_dot(z)


@needs_dot
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG")])
def test_draw_renders_with_dot(tmp_path, suffix, magic, capsys):
    drawing = draw(z, 2.0, 3.0, path=tmp_path / f"z{suffix}", grads=True, values=True)
    assert isinstance(drawing, Drawing) and drawing.rendered and drawing.hint == ""
    assert drawing.path.read_bytes().startswith(magic)
    assert capsys.readouterr().err == ""
    if suffix == ".svg":
        assert "<svg" in drawing._repr_svg_()


@needs_dot
def test_collapsed_dot_is_valid_graphviz(tmp_path):
    drawing = draw(repeated, 1.0, path=tmp_path / "r.svg", grads=True, collapse_above=10)
    assert drawing.rendered and "repeated x30" in drawing.path.read_text()


def test_draw_without_dot_writes_the_dot_file_and_says_how(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "no-programs-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None
    drawing = draw(z, 2.0, 3.0, path=tmp_path / "z.svg")
    assert not drawing.rendered
    assert drawing.path == tmp_path / "z.dot" and not (tmp_path / "z.svg").exists()
    assert drawing.path.read_text() == drawing.source
    expected = f"dot -Tsvg {tmp_path / 'z.dot'} -o {tmp_path / 'z.svg'}"
    assert drawing.hint.startswith(DOT_MISSING_ADVICE) and drawing.hint.endswith(expected)
    assert expected in capsys.readouterr().err
