"""keras.ops.nn: activations, normalisations, cross-entropies, convolutions, poolings,
attention and CTC, with Keras 3's signatures and defaults (``data_format`` defaults to
``"channels_last"``).

Each function adapts arguments, layouts and dtypes, and computes with chainrule's primitives
(:mod:`chainrule.ops`), so its gradient comes from the engine. Activations take any real input
and compute in a float dtype (an integer input becomes float32).
"""

import math

import numpy as np

from ... import ops as prim
from ...engine import ShapeError, Tensor, values_of
from ...ops.windows import as_padding, as_tuple, same_pads
from .. import config
from .core import to_floating
from .dispatch import keras_op
from .dtypes import convert_to_tensor, result_type, standardize_dtype

__all__ = [
    "adaptive_average_pool",
    "adaptive_max_pool",
    "average_pool",
    "batch_normalization",
    "binary_crossentropy",
    "categorical_crossentropy",
    "celu",
    "conv",
    "conv_transpose",
    "ctc_decode",
    "ctc_loss",
    "depth_to_space",
    "depthwise_conv",
    "dot_product_attention",
    "elu",
    "fold",
    "gelu",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "layer_normalization",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "max_pool",
    "moments",
    "multi_hot",
    "normalize",
    "one_hot",
    "polar",
    "psnr",
    "relu",
    "relu6",
    "rms_normalization",
    "selu",
    "separable_conv",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "space_to_depth",
    "sparse_categorical_crossentropy",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh_shrink",
    "threshold",
    "unfold",
]

SELU_ALPHA, SELU_SCALE = prim.elementwise.SELU_ALPHA, prim.elementwise.SELU_SCALE


def _as(v, dtype):
    """v as a Tensor of ``dtype``, cast by the engine (so a gradient flows back through it)."""
    v = convert_to_tensor(v)
    return v if v.dtype == dtype else prim.cast(v, dtype)


def _axis(axis, ndim, op):
    """``axis`` as a non-negative index into ``ndim`` axes."""
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for an input of rank {ndim}.")
    return axis % ndim


# ----- activations -------------------------------------------------------------------------------


@keras_op
def relu(x):
    """max(x, 0)."""
    return prim.relu(convert_to_tensor(x))


@keras_op
def relu6(x):
    """min(max(x, 0), 6).   Gradient 1 on [0, 6], 0 outside."""
    return prim.clip(to_floating(x), 0.0, 6.0)


@keras_op
def sigmoid(x):
    """1 / (1 + e^-x)."""
    return prim.sigmoid(to_floating(x))


@keras_op
def sparse_sigmoid(x):
    """0 for x <= -1, (x + 1) / 2 for -1 < x < 1, 1 for x >= 1."""
    return prim.clip((to_floating(x) + 1.0) * 0.5, 0.0, 1.0)


@keras_op
def softplus(x):
    """log(1 + e^x), computed stably."""
    return prim.softplus(to_floating(x))


@keras_op
def softsign(x):
    """x / (1 + |x|)."""
    x = to_floating(x)
    return x / (prim.abs(x) + 1.0)


@keras_op
def sparse_plus(x):
    """0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1 (a smooth ReLU)."""
    x = to_floating(x)
    inside = prim.clip(x, -1.0, 1.0) + 1.0
    return prim.where(x >= 1.0, x, inside * inside * 0.25)


@keras_op
def silu(x):
    """x sigmoid(x) (also called swish)."""
    x = to_floating(x)
    return x * prim.sigmoid(x)


swish = silu  # Keras exports one function under both names


@keras_op
def log_sigmoid(x):
    """log sigmoid(x) = -softplus(-x), stable for any x."""
    return -prim.softplus(-to_floating(x))


