"""``tf.nn``: activations and the cross-entropies computed from logits (``chainrule.nn``).

Every function accepts Tensors, NumPy arrays or Python numbers, returns a Tensor, and computes
with the engine's primitives; the cross-entropies are the fused, overflow-free primitives of
:mod:`chainrule.ops.nn`, whose VJPs give dL/dz = g (softmax(z) - labels).
"""

import numpy as np

from .. import ops
from .. import random as global_random
from ..engine import ShapeError
from ..ops import noise
from ..ops.elementwise import SELU_ALPHA, SELU_SCALE
from .arrays import gather, stop_gradient
from .core import cast, convert_to_tensor
from .math import (
    clip_by_norm,
    l2_normalize,
    log_softmax,
    reduce_mean,
    rsqrt,
    sigmoid,
    softmax,
    softplus,
    softsign,
    tanh,
    top_k,
)

__all__ = [
    "avg_pool2d",
    "batch_normalization",
    "bias_add",
    "compute_average_loss",
    "conv2d",
    "dropout",
    "elu",
    "embedding_lookup",
    "gelu",
    "l2_loss",
    "l2_normalize",
    "leaky_relu",
    "log_softmax",
    "max_pool2d",
    "moments",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "sigmoid_cross_entropy_with_logits",
    "silu",
    "softmax",
    "softmax_cross_entropy_with_logits",
    "softplus",
    "softsign",
    "sparse_softmax_cross_entropy_with_logits",
    "swish",
    "tanh",
    "top_k",
    "zero_fraction",
]


def relu(features, name=None):
    """y = max(x, 0).   dy/dx = 1 where x > 0, else 0."""
    return ops.relu(convert_to_tensor(features))


def elu(features, name=None):
    """y = x for x > 0, e^x - 1 otherwise.   dy/dx = 1 or y + 1."""
    return ops.elu(convert_to_tensor(features))


def leaky_relu(features, alpha=0.2, name=None):
    """y = x for x > 0, alpha x otherwise (TensorFlow's default alpha = 0.2)."""
    return ops.leaky_relu(convert_to_tensor(features), alpha=alpha)


def relu6(features, name=None):
    """y = min(max(x, 0), 6).   dy/dx = 1 on (0, 6), else 0."""
    return ops.clip(convert_to_tensor(features), 0, 6)


def selu(features, name=None):
    """y = scale elu(x, alpha), with SELU's constants.   dy/dx = scale (1 or y / scale + alpha)."""
    return ops.elu(convert_to_tensor(features), alpha=SELU_ALPHA) * SELU_SCALE


def silu(features, beta=1.0, name=None):
    """y = x sigmoid(beta x) (swish).   dy/dx = s + beta x s (1 - s), s = sigmoid(beta x)."""
    x = convert_to_tensor(features)
    return x * ops.sigmoid(x * beta)


swish = silu


def gelu(features, approximate=False, name=None):
    """y = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, TensorFlow's default; with ``approximate``,
    x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2. The gradient follows from erf's or
    tanh's."""
    x = convert_to_tensor(features)
    if approximate:
        inner = (x + x * x * x * 0.044715) * float(np.sqrt(2 / np.pi))
        return x * (ops.tanh(inner) + 1) * 0.5
    return x * (ops.erf(x * float(1 / np.sqrt(2))) + 1) * 0.5


def embedding_lookup(params, ids, max_norm=None, name=None):
    """The rows of ``params`` (vocabulary, *embedding) that ``ids`` picks: shape ids.shape +
    embedding, as ``tf.gather(params, ids)``; with ``max_norm``, each picked embedding scaled
    down to that L2 norm where it is longer. dL/dparams = g added back into the picked rows.

    Raises:
        ValueError: ``params`` given as a list of several shards (one tensor, or a list of one).
    """
    if isinstance(params, (list, tuple)):
        if len(params) != 1:
            raise ValueError(
                f"embedding_lookup: params split into {len(params)} shards is not supported; "
                f"concatenate them first (tf.concat(params, axis=0)) and look up in the whole."
            )
        params = params[0]
    rows = gather(params, ids)
    if max_norm is None:
        return rows
    embedding_axes = list(range(rows.ndim - (convert_to_tensor(params).ndim - 1), rows.ndim))
    return clip_by_norm(rows, max_norm, axes=embedding_axes)


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """y = (x - mean) scale / sqrt(variance + epsilon) + offset, with broadcasting (``offset``
    and ``scale`` may be None: 0 and 1). The gradients follow from the arithmetic."""
    x = convert_to_tensor(x)
    inverse = rsqrt(convert_to_tensor(variance) + variance_epsilon)
    if scale is not None:
        inverse = inverse * scale
    shift = -convert_to_tensor(mean) * inverse
    return x * inverse + (shift if offset is None else shift + offset)


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None, name=None):
    """The sum of the (weighted) per-example losses divided by ``global_batch_size``, by
    default the number of examples given (one replica in sync)."""
    losses = convert_to_tensor(per_example_loss)
    if sample_weight is not None:
        losses = losses * sample_weight
    if global_batch_size is None:
        global_batch_size = losses.shape[0] if losses.ndim else 1
    return ops.sum(losses) / global_batch_size


