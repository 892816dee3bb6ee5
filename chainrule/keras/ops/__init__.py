"""Keras 3's ``keras.ops``: the NumPy-like, neural-network, linear-algebra and core functions that
custom Keras code is written in, on chainrule's engine.

Every function takes chainrule Tensors, NumPy arrays, Python scalars and lists, follows Keras 3's
dtype promotion, and returns a chainrule Tensor whose gradient comes from the engine's primitives.
Called on symbolic tensors (``keras.Input``), it returns a symbolic tensor, so functional models
may be written with ops between layers.

Modules, each importing only those before it: dtypes (conversion and promotion), dispatch (the
``keras_op`` decorator), core, numpy, math, linalg, nn, image.
"""

from . import core, image, linalg, math, nn, numpy
from .core import *  # noqa: F403
from .linalg import *  # noqa: F403
from .math import *  # noqa: F403
from .nn import *  # noqa: F403
from .numpy import *  # noqa: F403
