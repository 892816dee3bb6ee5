"""Checking and batching the arrays given to ``fit``, ``evaluate`` and ``predict``."""

import numpy as np

from ...engine import Tensor


def as_input_array(x, argument="x"):
    """``x`` as a float32 array (Keras's float type), rejecting what cannot be trained on.

    Raises:
        TypeError: non-numeric data.
        ValueError: NaN or infinite values (naming the first one's position).
    """
    array = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"{argument} must be numeric; got an array of dtype {array.dtype}. Convert it first, "
            f"e.g. np.asarray({argument}, dtype='float32')."
        )
    if array.dtype != np.float32:
        array = array.astype(np.float32)
    finite = np.isfinite(array)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"{argument} contains NaN or infinite values (the first at index {where}); "
            f"clean or impute the data before training."
        )
    return array


def as_target_array(y, argument="y"):
    """Labels as an array: integers stay integers (class indices), floats become float32."""
    array = y.numpy() if isinstance(y, Tensor) else np.asarray(y)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{argument} must be numeric; got an array of dtype {array.dtype}.")
    if array.dtype.kind == "f":
        if array.dtype != np.float32:
            array = array.astype(np.float32)
        if not np.isfinite(array).all():
            raise ValueError(f"{argument} contains NaN or infinite values.")
    elif array.dtype.kind == "b":
        array = array.astype(np.float32)
    return array


def check_lengths(x, y, sample_weight=None):
    """All arrays must hold the same number of samples along axis 0."""
    if x.ndim == 0:
        raise ValueError("x must have a batch axis; got a scalar.")
    if y is not None and (y.ndim == 0 or len(y) != len(x)):
        raise ValueError(
            f"x and y must have the same number of samples: x has {len(x)} (shape {x.shape}), "
            f"y has {len(y) if y.ndim else 0} (shape {y.shape})."
        )
    if sample_weight is not None and len(sample_weight) != len(x):
        raise ValueError(
            f"sample_weight must have one weight per sample: x has {len(x)} samples, "
            f"sample_weight has {len(sample_weight)}."
        )


def split_validation(arrays, validation_split):
    """Split off the *last* ``validation_split`` fraction of each array, before any shuffling."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"validation_split must be in (0, 1); got {validation_split}")
    n = len(arrays[0])
    split_at = int(np.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"validation_split={validation_split} leaves no data for training or for validation "
            f"with {n} samples."
        )
    train = tuple(None if a is None else a[:split_at] for a in arrays)
    validation = tuple(None if a is None else a[split_at:] for a in arrays)
    return train, validation


def batch_slices(n, batch_size, order=None):
    """Index arrays (``order`` given) or slices for consecutive batches; the last may be short."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield slice(start, stop) if order is None else order[start:stop]


def take(array, index):
    """Rows ``index`` of ``array`` (a copy of just the batch; None stays None)."""
    if array is None:
        return None
    if isinstance(index, slice):
        return array[index]
    return array.take(index, axis=0)