def zero_fraction(value, name=None):
    """The fraction of the entries of ``value`` that are zero (float32, no gradient)."""
    x = convert_to_tensor(value)
    return ops.mean(cast(ops.equal(x, 0), np.float32))


def l2_loss(t, name=None):
    """y = sum(t^2) / 2 (no square root).   dy/dt = t."""
    t = convert_to_tensor(t)
    return ops.sum(t * t) / 2


def _labels_like(labels, logits, op):
    """Float labels of the logits' dtype and shape, for the dense cross-entropies."""
    labels = convert_to_tensor(labels)
    if labels.shape != logits.shape:
        raise ShapeError(
            f"{op}: labels of shape {labels.shape} and logits of shape {logits.shape} must have "
            f"the same shape (one probability, or 0/1 label, per logit)."
        )
    return labels if labels.dtype == logits.dtype else cast(labels, logits.dtype)


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """Per-example cross-entropy between a label distribution and softmax(logits):

        y = -sum_i labels_i log softmax(logits)_i      (one value per row along ``axis``)

    dL/dlogits = g (softmax(logits) sum_i labels_i - labels),  dL/dlabels = -g log softmax(logits).

    Raises:
        ValueError: labels and logits of different shapes.
    """
    logits = convert_to_tensor(logits)
    labels = _labels_like(labels, logits, "softmax_cross_entropy_with_logits")
    return ops.softmax_cross_entropy(logits, labels, axis=axis)


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    """Per-example cross-entropy with integer class labels:

        y = logsumexp(logits) - logits[label]      shapes: labels (...), logits (..., classes)

    dL/dlogits = g (softmax(logits) - one_hot(label)); no gradient for the labels.

    Raises:
        TypeError: labels that are not integers.
        ValueError: labels whose shape is not the logits' shape without the last axis, or a
            label outside [0, classes).
    """
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"sparse_softmax_cross_entropy_with_logits: labels must be integer class indices; "
            f"got dtype {labels.dtype}. For one-hot or probability labels use "
            f"softmax_cross_entropy_with_logits."
        )
    if labels.shape != logits.shape[:-1]:
        raise ShapeError(
            f"sparse_softmax_cross_entropy_with_logits: labels of shape {labels.shape} do not "
            f"fit logits of shape {logits.shape}: labels need the logits' shape without the "
            f"last (class) axis, {logits.shape[:-1]}."
        )
    return ops.sparse_softmax_cross_entropy(logits, labels.data)


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Elementwise binary cross-entropy of sigmoid(logits) against labels in [0, 1]:

        y = max(z, 0) - z t + log(1 + e^-|z|)

    dL/dz = g (sigmoid(z) - t),  dL/dt = -g z.

    Raises:
        ValueError: labels and logits of different shapes.
    """
    logits = convert_to_tensor(logits)
    labels = _labels_like(labels, logits, "sigmoid_cross_entropy_with_logits")
    return ops.sigmoid_cross_entropy(logits, labels)


def moments(x, axes, shift=None, keepdims=False, name=None):
    """The mean and the (population) variance of ``x`` over ``axes``:

        mean = mean(x),   variance = mean((x - mean)^2)

    as TensorFlow computes them, the variance around a mean held constant (stop_gradient), which
    gives the same gradient, dvar/dx_i = 2 (x_i - mean) / n. Returns ``(mean, variance)``.
    """
    x = convert_to_tensor(x)
    mean = reduce_mean(x, axis=axes, keepdims=True)
    deviations = x - stop_gradient(mean)
    variance = reduce_mean(deviations * deviations, axis=axes, keepdims=True)
    if not keepdims:
        axes = tuple(a % x.ndim for a in ((axes,) if isinstance(axes, int) else axes))
        mean, variance = ops.squeeze(mean, axis=axes), ops.squeeze(variance, axis=axes)
    return mean, variance


def _spatial(value, op, what):
    """TensorFlow's strides, dilations or ksize: an int, 2 ints, or 4 ints with 1 at the batch
    and channel positions; as (height, width)."""
    values = [int(v) for v in np.reshape(value, -1)]
    if len(values) == 1:
        return values[0], values[0]
    if len(values) == 2:
        return tuple(values)
    if len(values) == 4 and values[0] == values[3] == 1:
        return values[1], values[2]
    raise ValueError(
        f"{op}: `{what}` must be an int, 2 ints, or 4 ints [1, h, w, 1]; received {value!r}."
    )


def _padding(padding, op):
    """'SAME' / 'VALID', or TensorFlow's explicit [[0, 0], [top, bottom], [left, right], [0, 0]]."""
    if isinstance(padding, str):
        if padding.upper() not in ("SAME", "VALID"):
            raise ValueError(f"{op}: padding must be 'SAME' or 'VALID'; received {padding!r}.")
        return padding.lower()
    pads = np.asarray(padding, dtype=int).reshape(-1, 2)
    if pads.shape != (4, 2) or pads[0].any() or pads[3].any():
        raise ValueError(
            f"{op}: explicit padding must be [[0, 0], [top, bottom], [left, right], [0, 0]]; "
            f"received {padding!r}."
        )
    return tuple(map(tuple, pads[1:3].tolist()))


