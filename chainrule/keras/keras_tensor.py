"""Symbolic tensors: what ``keras.Input`` returns, and what a layer returns when called on one.

A :class:`KerasTensor` holds no values, only a shape (None for the batch axis) and a dtype, and
remembers the layer call that produced it (a :class:`KerasNode`). Calling layers on KerasTensors
therefore records a graph of layer calls, which ``keras.Model(inputs, outputs)`` turns into a
model (see ``models/functional.py``).

A layer's output shape comes from its ``compute_output_shape``; a layer that does not define one
(a custom layer, a subclassed model) is run once on a zero sample of the input shape (None axes
taken as 1) to find it.
"""

import numpy as np

from .. import nest
from ..engine import Tensor, no_grad


class KerasNode:
    """One call of ``layer`` in a graph of layers: its inputs (a structure of KerasTensors), the
    ``training`` value given to the call (None: the model's own), the other keyword arguments,
    and its outputs (a structure of KerasTensors)."""

    __slots__ = ("inputs", "kwargs", "layer", "outputs", "training")

    def __init__(self, layer, inputs, training=None, kwargs=None):
        self.layer, self.inputs, self.training = layer, inputs, training
        self.kwargs = kwargs or {}
        self.outputs = None

    @property
    def input_tensors(self):
        return nest.flatten(self.inputs)

    @property
    def output_tensors(self):
        return nest.flatten(self.outputs)


class KerasTensor:
    """A symbolic tensor: the shape (batch axis None) and dtype of a value a model will compute.

    Attributes:
        node: the :class:`KerasNode` that produced it.
        index: its position among that node's (flattened) outputs.
    """

    __slots__ = ("dtype", "index", "name", "node", "shape")

    def __init__(self, shape, dtype="float32", name=None, node=None, index=0):
        self.shape = tuple(None if n is None else int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.name, self.node, self.index = name, node, index

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"{self!r} is symbolic: it has a shape but no values until a model built from it "
            f"is called on data. Use it only as the input of Keras layers."
        )


def is_symbolic(inputs):
    """True when ``inputs`` is a KerasTensor or a list/tuple/dict holding one."""
    if isinstance(inputs, KerasTensor):
        return True
    return nest.is_nested(inputs) and any(isinstance(t, KerasTensor) for t in nest.flatten(inputs))


def is_shape(value):
    """True for one shape (a tuple or list of ints and Nones), False for a structure of shapes."""
    return isinstance(value, (tuple, list)) and all(
        n is None or isinstance(n, (int, np.integer)) for n in value
    )


def shapes_of(inputs):
    """The shapes of a structure of KerasTensors (tuples), as ``build`` receives them: one shape
    for one input, a list (or dict) of shapes for several."""
    if isinstance(inputs, KerasTensor):
        return inputs.shape
    if isinstance(inputs, dict):
        return {key: shapes_of(value) for key, value in inputs.items()}
    return [shapes_of(value) for value in inputs]


def symbolic_call(layer, inputs, training=None, kwargs=None):
    """Call ``layer`` on KerasTensors: build it for their shapes, and return KerasTensors for its
    outputs, recorded with a :class:`KerasNode` of this call.

    Raises:
        TypeError: inputs that mix KerasTensors and concrete values.
    """
    flat = nest.flatten(inputs)
    concrete = [type(t).__name__ for t in flat if not isinstance(t, KerasTensor)]
    if concrete:
        raise TypeError(
            f'Layer "{layer.name}" was called on a mix of symbolic inputs (KerasTensors, from '
            f"keras.Input) and concrete values ({', '.join(concrete)}). In a functional model, "
            f"every input of a layer must come from keras.Input or another layer."
        )
    output_shapes, dtypes = build_for(layer, inputs, kwargs)
    node = KerasNode(layer, inputs, training, kwargs)
    leaves = [output_shapes] if is_shape(output_shapes) else _shape_leaves(output_shapes)
    outputs = [
        KerasTensor(shape, layer.dtype if dtypes is None else dtypes[i], node=node, index=i)
        for i, shape in enumerate(leaves)
    ]
    node.outputs = outputs[0] if is_shape(output_shapes) else _pack_shapes(output_shapes, outputs)
    return node.outputs


def build_for(layer, inputs, kwargs=None):
    """Build ``layer`` (if not yet built) for the KerasTensors ``inputs`` and check them; return
    its output shapes, and their dtypes when they were found by running the layer (else None).
    """
    shapes = shapes_of(inputs)
    if not layer.built:
        layer.build(shapes)
        layer.built = True
        layer._build_shape = shapes
    if isinstance(inputs, KerasTensor):
        layer.check_input(inputs)
    if not knows_output_shape(layer):
        return _run_on_zeros(layer, inputs, kwargs)
    return layer.compute_output_shape(shapes), None


def passes_shape_through(compute_output_shape):
    """Mark a ``compute_output_shape`` that returns its input shape without knowing what the
    layer does (``Layer``'s default): a layer that keeps it is run on zeros to find its shape."""
    compute_output_shape.passes_shape_through = True
    return compute_output_shape


def knows_output_shape(layer):
    """Whether ``layer`` defines its own ``compute_output_shape``."""
    method = type(layer).compute_output_shape
    return not getattr(method, "passes_shape_through", False)


def _shape_leaves(structure):
    """The shapes in a structure of shapes, in :func:`chainrule.nest.flatten`'s order."""
    if is_shape(structure):
        return [tuple(structure)]
    values = (
        [structure[key] for key in sorted(structure)] if isinstance(structure, dict) else structure
    )
    return [leaf for value in values for leaf in _shape_leaves(value)]


def _pack_shapes(structure, outputs):
    """The structure of shapes with each shape replaced by the next of ``outputs``."""
    iterator = iter(outputs)

    def rebuild(value):
        if is_shape(value):
            return next(iterator)
        if isinstance(value, dict):
            packed = {key: rebuild(value[key]) for key in sorted(value)}
            return {key: packed[key] for key in value}
        return [rebuild(item) for item in value]

    return rebuild(structure)


def _run_on_zeros(layer, inputs, kwargs):
    """The output shapes (batch axis None) and dtypes of ``layer`` on a zero sample."""
    sample = nest.map_structure(
        lambda t: np.zeros(tuple(1 if n is None else n for n in t.shape), dtype=t.dtype), inputs
    )
    with no_grad():
        outputs = layer(sample, training=False, **(kwargs or {}))
    flat = nest.flatten(outputs)
    shapes = [(None,) + tuple(o.shape[1:]) for o in flat]
    dtypes = [o.dtype if isinstance(o, Tensor) else np.asarray(o).dtype for o in flat]
    if len(flat) == 1 and not nest.is_nested(outputs):
        return shapes[0], dtypes
    return nest.pack_like(outputs, shapes), dtypes
