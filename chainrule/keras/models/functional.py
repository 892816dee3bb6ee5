"""The functional API: a model defined by calling layers on ``keras.Input`` tensors.

    inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu")(inputs)
    outputs = keras.layers.Dense(10, name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)

Each layer call on symbolic tensors recorded a :class:`~chainrule.keras.keras_tensor.
KerasNode` (the layer, the tensors it read, the tensors it produced), and so did each
``keras.ops`` function or operator (``x + 1``) called on them, as an
:class:`~chainrule.keras.keras_tensor.Operation` node. The model keeps the nodes
that lead from its inputs to its outputs, each after the nodes it reads from, and its ``call``
runs them in that order on real tensors. Branches that split and join again (``Add``,
``Concatenate``), several inputs and several outputs are graphs of nodes like any other; the
gradients through them come from the engine, which sums the contributions of every branch.
"""

import inspect

import numpy as np

from ... import nest
from ...engine import Tensor
from .. import ops as keras_ops
from ..keras_tensor import KerasTensor, Operation, PositionalArguments, shapes_of
from ..layers.base import Layer, as_tensor
from ..layers.core import InputLayer
from ..naming import current_path, snake_case
from ..registry import serializable
from ..saving.serialization import (
    FileFormatError,
    check_build,
    deserialize_keras_object,
    layer_config,
    serialize_keras_object,
)
from .compile_utils import output_names
from .model import Model
from .summary import functional_rows


def _adjusted_shape(shape, expected):
    """``shape`` with a last axis of 1 added or dropped where that makes its rank the
    ``expected`` one, as Keras 3's functional models adjust their inputs: (batch,) data fits an
    input of shape (None, 1), and (batch, n, 1) data an input of shape (None, n)."""
    if len(shape) == len(expected) - 1 and expected[-1] == 1:
        return shape + (1,)
    if len(shape) == len(expected) + 1 and shape[-1] == 1:
        return shape[:-1]
    return shape


def _adjust_rank(tensor, expected):
    """``tensor`` reshaped by :func:`_adjusted_shape` (strings too, which no op reshapes)."""
    shape = _adjusted_shape(tensor.shape, expected)
    if shape == tensor.shape:
        return tensor
    if tensor.dtype == object:
        return Tensor(tensor.data.reshape(shape))
    return keras_ops.reshape(tensor, shape)