def _channels_last(x, data_format, op):
    """x in NHWC, and whether the result must go back to NCHW."""
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"{op}: data_format must be 'NHWC' or 'NCHW'; received {data_format!r}.")
    if x.ndim != 4:
        raise ShapeError(
            f"{op}: input must be 4-D (batch, height, width, channels); got {x.shape}."
        )
    if data_format == "NCHW":
        return ops.transpose(x, axes=(0, 2, 3, 1)), True
    return x, False


def _back(y, to_nchw):
    return ops.transpose(y, axes=(0, 3, 1, 2)) if to_nchw else y


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None, name=None):
    """2-D cross-correlation, as TensorFlow's ``tf.nn.conv2d``:

        y[n, i, j, f] = sum_{a, b, c} xp[n, i sh + a dh, j sw + b dw, c] filters[a, b, c, f]

    input (N, H, W, C) (or NCHW), filters (kh, kw, C / groups, F); 'SAME' pads so that the
    output is ceil(H / sh). Gradients: those of the ``conv2d`` primitive.

    Raises:
        ValueError: malformed strides, dilations, padding or data_format.
    """
    x, to_nchw = _channels_last(convert_to_tensor(input), data_format, "conv2d")
    kernel = convert_to_tensor(filters)
    groups = x.shape[-1] // kernel.shape[2] if kernel.ndim == 4 and kernel.shape[2] else 1
    y = ops.conv2d(
        x,
        kernel,
        strides=_spatial(strides, "conv2d", "strides"),
        padding=_padding(padding, "conv2d"),
        dilation_rate=_spatial(1 if dilations is None else dilations, "conv2d", "dilations"),
        groups=groups,
    )
    return _back(y, to_nchw)


def _pool(primitive, op, input, ksize, strides, padding, data_format):
    x, to_nchw = _channels_last(convert_to_tensor(input), data_format, op)
    y = primitive(
        x,
        pool_size=_spatial(ksize, op, "ksize"),
        strides=_spatial(strides, op, "strides"),
        padding=_padding(padding, op),
    )
    return _back(y, to_nchw)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """y[n, i, j, c] = the maximum of the (kh, kw) window at (i sh, j sw); 'SAME' pads with -inf.
    dL/dx: each g goes to the first maximum of its window (TensorFlow's choice among ties)."""
    return _pool(ops.max_pool2d, "max_pool2d", input, ksize, strides, padding, data_format)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """y[n, i, j, c] = the mean of the real pixels of the (kh, kw) window at (i sh, j sw)
    ('SAME' padding is not counted, as in TensorFlow). dL/dx: g / m spread over the window."""
    return _pool(ops.avg_pool2d, "avg_pool2d", input, ksize, strides, padding, data_format)


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Inverted dropout: y = x m / (1 - rate), m_i = 1 with probability 1 - rate, else 0;
    ``noise_shape`` (broadcast against x) shares one draw over some axes. dL/dx = g m / (1 - rate).

    Raises:
        ValueError: a rate outside [0, 1).
    """
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be in [0, 1); received rate={rate!r}.")
    x = convert_to_tensor(x)
    shape = x.shape if noise_shape is None else tuple(int(n) for n in np.reshape(noise_shape, -1))
    rng = global_random.generator() if seed is None else np.random.default_rng(seed)
    return x * noise.dropout_mask(x, shape=shape, rate=rate, rng=rng)


def bias_add(value, bias, data_format=None, name=None):
    """y = value + bias along the channel axis: the last ('N...C', the default) or axis 1
    ('NC...'). dL/dbias = the sum of g over the other axes.

    Raises:
        ValueError: a bias that is not 1-D with one entry per channel.
    """
    value, bias = convert_to_tensor(value), convert_to_tensor(bias)
    channels_first = data_format is not None and data_format.startswith("NC")
    axis = 1 if channels_first else value.ndim - 1
    if bias.ndim != 1 or value.ndim < 2 or bias.shape[0] != value.shape[axis]:
        raise ShapeError(
            f"bias_add: bias must be 1-D with one entry per channel (axis {axis} of value "
            f"{value.shape}); got bias of shape {bias.shape}."
        )
    if channels_first:
        bias = ops.reshape(bias, shape=(-1,) + (1,) * (value.ndim - 2))
    return value + bias
