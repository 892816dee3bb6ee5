"""keras.ops.linalg: decompositions, solves, norms and forward-mode derivatives.

Matrices sit in the last two axes, with any leading batch axes. The gradients come from the
primitives of :mod:`chainrule.ops.decompositions`, whose docstrings give the VJPs.
"""

import numpy as np

from ... import nest, ops
from ...engine import Tensor, gradients, values_of
from ...ops import decompositions as dec
from .core import cast, to_floating
from .dispatch import keras_op
from .dtypes import convert_to_tensor

__all__ = [
    "cholesky",
    "cholesky_inverse",
    "det",
    "eig",
    "eigh",
    "inv",
    "jvp",
    "lstsq",
    "lu_factor",
    "matrix_rank",
    "norm",
    "pinv",
    "qr",
    "solve",
    "solve_triangular",
    "svd",
]


def _floats(a, b):
    a, b = to_floating(a), to_floating(b)
    dtype = np.result_type(a.dtype, b.dtype)
    return cast(a, dtype), cast(b, dtype)


@keras_op
def cholesky(x, upper=False):
    """L lower triangular with x = L Lᵀ (U = Lᵀ with ``upper``), x symmetric positive definite."""
    return dec.cholesky(to_floating(x), upper=upper)


@keras_op
def cholesky_inverse(x, upper=False):
    """(L Lᵀ)⁻¹ from a Cholesky factor L (or (UᵀU)⁻¹ from U with ``upper``): two triangular
    solves."""
    factor = to_floating(x)
    low = factor.mT if upper else factor
    eye = Tensor(np.broadcast_to(np.eye(low.shape[-1], dtype=low.dtype), low.shape))
    half = dec.solve_triangular(low, eye, lower=True)  # L⁻¹
    return half.mT @ half


@keras_op
def det(x):
    """det x for x (..., n, n) -> (...).   d/dx = det(x) x⁻ᵀ."""
    return dec.det(to_floating(x))


@keras_op
def eig(x):
    """(eigenvalues, eigenvectors) of a general square x; real ones only (no complex dtype
    here: complex eigenvalues are an error). No gradient."""
    x = to_floating(x)
    return dec.eig(x, output="values"), dec.eig(x, output="vectors")


@keras_op
def eigh(x):
    """(w ascending, V) with x = V diag(w) Vᵀ for a symmetric x (its lower triangle is read)."""
    x = to_floating(x)
    return dec.eigh(x, output="values"), dec.eigh(x, output="vectors")


@keras_op
def inv(x):
    """x⁻¹ for x (..., n, n).   d/dx: -x⁻ᵀ g x⁻ᵀ."""
    return dec.inv(to_floating(x))


@keras_op
def lstsq(a, b, rcond=None):
    """The least-squares solution x of a x ≈ b, a (m, n), b (m,) or (m, k)."""
    a, b = _floats(a, b)
    return dec.lstsq(a, b, rcond=rcond)


@keras_op
def lu_factor(x):
    """(lu, pivots): the packed LU factors of P x = L U with partial pivoting, and the pivot
    rows (int32), as SciPy's ``lu_factor``. No gradient."""
    x = to_floating(x)
    return dec.lu_factor(x, output="lu"), dec.lu_factor(x, output="pivots")


@keras_op
def matrix_rank(x, tol=None):
    """The number of singular values above ``tol`` (NumPy's default tolerance when None), int32."""
    return cast(dec.matrix_rank(to_floating(x), tol=tol), "int32")


@keras_op
def pinv(x, rcond=None):
    """The Moore-Penrose pseudo-inverse (..., n, m) of x (..., m, n). No gradient."""
    return dec.pinv(to_floating(x), rcond=rcond)


