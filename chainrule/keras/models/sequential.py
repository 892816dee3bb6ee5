"""Sequential: a plain stack of layers, each feeding the next.

Once its input shape is known (an ``Input`` first, ``input_shape=`` on the first layer, ``build``
or a first batch of data) the model calls its layers on a symbolic input, as a functional model
would: that builds them, gives each layer its ``input`` and ``output``, and the model its
``inputs`` and ``outputs`` (for a feature extractor: ``keras.Model(model.inputs,
[layer.output for layer in model.layers])``).
"""

from .. import registry
from ..keras_tensor import KerasTensor, knows_output_shape, sample_output_shapes, unique_name
from ..layers.base import Layer
from ..layers.core import InputLayer
from ..saving.serialization import (
    FileFormatError,
    check_build,
    check_shape,
    deserialize_keras_object,
    dtype_policy,
    from_description,
    layer_config,
    resolve,
)
from .model import Model
from .summary import sequential_rows


@registry.serializable("keras.models")
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
        self._graph = None  # (input, output) KerasTensors of the layers' calls, once built
        for layer in layers or []:
            self.add(layer, rebuild=False)
        if self._layers and self._layers[0].batch_input_shape is not None:
            self.build(self._layers[0].batch_input_shape)  # once: linear in the layer count

    @property
    def layers(self):
        """The layers, without the input placeholder (as Keras lists them)."""
        return [layer for layer in self._layers if not isinstance(layer, InputLayer)]

    def add(self, layer, rebuild=True):
        """Append a layer (or, first, a ``keras.Input``); builds the model when the input shape
        is known, unless ``rebuild`` is False (adding many layers, build once at the end)."""
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
            if rebuild:
                self.build(first.batch_input_shape)

    def pop(self, rebuild=True):
        """Remove the last layer and return it; the model is built again (when its input shape
        is known) unless ``rebuild`` is False.

        Raises:
            IndexError: a model with no layers left.
        """
        if not self.layers:
            raise IndexError(
                f'Sequential model "{self.name}" has no layers to pop. Add one with add().'
            )
        layer = self._layers.pop()
        self._forget_graph()
        self.built = False
        if rebuild and self.batch_input_shape is not None:
            self.build(self.batch_input_shape)
        return layer

    def build(self, input_shape=None):
        """Call every layer in turn on a symbolic input of ``input_shape``, which builds it."""
        shape = tuple(input_shape if input_shape is not None else self.batch_input_shape)
        if self.batch_input_shape is None:  # built from data: remember the shape, to save it
            self.batch_input_shape = shape
        first = self._layers[0] if self._layers else None
        if isinstance(first, InputLayer) and first.batch_input_shape == shape:
            x = first.output
        else:
            x = InputLayer(batch_shape=shape, dtype=self.dtype).output
        self._forget_graph()
        inputs, self._output_shapes = x, []
        for layer in self.layers:
            x = layer(x)
            self._output_shapes.append(tuple(x.shape) if isinstance(x, KerasTensor) else x)
        self._graph = (inputs, x)
        if self.layers:  # Keras makes a functional model of the layers here, which takes a name
            unique_name("functional")
        self.built = True

    def _forget_graph(self):
        """Drop the layer calls of the last build, so that ``layer.output`` is this build's."""
        if self._graph is not None:
            stale = {id(node) for node in self._graph_nodes()}
            for layer in self._layers:
                nodes = vars(layer).get("_inbound_nodes", [])
                nodes[:] = [node for node in nodes if id(node) not in stale]
        self._graph = None

    def _graph_nodes(self):
        """The nodes between the built graph's input and output (a chain, one per layer)."""
        found, tensor = [], self._graph[1]
        while isinstance(tensor, KerasTensor) and tensor is not self._graph[0]:
            found.append(tensor.node)
            tensor = tensor.node.input_tensors[0] if tensor.node.input_tensors else None
        return found

    @property
    def inputs(self):
        """The symbolic input of the built model, in a list (as a functional model's)."""
        return [self._built_graph("inputs")[0]]

    @property
    def outputs(self):
        """The symbolic output of the built model, in a list."""
        return [self._built_graph("outputs")[1]]

    @property
    def input_shape(self):
        return self._built_graph("input shape")[0].shape

    @property
    def output_shape(self):
        return self._built_graph("output shape")[1].shape

    def _built_graph(self, what):
        if self._graph is None:
            raise AttributeError(
                f"Sequential model '{self.name}' has no defined {what} yet: give it an input "
                f"shape (keras.Input first, or model.build((None, ...))), or call it on data."
            )
        return self._graph

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

    def _summary_rows(self):
        return sequential_rows(self)

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

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    def get_config(self):
        """Keras 3's config: name, trainable, dtype, each layer's description (an InputLayer
        first when the input shape is known) and ``build_input_shape``."""
        configs = [
            layer_config(layer, shape) for layer, shape in zip(self.layers, self._input_shapes())
        ]
        first = self._layers[0] if self._layers else None
        if isinstance(first, InputLayer):
            configs.insert(0, layer_config(first))
        elif self.batch_input_shape is not None:
            input_layer = InputLayer(batch_shape=self.batch_input_shape, name="input_layer")
            configs.insert(0, layer_config(input_layer))
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": dtype_policy(self.dtype),
            "layers": configs,
        }
        if self.batch_input_shape is not None:
            config["build_input_shape"] = list(self.batch_input_shape)
        return config

    def _input_shapes(self):
        """The input shape of each of ``layers`` (None for all while the input is unknown)."""
        shape = self.batch_input_shape
        if shape is None:
            return [None] * len(self.layers)
        shapes = []
        for layer in self.layers:
            shapes.append(tuple(shape))
            shape = (  # a layer without a shape rule of its own (a user's) is run to find it
                layer.compute_output_shape(shape)
                if knows_output_shape(layer)
                else sample_output_shapes(layer, shape)
            )
        return shapes

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The model ``get_config()`` describes, built when its input shape is known; only
        chainrule's own layer classes (and ``custom_objects``) are built.

        Raises:
            FileFormatError: a config that does not describe a Sequential model of layers.
        """
        return cls.from_parts(*cls.parts_from_config(config, custom_objects))

    @classmethod
    def parts_from_config(cls, config, custom_objects=None):
        """The layers of a config, built from their configs but not yet built (so that their
        weights can be checked against a file before any is created).

        An ``InputLayer`` comes first whenever the input shape is known (from the config's own
        InputLayer or its ``build_input_shape``), so that :meth:`from_parts` builds the model.

        Returns:
            (name, trainable, layers).
        """
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise FileFormatError(
                "A Sequential config (a nested model's too) needs a 'layers' list."
            )
        name = config.get("name")
        if name is not None and not isinstance(name, str):
            raise FileFormatError(f"A model's name must be a string; got {name!r:.200}")
        if config.get("dtype") is not None:
            deserialize_keras_object(config["dtype"])  # a policy chainrule cannot honour fails
        built = []
        for index, description in enumerate(config["layers"]):
            layer_class = resolve(description, f"Layer {index} of the model", custom_objects)
            if not issubclass(layer_class, Layer):
                raise FileFormatError(
                    f"Layer {index} of the model is a {layer_class.__name__}; a Sequential model "
                    f"holds layers (nested models included)."
                )
            if issubclass(layer_class, Model):  # a nested model, built from its own config
                built.append(deserialize_keras_object(description, custom_objects))
                continue
            built.append(from_description(layer_class, description, custom_objects))
        if any(isinstance(layer, InputLayer) for layer in built[1:]):
            raise FileFormatError(
                "An InputLayer can only be the first layer of a Sequential model."
            )
        shape = config.get("build_input_shape")
        if shape is not None and not (built and isinstance(built[0], InputLayer)):
            shape = check_shape(shape, "build_input_shape")
            built.insert(0, InputLayer(batch_shape=shape))
        if built and isinstance(built[0], InputLayer):
            check_shape(built[0].batch_input_shape, "The InputLayer's batch_shape")
        return name, bool(config.get("trainable", True)), built

    @classmethod
    def from_parts(cls, name, trainable, layer_list):
        """The model of :meth:`parts_from_config`'s parts, built when the first layer is an
        InputLayer; a layer that rejects the shapes it receives makes a FileFormatError."""
        if layer_list and isinstance(layer_list[0], InputLayer):
            shape = layer_list[0].batch_input_shape
            for layer in layer_list[1:]:
                check_build(layer, shape)  # when a file is read: its weights are there
                shape = layer.compute_output_shape(shape)
        for layer in layer_list:
            # Keras builds each layer of a config on its own before the model holds it, so
            # their variables have top-level paths (dense/kernel, not sequential/dense/kernel)
            if layer.__dict__.get("_parent_path") is None:
                object.__setattr__(layer, "_parent_path", "")
        try:
            return cls(layer_list, name=name, trainable=trainable)
        except (TypeError, ValueError) as err:
            raise FileFormatError(f"Cannot assemble the Sequential model {name!r}: {err}") from err
