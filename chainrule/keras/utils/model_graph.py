"""A model's layers as a graph: drawn by ``model_to_dot`` (a pydot graph) and ``plot_model`` (an
image file, shown inline in a notebook), and walked back to its inputs by ``get_source_inputs``."""

import os
import sys

from ..keras_tensor import KerasTensor


def get_source_inputs(tensor):
    """The input tensors (``keras.Input``) that ``tensor`` is computed from, in the order first
    met walking back through the layers' calls, each once, as Keras's ``get_source_inputs``.

    A KerasTensor without a producing call is its own source; anything that is not a
    KerasTensor is returned as it is.

    Example::

        a, b = keras.Input((3,)), keras.Input((3,))
        get_source_inputs(keras.layers.Add()([a, b]) * 2)  # [a, b]
    """
    if not isinstance(tensor, KerasTensor):
        return tensor
    sources, pending, visited = [], [tensor], set()
    while pending:  # depth first, left to right, as Keras's recursion visits them
        current = pending.pop()
        if id(current) in visited:
            continue
        visited.add(id(current))
        inputs = current.node.input_tensors if current.node is not None else []
        if inputs:
            pending.extend(reversed(inputs))
        else:
            sources.append(current)
    return sources


_GRAPH_INSTALL = 'pip install "chainrule[graph]"'


def model_to_dot(
    model,
    show_shapes=False,
    show_dtype=False,
    show_layer_names=True,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    subgraph=False,
    show_layer_activations=False,
    show_trainable=False,
    **kwargs,
):
    """A model's layers as a ``pydot`` graph, as Keras 3's ``model_to_dot``: one node per layer
    (a table with its name and class, and what the ``show_*`` arguments ask for), one edge per
    connection: each layer to the next in a Sequential model, each tensor from the layer that
    made it to the layer that reads it in a functional model. A subclassed model is one node.

    Node ids are the layers' names (prefixed by the enclosing model's name inside an expanded
    nested model), so the DOT text is the same from run to run.

    Args:
        model: a built model.
        show_shapes: add each layer's input and output shapes ("?" where unknown).
        show_dtype: add each layer's output dtype.
        show_layer_names: write "name (Class)"; otherwise the class only.
        rankdir: Graphviz's direction, "TB" (top to bottom) or "LR" (left to right).
        expand_nested: draw a nested Sequential or functional model as a cluster of its layers.
        dpi: the image's resolution in dots per inch.
        subgraph: return a ``pydot.Cluster`` (a nested model's box) instead of a ``pydot.Dot``.
        show_layer_activations: add the activation of layers that have one.
        show_trainable: mark layers with weights "Trainable" or "Non-trainable".

    Returns:
        A ``pydot.Dot`` (``.to_string()`` is its DOT text), or a ``pydot.Cluster`` with
        ``subgraph=True``.

    Raises:
        ValueError: the model is not built, or an unknown keyword argument (``layer_range``,
            which Keras 3 dropped, included).
        ImportError: pydot is not installed; the message says how to install it.
    """
    _check_plot_arguments(model, kwargs)
    pydot = _pydot("model_to_dot")
    show = {
        "show_shapes": show_shapes,
        "show_dtype": show_dtype,
        "show_layer_names": show_layer_names,
        "show_layer_activations": show_layer_activations,
        "show_trainable": show_trainable,
    }
    if subgraph:
        dot = pydot.Cluster(model.name, style="dashed", label=model.name, labeljust="l")
    else:
        dot = pydot.Dot(graph_type="digraph", rankdir=rankdir, concentrate=True, dpi=dpi)
        dot.set("splines", "ortho")
        dot.set_node_defaults(shape="record")
    _add_model(pydot, dot, model, show, expand_nested, prefix="")
    return dot


