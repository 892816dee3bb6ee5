"""Sequential: a plain stack of layers, each feeding the next."""

from ..layers.base import Layer
from ..layers.core import InputLayer
from ..layers.keras_tensor import KerasTensor, build_for
from .model import Model


class Sequential(Model):
    """A model that applies its layers in order: y = f_n(... f_2(f_1(x))).

    Args:
        layers: a list of layers (an ``Input``/``InputLayer`` first fixes the input shape, as
            does ``input_shape=`` on the first layer).
        name: the model's name (default ``sequential``, ``sequential_1``, ...).

    Example::

        model = Sequential([Dense(10, activation='relu', input_shape=(784,)),
                            Dense(10, activation='softmax')])
    """

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(name=name, trainable=trainable)
        self._layers = []
        self._output_shapes = []
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        """The layers, without the input placeholder (as Keras lists them)."""
        return [layer for layer in self._layers if not isinstance(layer, InputLayer)]

    def add(self, layer):
        """Append a layer (or, first, a ``keras.Input``); builds the model when the input shape
        is known."""
        if isinstance(layer, KerasTensor):
            if not isinstance(layer.node.layer, InputLayer):
                raise TypeError(
                    f"Sequential.add: a symbolic tensor is accepted only as the model's input "
                    f"(keras.Input(shape=...)); got {layer!r}, an output of layer "
                    f"{layer.node.layer.name!r}. Add the layer itself instead."
                )
            layer = layer.node.layer
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add expects a Layer instance; got {type(layer).__name__} "
                f"({layer!r}). Did you forget to call the layer class, e.g. Dense(10)?"
            )
        if isinstance(layer, InputLayer) and self._layers:
            raise ValueError("An Input can only be the first layer of a Sequential model.")
        self._layers.append(layer)
        self.built = False
        first = self._layers[0]
        if first.batch_input_shape is not None:
            self.batch_input_shape = first.batch_input_shape
            self.build(first.batch_input_shape)

    def build(self, input_shape=None):
        """Build every layer in turn, passing each output shape to the next."""
        shape = tuple(input_shape if input_shape is not None else self.batch_input_shape)
        if self.batch_input_shape is None:  # built from data: remember the shape, to save it
            self.batch_input_shape = shape
        self._output_shapes = []
        for layer in self.layers:  # each output shape from compute_output_shape, or a run
            shape, _ = build_for(layer, KerasTensor(shape, layer.dtype))
            shape = tuple(shape)
            self._output_shapes.append(shape)
        self.built = True

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.layers:
            x = layer(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        for layer in self.layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def _sublayers(self):
        return self.layers

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    @property
    def losses(self):
        return [penalty for layer in self.layers for penalty in layer.losses]

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    def get_config(self):
        """Keras 3's config: name, trainable, dtype, each layer's description (an InputLayer
        first when the input shape is known) and ``build_input_shape``."""
        from ..saving.serialization import sequential_config

        return sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The model ``get_config()`` describes, built when its input shape is known; only
        chainrule's own layer classes (and ``custom_objects``) are built."""
        from ..saving.serialization import sequential_from_config

        return sequential_from_config(config, custom_objects)
