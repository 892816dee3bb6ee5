"""The Layer: weights created lazily from the first input, a forward ``call``, and Keras's API
around it (names, ``get_weights``/``set_weights``, ``get_config``)."""

import inspect

import numpy as np

from ... import nest
from ...engine import ShapeError, Tensor, as_array
from ...ops import cast
from ...variables import Variable
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import regularizers as regularizers_module
from ..keras_tensor import is_symbolic, passes_shape_through, symbolic_call, unique_name
from ..keras_tensor import reset_names as reset_names  # keras.backend.clear_session's
from ..saving.serialization import deserialize_config, dtype_policy, serialize_keras_object
from ..utils import snake_case
from ..variables import Variable as KerasVariable


def as_tensor(x, dtype):
    """Layer inputs as a Tensor of the layer's floating dtype (Keras autocasts floats)."""
    if not isinstance(x, Tensor):
        x = Tensor(as_array(x))
    if x.dtype != dtype and x.dtype.kind in "fiub":
        x = cast(x, dtype=dtype)
    return x


class Layer:
    """Base class of every layer.

    Subclasses create their weights in ``build(input_shape)`` with :meth:`add_weight` (called once,
    on the first input, so a layer need not be told its input size) and compute in
    ``call(inputs)`` with Tensor ops, whose gradients come from the engine.

    Layers and Variables assigned to attributes (also inside lists, tuples and dicts) are
    tracked: their weights and losses are this layer's too, in the order they were assigned.
    Called on ``keras.Input`` tensors, a layer records the call instead of computing (the
    functional API).

    Args:
        name: the layer's name (default: the class name in snake_case, made unique).
        trainable: whether its weights are updated by training.
        dtype: the dtype of its weights and computations (default float32).
        input_shape: the shape of one sample, for a first layer (``input_shape=(784,)``).
    """

    _call_takes_training = {}

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None, **kwargs):
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_size = kwargs.pop("batch_size", None)
        if kwargs:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if input_shape is None and input_dim is not None:
            input_shape = (input_dim,)
        if input_shape is not None:
            batch_input_shape = (batch_size,) + tuple(input_shape)
        self.batch_input_shape = None if batch_input_shape is None else tuple(batch_input_shape)
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.trainable = trainable
        self.dtype = np.dtype(dtype or "float32")
        self.built = False
        self._weights = []
        self._regularized = []
        self._activity_losses = []

    # ----- weights -----------------------------------------------------------------------------
    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable=True,
        regularizer=None,
        constraint=None,
        name=None,
    ):
        """Create a weight of ``shape``, initialised by ``initializer`` (default glorot_uniform)."""
        shape = tuple(shape or ())
        dtype = np.dtype(dtype or self.dtype)
        initializer = initializers_module.get(initializer or "glorot_uniform")
        variable = KerasVariable(
            initializer, shape=shape, dtype=dtype, trainable=trainable, name=name
        )
        variable.path = f"{self.name}/{name}"
        variable.constraint = constraints_module.get(constraint)
        self._weights.append(variable)
        if regularizer is not None:
            self._regularized.append((regularizers_module.get(regularizer), variable))
        return variable

    # ----- tracking of sublayers and variables -------------------------------------------------
    def __setattr__(self, name, value):
        tracked = self.__dict__.get("_tracked")
        if (
            isinstance(value, Layer)
            or (isinstance(value, Variable) and not _is_own_weight(self, value))
            or (nest.is_nested(value) and _holds_trackables(name, value))
        ):
            if "built" not in self.__dict__:
                raise RuntimeError(
                    f"{type(self).__name__}.__init__ assigns {name!r} before calling "
                    f"super().__init__(): call super().__init__() first, so that the layers and "
                    f"variables assigned to attributes are tracked."
                )
            if tracked is None:
                tracked = {}
                object.__setattr__(self, "_tracked", tracked)
            tracked[name] = None
        elif tracked and name in tracked:
            del tracked[name]
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        tracked = self.__dict__.get("_tracked")
        if tracked and name in tracked:
            del tracked[name]
        object.__delattr__(self, name)

    def _tracked_values(self):
        """The Layers and Variables held by attributes, in assignment order (lists read now)."""
        for name in self.__dict__.get("_tracked", ()):
            value = self.__dict__[name]
            if isinstance(value, (Layer, Variable)):
                yield value
                continue
            for leaf in nest.flatten(value):
                if isinstance(leaf, (Layer, Variable)):
                    yield leaf

    def _sublayers(self):
        """The layers this layer holds directly, in the order they were assigned, each once."""
        if not self.__dict__.get("_tracked"):
            return []
        found = {}
        for value in self._tracked_values():
            if isinstance(value, Layer) and value is not self:
                found.setdefault(id(value), value)
        return list(found.values())

    def _own_weights(self):
        """The weights of this layer itself: ``add_weight``'s, then Variables in attributes."""
        if not self.__dict__.get("_tracked"):
            return self._weights
        own = list(self._weights)
        ids = {id(w) for w in own}
        for value in self._tracked_values():
            if isinstance(value, Variable) and id(value) not in ids:
                ids.add(id(value))
                own.append(value)
        return own

    @property
    def weights(self):
        """Every weight: the layer's own, then its sublayers' (depth first), each once."""
        return _collect_weights(self, "all")

    @property
    def trainable_weights(self):
        """The weights training updates: none in (or below) a layer with trainable=False."""
        return _collect_weights(self, "trainable")

    @property
    def non_trainable_weights(self):
        return _collect_weights(self, "non_trainable")

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def get_weights(self):
        """The weights as a list of NumPy arrays (copies), in creation order."""
        return [w.numpy().copy() for w in self.weights]

    def set_weights(self, weights):
        """Set the weights from a list of arrays of the same shapes, in ``get_weights`` order."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"Layer {self.name!r} expects {len(own)} weights, but set_weights received "
                f"{len(weights)}."
            )
        for variable, value in zip(own, weights):
            value = np.asarray(value)
            if value.shape != variable.shape:
                raise ValueError(
                    f"Layer {self.name!r}: weight {variable.name!r} has shape {variable.shape}, "
                    f"but set_weights received an array of shape {value.shape}."
                )
        for variable, value in zip(own, weights):
            variable.assign(value)

    def count_params(self):
        """The number of scalar weights (the layer must be built)."""
        if not self.built:
            raise ValueError(
                f"Layer {self.name!r} is not built yet, so its weights do not exist: call it on "
                f"data or give the model an input_shape first."
            )
        return int(sum(w.size for w in self.weights))

    @property
    def losses(self):
        """Penalties to add to the loss: weight and activity regularizers, the sublayers' too."""
        found = []
        for layer in _walk_layers(self):
            found += [regularizer(variable) for regularizer, variable in layer._regularized]
            found += layer._activity_losses
        return found

    # ----- forward -----------------------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (the batch axis included, as None)."""
        self.built = True

    def call(self, inputs, training=None):
        return inputs

    @passes_shape_through
    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def __call__(self, inputs, training=None, **kwargs):
        if is_symbolic(inputs):
            return symbolic_call(self, inputs, training, kwargs)
        if nest.is_nested(inputs):  # several inputs: build(input_shape) gets their shapes
            x = nest.map_structure(lambda value: as_tensor(value, self.dtype), inputs)
        else:
            x = as_tensor(inputs, self.dtype)
        if not self.built:
            shape = _batch_shapes(x)
            self.build(shape)
            self.built = True
            self._build_shape = shape
        self.check_input(x)
        if self._takes_training():
            return self.call(x, training=training, **kwargs)
        return self.call(x, **kwargs)

    @property
    def input(self):
        """The symbolic input(s) of the layer's first call on KerasTensors (a list when it read
        several): what ``keras.Model(inputs=..., outputs=layer.output)`` starts from."""
        return _first_call(self, "input")

    @property
    def output(self):
        """The symbolic output(s) of the layer's first call on KerasTensors, for a feature
        extractor: ``keras.Model(model.inputs, [layer.output for layer in model.layers])``."""
        return _first_call(self, "output")

    def check_input(self, x):
        """Raise a clear error if ``x`` cannot be an input of this (built) layer."""

    def _takes_training(self):
        cls = type(self)
        takes = Layer._call_takes_training.get(cls)
        if takes is None:
            takes = "training" in inspect.signature(cls.call).parameters
            Layer._call_takes_training[cls] = takes
        return takes

    def incompatible(self, x, rule):
        """The error for an input that breaks ``rule`` (Keras's wording, with the shapes)."""
        return ShapeError(
            f'Input 0 of layer "{self.name}" is incompatible with the layer: {rule}, but '
            f"received input with shape {tuple(x.shape)}."
        )

    # ----- configuration -----------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": str(self.dtype)}
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        """The layer ``get_config()`` describes; nested descriptions (initializers,
        regularizers...) are built from chainrule's own classes only."""
        return cls(**deserialize_config(config))

    def get_keras_config(self):
        """``get_config()`` as Keras 3 writes it in a file: nested objects described, the dtype
        as a ``DTypePolicy``, and no ``batch_input_shape`` (a Sequential model writes an
        InputLayer instead)."""
        config = serialize_keras_object(self.get_config())
        config.pop("batch_input_shape", None)
        if isinstance(config.get("dtype"), str):
            config["dtype"] = dtype_policy(config["dtype"])
        return config

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _first_call(layer, which):
    """The input or output KerasTensors of ``layer``'s first symbolic call (one, or a list)."""
    nodes = vars(layer).get("_inbound_nodes")
    if not nodes:
        raise AttributeError(
            f"The layer {layer.name} has never been called and thus has no defined {which}. "
            f"Call it on a keras.Input (or on the output of a layer that was) first."
        )
    node = nodes[0]
    tensors = node.input_tensors if which == "input" else node.output_tensors
    return tensors[0] if len(tensors) == 1 else tensors


