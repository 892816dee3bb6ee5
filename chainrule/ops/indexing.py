"""Gathers and rearrangements written as one indexing step.

Each function here builds an integer index from the input's shape only and applies the
``getitem`` primitive (or ``where``, ``reshape``, ``broadcast_to``), so its gradient is
getitem's scatter-add: an element picked twice gets both gradients, and nothing new needs a VJP.
Indices given as Tensors (computed ones) go to the ``gather`` primitive instead, as its inputs.
"""

import numpy

from ..engine import Slot, Tensor, filled_index, values_of
from .elementwise import where
from .shape import broadcast_to, gather, getitem, reshape, transpose


def _plain(index):
    """An index array as a NumPy integer array (a Tensor's values, read, or the value as
    given)."""
    return numpy.asarray(values_of(index) if isinstance(index, Tensor) else index)


def _picked(a, index, indices):
    """a[index]: through ``gather`` with ``indices`` (a Tensor) at the :class:`Slot` of
    ``index``, or through ``getitem`` with the array ``indices`` there."""
    if isinstance(indices, Tensor):
        return gather(a, indices, index=index)
    return getitem(a, index=filled_index(index, [numpy.asarray(indices)]))


def _shape(a):
    return tuple(a.shape)


def _axis(axis, ndim, name):
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"{name}: axis {axis} is out of range for a tensor of {ndim} dimensions")
    return axis % ndim if ndim else 0


def _along(axis, index):
    """The getitem index that applies ``index`` to ``axis`` and keeps the other axes whole."""
    return (slice(None),) * axis + (index,)


def take(a, indices, axis=None):
    """y = a[..., indices, ...] with ``indices`` applied to ``axis`` (to the flattened a for
    None); negative indices count from the end.   dL/da = g scatter-added to the picked places."""
    if axis is None:
        return _picked(reshape(a, shape=(-1,)), Slot(0), indices)
    return _picked(a, _along(_axis(axis, len(_shape(a)), "take"), Slot(0)), indices)


def take_along_axis(a, indices, axis=-1):
    """y[..., i, ...] = a[..., indices[..., i, ...], ...] along ``axis`` (NumPy's
    take_along_axis: ``indices`` has a's number of axes and broadcasts against it on the others).
    For ``axis=None`` both are flattened first.   dL/da = g scatter-added to the picked places."""
    if not isinstance(indices, Tensor):
        indices = numpy.asarray(indices)
    if axis is None:
        return _picked(reshape(a, shape=(-1,)), Slot(0), reshape(indices, shape=(-1,)))
    shape = _shape(a)
    if indices.ndim != len(shape):
        raise ValueError(
            f"take_along_axis: indices has {indices.ndim} dimensions (shape {indices.shape}) but "
            f"the tensor has {len(shape)} (shape {shape}); they must have the same number"
        )
    axis = _axis(axis, len(shape), "take_along_axis")
    out_shape = numpy.broadcast_shapes(
        tuple(n for i, n in enumerate(shape) if i != axis),
        tuple(n for i, n in enumerate(indices.shape) if i != axis),
    )
    out_shape = out_shape[:axis] + (indices.shape[axis],) + out_shape[axis:]
    index = []
    for d, n in enumerate(out_shape):
        if d == axis:
            index.append(Slot(0))
        else:
            along = numpy.arange(n if shape[d] != 1 else 1).reshape(
                (1,) * d + (-1,) + (1,) * (len(out_shape) - d - 1)
            )
            index.append(numpy.broadcast_to(along, out_shape))
    return _picked(a, tuple(index), broadcast_to(indices, shape=out_shape))


def flip(a, axis=None):
    """y = a with the order of elements reversed along ``axis`` (all axes for None).
    dL/da = g flipped back."""
    ndim = len(_shape(a))
    axes = range(ndim) if axis is None else [axis] if isinstance(axis, int) else axis
    axes = {_axis(ax, ndim, "flip") for ax in axes}
    return getitem(a, index=tuple(slice(None, None, -1 if d in axes else 1) for d in range(ndim)))


