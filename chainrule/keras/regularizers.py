"""Weight penalties added to the loss, with Keras 3's names, defaults and configs.

    L1                     l1 · sum |w|                                  (l1 = 0.01)
    L2                     l2 · sum w²                                   (l2 = 0.01)
    L1L2                   l1 · sum |w| + l2 · sum w²                    (both 0 by default)
    OrthogonalRegularizer  factor · mean over pairs i < j of |<v_i, v_j>|   (factor = 0.01)

where v are the rows (or columns) of a 2-D weight scaled to unit norm. Penalties are Tensors
computed with chainrule's primitives, so their gradients reach the weights.
"""

import math

from .. import ops
from . import config
from .registry import (
    classes_of,
    custom_name,
    describe,
    deserialize_object,
    get_object,
    register_classes,
)


def l2_normalize(x, axis):
    """x / max(||x||, ε) along ``axis`` (Keras's ``ops.normalize``); the norm is taken as
    sqrt(max(sum x², ε²)), the same value with a finite gradient at x = 0."""
    return x / ops.sqrt(
        ops.maximum(ops.sum(x * x, axis=axis, keepdims=True), config.epsilon() ** 2)
    )


def _factor(value, name, regularizer):
    """``value`` as a non-negative finite float, else a ValueError naming the argument."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or math.isinf(value)
        or math.isnan(value)
        or value < 0
    ):
        raise ValueError(
            f"{regularizer}: `{name}` must be a non-negative float; received {name}={value!r}."
        )
    return float(value)


class Regularizer:
    """Base class: ``regularizer(weight)`` returns a scalar penalty (0 here)."""

    def __call__(self, x):
        return 0.0

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config().")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """penalty = l1 · sum |w| + l2 · sum w² (None counts as 0)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(0.0 if l1 is None else l1, "l1", "L1L2")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2", "L1L2")

    def __call__(self, x):
        penalty = 0.0
        if self.l1:
            penalty = penalty + self.l1 * ops.sum(ops.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * ops.sum(x * x)
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """penalty = l1 · sum |w|   (d/dw = l1 sign(w))."""

    def __init__(self, l1=0.01):
        self.l1 = _factor(0.01 if l1 is None else l1, "l1", "L1")

    def __call__(self, x):
        return self.l1 * ops.sum(ops.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """penalty = l2 · sum w²   (d/dw = 2 l2 w)."""

    def __init__(self, l2=0.01):
        self.l2 = _factor(0.01 if l2 is None else l2, "l2", "L2")

    def __call__(self, x):
        return self.l2 * ops.sum(x * x)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Encourages the rows (``mode="rows"``) or columns (``"columns"``) of a 2-D weight to be
    orthogonal: with v the n vectors scaled to unit norm,

        penalty = factor · 0.5 · sum over i != j of |<v_i, v_j>| / (n (n - 1) / 2)

    i.e. ``factor`` times the mean |cosine| over the pairs of vectors.

    Raises:
        ValueError: a negative factor or an unknown mode; at call time, a weight that is not 2-D.
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _factor(factor, "factor", "OrthogonalRegularizer")
        if mode not in ("rows", "columns"):
            raise ValueError(
                f"OrthogonalRegularizer: mode must be 'rows' or 'columns'; received mode={mode!r}."
            )
        self.mode = mode

    def __call__(self, inputs):
        if len(inputs.shape) != 2:
            raise ValueError(
                f"OrthogonalRegularizer: the weight must be 2-D; received shape "
                f"{tuple(inputs.shape)}."
            )
        unit = l2_normalize(inputs, axis=1 if self.mode == "rows" else 0)
        if self.mode == "rows":
            product = ops.matmul(unit, ops.transpose(unit))
        else:
            product = ops.matmul(ops.transpose(unit), unit)
        size = product.shape[0]
        off_diagonal = ops.sum(ops.abs(product)) - ops.sum(ops.abs(_diagonal(product, size)))
        return self.factor * 0.5 * off_diagonal / (size * (size - 1.0) / 2.0)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


def _diagonal(matrix, size):
    """The diagonal of a square (size, size) Tensor, as a vector."""
    return ops.reshape(matrix, shape=(size * size,))[:: size + 1]


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer
_CLASSES = (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)
REGULARIZERS = {
    "l1": L1,
    "l2": L2,
    "l1_l2": L1L2,
    "l1l2": L1L2,
    "orthogonal_regularizer": OrthogonalRegularizer,
    "orthogonalregularizer": OrthogonalRegularizer,
}
register_classes("keras.regularizers", _CLASSES)


def serialize(regularizer):
    """Keras's description ``{"module", "class_name", "config", "registered_name"}``; None
    stays None. A class of your own is written as Keras writes it: with its Python module and
    the name it was registered under (``"package>Name"``, else its class name)."""
    if regularizer is None:
        return None
    cls = type(regularizer)
    builtin = classes_of("keras.regularizers").get(cls.__name__) is cls
    if builtin:
        return describe(regularizer, "keras.regularizers")
    return describe(regularizer, cls.__module__, custom_name(cls) or cls.__name__)


def deserialize(config, custom_objects=None):
    """The regularizer that :func:`serialize` (or Keras) describes, or one from its name.

    ``custom_objects`` maps further class names to classes.
    """
    return deserialize_object("regularizer", REGULARIZERS, config, custom_objects)


def get(identifier):
    """A regularizer from its name, a config dict, a class, an instance or a callable; None
    stays None.

    Raises:
        ValueError: an unknown name (listing the known ones) or an identifier of another kind.
    """
    return get_object("regularizer", REGULARIZERS, identifier)
