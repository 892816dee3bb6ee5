"""Activation functions as layers: ReLU, LeakyReLU, PReLU, ELU and Softmax, with Keras 3's
arguments and defaults (note LeakyReLU's 0.3, where the ``leaky_relu`` function's is 0.2)."""

import warnings

from ... import ops
from ...engine import Tensor
from .. import activations as activations_module
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import registry
from .. import regularizers as regularizers_module
from .base import Layer


def _check_non_negative(layer, **values):
    for argument, value in values.items():
        if value is None or value < 0:
            raise ValueError(
                f"{layer}: {argument} cannot be None or negative; received {argument}={value!r}"
            )


@registry.serializable("keras.layers")
class ReLU(Layer):
    """y = max_value for x >= max_value; x for threshold < x < max_value;
    negative_slope * (x - threshold) otherwise.   dL/dx = dL/dy times 1, 0 or negative_slope.

    Args:
        max_value: the cap (default None, no cap); >= 0.
        negative_slope: the slope below ``threshold`` (default 0); >= 0.
        threshold: default 0; >= 0.
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        if max_value is not None:
            _check_non_negative("ReLU", max_value=max_value)
        _check_non_negative("ReLU", negative_slope=negative_slope, threshold=threshold)
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, inputs):
        return activations_module.relu(
            inputs,
            negative_slope=self.negative_slope,
            max_value=self.max_value,
            threshold=self.threshold,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


@registry.serializable("keras.layers")
class LeakyReLU(Layer):
    """y = x for x >= 0, negative_slope * x otherwise (Keras's layer default: 0.3).

    ``alpha=`` is accepted, with Keras's deprecation warning, as the old name of negative_slope.
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn(
                "Argument `alpha` is deprecated. Use `negative_slope` instead.", stacklevel=2
            )
        super().__init__(**kwargs)
        self.supports_masking = True
        _check_non_negative("LeakyReLU", negative_slope=negative_slope)
        self.negative_slope = negative_slope

    def call(self, inputs):
        return activations_module.leaky_relu(inputs, negative_slope=self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


@registry.serializable("keras.layers")
class PReLU(Layer):
    """Leaky ReLU with a learned slope: y = max(x, 0) - alpha * max(-x, 0).

    ``alpha`` has the shape of one sample (zeros initially, so the layer starts as a ReLU),
    with size 1 along ``shared_axes``, e.g. ``shared_axes=[1, 2]`` for one slope per channel of
    images (N, H, W, C).   dL/dalpha = -sum of dL/dy * max(-x, 0) over the shared axes.

    Args:
        alpha_initializer: default zeros.  alpha_regularizer, alpha_constraint: as for Dense.
        shared_axes: an axis or a list of axes (1-based, as the batch axis is 0) sharing alpha.
    """

    def __init__(
        self,
        alpha_initializer="zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers_module.get(alpha_initializer)
        self.alpha_regularizer = regularizers_module.get(alpha_regularizer)
        self.alpha_constraint = constraints_module.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            self.shared_axes = (
                list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            )

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis < len(input_shape):
                raise ValueError(
                    f'Layer "{self.name}" (PReLU): shared axis {axis} must be in [1, '
                    f"{len(input_shape)}) for inputs of shape {tuple(input_shape)}."
                )
            shape[axis - 1] = 1
        if None in shape:
            raise ValueError(
                f'Layer "{self.name}" (PReLU): input shape {tuple(input_shape)} has an unknown '
                f"axis outside shared_axes; alpha needs its size."
            )
        self._alpha_shape = tuple(shape)
        self.alpha = self.add_weight(
            shape,
            self.alpha_initializer,
            name="alpha",
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )
        self.built = True

    def check_input(self, x):
        sample = x.shape[1:]
        if len(sample) != len(self._alpha_shape) or any(
            a != 1 and a != n for a, n in zip(self._alpha_shape, sample)
        ):
            raise self.incompatible(
                x, f"expected samples of a shape that alpha {self._alpha_shape} broadcasts to"
            )

    def call(self, inputs):
        return ops.relu(inputs) - self.alpha * ops.relu(-inputs)

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": initializers_module.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers_module.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints_module.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }


@registry.serializable("keras.layers")
class ELU(Layer):
    """y = x for x > 0, alpha (e^x - 1) otherwise.   dL/dx = dL/dy times 1 or (y + alpha).

    Args:
        alpha: default 1.0.
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha = alpha

    def call(self, inputs):
        return activations_module.elu(inputs, alpha=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


@registry.serializable("keras.layers")
class Softmax(Layer):
    """y = e^x / sum e^x over ``axis`` (an int, or a list of axes normalized together).

    Called with ``mask=`` (1 to keep, 0 to mask, broadcastable to the inputs), the masked
    positions get -1e9 added first, so they receive (almost) zero probability.

    Args:
        axis: default -1.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis

    def call(self, inputs, mask=None):
        if mask is not None:
            # a Tensor, not its array: a replayed training step then reads each batch's mask
            kept = ops.cast(mask if isinstance(mask, Tensor) else Tensor(mask), inputs.dtype)
            inputs = inputs + (1.0 - kept) * -1e9
        if isinstance(self.axis, list) and len(self.axis) > 1:
            return ops.exp(inputs - ops.logsumexp(inputs, axis=tuple(self.axis), keepdims=True))
        axis = self.axis[0] if isinstance(self.axis, list) else self.axis
        return activations_module.softmax(inputs, axis=axis)  # with its logits, for the loss

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
