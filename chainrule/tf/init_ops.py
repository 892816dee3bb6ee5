"""TensorFlow's initializer objects, ``tf.random_normal_initializer`` and ``tf.zeros_initializer``:
made with their settings, then called with a shape and a dtype, they return a new Tensor of
initial values (for a ``tf.Variable``, say).

Example::

    w_init = tf.random_normal_initializer()
    w = tf.Variable(w_init(shape=(784, 32), dtype="float32"))
    b = tf.Variable(tf.zeros_initializer()(shape=(32,), dtype="float32"))
"""

from ..random import normal
from .core import as_dtype, float32, zeros


class Initializer:
    """Base class: ``initializer(shape, dtype)`` returns a Tensor of ``shape``; ``get_config``
    and ``from_config`` carry the settings it was made with."""

    def __call__(self, shape, dtype=float32):
        raise NotImplementedError

    def get_config(self):
        """The arguments that make this initializer again (none for the base class)."""
        return {}

    @classmethod
    def from_config(cls, config):
        """The initializer that ``config`` (from :meth:`get_config`) describes; a ``dtype`` entry,
        which TensorFlow's older configs carry, is ignored."""
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)


class RandomNormal(Initializer):
    """``tf.random_normal_initializer``: samples of N(mean, stddev²) of the shape asked for.

    Without a ``seed`` each call draws new values from chainrule's global generator (reseeded by
    ``tf.random.set_seed``); with one, every call returns the same values, as TensorFlow 2's
    initializers do. The numbers come from NumPy, so they differ from TensorFlow's.

    Args:
        mean: the mean of the values (0.0).
        stddev: their standard deviation (0.05).
        seed: an int, or None.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=float32):
        """A Tensor of ``shape`` and the floating ``dtype`` (float32 by default).

        Raises:
            ValueError: a dtype that is not floating point.
        """
        dtype = as_dtype(dtype)
        if dtype.kind != "f":
            raise ValueError(
                f"random_normal_initializer: expected a floating point dtype; received {dtype}."
            )
        return normal(shape, self.mean, self.stddev, dtype, seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class Zeros(Initializer):
    """``tf.zeros_initializer``: a Tensor of zeros of the shape and dtype asked for."""

    def __call__(self, shape, dtype=float32):
        """A Tensor of zeros of ``shape`` and ``dtype`` (float32 by default).

        Raises:
            ValueError: a dtype that is neither numeric nor boolean (strings).
        """
        dtype = as_dtype(dtype)
        if dtype.kind not in "biufc":
            raise ValueError(
                f"zeros_initializer: expected a numeric or boolean dtype; received {dtype}."
            )
        return zeros(shape, dtype)


# TensorFlow's top-level names for these classes
random_normal_initializer = RandomNormal
zeros_initializer = Zeros