@keras_op
def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, negative_slope x otherwise."""
    return prim.leaky_relu(to_floating(x), alpha=negative_slope)


@keras_op
def hard_sigmoid(x):
    """The piecewise-linear sigmoid: clip(x / 6 + 1/2, 0, 1)."""
    return prim.clip(to_floating(x) * (1 / 6) + 0.5, 0.0, 1.0)


@keras_op
def hard_silu(x):
    """x hard_sigmoid(x) (also called hard swish)."""
    x = to_floating(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


@keras_op
def elu(x, alpha=1.0):
    """x for x > 0, alpha (e^x - 1) otherwise."""
    return prim.elu(to_floating(x), alpha=alpha)


@keras_op
def selu(x):
    """scale elu(x, alpha), with the self-normalising constants of Klambauer et al. (2017)."""
    return prim.elu(to_floating(x), alpha=SELU_ALPHA) * SELU_SCALE


@keras_op
def celu(x, alpha=1.0):
    """max(x, 0) + alpha (e^(min(x, 0) / alpha) - 1) = alpha elu(x / alpha), for alpha > 0."""
    return prim.elu(to_floating(x) * (1.0 / alpha), alpha=1.0) * alpha


@keras_op
def gelu(x, approximate=True):
    """Gaussian error linear unit x Phi(x) = x (1 + erf(x / sqrt 2)) / 2; with ``approximate``
    (Keras's default here) the tanh form x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2."""
    x = to_floating(x)
    if approximate:
        inner = (x + x * x * x * 0.044715) * math.sqrt(2 / math.pi)
        return x * (prim.tanh(inner) + 1.0) * 0.5
    return x * (prim.erf(x * (1 / math.sqrt(2))) + 1.0) * 0.5


@keras_op
def glu(x, axis=-1):
    """Gated linear unit: a sigmoid(b), where a and b are the two halves of x along ``axis``."""
    x = to_floating(x)
    axis = _axis(axis, x.ndim, "glu")
    half, odd = divmod(x.shape[axis], 2)
    if odd:
        raise ValueError(
            f"glu: the size of axis {axis} must be even, to split it in two halves; got an input "
            f"of shape {x.shape}."
        )
    lead = (slice(None),) * axis
    return x[lead + (slice(0, half),)] * prim.sigmoid(x[lead + (slice(half, None),)])


@keras_op
def hard_tanh(x):
    """clip(x, -1, 1)."""
    return prim.clip(to_floating(x), -1.0, 1.0)


@keras_op
def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, 0 elsewhere."""
    x = to_floating(x)
    return prim.where(prim.abs(x) > threshold, x, 0.0)


@keras_op
def soft_shrink(x, threshold=0.5):
    """x - threshold above threshold, x + threshold below -threshold, 0 between."""
    x = to_floating(x)
    return prim.where(x > threshold, x - threshold, prim.where(x < -threshold, x + threshold, 0.0))


@keras_op
def tanh_shrink(x):
    """x - tanh(x)."""
    x = to_floating(x)
    return x - prim.tanh(x)


@keras_op
def threshold(x, threshold, default_value):
    """x where x > threshold, ``default_value`` elsewhere."""
    x = to_floating(x)
    return prim.where(x > threshold, x, _as(default_value, x.dtype))


@keras_op
def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2, a smooth ReLU (b >= 0)."""
    x = to_floating(x)
    return (x + prim.sqrt(x * x + b)) * 0.5


@keras_op
def softmax(x, axis=-1):
    """e^x_i / sum_j e^x_j along ``axis`` (an int, a tuple of axes, or None for all)."""
    return _along(prim.softmax, x, axis)


@keras_op
def log_softmax(x, axis=-1):
    """x_i - log sum_j e^x_j along ``axis`` (an int, a tuple of axes, or None for all)."""
    return _along(prim.log_softmax, x, axis)


def _along(fn, x, axis):
    """fn(x, axis=...) of the float x along ``axis``: an int, a tuple of axes, or None."""
    x = to_floating(x)
    if isinstance(axis, int):
        return fn(x, axis=axis)
    return _over_axes(fn, x, axis)


def _over_axes(fn, x, axes):
    """fn over several axes at once: those axes moved last and flattened into one."""
    axes = range(x.ndim) if axes is None else axes
    axes = sorted(_axis(a, x.ndim, fn.name) for a in axes)
    rest = [a for a in range(x.ndim) if a not in axes]
    moved = prim.transpose(x, rest + axes)
    y = fn(prim.reshape(moved, moved.shape[: len(rest)] + (-1,)), axis=-1)
    return prim.transpose(prim.reshape(y, moved.shape), tuple(np.argsort(rest + axes)))


@keras_op
def sparsemax(x, axis=-1):
    """The projection of x onto the probability simplex along ``axis``: max(x - tau, 0) with
    tau such that the outputs sum to 1 (entries may be exactly 0)."""
    return prim.sparsemax(to_floating(x), axis=axis)


# ----- encodings ---------------------------------------------------------------------------------


@keras_op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """y[..., k, ...] = 1 where k == x[...], else 0, the class axis at ``axis``; negative or
    out-of-range classes give all zeros. No gradient."""
    _no_sparse(sparse, "one_hot")
    x = convert_to_tensor(x)
    if x.dtype.kind not in "iu":
        x = prim.cast(x, "int32")
    y = prim.one_hot(x, depth=int(num_classes), dtype=standardize_dtype(dtype))
    axis = _axis(axis, y.ndim, "one_hot")
    order = list(range(y.ndim - 1))
    order.insert(axis, y.ndim - 1)
    return y if axis == y.ndim - 1 else prim.transpose(y, order)


@keras_op
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """For each sample (the first axis of a 2-D or higher input), 1 at every class it lists,
    0 elsewhere; a 1-D input is one sample. No gradient."""
    _no_sparse(sparse, "multi_hot")
    num_classes = kwargs.pop("num_tokens", num_classes)
    if kwargs:
        raise TypeError(f"multi_hot: unexpected arguments {sorted(kwargs)}.")
    if num_classes is None:
        raise ValueError("multi_hot: `num_classes` is required; received num_classes=None.")
    inputs = convert_to_tensor(inputs)
    encoded = one_hot(inputs, num_classes, axis=axis, dtype=dtype)
    return prim.max(encoded, axis=1 if inputs.ndim > 1 else 0)


def _no_sparse(sparse, op):
    if sparse:
        raise ValueError(f"{op}: sparse outputs are not supported; pass sparse=False.")


# ----- statistics and normalisation --------------------------------------------------------------


@keras_op
def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, variance) of x over ``axes``: mean = E[x], variance = E[(x - E[x])^2].

    float16 inputs are reduced in float32. ``synchronized`` (for distributed training) has no
    effect here.
    """
    x = convert_to_tensor(x)
    dtype = x.dtype
    if dtype == np.float16 or dtype.kind != "f":
        x = prim.cast(x, "float32")
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else axes
    mean = prim.mean(x, axis=axes, keepdims=True)
    centred = x - mean
    variance = prim.mean(centred * centred, axis=axes, keepdims=keepdims)
    if not keepdims:
        mean = prim.squeeze(mean, axis=axes)
    if dtype == np.float16:
        mean, variance = prim.cast(mean, dtype), prim.cast(variance, dtype)
    return mean, variance


@keras_op
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """(x - mean) / sqrt(variance + epsilon) * scale + offset, with the 1-D statistics and
    parameters laid along ``axis`` of x."""
    x = to_floating(x)
    axis = _axis(axis, x.ndim, "batch_normalization")
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def along(v, name):
        v = _as(v, x.dtype)
        if v.shape != (x.shape[axis],):
            raise ShapeError(
                f"batch_normalization: `{name}` must have shape ({x.shape[axis]},), the size of "
                f"axis {axis} of x (shape {x.shape}); got shape {v.shape}."
            )
        return prim.reshape(v, tuple(shape))

    inv = 1.0 / prim.sqrt(along(variance, "variance") + epsilon)
    if scale is not None:
        inv = inv * along(scale, "scale")
    shift = -along(mean, "mean") * inv
    if offset is not None:
        shift = shift + along(offset, "offset")
    return x * inv + shift


def _normalized_axes(axis, ndim, op):
    axes = [axis] if isinstance(axis, int) else list(axis)
    return sorted(_axis(a, ndim, op) for a in axes)


def _at_least_float32(x):
    """x as a Tensor computed in at least float32; and its own dtype, to return in."""
    x = convert_to_tensor(x)
    dtype = x.dtype
    compute = result_type(x, "float32") if dtype.kind == "f" else "float32"
    return prim.cast(x, compute) if x.dtype != compute else x, dtype


@keras_op
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """(x - mean) / sqrt(variance + epsilon) * gamma + beta, statistics over ``axis`` (an int or
    a list), in at least float32. ``rms_scaling=True`` uses x / sqrt(variance + epsilon) * gamma
    instead. epsilon defaults to 1e-7."""
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"layer_normalization: unexpected arguments {sorted(kwargs)}.")
    epsilon = config.epsilon() if epsilon is None else epsilon
    x, dtype = _at_least_float32(x)
    axes = _normalized_axes(axis, x.ndim, "layer_normalization")
    shape = [x.shape[a] if a in axes else 1 for a in range(x.ndim)]

    def param(v):
        v = _as(v, x.dtype)
        return v if v.ndim == x.ndim or axes == [x.ndim - 1] else prim.reshape(v, tuple(shape))

    mean, variance = moments(x, axes=tuple(axes), keepdims=True)
    inv = 1.0 / prim.sqrt(variance + epsilon)
    if gamma is not None:
        inv = inv * param(gamma)
    if rms_scaling:
        out = x * inv
    else:
        shift = -mean * inv
        out = x * inv + (shift if beta is None else shift + param(beta))
    return _as(out, dtype)


@keras_op
def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """x / sqrt(mean(x^2) + epsilon) * scale, the mean over ``axis``, in at least float32;
    epsilon defaults to 1e-7."""
    epsilon = config.epsilon() if epsilon is None else epsilon
    x, dtype = _at_least_float32(x)
    if x.ndim == 0:
        x = prim.reshape(x, (1,))
    axes = tuple(_normalized_axes(axis, x.ndim, "rms_normalization"))
    out = x * (1.0 / prim.sqrt(prim.mean(x * x, axis=axes, keepdims=True) + epsilon))
    if scale is not None:
        out = out * _as(scale, x.dtype)
    return _as(out, dtype)


@keras_op
def normalize(x, axis=-1, order=2, epsilon=None):
    """x / ||x||_order along ``axis``; for order 2, x min(1 / ||x||, 1 / epsilon), otherwise
    x / max(||x||, epsilon). epsilon defaults to 1e-7."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: `order` must be an int >= 1; received order={order!r}.")
    epsilon = config.epsilon() if epsilon is None else epsilon
    x = to_floating(x)
    if x.ndim == 0:
        x = prim.reshape(x, (1,))
    if order == 2:
        inv = 1.0 / prim.sqrt(prim.sum(x * x, axis=axis, keepdims=True))
        return x * prim.minimum(inv, 1.0 / epsilon)
    if order == 1:
        norm = prim.sum(prim.abs(x), axis=axis, keepdims=True)
    else:
        norm = prim.sum(prim.abs(x) ** order, axis=axis, keepdims=True) ** (1.0 / order)
    return x / prim.maximum(norm, epsilon)


