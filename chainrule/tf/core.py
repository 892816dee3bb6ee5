"""Tensors the TensorFlow way: ``constant``, ``convert_to_tensor``, ``cast``, the dtypes, and the
array functions that TensorFlow programs call from the top-level module (``tf.reshape``,
``tf.concat``, ``tf.one_hot``, ``tf.zeros``...).

Each returns a :class:`~chainrule.engine.Tensor`, also for NumPy or Python inputs (so ``.numpy()``
works on the result), and computes with the engine's primitives, so the result is differentiable
wherever TensorFlow's is. As in TensorFlow, Python floats become float32 and Python ints int32;
NumPy arrays keep their dtype.
"""

import builtins
import contextlib
import re

import numpy as np

from .. import ops
from ..backend import xp_of
from ..engine import Tensor, as_array, is_text, text_array, values_of

float16, float32, float64 = np.dtype("float16"), np.dtype("float32"), np.dtype("float64")
int8, int16 = np.dtype("int8"), np.dtype("int16")
int32, int64 = np.dtype("int32"), np.dtype("int64")
uint8, bool_ = np.dtype("uint8"), np.dtype("bool")
string = np.dtype(object)  # a string Tensor's storage: Python str (engine.text_array)

_INT32 = np.iinfo(np.int32)


def as_dtype(dtype):
    """A dtype from a name ('float32'), a NumPy type or dtype (``chainrule.float32``)."""
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"Cannot interpret {dtype!r} as a dtype; use e.g. 'float32'.") from None


def python_array(value):
    """Python (non-array) data as an array: floats as float32, ints as int32 when they fit."""
    array = as_array(value)
    if array.dtype == np.int64 and (
        not array.size or (_INT32.min <= array.min() and array.max() <= _INT32.max)
    ):
        array = array.astype(np.int32)
    return array


def _python_strings(value):
    """Python strings (str, bytes, or lists of them) as a string array, else None."""
    if isinstance(value, (str, bytes)) or (isinstance(value, (list, tuple)) and value):
        return text_array(np.asarray(value, dtype=object))
    return None


def constant(value, dtype=None, shape=None, name=None):
    """A tensor holding ``value`` (a new leaf: no gradient flows back through it).

    Args:
        value: a number, a (nested) list, a NumPy array or a Tensor.
        dtype: the dtype to convert to (default: float32 for Python floats, int32 for Python
            ints, the array's own dtype for arrays).
        shape: if given, ``value`` is reshaped to it, or, for one value, filled into it.

    Raises:
        ValueError: ``shape`` that does not hold the value's number of elements.
    """
    if isinstance(value, Tensor):
        array = values_of(value).copy()  # a snapshot: assigning to a Variable leaves it alone
    elif isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
    else:
        strings = _python_strings(value)
        array = python_array(value) if strings is None else strings
    if array.dtype == string:
        if dtype is not None and as_dtype(dtype) != string:
            raise TypeError(
                f"constant: strings cannot be converted to {as_dtype(dtype)}; use "
                f"tf.strings.to_number."
            )
        dtype = None
    if dtype is not None:
        array = array.astype(as_dtype(dtype))
    if shape is not None:
        shape = tuple(int(n) for n in shape)
        if array.size == 1:
            array = xp_of(array).full(shape, array.reshape(()), dtype=array.dtype)
        elif int(np.prod(shape)) == array.size:
            array = array.reshape(shape)
        else:
            raise ValueError(
                f"constant: a value of shape {array.shape} ({array.size} elements) does not fit "
                f"shape={shape}; give a shape of {array.size} elements or a single value."
            )
    return Tensor(array, name=name)


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """``value`` as a Tensor: a Tensor (or Variable) is returned as it is, anything else goes
    through :func:`constant`.

    Raises:
        ValueError: a Tensor whose dtype differs from the requested ``dtype`` (use cast).
    """
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype != as_dtype(dtype):
            raise ValueError(
                f"convert_to_tensor: requested dtype {as_dtype(dtype)} for a Tensor of dtype "
                f"{value.dtype}; use chainrule.cast(x, {str(as_dtype(dtype))!r}) to convert it."
            )
        return value
    if dtype is None and dtype_hint is not None and not isinstance(value, np.ndarray):
        array = python_array(value)
        if array.dtype.kind == np.dtype(dtype_hint).kind or array.dtype.kind in "iu":
            dtype = dtype_hint
    return constant(value, dtype=dtype, name=name)


