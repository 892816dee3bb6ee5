"""``model.summary()``: the table Keras prints, with the same columns and totals.

A Sequential model lists its layers with their output shapes; a functional model its layers
(Input layers included) and the ``keras.ops`` calls between them and, when its graph is not a plain chain, what each layer is connected
to (``layer_name[node][tensor]``, as Keras writes it); a subclassed model its sublayers, with an
output shape where the layer was built on known shapes and "?" otherwise.
"""

import textwrap

import numpy as np

from ..keras_tensor import knows_output_shape

COLUMNS = (("Layer (type)", 31, "<"), ("Output Shape", 22, "<"), ("Param #", 13, ">"))
CONNECTED = ("Connected to", 28, "<")


def _row(cells, columns, left, middle, right):
    """One table row; a cell given as a list of lines, or too long for its column (wrapped at
    spaces, as Keras's table does), makes the row that many lines high."""
    cells = [
        cell if isinstance(cell, list) else textwrap.wrap(cell, width) or [""]
        for cell, (_, width, _) in zip(cells, columns)
    ]
    lines = []
    for i in range(max(len(cell) for cell in cells)):
        parts = [
            f" {(cell[i] if i < len(cell) else ''):{align}{width}} "
            for cell, (_, width, align) in zip(cells, columns)
        ]
        lines.append(left + middle.join(parts) + right)
    return "\n".join(lines)


def _rule(columns, left, fill, middle, right):
    return left + middle.join(fill * (width + 2) for _, width, _ in columns) + right


def _size(count, dtype_bytes):
    size = float(count * dtype_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024


def _shape_text(shape):
    return (
        "("
        + ", ".join("None" if n is None else str(n) for n in shape)
        + (",)" if len(shape) == 1 else ")")
    )


def _shapes_text(shapes):
    """One shape as text, or several (a layer with several outputs or calls) as a list."""
    texts = [_shape_text(shape) for shape in shapes]
    return texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"


def _params(layer):
    return f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"


def _name(layer):
    return f"{layer.name} ({type(layer).__name__})"


def sequential_rows(model):
    shapes = model._output_shapes if model.built else [None] * len(model.layers)
    return [
        [_name(layer), "?" if shape is None else _shape_text(shape), _params(layer)]
        for layer, shape in zip(model.layers, shapes)
    ], False


def functional_rows(model):
    """The rows of a functional model, and whether it needs the "Connected to" column."""
    nodes = model._nodes
    calls, counts = {}, {}  # id(node) -> which call of its layer (in this model) it is
    for node in nodes:
        calls[id(node)] = counts.get(id(node.layer), 0)
        counts[id(node.layer)] = calls[id(node)] + 1
    consumers = {}
    for node in nodes:
        for tensor in node.input_tensors:
            consumers[id(tensor)] = consumers.get(id(tensor), 0) + 1
    chain = (
        len(model.inputs) == 1
        and len(model.outputs) == 1
        and all(len(node.input_tensors) <= 1 and len(node.output_tensors) == 1 for node in nodes)
        and all(count == 1 for count in consumers.values())
        and len({id(node.layer) for node in nodes}) == len(nodes)
    )
    rows = []
    for layer in model.operations:  # the recorded keras.ops calls too, as Keras lists them
        own = [node for node in nodes if node.layer is layer]
        shapes = [t.shape for node in own for t in node.output_tensors]
        row = [_name(layer), _shapes_text(shapes), _params(layer)]
        if not chain:
            links = [
                f"{t.node.layer.name}[{calls[id(t.node)]}][{t.index}]"
                for node in own
                for t in node.input_tensors
            ]
            row.append(
                [link + ("," if i < len(links) - 1 else "") for i, link in enumerate(links)] or "-"
            )
        rows.append(row)
    return rows, not chain


def subclassed_rows(model):
    if not model.built:
        raise ValueError(
            f'This model "{model.name}" has not yet been built. Build the model first by '
            f"calling build() or by calling the model on a batch of data."
        )
    rows = []
    for layer in model.layers:
        shape = getattr(layer, "_build_shape", None)
        known = shape is not None and knows_output_shape(layer)
        rows.append(
            [
                _name(layer),
                _shape_text(layer.compute_output_shape(shape)) if known else "?",
                _params(layer),
            ]
        )
    return rows, False


def summary_text(model, rows, connected):
    """The summary of ``model`` as text, given the rows of its table (from the row function of
    its kind: :func:`sequential_rows`, :func:`functional_rows`, :func:`subclassed_rows`) and
    whether they have the "Connected to" column."""
    columns = COLUMNS + (CONNECTED,) if connected else COLUMNS
    lines = [f'Model: "{model.name}"']
    lines.append(_rule(columns, "┏", "━", "┳", "┓"))
    lines.append(_row([name for name, _, _ in columns], columns, "┃", "┃", "┃"))
    lines.append(_rule(columns, "┡", "━", "╇", "┩"))
    for i, row in enumerate(rows):
        if i:
            lines.append(_rule(columns, "├", "─", "┼", "┤"))
        lines.append(_row(row, columns, "│", "│", "│"))
    lines.append(_rule(columns, "└", "─", "┴", "┘"))
    weights = model.weights
    trainable = {id(w) for w in model.trainable_weights}
    itemsize = {id(w): np.dtype(w.dtype).itemsize for w in weights}
    total = sum(w.size for w in weights)
    total_bytes = sum(w.size * itemsize[id(w)] for w in weights)
    train = sum(w.size for w in weights if id(w) in trainable)
    train_bytes = sum(w.size * itemsize[id(w)] for w in weights if id(w) in trainable)
    lines.append(f" Total params: {total:,} ({_size(total_bytes, 1)})")
    lines.append(f" Trainable params: {train:,} ({_size(train_bytes, 1)})")
    frozen_bytes = total_bytes - train_bytes
    lines.append(f" Non-trainable params: {total - train:,} ({_size(frozen_bytes, 1)})")
    return "\n".join(lines)
