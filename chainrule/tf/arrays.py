"""TensorFlow's array functions beyond the basics of :mod:`.core`: shapes (``tf.shape``,
``tf.rank``, ``tf.size``, ``tf.TensorShape``), gathering (``tf.gather``, ``tf.gather_nd``),
building (``tf.tile``, ``tf.pad``, ``tf.eye``, ``tf.linspace``), cutting (``tf.split``,
``tf.unstack``), ordering (``tf.sort``, ``tf.argsort``) and ``tf.stop_gradient``.

Everything that moves values is one of chainrule.ops' gathers (``take``, ``take_along_axis``,
``tile``, ``pad``, ``pad_by_index``, ``getitem``), whose VJP is the scatter-add: each output
element is one input element, so the gradient of an input element is the sum of g over the places
it went to; ``argsort`` is the ``argsort`` primitive. This module adapts TensorFlow's arguments
(``batch_dims``, ``paddings``, ``direction``) and checks them. Indices and shapes are integers and
carry no gradient.
"""

import builtins

import numpy as np

from .. import ops
from ..engine import Tensor
from ..ops.shape import indices_in_range
from .core import as_dtype, cast, constant, convert_to_tensor, float32, int32

newaxis = None


class TensorShape:
    """A shape whose sizes may be unknown (None), as TensorFlow's ``tf.TensorShape``.

    Args:
        dims: a sequence of ints or Nones, another TensorShape, or None (unknown rank).

    Example::

        s = TensorShape([None, 3])
        s.rank, s.as_list(), s[1], s.is_fully_defined()     # 2, [None, 3], 3, False
    """

    def __init__(self, dims):
        if isinstance(dims, TensorShape):
            dims = dims.dims
        if dims is not None and isinstance(dims, (int, np.integer)):
            dims = [dims]
        self.dims = None if dims is None else [None if d is None else int(d) for d in dims]

    @property
    def rank(self):
        """The number of axes (None when unknown)."""
        return None if self.dims is None else len(self.dims)

    ndims = rank

    def as_list(self):
        """The sizes as a list.

        Raises:
            ValueError: for an unknown rank.
        """
        if self.dims is None:
            raise ValueError("TensorShape.as_list: the rank is unknown (TensorShape(None)).")
        return list(self.dims)

    def num_elements(self):
        """The product of the sizes, or None when any is unknown."""
        if not self.is_fully_defined():
            return None
        return int(np.prod(self.dims, dtype=np.int64))

    def is_fully_defined(self):
        return self.dims is not None and all(d is not None for d in self.dims)

    def __len__(self):
        return len(self.as_list())

    def __iter__(self):
        return iter(self.as_list())

    def __getitem__(self, key):
        dims = self.as_list()[key]
        return TensorShape(dims) if isinstance(key, slice) else dims

    def __eq__(self, other):
        try:
            other = TensorShape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self.dims == other.dims

    def __hash__(self):
        return hash(None if self.dims is None else tuple(self.dims))

    def __repr__(self):
        return "TensorShape(None)" if self.dims is None else f"TensorShape({self.dims})"


def _out_type(out_type, op):
    dtype = as_dtype(out_type)
    if dtype not in (np.dtype("int32"), np.dtype("int64")):
        raise TypeError(f"{op}: out_type must be int32 or int64; got {dtype}.")
    return dtype


def shape(input, out_type=int32, name=None):
    """The shape of ``input`` as a 1-D integer tensor (int32 by default), so that
    ``tf.shape(x)[0]`` is the batch size as a tensor."""
    return Tensor(np.array(convert_to_tensor(input).shape, dtype=_out_type(out_type, "shape")))


def rank(input, name=None):
    """The number of axes of ``input``, as an int32 scalar tensor."""
    return Tensor(np.array(convert_to_tensor(input).ndim, dtype=np.int32))


def size(input, out_type=int32, name=None):
    """The number of elements of ``input``, as a scalar tensor (int32 by default)."""
    return Tensor(np.array(convert_to_tensor(input).size, dtype=_out_type(out_type, "size")))


def stop_gradient(input, name=None):
    """y = x in the forward pass, dL/dx = 0: the result is a new leaf, cut from the graph."""
    return convert_to_tensor(input).detach()


def _direction(direction, op):
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(
            f"{op}: direction must be 'ASCENDING' or 'DESCENDING'; received {direction!r}."
        )
    return direction == "DESCENDING"


