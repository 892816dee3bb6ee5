"""Weight constraints: projections the optimizer applies to a weight after each update.

A constraint maps a weight w to a projected w' of the same shape. Norms are L2 norms taken
along ``axis`` (Keras's default axis 0: for a Dense kernel (in, out) each column, the weights
into one unit, is constrained separately), and, as in Keras, divided with ε = 1e-7 added:

    MaxNorm     w' = w * clip(n, 0, max_value) / (ε + n)
    MinMaxNorm  w' = w * (rate clip(n, min_value, max_value) + (1 - rate) n) / (ε + n)
    UnitNorm    w' = w / (ε + n)
    NonNeg      w' = max(w, 0)

They compute with chainrule's primitives, so they accept raw arrays (what the optimizer passes)
and Tensors alike.
"""

from .. import ops
from . import config
from .registry import describe, deserialize_object, get_object, register_classes


def _norms(w, axis):
    return ops.sqrt(ops.sum(w * w, axis=axis, keepdims=True))


class Constraint:
    """Base class: ``constraint(w)`` returns the projected weight (the identity here)."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Rescale each weight vector along ``axis`` whose norm exceeds ``max_value`` (default 2)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        return w * (ops.clip(norms, 0, self.max_value) / (config.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Set negative weights to zero."""

    def __call__(self, w):
        return ops.maximum(w, 0)


class UnitNorm(Constraint):
    """Rescale each weight vector along ``axis`` to norm 1."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (config.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move each weight vector's norm toward [min_value, max_value] at ``rate`` (1: all the way).

    Raises:
        ValueError: min_value > max_value, or rate outside [0, 1].
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        if min_value > max_value:
            raise ValueError(
                f"MinMaxNorm: min_value ({min_value}) must not exceed max_value ({max_value})"
            )
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"MinMaxNorm: rate must be in [0, 1]; got {rate}")
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * ops.clip(norms, self.min_value, self.max_value)
        desired = desired + (1 - self.rate) * norms
        return w * (desired / (config.epsilon() + norms))

    def get_config(self):
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
CONSTRAINTS = {
    "max_norm": MaxNorm,
    "maxnorm": MaxNorm,
    "non_neg": NonNeg,
    "nonneg": NonNeg,
    "unit_norm": UnitNorm,
    "unitnorm": UnitNorm,
    "min_max_norm": MinMaxNorm,
    "minmaxnorm": MinMaxNorm,
}
register_classes("keras.constraints", [*CONSTRAINTS.values(), Constraint])


def serialize(constraint):
    """Keras's description ``{"module", "class_name", "config", "registered_name"}``; None
    stays None."""
    if constraint is None:
        return None
    return describe(constraint, "keras.constraints")


def deserialize(config, custom_objects=None):
    """The constraint that :func:`serialize` (or Keras) describes, or one from its name.

    ``custom_objects`` maps further class names to classes.
    """
    return deserialize_object("constraint", CONSTRAINTS, config, custom_objects)


def get(identifier):
    """A constraint from its name (with default settings), a config dict, a class, an instance
    or a callable; None stays None.

    Raises:
        ValueError: an unknown name (listing the known ones) or an identifier of another kind.
    """
    return get_object("constraint", CONSTRAINTS, identifier)
