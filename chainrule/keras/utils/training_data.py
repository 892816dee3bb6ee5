"""What ``fit`` reads: batches packed as ``(x, y, sample_weight)``, datasets written in Python
(``PyDataset``), and one seed for every source of randomness (``set_random_seed``)."""

import random as python_random

import numpy as np

from ... import random


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


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch ``unpack_x_y_sample_weight`` reads back: ``x`` alone when there is no ``y``
    (``(x,)`` when ``x`` is itself a tuple or list, so that it stays one item), ``(x, y)``
    without a ``sample_weight``, else ``(x, y, sample_weight)`` (Keras's helper of that name)."""
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


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
