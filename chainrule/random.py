"""The global random generator, seeded by :func:`set_seed` for reproducible runs.

Weight initializers, dropout and shuffling all draw from :func:`generator`, so one seed fixes a
whole training run.
"""

import numpy as np

from .engine import Tensor

_generator = np.random.default_rng()


def set_seed(seed):
    """Reseed the generator that chainrule draws all its random numbers from."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator():
    """The current global ``numpy.random.Generator``."""
    return _generator


def _shape(shape):
    """A shape given as an int, a sequence or a Tensor, as a tuple of ints."""
    shape = shape.tolist() if hasattr(shape, "tolist") else shape
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)


def normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None, name=None):
    """Samples from N(mean, stddev^2) of ``shape`` as a Tensor (``tf.random.normal``)."""
    rng = _generator if seed is None else np.random.default_rng(seed)
    return Tensor(rng.normal(mean, stddev, _shape(shape)).astype(dtype))


def uniform(shape, minval=0, maxval=None, dtype="float32", seed=None, name=None):
    """Samples from U[minval, maxval) of ``shape`` as a Tensor (``tf.random.uniform``).

    For a floating dtype ``maxval`` defaults to 1; an integer dtype draws integers and needs it.

    Raises:
        ValueError: an integer dtype without ``maxval``.
    """
    rng = _generator if seed is None else np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        if maxval is None:
            raise ValueError(
                f"random.uniform: an integer dtype ({dtype}) needs maxval, e.g. "
                f"uniform(shape, minval=0, maxval=10, dtype='int32')."
            )
        return Tensor(rng.integers(minval, maxval, _shape(shape)).astype(dtype))
    maxval = 1.0 if maxval is None else maxval
    return Tensor(rng.uniform(minval, maxval, _shape(shape)).astype(dtype))


def get_state():
    """The generator's state, to replay the same random draws later with :func:`set_state`."""
    return _generator.bit_generator.state


def set_state(state):
    """Restore a state returned by :func:`get_state`."""
    _generator.bit_generator.state = state