@serializable("keras.models")
class Functional(Model, functional=True):
    """A model given by its inputs and outputs: ``keras.Model(inputs, outputs)``.

    Args:
        inputs: a ``keras.Input`` tensor, or a list or dict of them.
        outputs: a tensor computed from the inputs by layers, or a list or dict of them.
        name: the model's name (default ``functional``, ``functional_1``, ...).

    The model is called with one array per input (a list in ``inputs`` order, or a dict keyed
    by the inputs' names) and returns its outputs in the structure of ``outputs``. Its
    ``output_names`` are the names of the layers (or ops) computing the outputs, in the order
    they flatten, as in Keras 3 (which gives Sequential and subclassed models none).

    Raises:
        TypeError: inputs or outputs that are not symbolic tensors.
        ValueError: an output that needs an Input not among ``inputs`` ("graph disconnected"),
            or two layers with the same name.
    """

    _convert_input_args = False  # call() converts each input to the dtype of its Input

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._inputs_struct, self._outputs_struct = inputs, outputs
        self.inputs = _symbolic(inputs, "inputs")
        self.outputs = _symbolic(outputs, "outputs")
        steps = _ordered_nodes(self.inputs, self.outputs)
        input_nodes = [t.node for t in self.inputs]
        self._nodes = input_nodes + steps  # every call in the model, for summary()
        self._steps = steps  # the calls that ``call`` runs, in order
        self._operations = _keras_operation_order(self.inputs, self.outputs)
        self._layers = [op for op in self._operations if not isinstance(op, Operation)]
        _check_unique_names(self._layers)  # ops are named by a counter, never by the user
        if len(self.inputs) == 1:
            self.batch_input_shape = self.inputs[0].shape
        self.output_names = output_names(self)  # the names of the layers computing them
        with self._open_name_scope():  # built as it is made: its path is set now, as in Keras
            object.__setattr__(self, "_path", current_path())
        self.built = True

    @property
    def layers(self):
        """Every layer of the model, Input layers included, in the order they are run."""
        return list(self._layers)

    @property
    def operations(self):
        """The layers and the recorded ``keras.ops`` calls (:class:`Operation`), in order."""
        return list(self._operations)

    @property
    def input_shape(self):
        """The inputs' shapes (batch axis None): one shape for one input, else a list."""
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        """The outputs' shapes (batch axis None): one shape for one output, else a list."""
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    def build(self, input_shape=None):
        """A functional model is built when it is created."""

    def add_loss(self, loss):
        """Not for a functional model, as in Keras 3, whose losses come from its layers.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError(
            f'Functional model "{self.name}" cannot add a loss itself (Keras 3 does not '
            f"implement add_loss() for models built from inputs and outputs, and a loss of "
            f"symbolic tensors would never be computed). Add it in the call() of a layer of the "
            f"model (self.add_loss(...)), or subclass keras.Model and add it in its call()."
        )

    def call(self, inputs, training=None):
        """Run the recorded layer calls on ``inputs``: each layer gets the tensors its call
        read, and ``training`` unless the call was given its own."""
        values = {}
        for spec, value in zip(self.inputs, self._flat_inputs(inputs)):
            values[id(spec)] = _adjust_rank(as_tensor(value, spec.dtype), spec.shape)
        self._check_shapes([values[id(spec)] for spec in self.inputs])
        return self.run_graph(values, training)

    def run_graph(self, values, training=None, replace=None, call_function=None):
        """The outputs of the recorded calls, in the structure of ``outputs``.

        Args:
            values: ``{id(tensor): value}`` for each of the model's input tensors (Tensors, or
                KerasTensors to record the calls again in a new graph).
            training: passed to each call that was not given its own.
            replace: optional ``fn(layer) -> layer`` run on each layer (not on the recorded
                ``keras.ops`` calls) to get the layer that is called instead.
            call_function: optional ``fn(layer, inputs, **kwargs)`` that calls the layer.
        """

        def value_of(t):
            return values[id(t)] if isinstance(t, KerasTensor) else t

        for node in self._steps:
            arguments = nest.map_structure(value_of, node.inputs)
            layer = node.layer
            if replace is not None and not isinstance(layer, Operation):
                layer = replace(layer)
            kwargs = {key: nest.map_structure(value_of, v) for key, v in node.kwargs.items()}
            kwargs["training"] = training if node.training is None else node.training
            if call_function is not None and not isinstance(layer, Operation):
                result = call_function(layer, arguments, **kwargs)
            else:
                result = layer(arguments, **kwargs)
            for tensor, value in zip(node.output_tensors, nest.flatten(result)):
                values[id(tensor)] = value
        return nest.pack_like(self._outputs_struct, [values[id(t)] for t in self.outputs])

    def _flat_inputs(self, inputs):
        """The values for ``self.inputs``, in order, from one value, a list or a dict."""
        names = [spec.name for spec in self.inputs]
        if isinstance(inputs, dict):
            missing = [name for name in names if name not in inputs]
            if missing:
                raise ValueError(
                    f'Model "{self.name}" expects inputs named {names}; the dict it received '
                    f"has keys {sorted(inputs)} (missing: {missing})."
                )
            return [inputs[name] for name in names]
        if isinstance(inputs, (list, tuple)) and (
            len(self.inputs) > 1
            or (len(inputs) == 1 and isinstance(inputs[0], (Tensor, np.ndarray)))
        ):
            values = list(inputs)
        else:
            values = [inputs]  # one input: the value itself (nested lists are its data)
        if len(values) != len(self.inputs):
            raise ValueError(
                f'Model "{self.name}" expects {len(self.inputs)} inputs ({names}), but it '
                f"received {len(values)}. Pass a list of {len(self.inputs)} arrays, or a dict "
                f"keyed by those names."
            )
        return values

    def check_input(self, x):
        self._check_shapes(self._flat_inputs(x))

    def _check_shapes(self, values):
        for i, (spec, value) in enumerate(zip(self.inputs, values)):
            shape = _adjusted_shape(tuple(value.shape), spec.shape)
            if len(shape) != len(spec.shape) or any(
                want is not None and got is not None and want != got
                for want, got in zip(spec.shape, shape)
            ):
                raise ValueError(
                    f'Input {i} of layer "{self.name}" is incompatible with the layer: expected '
                    f"shape={spec.shape}, found shape={shape}. Give it inputs of the shape of "
                    f"keras.Input {spec.name!r} (the first axis is the batch)."
                )

    def compute_output_shape(self, input_shape):
        """The output shapes recorded when the model was defined (the batch axis None)."""
        return nest.pack_like(self._outputs_struct, [list(t.shape) for t in self.outputs])

    def get_config(self):
        """Keras 3's config of a functional model: each layer's description with its calls
        (``inbound_nodes``: the tensors each call read, as ``[layer name, call, output]``), and
        the model's inputs and outputs in the same form and structure. A ``keras.ops`` call
        between layers is described as Keras describes it: its op class (``Sum``), the
        function's keyword arguments in its config (``axis``), the tensors and other values it
        reads in its node's ``args``.
        """
        calls, counts = {}, {}  # id(node) -> which call of its layer in this model it is
        for node in self._nodes:
            calls[id(node)] = counts.get(id(node.layer), 0)
            counts[id(node.layer)] = calls[id(node)] + 1

        def history(tensor):
            return [tensor.node.layer.name, calls[id(tensor.node)], tensor.index]

        def tensor_form(tensor):
            dtype = "string" if tensor.dtype == object else tensor.dtype.name
            config = {"shape": list(tensor.shape), "dtype": dtype}
            config["keras_history"] = history(tensor)
            return {"class_name": "__keras_tensor__", "config": config}

        descriptions = []
        for layer in self._operations:
            nodes = [node for node in self._nodes if node.layer is layer]
            if isinstance(layer, Operation):
                descriptions.append(_operation_form(layer, nodes, tensor_form))
                continue
            inbound = []
            if not isinstance(layer, InputLayer):
                for node in nodes:
                    kwargs = dict(node.kwargs)
                    if isinstance(layer, Model):
                        kwargs.setdefault("mask", None)  # Keras records a model call's mask
                    if node.training is not None:
                        kwargs["training"] = node.training
                    inbound.append(
                        {
                            "args": _node_values(_positional(layer, node.inputs), tensor_form),
                            "kwargs": _node_values(kwargs, tensor_form),
                        }
                    )
            shape = None if isinstance(layer, InputLayer) else shapes_of(nodes[0].inputs)
            description = layer_config(layer, shape)
            description.update(name=layer.name, inbound_nodes=inbound)
            descriptions.append(description)
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": descriptions,
            "input_layers": _structure_form(self._inputs_struct, history),
            "output_layers": _structure_form(self._outputs_struct, history),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The model that :meth:`get_config` (or Keras 3) describes: its layers built from their
        descriptions (chainrule's classes and ``custom_objects`` only), then called as the
        ``inbound_nodes`` say, each call once the tensors it reads exist.

        Raises:
            FileFormatError: a config that does not describe a graph of layers.
        """
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise FileFormatError("A functional model's config needs a 'layers' list.")
        layers, pending = {}, []
        for description in config["layers"]:
            name = description.get("name") if isinstance(description, dict) else None
            if not isinstance(name, str) or name in layers:
                raise FileFormatError(
                    f"Each layer of a Functional model's config needs a unique 'name'; got "
                    f"{name!r:.80}."
                )
            if _is_operation_form(description):
                layers[name] = _operation_from(description)
            else:
                layers[name] = deserialize_keras_object(description, custom_objects)
            nodes = description.get("inbound_nodes") or []
            pending += [(name, index, node) for index, node in enumerate(nodes)]
        tensors = {
            (name, 0, 0): layer.output
            for name, layer in layers.items()
            if isinstance(layer, InputLayer)
        }
        while pending:
            waiting = []
            for name, index, node in pending:
                try:
                    args = _resolve_tensors(node.get("args"), tensors)
                    kwargs = _resolve_tensors(node.get("kwargs") or {}, tensors)
                    if isinstance(kwargs, dict) and kwargs.get("mask", False) is None:
                        del kwargs["mask"]  # no masking here: Keras's mask=None changes nothing
                except KeyError:
                    waiting.append((name, index, node))
                    continue
                if args == [] and isinstance(kwargs, dict) and isinstance(layers[name], Layer):
                    args = _input_by_keyword(layers[name], kwargs)
                if isinstance(layers[name], _OperationCall):
                    outputs = layers[name](args, kwargs)
                    for tensor in nest.flatten(outputs):
                        if isinstance(tensor, KerasTensor):
                            tensor.node.layer.name = name  # the name the config gives it
                elif not isinstance(args, list) or not args:
                    raise FileFormatError(
                        f"Layer {name!r} is called with {args!r:.200}: a layer call's 'args' "
                        f"is a list of its positional arguments, the input first."
                    )
                else:
                    check_build(layers[name], shapes_of(args[0] if len(args) == 1 else args))
                    outputs = layers[name](*args, **kwargs)
                for i, tensor in enumerate(nest.flatten(outputs)):
                    tensors[(name, index, i)] = tensor
            if len(waiting) == len(pending):
                raise FileFormatError(
                    f"The calls of layers {sorted({name for name, _, _ in waiting})} read "
                    f"tensors that no layer of the config produces."
                )
            pending = waiting
        try:
            inputs = _resolve_tensors(config.get("input_layers"), tensors, history=True)
            outputs = _resolve_tensors(config.get("output_layers"), tensors, history=True)
        except KeyError as err:
            raise FileFormatError(
                f"The model's inputs or outputs name {err}, not a tensor of its layers."
            ) from err
        return cls(
            inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True)
        )

    def _summary_rows(self):
        return functional_rows(self)


