"""``tf.linalg``: matrix products, norms and ``einsum`` (``chainrule.linalg``; ``tf.einsum``,
``tf.norm`` and ``tf.matmul`` are top-level too).

``einsum`` contracts its operands two at a time, each contraction one batched ``matmul`` between
transposes and reshapes, so its gradient is made of those primitives' VJPs.
"""

import math as _math

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
    sum of |x|), np.inf (largest row sum of |x|). Differentiable through those reductions
    (at x = 0 the 2-norm's gradient is NaN, as in TensorFlow).

    Raises:
        ValueError: an ord that the axes do not allow (the spectral matrix norm, ord 2 over two
            axes, needs an SVD, which chainrule does not provide).
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
    raise ValueError(
        f"norm: over two axes ord must be 'fro', 'euclidean', 1 or np.inf; received ord={ord!r} "
        f"(the spectral norm, ord=2, needs an SVD, which is not provided)."
    )


def _parse(equation, operands):
    """The input terms and the output term of an einsum equation, checked against the operands."""
    equation = equation.replace(" ", "")
    if "." in equation:
        raise ValueError(
            f"einsum: ellipses ('...') are not provided; name every axis ({equation!r})."
        )
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if not arrow:  # implicit output: the letters seen once, in alphabetical order
        letters = "".join(terms)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if len(terms) != len(operands):
        raise ValueError(
            f"einsum: {equation!r} names {len(terms)} operands but {len(operands)} were given."
        )
    sizes = {}
    for term, x in zip(terms, operands):
        if len(term) != x.ndim or len(set(term)) != len(term):
            raise ValueError(
                f"einsum: term {term!r} of {equation!r} must name each axis of an operand of "
                f"shape {x.shape} once (repeated letters, diagonals, are not provided)."
            )
        for letter, n in zip(term, x.shape):
            if sizes.setdefault(letter, n) != n:
                raise ValueError(
                    f"einsum: axis {letter!r} of {equation!r} has sizes {sizes[letter]} and {n}."
                )
    missing = set(output) - set(sizes)
    if missing or len(set(output)) != len(output):
        raise ValueError(f"einsum: output {output!r} of {equation!r} names axes not in the inputs.")
    return terms, output, sizes


def _sum_out(x, term, keep):
    """x summed over the axes whose letters are not in ``keep``."""
    axes = tuple(i for i, c in enumerate(term) if c not in keep)
    if axes:
        x = ops.sum(x, axis=axes)
    return x, "".join(c for c in term if c in keep)


def _arrange(x, term, order):
    """x with its axes permuted from ``term`` into ``order``."""
    permutation = tuple(term.index(c) for c in order)
    return ops.transpose(x, axes=permutation) if permutation != tuple(range(len(term))) else x


def einsum(equation, *inputs, **kwargs):
    """Einstein summation: the product of the operands over all index letters, summed over the
    letters missing from the output, e.g. 'ij,jk->ik' (matmul), 'bij,bjk->bik', 'i,i->' (dot),
    'ij->ji', 'ij->j'.

    Operands are contracted left to right, each pair as one batched matmul:
    (batch, left, k) @ (batch, k, right). Gradients: the VJPs of sum, transpose, reshape, matmul.

    Raises:
        ValueError: an equation that does not fit the operands, ellipses, or repeated letters
            within one term.
    """
    operands = [convert_to_tensor(x) for x in inputs]
    terms, output, sizes = _parse(equation, operands)
    pending = list(zip(terms, operands))
    while len(pending) > 1:
        (ta, a), (tb, b) = pending[0], pending[1]
        later = set(output).union(*[set(t) for t, _ in pending[2:]])
        a, ta = _sum_out(a, ta, set(tb) | later)
        b, tb = _sum_out(b, tb, set(ta) | later)
        batch = [c for c in ta if c in tb and c in later]
        summed = [c for c in ta if c in tb and c not in later]
        left = [c for c in ta if c not in tb]
        right = [c for c in tb if c not in ta]

        def size(letters):
            return _math.prod(sizes[c] for c in letters)

        a = ops.reshape(
            _arrange(a, ta, batch + left + summed), shape=(size(batch), size(left), size(summed))
        )
        b = ops.reshape(
            _arrange(b, tb, batch + summed + right), shape=(size(batch), size(summed), size(right))
        )
        product = ops.matmul(a, b)
        letters = batch + left + right
        result = ops.reshape(product, shape=tuple(sizes[c] for c in letters))
        pending = [("".join(letters), result)] + pending[2:]
    term, x = pending[0]
    x, term = _sum_out(x, term, set(output))
    return _arrange(x, term, output)
