"""``keras.Variable``: a variable made as Keras 3 makes one, from an initial value or from an
initializer and a shape. Layers' weights (``add_weight``) are such variables too, so
``isinstance(layer.kernel, keras.Variable)`` holds as in Keras."""

import numpy as np

from .. import variables
from ..engine import Tensor
from . import config
from . import initializers as initializers_module
from .naming import name_scope, path_in_scope


class Variable(variables.Variable):
    """A model's state: a mutable tensor that optimizers update when it is trainable.

    Args:
        initializer: the initial value (an array, a Tensor, a number), or an initializer (an
            ``Initializer``, a callable ``(shape, dtype) -> array`` or its name, such as
            ``"zeros"``), which then needs ``shape``.
        shape: the variable's shape; required with an initializer, checked against a value.
        dtype: the variable's dtype; float32 (Keras's ``floatx()``) by default.
        trainable: whether optimizers update it and gradients are computed for it.
        autocast, aggregation, synchronization: kept as attributes, as Keras keeps them; they
            change nothing here (one device, one compute dtype).
        name: the variable's name (default ``"variable"``).

    Example::

        w = keras.Variable(initializer="glorot_uniform", shape=(3, 2), name="kernel")
        b = keras.Variable(np.zeros(2))       # float32, as Keras makes it

    Raises:
        ValueError: an initializer without ``shape``, or a value of another shape than
            ``shape``.
    """

    __slots__ = (
        "aggregation",
        "autocast",
        "overwrite_with_gradient",
        "regularizer",
        "synchronization",
    )

    def __init__(
        self,
        initializer,
        shape=None,
        dtype=None,
        trainable=True,
        autocast=True,
        aggregation="none",
        synchronization="auto",
        name=None,
    ):
        dtype = np.dtype(dtype or config.floatx())
        if isinstance(initializer, str) or _is_initializer(initializer):
            if shape is None:
                raise ValueError(
                    f"When creating a Variable from an initializer, the `shape` argument should "
                    f"be specified. Received: initializer={initializer!r} and shape={shape}"
                )
            initializer = initializers_module.get(initializer)
            value = initializer(tuple(shape), dtype=dtype)
        else:
            value = np.asarray(
                initializer.numpy() if hasattr(initializer, "numpy") else initializer
            )
            if shape is not None and tuple(shape) != value.shape:
                raise ValueError(
                    f"Initial value has shape {value.shape}, but the variable's shape is "
                    f"{tuple(shape)}. Pass a value of that shape, or leave `shape` out."
                )
        name = name or "variable"
        super().__init__(value, trainable=trainable, name=name, dtype=dtype)
        self.path = path_in_scope(name)  # under the name scopes open now (keras.name_scope)
        self.autocast = autocast
        self.aggregation = aggregation
        self.synchronization = synchronization
        self.regularizer = None  # a layer's add_weight sets these two
        self.overwrite_with_gradient = False

    @property
    def value(self):
        """The current values, as a Tensor of their own (a later ``assign`` leaves it alone):
        Keras 3's property, so ``float(v.value)`` and a metric's ``return self.total.value``
        work as there. (``chainrule.Variable``, TensorFlow's, keeps ``value()`` a method.)"""
        return Tensor(self.data.copy())

    def __repr__(self):
        # f"{array}" writes a scalar as Python writes its value (9.999999974752427e-07 for
        # float32 1e-6), an array as str() does: Keras's repr, character for character
        return (
            f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
            f"value={self.numpy()}>"
        )


def _is_initializer(value):
    """True for an initializer (something called with a shape), False for a value."""
    return callable(value) and not hasattr(value, "shape")


def add_state_variable(owner, initializer, shape, dtype, aggregation, name):
    """A non-trainable Variable of ``owner`` (a metric's or an optimizer's state), at the path
    ``<owner's name>/<name>`` and appended to ``owner._variables``, as Keras keeps such state."""
    with name_scope(owner.name.replace("/", ">"), caller=owner):
        variable = Variable(
            initializer=initializer,
            shape=shape,
            dtype=dtype,
            trainable=False,
            aggregation=aggregation,
            name=name,
        )
    owner._variables.append(variable)
    return variable
