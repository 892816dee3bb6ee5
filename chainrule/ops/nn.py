"""Normalised exponentials and the cross-entropies fused with them.

All of them subtract the maximum before exponentiating, so logits of +-1e4 stay finite.
"""

from ..backend import xp_of
from ..engine import Tensor, primitive
from .elementwise import exp, sigmoid
from .reduction import restore_reduced


@primitive
def logsumexp(a, axis=-1, keepdims=False):
    """y = log sum_j e^(a_j) over ``axis`` = m + log sum_j e^(a_j - m), m = max_j a_j.

    dL/da = g * softmax(a) = g * e^(a - y).
    """
    xp = xp_of(a)
    m = xp.max(a, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    y = m + xp.log(xp.sum(xp.exp(a - m), axis=axis, keepdims=True))
    return y if keepdims else xp.squeeze(y, axis=axis)


@logsumexp.defvjp(0)
def _logsumexp_vjp(g, y, a, axis=-1, keepdims=False):
    y = restore_reduced(y, a.shape, axis, keepdims)
    return restore_reduced(g, a.shape, axis, keepdims) * exp(a - y)


@primitive
def softmax(a, axis=-1):
    """y_i = e^(a_i) / sum_j e^(a_j) over ``axis``.

    dL/da = y * (g - sum_j g_j y_j)   (the Jacobian diag(y) - y yᵀ applied to g).
    """
    xp = xp_of(a)
    e = a - a.max(axis=axis, keepdims=True)
    xp.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


@softmax.defvjp(0)
def _softmax_vjp(g, y, a, axis=-1):
    return y * (g - (g * y).sum(axis=axis, keepdims=True))


@primitive
def log_softmax(a, axis=-1):
    """y_i = a_i - logsumexp(a) over ``axis``.   dL/da = g - softmax(a) * sum_j g_j."""
    xp = xp_of(a)
    shifted = a - xp.max(a, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


@log_softmax.defvjp(0)
def _log_softmax_vjp(g, y, a, axis=-1):
    return g - exp(y) * g.sum(axis=axis, keepdims=True)


@primitive(constants=(2,))
def softmax_cross_entropy(logits, labels, probabilities=None, axis=-1):
    """Per-sample cross-entropy of softmax(logits) against a label distribution, in one step:

        y = logsumexp(z) sum_i t_i - sum_i t_i z_i      (= -sum_i t_i log softmax(z)_i)

    dL/dz = g (softmax(z) sum_i t_i - t),   dL/dt = -g log softmax(z).

    ``probabilities``, if given, is softmax(z) already computed (a model's output): the loss is
    then -sum_i t_i log p_i directly, unless a probability underflowed to below the smallest
    normal number (a loss beyond about 87 in float32), where the logits give it exactly; and the
    gradient reuses p instead of computing it again. No gradient flows into it.
    """
    xp = xp_of(logits)
    if probabilities is not None and probabilities.min() > xp.finfo(probabilities.dtype).tiny:
        return -(labels * xp.log(probabilities)).sum(axis=axis)
    shifted = logits - logits.max(axis=axis, keepdims=True)  # z - m: the same softmax, no overflow
    lse = xp.log(xp.exp(shifted).sum(axis=axis))  # logsumexp(z) - m
    return lse * labels.sum(axis=axis) - (labels * shifted).sum(axis=axis)


@softmax_cross_entropy.defvjp(0)
def _softmax_cross_entropy_vjp_logits(g, y, logits, labels, probabilities=None, axis=-1):
    if probabilities is None:
        probabilities = softmax(logits, axis=axis)
    g = restore_reduced(g, logits.shape, axis, False)
    return g * (probabilities * labels.sum(axis=axis, keepdims=True) - labels)


@softmax_cross_entropy.defvjp(1)
def _softmax_cross_entropy_vjp_labels(g, y, logits, labels, probabilities=None, axis=-1):
    return -restore_reduced(g, logits.shape, axis, False) * log_softmax(logits, axis=axis)


@primitive(constants=(2,))
def mean_softmax_cross_entropy(logits, labels, probabilities=None, axis=-1):
    """The mean over samples of :func:`softmax_cross_entropy`, in one step (Keras's default
    reduction of a categorical cross-entropy). With n = the number of samples (the elements of
    ``logits`` over the size of ``axis``):

        y = (1/n) sum_samples (logsumexp(z) sum_i t_i - sum_i t_i z_i)

    dL/dz = (g/n) (softmax(z) sum_i t_i - t),   dL/dt = -(g/n) log softmax(z).

    ``probabilities`` is used as in :func:`softmax_cross_entropy`; no gradient flows into it.
    """
    xp = xp_of(logits)
    n = logits.size // logits.shape[axis] if logits.size else 1  # samples
    if probabilities is not None and probabilities.min() > xp.finfo(probabilities.dtype).tiny:
        return xp.vdot(labels, xp.log(probabilities)) / -n  # sum_i t_i log p_i, in one product
    return softmax_cross_entropy.forward(logits, labels, probabilities, axis=axis).sum() / n


def _per_sample_scale(g, logits, axis):
    """g / n for the mean over n samples: a Python float for an array g (so the product keeps
    the logits' dtype), a Tensor when the VJP itself is being recorded."""
    n = logits.size // logits.shape[axis] if logits.size else 1
    return g / n if isinstance(g, Tensor) else float(g) / n


@mean_softmax_cross_entropy.defvjp(0)
def _mean_softmax_cross_entropy_vjp_logits(g, y, logits, labels, probabilities=None, axis=-1):
    if probabilities is None:
        probabilities = softmax(logits, axis=axis)
    grad = probabilities * labels.sum(axis=axis, keepdims=True)
    grad -= labels
    grad *= _per_sample_scale(g, logits, axis)
    return grad


@mean_softmax_cross_entropy.defvjp(1)
def _mean_softmax_cross_entropy_vjp_labels(g, y, logits, labels, probabilities=None, axis=-1):
    return log_softmax(logits, axis=axis) * -_per_sample_scale(g, logits, axis)


@primitive
def sparse_softmax_cross_entropy(logits, labels):
    """Per-sample cross-entropy with integer class labels over the last axis:

        y = logsumexp(z) - z[label]

    dL/dz = g * (softmax(z) - onehot(label));  labels are not differentiable.
    """
    xp = xp_of(logits)
    classes = logits.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"sparse_softmax_cross_entropy: class labels must be in [0, {classes}) for "
            f"{classes} classes; got labels from {labels.min()} to {labels.max()}"
        )
    picked = xp.take_along_axis(logits, labels[..., None], axis=-1)[..., 0]
    return logsumexp(logits, axis=-1) - picked


@sparse_softmax_cross_entropy.defvjp(0)
def _sparse_softmax_cross_entropy_vjp(g, y, logits, labels):
    return restore_reduced(g, logits.shape, -1, False) * (
        softmax(logits, axis=-1) - one_hot(labels, depth=logits.shape[-1], dtype=logits.dtype)
    )


@primitive
def sigmoid_cross_entropy(logits, labels):
    """Elementwise binary cross-entropy of sigmoid(z) against t, stable for any z:

        y = max(z, 0) - z t + log(1 + e^-|z|)

    dL/dz = g * (sigmoid(z) - t),   dL/dt = -g * z.
    """
    xp = xp_of(logits)
    return xp.maximum(logits, 0) - logits * labels + xp.log1p(xp.exp(-xp.abs(logits)))


@sigmoid_cross_entropy.defvjp(0)
def _sigmoid_cross_entropy_vjp_logits(g, y, logits, labels):
    return g * (sigmoid(logits) - labels)


@sigmoid_cross_entropy.defvjp(1)
def _sigmoid_cross_entropy_vjp_labels(g, y, logits, labels):
    return -g * logits


@primitive(differentiable=False)
def one_hot(indices, depth, dtype="float32"):
    """y[..., k] = 1 where k == indices[...], else 0 (no gradient)."""
    xp = xp_of(indices)
    return (indices[..., None] == xp.arange(depth)).astype(dtype)


@primitive
def sparsemax(a, axis=-1):
    """The Euclidean projection of a onto the probability simplex along ``axis`` (Martins and
    Astudillo, 2016): y_i = max(a_i - tau, 0), with tau chosen so that sum_i y_i = 1. Sorting
    a in decreasing order as z, the support holds the first k entries where
    1 + k z_k > sum_{j <= k} z_j, and tau = (sum_{j <= k} z_j - 1) / k.

    dL/da = s * (g - sum_j s_j g_j / sum_j s_j),   s = [y > 0] (the support).
    """
    xp = xp_of(a)
    z = -xp.sort(-a, axis=axis)
    cumulative = xp.cumsum(z, axis=axis)
    shape = [1] * a.ndim
    shape[axis] = -1
    k = xp.arange(1, a.shape[axis] + 1, dtype=a.dtype).reshape(shape)
    support = z * k > cumulative - 1
    count = support.sum(axis=axis, keepdims=True)
    # the support is a prefix of z: its sum is the cumulative sum at its last entry
    total = xp.take_along_axis(cumulative, count - 1, axis=axis)
    tau = (total - 1) / count
    return xp.maximum(a - tau, 0).astype(a.dtype)


@sparsemax.defvjp(0)
def _sparsemax_vjp(g, y, a, axis=-1):
    support = y > 0
    share = (g * support).sum(axis=axis, keepdims=True) / support.sum(axis=axis, keepdims=True)
    return (g - share) * support


@primitive(differentiable=False)
def polar(magnitude, angle):
    """y = magnitude (cos angle + i sin angle), a complex array (no gradient)."""
    xp = xp_of(magnitude, angle)
    real = magnitude * xp.cos(angle)
    dtype = xp.result_type(real.dtype, xp.complex64)
    return (real + 1j * (magnitude * xp.sin(angle))).astype(dtype)