def tensors(*values):
    """The arguments with the first converted to a Tensor when none is one, so that the result
    of an op on them is a Tensor, and Python lists converted as TensorFlow converts them (ints
    to int32, floats to float32); Python numbers among them keep taking the tensors' dtype."""
    values = tuple(convert_to_tensor(v) if isinstance(v, (list, tuple)) else v for v in values)
    if not any(isinstance(v, Tensor) for v in values):
        return (convert_to_tensor(values[0]),) + values[1:]
    return values


def cast(x, dtype, name=None):
    """x converted to ``dtype`` (floats to integers truncate toward zero, as in TensorFlow).
    Differentiable between floating dtypes: dL/dx = g cast back."""
    return ops.cast(convert_to_tensor(x), dtype=as_dtype(dtype))


def identity(input, name=None):
    """y = x, recorded (a new tensor in the graph)."""
    x = convert_to_tensor(input)
    return ops.reshape(x, shape=x.shape)


def zeros(shape, dtype=float32, name=None):
    """A tensor of zeros of ``shape`` (float32 by default)."""
    return Tensor(np.zeros(_shape(shape), dtype=as_dtype(dtype)), name=name)


def ones(shape, dtype=float32, name=None):
    """A tensor of ones of ``shape`` (float32 by default)."""
    return Tensor(np.ones(_shape(shape), dtype=as_dtype(dtype)), name=name)


def fill(dims, value, name=None):
    """A tensor of shape ``dims`` filled with ``value`` (whose dtype it takes)."""
    return constant(value, shape=_shape(dims), name=name)


def zeros_like(input, dtype=None, name=None):
    """Zeros of the shape (and dtype, unless given) of ``input``."""
    data = convert_to_tensor(input).data
    return Tensor(xp_of(data).zeros_like(data, dtype=dtype and as_dtype(dtype)), name=name)


def ones_like(input, dtype=None, name=None):
    """Ones of the shape (and dtype, unless given) of ``input``."""
    data = convert_to_tensor(input).data
    return Tensor(xp_of(data).ones_like(data, dtype=dtype and as_dtype(dtype)), name=name)


def range(start, limit=None, delta=1, dtype=None, name="range"):
    """The numbers start, start + delta, ... below ``limit`` (``range(n)``: 0 ... n-1)."""
    if limit is None:
        start, limit = 0, start
    values = np.arange(start, limit, delta)
    return constant(
        values if dtype is not None else python_array(values.tolist()), dtype=dtype, name=name
    )


def _shape(shape):
    if isinstance(shape, Tensor):
        shape = shape.tolist()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(n) for n in shape)


def _moved(op, numpy_function, x, **options):
    """``op`` (an op that only moves elements) on a Tensor; a string Tensor, which no
    primitive takes, is moved by NumPy's ``numpy_function``."""
    if is_text(x):
        return Tensor(numpy_function(x.data, **options))
    return op(x, **options)


def _joined(op, numpy_function, values, axis):
    """``op`` joining Tensors along ``axis`` (concatenate, stack); string Tensors are joined by
    NumPy's ``numpy_function``."""
    tensors = [convert_to_tensor(v) for v in values]
    if any(is_text(t) for t in tensors):
        return Tensor(numpy_function([t.data for t in tensors], axis=axis))
    return op(tensors, axis=axis)


def reshape(tensor, shape, name=None):
    """The same elements in ``shape`` (one axis may be -1, inferred).   dL/dx = g reshaped back."""
    return _moved(ops.reshape, np.reshape, convert_to_tensor(tensor), shape=_shape(shape))


