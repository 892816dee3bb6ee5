"""Utilities: one-hot encoding, padding of sequences to one length, reproducible seeding, Python datasets of batches
(``PyDataset``) for ``fit``, Keras's snake_case names of classes, and a model's layers drawn as a
graph (``model_to_dot``, ``plot_model``)."""

import os as _os
import random as _python_random
import re as _re
import sys as _sys

import numpy as _np

from .. import random as _random
from ..tf.data import Dataset as _Dataset
from .object_registration import (  # noqa: F401 (keras.utils shows them too, as Keras does)
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)

__all__ = [
    "PyDataset",
    "Sequence",
    "model_to_dot",
    "plot_model",
    "set_random_seed",
    "snake_case",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "pack_x_y_sample_weight",
    "pad_sequences",
    "to_categorical",
    "unpack_x_y_sample_weight",
]


def to_categorical(y, num_classes=None):
    """One-hot encode integer class labels: shape (n,) -> (n, num_classes), as Keras does.

    Args:
        y: integer labels in [0, num_classes).
        num_classes: the number of classes (default: max(y) + 1).

    Returns:
        A float array with a 1 at each label's position.
    """
    y = _np.asarray(y)
    if y.dtype.kind == "f" and not _np.all(_np.mod(y, 1) == 0):
        raise ValueError("to_categorical expects integer class labels; got fractional values.")
    y = y.astype(_np.int64)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"to_categorical: labels must be in [0, {num_classes}); got values from {y.min()} "
            f"to {y.max()}."
        )
    categorical = _np.zeros(y.shape + (num_classes,))
    _np.put_along_axis(categorical, y[..., None], 1.0, axis=-1)
    return categorical


def pad_sequences(
    sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0
):
    """Cut or pad sequences of different lengths to one length, as one array.

    Sequence i of length n_i fills row i of a (len(sequences), maxlen) array (or
    (len(sequences), maxlen) + the shape of one element) of ``value``: at its end when
    ``padding="post"``, else at its start; when n_i > maxlen, its first n_i - maxlen elements
    are cut (``truncating="pre"``) or its last ones (``"post"``). Empty sequences stay padding.

    Args:
        sequences: a list of sequences (lists or arrays; their elements numbers, or arrays of
            one shape).
        maxlen: the length of the rows (default: the longest sequence's length).
        dtype: the array's dtype (default int32).
        padding, truncating: ``"pre"`` (default) or ``"post"``.
        value: the padding value (default 0).

    Returns:
        A NumPy array of shape (len(sequences), maxlen) + element shape.

    Raises:
        ValueError: a padding or truncating other than "pre"/"post", a negative maxlen,
            sequences that are not sized, or elements of different shapes.

    Example::

        pad_sequences([[1, 2], [3, 4, 5]])          # [[0, 1, 2], [3, 4, 5]]
        pad_sequences([[1, 2], [3]], padding="post") # [[1, 2], [3, 0]]
    """
    for name, mode in (("padding", padding), ("truncating", truncating)):
        if mode not in ("pre", "post"):
            raise ValueError(
                f'pad_sequences: {name} type "{mode}" not understood; use "pre" or "post".'
            )
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: `sequences` must be a list of sequences (iterables).")
    lengths, sample_shape = [], None
    for i, sequence in enumerate(sequences):
        if not hasattr(sequence, "__len__"):
            raise ValueError(
                f"pad_sequences: `sequences` must be a list of iterables; found non-iterable "
                f"{sequence!r:.80} at position {i}."
            )
        lengths.append(len(sequence))
        if sample_shape is None and len(sequence):
            sample_shape = _np.asarray(sequence).shape[1:]
    if maxlen is None:
        maxlen = max(lengths, default=0)
    if maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be >= 0; received maxlen={maxlen}.")
    sample_shape = () if sample_shape is None else sample_shape
    padded = _np.full((len(lengths), maxlen) + sample_shape, value, dtype=dtype)
    for i, sequence in enumerate(sequences):
        if not len(sequence) or not maxlen:
            continue
        kept = _np.asarray(sequence, dtype=dtype)
        kept = kept[-maxlen:] if truncating == "pre" else kept[:maxlen]
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"pad_sequences: the elements of sequence {i} have shape {kept.shape[1:]}, "
                f"unlike those of the first non-empty sequence, {sample_shape}."
            )
        if padding == "post":
            padded[i, : len(kept)] = kept
        else:
            padded[i, maxlen - len(kept) :] = kept
    return padded