@keras_op
def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio: 20 log10(max_val) - 10 log10(mean((x1 - x2)^2))."""
    x1, x2 = to_floating(x1), to_floating(x2)
    if x1.shape != x2.shape:
        raise ShapeError(f"psnr: x1 and x2 must have the same shape; got {x1.shape}, {x2.shape}.")
    difference = x1 - x2
    mse = prim.mean(difference * difference)
    peak = prim.log(_as(max_val, x2.dtype))
    return (peak * 20.0 - prim.log(mse) * 10.0) * (1 / math.log(10))


# ----- cross-entropies ---------------------------------------------------------------------------


def _same_shape(target, output, op):
    if target.shape != output.shape:
        raise ShapeError(
            f"{op}: `target` and `output` must have the same shape; got target.shape="
            f"{target.shape}, output.shape={output.shape}."
        )


@keras_op
def binary_crossentropy(target, output, from_logits=False):
    """Elementwise -(t log p + (1 - t) log(1 - p)); p = sigmoid(output) with ``from_logits``
    (computed stably from the logits), else ``output`` clipped to [1e-7, 1 - 1e-7]."""
    output = to_floating(output)
    target = _as(target, output.dtype)
    _same_shape(target, output, "binary_crossentropy")
    if from_logits:
        return prim.sigmoid_cross_entropy(output, target)
    p = prim.clip(output, config.epsilon(), 1.0 - config.epsilon())
    return -(target * prim.log(p) + (1.0 - target) * prim.log(1.0 - p))


def _log_probabilities(output, from_logits, axis):
    """log softmax(output) from logits; else log of output normalised to sum 1 and clipped."""
    if from_logits:
        return prim.log_softmax(output, axis=axis)
    p = output / prim.sum(output, axis=axis, keepdims=True)
    return prim.log(prim.clip(p, config.epsilon(), 1.0 - config.epsilon()))


@keras_op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-sum_k t_k log p_k along ``axis``; p = softmax(output) with ``from_logits``, else
    ``output`` normalised to sum 1 and clipped to [1e-7, 1 - 1e-7]."""
    output = to_floating(output)
    target = _as(target, output.dtype)
    _same_shape(target, output, "categorical_crossentropy")
    if output.ndim < 1:
        raise ShapeError("categorical_crossentropy: `output` must be at least rank 1.")
    if from_logits:
        return prim.softmax_cross_entropy(output, target, axis=axis)
    return -prim.sum(target * _log_probabilities(output, False, axis), axis=axis)


