"""Gradients as functions, in the style of JAX and HIPS autograd.

``grad(f)`` is the function x -> df/dx. Calls nest: ``grad(grad(f))`` is the second derivative,
because an inner ``grad`` that receives a tensor already being differentiated records its own
backward pass (``create_graph``) so the outer one can differentiate through it.
"""

from .engine import Tensor, gradients, is_grad_enabled


def _differentiable_copy(value):
    """A fresh tensor to differentiate with respect to, still connected to ``value``'s graph."""
    if isinstance(value, Tensor):
        if value.requires_grad and is_grad_enabled():
            return value.reshape(value.shape), True  # identity, recorded
        return Tensor(value.data, requires_grad=True), False
    return Tensor(value, requires_grad=True), False


def value_and_grad(fn, argnums=0):
    """Return a function computing ``(fn(*args), d fn / d args[argnums])``.

    Args:
        fn: a function of arrays or Tensors returning a one-element Tensor.
        argnums: the position (int) or positions (tuple) of the arguments to differentiate.

    Returns:
        A function returning ``(value, gradient)``, or ``(value, (gradients...))`` for a tuple of
        argnums. Values and gradients are NumPy arrays when every argument was an array, Tensors
        otherwise.

    Example::

        f = lambda x: (x ** 3).sum()
        value_and_grad(f)(np.array([2.0]))     # (8.0, array([12.]))
    """
    single = isinstance(argnums, int)
    positions = (argnums,) if single else tuple(argnums)

    def wrapped(*args, **kwargs):
        args = list(args)
        as_arrays = not any(isinstance(a, Tensor) for a in args)
        nested = False
        for i in positions:
            args[i], connected = _differentiable_copy(args[i])
            nested = nested or connected
        value = fn(*args, **kwargs)
        if not isinstance(value, Tensor) or value.size != 1:
            shape = getattr(value, "shape", None)
            raise ValueError(
                f"grad: the function must return a one-element Tensor to differentiate; "
                f"got {type(value).__name__} of shape {shape}. Reduce it, e.g. with .sum()."
            )
        found = gradients(value, [args[i] for i in positions], create_graph=nested)
        found = [Tensor(args[i].data * 0) if g is None else g for g, i in zip(found, positions)]
        if as_arrays:
            value, found = value.numpy(), [g.numpy() for g in found]
        return value, (found[0] if single else tuple(found))

    wrapped.__name__ = f"value_and_grad({getattr(fn, '__name__', 'fn')})"
    return wrapped


def grad(fn, argnums=0):
    """Return the function computing d fn / d args[argnums] (see :func:`value_and_grad`)."""
    both = value_and_grad(fn, argnums)

    def wrapped(*args, **kwargs):
        return both(*args, **kwargs)[1]

    wrapped.__name__ = f"grad({getattr(fn, '__name__', 'fn')})"
    return wrapped
