"""Random draws as primitives, so that a traced step draws afresh each time it is replayed.

They take the tensor the noise is for as their first input (for its dtype and array module, not
its values) and have no gradient: the noise is a constant of the graph, and the gradient flows
through the same mask or offset that the forward pass used.
"""

import numpy

from .. import random
from ..backend import xp_of
from ..engine import primitive


def _generator(rng):
    """The layer's own generator, or the global one as it is now (set_seed may replace it)."""
    return random.generator() if rng is None else rng


@primitive(differentiable=False)
def dropout_mask(like, shape, rate, rng=None):
    """m = 1/(1 - rate) with probability 1 - rate, else 0, of ``shape`` (inverted dropout)."""
    keep = 1.0 - rate
    uniform = _generator(rng).random(shape, dtype=numpy.float32)  # half the bytes of float64
    mask = (uniform < keep).astype(like.dtype if like.dtype.kind == "f" else numpy.float32)
    mask *= 1.0 / keep
    return xp_of(like).asarray(mask)


@primitive(differentiable=False)
def normal_noise(like, stddev, rng=None):
    """n ~ N(0, stddev²), of ``like``'s shape."""
    noise = _generator(rng).normal(0.0, stddev, like.shape)
    return xp_of(like).asarray(noise, dtype=like.dtype)