def set_random_seed(seed):
    """Seed every source of randomness chainrule uses (weights, shuffling, dropout), and Python's
    and NumPy's global generators, so two runs with the same seed are identical."""
    if not isinstance(seed, (int, _np.integer)) or isinstance(seed, bool):
        raise ValueError(f"set_random_seed expects an integer seed; got {seed!r}")
    _python_random.seed(seed)
    _np.random.seed(seed)
    _random.set_seed(int(seed))


def unpack_x_y_sample_weight(data):
    """A batch ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` as the triple
    ``(x, y, sample_weight)``, with None for what is missing (Keras's helper of that name).

    Raises:
        ValueError: a tuple of more than three items.
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) > 3:
        raise ValueError(
            f"A batch must be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of "
            f"{len(data)} items."
        )
    return data + (None,) * (3 - len(data))


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch ``unpack_x_y_sample_weight`` reads back: ``x`` alone when there is no ``y``
    (``(x,)`` when ``x`` is itself a tuple or list, so that it stays one item), ``(x, y)``
    without a ``sample_weight``, else ``(x, y, sample_weight)`` (Keras's helper of that name)."""
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


class PyDataset:
    """Base class of datasets written in Python, batch by batch, as Keras's ``PyDataset``.

    Implement ``__len__`` (the number of batches per epoch) and ``__getitem__(index)`` (batch
    ``index``, as ``x``, ``(x, y)`` or ``(x, y, sample_weight)``); for an endless dataset,
    ``num_batches`` returns None instead. ``fit`` calls ``on_epoch_begin`` and ``on_epoch_end``
    around each epoch and, with ``shuffle=True``, visits the batches in a new random order per
    pass.

    Args:
        workers, use_multiprocessing, max_queue_size: accepted for compatibility; batches are
            computed one at a time in the training loop.

    Example::

        class Batches(keras.utils.PyDataset):
            def __init__(self, x, y, batch_size, **kwargs):
                super().__init__(**kwargs)
                self.x, self.y, self.batch_size = x, y, batch_size

            def __len__(self):
                return math.ceil(len(self.x) / self.batch_size)

            def __getitem__(self, index):
                rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
                return self.x[rows], self.y[rows]
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(
            f"{type(self).__name__} must implement __getitem__(index), returning batch index."
        )

    @property
    def num_batches(self):
        """The number of batches per epoch (``len(self)``), or None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must implement __len__ (the number of batches per epoch) or "
            f"a num_batches property (None for an endless dataset)."
        )

    def on_epoch_begin(self):
        """Called at the start of each epoch."""

    def on_epoch_end(self):
        """Called at the end of each epoch (to reshuffle, say)."""


Sequence = PyDataset


