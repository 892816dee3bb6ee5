"""Regularization layers: Dropout, GaussianNoise (active only in training) and
ActivityRegularization (a penalty on the activations, added to the loss).

The random layers draw from ``chainrule.random.generator()``, which
``keras.utils.set_random_seed`` reseeds, or from a generator of their own when given ``seed``;
either way a run is reproducible. The noise is a constant of the graph, so the gradient flows
through the same mask (or offset) that the forward pass used.
"""

import numpy as np

from ...ops import noise
from .. import registry
from .. import regularizers as regularizers_module
from .base import Layer


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
        if (
            isinstance(rate, bool)
            or not isinstance(rate, (int, float, np.number))
            or not 0 <= rate < 1
        ):
            raise ValueError(
                f"Dropout: rate must be a number in [0, 1), the fraction of inputs to drop; "
                f"received rate={rate!r}"
            )
        self.rate = float(rate)
        self.noise_shape = _check_noise_shape(noise_shape)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        shape = inputs.shape
        if self.noise_shape is not None:
            if len(self.noise_shape) != inputs.ndim:
                raise ValueError(
                    f'Layer "{self.name}" (Dropout): noise_shape {self.noise_shape} must have '
                    f"one entry per input axis; the input has shape {tuple(inputs.shape)}."
                )
            shape = tuple(n if m is None else m for m, n in zip(self.noise_shape, shape))
        return inputs * noise.dropout_mask(inputs, shape=shape, rate=self.rate, rng=self._generator)

    def get_config(self):
        noise_shape = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "noise_shape": noise_shape}


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
        if (
            isinstance(stddev, bool)
            or not isinstance(stddev, (int, float, np.number))
            or not 0 <= stddev <= 1
        ):
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
