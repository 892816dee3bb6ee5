"""``tf.nn``: activations and the cross-entropies computed from logits (``chainrule.nn``).

Every function accepts Tensors, NumPy arrays or Python numbers, returns a Tensor, and computes
with the engine's primitives; the cross-entropies are the fused, overflow-free primitives of
:mod:`chainrule.ops.nn`, whose VJPs give dL/dz = g (softmax(z) - labels).
"""

from .. import ops
from ..engine import ShapeError
from .core import cast, convert_to_tensor
from .math import log_softmax, sigmoid, softmax, softplus, tanh

__all__ = [
    "elu",
    "l2_loss",
    "leaky_relu",
    "log_softmax",
    "relu",
    "sigmoid",
    "sigmoid_cross_entropy_with_logits",
    "softmax",
    "softmax_cross_entropy_with_logits",
    "softplus",
    "sparse_softmax_cross_entropy_with_logits",
    "tanh",
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
