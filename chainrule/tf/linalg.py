"""``tf.linalg``: matrix products, norms and ``einsum`` (``chainrule.linalg``; ``tf.einsum``,
``tf.norm`` and ``tf.matmul`` are top-level too), written with chainrule.ops' primitives
(``einsum``, ``svd``, the reductions), whose VJPs give the gradients.
"""

import numpy as np

from .. import ops
from .arrays import eye
from .core import convert_to_tensor
from .math import global_norm, matmul, reduction_axis

__all__ = ["einsum", "eye", "global_norm", "matmul", "norm"]


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
    rows, cols = (a % x.ndim for a in reduction_axis(axis))
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