# The Keras modules of op classes, by the chainrule.keras.ops module of the function.
OPS_MODULES = {"core", "image", "linalg", "math", "nn", "numpy"}


def _operation_form(operation, nodes, tensor_form):
    """Keras's description of a recorded ``keras.ops`` call: ``{"module":
    "keras.src.ops.<family>", "class_name": "Sum", "config": {"name", keyword arguments...},
    "registered_name": "Sum", "name", "inbound_nodes"}``. The function's parameters that have a
    default and are given a value other than a tensor are its config (Keras's op constructor
    arguments); the others are the node's ``args`` (and ``kwargs`` for a tensor given to a
    parameter with a default)."""
    function = operation.function
    family = getattr(function, "__module__", "").rsplit(".", 1)[-1]
    module = f"keras.src.ops.{family if family in OPS_MODULES else 'numpy'}"
    config, inbound = {"name": operation.name}, []
    for node in nodes:
        args, kwargs = node.inputs
        try:
            bound = inspect.signature(function).bind(*args, **kwargs)
        except (TypeError, ValueError):  # an operator (x + 1): its operands are the args
            positional, named, options = list(args), dict(kwargs), {}
        else:
            positional, named, options = [], {}, {}
            for parameter in bound.signature.parameters.values():
                if parameter.name not in bound.arguments:
                    continue
                value = bound.arguments[parameter.name]
                has_tensor = any(isinstance(t, KerasTensor) for t in nest.flatten(value))
                if parameter.default is inspect.Parameter.empty and not named:
                    positional.append(value)
                elif has_tensor:
                    named[parameter.name] = value
                else:
                    options[parameter.name] = value
        config.update(serialize_keras_object(options))
        inbound.append(
            {
                "args": _node_values(positional, tensor_form),
                "kwargs": _node_values(named, tensor_form),
            }
        )
    kind = type(operation).__name__
    return {
        "module": module,
        "class_name": kind,
        "config": config,
        "registered_name": kind,
        "name": operation.name,
        "inbound_nodes": inbound,
    }


