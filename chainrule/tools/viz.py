"""The recorded autodiff graph as a picture: Graphviz DOT text, or SVG.

Every recorded op is one node, an ellipse with the primitive's name and the shape of its output;
every tensor that no recorded op produced (inputs, weights, constants) is a box. Edges follow the
forward pass, from each input to the op that consumes it, up to the output; a dashed edge carries
no gradient back (labels, or a value an op reuses as a constant). After a backward pass
each node also shows ‖dL/dt‖, the norm of the loss's gradient with respect to its tensor t::

    loss = model.compute_loss(x, y, model(x))
    loss.backward(retain_graph=True)          # keep the graph to draw it
    print(chainrule.viz.to_dot(loss))         # paste into any Graphviz viewer
    svg = chainrule.viz.to_svg(loss)          # pip install "chainrule[graph]" + Graphviz's dot
"""

import inspect

import numpy as np

from ..engine import GraphFreedError, Tensor
from ..engine import gradients as engine_gradients


def to_dot(output, gradients=None, name="chainrule"):
    """The graph that produced ``output`` as Graphviz DOT text.

    Args:
        output: a Tensor computed with recording on.
        gradients: annotate every node with ‖dL/dt‖, L = ``output`` (which must then have one
            element), computed by one more backward pass that keeps the graph. None: do so when
            a leaf of the graph already has a ``.grad``, that is, after ``backward()``.
        name: the graph's name.

    Returns:
        DOT text: ``digraph name { ... }`` with one node per recorded op and one per leaf.

    Raises:
        TypeError: ``output`` is not a Tensor.
        ValueError: gradients are asked for a non-scalar ``output``.
        GraphFreedError: a backward pass already freed the graph (pass ``retain_graph=True``).
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"to_dot: expected a Tensor; got {type(output).__name__}")
    ops, leaves, edges = _graph(output)
    if gradients is None:
        gradients = any(isinstance(t, Tensor) and t.grad is not None for t in leaves.values())
    tensors = list(ops.values()) + [t for t in leaves.values() if isinstance(t, Tensor)]
    norms = _gradient_norms(output, tensors) if gradients else {}
    lines = [f"digraph {_quote(name)} {{", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for key, tensor in ops.items():
        node = tensor._node
        text = [
            f"{node.prim.name}{_params(node.prim, node.params)}",
            _shape(tensor),
            _norm(norms, tensor),
        ]
        lines.append(f"  {key} [shape=ellipse, label={_label(text)}];")
    for key, value in leaves.items():
        if isinstance(value, Tensor):
            style = ', style=filled, fillcolor="#dbe9f6"' if value.requires_grad else ""
            text = [_leaf_name(value), _shape(value), _norm(norms, value)]
            lines.append(f"  {key} [shape=box{style}, label={_label(text)}];")
        else:
            lines.append(f"  {key} [shape=plaintext, label={_label([_constant(value)])}];")
    lines += [
        f"  {source} -> {target}{'' if flowing else ' [style=dashed]'};"
        for source, target, flowing in edges
    ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(output, gradients=None, name="chainrule"):
    """The graph of :func:`to_dot` drawn as SVG text by Graphviz.

    Raises:
        ImportError: the ``graphviz`` package is not installed.
        RuntimeError: Graphviz's ``dot`` program is not installed.
    """
    try:
        import graphviz
    except ImportError as error:
        raise ImportError(
            'to_svg needs the graphviz package: pip install "chainrule[graph]" (and Graphviz\'s '
            "dot program, e.g. apt-get install graphviz)"
        ) from error
    text = to_dot(output, gradients=gradients, name=name)
    try:
        return graphviz.Source(text).pipe(format="svg").decode("utf-8")
    except graphviz.ExecutableNotFound:
        raise RuntimeError(
            "to_svg needs Graphviz's dot program on the PATH: install Graphviz (e.g. apt-get "
            "install graphviz, brew install graphviz), or render to_dot()'s text elsewhere."
        ) from None


def _graph(output):
    """(ops, leaves, edges): op and leaf nodes by their DOT id, and the edges (source, target,
    whether the gradient flows back along it).

    An explicit stack instead of recursion, so a graph of any depth fits.
    """
    ops, leaves, edges, ids = {}, {}, [], {}

    def key_of(value):
        if isinstance(value, Tensor) and value._node is not None:
            if id(value) not in ids:
                ids[id(value)] = f"op{len(ops)}"
                ops[ids[id(value)]] = value
                stack.append(value)
            return ids[id(value)]
        if isinstance(value, Tensor):
            if id(value) not in ids:
                ids[id(value)] = f"leaf{len(leaves)}"
                leaves[ids[id(value)]] = value
            return ids[id(value)]
        key = f"leaf{len(leaves)}"  # a constant: a node of its own wherever it is used
        leaves[key] = value
        return key

    stack = []
    key_of(output)
    while stack:
        tensor = stack.pop()
        node = tensor._node
        if node.inputs is None:
            raise GraphFreedError(
                "to_dot: a backward pass already freed this graph. Call backward(retain_graph="
                "True) to keep it, or draw the graph before backward()."
            )
        target = ids[id(tensor)]
        flowing = {position for position, _ in node.parents}
        edges.extend(
            (key_of(value), target, position in flowing)
            for position, value in enumerate(node.inputs)
        )
    return ops, leaves, edges


def _gradient_norms(output, tensors):
    """{id(t): ‖dL/dt‖} for the tensors that L = output depends on, keeping the graph."""
    if output.size != 1:
        raise ValueError(
            f"to_dot: gradient norms need a one-element output (a loss); got shape "
            f"{output.shape}. Pass gradients=False, or reduce the output first (e.g. .sum())."
        )
    found = engine_gradients(output, tensors, retain_graph=True)
    return {
        id(t): float(np.linalg.norm(g.numpy())) for t, g in zip(tensors, found) if g is not None
    }


def _params(prim, params):
    """The keyword parameters that differ from the primitive's defaults, e.g. ' (axis=0)';
    arrays and long values are left out."""
    defaults = {
        key: parameter.default
        for key, parameter in inspect.signature(prim.forward).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    shown = [
        f"{key}={value!r}"
        for key, value in params.items()
        if isinstance(value, (int, float, str, tuple, type(None)))
        and len(repr(value)) <= 20
        and (key not in defaults or defaults[key] != value)
    ]
    return f" ({', '.join(shown)})" if shown else ""


def _shape(tensor):
    return f"{tuple(tensor.shape)} {tensor.dtype}"


def _norm(norms, tensor):
    return f"‖grad‖ = {norms[id(tensor)]:.3g}" if id(tensor) in norms else None


def _leaf_name(tensor):
    fallback = "variable" if tensor.requires_grad else "input"
    return getattr(tensor, "path", None) or tensor.name or fallback


def _constant(value):
    array = np.asarray(value)
    return repr(value) if array.ndim == 0 else f"constant {array.shape}"


def _label(lines):
    return _quote("\n".join(line for line in lines if line))


def _quote(text):
    """A DOT string: double quotes, with backslashes, quotes and newlines escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
