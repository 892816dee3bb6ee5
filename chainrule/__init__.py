"""chainrule: backpropagation done in the open.

A reverse-mode automatic-differentiation engine on NumPy (``Tensor``, ``backward``, ``gradcheck``)
and, on top of it, the Keras API (``chainrule.keras``) that trains models with it.
"""

__version__ = "0.1.0"

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
    mean,
    relu,
    sign,
    softmax,
)
from .ops import max, min, sum  # noqa: A004  (chainrule.sum(x) as torch.sum and np.sum)
from .variables import Variable
from .explain import explain  # the function: its module imports only NumPy and the engine

# The TensorFlow vocabulary: `import chainrule as tf` runs TensorFlow programs.
from . import math, nn, random  # noqa: E402
from .function import function  # noqa: E402
from .math import (  # noqa: E402, A004
    abs,
    add,
    argmax,
    argmin,
    divide,
    equal,
    exp,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    matmul,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    pow,
    reduce_logsumexp,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_sum,
    sigmoid,
    sqrt,
    square,
    subtract,
    tanh,
)
from .tape import GradientTape, UnconnectedGradients  # noqa: E402
from .tf_api import (  # noqa: E402, A004
    bool_ as bool,
    cast,
    concat,
    constant,
    convert_to_tensor,
    expand_dims,
    fill,
    float16,
    float32,
    float64,
    identity,
    int8,
    int16,
    int32,
    int64,
    ones,
    ones_like,
    one_hot,
    range,
    reshape,
    squeeze,
    stack,
    transpose,
    uint8,
    where,
    zeros,
    zeros_like,
)


def __getattr__(name):
    """``chainrule.keras``, ``chainrule.data`` and ``chainrule.viz`` are imported on first use,
    so ``import chainrule`` stays light."""
    if name in ("keras", "data", "viz"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
