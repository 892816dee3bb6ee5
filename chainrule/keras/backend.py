"""``keras.backend``: Keras 3's fourteen backend names.

The settings (``floatx``, ``epsilon``, ``image_data_format``) with their setters, the name of
the backend, the dtype helpers (``standardize_dtype``, ``result_type``, ``is_float_dtype``,
``is_int_dtype``), ``is_keras_tensor``, and the session's counters (``get_uid``,
``clear_session``).

``backend()`` answers ``"tensorflow"``: Keras programs branch on it to pick backend-specific
code, and chainrule's backend-specific vocabulary is TensorFlow's (``import chainrule as tf``
gives ``tf.GradientTape``, ``tf.data``, ``tf.function``, ``tf.nn``), so the TensorFlow branch is
the one that runs. A JAX or PyTorch branch would need those libraries' own functions, and a
``"numpy"`` answer would send programs down Keras's inference-only path, which cannot train.
"""

from .config import (
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from .keras_tensor import clear_session, is_keras_tensor
from .layers.base import unique_name
from .ops.dtypes import result_type, standardize_dtype

__all__ = [
    "backend",
    "clear_session",
    "epsilon",
    "floatx",
    "get_uid",
    "image_data_format",
    "is_float_dtype",
    "is_int_dtype",
    "is_keras_tensor",
    "result_type",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "standardize_dtype",
]


def backend():
    """The backend's name: ``"tensorflow"`` (see the module for why)."""
    return "tensorflow"


def is_float_dtype(dtype):
    """True for the floating dtypes (``float16``, ``float32``, ``float64``, ``bfloat16``; also
    Python's ``float``)."""
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int_dtype(dtype):
    """True for the signed and unsigned integer dtypes (also Python's ``int``)."""
    return standardize_dtype(dtype).startswith(("int", "uint"))


def get_uid(prefix=""):
    """The next number for ``prefix``: 1 on the first call, then 2, 3...

    It shares the counter that names layers, as in Keras: after a layer named ``dense`` was made,
    ``get_uid("dense")`` is 2 (and the next Dense is named ``dense_2``).
    """
    name = unique_name(prefix)
    # unique_name hands out prefix, prefix_1, prefix_2...: the n-th name has uid n
    return 1 if name == prefix else int(name[len(prefix) + 1 :]) + 1