def _is_own_weight(layer, variable):
    """Whether ``variable`` came from the layer's ``add_weight`` (``self.kernel = ...``)."""
    return any(variable is w for w in layer.__dict__.get("_weights", ()))


def _holds_trackables(name, value):
    """Whether a container assigned to attribute ``name`` is tracked: when it holds a Layer or
    Variable, or is a public empty container (``self.blocks = []``, filled later)."""
    if not value:
        return not name.startswith("_")
    return any(isinstance(v, (Layer, Variable)) for v in nest.flatten(value))


def _batch_shapes(x):
    """The shape (batch axis None) of a Tensor, or the list/dict of shapes of several."""
    if isinstance(x, dict):
        return {key: _batch_shapes(value) for key, value in x.items()}
    if isinstance(x, (list, tuple)):
        return [_batch_shapes(value) for value in x]
    return (None,) + tuple(x.shape[1:])


def _walk_layers(root):
    """``root`` and every layer below it, depth first in tracking order, each once."""
    order, visited, stack = [], set(), [root]
    while stack:
        layer = stack.pop()
        if id(layer) in visited:
            continue
        visited.add(id(layer))
        order.append(layer)
        stack.extend(reversed(layer._sublayers()))
    return order


def _collect_weights(root, which):
    """The weights of ``root`` and its sublayers, each once: "all", "trainable" (skipping any
    layer with trainable=False and what is below it) or "non_trainable" (the rest)."""
    found, seen, visited = [], set(), set()
    stack = [(root, root.trainable)]
    while stack:
        layer, trainable = stack.pop()
        if id(layer) in visited:
            continue
        visited.add(id(layer))
        for w in layer._own_weights():
            kept = which == "all" or (which == "trainable") == (trainable and w.trainable)
            if kept and id(w) not in seen:
                seen.add(id(w))
                found.append(w)
        stack.extend((sub, trainable and sub.trainable) for sub in reversed(layer._sublayers()))
    return found
