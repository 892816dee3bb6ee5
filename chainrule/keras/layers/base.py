"""The Layer: weights created lazily from the first input, a forward ``call``, and Keras's API
around it (names, ``get_weights``/``set_weights``, ``get_config``)."""

import inspect
import re

import numpy as np

from ...engine import ShapeError, Tensor, as_array
from ...ops import cast
from ...variables import Variable
from .. import initializers as initializers_module
from .. import regularizers as regularizers_module

_name_counts = {}


def unique_name(prefix):
    """``prefix``, then ``prefix_1``, ``prefix_2``... as Keras names layers and models."""
    count = _name_counts.get(prefix, 0)
    _name_counts[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_names():
    """Forget the names handed out so far (``keras.backend.clear_session()``)."""
    _name_counts.clear()


def snake_case(name):
    return re.sub(r"(?<!^)(?=[A-Z][a-z])|(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


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
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                   regularizer=None, constraint=None, name=None):
        """Create a weight of ``shape``, initialised by ``initializer`` (default glorot_uniform)."""
        shape = tuple(shape or ())
        dtype = np.dtype(dtype or self.dtype)
        initializer = initializers_module.get(initializer or "glorot_uniform")
        variable = Variable(initializer(shape, dtype=dtype), trainable=trainable, name=name)
        variable.path = f"{self.name}/{name}"
        variable.constraint = constraint
        self._weights.append(variable)
        if regularizer is not None:
            self._regularized.append((regularizers_module.get(regularizer), variable))
        return variable

    @property
    def weights(self):
        return list(self._weights)

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for w in self._weights if w.trainable]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return list(self._weights)
        return [w for w in self._weights if not w.trainable]

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
        """Penalties to add to the loss: weight regularizers and activity regularizers."""
        found = [regularizer(variable) for regularizer, variable in self._regularized]
        return found + list(self._activity_losses)

    # ----- forward -----------------------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (the batch axis included, as None)."""
        self.built = True

    def call(self, inputs, training=None):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def __call__(self, inputs, training=None, **kwargs):
        x = as_tensor(inputs, self.dtype)
        if not self.built:
            self.build((None,) + tuple(x.shape[1:]))
            self.built = True
        self.check_input(x)
        if self._takes_training():
            return self.call(x, training=training, **kwargs)
        return self.call(x, **kwargs)

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
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
