"""Utilities: one-hot encoding, reproducible seeding, Python datasets of batches
(``PyDataset``) for ``fit``, and Keras's snake_case names of classes."""

import random as python_random
import re

import numpy as np

from .. import random


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


def set_random_seed(seed):
    """Seed every source of randomness chainrule uses (weights, shuffling, dropout), and Python's
    and NumPy's global generators, so two runs with the same seed are identical."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"set_random_seed expects an integer seed; got {seed!r}")
    python_random.seed(seed)
    np.random.seed(seed)
    random.set_seed(int(seed))


def unpack_x_y_sample_weight(data):
    """A batch ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` as the triple
    ``(x, y, sample_weight)``, with None for what is missing (Keras's helper of that name).

    Raises:
        ValueError: a tuple of more than three items.
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) > 3:
        raise ValueError(
            f"A batch must be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of "
            f"{len(data)} items."
        )
    return data + (None,) * (3 - len(data))


class PyDataset:
    """Base class of datasets written in Python, batch by batch, as Keras's ``PyDataset``.

    Implement ``__len__`` (the number of batches per epoch) and ``__getitem__(index)`` (batch
    ``index``, as ``x``, ``(x, y)`` or ``(x, y, sample_weight)``); for an endless dataset,
    ``num_batches`` returns None instead. ``fit`` calls ``on_epoch_begin`` and ``on_epoch_end``
    around each epoch and, with ``shuffle=True``, visits the batches in a new random order per
    pass.

    Args:
        workers, use_multiprocessing, max_queue_size: accepted for compatibility; batches are
            computed one at a time in the training loop.

    Example::

        class Batches(keras.utils.PyDataset):
            def __init__(self, x, y, batch_size, **kwargs):
                super().__init__(**kwargs)
                self.x, self.y, self.batch_size = x, y, batch_size

            def __len__(self):
                return math.ceil(len(self.x) / self.batch_size)

            def __getitem__(self, index):
                rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
                return self.x[rows], self.y[rows]
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(
            f"{type(self).__name__} must implement __getitem__(index), returning batch index."
        )

    @property
    def num_batches(self):
        """The number of batches per epoch (``len(self)``), or None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must implement __len__ (the number of batches per epoch) or "
            f"a num_batches property (None for an endless dataset)."
        )

    def on_epoch_begin(self):
        """Called at the start of each epoch."""

    def on_epoch_end(self):
        """Called at the end of each epoch (to reshuffle, say)."""


Sequence = PyDataset


def snake_case(name):
    """Keras's ``to_snake_case``: 'BatchNormalization' -> 'batch_normalization', 'Conv2D' ->
    'conv2d'. It names layers and, in saved files, the groups that hold their weights."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
