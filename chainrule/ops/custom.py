"""A primitive whose gradient the user writes: the engine's side of ``custom_gradient``."""

import numpy as np

from ..engine import Tensor, primitive
from .elementwise import cast


@primitive
def custom_vjp(*inputs, value, grad_fn):
    """y = ``value`` (computed beforehand by a ``custom_gradient`` function of the inputs).

    dL/d inputs_i = the i-th result of ``grad_fn(g)``: the gradient the user wrote.
    """
    return value


@custom_vjp.defvjp_variadic
def _custom_vjp_vjp(i, g, y, *inputs, value, grad_fn):
    grads = grad_fn(g if isinstance(g, Tensor) else Tensor(g))
    grads = tuple(grads) if isinstance(grads, (list, tuple)) else (grads,)
    if len(grads) != len(inputs):
        raise ValueError(
            f"custom_gradient: the gradient function returned {len(grads)} gradients for "
            f"{len(inputs)} inputs; return one per input"
        )
    dtype = np.asarray(inputs[i]).dtype
    grad = grads[i] if isinstance(grads[i], Tensor) else Tensor(grads[i])
    if grad.dtype != dtype:
        grad = cast(grad, dtype)
    return grad if isinstance(g, Tensor) else grad.data