def _positional(layer, inputs):
    """A layer call's positional arguments as Keras records them: ``layer(a, b)``'s two, or
    the one input (a tensor, or a list or dict of them). A layer whose ``__call__`` gathers
    several tensors into one list input (``MultiHeadAttention(query, value)``) says so with
    ``spreads_inputs``, and Keras records them as its positional arguments too."""
    if isinstance(inputs, PositionalArguments) or getattr(layer, "spreads_inputs", False):
        return list(inputs)
    return [inputs]


def _node_values(values, tensor_form):
    """A node's arguments as Keras writes them: tensors by history, slices as ``__slice__``,
    tuples as lists."""
    if isinstance(values, KerasTensor):
        return tensor_form(values)
    if isinstance(values, slice):
        return {
            "class_name": "__slice__",
            "config": {"start": values.start, "stop": values.stop, "step": values.step},
        }
    if isinstance(values, dict):
        return {key: _node_values(value, tensor_form) for key, value in values.items()}
    if isinstance(values, (list, tuple)):
        return [_node_values(value, tensor_form) for value in values]
    return serialize_keras_object(values)


def _input_by_keyword(layer, kwargs):
    """The positional arguments of a recorded call whose ``args`` are empty: Keras writes
    ``layer(logits=x, targets=t)`` so, and the input is then the keyword argument named after
    the first parameter of the layer's ``call`` (taken out of ``kwargs``)."""
    first = layer._first_call_parameter()
    return [kwargs.pop(first)] if first in kwargs else []


