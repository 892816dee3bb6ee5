"""What the preprocessing layers share: calling on raw NumPy data (strings included), reading
the data ``adapt`` learns from, and encoding integer indices as one-hot, multi-hot or count
vectors."""

import numpy as np

from ....engine import Tensor, values_of
from ....tf.data import Dataset
from ...keras_tensor import is_symbolic
from ...utils import PyDataset
from ..base import Layer

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


class PreprocessingLayer(Layer):
    """A layer that maps data to data without weights to train.

    Called on concrete values it hands ``call`` a NumPy array as given (strings stay strings,
    integers stay integers: no cast to the layer's float dtype) and returns a chainrule Tensor;
    on KerasTensors it records the call like any layer.
    """

    def __call__(self, *args, **kwargs):
        inputs = args[0] if args else kwargs.get("inputs")
        if is_symbolic(inputs):
            return super().__call__(*args, **kwargs)
        if not args:
            args = (kwargs.pop("inputs"),)
        kwargs.pop("training", None)
        self.built = True
        return self.call(to_numpy(args[0]), *args[1:], **kwargs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def to_numpy(data):
    """``data`` (a Tensor, array, list or scalar) as a NumPy array; bytes become str."""
    if isinstance(data, Tensor):
        return values_of(data).copy() if data.dtype == object else data.numpy()  # strings: str
    array = np.asarray(data)
    if array.dtype.kind == "S":
        array = np.char.decode(array, "utf-8")
    if array.dtype.kind == "O" and array.size and isinstance(array.flat[0], bytes):
        array = np.vectorize(lambda v: v.decode("utf-8") if isinstance(v, bytes) else v)(array)
    return array


def adapt_batches(layer_name, data, steps=None, lists_are_batches=False):
    """The batches ``adapt`` reads from ``data``, as NumPy arrays.

    An array or a Tensor is one batch, and so is a list or tuple unless ``lists_are_batches``
    (Keras's numeric layers read a list as a sequence of batches, its lookups as data); a
    ``chainrule.data.Dataset``, a ``PyDataset`` or any other iterable yields one batch per
    element (of a ``(x, y)`` element, ``x``), at most ``steps`` of them.

    Raises:
        TypeError: data that is none of these.
    """
    one_batch = (np.ndarray, Tensor, str, int, float)
    if isinstance(data, one_batch) or (isinstance(data, (list, tuple)) and not lists_are_batches):
        yield to_numpy(data)
        return
    if isinstance(data, Dataset):
        batches = data.as_numpy_iterator()
    elif isinstance(data, PyDataset):
        batches = (data[i] for i in range(len(data)))
    elif hasattr(data, "__iter__"):
        batches = iter(data)
    else:
        raise TypeError(
            f"{layer_name}.adapt: expected a NumPy array, a list, a Tensor, a chainrule.data."
            f"Dataset, a keras.utils.PyDataset or an iterable of batches; received "
            f"{type(data).__name__}."
        )
    for i, batch in enumerate(batches):
        if steps is not None and i >= steps:
            break
        if isinstance(batch, tuple):
            batch = batch[0]
        yield to_numpy(batch)


def check_output_mode(layer_name, output_mode, allowed=OUTPUT_MODES):
    """Raise a ValueError naming the layer unless ``output_mode`` is one of ``allowed``."""
    if output_mode not in allowed:
        raise ValueError(
            f"{layer_name}: invalid value for argument `output_mode`. Expected one of "
            f"{allowed}. Received: output_mode={output_mode!r}"
        )


def encode_categorical(indices, output_mode, depth, dtype="float32", count_weights=None):
    """Integer indices in [0, depth) as vectors of length ``depth``, as Keras encodes them.

    With x of shape s:
        "int":       x cast to ``dtype``.
        "one_hot":   y[..., j] = [x == j], shape s + (depth,), or s[:-1] + (depth,) when the
                     last axis of s has size 1.
        "multi_hot": y[b, j] = max over the sample axis of [x[b, t] == j]; shape s[:1] + s[2:] +
                     (depth,) for rank >= 2, (depth,) for rank 1, where a rank-1 x is one sample.
        "count":     as multi_hot with a sum instead of the max (times ``count_weights[b, t]``).

    Indices outside [0, depth) (Keras's padding of masked or unknown values) add nothing.

    Returns:
        An ndarray.
    """
    indices = np.asarray(indices)
    if output_mode == "int":
        return indices.astype(dtype)
    if indices.ndim == 0:
        indices = indices[None]
    if output_mode == "one_hot" and indices.ndim > 1 and indices.shape[-1] == 1:
        indices = indices[..., 0]
    onehot = indices[..., None] == np.arange(depth)
    if output_mode == "one_hot":
        return onehot.astype(dtype)
    axis = 1 if indices.ndim > 1 else 0
    if output_mode == "multi_hot":
        return onehot.any(axis=axis).astype(dtype)
    if count_weights is not None:
        weights = np.asarray(count_weights)
        return (onehot * weights[..., None]).sum(axis=axis).astype(weights.dtype)
    return onehot.sum(axis=axis).astype(dtype)
