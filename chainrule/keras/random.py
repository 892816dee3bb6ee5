"""``keras.random``: random tensors, seeded the way Keras 3 seeds them.

Every function takes a ``seed``:

- ``None``: the next draw of chainrule's global generator, which
  ``keras.utils.set_random_seed`` reseeds (so a seeded program draws the same numbers each run);
- an int: a fixed seed, so the same call gives the same numbers every time;
- a :class:`SeedGenerator`: its next state, so successive calls differ and a generator made with
  the same seed replays the same sequence.

The numbers come from NumPy's PCG64 generator, not from Keras's backends, so a seed gives other
values than it gives in Keras; the distributions, shapes, dtypes and seeding rules are Keras's.
Each function returns a chainrule Tensor; :func:`dropout` is differentiable in its input (the
gradient is the same mask, scaled).
"""

import numbers

import numpy as np

from .. import random as global_random
from ..engine import Tensor, as_array
from ..ops import noise
from ..tf.random import categorical_indices, truncated_standard_normal
from .keras_tensor import unique_name

__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]


class SeedGenerator:
    """A stream of seeds: each random function given this generator draws from its next state.

    Args:
        seed: an int, or None for one drawn from the global generator (so that
            ``keras.utils.set_random_seed`` fixes it too).
        name: default ``"seed_generator"``, then ``"seed_generator_1"``... as Keras names them.

    ``get_config()`` is ``{"seed": the seed given (None stays None), "name": name}``, as in Keras.

    Example::

        seeds = keras.random.SeedGenerator(1337)
        a = keras.random.normal((2, 3), seed=seeds)
        b = keras.random.normal((2, 3), seed=seeds)     # other numbers than a
    """

    def __init__(self, seed=None, name=None, **kwargs):
        self._initial_seed = None if seed is None else _checked_seed(seed, "SeedGenerator")
        self.seed = self._initial_seed
        if self.seed is None:
            self.seed = int(global_random.generator().integers(2**31))
        self.name = name or unique_name("seed_generator")
        self._generator = np.random.default_rng(self.seed)

    def next(self):
        """The generator that the next random draw uses (its state then moves on)."""
        return self._generator

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _checked_seed(seed, op):
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(
            f"{op}: a seed must be a non-negative integer, a keras.random.SeedGenerator or "
            f"None; received seed={seed!r}."
        )
    return int(seed)


def _generator(seed, op):
    """The NumPy generator a draw with ``seed`` uses (see the module)."""
    if seed is None:
        return global_random.generator()
    if isinstance(seed, SeedGenerator):
        return seed.next()
    return np.random.default_rng(_checked_seed(seed, op))


def _shape(shape, op):
    """``shape`` (an int or a sequence of ints) as a tuple of non-negative ints."""
    try:
        checked = tuple(int(n) for n in ((shape,) if np.ndim(shape) == 0 else shape))
    except (TypeError, ValueError):
        checked = None
    if checked is None or any(n < 0 for n in checked):
        raise ValueError(
            f"{op}: `shape` must be a tuple of non-negative integers; received shape={shape!r}."
        )
    return checked


def _float_dtype(dtype, op):
    dtype = np.dtype("float32" if dtype is None else dtype)
    if dtype.kind != "f":
        raise ValueError(f"{op}: `dtype` must be a floating-point type; received {dtype}.")
    return dtype


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev²), of ``shape`` (float32 by default)."""
    values = _generator(seed, "normal").normal(mean, stddev, _shape(shape, "normal"))
    return Tensor(values.astype(_float_dtype(dtype, "normal")))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of U[minval, maxval), of ``shape`` (float32 by default)."""
    dtype = _float_dtype(dtype, "uniform")
    values = _generator(seed, "uniform").uniform(minval, maxval, _shape(shape, "uniform"))
    return Tensor(values.astype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev²) restricted to [mean - 2 stddev, mean + 2 stddev]: values
    beyond two standard deviations are drawn again, as in Keras."""
    generator = _generator(seed, "truncated_normal")
    values = mean + stddev * truncated_standard_normal(generator, _shape(shape, "truncated_normal"))
    return Tensor(values.astype(_float_dtype(dtype, "truncated_normal")))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from [minval, maxval), of ``shape``."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        raise ValueError(f"randint: `dtype` must be an integer type; received {dtype}.")
    if maxval <= minval:
        raise ValueError(
            f"randint: `maxval` must be greater than `minval`; received minval={minval}, "
            f"maxval={maxval}."
        )
    values = _generator(seed, "randint").integers(minval, maxval, _shape(shape, "randint"))
    return Tensor(values.astype(dtype))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """``num_samples`` class indices for each row of ``logits`` (batch, classes), each class c
    drawn with probability softmax(logits)[c]; returns (batch, num_samples)."""
    indices = categorical_indices(_generator(seed, "categorical"), logits, num_samples)
    return Tensor(indices.astype(np.dtype(dtype)))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """inputs with each entry kept with probability 1 - rate and scaled by 1 / (1 - rate), else
    0 (inverted dropout); ``noise_shape`` broadcasts one mask over some axes. Differentiable in
    ``inputs``: dL/dx = g * mask."""
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: `rate` must be in [0, 1); received rate={rate!r}.")
    inputs = inputs if isinstance(inputs, Tensor) else Tensor(inputs)
    shape = inputs.shape if noise_shape is None else _shape(noise_shape, "dropout")
    mask = noise.dropout_mask(inputs, shape=shape, rate=rate, rng=_generator(seed, "dropout"))
    return inputs * mask


def shuffle(x, axis=0, seed=None):
    """x with its entries along ``axis`` in a random order."""
    x = as_array(x)
    order = _generator(seed, "shuffle").permutation(x.shape[axis])
    return Tensor(np.take(x, order, axis=axis))


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples of the Gamma(alpha, 1) distribution (mean alpha), of ``shape``."""
    values = _generator(seed, "gamma").gamma(alpha, 1.0, _shape(shape, "gamma"))
    return Tensor(values.astype(_float_dtype(dtype, "gamma")))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples of the Beta(alpha, beta) distribution (mean alpha / (alpha + beta))."""
    values = _generator(seed, "beta").beta(alpha, beta, _shape(shape, "beta"))
    return Tensor(values.astype(_float_dtype(dtype, "beta")))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples of the Binomial(counts, probabilities) distribution (mean counts probabilities),
    as floats (float32 by default), as Keras returns them."""
    values = _generator(seed, "binomial").binomial(counts, probabilities, _shape(shape, "binomial"))
    return Tensor(values.astype(_float_dtype(dtype, "binomial")))