def _order(x, axis, descending):
    """The stable argsort of x along ``axis`` (the ``argsort`` primitive), largest first when
    ``descending``; ties keep their index order either way, as in TensorFlow."""
    if not descending:
        return ops.argsort(x, axis=axis)
    # sorting the reversed x ascending and reversing back puts the largest first and keeps ties
    # in index order
    reversed_order = ops.argsort(ops.flip(x, axis=axis), axis=axis)
    return ops.flip((x.shape[axis] - 1) - reversed_order, axis=axis)


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """The int32 indices that sort ``values`` along ``axis`` (ties in index order). No gradient.

    Raises:
        ValueError: a direction other than 'ASCENDING' or 'DESCENDING'.
    """
    x = convert_to_tensor(values)
    return ops.cast(_order(x, axis, _direction(direction, "argsort")), dtype=int32)


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """``values`` sorted along ``axis``: y = take_along_axis(x, argsort(x)).

    dL/dx = g scattered back to the positions the values came from.
    """
    x = convert_to_tensor(values)
    order = _order(x, axis, _direction(direction, "sort"))
    return ops.take_along_axis(x, order, axis=axis)


def _integer_indices(indices, op):
    """``indices`` as an integer Tensor (its values are not read: a replayed step gathers each
    batch's own)."""
    indices = convert_to_tensor(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: indices must be integers; got dtype {indices.dtype}. Convert them with "
            f"tf.cast(indices, tf.int32)."
        )
    return indices


def _batch_dims(batch_dims, params_shape, indices_shape, op):
    """``batch_dims`` made non-negative (it counts from the end of indices' axes when negative),
    checked against the leading axes that params and indices share."""
    b = int(batch_dims) + (len(indices_shape) if batch_dims < 0 else 0)
    if not 0 <= b <= len(indices_shape) or params_shape[:b] != indices_shape[:b]:
        raise ValueError(
            f"{op}: batch_dims={batch_dims} must pair the first axes of params and indices, which "
            f"need the same sizes there; got params {params_shape}, indices {indices_shape}."
        )
    return b


def _batched_take(x, index, axis, b):
    """y = x[i_0.., p.., index[i_0.., j..], r..] for the first ``b`` axes of x and index paired
    (b <= axis): shape x.shape[:axis] + index.shape[b:] + x.shape[axis + 1:]. One
    ``take_along_axis`` with index's own axes flattened into one and put back afterwards.
    dL/dx = g scatter-added to the picked places."""
    if b == 0:
        return ops.take(x, index, axis=axis)
    picked = index.shape[b:]
    count = int(np.prod(picked, dtype=np.int64))
    along = index.reshape(
        index.shape[:b] + (1,) * (axis - b) + (count,) + (1,) * (x.ndim - axis - 1)
    )
    y = ops.take_along_axis(x, along, axis=axis)
    return ops.reshape(y, shape=x.shape[:axis] + picked + x.shape[axis + 1 :])


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """The slices of ``params`` along ``axis`` picked by ``indices``:

        y[p0.., i.., p1..] = params[p0.., indices[i..], p1..]
        shape: params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis + 1:]

    With ``batch_dims`` = b > 0 the first b axes of params and indices are paired (each batch
    element picks from its own slice); ``axis`` (at least b) defaults to ``batch_dims``.
    dL/dparams = g scatter-added back (an index picked twice gets both gradients).

    Raises:
        TypeError: non-integer indices.
        ValueError: an index out of range (TensorFlow raises on the CPU too), ``batch_dims``
            whose axes differ between params and indices, or an ``axis`` below ``batch_dims``.
    """
    x = convert_to_tensor(params)
    index = _integer_indices(indices, "gather")
    b = _batch_dims(batch_dims, x.shape, index.shape, "gather")
    axis = b if axis is None else int(axis)
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"gather: axis={axis} is out of range for params of shape {x.shape}; it must lie in "
            f"[{-x.ndim}, {x.ndim})."
        )
    axis %= x.ndim
    if axis < b:
        raise ValueError(
            f"gather: axis={axis} must be at least batch_dims={b} (params {x.shape}, indices "
            f"{index.shape})."
        )
    index = indices_in_range(index, sizes=(x.shape[axis],), axes=(axis,), op="gather")
    return _batched_take(x, index, axis, b)


