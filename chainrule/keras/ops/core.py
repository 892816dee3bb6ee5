"""keras.ops core: conversion, control flow, scatter and slice updates, custom gradients.

Control flow runs eagerly, in Python: ``cond`` calls one branch, the loops loop, so gradients
flow through whatever the branches and bodies compute, as they do through Keras's own.
"""

import builtins
import re

import numpy as np

from ... import nest, ops
from ...engine import Tensor, values_of
from ...ops.custom import custom_vjp
from .dispatch import keras_op
from .dtypes import convert_to_tensor as _convert_to_tensor
from .dtypes import standardize_dtype

__all__ = [
    "associative_scan",
    "cast",
    "cond",
    "convert_to_numpy",
    "convert_to_tensor",
    "custom_gradient",
    "dtype",
    "fori_loop",
    "is_tensor",
    "map",
    "rearrange",
    "saturate_cast",
    "scan",
    "scatter",
    "scatter_update",
    "shape",
    "slice",
    "slice_update",
    "stop_gradient",
    "switch",
    "unstack",
    "vectorized_map",
    "view_as_complex",
    "view_as_real",
    "while_loop",
]


# ----- conversion --------------------------------------------------------------------------------


@keras_op
def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` (Tensor, array, scalar, list) as a Tensor of ``dtype`` (Keras's default otherwise:
    float32 for Python floats, int32 for Python ints). Sparse and ragged tensors do not exist
    here: ``sparse=True`` or ``ragged=True`` is an error."""
    if sparse or ragged:
        raise ValueError(
            "convert_to_tensor: chainrule has no sparse or ragged tensors; pass sparse=None and "
            "ragged=None (dense tensors)"
        )
    return _convert_to_tensor(x, dtype=None if dtype is None else standardize_dtype(dtype))


@keras_op
def convert_to_numpy(x):
    """``x`` as a NumPy array."""
    return np.asarray(x.numpy() if isinstance(x, Tensor) else x)


@keras_op
def cast(x, dtype):
    """``x`` converted to ``dtype``; differentiable between float dtypes (the gradient is cast
    back)."""
    x = _convert_to_tensor(x)
    dtype = standardize_dtype(dtype)
    return x if x.dtype == np.dtype(dtype) else ops.cast(x, dtype=np.dtype(dtype))


def to_floating(x):
    """``x`` as a Tensor of a floating dtype: floats keep theirs, ints and bools become float32
    (Keras's float ops on integer inputs). The shared input step of the float-only ops."""
    x = _convert_to_tensor(x)
    return x if x.dtype.kind == "f" else ops.cast(x, dtype=np.dtype("float32"))


@keras_op
def saturate_cast(x, dtype):
    """``x`` clipped to the range of ``dtype``, then cast: no wrap-around on overflow."""
    x = _convert_to_tensor(x)
    target = np.dtype(standardize_dtype(dtype))
    if target.kind in "iu":
        info = np.iinfo(target)
        lo, hi = info.min, info.max
        if x.dtype.kind == "f":
            # the largest float of x's dtype not above hi, so the cast cannot overflow
            hi = np.nextafter(x.dtype.type(hi), x.dtype.type(0)) if x.dtype.type(hi) > hi else hi
        x = ops.clip(x, lo, hi)
    elif target.kind == "f" and x.dtype.kind == "f" and target.itemsize < x.dtype.itemsize:
        info = np.finfo(target)
        x = ops.clip(x, info.min, info.max)
    return cast(x, target)


@keras_op
def dtype(x):
    """The Keras name of ``x``'s dtype, e.g. ``"float32"``."""
    return standardize_dtype(_convert_to_tensor(x).dtype)


@keras_op
def is_tensor(x):
    """True for a chainrule Tensor."""
    return isinstance(x, Tensor)


@keras_op
def shape(x):
    """The shape of ``x`` as a tuple of ints."""
    return tuple(int(n) for n in np.shape(x.data if isinstance(x, Tensor) else x))


@keras_op
def stop_gradient(variable):
    """The same values, cut from the graph: no gradient flows back through the result."""
    return ops.stop_gradient(_convert_to_tensor(variable))


# ----- control flow ------------------------------------------------------------------------------


@keras_op
def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()``; ``pred`` a one-element bool or number."""
    return true_fn() if bool(_value(pred)) else false_fn()


@keras_op
def switch(index, branches, *operands):
    """``branches[index](*operands)``, ``index`` clamped to [0, len(branches) - 1] as in JAX."""
    i = builtins.min(builtins.max(int(_value(index)), 0), len(branches) - 1)
    return branches[i](*operands)


@keras_op
def fori_loop(lower, upper, body_fun, init_val):
    """val = init_val; for i in range(lower, upper): val = body_fun(i, val); returns val."""
    value = init_val
    for i in range(int(_value(lower)), int(_value(upper))):
        value = body_fun(i, value)
    return value


@keras_op
def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` holds (at most
    ``maximum_iterations`` times). A tuple or list of loop variables is unpacked into the calls
    and returned as a tuple; a single one is passed and returned as is."""
    packed = isinstance(loop_vars, (list, tuple))
    values = tuple(loop_vars) if packed else loop_vars
    count = 0
    while maximum_iterations is None or count < maximum_iterations:
        if not bool(_value(cond(*values) if packed else cond(values))):
            break
        values = body(*values) if packed else body(values)
        if packed:
            values = tuple(values) if isinstance(values, (list, tuple)) else (values,)
        count += 1
    return values


@keras_op
def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """carry = init; for each slice x of ``xs`` along axis 0: carry, y = f(carry, x).
    Returns (carry, the ys stacked along a new axis 0). ``xs`` may be a structure of tensors,
    or None with ``length`` steps; ``reverse`` walks from the end (the ys keep their order)."""
    if xs is None:
        if length is None:
            raise ValueError("scan: pass xs, or length when xs is None")
        steps, slices = int(length), None
    else:
        leaves = [_convert_to_tensor(x) for x in nest.flatten(xs)]
        steps = leaves[0].shape[0] if leaves else int(length)
        slices = (leaves, xs)
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    carry, ys = init, [None] * steps
    for i in order:
        x = None if slices is None else nest.pack_like(slices[1], [leaf[i] for leaf in slices[0]])
        carry, ys[i] = f(carry, x)
    return carry, _stack_structures(ys)


@keras_op
def associative_scan(f, elems, reverse=False, axis=0):
    """The inclusive scan of the associative ``f`` along ``axis``: out_0 = e_0,
    out_i = f(out_{i-1}, e_i) (from the end with ``reverse``). ``f`` receives slices that keep
    ``axis`` (of size 1), as JAX's batched calls do; computed in n - 1 sequential steps."""
    leaves = [_convert_to_tensor(e) for e in nest.flatten(elems)]
    n = leaves[0].shape[axis]

    def piece(leaf, i):
        index = [builtins.slice(None)] * leaf.ndim
        index[axis] = builtins.slice(i, i + 1)
        return leaf[tuple(index)]

    order = list(range(n - 1, -1, -1)) if reverse else list(range(n))
    out = [None] * n
    total = None
    for i in order:
        current = nest.pack_like(elems, [piece(leaf, i) for leaf in leaves])
        total = current if total is None else (f(current, total) if reverse else f(total, current))
        out[i] = total
    joined = [
        ops.concatenate([nest.flatten(o)[k] for o in out], axis=axis) for k in range(len(leaves))
    ]
    return nest.pack_like(elems, joined)