def roll(a, shift, axis=None):
    """y = a shifted by ``shift`` places along ``axis`` (on the flattened a for None), elements
    leaving one end coming back at the other.   dL/da = g rolled back."""
    if axis is None:
        return reshape(roll(reshape(a, shape=(-1,)), shift, axis=0), shape=_shape(a))
    shifts = [shift] if isinstance(shift, int) else list(shift)
    axes = [axis] if isinstance(axis, int) else list(axis)
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    for s, ax in zip(shifts, axes):
        ax = _axis(ax, len(_shape(a)), "roll")
        n = _shape(a)[ax]
        a = getitem(a, index=_along(ax, (numpy.arange(n) - s) % max(n, 1)))
    return a


def repeat(a, repeats, axis=None):
    """y = each element of a repeated ``repeats`` times along ``axis`` (of the flattened a for
    None).   dL/da = the sum of g over each element's copies."""
    if axis is None:
        a, axis = reshape(a, shape=(-1,)), 0
    axis = _axis(axis, len(_shape(a)), "repeat")
    source = numpy.repeat(numpy.arange(_shape(a)[axis]), _plain(repeats))
    return getitem(a, index=_along(axis, source))


def tile(a, repeats):
    """y = a laid out ``repeats[i]`` times along each axis i (NumPy's tile).
    dL/da = the sum of g over the copies."""
    repeats = (repeats,) if isinstance(repeats, int) else tuple(repeats)
    shape = _shape(a)
    ndim = max(len(shape), len(repeats))
    shape = (1,) * (ndim - len(shape)) + shape
    repeats = (1,) * (ndim - len(repeats)) + repeats
    interleaved = reshape(a, shape=tuple(x for n in shape for x in (1, n)))
    spread = broadcast_to(
        interleaved, shape=tuple(x for r, n in zip(repeats, shape) for x in (r, n))
    )
    return reshape(spread, shape=tuple(r * n for r, n in zip(repeats, shape)))


def _triangle(a, k, lower):
    shape = _shape(a)
    if len(shape) < 2:
        raise ValueError(f"{'tril' if lower else 'triu'}: needs at least 2 dimensions; got {shape}")
    below = numpy.tri(shape[-2], shape[-1], k if lower else k - 1, dtype=bool)
    return where(below if lower else ~below, a, 0)


def tril(a, k=0):
    """y = a with the entries above the k-th diagonal of its last two axes set to 0.
    dL/da = g with the same entries set to 0."""
    return _triangle(a, k, lower=True)


def triu(a, k=0):
    """y = a with the entries below the k-th diagonal of its last two axes set to 0.
    dL/da = g with the same entries set to 0."""
    return _triangle(a, k, lower=False)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """y[..., i] = a[i, i + offset] taken in the plane of ``axis1`` and ``axis2``, the other axes
    first (NumPy's order).   dL/da = g placed back on that diagonal, zeros elsewhere."""
    shape = _shape(a)
    ndim = len(shape)
    if ndim < 2:
        raise ValueError(f"diagonal: needs at least 2 dimensions; got shape {shape}")
    axis1, axis2 = _axis(axis1, ndim, "diagonal"), _axis(axis2, ndim, "diagonal")
    if axis1 == axis2:
        raise ValueError(f"diagonal: axis1 and axis2 must differ; both are {axis1}")
    rest = [d for d in range(ndim) if d not in (axis1, axis2)]
    moved = transpose(a, axes=tuple(rest) + (axis1, axis2))
    rows, cols = shape[axis1], shape[axis2]
    start = numpy.arange(max(0, min(rows + min(offset, 0), cols - max(offset, 0))))
    i, j = start - min(offset, 0), start + max(offset, 0)
    return getitem(moved, index=(Ellipsis, i, j))


def pad_by_index(a, pad_width, mode):
    """y = a padded by repeating its own entries (NumPy's pad modes "reflect", "symmetric",
    "edge", "wrap"): each padded entry is a copy of one entry of a.
    dL/da = the sum of g over each entry's copies."""
    for axis, width in enumerate(pad_width):
        if width != (0, 0):
            source = numpy.pad(numpy.arange(_shape(a)[axis]), width, mode=mode)
            a = getitem(a, index=_along(axis, source))
    return a
