"""Conversion to Tensors and Keras 3's dtype promotion.

``convert_to_tensor`` turns what a user passes (a Tensor, an ndarray, a Python scalar or list)
into a Tensor: Python floats become ``floatx()`` (float32), Python ints int32, arrays keep
their dtype. ``result_type`` is the dtype Keras 3 gives an op on the given inputs.
"""

import numpy as np

from ...engine import Tensor


def standardize_dtype(dtype):
    """The dtype's Keras name: ``"float32"``, ``"int32"``, ``"bool"``..."""
    if dtype is None:
        return "float32"
    if hasattr(dtype, "dtype") and not isinstance(dtype, type):
        dtype = dtype.dtype
    return np.dtype(dtype).name


def result_type(*values):
    """The dtype of an op on ``values`` (Tensors, arrays, dtypes or Python scalars)."""
    return np.result_type(*[_dtype_or_value(v) for v in values]).name


def _dtype_or_value(value):
    if isinstance(value, Tensor):
        return value.dtype
    return value


def convert_to_tensor(x, dtype=None):
    """``x`` as a Tensor (the same Tensor when it already is one and ``dtype`` agrees)."""
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == np.dtype(dtype) else Tensor(x.data, dtype=dtype)
    if dtype is None and not isinstance(x, (np.ndarray, np.generic)):
        array = np.asarray(x)
        if array.dtype == np.float64:
            dtype = "float32"
        elif array.dtype == np.int64:
            dtype = "int32"
    return Tensor(x, dtype=dtype)