@keras_op
def map(f, xs):
    """f applied to each slice of ``xs`` along axis 0, the results stacked along axis 0."""
    leaves = [_convert_to_tensor(x) for x in nest.flatten(xs)]
    return _stack_structures(
        [f(nest.pack_like(xs, [leaf[i] for leaf in leaves])) for i in range(leaves[0].shape[0])]
    )


@keras_op
def vectorized_map(function, elements):
    """As :func:`map`: ``function`` on each slice of ``elements`` along axis 0, stacked (a loop
    here, not a vectorised rewrite)."""
    return map(function, elements)


# ----- scatter and slices ------------------------------------------------------------------------


def _index_tuple(indices, owner):
    """(N, k) integer indices as a tuple of k index arrays, for the first k axes."""
    indices = np.asarray(values_of(indices) if isinstance(indices, Tensor) else indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{owner}: indices must be integers; got dtype {indices.dtype}")
    if indices.ndim == 1:
        indices = indices.reshape(-1, 1)
    return tuple(indices.reshape(-1, indices.shape[-1]).T)


@keras_op
def scatter(indices, values, shape):
    """zeros(shape) with ``values`` added at ``indices`` (N, k) (each row indexes the first k
    axes; repeated indices add up).   Gradient: values get g at their indices."""
    values = _convert_to_tensor(values)
    index = _index_tuple(indices, "scatter")
    values = values.reshape((len(index[0]),) + tuple(shape)[len(index) :])
    return ops.scatter_add(values, index=index, shape=tuple(int(s) for s in shape))


@keras_op
def scatter_update(inputs, indices, updates, reduction=None):
    """``inputs`` with the entries at ``indices`` (N, k) replaced by ``updates`` (or combined
    with them: ``reduction`` "add", "mul", "max" or "min").

    Gradient: replace sends g outside the indices to inputs and g at the indices to updates;
    "add" sends g to both; "mul", "max" and "min" are computed without a gradient."""
    inputs = _convert_to_tensor(inputs)
    updates = cast(_convert_to_tensor(updates), inputs.dtype)
    index = _index_tuple(indices, "scatter_update")
    updates = updates.reshape((len(index[0]),) + inputs.shape[len(index) :])
    if reduction is None:
        hit = np.zeros(inputs.shape, dtype=inputs.dtype)
        hit[index] = 1
        last = np.zeros(len(index[0]), dtype=bool)  # a repeated index takes its last update
        _, first_from_end = np.unique(np.stack(index, 1)[::-1], axis=0, return_index=True)
        last[len(last) - 1 - first_from_end] = True
        kept = tuple(i[last] for i in index)
        placed = ops.scatter_add(updates[np.flatnonzero(last)], index=kept, shape=inputs.shape)
        return inputs * (1 - hit) + placed
    if reduction == "add":
        return inputs + ops.scatter_add(updates, index=index, shape=inputs.shape)
    if reduction in ("mul", "max", "min"):
        out = np.array(inputs.numpy())
        ufunc = {"mul": np.multiply, "max": np.maximum, "min": np.minimum}[reduction]
        ufunc.at(out, index, updates.numpy())
        return Tensor(out)
    raise ValueError(
        f"scatter_update: reduction must be None, 'add', 'mul', 'max' or 'min'; got {reduction!r}"
    )


def _window(inputs, start_indices, shape, owner):
    start = [int(s) for s in np.asarray(_value(start_indices)).reshape(-1)]
    if len(start) != inputs.ndim:
        raise ValueError(
            f"{owner}: start_indices needs one entry per axis of the input ({inputs.ndim}); got "
            f"{len(start)}"
        )
    sizes = [inputs.shape[i] - start[i] if s == -1 else int(s) for i, s in enumerate(shape)]
    for i, (s, n) in enumerate(zip(start, sizes)):
        if s < 0 or s + n > inputs.shape[i]:
            raise ValueError(
                f"{owner}: the window [{s}, {s + n}) on axis {i} leaves the input's shape "
                f"{inputs.shape}"
            )
    return tuple(builtins.slice(s, s + n) for s, n in zip(start, sizes))


@keras_op
def slice(inputs, start_indices, shape):
    """inputs[start_0 : start_0 + shape_0, ...] (a -1 in ``shape`` runs to the end)."""
    inputs = _convert_to_tensor(inputs)
    return inputs[_window(inputs, start_indices, shape, "slice")]


@keras_op
def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block starting at ``start_indices`` replaced by ``updates``.
    Gradient: g outside the block to inputs, g inside it to updates."""
    inputs = _convert_to_tensor(inputs)
    updates = cast(_convert_to_tensor(updates), inputs.dtype)
    window = _window(inputs, start_indices, updates.shape, "slice_update")
    hit = np.zeros(inputs.shape, dtype=inputs.dtype)
    hit[window] = 1
    return inputs * (1 - hit) + ops.scatter_add(updates, index=window, shape=inputs.shape)


@keras_op
def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``, as a list."""
    x = _convert_to_tensor(x)
    n = x.shape[axis]
    if num is not None and num != n:
        raise ValueError(f"unstack: num={num} but axis {axis} of shape {x.shape} has {n} entries")
    index = [builtins.slice(None)] * x.ndim
    out = []
    for i in range(n):
        index[axis] = i
        out.append(x[tuple(index)])
    return out


# ----- custom gradients --------------------------------------------------------------------------


@keras_op
def custom_gradient(f):
    """Decorator: ``f(*args)`` returns ``(value, grad_fn)`` and the result's gradient with
    respect to the args is ``grad_fn(upstream)`` (one gradient, or a tuple of one per arg),
    in place of differentiating what ``f`` computed."""

    def wrapped(*args):
        tensors = [_convert_to_tensor(a) for a in args]
        # f and grad_fn run on these values outside the recorded ops: a read of them
        value, grad_fn = f(*[Tensor(values_of(t)) for t in tensors])
        return custom_vjp(*tensors, value=_convert_to_tensor(value).data, grad_fn=grad_fn)

    wrapped.__name__, wrapped.__doc__ = f.__name__, f.__doc__
    return wrapped


# ----- rearrange and complex views ---------------------------------------------------------------


def _groups(side, pattern):
    groups, tokens = [], re.findall(r"\(|\)|[A-Za-z_][A-Za-z0-9_]*|1", side)
    current = None
    for token in tokens:
        if token == "(":
            current = []
        elif token == ")":
            groups.append(current)
            current = None
        elif current is not None:
            current.append(token)
        else:
            groups.append([token])
    if current is not None:
        raise ValueError(f"rearrange: unbalanced parentheses in {pattern!r}")
    return groups


@keras_op
def rearrange(tensor, pattern, **axes_lengths):
    """einops-style reordering, e.g. ``"b h w c -> b (h w) c"`` or ``"b (h w) -> b h w"`` with
    ``h=...``: split the grouped input axes, permute the named axes, merge the output groups."""
    tensor = _convert_to_tensor(tensor)
    if "->" not in pattern:
        raise ValueError(f"rearrange: the pattern needs '->'; got {pattern!r}")
    left, right = (_groups(side, pattern) for side in pattern.split("->"))
    if len(left) != tensor.ndim:
        raise ValueError(
            f"rearrange: the pattern {pattern!r} names {len(left)} input axes but the tensor has "
            f"shape {tensor.shape}"
        )
    sizes = dict(axes_lengths)
    for group, n in zip(left, tensor.shape):
        unknown = [a for a in group if a not in sizes and a != "1"]
        known = int(np.prod([sizes.get(a, 1) for a in group if a != "1"]))
        if len(unknown) > 1:
            raise ValueError(f"rearrange: give the lengths of {unknown[1:]} in {pattern!r}")
        if unknown:
            sizes[unknown[0]] = n // known
    names = [a for group in left for a in group if a != "1"]
    flat_right = [a for group in right for a in group if a != "1"]
    if sorted(names) != sorted(flat_right):
        raise ValueError(f"rearrange: both sides of {pattern!r} must name the same axes")
    x = tensor.reshape(tuple(sizes[a] for a in names))
    x = x.transpose(tuple(names.index(a) for a in flat_right))
    return x.reshape(tuple(int(np.prod([sizes.get(a, 1) for a in g])) for g in right))


@keras_op
def view_as_real(x):
    """A complex tensor as a real one with a last axis of 2 (real, imaginary). chainrule has no
    complex dtype: ``x`` is a (real, imaginary) pair, as ``keras.ops.fft`` returns; a real
    tensor gets a zero imaginary part."""
    if isinstance(x, (tuple, list)):
        real, imag = (_convert_to_tensor(p) for p in x)
    else:
        real = _convert_to_tensor(x)
        imag = real * 0
    return ops.stack([real, imag], axis=-1)


@keras_op
def view_as_complex(x):
    """The inverse of :func:`view_as_real`: a real tensor (..., 2) as the (real, imaginary) pair
    that stands for a complex tensor here (chainrule has no complex dtype)."""
    x = _convert_to_tensor(x)
    if x.ndim == 0 or x.shape[-1] != 2:
        raise ValueError(f"view_as_complex: the last axis must have size 2; got shape {x.shape}")
    return x[..., 0], x[..., 1]


# ----- helpers -----------------------------------------------------------------------------------


def _value(x):
    """A Tensor's values for Python to use (a branch taken, a loop's bounds), else ``x``."""
    return values_of(x) if isinstance(x, Tensor) else x


def _stack_structures(items):
    """A list of equally structured results stacked leaf by leaf along a new axis 0."""
    if not items or items[0] is None:
        return None
    leaves = [nest.flatten(item) for item in items]
    stacked = [ops.stack([_convert_to_tensor(r[k]) for r in leaves]) for k in range(len(leaves[0]))]
    return nest.pack_like(items[0], stacked)