@keras_op
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-log p[target] along ``axis``, with integer class targets; p as in
    :func:`categorical_crossentropy`. A trailing target axis of size 1 is dropped."""
    output = to_floating(output)
    target = convert_to_tensor(target)
    if target.dtype.kind not in "iu":
        target = prim.cast(target, "int32")
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = prim.squeeze(target, axis=-1)
    if output.ndim < 1 or target.shape != output.shape[:-1]:
        raise ShapeError(
            f"sparse_categorical_crossentropy: `target` must have the shape of `output` without "
            f"its last (class) axis; got target.shape={target.shape}, "
            f"output.shape={output.shape}."
        )
    axis = _axis(axis, output.ndim, "sparse_categorical_crossentropy")
    if from_logits and axis == output.ndim - 1:
        return prim.sparse_softmax_cross_entropy(output, target)
    log_p = _log_probabilities(output, from_logits, axis)
    picked = one_hot(target, output.shape[axis], axis=axis, dtype=output.dtype)
    return -prim.sum(picked * log_p, axis=axis)


# ----- convolutions ------------------------------------------------------------------------------


def _data_format(data_format, op):
    fmt = config.image_data_format() if data_format is None else data_format
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{op}: `data_format` must be 'channels_last' or 'channels_first'; received "
            f"data_format={data_format!r}."
        )
    return fmt


def _to_channels_last(x, fmt):
    if fmt == "channels_last":
        return x
    return prim.transpose(x, (0, *range(2, x.ndim), 1))


def _from_channels_last(y, fmt):
    if fmt == "channels_last":
        return y
    return prim.transpose(y, (0, y.ndim - 1, *range(1, y.ndim - 1)))


def _spatial_rank(op, inputs, kernel, kernel_layout):
    """The number of spatial axes (1, 2 or 3), checked against the input's and kernel's ranks."""
    rank = kernel.ndim - 2
    if rank not in (1, 2, 3) or inputs.ndim != rank + 2:
        raise ShapeError(
            f"{op}: expects an input (batch, *spatial, channels) and a kernel ({kernel_layout}) "
            f"with 1, 2 or 3 spatial axes, the input one axis longer than the kernel; got input "
            f"shape {inputs.shape} and kernel shape {kernel.shape}."
        )
    return rank


def _zero_pad(x, axis, before, after):
    """x with zeros added before and after along ``axis``: a scatter into a larger zero array,
    whose gradient is the slice back."""
    if before == after == 0:
        return x
    shape = list(x.shape)
    shape[axis] += before + after
    index = (slice(None),) * axis + (slice(before, before + x.shape[axis]),)
    return prim.scatter_add(x, index=index, shape=tuple(shape))


def _depth_geometry(op, length, window, stride, dilation, padding):
    """The first spatial axis of a 3-D window op: its pads (before, after) and output length."""
    before, after = same_pads(length, window, stride, dilation) if padding == "same" else (0, 0)
    out = (length + before + after - dilation * (window - 1) - 1) // stride + 1
    if out < 1:
        raise ShapeError(
            f"{op}: the window of depth {window} (dilation {dilation}) does not fit the input's "
            f"depth {length}; use a smaller window, padding='same', or a deeper input."
        )
    return before, after, out


def _conv(x, kernel, rank, strides, padding, dilation_rate, groups, op):
    """The channels_last convolution of x (N, *spatial, C) with kernel (*window, C/G, F), by
    conv2d: a 1-D one over images of height 1; a 3-D one as the sum, over the kernel's depth
    taps a, of the 2-D convolutions of the depth slices i sd + a dd that tap reads."""
    padding = as_padding(padding, op)
    strides = as_tuple(strides, rank, "strides", op)
    dilation = as_tuple(dilation_rate, rank, "dilation_rate", op)
    if rank == 1:
        y = prim.conv2d(
            prim.expand_dims(x, axis=1),
            prim.expand_dims(kernel, axis=0),
            strides=(1, *strides),
            padding=padding,
            dilation_rate=(1, *dilation),
            groups=groups,
        )
        return prim.squeeze(y, axis=1)
    if rank == 2:
        return prim.conv2d(
            x, kernel, strides=strides, padding=padding, dilation_rate=dilation, groups=groups
        )
    (sd, *plane_strides), (dd, *plane_dilation) = strides, dilation
    before, after, depth = _depth_geometry(op, x.shape[1], kernel.shape[0], sd, dd, padding)
    x = _zero_pad(x, 1, before, after)
    total = None
    for a in range(kernel.shape[0]):
        slices = x[:, a * dd : a * dd + sd * (depth - 1) + 1 : sd]
        y = prim.conv2d(
            prim.reshape(slices, (-1, *x.shape[2:])),
            kernel[a],
            strides=tuple(plane_strides),
            padding=padding,
            dilation_rate=tuple(plane_dilation),
            groups=groups,
        )
        total = y if total is None else total + y
    return prim.reshape(total, (x.shape[0], depth, *total.shape[1:]))


@keras_op
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (cross-correlation), N = 1, 2 or 3:

        y[n, i, f] = sum_{a, c} xp[n, i s + a d, c] kernel[a, c, f]   (i, a spatial tuples)

    Args:
        inputs: (batch, *spatial, C) (channels_last) or (batch, C, *spatial).
        kernel: (*window, C / groups, F); groups = C / kernel.shape[-2] (grouped convolution).
        strides, dilation_rate: an int or one per spatial axis.  padding: 'valid' or 'same'.

    The gradient is the engine's (conv2d's VJPs).
    """
    fmt = _data_format(data_format, "conv")
    inputs, kernel = to_floating(inputs), to_floating(kernel)
    rank = _spatial_rank("conv", inputs, kernel, "*window, in_channels / groups, filters")
    x = _to_channels_last(inputs, fmt)
    channels, per_group, filters = x.shape[-1], kernel.shape[-2], kernel.shape[-1]
    if channels % per_group or filters % (channels // per_group):
        raise ShapeError(
            f"conv: the input has {channels} channels, which the kernel of shape {kernel.shape} "
            f"(axis -2: {per_group} input channels per group) does not divide into groups with "
            f"a whole number of its {filters} filters each. Use a kernel of shape "
            f"(*window, {channels}, filters) for an ordinary convolution."
        )
    y = _conv(x, kernel, rank, strides, padding, dilation_rate, channels // per_group, "conv")
    return _from_channels_last(y, fmt)


@keras_op
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution: each input channel c convolved with its own M filters,
    y[..., c M + m] = sum_a xp[..., i s + a d, c] kernel[a, c, m].

    Args:
        kernel: (*window, C, M), M the depth multiplier.  Others as in :func:`conv`.
    """
    fmt = _data_format(data_format, "depthwise_conv")
    inputs, kernel = to_floating(inputs), to_floating(kernel)
    rank = _spatial_rank("depthwise_conv", inputs, kernel, "*window, in_channels, multiplier")
    x = _to_channels_last(inputs, fmt)
    channels = x.shape[-1]
    if kernel.shape[-2] != channels:
        raise ShapeError(
            f"depthwise_conv: the kernel's axis -2 must be the input's {channels} channels; got "
            f"kernel shape {kernel.shape} for input shape {inputs.shape} ({fmt})."
        )
    grouped = prim.reshape(kernel, (*kernel.shape[:-2], 1, channels * kernel.shape[-1]))
    y = _conv(x, grouped, rank, strides, padding, dilation_rate, channels, "depthwise_conv")
    return _from_channels_last(y, fmt)


@keras_op
def separable_conv(
    inputs,
    depthwise_kernel,
    pointwise_kernel,
    strides=1,
    padding="valid",
    data_format=None,
    dilation_rate=1,
):
    """A :func:`depthwise_conv` followed by a 1x1 :func:`conv` with ``pointwise_kernel``
    (*1s, C M, F) that mixes the channels."""
    fmt = _data_format(data_format, "separable_conv")
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding, fmt, dilation_rate)
    return conv(depthwise, pointwise_kernel, 1, "valid", fmt, 1)


def _transpose_pads(length, window, stride, dilation, padding, output_padding):
    """For one spatial axis of a transposed convolution: the output length, and the forward
    convolution it is the adjoint of, as (forward input length, (pad before, pad after)).

    Keras fixes the output length as (length - 1) stride + max(extent, stride) for 'valid' and
    length stride for 'same' (extent = dilation (window - 1) + 1), or from ``output_padding``;
    that is a dilated input padded by (a, b). The forward convolution that maps the output back
    to ``length`` pads by (extent - 1 - a, extent - 1 - b); trailing output pixels that no window
    reads (b > extent - 1) are zeros and are added after.
    """
    extent = (window - 1) * dilation + 1
    if padding == "valid":
        extra = max(extent, stride) - extent if output_padding is None else output_padding
        before, after = extent - 1, extent - 1 + extra
    else:
        if output_padding is None:
            total = stride + extent - 2
        else:
            total = extent + extent % 2 - 2 + output_padding
        before = min(total // 2 + total % 2, extent - 1)
        after = total - before
    out = (length - 1) * stride + before + after - extent + 2
    unread = max(after - (extent - 1), 0)
    return out, out - unread, (extent - 1 - before, extent - 1 - after + unread)


@keras_op
def conv_transpose(
    inputs,
    kernel,
    strides=1,
    padding="valid",
    output_padding=None,
    data_format=None,
    dilation_rate=1,
):
    """Transposed convolution (the adjoint of :func:`conv` in its input), N = 1, 2 or 3:

        y[n, i s + a d - p, c] += sum_f x[n, i, f] kernel[a, c, f]

    with Keras's output size: (L - 1) s + max(d (k - 1) + 1, s) for 'valid', L s for 'same',
    or as set by ``output_padding``. Computed by conv2d_backprop_input.

    Args:
        inputs: (batch, *spatial, F) (channels_last) or (batch, F, *spatial).
        kernel: (*window, C, F): C output channels, F the input's channels.
        output_padding: None, an int, or one per spatial axis.
    """
    op = "conv_transpose"
    fmt = _data_format(data_format, op)
    inputs, kernel = to_floating(inputs), to_floating(kernel)
    rank = _spatial_rank(op, inputs, kernel, "*window, out_channels, in_channels")
    x = _to_channels_last(inputs, fmt)
    if kernel.shape[-1] != x.shape[-1]:
        raise ShapeError(
            f"{op}: the kernel's last axis must be the input's {x.shape[-1]} channels; got kernel "
            f"shape {kernel.shape} for input shape {inputs.shape} ({fmt})."
        )
    padding = as_padding(padding, op)
    strides = as_tuple(strides, rank, "strides", op)
    dilation = as_tuple(dilation_rate, rank, "dilation_rate", op)
    extras = (None,) * rank if output_padding is None else output_padding
    extras = (
        as_tuple(extras, rank, "output_padding", op, allow_zero=True)
        if output_padding is not None
        else extras
    )
    axes = [
        _transpose_pads(n, k, s, d, padding, e)
        for n, k, s, d, e in zip(x.shape[1:-1], kernel.shape[:-2], strides, dilation, extras)
    ]
    if rank == 1:
        plane = ((1, 1, (0, 0)), axes[0])
        y = _transpose_plane(
            prim.expand_dims(x, axis=1),
            prim.expand_dims(kernel, axis=0),
            plane,
            (1, *strides),
            (1, *dilation),
        )
        y = prim.squeeze(y, axis=1)
    elif rank == 2:
        y = _transpose_plane(x, kernel, axes, strides, dilation)
    else:
        y = _transpose_depth(x, kernel, axes, strides, dilation)
    for axis, (out, length, _) in enumerate(axes, start=1):
        y = _zero_pad(y, axis, 0, out - length)  # output pixels that no window reaches
    return _from_channels_last(y, fmt)


def _transpose_plane(x, kernel, axes, strides, dilation):
    """The 2-D transposed convolution of x (N, H, W, F) as conv2d_backprop_input, for the
    per-axis geometry ``axes`` from :func:`_transpose_pads`."""
    return prim.conv2d_backprop_input(
        x,
        kernel,
        input_shape=(x.shape[0], axes[0][1], axes[1][1], kernel.shape[-2]),
        strides=strides,
        padding=(axes[0][2], axes[1][2]),
        dilation_rate=dilation,
    )


def _transpose_depth(x, kernel, axes, strides, dilation):
    """The 3-D transposed convolution of x (N, D, H, W, F): for each depth tap a, the 2-D one of
    every depth slice i with kernel[a], added at output depth i sd + a dd - pad (when inside)."""
    (_, length, (pad, _)), (sd, dd) = axes[0], (strides[0], dilation[0])
    n, depth = x.shape[:2]
    flat = prim.reshape(x, (n * depth, *x.shape[2:]))
    total = None
    for a in range(kernel.shape[0]):
        offset = a * dd - pad  # where input slice 0 lands
        first = max(0, -(offset // sd))
        last = min(depth - 1, (length - 1 - offset) // sd)
        if first > last:
            continue
        part = _transpose_plane(flat, kernel[a], axes[1:], strides[1:], dilation[1:])
        part = prim.reshape(part, (n, depth, *part.shape[1:]))[:, first : last + 1]
        start = first * sd + offset
        index = (slice(None), slice(start, start + (last - first) * sd + 1, sd))
        placed = prim.scatter_add(part, index=index, shape=(n, length, *part.shape[2:]))
        total = placed if total is None else total + placed
    if total is None:  # no tap reaches the output: all zeros
        shape = (n, length, *(ax[1] for ax in axes[1:]), kernel.shape[-2])
        total = Tensor(np.zeros(shape, dtype=x.dtype))
    return total


# ----- pooling -----------------------------------------------------------------------------------


def _pool(pool_fn, reduce, op, inputs, pool_size, strides, padding, data_format):
    """A 2-D pooling primitive on 1-D (height 1), 2-D or 3-D inputs; a 3-D pool is the 2-D pool
    of every depth slice, then ``reduce`` (max or mean) over each window's real depth slices."""
    fmt = _data_format(data_format, op)
    inputs = convert_to_tensor(inputs)
    if inputs.dtype.kind != "f" and pool_fn is prim.avg_pool2d:
        inputs = prim.cast(inputs, "float32")
    rank = inputs.ndim - 2
    if rank not in (1, 2, 3):
        raise ShapeError(
            f"{op}: expects an input (batch, *spatial, channels) with 1, 2 or 3 spatial axes; "
            f"got shape {inputs.shape}."
        )
    x = _to_channels_last(inputs, fmt)
    pool_size = as_tuple(pool_size, rank, "pool_size", op)
    strides = pool_size if strides is None else as_tuple(strides, rank, "strides", op)
    padding = as_padding(padding, op)
    if rank == 1:
        y = pool_fn(
            prim.expand_dims(x, axis=1),
            pool_size=(1, *pool_size),
            strides=(1, *strides),
            padding=padding,
        )
        y = prim.squeeze(y, axis=1)
    elif rank == 2:
        y = pool_fn(x, pool_size=pool_size, strides=strides, padding=padding)
    else:
        n, depth = x.shape[:2]
        planes = pool_fn(
            prim.reshape(x, (n * depth, *x.shape[2:])),
            pool_size=pool_size[1:],
            strides=strides[1:],
            padding=padding,
        )
        planes = prim.reshape(planes, (n, depth, *planes.shape[1:]))
        size, stride = pool_size[0], strides[0]
        before, _, out = _depth_geometry(op, depth, size, stride, 1, padding)
        cells = [
            reduce(planes[:, max(o * stride - before, 0) : o * stride - before + size], axis=1)
            for o in range(out)
        ]
        y = prim.stack(cells, axis=1)
    return _from_channels_last(y, fmt)


@keras_op
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The maximum of each window (1-D, 2-D or 3-D); strides default to the pool size. The
    gradient goes to each window's first maximum."""
    return _pool(
        prim.max_pool2d, prim.max, "max_pool", inputs, pool_size, strides, padding, data_format
    )


@keras_op
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The mean of each window (1-D, 2-D or 3-D); with 'same' padding, of its real pixels only."""
    return _pool(
        prim.avg_pool2d, prim.mean, "average_pool", inputs, pool_size, strides, padding, data_format
    )


def _adaptive_pool(reduce, op, inputs, output_size, data_format):
    """Pool each spatial axis to ``output_size`` windows: window i of an axis of length L spans
    [floor(i L / n), ceil((i + 1) L / n)). A box's pool is the pool over its axes in turn."""
    fmt = _data_format(data_format, op)
    x = _to_channels_last(to_floating(inputs), fmt)
    rank = x.ndim - 2
    if rank < 1:
        raise ShapeError(f"{op}: expects an input (batch, *spatial, channels); got {x.shape}.")
    sizes = as_tuple(output_size, rank, "output_size", op)
    for axis, n in enumerate(sizes, start=1):
        length = x.shape[axis]
        lead = (slice(None),) * axis
        cells = [
            reduce(x[lead + (slice((i * length) // n, -((-(i + 1) * length) // n)),)], axis=axis)
            for i in range(n)
        ]
        x = prim.stack(cells, axis=axis)
    return _from_channels_last(x, fmt)


@keras_op
def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed output size (any number of spatial axes)."""
    return _adaptive_pool(prim.mean, "adaptive_average_pool", inputs, output_size, data_format)


@keras_op
def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed output size (any number of spatial axes)."""
    return _adaptive_pool(prim.max, "adaptive_max_pool", inputs, output_size, data_format)


# ----- patches and pixel shuffles ----------------------------------------------------------------


def _patch_kernel(channels, kernel_size, dtype):
    """The grouped kernel (kh, kw, 1, C kh kw) that copies tap t of channel c to output c kh kw +
    t: a convolution with it lists every window's pixels."""
    kh, kw = kernel_size
    eye = np.eye(kh * kw, dtype=dtype).reshape(kh, kw, 1, kh * kw)
    return np.tile(eye, (1, 1, 1, channels))


def _patch_args(kernel_size, dilation, padding, stride, op):
    window = as_tuple(kernel_size, 2, "kernel_size", op)
    pads = as_tuple(padding, 2, "padding", op, allow_zero=True)
    return dict(
        strides=as_tuple(stride, 2, "stride", op),
        padding=tuple((p, p) for p in pads),
        dilation_rate=as_tuple(dilation, 2, "dilation", op),
    ), window


@keras_op
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a channels_first batch (N, C, H, W) as columns (N, C kh kw, L),
    rows ordered (c, a, b), L the windows in row-major order (PyTorch's ``unfold``)."""
    x = to_floating(x)
    if x.ndim != 4:
        raise ShapeError(f"unfold: expects a 4-D input (N, C, H, W); got shape {x.shape}.")
    params, window = _patch_args(kernel_size, dilation, padding, stride, "unfold")
    channels = x.shape[1]
    kernel = _patch_kernel(channels, window, x.dtype)
    y = prim.conv2d(_to_channels_last(x, "channels_first"), kernel, groups=channels, **params)
    rows = prim.reshape(y, (y.shape[0], -1, y.shape[3]))
    return prim.transpose(rows, (0, 2, 1))


@keras_op
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of :func:`unfold`: columns (N, C kh kw, L) summed back into an image
    (N, C, H, W) of ``output_size`` (H, W), overlapping entries added."""
    x = to_floating(x)
    params, window = _patch_args(kernel_size, dilation, padding, stride, "fold")
    size = as_tuple(output_size, 2, "output_size", "fold")
    if x.ndim != 3 or x.shape[1] % (window[0] * window[1]):
        raise ShapeError(
            f"fold: expects a 3-D input (N, C * {window[0]} * {window[1]}, L); got shape {x.shape}."
        )
    channels = x.shape[1] // (window[0] * window[1])
    kernel = _patch_kernel(channels, window, x.dtype)
    shape = (x.shape[0], *size, channels)
    out = [
        (n + 2 * p[0] - d * (k - 1) - 1) // s + 1
        for n, p, d, k, s in zip(
            size, params["padding"], params["dilation_rate"], window, params["strides"]
        )
    ]
    if out[0] * out[1] != x.shape[2]:
        raise ShapeError(
            f"fold: an output of size {size} has {out[0]} x {out[1]} = {out[0] * out[1]} windows; "
            f"the input (shape {x.shape}) has {x.shape[2]}."
        )
    g = prim.reshape(prim.transpose(x, (0, 2, 1)), (x.shape[0], *out, x.shape[1]))
    y = prim.conv2d_backprop_input(g, kernel, input_shape=shape, groups=channels, **params)
    return _from_channels_last(y, "channels_first")


def _block_layout(x, block_size, data_format, op):
    fmt = _data_format(data_format, op)
    x = convert_to_tensor(x)
    if x.ndim != 4:
        raise ShapeError(f"{op}: expects a 4-D input; got shape {x.shape}.")
    return _to_channels_last(x, fmt), int(block_size), fmt


@keras_op
def depth_to_space(x, block_size, data_format="channels_last"):
    """Move channels into b x b spatial blocks: (N, H, W, b b C) -> (N, H b, W b, C), channel
    (p, q, c) of pixel (i, j) to pixel (i b + p, j b + q)."""
    x, b, fmt = _block_layout(x, block_size, data_format, "depth_to_space")
    n, h, w, c = x.shape
    if c % (b * b):
        raise ShapeError(
            f"depth_to_space: the channels ({c}) must be a multiple of block_size^2 = {b * b}."
        )
    y = prim.reshape(x, (n, h, w, b, b, c // (b * b)))
    y = prim.reshape(prim.transpose(y, (0, 1, 3, 2, 4, 5)), (n, h * b, w * b, c // (b * b)))
    return _from_channels_last(y, fmt)


@keras_op
def space_to_depth(x, block_size, data_format="channels_last"):
    """The inverse of :func:`depth_to_space`: (N, H, W, C) -> (N, H / b, W / b, b b C)."""
    x, b, fmt = _block_layout(x, block_size, data_format, "space_to_depth")
    n, h, w, c = x.shape
    if h % b or w % b:
        raise ShapeError(
            f"space_to_depth: height and width ({h}, {w}) must be multiples of block_size {b}."
        )
    y = prim.reshape(x, (n, h // b, b, w // b, b, c))
    y = prim.reshape(prim.transpose(y, (0, 1, 3, 2, 4, 5)), (n, h // b, w // b, b * b * c))
    return _from_channels_last(y, fmt)


# ----- attention ---------------------------------------------------------------------------------


@keras_op
def dot_product_attention(
    query,
    key,
    value,
    bias=None,
    mask=None,
    scale=None,
    is_causal=False,
    flash_attention=None,
    attn_logits_soft_cap=None,
):
    """softmax(q kᵀ scale + bias, masked) v, per batch and head:

        logits[b, n, t, s] = scale sum_h q[b, t, n, h] k[b, s, n, h] (+ bias)
        out[b, t, n, h] = sum_s softmax_s(logits)[b, n, t, s] v[b, s, n, h]

    Args:
        query: (B, T, N, H).  key, value: (B, S, K, H) with K dividing N (each key head serves
            N / K query heads).  bias: broadcastable to (B, N, T, S).
        mask: boolean, broadcastable to (B, N, T, S); False entries are left out.
        scale: defaults to 1 / sqrt(H).  is_causal: query t sees keys s <= t only.
        attn_logits_soft_cap: if set, logits become cap tanh(logits / cap).
    """
    if flash_attention:
        raise ValueError("dot_product_attention: flash attention is not supported here.")
    query, key, value = to_floating(query), to_floating(key), to_floating(value)
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise ShapeError(
            f"dot_product_attention: expects 4-D query, key and value (batch, length, heads, "
            f"head_dim); got shapes {query.shape}, {key.shape}, {value.shape}."
        )
    heads, key_heads = query.shape[2], key.shape[2]
    if heads % key_heads or value.shape[2] != key_heads:
        raise ShapeError(
            f"dot_product_attention: key and value must have the same number of heads, dividing "
            f"the query's {heads}; got shapes {key.shape} and {value.shape}."
        )
    if key_heads != heads:
        share = np.arange(heads) // (heads // key_heads)
        key, value = key[:, :, share], value[:, :, share]
    scale = 1.0 / math.sqrt(key.shape[-1]) if scale is None else scale
    q = prim.transpose(query, (0, 2, 1, 3))
    logits = q @ prim.transpose(key, (0, 2, 3, 1)) * scale
    if attn_logits_soft_cap is not None:
        logits = prim.tanh(logits * (1.0 / attn_logits_soft_cap)) * attn_logits_soft_cap
    if bias is not None:
        logits = logits + _as(bias, logits.dtype)
    keep = None if mask is None else _as(convert_to_tensor(mask), bool)
    if is_causal:
        causal = np.tril(np.ones(logits.shape[-2:], dtype=bool))
        keep = causal if keep is None else keep & causal
    if keep is not None:
        lowest = -0.7 * (65500.0 if logits.dtype == np.float16 else 3.38953e38)
        logits = prim.where(keep, logits, lowest)
    probs = prim.softmax(logits, axis=-1)
    return prim.transpose(probs @ prim.transpose(value, (0, 2, 1, 3)), (0, 2, 1, 3))


# ----- CTC and complex numbers -------------------------------------------------------------------


def _as_int64(value):
    """``value`` as an int64 Tensor (an input of the op that takes it, so a replayed step
    reads each batch's values)."""
    value = convert_to_tensor(value)
    return value if value.dtype == np.int64 else prim.cast(value, "int64")


@keras_op
def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Per-sequence CTC loss -log p(target | output), shape (B,).

    Args:
        target: (B, L) integer labels.  output: (B, T, C) logits.
        target_length, output_length: (B,) how many labels and steps of each sequence count.
        mask_index: the blank class.
    """
    output = to_floating(output)
    labels = _as_int64(target)
    if output.ndim != 3 or labels.ndim != 2 or labels.shape[0] != output.shape[0]:
        raise ShapeError(
            f"ctc_loss: expects target (batch, max_label_length) and output (batch, steps, "
            f"classes); got shapes {labels.shape} and {output.shape}."
        )
    if output.dtype != np.float32 and output.dtype != np.float64:
        output = prim.cast(output, "float32")
    lengths = [prim.reshape(_as_int64(v), shape=(-1,)) for v in (target_length, output_length)]
    return prim.ctc_loss(output, labels, *lengths, blank=int(mask_index))


@keras_op
def ctc_decode(
    inputs,
    sequence_lengths,
    strategy="greedy",
    beam_width=100,
    top_paths=1,
    merge_repeated=True,
    mask_index=0,
):
    """Decode CTC outputs (B, T, C) into label sequences.

    ``strategy="greedy"`` (best path): returns decoded (1, B, T) int32, each row its classes then
    -1 padding, and scores (B, 1), minus the sum of the chosen per-step scores.
    ``strategy="beam_search"``: a prefix beam search over log_softmax(inputs) keeping
    ``beam_width`` prefixes; returns the ``top_paths`` best, decoded (top_paths, B, T), and
    their log-probabilities (B, top_paths). ``mask_index`` is the blank class.
    """
    if strategy not in ("greedy", "beam_search"):
        raise ValueError(
            f"ctc_decode: `strategy` must be 'greedy' or 'beam_search'; received "
            f"strategy={strategy!r}."
        )
    scores = to_floating(inputs)
    if scores.ndim != 3:
        raise ShapeError(f"ctc_decode: expects inputs (batch, steps, classes); got {scores.shape}.")
    lengths = np.asarray(values_of(convert_to_tensor(sequence_lengths))).reshape(-1)
    if strategy == "greedy":
        decoded, total = prim.ctc_greedy_decode(
            values_of(scores), lengths, merge_repeated=merge_repeated, blank=mask_index
        )
        return Tensor(decoded[None]), Tensor(total)
    log_probs = values_of(prim.log_softmax(scores, axis=-1))
    paths, total = prim.ctc_beam_search_decode(
        log_probs, lengths, beam_width=beam_width, top_paths=top_paths, blank=mask_index
    )
    return Tensor(paths), Tensor(total)


@keras_op
def polar(abs_, angle):
    """abs_ (cos angle + i sin angle), a complex tensor (no gradient)."""
    return prim.polar(to_floating(abs_), to_floating(angle))
