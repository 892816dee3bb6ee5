"""Weight penalties added to the loss: L1, L2 and both (Keras's defaults: 0.01)."""

from .. import ops
from .registry import lookup, register_classes


class Regularizer:
    """Base class: ``regularizer(weight)`` returns a scalar penalty Tensor."""

    def __call__(self, x):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """penalty = l1 * sum |w| + l2 * sum w²."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        penalty = 0.0
        if self.l1:
            penalty = penalty + self.l1 * ops.sum(ops.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * ops.sum(x * x)
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """penalty = l1 * sum |w|."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """penalty = l2 * sum w²."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2
REGULARIZERS = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}
register_classes("keras.regularizers", REGULARIZERS.values())


def serialize(regularizer):
    """Keras's serialised form ``{"class_name": ..., "config": ...}`` (None stays None)."""
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def get(identifier):
    """A regularizer from its name, an instance or a callable."""
    if identifier is None or callable(identifier):
        return identifier
    return lookup("regularizer", REGULARIZERS, identifier)()