def gather_nd(params, indices, batch_dims=0, name=None):
    """Elements or slices of ``params`` addressed by the last axis of ``indices`` (k
    coordinates), after the first ``batch_dims`` = b axes, which params and indices share:

        y[b.., i..] = params[b.., indices[b.., i.., 0], ..., indices[b.., i.., k - 1]]
        shape: indices.shape[:-1] + params.shape[b + k:]

    Written as a gather along params' k addressed axes merged into one.
    dL/dparams = g scatter-added back.

    Raises:
        TypeError: non-integer indices.
        ValueError: an index out of range, k larger than params' rank after the batch axes, or
            batch axes of different sizes.
    """
    x = convert_to_tensor(params)
    index = _integer_indices(indices, "gather_nd")
    if index.ndim == 0:
        raise ValueError(
            f"gather_nd: indices must have at least one axis, the coordinates; got a scalar "
            f"(params shape {x.shape})."
        )
    b = _batch_dims(batch_dims, x.shape, index.shape[:-1], "gather_nd")
    k = index.shape[-1]
    if b + k > x.ndim:
        raise ValueError(
            f"gather_nd: indices of shape {index.shape} address {k} axes after {b} batch axes, "
            f"more than params of shape {x.shape} have."
        )
    addressed = x.shape[b : b + k]
    index = indices_in_range(
        index,
        sizes=addressed,
        axes=tuple(builtins.range(b, b + k)),
        op="gather_nd",
        coordinates=True,
    )
    if k:  # the row-major position in the addressed axes: Σ_j index[..., j] stride_j
        strides = np.cumprod((1, *addressed[:0:-1]))[::-1].astype(np.int64)
        flat = ops.sum(ops.cast(index, dtype="int64") * strides, axis=-1)
    else:  # no coordinates: the whole params, once for each position of indices
        flat = np.zeros(index.shape[:-1], dtype=np.intp)
    merged = ops.reshape(x, shape=x.shape[:b] + (-1,) + x.shape[b + k :])
    return _batched_take(merged, flat, b, b)


def _ints(value):
    """A shape-like argument (list, array or Tensor) as a flat list of Python ints."""
    value = value.tolist() if isinstance(value, Tensor) else value
    return [int(v) for v in np.asarray(value).reshape(-1)]


def tile(input, multiples, name=None):
    """``input`` repeated ``multiples[a]`` times along each axis a (the ``tile`` function of
    chainrule.ops): y[i_0, ..., i_n] = x[i_0 mod d_0, ..., i_n mod d_n].
    dL/dx = the sum of g over the copies.

    Raises:
        ValueError: ``multiples`` whose length is not input's rank, or a negative multiple.
    """
    x = convert_to_tensor(input)
    multiples = _ints(multiples)
    if len(multiples) != x.ndim or any(m < 0 for m in multiples):
        raise ValueError(
            f"tile: multiples must hold one non-negative count per axis of the input (shape "
            f"{x.shape}); received {multiples}."
        )
    return ops.tile(x, multiples)


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    """``tensor`` with ``paddings[a] = (before, after)`` entries added on each side of axis a:
    ``constant_values`` (mode 'CONSTANT', the ``pad`` primitive), or the input mirrored without
    ('REFLECT') or with ('SYMMETRIC') the edge value (``pad_by_index``).

    dL/dx = g at the input's positions (CONSTANT); the sum of g over an element's mirror images
    (REFLECT, SYMMETRIC).

    Raises:
        ValueError: paddings not of shape (rank, 2), negative, an unknown mode, or a REFLECT
            padding not smaller than the axis (SYMMETRIC: not larger).
    """
    x = convert_to_tensor(tensor)
    pads = _ints(paddings)
    if len(pads) != 2 * x.ndim or any(p < 0 for p in pads):
        raise ValueError(
            f"pad: paddings must be {x.ndim} non-negative (before, after) pairs, one per axis of "
            f"the input (shape {x.shape}); received {np.asarray(paddings).tolist()}."
        )
    pads = tuple(zip(pads[0::2], pads[1::2]))
    mode = mode.upper()
    if mode == "CONSTANT":
        if isinstance(constant_values, Tensor):
            constant_values = constant_values.data
        return ops.pad(x, pad_width=pads, constant_values=constant_values)
    if mode not in ("REFLECT", "SYMMETRIC"):
        raise ValueError(
            f"pad: mode must be 'CONSTANT', 'REFLECT' or 'SYMMETRIC'; received {mode!r}."
        )
    limit = 0 if mode == "REFLECT" else 1
    for axis, (n, (b, a)) in enumerate(zip(x.shape, pads)):
        if builtins.max(b, a) > n - 1 + limit:
            raise ValueError(
                f"pad: {mode} padding of axis {axis} (size {n}) must be at most {n - 1 + limit} "
                f"on each side; received ({b}, {a})."
            )
    return ops.pad_by_index(x, pads, mode.lower())


def reverse(tensor, axis, name=None):
    """``tensor`` with the order of its entries reversed along each axis in ``axis`` (a list of
    ints), the ``flip`` function of chainrule.ops.   dL/dx = g reversed back."""
    return ops.flip(convert_to_tensor(tensor), axis=tuple(_ints(axis)))


