"""Matrix products."""

from ..engine import ShapeError, primitive


@primitive
def matmul(a, b):
    """y = a @ b for matrices (n, k) @ (k, m) -> (n, m), batched over leading axes, or with a
    vector on either side (NumPy's rules).

    dL/da = g @ bᵀ,   dL/db = aᵀ @ g   (summed over broadcast batch axes by the engine).
    """
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(
            f"matmul: needs arrays of at least one dimension; got shapes {a.shape} and {b.shape}. "
            f"Use * to multiply by a scalar."
        )
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != inner_b:
        raise ShapeError(
            f"matmul: inner dimensions differ: {a.shape} @ {b.shape} "
            f"(the last axis of the left, {a.shape[-1]}, must equal the "
            f"{'second-to-last' if b.ndim > 1 else 'only'} axis of the right, {inner_b})"
        )
    return a @ b


def _as_matrices(g, a, b):
    """Views of g, a, b with vectors promoted to matrices, as matmul treats them."""
    if a.ndim == 1:
        a = a.reshape((1,) + a.shape)
        g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
    if b.ndim == 1:
        b = b.reshape(b.shape + (1,))
        g = g.reshape(g.shape + (1,))
    return g, a, b


@matmul.defvjp(0)
def _matmul_vjp_a(g, y, a, b):
    g, a2, b2 = _as_matrices(g, a, b)
    grad = g @ b2.mT
    return grad.reshape(grad.shape[:-2] + grad.shape[-1:]) if a.ndim == 1 else grad


@matmul.defvjp(1)
def _matmul_vjp_b(g, y, a, b):
    g, a2, b2 = _as_matrices(g, a, b)
    grad = a2.mT @ g
    return grad.reshape(grad.shape[:-1]) if b.ndim == 1 else grad


@primitive
def linear(x, kernel, bias):
    """y = x @ W + b, the affine map of a dense layer, in one step.

    Shapes: x (..., in), W (in, out), b (out,), y (..., out).
    dL/dx = g Wᵀ,   dL/dW = xᵀ g (summed over all leading axes),   dL/db = sum of g over them.
    """
    if x.ndim == 0 or x.shape[-1] != kernel.shape[0]:
        raise ShapeError(
            f"linear: the inputs' last axis must match the kernel's first: x {x.shape}, "
            f"kernel {kernel.shape}"
        )
    y = x @ kernel
    y += bias
    return y


@linear.defvjp(0)
def _linear_vjp_x(g, y, x, kernel, bias):
    return g @ kernel.mT


@linear.defvjp(1)
def _linear_vjp_kernel(g, y, x, kernel, bias):
    return x.reshape((-1, x.shape[-1])).mT @ g.reshape((-1, g.shape[-1]))


@linear.defvjp(2)
def _linear_vjp_bias(g, y, x, kernel, bias):
    return g.reshape((-1, g.shape[-1])).sum(axis=0)