def _is_operation_form(description):
    module = description.get("module") if isinstance(description, dict) else None
    return isinstance(module, str) and module.startswith("keras.src.ops.")


class _OperationCall:
    """A ``keras.ops`` function named by a config, with the keyword arguments of its config;
    called with a node's resolved ``(args, kwargs)``."""

    def __init__(self, function, options, name):
        self.function, self.options, self.name = function, options, name

    def __call__(self, args, kwargs):
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise FileFormatError(
                f"The op {self.name!r} is called with args {args!r:.100} and kwargs "
                f"{kwargs!r:.100}: expected a list and a dict."
            )
        if self.function is keras_ops.get_item and len(args) == 2 and isinstance(args[1], list):
            args = [args[0], tuple(args[1])]  # Keras writes an index tuple as a list
        try:
            return self.function(*args, **self.options, **kwargs)
        except (TypeError, ValueError, IndexError) as err:
            raise FileFormatError(f"Cannot call the op {self.name!r} of the config: {err}") from err


def _operation_from(description):
    """The :class:`_OperationCall` of an op description: only a public ``keras.ops`` function,
    found by the op class's name in snake case (``Sum`` -> ``sum``), is ever called."""
    class_name, config = description.get("class_name"), description.get("config")
    name = snake_case(class_name) if isinstance(class_name, str) else None
    function = getattr(keras_ops, name, None) if name in _public_ops() else None
    if function is None or not isinstance(config, dict):
        raise FileFormatError(
            f"The config calls an op {class_name!r:.80} that chainrule does not have (its "
            f"keras.ops functions are {len(_public_ops())}, by name in snake case)."
        )
    options = {key: value for key, value in config.items() if key != "name"}
    return _OperationCall(function, _resolve_tensors(options, {}), description.get("name"))


def _public_ops():
    return {
        name
        for module in (
            keras_ops.core,
            keras_ops.image,
            keras_ops.linalg,
            keras_ops.math,
            keras_ops.nn,
            keras_ops.numpy,
        )
        for name in getattr(module, "__all__", ())
    }


def _structure_form(structure, history):
    """The model's inputs or outputs as Keras writes them: ``[layer name, call, output]`` for
    each tensor, in the structure given (one, a list or a dict)."""
    if isinstance(structure, KerasTensor):
        return history(structure)
    if isinstance(structure, dict):
        return {key: _structure_form(value, history) for key, value in structure.items()}
    return [_structure_form(value, history) for value in structure]