@keras_op
def qr(x, mode="reduced"):
    """(Q, R) with x = Q R, Q orthonormal columns, R upper triangular; ``mode`` "reduced" or
    "complete"."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete'; got {mode!r}")
    x = to_floating(x)
    return dec.qr(x, output="q", mode=mode), dec.qr(x, output="r", mode=mode)


@keras_op
def solve(a, b):
    """x = a⁻¹ b for square a (..., n, n) and b (..., n, k) or (n,)."""
    a, b = _floats(a, b)
    return dec.solve(a, b)


@keras_op
def solve_triangular(a, b, lower=False):
    """x = a⁻¹ b for a triangular a (its lower triangle with ``lower``, else the upper one)."""
    a, b = _floats(a, b)
    return dec.solve_triangular(a, b, lower=lower)


@keras_op
def svd(x, full_matrices=True, compute_uv=True):
    """(U, s, Vᵀ) with x = U diag(s) Vᵀ, s descending; s alone without ``compute_uv``."""
    x = to_floating(x)
    if not compute_uv:
        return dec.svd(x, output="s")
    return (
        dec.svd(x, output="u", full_matrices=full_matrices),
        dec.svd(x, output="s"),
        dec.svd(x, output="vh", full_matrices=full_matrices),
    )


# ----- norms -------------------------------------------------------------------------------------


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return ops.sqrt(ops.sum(x * x, axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return ops.max(ops.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return ops.min(ops.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return cast(ops.sum(cast(x != 0, x.dtype), axis=axis, keepdims=keepdims), x.dtype)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is a matrix norm; pass a 2-tuple axis for it")
    return ops.sum(ops.abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axis, keepdims):
    row, col = (a % x.ndim for a in axis)
    if ord in (None, "fro"):
        return ops.sqrt(ops.sum(x * x, axis=axis, keepdims=keepdims))
    if ord in (1, -1, np.inf, -np.inf):
        summed, over = (row, col) if ord in (1, -1) else (col, row)
        sums = ops.sum(ops.abs(x), axis=summed, keepdims=True)
        pick = ops.max if ord in (1, np.inf) else ops.min
        out = pick(sums, axis=over, keepdims=True)
        return out if keepdims else ops.squeeze(out, axis=(row, col))
    if ord in ("nuc", 2, -2):
        rest = [a for a in range(x.ndim) if a not in (row, col)]
        s = dec.svd(ops.transpose(x, axes=tuple(rest) + (row, col)), output="s")
        out = ops.sum(s, axis=-1) if ord == "nuc" else (ops.max if ord == 2 else ops.min)(s, -1)
        if keepdims:
            shape = list(x.shape)
            shape[row] = shape[col] = 1
            out = out.reshape(tuple(shape))
        return out
    raise ValueError(
        f"norm: ord={ord!r} is not a matrix norm; use None, 'fro', 'nuc', 1, -1, 2, -2, inf or -inf"
    )


@keras_op
def norm(x, ord=None, axis=None, keepdims=False):
    """Vector norms (an int ``axis``, or a 1-D x): ord None or 2 (Euclidean), inf, -inf, 0 (the
    count of non-zeros) or p (Σ|x|^p)^(1/p). Matrix norms (a 2-tuple ``axis``, or a 2-D x with
    an ``ord``): None/'fro' (Frobenius), 'nuc' (Σ singular values), 1/-1 (max/min column sum of
    |x|), inf/-inf (max/min row sum), 2/-2 (largest/smallest singular value). ``axis=None`` and
    ``ord=None``: the Euclidean norm of all entries. Integer input gives float32."""
    x = to_floating(x)
    if axis is None:
        if ord is None:
            return _vector_norm(x.reshape((-1,)), None, 0, False).reshape(
                (1,) * x.ndim if keepdims else ()
            )
        axis = tuple(range(x.ndim))
    if isinstance(axis, int):
        axis = (axis,)
    axis = tuple(axis)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis[0], keepdims)
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError(
        f"norm: axis must be None, an int or a 2-tuple; got {axis} for shape {x.shape}"
    )


# ----- forward mode ------------------------------------------------------------------------------


@keras_op
def jvp(fun, primals, tangents, has_aux=False):
    """(fun(*primals), J tangents): the Jacobian-vector product, by double backward. With
    y = fun(x) and a dummy cotangent u, the recorded VJP v(u) = Jᵀ u is linear in u, and the
    VJP of v with respect to u, applied to the tangents t, is (Jᵀ)ᵀ t = J t. Needs every
    primitive on the path to have a VJP that runs under ``create_graph`` (all of chainrule's
    do). Returns (outputs, output tangents[, aux]) in ``fun``'s output structure."""
    primals, tangents = list(primals), list(tangents)
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp: needs one tangent per primal; got {len(primals)} primals and "
            f"{len(tangents)} tangents"
        )
    inputs = [Tensor(values_of(to_floating(p)), requires_grad=True) for p in primals]
    result = fun(*inputs)
    out, aux = result if has_aux else (result, None)
    leaves = [convert_to_tensor(o) for o in nest.flatten(out)]
    dummies = [Tensor(np.zeros(o.shape, dtype=o.dtype), requires_grad=True) for o in leaves]
    connected = [o.requires_grad for o in leaves]
    found = []
    if any(connected):
        # L = Σ <y, u>: its gradient Jᵀu, recorded, stays a function of the dummies u
        total = sum((o * d).sum() for o, d, c in zip(leaves, dummies, connected) if c)
        grads = gradients(total, inputs, create_graph=True)
        pairs = [(g, to_floating(t)) for g, t in zip(grads, tangents) if g is not None]
        if pairs:
            found = gradients(
                [g for g, _ in pairs],
                [d for d, c in zip(dummies, connected) if c],
                grad_outputs=[cast(t, g.dtype) for g, t in pairs],
            )
    found = iter(found)
    out_tangents = []
    for o, c in zip(leaves, connected):
        t = next(found, None) if c else None
        out_tangents.append(Tensor(np.zeros(o.shape, o.dtype)) if t is None else Tensor(t.data))
    values = nest.pack_like(out, [Tensor(o.data) for o in leaves])
    packed = nest.pack_like(out, out_tangents)
    return (values, packed, aux) if has_aux else (values, packed)
