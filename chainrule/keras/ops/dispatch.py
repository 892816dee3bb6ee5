"""The ``keras_op`` decorator every public function of ``keras.ops`` wears.

On values it calls the function. On symbolic tensors (``keras.Input`` and what layers return on
them) it records the call in the functional graph instead and returns symbolic tensors, whose
shapes and dtypes come from running the function on samples (see
:func:`chainrule.keras.keras_tensor.symbolic_op`).
"""

import functools

from ..keras_tensor import is_symbolic, symbolic_op


def keras_op(fn):
    """Make ``fn`` a Keras op: a plain call on values; on arguments that hold a KerasTensor
    (directly, or inside lists, tuples and dicts, as ``concatenate([a, b])``), a node named
    after ``fn`` in the graph that ``keras.Model(inputs, outputs)`` runs."""

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if is_symbolic(args) or (kwargs and is_symbolic(kwargs)):
            return symbolic_op(fn, args, kwargs, fn.__name__)
        return fn(*args, **kwargs)

    return op
