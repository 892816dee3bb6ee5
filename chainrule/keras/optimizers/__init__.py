"""Optimizers by class or by Keras's string identifiers ('sgd', 'adam', 'rmsprop', ...), and
Keras's descriptions of them (``serialize``/``deserialize``)."""

from ..registry import lookup, register_classes
from . import schedules
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .base import Optimizer
from .ftrl import Ftrl
from .lamb import Lamb
from .lion import Lion
from .loss_scale import LossScaleOptimizer
from .multi import MultiOptimizer, OptimizerMap
from .muon import Muon
from .nadam import Nadam
from .nested import deserialize, serialize
from .rmsprop import RMSprop
from .schedule_free_adamw import ScheduleFreeAdamW
from .sgd import SGD

# the names get() takes, as Keras 3.15's (which has no name for Lamb; the wrappers need arguments)
OPTIMIZERS = {
    cls.__name__.lower(): cls
    for cls in (
        SGD,
        Adam,
        RMSprop,
        AdamW,
        Adagrad,
        Adadelta,
        Nadam,
        Adamax,
        Lion,
        Adafactor,
        Ftrl,
        Muon,
        ScheduleFreeAdamW,
    )
}
# the classes a file may name, as Keras writes them
register_classes(
    "keras.optimizers",
    [*OPTIMIZERS.values(), Lamb, LossScaleOptimizer, MultiOptimizer, OptimizerMap],
)
register_classes("keras.optimizers.schedules", schedules.SCHEDULES.values())


def get(identifier):
    """An optimizer from a name (with default settings), a description (see ``deserialize``) or
    an Optimizer instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return lookup("optimizer", OPTIMIZERS, identifier)()
    raise TypeError(f"Could not interpret optimizer identifier: {identifier!r}")