def _resolve_tensors(value, tensors, history=False):
    """``value`` with each tensor description (``__keras_tensor__``, or with ``history`` a
    ``[layer name, call, output]`` triple) replaced by the tensor of ``tensors`` it names.

    Raises:
        KeyError: a tensor not (yet) in ``tensors``.
    """
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return tensors[tuple(value.get("config", {}).get("keras_history") or ())]
        if value.get("class_name") == "__slice__":
            bounds = value.get("config") or {}
            parts = [bounds.get(key) for key in ("start", "stop", "step")]
            if not all(part is None or type(part) is int for part in parts):
                raise FileFormatError(f"A slice holds integers or null; got {bounds!r:.100}")
            return slice(*parts)
        return {key: _resolve_tensors(item, tensors, history) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        if history and len(value) == 3 and isinstance(value[0], str):
            return tensors[tuple(value)]
        return [_resolve_tensors(item, tensors, history) for item in value]
    return value


def _symbolic(structure, role):
    """The KerasTensors of ``structure``, flattened, checking that they all are."""
    flat = nest.flatten(structure)
    wrong = [type(t).__name__ for t in flat if not isinstance(t, KerasTensor)]
    if wrong or not flat:
        raise TypeError(
            f"Model({role}=...): every element must be a symbolic tensor (from keras.Input, "
            f"or a layer called on one); got {', '.join(wrong) or 'nothing'}. "
            + (
                "Define the model's inputs with keras.Input(shape=...)."
                if role == "inputs"
                else "Compute the outputs by calling layers on the inputs."
            )
        )
    return flat


def _ordered_nodes(inputs, outputs):
    """The layer calls between ``inputs`` and ``outputs``, each after those it reads from.

    A depth-first walk back from the outputs with an explicit stack; it stops at the model's
    inputs, and an ``Input`` reached that is not one of them disconnects the graph.
    """
    input_ids = {id(t) for t in inputs}
    order, expanded = [], set()
    stack = [(t, None, False) for t in reversed(outputs)]
    while stack:
        tensor, consumer, inputs_done = stack.pop()
        node = tensor.node
        if inputs_done:
            order.append(node)
            continue
        if id(tensor) in input_ids or id(node) in expanded:
            continue
        if isinstance(node.layer, InputLayer):
            where = f"at layer '{consumer}'" if consumer else "(it is an output of the model)"
            raise ValueError(
                f"Graph disconnected: cannot find parent for tensor {tensor!r} {where}. It "
                f"comes from the Input '{node.layer.name}', which is not among the model's "
                f"inputs {[t.name for t in inputs]}. Add it to inputs=, or compute the outputs "
                f"from the model's inputs only."
            )
        expanded.add(id(node))
        stack.append((tensor, consumer, True))
        stack.extend((t, node.layer.name, False) for t in reversed(node.read_tensors))
    return order


def _keras_operation_order(inputs, outputs):
    """The model's layers and ops in Keras 3's order, which numbers their saved weights
    (``layers/dense_2``...) and orders the config: by depth, those farthest from the outputs
    first, where a call's depth is one more than the deepest call that reads its output and a
    layer's is its deepest call's; ties in the order a depth-first walk back from each output
    (in turn) first meets them. The Input layers of ``inputs`` come first.
    """
    input_ids = {id(t) for t in inputs}
    visits, finished, post_order = {}, set(), []
    for output in outputs:
        stack = [(output, False)]
        while stack:
            tensor, expanded = stack.pop()
            node = tensor.node
            if id(node) in finished:
                continue
            if expanded:
                finished.add(id(node))
                post_order.append(node)
                continue
            is_input = isinstance(node.layer, InputLayer)
            if id(tensor) in input_ids and not is_input:
                finished.add(id(node))  # the model starts here: what made it is outside
                continue
            visits.setdefault(id(node.layer), (len(visits), node.layer))
            stack.append((tensor, True))
            if not is_input:
                stack.extend((t, False) for t in reversed(node.read_tensors))
    in_graph = {id(node) for node in post_order}
    node_depth, depths = {}, {}
    for node in reversed(post_order):
        depth = max(node_depth.setdefault(id(node), 0), depths.get(id(node.layer), 0))
        depths[id(node.layer)] = node_depth[id(node)] = depth
        if not isinstance(node.layer, InputLayer):
            for tensor in node.read_tensors:
                if id(tensor.node) in in_graph:
                    node_depth[id(tensor.node)] = max(depth + 1, node_depth.get(id(tensor.node), 0))
    for tensor in inputs:
        layer = tensor.node.layer
        if id(layer) not in depths and isinstance(layer, InputLayer):
            depths[id(layer)], visits[id(layer)] = 0, (-1, layer)
    ranked = sorted(depths, key=lambda key: (-depths[key], visits[key][0]))
    return [visits[key][1] for key in ranked]


def _check_unique_names(layers):
    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(
                f'The name "{name}" is used {names.count(name)} times in the model. All layer '
                f"names should be unique: give the layers different name= arguments."
            )
