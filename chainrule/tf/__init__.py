"""The TensorFlow vocabulary: with ``import chainrule as tf``, TensorFlow programs run.

``tf.math``, ``tf.nn``, ``tf.linalg``, ``tf.random``, ``tf.debugging``, ``tf.data``,
``tf.GradientTape``, ``tf.function``, ``tf.Variable``, the initializers
(``tf.random_normal_initializer``, ``tf.zeros_initializer``) and the everyday top-level names
(``tf.constant``, ``tf.shape``, ``tf.reduce_sum``, ``tf.gather``, ``tf.float32``, ...), written
on the engine and the primitives of :mod:`chainrule.ops`. The package ``chainrule`` re-exports
every name of ``__all__``.

``tf.random`` offers every function of the core's :mod:`chainrule.random` too (``generator``,
``get_state``...), so that ``chainrule.random``, which this re-export makes the facade's, keeps
serving the code that draws from the global generator.
"""

from . import config, data, debugging, errors, linalg, math, nn, random, strings
from .arrays import (
    TensorShape,
    argsort,
    eye,
    gather,
    gather_nd,
    linspace,
    newaxis,
    pad,
    rank,
    repeat,
    reverse,
    roll,
    shape,
    size,
    sort,
    split,
    stop_gradient,
    tile,
    unstack,
)
from .core import (
    bool_ as bool,
)
from .core import (
    cast,
    concat,
    constant,
    convert_to_tensor,
    device,
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
    string,
    transpose,
    uint8,
    where,
    zeros,
    zeros_like,
)
from .debugging import (
    assert_equal,
    assert_greater,
    assert_greater_equal,
    assert_less,
    assert_less_equal,
    assert_near,
    assert_none_equal,
    assert_rank,
    assert_type,
)
from .debugging import print_ as print
from .function import function
from .init_ops import random_normal_initializer, zeros_initializer
from .linalg import einsum, norm, tensordot
from .math import (
    abs,
    acos,
    acosh,
    add,
    add_n,
    argmax,
    argmin,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    clip_by_global_norm,
    clip_by_norm,
    clip_by_value,
    cos,
    cosh,
    cumsum,
    divide,
    equal,
    exp,
    floor,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    logical_and,
    logical_not,
    logical_or,
    matmul,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    pow,
    reduce_all,
    reduce_any,
    reduce_logsumexp,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_std,
    reduce_sum,
    reduce_variance,
    round,
    scalar_mul,
    sigmoid,
    sin,
    sinh,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    truediv,
)
from .tape import GradientTape, UnconnectedGradients

__all__ = [
    name
    for name in dir()
    if not name.startswith("_") and name not in ("arrays", "core", "init_ops", "tape")
]
