"""Optimizers by class or by Keras's string identifiers ('sgd', 'adam', 'rmsprop')."""

from ..registry import lookup
from .adam import Adam
from .base import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

OPTIMIZERS = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def get(identifier):
    """An optimizer from a name (with default settings) or an Optimizer instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return lookup("optimizer", OPTIMIZERS, identifier)()
    raise TypeError(f"Could not interpret optimizer identifier: {identifier!r}")
