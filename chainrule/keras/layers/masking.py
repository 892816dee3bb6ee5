"""Masking: mark the time steps whose features all equal a value as padding."""

from ... import ops
from ...engine import Tensor
from .. import registry
from ..losses import set_keras_mask
from .base import Layer


@registry.serializable("keras.layers")
class Masking(Layer):
    """Skip the time steps where every feature equals ``mask_value``.

    For inputs x (batch, time, features): m[b, t] = any_f(x[b, t, f] != mask_value), the
    outputs y = x * m[..., None] (the masked steps set to 0) carry the mask m, and mask-aware
    layers after it (LSTM, GRU, losses...) skip the steps where m is False. dL/dx = g * m.

    Args:
        mask_value: the padding value (default 0.0).
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def _step_mask(self, inputs):
        inputs = inputs if isinstance(inputs, Tensor) else Tensor(inputs)
        return ops.max(ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        mask = self._step_mask(inputs)
        outputs = inputs * ops.expand_dims(ops.cast(mask, dtype=inputs.dtype), axis=-1)
        set_keras_mask(outputs, mask)
        return outputs

    def compute_mask(self, inputs, mask=None):
        """m = any(x != mask_value) over the last axis."""
        return self._step_mask(inputs)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
