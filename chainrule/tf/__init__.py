"""The TensorFlow vocabulary: with ``import chainrule as tf``, TensorFlow programs run.

``tf.math``, ``tf.nn``, ``tf.random``, ``tf.data``, ``tf.GradientTape``, ``tf.function`` and
the everyday top-level names (``tf.constant``, ``tf.reduce_sum``, ``tf.float32``, ...), written
on the engine and the primitives of :mod:`chainrule.ops`. The package ``chainrule`` re-exports
every name of ``__all__``.
"""

from .. import random
from . import data, math, nn
from .core import (
    bool_ as bool,
)
from .core import (
    cast,
    concat,
    constant,
    convert_to_tensor,
    expand_dims,
    fill,
    float16,
    float32,
    float64,
    identity,
    int8,
    int16,
    int32,
    int64,
    one_hot,
    ones,
    ones_like,
    range,
    reshape,
    squeeze,
    stack,
    transpose,
    uint8,
    where,
    zeros,
    zeros_like,
)
from .function import function
from .math import (
    abs,
    add,
    argmax,
    argmin,
    divide,
    equal,
    exp,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    matmul,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    pow,
    reduce_logsumexp,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_sum,
    sigmoid,
    sqrt,
    square,
    subtract,
    tanh,
)
from .tape import GradientTape, UnconnectedGradients

__all__ = [name for name in dir() if not name.startswith("_") and name not in ("core", "tape")]
