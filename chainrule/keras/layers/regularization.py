"""Regularization layers: Dropout, SpatialDropout1D/2D/3D, GaussianDropout, AlphaDropout,
GaussianNoise (all active only in training) and ActivityRegularization (a penalty on the
activations, added to the loss).

The random layers draw from ``chainrule.random.generator()``, which
``keras.utils.set_random_seed`` reseeds, or from a generator of their own when given ``seed``;
either way a run is reproducible. The noise is a constant of the graph, so the gradient flows
through the same mask (or offset) that the forward pass used.
"""

import numpy as np

from ... import ops
from ...ops import noise
from .. import registry
from .. import regularizers as regularizers_module
from .base import Layer
from .conv import standardize_data_format


def _is_fraction(value):
    """Whether ``value`` is a real number (not a bool) in [0, 1]."""
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float, np.number))
        and 0 <= value <= 1
    )


class _RandomLayer(Layer):
    """A layer that draws noise from its own seeded generator, or from the global one."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._generator = None if seed is None else np.random.default_rng(seed)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@registry.serializable("keras.layers")
class Dropout(_RandomLayer):
    """Inverted dropout: in training, zero each input with probability ``rate`` and scale the rest
    by 1 / (1 - rate), so that the expected output equals the input; in inference, the identity.

        y = x * m / (1 - rate),   m_i ~ Bernoulli(1 - rate)     dL/dx = dL/dy * m / (1 - rate)

    Args:
        rate: the fraction of the inputs to drop, in [0, 1).
        noise_shape: shape of the mask (None entries take the input's size), e.g.
            ``(None, 1, features)`` to drop the same features at every time step.
        seed: seed of the layer's own generator (default: the global generator).

    Raises:
        ValueError: a rate outside [0, 1) (Keras accepts 1, which drops everything and divides by
            zero), or a noise_shape that is not a sequence of positive integers or None.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.supports_masking = True
        if not _is_fraction(rate) or rate == 1:
            raise ValueError(
                f"Dropout: rate must be a number in [0, 1), the fraction of inputs to drop; "
                f"received rate={rate!r}"
            )
        self.rate = float(rate)
        self.noise_shape = _check_noise_shape(noise_shape)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        shape = self._mask_shape(inputs)
        return inputs * noise.dropout_mask(inputs, shape=shape, rate=self.rate, rng=self._generator)

    def _mask_shape(self, inputs):
        return concrete_noise_shape(self, inputs)

    def get_config(self):
        noise_shape = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "noise_shape": noise_shape}


def concrete_noise_shape(layer, inputs):
    """The shape of ``layer``'s mask: its ``noise_shape`` with the None entries taken from the
    input, or the input's shape."""
    shape = inputs.shape
    if layer.noise_shape is not None:
        if len(layer.noise_shape) != inputs.ndim:
            raise ValueError(
                f'Layer "{layer.name}" ({type(layer).__name__}): noise_shape '
                f"{layer.noise_shape} must have one entry per input axis; the input has "
                f"shape {tuple(inputs.shape)}."
            )
        shape = tuple(n if m is None else m for m, n in zip(layer.noise_shape, shape))
    return shape


def _check_noise_shape(noise_shape):
    if noise_shape is None:
        return None
    if isinstance(noise_shape, str) or not hasattr(noise_shape, "__iter__"):
        raise ValueError(
            f"Dropout: noise_shape must be a tuple of integers or None; got {noise_shape!r}"
        )
    noise_shape = tuple(noise_shape)
    for i, n in enumerate(noise_shape):
        if n is not None and (not isinstance(n, (int, np.integer)) or n <= 0):
            raise ValueError(
                f"Dropout: noise_shape entries must be positive integers or None; entry {i} of "
                f"{noise_shape} is {n!r}"
            )
    return noise_shape


@registry.serializable("keras.layers")
class GaussianNoise(_RandomLayer):
    """Adds zero-mean Gaussian noise in training: y = x + n, n ~ N(0, stddev²); the identity in
    inference. dL/dx = dL/dy.

    Args:
        stddev: the standard deviation of the noise, in [0, 1] (Keras's range).
        seed: seed of the layer's own generator (default: the global generator).
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.supports_masking = True
        if not _is_fraction(stddev):
            raise ValueError(
                f"GaussianNoise: stddev must be a number in [0, 1]; received stddev={stddev!r}"
            )
        self.stddev = float(stddev)

    def call(self, inputs, training=None):
        if not training or self.stddev == 0:
            return inputs
        return inputs + noise.normal_noise(inputs, stddev=self.stddev, rng=self._generator)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


@registry.serializable("keras.layers")
class ActivityRegularization(Layer):
    """The identity, adding l1 * sum|x| + l2 * sum x² of its inputs, divided by the batch size
    (as Keras does for every activity regularizer), to the model's loss.

    Args:
        l1, l2: the penalty factors (default 0).
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        if l1 < 0 or l2 < 0:
            raise ValueError(
                f"ActivityRegularization: l1 and l2 must be >= 0; got l1={l1}, l2={l2}"
            )
        self.l1, self.l2 = float(l1), float(l2)
        self.activity_regularizer = regularizers_module.L1L2(l1=l1, l2=l2)

    def call(self, inputs):
        return inputs  # Layer.__call__ adds the activity penalty

    def get_config(self):
        config = super().get_config()
        del config["activity_regularizer"]  # l1 and l2 describe it, as in Keras
        return {**config, "l1": self.l1, "l2": self.l2}