def transpose(a, perm=None, conjugate=False, name="transpose"):
    """Axes permuted by ``perm`` (reversed by default).   dL/dx = g permuted back."""
    axes = None if perm is None else _shape(perm)
    return _moved(ops.transpose, np.transpose, convert_to_tensor(a), axes=axes)


def concat(values, axis, name="concat"):
    """The tensors joined along the existing ``axis``.   dL/dx_i = the slice of g of x_i."""
    return _joined(ops.concatenate, np.concatenate, values, axis)


def stack(values, axis=0, name="stack"):
    """The tensors (of one shape) stacked along a new ``axis``.   dL/dx_i = g at position i."""
    return _joined(ops.stack, np.stack, values, axis)


def squeeze(input, axis=None, name=None):
    """``input`` without its axes of size 1 (or only those in ``axis``)."""
    return _moved(
        ops.squeeze,
        np.squeeze,
        convert_to_tensor(input),
        axis=axis if axis is None else (axis if isinstance(axis, int) else tuple(axis)),
    )


def expand_dims(input, axis, name=None):
    """``input`` with a new axis of size 1 at ``axis``."""
    return _moved(ops.expand_dims, np.expand_dims, convert_to_tensor(input), axis=axis)


def where(condition, x=None, y=None, name=None):
    """x where ``condition`` holds, else y (both given), elementwise; differentiable in x and y.

    Raises:
        ValueError: only one of x and y given (TensorFlow's one-argument form, the indices of
            the true elements, is not provided).
    """
    if x is None or y is None:
        raise ValueError(
            "where: give both x and y (where(condition, x, y)); the indices of the true "
            "elements are np.argwhere(condition.numpy())."
        )
    condition = convert_to_tensor(condition).data
    x, y = tensors(x, y)
    return ops.where(condition, x, y)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """y[..., k] = on_value where k == indices[...], off_value elsewhere (1 and 0 by default).

    An index outside [0, depth) gives a row of off_value, as in TensorFlow. ``axis`` places the
    new axis of size ``depth`` (last by default). No gradient flows into the indices.

    Raises:
        TypeError: indices that are not integers.
    """
    indices = convert_to_tensor(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(
            f"one_hot: indices must be integers; got dtype {indices.dtype}. Convert them with "
            f"chainrule.cast(indices, 'int32')."
        )
    if dtype is None:
        given = on_value if on_value is not None else off_value
        dtype = float32 if given is None else convert_to_tensor(given).dtype
    hot = ops.one_hot(indices, depth=int(depth), dtype=as_dtype(dtype))
    if on_value is not None or off_value is not None:
        on = 1 if on_value is None else on_value
        off = 0 if off_value is None else off_value
        hot = ops.cast(hot * (on - off) + off, dtype=as_dtype(dtype))
    if axis is not None and axis % hot.ndim != hot.ndim - 1:
        order = list(builtins.range(hot.ndim - 1))
        order.insert(axis % hot.ndim, hot.ndim - 1)
        hot = ops.transpose(hot, axes=tuple(order))
    return hot


CPU_NAMES = re.compile(r"^(/?(job:[^/]+/)?(device:)?)?cpu(:\d+)?$", re.IGNORECASE)


@contextlib.contextmanager
def device(device_name):
    """``tf.device`` and ``keras.device``: run the block on ``device_name``. chainrule computes
    on the CPU, so a CPU name (``"cpu"``, ``"CPU:0"``, ``"/device:CPU:0"``) is accepted and
    anything else refused.

    Raises:
        ValueError: a GPU or TPU name, saying that chainrule runs on the CPU.
    """
    if not isinstance(device_name, str) or not CPU_NAMES.match(device_name.strip()):
        raise ValueError(
            f"device: chainrule computes with NumPy on the CPU; got {device_name!r}. Use "
            f"'cpu' (or leave the device out)."
        )
    yield
