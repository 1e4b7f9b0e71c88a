"""minigrad.viz draws lax loops and branches as frames: the DOT text has a cluster per
construct, labelled with it, holding a labelled cluster per sub-program, wired to the
operands and results."""

import re
import shutil

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad import lax
from minigrad.core.ir import var_names
from minigrad.viz import draw, to_dot
from minigrad.viz.frames import construct_of
from tests.test_viz import parse

CLUSTER = re.compile(r"^\s*subgraph (cluster_\w+) \{$")
LABEL = re.compile(r'^\s*label="((?:[^"\\]|\\.)*)";')
NODE = re.compile(r"^\s*(\w+) \[")


def clusters(dot: str):
    """Each cluster's label and parent cluster, and the innermost cluster of every node."""
    labels, parents, home, stack = {}, {}, {}, []
    for line in dot.splitlines():
        if match := CLUSTER.match(line):
            parents[match[1]] = stack[-1] if stack else None
            stack.append(match[1])
        elif line.strip() == "}":
            if stack:
                stack.pop()
        elif stack and stack[-1] not in labels and (match := LABEL.match(line)):
            labels[stack[-1]] = match[1]
        elif (match := NODE.match(line)) and " -> " not in line and stack:
            home[match[1]] = stack[-1]
    return labels, parents, home


def within(cluster, ancestor, parents):
    while cluster is not None:
        if cluster == ancestor:
            return True
        cluster = parents[cluster]
    return False


def decay(x):
    return lax.scan(lambda h, _: (mnp.tanh(h) * 0.9, h), x, length=100)


def test_a_scan_is_a_frame_labelled_with_its_length_holding_the_body():
    closed = mg.make_jaxpr(decay)(np.zeros(3))
    dot = to_dot(closed)
    nodes, edges = parse(dot)
    labels, parents, home = clusters(dot)
    assert labels["cluster_op_0"] == "scan × 100"
    assert labels["cluster_op_0_frame0"] == "body" and parents["cluster_op_0_frame0"] == "cluster_op_0"
    # the body's equations are inside the body frame
    ops = [node for node, attributes in nodes.items() if 'label="tanh"' in attributes]
    assert len(ops) == 1 and within(home[ops[0]], "cluster_op_0_frame0", parents)
    # the outer input feeds the body's carry; the body's outputs are the scan's results
    assert ("v_a", "op_0_frame0_v_a") in edges
    assert ("op_0_frame0_v_c", "v_b") in edges and ("op_0_frame0_v_a", "v_c") in edges
    # the results are drawn outside the frame
    assert not within(home["v_b"], "cluster_op_0", parents)


def test_a_fori_loop_with_static_bounds_is_named_so_and_a_look_alike_scan_is_not():
    closed = mg.make_jaxpr(lambda x: lax.fori_loop(2, 9, lambda i, v: v * 2.0, x))(1.0)
    assert construct_of(closed.eqns[0]).label == "fori_loop × 7"
    counts_by_two = mg.make_jaxpr(lambda x: lax.scan(lambda c, _: ((c[0] + 2, c[1]), None), (0, x), length=3))
    assert construct_of(counts_by_two(1.0).eqns[0]).label == "scan × 3"
    with_ys = mg.make_jaxpr(lambda x: lax.scan(lambda c, _: ((c[0] + 1, c[1]), c[1]), (0, x), length=3))
    assert construct_of(with_ys(1.0).eqns[0]).label == "scan × 3"


def test_reverse_scan_and_unknown_primitives():
    closed = mg.make_jaxpr(lambda x: lax.scan(lambda c, x: (c + x, c), 0.0, x, reverse=True))(np.ones(4))
    assert construct_of(closed.eqns[0]).label == "reverse scan × 4"
    assert construct_of(mg.make_jaxpr(mnp.sin)(1.0).eqns[0]) is None


