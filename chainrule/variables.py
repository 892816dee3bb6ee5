"""Variables: tensors that hold a model's state and are updated in place."""

import numpy as np

from .engine import Tensor, as_array


class Variable(Tensor):
    """A mutable Tensor: a weight, a bias, an optimizer's moment, a counter.

    A trainable floating-point variable requires a gradient, so every op on it is recorded.
    ``assign``, ``assign_add`` and ``assign_sub`` update the values in place (no graph).

    Args:
        initial_value: array-like initial values.
        trainable: whether optimizers update it (and gradients are computed for it).
        name: a name, as Keras gives its weights (``kernel``, ``bias``).
        dtype: optional dtype (float32 for Python floats, otherwise the array's own).
    """

    __slots__ = ("trainable", "path", "constraint")
    _holds_state = True  # its values change between runs (see engine.tracing)

    def __init__(self, initial_value, trainable=True, name=None, dtype=None):
        data = np.array(as_array(initial_value, dtype))  # own copy: assign() writes into it
        floating = data.dtype.kind == "f"
        super().__init__(data, requires_grad=trainable and floating, name=name)
        self.trainable = trainable
        self.path = name
        self.constraint = None

    def assign(self, value):
        """Set the values (same shape) in place and return the variable."""
        value = as_array(value)
        if value.shape != self.shape and value.size != 1:
            raise ValueError(
                f"Variable {self.name!r}: cannot assign a value of shape {value.shape} to a "
                f"variable of shape {self.shape}"
            )
        self.data[...] = value
        return self

    def assign_add(self, delta):
        """Add ``delta`` in place and return the variable."""
        self.data += as_array(delta)
        return self

    def assign_sub(self, delta):
        """Subtract ``delta`` in place and return the variable."""
        self.data -= as_array(delta)
        return self

    def value(self):
        return Tensor(self.data)

    def __repr__(self):
        return f"<Variable {self.name!r} shape={self.shape} dtype={self.dtype}>"
