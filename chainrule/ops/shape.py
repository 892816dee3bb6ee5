"""Shape primitives: they move values around without changing them, so each VJP moves the
gradient back the same way (reshape back, transpose back, scatter back)."""

from ..backend import xp_of
from ..engine import ShapeError, Tensor, filled_index, primitive


@primitive
def reshape(a, shape):
    """y = a with a new shape (same elements, C order).   dL/da = g reshaped to a's shape."""
    return a.reshape(shape)


@reshape.defvjp(0)
def _reshape_vjp(g, y, a, shape):
    return g.reshape(a.shape)


@primitive
def transpose(a, axes=None):
    """y = a with its axes permuted (reversed when ``axes`` is None).   dL/da = g permuted back."""
    return a.transpose(axes)


@transpose.defvjp(0)
def _transpose_vjp(g, y, a, axes=None):
    if axes is None:
        return g.transpose()
    inverse = [0] * len(axes)
    for position, axis in enumerate(axes):
        inverse[axis % len(axes)] = position
    return g.transpose(tuple(inverse))


@primitive
def swapaxes(a, axis1, axis2):
    """y = a with two axes exchanged.   dL/da = g with the same two axes exchanged."""
    return xp_of(a).swapaxes(a, axis1, axis2)


@swapaxes.defvjp(0)
def _swapaxes_vjp(g, y, a, axis1, axis2):
    return swapaxes(g, axis1=axis1, axis2=axis2)


@primitive
def expand_dims(a, axis):
    """y = a with a new axis of size 1 at ``axis``.   dL/da = g reshaped to a's shape."""
    return xp_of(a).expand_dims(a, axis)


@expand_dims.defvjp(0)
def _expand_dims_vjp(g, y, a, axis):
    return g.reshape(a.shape)


@primitive
def squeeze(a, axis=None):
    """y = a without its size-1 axes (or only ``axis``).   dL/da = g reshaped to a's shape."""
    return xp_of(a).squeeze(a, axis)


@squeeze.defvjp(0)
def _squeeze_vjp(g, y, a, axis=None):
    return g.reshape(a.shape)


@primitive
def broadcast_to(a, shape):
    """y = a repeated along broadcast axes to ``shape``.   dL/da = g summed over those axes."""
    return xp_of(a).broadcast_to(a, shape)


@broadcast_to.defvjp(0)
def _broadcast_to_vjp(g, y, a, shape):
    return g  # the engine sums a broadcast gradient back to a's shape


def _plain_index(index):
    """The index with any Tensors in it replaced by their arrays."""
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index.data if isinstance(index, Tensor) else index


def _is_basic(index):
    """True for slices, ints, None and Ellipsis only: such an index selects each element once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


@primitive
def getitem(a, index):
    """y = a[index] (slices, ints, integer or boolean arrays).

    dL/da = zeros of a's shape with g added at the indexed positions (scatter-add), so an element
    picked twice by an integer array receives both gradients.
    """
    return a[_plain_index(index)]


@getitem.defvjp(0)
def _getitem_vjp(g, y, a, index):
    return scatter_add(g, index=index, shape=a.shape)


@primitive(constants=range(1, 65))  # the index arrays (at most one per axis, 64 axes)
def gather(a, *indices, index):
    """y = a[index] for an index some of whose parts are computed (integer or boolean arrays,
    passed as ``indices`` and placed where ``index`` holds a :class:`Slot`): as ``getitem``,
    with the index arrays inputs of the op, so a replayed computation reads them afresh.

    dL/da = zeros of a's shape with g added at the indexed positions; the indices take none.
    """
    return a[filled_index(index, indices)]


@gather.defvjp_variadic
def _gather_vjp(i, g, y, a, *indices, index):
    return scatter_add(g, index=filled_index(index, indices), shape=a.shape)


@primitive(differentiable=False)
def indices_in_range(index, sizes, axes, op, coordinates=False):
    """y = index, once every index has been found in range: each element in [0, sizes[0]),
    or, with ``coordinates``, each index[..., k] in [0, sizes[k]); else a ValueError naming
    ``op`` and the axis (``axes[k]``) the index addresses (no gradient). TensorFlow checks a
    gather's indices so on the CPU; as an op, the check runs on every batch of a replayed step.
    """
    columns = [index[..., k] for k in range(len(sizes))] if coordinates else [index]
    for column, size, axis in zip(columns, sizes, axes):
        if column.size and (column.min() < 0 or column.max() >= size):
            bad = column[(column < 0) | (column >= size)].ravel()[0]
            raise ValueError(
                f"{op}: index {int(bad)} is out of range for axis {axis} of size {size}; "
                f"indices must lie in [0, {size})."
            )
    return index


@primitive
def scatter_add(g, index, shape):
    """y = zeros(shape) with y[index] += g (repeated indices add up).   dL/dg = (dL/dy)[index]."""
    xp = xp_of(g)
    index = _plain_index(index)
    out = xp.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g
    else:
        xp.add.at(out, index, g)
    return out


@scatter_add.defvjp(0)
def _scatter_add_vjp(g, y, grad, index, shape):
    return getitem(g, index=index)


def _check_joinable(name, arrays, axis, same_shape):
    if not arrays:
        raise ValueError(f"{name}: needs at least one tensor")
    first = arrays[0].shape
    for i, a in enumerate(arrays[1:], 1):
        other = a.shape
        if len(other) != len(first) or (
            other != first
            if same_shape
            else any(m != n for k, (m, n) in enumerate(zip(first, other)) if k != axis % len(first))
        ):
            rule = "the same shape" if same_shape else f"the same shape except along axis {axis}"
            raise ShapeError(
                f"{name}: tensor 0 has shape {first} and tensor {i} has shape {other}; "
                f"all tensors need {rule}"
            )


@primitive
def concatenate(*arrays, axis=0):
    """y = the arrays joined along ``axis``.   dL/da_i = the slice of g that a_i occupies."""
    _check_joinable("concatenate", arrays, axis, same_shape=False)
    return xp_of(*arrays).concatenate(arrays, axis=axis)


@concatenate.defvjp_variadic
def _concatenate_vjp(i, g, y, *arrays, axis=0):
    start = 0
    for a in arrays[:i]:
        start += a.shape[axis]
    index = [slice(None)] * g.ndim
    index[axis] = slice(start, start + arrays[i].shape[axis])
    return g[tuple(index)]


@primitive
def stack(*arrays, axis=0):
    """y = the arrays stacked along a new ``axis``.   dL/da_i = g at position i of that axis."""
    _check_joinable("stack", arrays, axis, same_shape=True)
    return xp_of(*arrays).stack(arrays, axis=axis)


@stack.defvjp_variadic
def _stack_vjp(i, g, y, *arrays, axis=0):
    index = [slice(None)] * g.ndim
    index[axis] = i
    return g[tuple(index)]


@primitive
def pad(a, pad_width, constant_values=0):
    """y = a surrounded by ``constant_values``: ``pad_width[i] = (before, after)`` entries on
    axis i, so y has shape (before_i + n_i + after_i).   dL/da = the slice of g where a sits."""
    return xp_of(a).pad(a, pad_width, mode="constant", constant_values=constant_values)


@pad.defvjp(0)
def _pad_vjp(g, y, a, pad_width, constant_values=0):
    return g[tuple(slice(before, before + n) for (before, _), n in zip(pad_width, a.shape))]
