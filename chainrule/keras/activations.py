"""Activation functions, by name or as callables, with Keras 3's signatures and defaults.

Where Keras's activation takes the same arguments as the ``keras.ops.nn`` function of its name,
it is that function; the others adapt it (``relu``'s options, ``gelu``'s exact default, the
logits that ``softmax`` and ``sigmoid`` outputs remember). Every derivative comes from the
engine.
"""

from .. import ops
from ..engine import Tensor
from .object_registration import find_by_bare_name, function_description
from .ops import nn
from .ops.dtypes import convert_to_tensor
from .registry import find_custom, lookup, register_names

celu = nn.celu
elu = nn.elu
glu = nn.glu
hard_shrink = nn.hard_shrink
hard_sigmoid = nn.hard_sigmoid
hard_silu = nn.hard_silu
hard_swish = nn.hard_silu
hard_tanh = nn.hard_tanh
leaky_relu = nn.leaky_relu
log_sigmoid = nn.log_sigmoid
log_softmax = nn.log_softmax
relu6 = nn.relu6
selu = nn.selu
silu = nn.silu
swish = nn.silu
soft_shrink = nn.soft_shrink
softplus = nn.softplus
softsign = nn.softsign
sparse_plus = nn.sparse_plus
sparse_sigmoid = nn.sparse_sigmoid
sparsemax = nn.sparsemax
squareplus = nn.squareplus
tanh_shrink = nn.tanh_shrink
threshold = nn.threshold


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0); with Keras's options: x for x > threshold, negative_slope (x - threshold)
    below it, the result capped at ``max_value``."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return nn.relu(x)
    x = convert_to_tensor(x)
    y = ops.where(x > threshold, x, (x - threshold) * negative_slope)
    return y if max_value is None else ops.minimum(y, max_value)


def sigmoid(x):
    """1 / (1 + e^-x). The output remembers ``x`` as its logits (see :func:`softmax`)."""
    return _with_logits(nn.sigmoid(x), x)


def softmax(x, axis=-1):
    """e^x_i / sum_j e^x_j along ``axis``.

    Over the last axis, the output remembers ``x`` as its logits (``_keras_logits``, as Keras 3
    does), so that a cross-entropy of it is computed from the logits in one stable step.
    """
    y = nn.softmax(x, axis=axis)
    return _with_logits(y, x) if axis in (-1, y.ndim - 1) else y


def _with_logits(y, logits):
    if isinstance(y, Tensor):
        y._keras_logits = logits
    return y


def gelu(x, approximate=False):
    """Gaussian error linear unit x Phi(x), exact by default (``keras.ops.gelu`` defaults to the
    tanh approximation)."""
    return nn.gelu(x, approximate=approximate)


def tanh(x):
    """Hyperbolic tangent."""
    return ops.tanh(convert_to_tensor(x))


def exponential(x):
    """e^x."""
    return ops.exp(convert_to_tensor(x))


def mish(x):
    """x tanh(softplus(x)) (Misra, 2019)."""
    x = convert_to_tensor(x)
    return x * ops.tanh(ops.softplus(x))


def linear(x):
    """The identity (Keras's default activation, ``None``)."""
    return x


ACTIVATIONS = {
    "celu": celu,
    "elu": elu,
    "exponential": exponential,
    "gelu": gelu,
    "glu": glu,
    "hard_shrink": hard_shrink,
    "hard_sigmoid": hard_sigmoid,
    "hard_silu": hard_silu,
    "hard_swish": hard_silu,
    "hard_tanh": hard_tanh,
    "leaky_relu": leaky_relu,
    "linear": linear,
    "log_sigmoid": log_sigmoid,
    "log_softmax": log_softmax,
    "mish": mish,
    "relu": relu,
    "relu6": relu6,
    "selu": selu,
    "sigmoid": sigmoid,
    "silu": silu,
    "swish": silu,
    "soft_shrink": soft_shrink,
    "softmax": softmax,
    "softplus": softplus,
    "softsign": softsign,
    "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid,
    "sparsemax": sparsemax,
    "squareplus": squareplus,
    "tanh": tanh,
    "tanh_shrink": tanh_shrink,
    "threshold": threshold,
}
register_names("keras.activations", ACTIVATIONS)


def get(identifier):
    """An activation from its name, its serialized form (a dict), a callable, or None (linear).

    A name is one of Keras's activations (as in Keras 3, a function of the user's is found by
    its description, not by a bare name: see :func:`deserialize`).

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    return lookup("activation", ACTIVATIONS, identifier)


def name_of(activation):
    """The Keras name of one of its activation functions (an alias gives its canonical name:
    swish is "silu"); another function's own ``__name__``."""
    for name, fn in ACTIVATIONS.items():
        if fn is activation:
            return name
    return getattr(activation, "__name__", str(activation))


def serialize(activation):
    """What a config holds for ``activation``, as Keras 3 writes it: the name of one of Keras's
    activations (see :func:`name_of`); for a function of the user's, its description
    ``{"module": "builtins", "class_name": "function", "config": "package>name", ...}``, by
    which :func:`deserialize` finds it again among the registered objects (or its bare name
    among ``custom_objects`` and the custom-object scopes)."""
    name = name_of(activation)
    return name if ACTIVATIONS.get(name) is activation else function_description(activation)


def deserialize(config, custom_objects=None):
    """The activation that ``config`` names: a name, or Keras's dict form
    ``{"class_name": "function", "config": name, ...}``.

    The name is looked up as Keras 3 does: first among the user's objects (``custom_objects``,
    the open ``keras.saving.custom_object_scope`` blocks, the objects registered with
    ``keras.saving.register_keras_serializable``), then among Keras's activations, then as a
    bare name of a registered ``"package>name"``.

    Raises:
        ValueError: for an unknown name or a config of another form.
    """
    if isinstance(config, dict):
        name = config.get("config")
        if not isinstance(name, str):
            raise ValueError(
                f"deserialize: expects an activation's name or a dict with its name under "
                f"'config'; received {config!r}."
            )
        config = name
    if not isinstance(config, str):
        raise ValueError(
            f"deserialize: expects an activation's name or its dict form; received {config!r}."
        )
    own = find_custom([config], custom_objects)
    if own is None and config.lower() not in ACTIVATIONS:
        own = find_by_bare_name(config, custom_objects)
    return own if own is not None else lookup("activation", ACTIVATIONS, config)
