"""``keras.layers.Pipeline``: preprocessing layers applied one after another."""

from ... import registry
from ...saving.serialization import deserialize_layer, serialize_layer
from ..base import Layer


@registry.serializable("keras.layers")
class Pipeline(Layer):
    """Applies ``layers`` in order, y = f_k(... f_2(f_1(x))), each called with the
    pipeline's ``training`` (default True, as the augmentation layers it is made for). Unlike a
    ``Sequential`` model it is a layer: it can be mapped over a ``Dataset`` or placed in a model.

    Args:
        layers: the layers, first applied first.
        name: the layer's name.

    Example:
        >>> augment = Pipeline([RandomFlip("horizontal"), RandomRotation(0.1)])
        >>> dataset.map(lambda x, y: (augment(x), y))
    """

    def __init__(self, layers, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._pipeline_layers = list(layers)

    @property
    def layers(self):
        return self._pipeline_layers

    def build(self, input_shape):
        """Build each layer for the shape the one before it gives, as Keras does (so that each
        is saved with its ``build_config``)."""
        for layer in self._pipeline_layers:
            if not layer.built:
                layer.build(input_shape)
                layer.built, layer._build_shape = True, tuple(input_shape)
            input_shape = layer.compute_output_shape(input_shape)
        self.built = True

    def call(self, inputs, training=True):
        for layer in self._pipeline_layers:
            inputs = layer(inputs, training=training)
        return inputs

    def compute_output_shape(self, input_shape):
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self):
        """Keras 3's config of a Pipeline: its layers and its name only."""
        return {
            "layers": [serialize_layer(layer) for layer in self._pipeline_layers],
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "Pipeline: the config must hold `layers`, a list of serialized layers. "
                f"Received: layers={layers!r:.80}"
            )
        layers = [deserialize_layer(layer) for layer in layers]
        return cls(**{**config, "layers": layers})
