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
    abs,
    broadcast_to,
    cast,
    clip,
    concatenate,
    elu,
    exp,
    expand_dims,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    maximum,
    mean,
    minimum,
    one_hot,
    relu,
    reshape,
    sigmoid,
    sign,
    softmax,
    sqrt,
    squeeze,
    stack,
    tanh,
    transpose,
    where,
)
from .ops import max, min, sum  # noqa: A004  (chainrule.sum(x) as torch.sum and np.sum)
from .variables import Variable


def __getattr__(name):
    """``chainrule.keras`` is imported on first use, so ``import chainrule`` stays light."""
    if name == "keras":
        import importlib

        return importlib.import_module(".keras", __name__)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