def snake_case(name):
    """Keras's ``to_snake_case``: 'BatchNormalization' -> 'batch_normalization', 'Conv2D' ->
    'conv2d'. It names layers and, in saved files, the groups that hold their weights."""
    name = _re.sub(r"\W+", "", name)
    name = _re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return _re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# ----- a model's layers as a graph -----------------------------------------------------------
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
        if "IPython.core.magics.namespace" in _sys.modules:  # a notebook: say so and go on
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
    extension = _os.path.splitext(to_file)[1][1:] or "png"
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


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length,
    sequence_stride=1,
    sampling_rate=1,
    batch_size=128,
    shuffle=False,
    seed=None,
    start_index=None,
    end_index=None,
):
    """Sliding windows over a timeseries, as a ``chainrule.data.Dataset`` that ``fit`` takes.

    With s = start_index (default 0), e = end_index (default len(data)), n = e - s -
    (sequence_length - 1) * sampling_rate (at most len(targets)), and start positions
    p = 0, sequence_stride, ... below n (shuffled with ``np.random.RandomState(seed)`` when
    ``shuffle``), window k is ``data[s + p_k + sampling_rate * j]`` for j < sequence_length, shape
    (sequence_length, *data.shape[1:]), and its target is ``targets[s + p_k]``.

    Args:
        data: an array of shape (time, ...).
        targets: an array of shape (time, ...) or None (the dataset then yields windows only).
        sequence_length, sequence_stride, sampling_rate: the window geometry, as above.
        batch_size: windows per batch (None: one window per element).
        shuffle, seed: shuffle the windows (and, batched, again through a buffer of
            8 * batch_size, as Keras does).
        start_index, end_index: the part of ``data`` to draw windows from.

    Raises:
        ValueError: an index, stride or rate out of range, named with its value.

    Example:
        >>> ds = timeseries_dataset_from_array(np.arange(100), None, sequence_length=10,
        ...                                    batch_size=None)
        >>> next(ds.as_numpy_iterator())   # [0, 1, ..., 9]
    """
    data = _np.asarray(data)
    length = len(data)
    checks = [
        (start_index is not None and start_index < 0, "start_index", start_index,
         "must be 0 or greater"),
        (start_index is not None and start_index >= length, "start_index", start_index,
         f"must be lower than the length of the data ({length})"),
        (end_index is not None and start_index and end_index <= start_index, "end_index",
         end_index, f"must be higher than start_index={start_index}"),
        (end_index is not None and end_index >= length, "end_index", end_index,
         f"must be lower than the length of the data ({length})"),
        (end_index is not None and end_index <= 0, "end_index", end_index, "must be higher than 0"),
        (sampling_rate <= 0 or sampling_rate >= length, "sampling_rate", sampling_rate,
         f"must be in [1, {length}) (the length of the data)"),
        (sequence_stride <= 0 or sequence_stride >= length, "sequence_stride", sequence_stride,
         f"must be in [1, {length}) (the length of the data)"),
    ]  # fmt: skip
    for failed, name, value, rule in checks:
        if failed:
            raise ValueError(
                f"timeseries_dataset_from_array: `{name}` {rule}. Received: {name}={value}"
            )
    start = start_index or 0
    end = length if end_index is None else end_index
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        count = min(count, len(targets))
    positions = _np.arange(0, max(count, 0), sequence_stride)
    if shuffle:
        seed = _np.random.randint(1e6) if seed is None else seed
        _np.random.RandomState(seed).shuffle(positions)
    windows = data[start + positions[:, None] + sampling_rate * _np.arange(sequence_length)]
    if targets is None:
        dataset = _Dataset.from_tensor_slices(windows)
    else:
        picked = _np.asarray(targets)[start:end][positions]
        dataset = _Dataset.from_tensor_slices((windows, picked))
    if batch_size is None:
        return dataset.shuffle(1024, seed=seed) if shuffle else dataset
    if shuffle:
        dataset = dataset.shuffle(batch_size * 8, seed=seed)
    return dataset.batch(batch_size)


