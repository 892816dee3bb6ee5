"""The global random generator, seeded by :func:`set_seed` for reproducible runs.

Weight initializers, dropout and shuffling all draw from :func:`generator`, so one seed fixes a
whole training run.
"""

import numpy as np

_generator = np.random.default_rng()


def set_seed(seed):
    """Reseed the generator that chainrule draws all its random numbers from."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator():
    """The current global ``numpy.random.Generator``."""
    return _generator


def normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None):
    """Samples from N(mean, stddev^2) as a Tensor."""
    from .engine import Tensor

    rng = _generator if seed is None else np.random.default_rng(seed)
    return Tensor(rng.normal(mean, stddev, shape).astype(dtype))


def uniform(shape, minval=0.0, maxval=1.0, dtype="float32", seed=None):
    """Samples from U[minval, maxval) as a Tensor."""
    from .engine import Tensor

    rng = _generator if seed is None else np.random.default_rng(seed)
    return Tensor(rng.uniform(minval, maxval, shape).astype(dtype))


def get_state():
    """The generator's state, to replay the same random draws later with :func:`set_state`."""
    return _generator.bit_generator.state


def set_state(state):
    """Restore a state returned by :func:`get_state`."""
    _generator.bit_generator.state = state