class _SpatialDropout(Dropout):
    """Dropout of whole feature maps: one mask entry per sample and channel, the same at every
    spatial position (``rank`` spatial axes), so neighbouring activations, which are strongly
    correlated, are dropped together: y = x * m[n, c] / (1 - rate).

    Args:
        rate: the fraction of the channels to drop, in [0, 1).
        data_format: 'channels_last' (default) or 'channels_first' (2-D and 3-D only).
        seed: seed of the layer's own generator (default: the global generator).
    """

    rank = None

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = standardize_data_format(
            data_format, f'{type(self).__name__} layer "{self.name}"'
        )

    def check_input(self, x):
        if x.ndim != self.rank + 2:
            raise self.incompatible(x, f"expected ndim={self.rank + 2}")

    def _mask_shape(self, inputs):
        ones = (1,) * self.rank
        if self.data_format == "channels_last":
            return (inputs.shape[0], *ones, inputs.shape[-1])
        return (inputs.shape[0], inputs.shape[1], *ones)

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]
        # Keras 3.15.1's SpatialDropout constructors refuse `trainable` (though Keras writes it,
        # and then cannot load its own file): left out while True, so that Keras loads ours
        if config.get("trainable", True):
            config.pop("trainable", None)
        config["dtype"] = self.dtype.name  # Keras 3.15.1's SpatialDropout: the plain name
        config["data_format"] = self.data_format
        return config


@registry.serializable("keras.layers")
class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of (N, T, C) sequences: the mask has shape (N, 1, C)."""

    rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        kwargs.pop("data_format", None)  # 1-D inputs are channels_last
        super().__init__(rate, seed=seed, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


@registry.serializable("keras.layers")
class SpatialDropout2D(_SpatialDropout):
    """Drops whole channels of (N, H, W, C) images: the mask has shape (N, 1, 1, C)."""

    rank = 2


@registry.serializable("keras.layers")
class SpatialDropout3D(_SpatialDropout):
    """Drops whole channels of (N, D, H, W, C) volumes: the mask has shape (N, 1, 1, 1, C)."""

    rank = 3


def _check_rate(rate, owner):
    if not _is_fraction(rate):
        raise ValueError(
            f"{owner}: invalid value received for argument `rate`. Expected a float value "
            f"between 0 and 1. Received: rate={rate!r}"
        )
    return float(rate)


@registry.serializable("keras.layers")
class GaussianDropout(_RandomLayer):
    """Multiplicative Gaussian noise in training: y = x * e, e ~ N(1, rate / (1 - rate)), which
    keeps the mean and gives the variance of a dropout of ``rate``; the identity in inference.
    dL/dx = dL/dy * e.

    Args:
        rate: the equivalent drop probability, in [0, 1]; 0 and 1 leave x unchanged.
        seed: seed of the layer's own generator (default: the global generator).
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.supports_masking = True
        self.rate = _check_rate(rate, f'GaussianDropout layer "{self.name}"')

    def call(self, inputs, training=None):
        if not training or not 0 < self.rate < 1:
            return inputs
        stddev = float(np.sqrt(self.rate / (1.0 - self.rate)))
        return inputs * (1.0 + noise.normal_noise(inputs, stddev=stddev, rng=self._generator))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


# A dropped SELU activation is set to its negative saturation value -alpha scale.
_SELU_ALPHA, _SELU_SCALE = ops.elementwise.SELU_ALPHA, ops.elementwise.SELU_SCALE


@registry.serializable("keras.layers")
class AlphaDropout(_RandomLayer):
    """Dropout that keeps the mean and variance of self-normalising (SELU) activations: in
    training each input is kept with probability 1 - rate or set to a' = -alpha scale, then
    an affine map restores mean 0 and variance 1:

        y = a (x m + a' (1 - m)) + b,   a = ((1 - rate)(1 + rate a'^2))^(-1/2),   b = -a a' rate

    with m ~ Bernoulli(1 - rate); dL/dx = a m dL/dy. The identity in inference.

    Args:
        rate: the drop probability, in [0, 1].
        noise_shape: shape of the mask (None entries take the input's size).
        seed: seed of the layer's own generator (default: the global generator).
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.supports_masking = True
        self.rate = _check_rate(rate, f'AlphaDropout layer "{self.name}"')
        self.noise_shape = _check_noise_shape(noise_shape)

    def call(self, inputs, training=None):
        if not training or self.rate <= 0:
            return inputs
        shape = concrete_noise_shape(self, inputs)
        if self.rate >= 1:
            kept = np.zeros(shape, dtype=bool)
        else:
            kept = noise.dropout_mask(inputs, shape=shape, rate=self.rate, rng=self._generator) > 0
        saturation = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * saturation**2)) ** -0.5
        b = -a * saturation * self.rate
        return a * ops.where(kept, inputs, saturation) + b

    def get_config(self):
        noise_shape = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "noise_shape": noise_shape}
