"""The Keras API on chainrule's engine: ``from chainrule.keras.layers import Dense``.

Layers compute with Tensor ops, so every gradient in a model comes from the autodiff engine.

Each module imports only from the modules before it, in this order:
registry, config, naming, object_registration, keras_tensor, ops, progress, random -> activations,
initializers, regularizers, constraints, variables, optimizers, losses, metrics -> saving
(configs and files; it finds layer and model classes in the registry, where they register as
they are defined) -> datasets, utils, preprocessing -> layers -> callbacks -> models -> export ->
backend, scopes.
"""

from . import (
    activations,
    backend,
    callbacks,
    config,
    constraints,
    export,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    preprocessing,
    random,
    regularizers,
    utils,
)
from .initializers import Initializer
from .keras_tensor import KerasTensor
from .layers import Input, Layer
from .losses import Loss
from .metrics import Metric
from .models import Model, Sequential
from .optimizers import Optimizer, schedules
from .regularizers import Regularizer
from .saving.keras_file import KERAS_VERSION
from .scopes import RematScope, device, name_scope, remat
from .variables import Variable


def version():
    """The version of Keras whose API and file format chainrule.keras follows ("3.15.1"); the
    library's own version is ``chainrule.__version__``."""
    return KERAS_VERSION


def __getattr__(name):
    if name == "datasets":  # imported on first use: it carries the bundled data's paths
        import importlib

        return importlib.import_module(".datasets", __name__)
    raise AttributeError(f"module 'chainrule.keras' has no attribute {name!r}")
