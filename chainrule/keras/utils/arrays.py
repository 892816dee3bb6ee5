"""Arrays for training: one-hot labels (``to_categorical``), sequences padded to one length
(``pad_sequences``) and vectors scaled to unit norm (``normalize``), as NumPy arrays."""

import numpy as np


def to_categorical(y, num_classes=None):
    """One-hot encode integer class labels: shape (n,) -> (n, num_classes), as Keras does.

    Args:
        y: integer labels in [0, num_classes).
        num_classes: the number of classes (default: max(y) + 1).

    Returns:
        A float array with a 1 at each label's position.
    """
    y = np.asarray(y)
    if y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
        raise ValueError("to_categorical expects integer class labels; got fractional values.")
    y = y.astype(np.int64)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"to_categorical: labels must be in [0, {num_classes}); got values from {y.min()} "
            f"to {y.max()}."
        )
    categorical = np.zeros(y.shape + (num_classes,))
    np.put_along_axis(categorical, y[..., None], 1.0, axis=-1)
    return categorical


def pad_sequences(
    sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0
):
    """Cut or pad sequences of different lengths to one length, as one array.

    Sequence i of length n_i fills row i of a (len(sequences), maxlen) array (or
    (len(sequences), maxlen) + the shape of one element) of ``value``: at its end when
    ``padding="post"``, else at its start; when n_i > maxlen, its first n_i - maxlen elements
    are cut (``truncating="pre"``) or its last ones (``"post"``). Empty sequences stay padding.

    Args:
        sequences: a list of sequences (lists or arrays; their elements numbers, or arrays of
            one shape).
        maxlen: the length of the rows (default: the longest sequence's length).
        dtype: the array's dtype (default int32).
        padding, truncating: ``"pre"`` (default) or ``"post"``.
        value: the padding value (default 0).

    Returns:
        A NumPy array of shape (len(sequences), maxlen) + element shape.

    Raises:
        ValueError: a padding or truncating other than "pre"/"post", a negative maxlen,
            sequences that are not sized, or elements of different shapes.

    Example::

        pad_sequences([[1, 2], [3, 4, 5]])          # [[0, 1, 2], [3, 4, 5]]
        pad_sequences([[1, 2], [3]], padding="post") # [[1, 2], [3, 0]]
    """
    for name, mode in (("padding", padding), ("truncating", truncating)):
        if mode not in ("pre", "post"):
            raise ValueError(
                f'pad_sequences: {name} type "{mode}" not understood; use "pre" or "post".'
            )
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: `sequences` must be a list of sequences (iterables).")
    lengths, sample_shape = [], None
    for i, sequence in enumerate(sequences):
        if not hasattr(sequence, "__len__"):
            raise ValueError(
                f"pad_sequences: `sequences` must be a list of iterables; found non-iterable "
                f"{sequence!r:.80} at position {i}."
            )
        lengths.append(len(sequence))
        if sample_shape is None and len(sequence):
            sample_shape = np.asarray(sequence).shape[1:]
    if maxlen is None:
        maxlen = max(lengths, default=0)
    if maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be >= 0; received maxlen={maxlen}.")
    sample_shape = () if sample_shape is None else sample_shape
    padded = np.full((len(lengths), maxlen) + sample_shape, value, dtype=dtype)
    for i, sequence in enumerate(sequences):
        if not len(sequence) or not maxlen:
            continue
        kept = np.asarray(sequence, dtype=dtype)
        kept = kept[-maxlen:] if truncating == "pre" else kept[:maxlen]
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"pad_sequences: the elements of sequence {i} have shape {kept.shape[1:]}, "
                f"unlike those of the first non-empty sequence, {sample_shape}."
            )
        if padding == "post":
            padded[i, : len(kept)] = kept
        else:
            padded[i, maxlen - len(kept) :] = kept
    return padded


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (a zero vector stays zero), as a NumPy
    array: Keras's ``keras.utils.normalize``."""
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
