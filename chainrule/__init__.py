"""chainrule: backpropagation done in the open.

A reverse-mode automatic-differentiation engine on NumPy (``Tensor``, ``backward``, ``gradcheck``)
and, on top of it, the Keras API (``chainrule.keras``) that trains models with it.
"""

import sys as _sys

from . import ops
from .engine import (
    PRIMITIVES,
    GraphFreedError,
    ShapeError,
    Tensor,
    enable_grad,
    gradients,
    is_grad_enabled,
    no_grad,
)
from .functional import grad, value_and_grad
from .gradcheck import GradcheckError, gradcheck
from .ops import (
    broadcast_to,
    clip,
    concatenate,
    elu,
    leaky_relu,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    relu,
    sign,
    softmax,
    sum,
)

# The TensorFlow vocabulary (chainrule.tf): `import chainrule as tf` runs TensorFlow programs.
from .tf import *
from .tf import config, data, debugging, errors, linalg, math, nn, strings
from .variables import Variable
from .version import __version__

# the facade's modules are importable by their TensorFlow names too (`from chainrule.math import
# exp`, `from chainrule.data import Dataset`)
_sys.modules.update(
    {
        f"{__name__}.{module.__name__.rsplit('.', 1)[1]}": module
        for module in (config, data, debugging, errors, linalg, math, nn, strings)
    }
)

_LAZY = {
    "keras": ".keras",  # the Keras API: imported on first use, so `import chainrule` stays light
    "viz": ".tools.viz",
    "distribute": ".distributed.strategy",  # tf.distribute.MultiWorkerMirroredStrategy
    # TensorFlow's short names for Keras's modules (tf.metrics.BinaryAccuracy, tf.losses...)
    "metrics": ".keras.metrics",
    "losses": ".keras.losses",
    "optimizers": ".keras.optimizers",
    "initializers": ".keras.initializers",
}


def __getattr__(name):
    """``chainrule.keras``, ``chainrule.viz`` and ``chainrule.explain`` are imported on first
    use, so ``import chainrule`` stays light."""
    import importlib

    if name == "explain":
        return importlib.import_module(".tools.explain", __name__).explain
    if name in _LAZY:
        return importlib.import_module(_LAZY[name], __name__)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
