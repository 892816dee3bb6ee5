"""Activation functions, by name or as callables, with Keras 3's signatures and defaults.

Each is built from chainrule primitives, so its derivative comes from the engine.
"""

import math

from .. import ops
from ..engine import Tensor
from .registry import lookup, register_names


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0); with Keras's options: slope below ``threshold``, capped at ``max_value``."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    y = ops.where(x > threshold, x, negative_slope * (x - threshold))
    return y if max_value is None else ops.minimum(y, max_value)


def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, negative_slope * x otherwise (Keras's default slope is 0.2)."""
    return ops.leaky_relu(x, alpha=negative_slope)


def sigmoid(x):
    """1 / (1 + e^-x). The output remembers ``x`` as its logits (see :func:`softmax`)."""
    return _with_logits(ops.sigmoid(x), x)


def tanh(x):
    """Hyperbolic tangent."""
    return ops.tanh(x)


def softmax(x, axis=-1):
    """e^x_i / sum_j e^x_j along ``axis``.

    Over the last axis, the output remembers ``x`` as its logits (``_keras_logits``, as Keras 3
    does), so that a cross-entropy of it is computed from the logits in one stable step.
    """
    y = ops.softmax(x, axis=axis)
    return _with_logits(y, x) if axis in (-1, y.ndim - 1) else y


def _with_logits(y, logits):
    if isinstance(y, Tensor):  # raw arrays carry no attributes
        y._keras_logits = logits
    return y


def linear(x):
    """The identity (Keras's default activation, ``None``)."""
    return x


def elu(x, alpha=1.0):
    """x for x > 0, alpha (e^x - 1) otherwise."""
    return ops.elu(x, alpha=alpha)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. (2017)."""
    return ops.elu(x, alpha=SELU_ALPHA) * SELU_SCALE


def softplus(x):
    """log(1 + e^x), computed stably."""
    return ops.softplus(x)


def swish(x):
    """x * sigmoid(x) (also called SiLU)."""
    return x * ops.sigmoid(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit: x Φ(x); with ``approximate=True`` the tanh form
    0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))."""
    if not approximate:
        return 0.5 * x * (1 + ops.erf(x * (1 / math.sqrt(2))))
    inner = (x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)
    return 0.5 * x * (1 + ops.tanh(inner))


def exponential(x):
    """e^x."""
    return ops.exp(x)


ACTIVATIONS = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": softmax,
    "linear": linear,
    "elu": elu,
    "selu": selu,
    "softplus": softplus,
    "swish": swish,
    "silu": swish,
    "gelu": gelu,
    "exponential": exponential,
}
register_names("keras.activations", ACTIVATIONS)


def get(identifier):
    """An activation from its name, a callable, or None (linear)."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    return lookup("activation", ACTIVATIONS, identifier)


def serialize(activation):
    """The Keras name of an activation function."""
    for name, fn in ACTIVATIONS.items():
        if fn is activation:
            return name
    return getattr(activation, "__name__", str(activation))