def text_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    max_length=None,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    verbose=True,
):
    """Read ``.txt`` files from class folders (``directory/<class>/*.txt``) into batches of
    ``(texts, labels)``, as Keras does.

    Classes are the sub-folders in alphanumeric order (or ``class_names``); files are listed in
    sorted order, shuffled with ``np.random.RandomState(seed)`` when ``shuffle``, and split by
    ``validation_split`` (the last fraction is the validation subset).

    Args:
        directory: the folder.
        labels: "inferred" (from the folders), None (texts only), or a list of integer labels,
            one per file in sorted path order.
        label_mode: "int" (int32), "categorical" (float32 one-hot), "binary" (float32 (n, 1),
            two classes) or None.
        class_names: the class folders to use, in label order.
        batch_size: texts per batch (None: one text per element).
        max_length: truncate each text to this many characters.
        shuffle, seed: shuffle the files.
        validation_split, subset: the fraction held out, and "training", "validation" or
            "both" (then a pair of datasets).
        follow_links: follow symbolic links to folders.
        verbose: print how many files and classes were found.

    Returns:
        A ``tf.data`` dataset whose elements are ``(texts, labels)`` Tensors (the texts a
        string Tensor); ``texts`` alone when there are no labels. It has ``class_names``.

    Raises:
        ValueError: bad arguments, or a folder with no text files.
    """
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(
            f'text_dataset_from_directory: `labels` must be "inferred", None or a list of '
            f"integers. Received: labels={labels!r}"
        )
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            f'text_dataset_from_directory: `label_mode` must be "int", "categorical", "binary" '
            f"or None. Received: label_mode={label_mode!r}"
        )
    if labels is None:
        label_mode = None
    if subset not in (None, "training", "validation", "both"):
        raise ValueError(
            f'text_dataset_from_directory: `subset` must be "training", "validation", "both" or '
            f"None. Received: subset={subset!r}"
        )
    if (validation_split is None) != (subset is None):
        raise ValueError(
            "text_dataset_from_directory: `validation_split` and `subset` go together: set both "
            "or neither."
        )
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(
            f"text_dataset_from_directory: `validation_split` must be in (0, 1). Received: "
            f"{validation_split}"
        )
    folders = sorted(
        entry.name for entry in _os.scandir(directory) if entry.is_dir(follow_symlinks=True)
    )
    if class_names is not None:
        missing = sorted(set(class_names) - set(folders))
        if missing:
            raise ValueError(
                f"text_dataset_from_directory: class_names {missing} have no folder in "
                f"{directory}; its folders are {folders}."
            )
        folders = list(class_names)
    paths, found = [], []
    if labels == "inferred":
        for index, folder in enumerate(folders):
            for root, _, files in sorted(
                _os.walk(_os.path.join(directory, folder), followlinks=follow_links)
            ):
                for name in sorted(files):
                    if name.lower().endswith(".txt"):
                        paths.append(_os.path.join(root, name))
                        found.append(index)
    else:
        for root, _, files in sorted(_os.walk(directory, followlinks=follow_links)):
            paths += [_os.path.join(root, n) for n in sorted(files) if n.lower().endswith(".txt")]
        if isinstance(labels, (list, tuple)):
            if len(labels) != len(paths):
                raise ValueError(
                    f"text_dataset_from_directory: {len(labels)} labels for {len(paths)} text "
                    f"files in {directory}; give one label per file, in sorted path order."
                )
            found = list(labels)
    if not paths:
        raise ValueError(f"text_dataset_from_directory: no .txt files found in {directory}.")
    if label_mode == "binary" and len(set(found)) > 2:
        raise ValueError(
            f'text_dataset_from_directory: label_mode="binary" needs 2 classes; found '
            f"{len(set(found))}."
        )
    if verbose:
        print(f"Found {len(paths)} files belonging to {len(folders)} classes.")
    order = _np.arange(len(paths))
    if shuffle:
        seed = _np.random.randint(1e6) if seed is None else seed
        _np.random.RandomState(seed).shuffle(order)
    paths = [paths[i] for i in order]
    found = [found[i] for i in order] if found else []

    def make(selected):
        texts = []
        for i in selected:
            with open(paths[i], encoding="utf-8", errors="replace") as file:
                text = file.read()
            texts.append(text[:max_length] if max_length is not None else text)
        texts = _np.array(texts, dtype=object)
        values = _np.array([found[i] for i in selected], dtype=_np.int64) if found else None
        if label_mode == "int":
            values = values.astype(_np.int32)
        elif label_mode == "categorical":
            values = to_categorical(values, len(folders)).astype(_np.float32)
        elif label_mode == "binary":
            values = values.astype(_np.float32).reshape(-1, 1)
        dataset = _Dataset.from_tensor_slices(texts if label_mode is None else (texts, values))
        if batch_size is not None:
            dataset = dataset.batch(batch_size)
        dataset.class_names = folders
        return dataset

    everything = list(range(len(paths)))
    if validation_split is None:
        return make(everything)
    held_out = int(validation_split * len(paths))
    training, validation = everything[: len(paths) - held_out], everything[len(paths) - held_out :]
    if verbose and subset in ("training", "both"):
        print(f"Using {len(training)} files for training.")
    if verbose and subset in ("validation", "both"):
        print(f"Using {len(validation)} files for validation.")
    if subset == "training":
        return make(training)
    if subset == "validation":
        return make(validation)
    return make(training), make(validation)


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (a zero vector stays zero), as a NumPy
    array: Keras's ``keras.utils.normalize``."""
    x = _np.asarray(x)
    norm = _np.atleast_1d(_np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / _np.expand_dims(norm, axis)
