"""``tf.linalg``: matrix products, norms and ``einsum`` (``chainrule.linalg``; ``tf.einsum``,
``tf.norm`` and ``tf.matmul`` are top-level too), written with chainrule.ops' primitives
(``einsum``, ``svd``, the reductions), whose VJPs give the gradients.
"""

import numpy as np

from .. import ops
from .arrays import eye
from .core import convert_to_tensor
from .math import global_norm, matmul, reduction_axis

__all__ = [
    "band_part",
    "cholesky",
    "det",
    "diag_part",
    "eigh",
    "eigvalsh",
    "einsum",
    "eye",
    "global_norm",
    "inv",
    "matmul",
    "matrix_transpose",
    "norm",
    "qr",
    "solve",
    "svd",
    "tensordot",
    "trace",
]


def _sum_abs_pow(x, p, axis, keepdims):
    return ops.sum(ops.abs(x) ** p, axis=axis, keepdims=keepdims)


def _vector_norm(x, ord, axis, keepdims):
    if ord in ("euclidean", "fro", 2, 2.0):
        return ops.sqrt(ops.sum(x * x, axis=axis, keepdims=keepdims))
    if ord in (1, 1.0):
        return ops.sum(ops.abs(x), axis=axis, keepdims=keepdims)
    if ord == np.inf:
        return ops.max(ops.abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, (int, float)) and ord > 0:
        return _sum_abs_pow(x, ord, axis, keepdims) ** (1.0 / ord)
    raise ValueError(
        f"norm: ord must be 'euclidean', 'fro', a positive number or np.inf for a vector norm; "
        f"received ord={ord!r}."
    )


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):
    """The norm of ``tensor``: of all its entries as one vector (``axis`` None), of vectors along
    one ``axis``, or of matrices over a pair of axes.

    Vector norms: 'euclidean' (= 2) sqrt(sum x^2), 1: sum |x|, np.inf: max |x|, p > 0:
    (sum |x|^p)^(1/p). Matrix norms: 'fro'/'euclidean' (the entries' 2-norm), 1 (largest column
    sum of |x|), np.inf (largest row sum of |x|), 2 (the spectral norm: the largest singular
    value s_1, from the ``svd`` primitive; dL/dx = g u_1 v_1ᵀ for distinct singular values).
    Differentiable through those reductions (at x = 0 the 2-norm's gradient is NaN, as in
    TensorFlow).

    Raises:
        ValueError: an ord that the axes do not allow.
    """
    x = convert_to_tensor(tensor)
    keepdims = bool(keepdims)
    if axis is None or isinstance(axis, int) or len(reduction_axis(axis)) == 1:
        axis = axis if axis is None or isinstance(axis, int) else reduction_axis(axis)[0]
        return _vector_norm(x, ord, axis, keepdims)
    pair = reduction_axis(axis)
    if (
        len(pair) != 2
        or not all(-x.ndim <= a < x.ndim for a in pair)
        or pair[0] % x.ndim == pair[1] % x.ndim
    ):
        raise ValueError(
            f"norm: axis must be None, one axis or a pair of distinct axes of the input (shape "
            f"{x.shape}); received axis={axis!r}."
        )
    rows, cols = (a % x.ndim for a in pair)
    if ord in ("euclidean", "fro"):
        return ops.sqrt(ops.sum(x * x, axis=(rows, cols), keepdims=keepdims))
    if ord in (1, np.inf):
        summed, maxed = (rows, cols) if ord == 1 else (cols, rows)
        sums = ops.sum(ops.abs(x), axis=summed, keepdims=True)
        result = ops.max(sums, axis=maxed, keepdims=True)
        return result if keepdims else ops.squeeze(result, axis=(rows, cols))
    if ord in (2, 2.0):
        rest = tuple(a for a in range(x.ndim) if a not in (rows, cols))
        matrices = ops.transpose(x, axes=rest + (rows, cols))
        largest = ops.max(ops.svd(matrices, output="s"), axis=-1)
        if not keepdims:
            return largest
        return ops.reshape(
            largest, shape=tuple(1 if a in (rows, cols) else n for a, n in enumerate(x.shape))
        )
    raise ValueError(
        f"norm: over two axes ord must be 'fro', 'euclidean', 1, 2 or np.inf; received ord={ord!r}."
    )


def einsum(equation, *inputs, **kwargs):
    """Einstein summation (the ``einsum`` primitive): the product of the operands over all index
    letters, summed over the letters missing from the output, e.g. 'ij,jk->ik' (matmul),
    'bij,bjk->bik', 'i,i->' (dot), 'ii->' (trace), 'ii->i' (diagonal), '...ij->...ji'
    (``...`` stands for the leading axes). Without '->' the output is the letters seen once, in
    alphabetical order, after the ``...`` axes.

    dL/d(operand) = the Einstein sum of g with the other operands into that operand's letters.

    Raises:
        ValueError: an equation that does not fit the operands.
    """
    return ops.einsum(equation, *(convert_to_tensor(x) for x in inputs))


