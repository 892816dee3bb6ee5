"""``model.summary()``: the table Keras prints, with the same columns and totals."""

import numpy as np

COLUMNS = (("Layer (type)", 31, "<"), ("Output Shape", 22, "<"), ("Param #", 13, ">"))


def _row(cells, left, middle, right):
    parts = [f" {cell:{align}{width}} " for cell, (_, width, align) in zip(cells, COLUMNS)]
    return left + middle.join(parts) + right


def _rule(left, fill, middle, right):
    return left + middle.join(fill * (width + 2) for _, width, _ in COLUMNS) + right


def _size(count, dtype_bytes):
    size = float(count * dtype_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024


def _shape_text(shape):
    return "(" + ", ".join("None" if n is None else str(n) for n in shape) + (
        ",)" if len(shape) == 1 else ")"
    )


def summary_text(model):
    """The summary of a Sequential model as text."""
    lines = [f'Model: "{model.name}"']
    lines.append(_rule("┏", "━", "┳", "┓"))
    lines.append(_row([name for name, _, _ in COLUMNS], "┃", "┃", "┃"))
    lines.append(_rule("┡", "━", "╇", "┩"))
    shapes = model._output_shapes if model.built else [None] * len(model.layers)
    for i, layer in enumerate(model.layers):
        if i:
            lines.append(_rule("├", "─", "┼", "┤"))
        shape = "?" if shapes[i] is None else _shape_text(shapes[i])
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        lines.append(_row([f"{layer.name} ({type(layer).__name__})", shape, params],
                          "│", "│", "│"))
    lines.append(_rule("└", "─", "┴", "┘"))
    weights = model.weights
    trainable = {id(w) for w in model.trainable_weights}
    itemsize = {id(w): np.dtype(w.dtype).itemsize for w in weights}
    total = sum(w.size for w in weights)
    total_bytes = sum(w.size * itemsize[id(w)] for w in weights)
    train = sum(w.size for w in weights if id(w) in trainable)
    train_bytes = sum(w.size * itemsize[id(w)] for w in weights if id(w) in trainable)
    lines.append(f" Total params: {total:,} ({_size(total_bytes, 1)})")
    lines.append(f" Trainable params: {train:,} ({_size(train_bytes, 1)})")
    lines.append(f" Non-trainable params: {total - train:,} ({_size(total_bytes - train_bytes, 1)})")
    return "\n".join(lines)
