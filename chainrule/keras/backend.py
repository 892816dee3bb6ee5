"""Keras's ``backend`` helpers that programs reach for."""

from .layers.base import reset_names
from .losses import EPSILON


def epsilon():
    """The fuzz factor used to clip probabilities (1e-7)."""
    return EPSILON


def floatx():
    """The default float type of weights and computations."""
    return "float32"


def clear_session():
    """Reset the automatic layer and model names (``dense``, ``dense_1``...)."""
    reset_names()
