"""Symbolic tensors: what ``keras.Input`` returns, and what a layer returns when called on one.

A :class:`KerasTensor` holds no values, only a shape (None for the batch axis) and a dtype, and
remembers the layer call that produced it (a :class:`KerasNode`). Calling layers on KerasTensors
therefore records a graph of layer calls, which ``keras.Model(inputs, outputs)`` turns into a
model (see ``models/functional.py``).

A layer's output shape comes from its ``compute_output_shape``; a layer that does not define one
(a custom layer, a subclassed model) is run once on a zero sample of the input shape (None axes
taken as 1) to find it.

A ``keras.ops`` function (or an operator: ``x + 1``, ``x[:, 0]``, ``x @ w``) called on
KerasTensors is recorded the same way, as a node of an :class:`Operation` that holds the
function and its non-symbolic arguments (see :func:`symbolic_op`).
"""

import operator
import re

import numpy as np

from .. import nest, ops
from ..engine import Tensor, no_grad

_name_counts = {}


def unique_name(prefix):
    """``prefix``, then ``prefix_1``, ``prefix_2``... as Keras names layers, models and the
    operations of a functional graph (one counter for all, so their names never clash)."""
    count = _name_counts.get(prefix, 0)
    _name_counts[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_names():
    """Forget the names handed out so far (``keras.backend.clear_session()``)."""
    _name_counts.clear()


def clear_session(free_memory=True):
    """Reset the names and uids handed out so far, so that the next layer is ``dense`` again
    (``keras.backend.clear_session``). ``free_memory`` is accepted for Keras's signature; NumPy
    frees arrays as they go."""
    reset_names()


def is_keras_tensor(x):
    """True when ``x`` is a symbolic :class:`~chainrule.keras.KerasTensor` (from ``keras.Input``
    or a layer called on one), False for values (Tensors, arrays, numbers)."""
    return isinstance(x, KerasTensor)


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
        """The KerasTensors the call read (an operation's other arguments left out)."""
        return [t for t in nest.flatten(self.inputs) if isinstance(t, KerasTensor)]

    @property
    def read_tensors(self):
        """Every KerasTensor the call depends on: its inputs', then those given as keyword
        arguments (``layer(x, mask=m)``), which a model computes before the call too."""
        given = [t for t in nest.flatten(list(self.kwargs.values())) if isinstance(t, KerasTensor)]
        return self.input_tensors + given

    @property
    def output_tensors(self):
        return nest.flatten(self.outputs)


class KerasTensor:
    """A symbolic tensor: the shape (batch axis None) and dtype of a value a model will compute.

    Python's operators on it (``x + 1``, ``2 * x``, ``x // 2``, ``x % 3``, ``-x``, ``x @ w``,
    ``x[:, 0]``, ``x > 0``, ``(x > 0) & (x < 1)``, ``~m``, ``abs(x)``, ``round(x)``) and its ``reshape``/``squeeze`` methods are recorded as operations of the
    graph, as ``keras.ops`` functions are; each runs, in the model, as the same operator on the
    Tensor the model computes. It cannot be turned into an array, a bool or a number.

    Attributes:
        node: the :class:`KerasNode` that produced it.
        index: its position among that node's (flattened) outputs.
    """

    __slots__ = ("_keras_mask", "dtype", "index", "name", "node", "shape")
    __array_ufunc__ = None  # ``ndarray @ x`` and ``1.0 - x`` defer to the reflected operators

    def __init__(self, shape, dtype="float32", name=None, node=None, index=0):
        self.shape = tuple(None if n is None else int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.name, self.node, self.index = name, node, index

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    __hash__ = object.__hash__  # by identity, although ``==`` is a recorded comparison

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"{self!r} is symbolic: it has a shape but no values until a model built from it "
            f"is called on data. Use it only as the input of Keras layers and keras.ops."
        )

    def __bool__(self):
        raise TypeError(
            f"{self!r} is symbolic and has no truth value: a Python `if` or `and` cannot depend "
            f"on it. Compute with keras.ops (keras.ops.where, keras.ops.cond on values) instead."
        )

    def __iter__(self):
        raise TypeError(
            f"{self!r} is symbolic and cannot be iterated over. Index it (x[:, 0]) or use "
            f"keras.ops.unstack instead."
        )

    def reshape(self, newshape):
        """``keras.ops.reshape(self, newshape)``: the batch axis may be written -1 or kept."""
        return symbolic_op(_reshape, (self, newshape), {}, "reshape")

    def squeeze(self, axis=None):
        """``keras.ops.squeeze(self, axis)``: drop axes of size 1."""
        return symbolic_op(_squeeze, (self,), {"axis": axis}, "squeeze")


def _reshape(x, newshape):
    return x.reshape(tuple(newshape) if isinstance(newshape, (tuple, list)) else (newshape,))


def _squeeze(x, axis=None):
    return ops.squeeze(x, axis=axis)


def _operator_method(function, name, reflected=False):
    """A KerasTensor method that records ``function`` (an operator) as operation ``name``."""
    if reflected:

        def method(self, other):
            return symbolic_op(function, (other, self), {}, name)

    else:

        def method(self, *others):
            return symbolic_op(function, (self,) + others, {}, name)

    method.__name__ = name
    method.__doc__ = f"Recorded as the operation ``{name}`` ({function.__name__} on the values)."
    return method


def _truth(x):
    """x as bools (non-zero is true): a Tensor, or a Python bool for a number."""
    return x != 0


def _logical_and(x1, x2):
    return _truth(x1) & _truth(x2)


def _logical_or(x1, x2):
    return _truth(x1) | _truth(x2)


def _logical_xor(x1, x2):
    return _truth(x1) ^ _truth(x2)


def _logical_not(x):
    return ~_truth(x)


def _round(x, ndigits=None):
    return round(x, ndigits)


# Python's operators, each recorded under the name Keras 3 gives the op it stands for (as in
# Keras, &, |, ^ and ~ on symbolic tensors are the logical operations).
for _dunder, _function, _name in (
    ("add", operator.add, "add"),
    ("sub", operator.sub, "subtract"),
    ("mul", operator.mul, "multiply"),
    ("truediv", operator.truediv, "true_divide"),
    ("floordiv", operator.floordiv, "floor_divide"),
    ("mod", operator.mod, "mod"),
    ("pow", operator.pow, "power"),
    ("matmul", operator.matmul, "matmul"),
    ("and", _logical_and, "logical_and"),
    ("or", _logical_or, "logical_or"),
    ("xor", _logical_xor, "logical_xor"),
):
    setattr(KerasTensor, f"__{_dunder}__", _operator_method(_function, _name))
    setattr(KerasTensor, f"__r{_dunder}__", _operator_method(_function, _name, reflected=True))
for _dunder, _function, _name in (
    ("neg", operator.neg, "negative"),
    ("abs", operator.abs, "absolute"),
    ("getitem", operator.getitem, "get_item"),
    ("lt", operator.lt, "less"),
    ("le", operator.le, "less_equal"),
    ("gt", operator.gt, "greater"),
    ("ge", operator.ge, "greater_equal"),
    ("eq", operator.eq, "equal"),
    ("ne", operator.ne, "not_equal"),
    ("invert", _logical_not, "logical_not"),
    ("round", _round, "round"),
):
    setattr(KerasTensor, f"__{_dunder}__", _operator_method(_function, _name))


class Operation:
    """A function of a functional graph that is not a layer: a ``keras.ops`` function or an
    operator called on KerasTensors. It has no weights; its node's ``inputs`` are the call's
    ``(args, kwargs)`` with the KerasTensors in them, and calling it with those values runs the
    function. Each function gets its own subclass, named as Keras names its op classes
    (``relu`` -> ``Relu``), which ``summary()`` shows as the type.
    """

    built = True
    trainable = False
    kind = "operation"  # the function's name, which names the subclass and each instance
    weights = trainable_weights = non_trainable_weights = property(lambda self: [])

    def __init__(self, function, name):
        self.function, self.name = function, name
        self._inbound_nodes = []

    def __call__(self, inputs, training=None):
        """The function on ``inputs = (args, kwargs)``; on KerasTensors, a new node."""
        args, kwargs = inputs
        if is_symbolic(inputs):
            return symbolic_op(self.function, args, kwargs, self.kind)
        return self.function(*args, **kwargs)

    def count_params(self):
        return 0

    def __repr__(self):
        return f"<Operation name={self.name}>"


_operation_classes = {}


def _operation_class(name):
    """The subclass of :class:`Operation` for function ``name``, made once."""
    if name not in _operation_classes:
        class_name = "".join(part.capitalize() for part in re.split(r"_+", name) if part)
        _operation_classes[name] = type(class_name or "Operation", (Operation,), {"kind": name})
    return _operation_classes[name]


# The sizes a None axis takes in the two sample runs of an operation; an output axis whose size
# differs between the runs depends on them, and is None.
SAMPLE_SIZES = (2, 3)


def symbolic_op(function, args, kwargs, name):
    """Record ``function(*args, **kwargs)``, where some arguments are KerasTensors, as a node of
    an :class:`Operation` named ``name``; return KerasTensors for its outputs (their shapes and
    dtypes from :func:`output_specs`). Outputs that are Python numbers (``keras.ops.shape``)
    come back as numbers, None where they follow the batch size, and no node is recorded.
    """
    structure = (tuple(args), dict(kwargs))
    outputs = output_specs(function, structure, f"keras.ops.{name}")
    tensors = [t for t in nest.flatten(outputs) if isinstance(t, KerasTensor)]
    if not tensors:
        return outputs
    node = KerasNode(_operation_class(name)(function, unique_name(name)), structure)
    for tensor in tensors:
        tensor.node = node
    node.outputs = outputs
    node.layer._inbound_nodes.append(node)
    return outputs


def output_specs(function, structure, caller):
    """The outputs of ``function(*args, **kwargs)`` for ``structure = (args, kwargs)`` holding
    KerasTensors, as KerasTensors (not yet in a graph) with the outputs' shapes and dtypes;
    ``caller`` names the op or layer in errors (``keras.ops.relu``, ``Layer "dense"``).

    ``function`` runs twice on samples of ones, every None axis of size 2, then 3: an output
    axis that follows those sizes is None, any other keeps its size. This covers every function
    without a shape rule of its own (reductions, reshapes with -1, concatenation along the batch
    axis...), as long as the output shape does not depend on the values (ones everywhere).

    Raises:
        ValueError: the function fails on the samples, or its outputs' number or ranks change
            with the batch size, which shapes with None axes cannot describe.
    """
    runs = [_run_on_ones(function, structure, size, caller) for size in SAMPLE_SIZES]
    leaves = [nest.flatten(run) for run in runs]
    if len(leaves[0]) != len(leaves[1]):
        raise ValueError(_batch_dependent(caller, structure, "number of outputs"))
    merged, count = [], 0
    for first, second in zip(*leaves):
        if not isinstance(first, (Tensor, np.ndarray)):
            merged.append(first if _same_number(first, second) else None)
            continue
        if np.ndim(first) != np.ndim(second):
            raise ValueError(_batch_dependent(caller, structure, "output rank"))
        shape = tuple(a if a == b else None for a, b in zip(np.shape(first), np.shape(second)))
        merged.append(KerasTensor(shape, first.dtype, index=count))
        count += 1
    return nest.pack_like(runs[0], merged)


def _same_number(first, second):
    try:
        return bool(first == second)
    except (TypeError, ValueError):
        return False


def _run_on_ones(function, structure, size, caller):
    """``function`` on the arguments, each KerasTensor replaced by a Tensor of ones (None axes
    of ``size``; the string "1" for a string input); the clear error if it fails."""

    def ones(t):
        shape = tuple(size if n is None else n for n in t.shape)
        if t.dtype == object:  # strings
            return Tensor(np.full(shape, "1", dtype=object))
        return Tensor(np.ones(shape, dtype=t.dtype))

    sample = nest.map_structure(lambda t: ones(t) if isinstance(t, KerasTensor) else t, structure)
    args, kwargs = sample
    try:
        with no_grad(), np.errstate(all="ignore"):
            return function(*args, **kwargs)
    except Exception as err:
        raise ValueError(
            f"{caller} cannot be called on the symbolic inputs "
            f"{_describe(structure)}: run on samples of ones of those shapes (None axes of "
            f"size {size}) it fails with {type(err).__name__}: {err}"
        ) from err


def _batch_dependent(caller, structure, what):
    return (
        f"{caller} on the symbolic inputs {_describe(structure)} gives a {what} that "
        f"depends on the batch size, which a symbolic tensor (one shape, None for the batch "
        f"axis) cannot describe. Call it inside a layer's call() on concrete values instead."
    )


def _describe(structure):
    return ", ".join(repr(t) for t in nest.flatten(structure) if isinstance(t, KerasTensor))


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


class PositionalArguments(tuple):
    """The positional arguments of a layer call on several symbolic tensors (``layer(a, b)``),
    kept as one node's ``inputs``: ``Layer.__call__`` spreads them back into positional
    arguments when the graph runs. Its items may also be Python values (numbers, None...)."""

    def __new__(cls, *args):
        return super().__new__(cls, args)


def _is_concrete(value):
    """A value that a symbolic call cannot mix with KerasTensors: a Tensor, array or list."""
    return isinstance(value, (Tensor, np.ndarray, list, tuple, dict))


def symbolic_call(layer, inputs, training=None, kwargs=None):
    """Call ``layer`` on KerasTensors: build it for their shapes, and return KerasTensors for its
    outputs, recorded with a :class:`KerasNode` of this call. ``inputs`` is the call's first
    argument, or the :class:`PositionalArguments` of a call with several.

    Raises:
        TypeError: inputs that mix KerasTensors and concrete values.
    """
    flat = nest.flatten(inputs)
    if isinstance(inputs, PositionalArguments):  # Python values may stand beside the tensors
        flat = [t for t in flat if isinstance(t, KerasTensor) or _is_concrete(t)]
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
    vars(layer).setdefault("_inbound_nodes", []).append(node)  # for ``layer.input``/``output``
    return node.outputs


def build_for(layer, inputs, kwargs=None):
    """Build ``layer`` (if not yet built) for the KerasTensors ``inputs`` and check them; return
    its output shapes, and their dtypes when they were found by running the layer (else None).
    """
    if isinstance(inputs, PositionalArguments):  # the run builds it from the arguments
        return _run_for_shapes(layer, inputs, kwargs)
    shapes = shapes_of(inputs)
    if not layer.built:
        layer.build(shapes)
        layer.built = True
        layer._build_shape = shapes
    if isinstance(inputs, KerasTensor):
        layer.check_input(inputs)
    if not knows_output_shape(layer):
        return _run_for_shapes(layer, inputs, kwargs)
    return layer.compute_output_shape(shapes), None


def _run_for_shapes(layer, inputs, kwargs):
    """The output shapes and dtypes of ``layer`` (not training), from :func:`output_specs`."""

    def run(x, **kwargs):
        return layer(x, training=False, **kwargs)

    outputs = output_specs(run, ((inputs,), dict(kwargs or {})), f'Layer "{layer.name}"')
    flat = nest.flatten(outputs)
    dtypes = [t.dtype for t in flat]
    if len(flat) == 1 and not nest.is_nested(outputs):
        return flat[0].shape, dtypes
    return nest.map_structure(lambda t: t.shape, outputs), dtypes


def sample_output_shapes(layer, input_shape):
    """``layer``'s output shape(s) for ``input_shape`` (a shape, or a list or dict of them),
    found by running it (:func:`output_specs`): for a layer with no shape rule of its own."""
    if is_shape(input_shape):
        inputs = KerasTensor(input_shape, layer.dtype)
    else:
        tensors = [KerasTensor(shape, layer.dtype) for shape in _shape_leaves(input_shape)]
        inputs = _pack_shapes(input_shape, tensors)
    return _run_for_shapes(layer, inputs, None)[0]


def passes_shape_through(compute_output_shape):
    """Mark a ``compute_output_shape`` that returns its input shape without knowing what the
    layer does (``Layer``'s default): a layer that keeps it is run on zeros to find its shape."""
    compute_output_shape.passes_shape_through = True
    return compute_output_shape


def knows_output_shape(layer):
    """Whether ``layer`` defines its own ``compute_output_shape`` (one that is not marked by
    :func:`passes_shape_through`)."""
    method = layer.compute_output_shape
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
