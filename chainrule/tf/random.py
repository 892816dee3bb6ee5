"""``tf.random``: random tensors, drawn from chainrule's global generator (reseeded by
``set_seed``) or, given an integer ``seed``, from a generator made from that seed.

``normal`` and ``uniform`` are those of :mod:`chainrule.random`; this module adds
``truncated_normal``, ``shuffle``, ``categorical`` and a small ``Generator``. The numbers come
from NumPy's PCG64, so a seed gives other values than in TensorFlow; the distributions, shapes
and dtypes are TensorFlow's.
"""

import numpy as np

from .. import ops
from .. import random as global_random
from ..engine import Tensor, as_array
from ..random import generator, get_state, normal, set_seed, set_state, uniform
from .core import as_dtype, float32, int64

__all__ = [
    "Generator",
    "categorical",
    "generator",
    "get_state",
    "normal",
    "set_seed",
    "set_state",
    "shuffle",
    "truncated_normal",
    "uniform",
]


def _rng(seed):
    return global_random.generator() if seed is None else np.random.default_rng(seed)


def _shape(shape):
    shape = shape.tolist() if hasattr(shape, "tolist") else shape
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)


def _float_dtype(dtype, op):
    dtype = as_dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"random.{op}: dtype must be floating point; received {dtype}.")
    return dtype


def truncated_standard_normal(rng, shape):
    """Samples of N(0, 1) of ``shape`` restricted to [-2, 2]: draws beyond two standard
    deviations are drawn again (TensorFlow's and Keras's truncation), as a float64 array."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return values


def categorical_indices(rng, logits, num_samples):
    """For each row of ``logits`` (batch, classes), ``num_samples`` class indices drawn with
    probabilities softmax(row): an int64 array (batch, num_samples).

    Raises:
        ValueError: logits that are not 2-D.
    """
    logits = np.asarray(as_array(logits), dtype=np.float64)
    if logits.ndim != 2:
        raise ValueError(
            f"categorical: `logits` must be 2-D (batch, classes); received shape {logits.shape}."
        )
    cumulative = ops.cumsum(ops.softmax(logits, axis=1), axis=1)
    draws = rng.random((len(logits), int(num_samples), 1))
    indices = (draws > cumulative[:, None, :]).sum(axis=2)
    return np.minimum(indices, logits.shape[1] - 1)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=float32, seed=None, name=None):
    """Samples of N(mean, stddev^2) of ``shape``, each within two standard deviations of the
    mean (values beyond are drawn again)."""
    values = mean + stddev * truncated_standard_normal(_rng(seed), _shape(shape))
    return Tensor(values.astype(_float_dtype(dtype, "truncated_normal")))


def shuffle(value, seed=None, name=None):
    """``value`` with its entries along the first axis in a random order."""
    data = as_array(value)
    return Tensor(data[_rng(seed).permutation(len(data))])


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """For each row of ``logits`` (batch, classes), ``num_samples`` classes drawn from
    softmax(row): a (batch, num_samples) tensor, int64 by default."""
    indices = categorical_indices(_rng(seed), logits, num_samples)
    return Tensor(indices.astype(int64 if dtype is None else as_dtype(dtype)))


class Generator:
    """A random generator with its own state, as ``tf.random.Generator``: ``from_seed(seed)``
    replays the same numbers; its draws do not move the global generator.

    Example::

        g = Generator.from_seed(1234)
        g.normal(shape=(2, 3))
    """

    def __init__(self, seed=None):
        self._rng = np.random.default_rng(seed)

    @classmethod
    def from_seed(cls, seed, alg=None):
        """A generator started from ``seed`` (an int)."""
        return cls(int(seed))

    @classmethod
    def from_non_deterministic_state(cls, alg=None):
        """A generator started from fresh entropy."""
        return cls(None)

    def reset_from_seed(self, seed):
        """Start again from ``seed``."""
        self._rng = np.random.default_rng(int(seed))

    # chainrule.random draws from np.random.default_rng(seed), which returns a Generator given
    # one: passing this generator's own as the seed makes those functions draw from it.
    def normal(self, shape, mean=0.0, stddev=1.0, dtype=float32, name=None):
        """Samples of N(mean, stddev^2) of ``shape``."""
        return normal(shape, mean, stddev, _float_dtype(dtype, "normal"), seed=self._rng)

    def truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype=float32, name=None):
        """Samples of N(mean, stddev^2) of ``shape`` within two standard deviations."""
        return truncated_normal(shape, mean, stddev, dtype, seed=self._rng)

    def uniform(self, shape, minval=0, maxval=None, dtype=float32, name=None):
        """Samples of U[minval, maxval) of ``shape``: floats in [0, 1) by default; integers for
        an integer dtype, which needs ``maxval``."""
        return uniform(shape, minval, maxval, dtype, seed=self._rng)