def test_cond_draws_each_branch_as_its_own_frame_and_the_index_into_a_control_node():
    def choose(p, x):
        return lax.cond(p > 0, lambda v: v * 2.0, mnp.sin, x)

    dot = to_dot(mg.make_jaxpr(choose)(1.0, 3.0))
    nodes, edges = parse(dot)
    labels, parents, _ = clusters(dot)
    [cond] = [name for name, label in labels.items() if label == "cond"]
    branches = {labels[name]: name for name, parent in parents.items() if parent == cond}
    assert sorted(branches) == ["branch 0", "branch 1"]
    node_id = cond.removeprefix("cluster_")
    assert 'label="branch index"' in nodes[node_id]
    assert sum(dst == node_id for _, dst in edges) == 1
    # x (v_b) feeds both branches; both branches feed the one result
    for frame in branches.values():
        inputs = {
            dst for src, dst in edges if src == "v_b" and dst.startswith(frame.removeprefix("cluster_"))
        }
        assert len(inputs) == 1
    result_sources = [src for src, dst in edges if dst == "v_e"]
    assert len(result_sources) == 2


def test_switch_labels_its_branch_count():
    def pick(i, x):
        return lax.switch(i, [mnp.sin, mnp.cos, mnp.tanh], x)

    labels, _, _ = clusters(to_dot(mg.make_jaxpr(pick)(1, 0.5)))
    assert "switch, 3 branches" in labels.values()
    assert {"branch 0", "branch 1", "branch 2"} <= set(labels.values())


def test_a_literal_operand_shared_by_branches_is_drawn_once():
    def choose(p):
        return lax.cond(p, lambda v: v + 1.0, lambda v: v - 1.0, 2.0)

    nodes, edges = parse(to_dot(mg.make_jaxpr(choose)(True)))  # parse fails on a duplicate
    assert all(src in nodes for src, _ in edges)


def test_while_loop_has_a_condition_and_a_body_and_its_trip_count_leaves_the_control_node():
    closed = mg.make_jaxpr(lambda x: lax.while_loop(lambda v: v < 100.0, lambda v: v * 3.0, x))(1.0)
    dot = to_dot(closed)
    nodes, edges = parse(dot)
    labels, parents, _ = clusters(dot)
    assert labels["cluster_op_0"] == "while_loop"
    assert labels["cluster_op_0_frame0"] == "condition" and labels["cluster_op_0_frame1"] == "body"
    assert 'label="repeat while true"' in nodes["op_0"]
    trip_count = closed.jaxpr.eqns[0].outvars[-1]
    assert ("op_0", f"v_{var_names(closed.jaxpr)[trip_count]}") in edges
    assert ("op_0_frame0_v_b", "op_0") in edges  # the predicate steers the loop


def test_nested_loops_nest_frames():
    def nested(x):
        def outer(i, v):
            return lax.scan(lambda c, _: (mnp.sin(c), c), v, length=3)[0]

        return lax.fori_loop(0, 5, outer, x)

    dot = to_dot(mg.make_jaxpr(nested)(1.0))
    parse(dot)
    labels, parents, home = clusters(dot)
    [outer] = [name for name, label in labels.items() if label == "fori_loop × 5"]
    [inner] = [name for name, label in labels.items() if label == "scan × 3"]
    assert within(parents[inner], f"{outer}_frame0", parents)
    [sin] = [node for node in home if node.endswith("op_0") and within(home[node], inner, parents)]
    assert within(home[sin], f"{inner}_frame0", parents)


def test_draw_with_grads_shows_the_forward_and_the_reverse_scan(tmp_path):
    loss = lambda x: decay(x)[0].sum()  # noqa: E731
    drawing = draw(loss, np.ones(3), path=tmp_path / "loss.dot", grads=True)
    parse(drawing.source)
    labels, parents, _ = clusters(drawing.source)
    gradient = [name for name in labels if within(name, "cluster_gradient", parents)]
    forward = [name for name in labels if within(name, "cluster_forward", parents)]
    assert "scan × 100" in {labels[name] for name in forward}
    assert {"scan × 100", "reverse scan × 100"} <= {labels[name] for name in gradient}


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_frames_render_with_dot(tmp_path):
    def program(x):
        y = lax.cond(x.sum() > 0, lambda v: v * 2.0, lambda v: -v, x)
        return decay(y)[0].sum()

    drawing = draw(program, np.ones(3), path=tmp_path / "frames.svg", grads=True)
    assert drawing.rendered and "scan × 100" in drawing.path.read_text()