def plot_model(
    model,
    to_file="model.png",
    show_shapes=False,
    show_dtype=False,
    show_layer_names=False,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    show_layer_activations=False,
    show_trainable=False,
    **kwargs,
):
    """Draw ``model_to_dot(model, ...)`` with Graphviz into ``to_file``, as Keras 3's
    ``plot_model``; the format is the file's extension (png without one).

    Needs pydot and Graphviz's ``dot`` program (``pip install "chainrule[graph]"``, and Graphviz
    from your package manager). As Keras does, a missing one raises ImportError, except inside
    IPython, where the message is printed and nothing is drawn, so that a notebook goes on.

    Args:
        model: the model to draw; ``show_shapes``, ``show_dtype``, ``show_layer_names``,
            ``rankdir``, ``expand_nested``, ``dpi``, ``show_layer_activations`` and
            ``show_trainable`` as for ``model_to_dot`` (``show_layer_names`` defaults to False
            here, as in Keras 3).
        to_file: the image's path.

    Returns:
        An ``IPython.display.Image`` of the file where IPython is installed (not for pdf),
        otherwise None.

    Raises:
        ValueError: the model is not built, or an unknown keyword argument.
        ImportError: pydot or Graphviz's dot program is missing (outside IPython).
    """
    _check_plot_arguments(model, kwargs)
    try:
        pydot = _pydot("plot_model")
        _check_graphviz(pydot)
    except ImportError as err:
        if "IPython.core.magics.namespace" in sys.modules:  # a notebook: say so and go on
            print(err)
            return None
        raise
    dot = model_to_dot(
        model,
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        rankdir=rankdir,
        expand_nested=expand_nested,
        dpi=dpi,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
    )
    to_file = str(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    if extension != "pdf":
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None


def _check_plot_arguments(model, kwargs):
    if not model.built:
        raise ValueError(
            f'The model "{model.name}" has not yet been built, so its layers cannot be drawn. '
            f"Build it first by calling build() or by calling it on a batch of data."
        )
    if "layer_range" in kwargs:
        raise ValueError("The argument layer_range is no longer supported (as in Keras 3).")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {sorted(kwargs)}")


def _pydot(caller):
    try:
        import pydot
    except ImportError as err:
        raise ImportError(
            f"You must install pydot for {caller} to work: {_GRAPH_INSTALL} (or pip install pydot)."
        ) from err
    return pydot


def _check_graphviz(pydot):
    """ImportError unless Graphviz's dot program runs (pydot calls it to draw)."""
    try:
        pydot.Dot.create(pydot.Dot())
    except (OSError, pydot.PydotException) as err:
        raise ImportError(
            "You must install Graphviz, whose dot program draws the graph, for plot_model to "
            "work: see https://graphviz.org/download/ (e.g. apt-get install graphviz)."
        ) from err


def _is_graph_model(layer):
    """A Sequential or functional model (by duck typing: the models are defined above this
    module, which cannot import them)."""
    return hasattr(layer, "_nodes") or any(
        cls.__name__ == "Sequential" for cls in type(layer).__mro__
    )


def _layers_and_links(model):
    """The model's layers, [(source layer, target layer), ...] and {id(layer): (input shapes,
    output shapes, output dtypes)} for a Sequential or functional model (whose ``keras.ops``
    calls are drawn as layers, as Keras draws them); a subclassed model is its own single
    layer."""
    if hasattr(model, "_nodes"):  # functional: one link per tensor read by a call
        layers, links, seen, shapes = model.operations, [], set(), {}
        for node in model._nodes:
            inputs, outputs, dtypes = shapes.setdefault(id(node.layer), ([], [], []))
            inputs += [t.shape for t in node.input_tensors]
            outputs += [t.shape for t in node.output_tensors]
            dtypes += [str(t.dtype) for t in node.output_tensors]
            for tensor in node.input_tensors:
                pair = (tensor.node.layer, node.layer)
                if (id(pair[0]), id(pair[1])) not in seen:
                    seen.add((id(pair[0]), id(pair[1])))
                    links.append(pair)
        return layers, links, shapes
    if _is_graph_model(model):
        layers = model.layers
        outputs = list(getattr(model, "_output_shapes", []))
        inputs = [getattr(model, "batch_input_shape", None)] + outputs[:-1]
        shapes = {
            id(layer): ([inputs[i]], [outputs[i]], [str(layer.dtype)])
            for i, layer in enumerate(layers)
            if i < len(outputs)
        }
        return layers, list(zip(layers, layers[1:])), shapes
    return [model], [], {}


def _add_model(pydot, dot, model, show, expand_nested, prefix):
    """Add the model's layers and links to ``dot``; return the ids of the nodes that its
    inputs enter and its outputs leave."""
    layers, links, shapes = _layers_and_links(model)
    ends = {}
    for layer in layers:
        if expand_nested and _is_graph_model(layer):
            cluster = pydot.Cluster(
                prefix + layer.name, style="dashed", label=layer.name, labeljust="l"
            )
            ends[id(layer)] = _add_model(
                pydot, cluster, layer, show, expand_nested, f"{prefix}{layer.name}/"
            )
            dot.add_subgraph(cluster)
        else:
            name = prefix + layer.name
            label = _layer_label(layer, shapes.get(id(layer)), **show)
            dot.add_node(pydot.Node(name, label=label, fontname="Helvetica", margin="0"))
            ends[id(layer)] = ([name], [name])
    for source, target in links:
        for start in ends[id(source)][1]:
            for end in ends[id(target)][0]:
                dot.add_edge(pydot.Edge(start, end, penwidth="2"))
    targets = {id(target) for _, target in links}
    sources = {id(source) for source, _ in links}
    entries = [name for layer in layers if id(layer) not in targets for name in ends[id(layer)][0]]
    exits = [name for layer in layers if id(layer) not in sources for name in ends[id(layer)][1]]
    return entries, exits


def _shape_text(shapes):
    if not shapes or any(shape is None for shape in shapes):
        return "?"
    texts = [str(tuple(shape)) for shape in shapes]
    return texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"


def _layer_label(
    layer,
    shapes,
    show_shapes,
    show_dtype,
    show_layer_names,
    show_layer_activations,
    show_trainable,
):
    """Graphviz's HTML-like label of one layer: a black title row, then a row of details."""
    kind = type(layer).__name__
    title = f"<b>{_html(layer.name)}</b> ({kind})" if show_layer_names else f"<b>{kind}</b>"
    details = []
    if show_shapes:
        inputs, outputs, _ = shapes or (None, None, None)
        if kind != "InputLayer":
            details.append(("white", f"Input shape: <b>{_html(_shape_text(inputs))}</b>"))
        details.append(("white", f"Output shape: <b>{_html(_shape_text(outputs))}</b>"))
    if show_dtype:
        dtypes = sorted(set(shapes[2])) if shapes else []
        details.append(("white", f"Output dtype: <b>{', '.join(dtypes) or '?'}</b>"))
    if show_trainable and layer.weights:
        details.append(
            ("forestgreen", "<b>Trainable</b>")
            if layer.trainable
            else ("firebrick", "<b>Non-trainable</b>")
        )
    width = max(1, len(details))
    rows = [
        f'<tr><td colspan="{width}" bgcolor="black"><font point-size="16" color="white">'
        f"{title}</font></td></tr>"
    ]
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        name = getattr(activation, "__name__", type(activation).__name__)
        rows.append(
            f'<tr><td colspan="{width}" bgcolor="white"><font point-size="14">'
            f"Activation: <b>{_html(name)}</b></font></td></tr>"
        )
    if details:
        cells = "".join(
            f'<td bgcolor="{colour}"><font point-size="14"'
            + (' color="white"' if colour != "white" else "")
            + f">{text}</font></td>"
            for colour, text in details
        )
        rows.append(f"<tr>{cells}</tr>")
    table = '<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
    return f"<{table}{''.join(rows)}</table>>"


def _html(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
