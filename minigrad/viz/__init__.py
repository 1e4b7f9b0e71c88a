"""Pictures of programs: Graphviz DOT for a traced program, rendered by Graphviz's ``dot``.

A program is drawn as a dataflow graph with two kinds of nodes, as micrograd draws its
expression graphs: boxes for variables, named as the user named them (parameters,
local variables, ``dz/dx1`` for gradients) and labelled with shape and dtype, and
rounded boxes for operations, with the library's compositions shown as the function the
user called (``relu``, ``y[:, None]``). Equations that come from the same line of the
user's code are framed together and the frame shows that line; a long program (more
than ``collapse_above`` equations) is drawn folded, top to bottom: one node per line of
code or per layer of a model, and a block of lines that repeats (the body of a Python
loop) as one node marked with its count. The call view (``depth=``, ``expand=``) draws
one box per call of the user's code or ``nn`` layer instead, ``Linear`` and ``relu``
inside ``MLP``, with the shapes that flow between them.

The package, by idea: ``dot_text`` (Graphviz text), ``names`` (what to call a value),
``patterns`` (compositions drawn as one step), ``folding`` (what is drawn together),
``graph`` (the DOT of one program, ``to_dot``), ``calls`` (which call made each
equation) and ``call_view`` (boxes of calls), ``values`` (data and gradient at every
variable) and ``render`` (``draw``, and running ``dot``).

Example:
    >>> import minigrad as mg
    >>> import minigrad.numpy as mnp
    >>> source = to_dot(mg.make_jaxpr(lambda x: mnp.sin(x) * x)(1.0))
    >>> source.splitlines()[0]
    'digraph program {'
    >>> source.count(" -> ")
    5
"""

from minigrad.viz.graph import COLLAPSE_ABOVE, to_dot
from minigrad.viz.render import DOT_MISSING_ADVICE, Drawing, draw

__all__ = ["to_dot", "draw", "Drawing", "DOT_MISSING_ADVICE", "COLLAPSE_ABOVE"]