def tensordot(a, b, axes, name=None):
    """The sum over paired axes of the product of a and b (the ``tensordot`` function of
    chainrule.ops): ``axes=N`` pairs a's last N axes with b's first N, ``axes=[a_axes,
    b_axes]`` pairs them as listed; the result has a's free axes, then b's.
    Gradients: those of the ``einsum`` primitive."""
    return ops.tensordot(convert_to_tensor(a), convert_to_tensor(b), axes=axes)


def _square_matrices(x, op):
    x = convert_to_tensor(x)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(
            f"linalg.{op}: input must be square matrices of shape (..., n, n); got {x.shape}."
        )
    return x


def det(input, name=None):
    """det(a) for a (..., n, n) -> (...) (the ``det`` primitive).   dL/da = g det(a) a⁻ᵀ."""
    return ops.det(_square_matrices(input, "det"))


def inv(input, adjoint=False, name=None):
    """a⁻¹ for a (..., n, n) (of aᵀ with ``adjoint``) (the ``inv`` primitive).
    dL/da = -a⁻ᵀ g a⁻ᵀ."""
    a = _square_matrices(input, "inv")
    return ops.inv(a.mT if adjoint else a)


def solve(matrix, rhs, adjoint=False, name=None):
    """x with a x = rhs for a (..., n, n) and rhs (..., n, k) (aᵀ x = rhs with ``adjoint``)
    (the ``solve`` primitive).   dL/drhs = a⁻ᵀ g,  dL/da = -(dL/drhs) xᵀ.

    Raises:
        ValueError: rhs that is not (..., n, k).
    """
    a, b = _square_matrices(matrix, "solve"), convert_to_tensor(rhs)
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(
            f"linalg.solve: rhs must have shape (..., {a.shape[-1]}, k) for a matrix of shape "
            f"{a.shape}; got {b.shape}."
        )
    return ops.solve(a.mT if adjoint else a, b)


def cholesky(input, name=None):
    """The lower-triangular L with a = L Lᵀ of a symmetric positive-definite a (..., n, n)
    (the ``cholesky`` primitive, whose VJP is Murray's)."""
    return ops.cholesky(_square_matrices(input, "cholesky"))


def qr(input, full_matrices=False, name=None):
    """The QR decomposition a = Q R of a (..., m, n): returns ``(q, r)``, q (..., m, k) with
    orthonormal columns and r (..., k, n) upper triangular, k = min(m, n) (k = m with
    ``full_matrices``) (the ``qr`` primitive)."""
    a = convert_to_tensor(input)
    mode = "complete" if full_matrices else "reduced"
    return ops.qr(a, output="q", mode=mode), ops.qr(a, output="r", mode=mode)


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """The singular value decomposition a = U diag(s) Vᵀ of a (..., m, n), TensorFlow's way:
    returns s (..., k) in descending order, or ``(s, u, v)`` with ``compute_uv``, u (..., m, k)
    and v (..., n, k) (not Vᵀ), k = min(m, n) (square u and v with ``full_matrices``)
    (the ``svd`` primitive)."""
    a = convert_to_tensor(tensor)
    s = ops.svd(a, output="s")
    if not compute_uv:
        return s
    u = ops.svd(a, output="u", full_matrices=full_matrices)
    vh = ops.svd(a, output="vh", full_matrices=full_matrices)
    return s, u, vh.mT


def eigh(tensor, name=None):
    """The eigen-decomposition a = V diag(e) Vᵀ of a symmetric a (..., n, n): returns
    ``(e, v)``, e (..., n) ascending (the ``eigh`` primitive; its lower triangle is read)."""
    a = _square_matrices(tensor, "eigh")
    return ops.eigh(a, output="values"), ops.eigh(a, output="vectors")


def eigvalsh(tensor, name=None):
    """The eigenvalues of a symmetric a (..., n, n), ascending (the ``eigh`` primitive)."""
    return ops.eigh(_square_matrices(tensor, "eigvalsh"), output="values")


def diag_part(input, k=0, name=None):
    """y[..., i] = a[..., i, i + k], the k-th diagonal of the last two axes (the ``diagonal``
    function of chainrule.ops).   dL/da = g placed on that diagonal."""
    return ops.diagonal(convert_to_tensor(input), offset=k, axis1=-2, axis2=-1)


def trace(x, name=None):
    """y = sum_i a[..., i, i] over the last two axes.   dL/da = g on the diagonal."""
    return ops.sum(diag_part(x), axis=-1)


def band_part(input, num_lower, num_upper, name=None):
    """a with the entries outside the band set to 0: kept where i - j <= num_lower and
    j - i <= num_upper over the last two axes (a negative count keeps that whole triangle);
    ``band_part(a, 0, -1)`` is the upper triangle (the ``tril`` and ``triu`` functions of
    chainrule.ops).   dL/da = g inside the band, 0 outside."""
    a = convert_to_tensor(input)
    if num_upper >= 0:
        a = ops.tril(a, num_upper)
    if num_lower >= 0:
        a = ops.triu(a, -num_lower)
    return a


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """a with its last two axes swapped.   dL/da = g swapped back."""
    return convert_to_tensor(a).mT
