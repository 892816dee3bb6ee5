"""Reductions over axes: sum, mean, max, min.

A reduction maps x of shape S to y of shape S with the reduced axes removed (or kept as 1 with
``keepdims=True``). Its VJP restores the reduced axes as size 1 and broadcasts g back to S.
"""

import builtins

from ..backend import xp_of
from ..engine import Tensor, primitive
from .shape import broadcast_to


def _axes(axis, ndim):
    """The reduced axes as a tuple of non-negative ints (all axes for None)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim if ndim else a for a in axes)


def _kept(a):
    """The dtype a sum or product of a keeps: a's own (NumPy would widen int32 to int64), or
    NumPy's choice for bools."""
    return None if a.dtype.kind == "b" else a.dtype


def keepdims_shape(shape, axis):
    """``shape`` with each reduced axis set to 1: the shape that broadcasts back to ``shape``."""
    if isinstance(axis, int) and shape:
        kept = list(shape)
        kept[axis] = 1
        return tuple(kept)
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def restore_reduced(g, shape, axis, keepdims):
    """Reshape the gradient of a reduction so it broadcasts against the input's ``shape``."""
    if keepdims:
        return g
    if axis is None:
        return g.reshape((1,) * len(shape))
    return g.reshape(keepdims_shape(shape, axis))


def broadcast_back(g, shape):
    """g (with the reduced axes kept as 1) repeated to ``shape``: recorded for a Tensor, and
    written into a new array otherwise (cheaper than a broadcast view for small arrays)."""
    if isinstance(g, Tensor):
        return broadcast_to(g, shape=shape)
    if g.size == 1:
        return xp_of(g).full(shape, g.reshape(()), dtype=g.dtype)
    out = xp_of(g).empty(shape, dtype=g.dtype)
    out[...] = g
    return out


@primitive
def sum(a, axis=None, keepdims=False):
    """y = sum of a over ``axis``.   dL/da = g broadcast back over the summed axes."""
    return a.sum(axis=axis, keepdims=keepdims, dtype=_kept(a))


@sum.defvjp(0)
def _sum_vjp(g, y, a, axis=None, keepdims=False):
    return broadcast_back(restore_reduced(g, a.shape, axis, keepdims), a.shape)


@primitive
def mean(a, axis=None, keepdims=False):
    """y = (1/n) sum of a over ``axis`` (n elements per mean).   dL/da = g / n, broadcast back."""
    total = a.sum(axis=axis, keepdims=keepdims)
    if not total.size or a.dtype.kind != "f":
        return a.mean(axis=axis, keepdims=keepdims)  # NumPy's rules for empty and integer data
    return total / (a.size // total.size)


@mean.defvjp(0)
def _mean_vjp(g, y, a, axis=None, keepdims=False):
    count = a.size // builtins.max(y.size, 1) if a.size else 1
    if axis is None and not isinstance(g, Tensor):  # the mean of everything: one fill
        return xp_of(g).full(a.shape, g / count, dtype=g.dtype)
    return broadcast_back(restore_reduced(g, a.shape, axis, keepdims) / count, a.shape)


def _extremum_vjp(g, y, a, axis=None, keepdims=False):
    """dL/da for max and min: g goes to the extreme elements, split equally among ties (as TF)."""
    y = restore_reduced(y, a.shape, axis, keepdims)
    hit = (a == y).astype(a.dtype)
    share = hit / hit.sum(axis=axis, keepdims=True)
    return restore_reduced(g, a.shape, axis, keepdims) * share


@primitive
def max(a, axis=None, keepdims=False):
    """y = max of a over ``axis``.   dL/da = g at the maximum (ties share it equally), else 0."""
    return xp_of(a).max(a, axis=axis, keepdims=keepdims)


max.defvjp(0)(_extremum_vjp)


@primitive
def min(a, axis=None, keepdims=False):
    """y = min of a over ``axis``.   dL/da = g at the minimum (ties share it equally), else 0."""
    return xp_of(a).min(a, axis=axis, keepdims=keepdims)


min.defvjp(0)(_extremum_vjp)


@primitive(differentiable=False)
def argmax(a, axis=None):
    """y = the index of the maximum of a along ``axis`` (of the flattened a for None); the first
    one among ties. An index has no gradient."""
    return xp_of(a).argmax(a, axis=axis)


@primitive(differentiable=False)
def argmin(a, axis=None):
    """y = the index of the minimum of a along ``axis`` (of the flattened a for None); the first
    one among ties. An index has no gradient."""
    return xp_of(a).argmin(a, axis=axis)


@primitive(differentiable=False)
def all(a, axis=None, keepdims=False):
    """y = whether every element of a over ``axis`` is non-zero, as bools (no gradient)."""
    return xp_of(a).all(a, axis=axis, keepdims=keepdims)


@primitive(differentiable=False)
def any(a, axis=None, keepdims=False):
    """y = whether some element of a over ``axis`` is non-zero, as bools (no gradient)."""
    return xp_of(a).any(a, axis=axis, keepdims=keepdims)


@primitive(differentiable=False)
def count_nonzero(a, axis=None):
    """y = the number of non-zero elements of a over ``axis`` (no gradient)."""
    return xp_of(a).asarray(xp_of(a).count_nonzero(a, axis=axis))


@primitive
def prod(a, axis=None, keepdims=False):
    """y = the product of a over ``axis``.

    dL/da_i = g * prod_{j != i} a_j, computed as g * y / a_i where a_i != 0; at a zero the
    product of the other factors is formed explicitly, so the gradient stays exact there.
    """
    return xp_of(a).prod(a, axis=axis, keepdims=keepdims, dtype=_kept(a))


@prod.defvjp(0)
def _prod_vjp(g, y, a, axis=None, keepdims=False):
    g = restore_reduced(g, a.shape, axis, keepdims)
    nonzero = (a != 0).astype(a.dtype)
    safe = a * nonzero + (1 - nonzero)  # a with its zeros replaced by 1
    # the product of the non-zero factors and the number of zeros, per reduced group
    others = prod(safe, axis=axis, keepdims=True)
    zeros = (1 - nonzero).sum(axis=axis, keepdims=True)
    # one zero in the group: only that element gets a gradient, the product of the others;
    # none: y / a_i; two or more: 0 everywhere
    none = (zeros == 0) * others / safe
    one = (zeros == 1) * (1 - nonzero) * others
    return g * (none + one)


def _reversed(a, axis):
    """The index that reverses ``axis`` of an array of ``ndim`` axes."""
    index = [slice(None)] * a.ndim
    index[axis] = slice(None, None, -1)
    return tuple(index)


@primitive
def cumsum(a, axis=0):
    """y_i = a_0 + ... + a_i along ``axis``.   dL/da_i = g_i + ... + g_n (g summed from the end)."""
    return xp_of(a).cumsum(a, axis=axis, dtype=_kept(a))


@cumsum.defvjp(0)
def _cumsum_vjp(g, y, a, axis=0):
    rev = _reversed(g, axis)
    return cumsum(g[rev], axis=axis)[rev]


@primitive
def cumprod(a, axis=0):
    """y_i = a_0 * ... * a_i along ``axis``.

    dL/da_i = sum_{k >= i} g_k y_k / a_i (for a_i != 0; the inputs are assumed non-zero, as in
    the usual formula).
    """
    return xp_of(a).cumprod(a, axis=axis, dtype=_kept(a))


@cumprod.defvjp(0)
def _cumprod_vjp(g, y, a, axis=0):
    rev = _reversed(g, axis)
    return cumsum((g * y)[rev], axis=axis)[rev] / a
