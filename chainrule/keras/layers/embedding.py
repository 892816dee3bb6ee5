"""Embedding: integer tokens to dense vectors, and the padding mask (``mask_zero``)."""

import warnings

from ... import ops
from ...engine import Tensor
from ...ops.recurrent import embedding_lookup
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import registry
from .. import regularizers as regularizers_module
from .base import Layer


@registry.serializable("keras.layers")
class Embedding(Layer):
    """Turn integer indices into vectors: y[..., :] = E[x[...], :].

    Shapes: x (batch, ...) of integers in [0, input_dim), E = ``embeddings``
    (input_dim, output_dim), y = x.shape + (output_dim,). dL/dE adds the gradient of each output
    vector to the row of E it was read from (from the ``embedding_lookup`` primitive); the
    indices get no gradient.

    Args:
        input_dim: the vocabulary size (largest index + 1).
        output_dim: the size of each vector.
        embeddings_initializer: default ``"uniform"`` (uniform in [-0.05, 0.05]), as in Keras.
        embeddings_regularizer, activity_regularizer: penalties added to the loss.
        embeddings_constraint: a projection applied after each update.
        mask_zero: whether index 0 is padding: the output then carries the mask x != 0, which
            mask-aware layers (LSTM, GRU, losses...) use to skip those steps; index 0 must then
            not be a word (input_dim is the vocabulary size + 1).
        input_length: accepted and ignored, as Keras 3 does (with a warning).

    Raises:
        ValueError: a non-positive input_dim or output_dim; an index outside [0, input_dim).
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        if kwargs.pop("input_length", None) is not None:
            warnings.warn(
                "Embedding: argument input_length is deprecated in Keras 3 and ignored; remove it.",
                stacklevel=2,
            )
        super().__init__(**kwargs)
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(
                    f"Embedding: {name} must be a positive integer; received {name}={value!r}."
                )
        if lora_rank is not None or quantization_config is not None:
            raise ValueError(
                "Embedding: chainrule does not implement LoRA or quantized embeddings; leave "
                "lora_rank and quantization_config as None."
            )
        self.input_dim, self.output_dim = input_dim, output_dim
        self.embeddings_initializer = initializers_module.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers_module.get(embeddings_regularizer)
        self.embeddings_constraint = constraints_module.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self._initial_weights = weights

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            (self.input_dim, self.output_dim),
            self.embeddings_initializer,
            name="embeddings",
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, inputs):
        # a Tensor, not its array: a traced training step then reads each batch's indices
        indices = inputs if inputs.dtype.kind in "iu" else ops.cast(inputs, dtype="int64")
        return embedding_lookup(self.embeddings, indices)

    def compute_mask(self, inputs, mask=None):
        """x != 0 (booleans of x's shape) when ``mask_zero``, else None."""
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs if isinstance(inputs, Tensor) else Tensor(inputs), 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            input_dim=self.input_dim,
            output_dim=self.output_dim,
            embeddings_initializer=initializers_module.serialize(self.embeddings_initializer),
            embeddings_regularizer=regularizers_module.serialize(self.embeddings_regularizer),
            activity_regularizer=regularizers_module.serialize(self.activity_regularizer),
            embeddings_constraint=constraints_module.serialize(self.embeddings_constraint),
            mask_zero=self.mask_zero,
            quantization_config=None,
        )
        return config