def roll(input, shift, axis, name=None):
    """``input`` shifted by ``shift[i]`` places along ``axis[i]`` (ints or lists of ints), what
    leaves one end coming back at the other: y[..., (j + s) mod n, ...] = x[..., j, ...] (the
    ``roll`` function of chainrule.ops).   dL/dx = g rolled back."""
    shifts, axes = _ints(shift), _ints(axis)
    if len(shifts) != len(axes):
        raise ValueError(
            f"roll: shift and axis must have the same length; received shift={shift!r}, "
            f"axis={axis!r}."
        )
    return ops.roll(convert_to_tensor(input), shifts, axis=axes)


def repeat(input, repeats, axis=None, name=None):
    """Each entry of ``input`` repeated ``repeats`` times (an int, or one count per entry)
    along ``axis``, or of the flattened input for None (the ``repeat`` function of
    chainrule.ops).   dL/dx = the sum of g over each entry's copies."""
    counts = _ints(repeats)
    return ops.repeat(convert_to_tensor(input), counts if len(counts) > 1 else counts[0], axis=axis)


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """``value`` cut along ``axis`` into ``num_or_size_splits`` equal parts (an int), or parts
    of the given sizes (a list; one size may be -1, the rest). Returns a list of tensors.
    dL/dx = the parts' gradients side by side.

    Raises:
        ValueError: an axis that does not divide evenly, or sizes that do not add up.
    """
    x = convert_to_tensor(value)
    axis = int(axis) % x.ndim
    length = x.shape[axis]
    if isinstance(num_or_size_splits, (int, np.integer)):
        parts = int(num_or_size_splits)
        if parts <= 0 or length % parts:
            raise ValueError(
                f"split: axis {axis} of size {length} cannot be cut into {parts} equal parts."
            )
        sizes = [length // parts] * parts
    else:
        sizes = _ints(num_or_size_splits)
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = length - (builtins.sum(sizes) + 1)
        if builtins.sum(sizes) != length or any(s < 0 for s in sizes):
            raise ValueError(
                f"split: sizes {list(num_or_size_splits)} do not add up to the size {length} of "
                f"axis {axis}."
            )
    outputs, start = [], 0
    for s in sizes:
        index = (builtins.slice(None),) * axis + (builtins.slice(start, start + s),)
        outputs.append(ops.getitem(x, index=index))
        start += s
    return outputs


def unstack(value, num=None, axis=0, name="unstack"):
    """The tensors along ``axis`` as a list: [x[..., 0, ...], x[..., 1, ...], ...].
    dL/dx = the pieces' gradients stacked.

    Raises:
        ValueError: ``num`` that is not the size of ``axis``.
    """
    x = convert_to_tensor(value)
    axis = int(axis) % x.ndim
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"unstack: num={num} but axis {axis} of {x.shape} has {x.shape[axis]}.")
    head = (builtins.slice(None),) * axis
    return [ops.getitem(x, index=head + (i,)) for i in builtins.range(x.shape[axis])]


def eye(num_rows, num_columns=None, batch_shape=None, dtype=float32, name=None):
    """The identity matrix (num_rows, num_columns), ones on the diagonal, optionally repeated
    over ``batch_shape`` leading axes (float32 by default)."""
    matrix = np.eye(int(num_rows), None if num_columns is None else int(num_columns))
    if batch_shape is not None:
        batch_shape = tuple(_ints(batch_shape))
        matrix = np.broadcast_to(matrix, batch_shape + matrix.shape)
    return Tensor(np.array(matrix, dtype=as_dtype(dtype)), name=name)


def linspace(start, stop, num, name=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive, in start's dtype
    (float32 for Python floats), or float64 for integer ends, as TensorFlow computes them.
    Tensors ``start`` and ``stop`` give one sequence per element, along the new ``axis``.

    Raises:
        TypeError: an integer start with a fractional stop (TensorFlow converts stop to
            start's dtype first, and cannot).
    """
    start = convert_to_tensor(start)
    stop = convert_to_tensor(stop).data
    if start.dtype.kind in "iub":
        if np.any(np.asarray(stop) != np.round(stop)):
            raise TypeError(
                f"linspace: stop {stop.tolist()} is not an integer like start (dtype "
                f"{start.dtype}); pass floats, e.g. linspace(0.0, 1.0, {num})."
            )
        start = cast(start, np.float64)
    stop = constant(stop, dtype=start.dtype)
    values = np.linspace(start.data, stop.data, int(num), axis=axis)
    return Tensor(values.astype(start.dtype))


__all__ = [
    "TensorShape",
    "argsort",
    "eye",
    "gather",
    "gather_nd",
    "linspace",
    "newaxis",
    "pad",
    "rank",
    "repeat",
    "reverse",
    "roll",
    "shape",
    "size",
    "sort",
    "split",
    "stop_gradient",
    "tile",
    "unstack",
]
