"""``model.summary()``: the table Keras prints, with the same columns and totals.

A Sequential model lists its layers with their output shapes; a functional model its layers
(Input layers included) and the ``keras.ops`` calls between them and, when its graph is not a
plain chain, what each layer is connected to (``layer_name[node][tensor]``, as Keras writes
it); a subclassed model its sublayers, with an output shape where the layer was built on known
shapes and "?" otherwise.

The columns have the widths Keras's table gives them when the output is not a terminal (76
characters in all); a cell wraps at spaces as there, and a word too long for its column is cut
short with "…".
"""

import re

import numpy as np

from ..keras_tensor import knows_output_shape

COLUMNS = (("Layer (type)", 31, "<"), ("Output Shape", 22, "<"), ("Param #", 13, ">"))
CONNECTED_COLUMNS = (
    ("Layer (type)", 19, "<"),
    ("Output Shape", 17, "<"),
    ("Param #", 10, ">"),
    ("Connected to", 17, "<"),
)


def _wrap(text, width):
    """The lines of a cell, as Keras's table lays them out: the words (each with the spaces
    after it) fill a line while they fit in ``width``; a word too long for any line has a line
    of its own, cut to ``width - 1`` characters and "…"."""
    lines = []
    for word in re.findall(r"\S+\s*", text):
        if lines and len(lines[-1]) + len(word.rstrip()) <= width:
            lines[-1] += word
        else:
            lines.append(word)
    lines = [line.rstrip() for line in lines] or [""]
    return [line if len(line) <= width else line[: width - 1] + "…" for line in lines]


def _row(cells, columns, left, middle, right):
    """One table row; a cell too long for its column (see :func:`_wrap`) makes the row that
    many lines high."""
    cells = [_wrap(cell, width) for cell, (_, width, _) in zip(cells, columns)]
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
    """One shape as text, or several (a layer with several outputs) as a list."""
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
    """The rows of a functional model, and whether it needs the "Connected to" column.

    As in Keras, a layer is connected to every tensor its call read, those passed as keyword
    arguments too (``initial_state=[h, c]``); the column is left out when the calls form one
    chain: each reads at most one tensor, feeds at most one other call, and no layer is called
    twice.
    """
    nodes = model._nodes
    readers = {}  # id(node) -> how many tensors of its outputs the other calls read
    for node in nodes:
        for tensor in node.read_tensors:
            readers[id(tensor.node)] = readers.get(id(tensor.node), 0) + 1
    chain = (
        all(len(node.read_tensors) <= 1 for node in nodes)
        and all(count <= 1 for count in readers.values())
        and sum(1 for node in nodes if not node.read_tensors) == 1
        and len({id(node.layer) for node in nodes}) == len(nodes)
    )
    rows = []
    for layer in model.operations:  # the recorded keras.ops calls too, as Keras lists them
        own = [node for node in nodes if node.layer is layer]
        shapes = [t.shape for t in own[-1].output_tensors]  # as Keras: those of the last call
        row = [_name(layer), _shapes_text(shapes), _params(layer)]
        if not chain:
            links = [
                f"{t.node.layer.name}[{_call_index(t.node)}][{t.index}]"
                for node in own
                for t in node.read_tensors
            ]
            row.append(", ".join(links) or "-")
        rows.append(row)
    return rows, not chain


def _call_index(node):
    """Which call of its layer ``node`` is, counting the calls made outside the model too, as
    Keras numbers them in ``layer_name[call][tensor]``."""
    calls = vars(node.layer).get("_inbound_nodes", [])
    return next((i for i, call in enumerate(calls) if call is node), 0)


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
    columns = CONNECTED_COLUMNS if connected else COLUMNS
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
    total, total_bytes = _count(weights)
    train, train_bytes = _count([w for w in weights if id(w) in trainable])
    optimizer = getattr(model, "optimizer", None)
    built = model.compiled and optimizer is not None and optimizer.built
    optimizer_count, optimizer_bytes = _count(optimizer.variables) if built else (0, 0)
    # as Keras, the total counts the optimizer's variables too, once it has made them
    everything, everything_bytes = total + optimizer_count, total_bytes + optimizer_bytes
    lines.append(f" Total params: {everything:,} ({_size(everything_bytes, 1)})")
    lines.append(f" Trainable params: {train:,} ({_size(train_bytes, 1)})")
    frozen_bytes = total_bytes - train_bytes
    lines.append(f" Non-trainable params: {total - train:,} ({_size(frozen_bytes, 1)})")
    if built:
        lines.append(f" Optimizer params: {optimizer_count:,} ({_size(optimizer_bytes, 1)})")
    return "\n".join(lines)


def _count(weights):
    """(number of values, bytes) of ``weights``."""
    return (
        sum(w.size for w in weights),
        sum(w.size * np.dtype(w.dtype).itemsize for w in weights),
    )
