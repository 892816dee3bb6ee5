"""Utilities: one-hot encoding and reproducible seeding."""

import random as python_random

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
