"""Losses with Keras 3's definitions: a per-sample function, then one reduction.

``Loss.__call__(y_true, y_pred, sample_weight)`` computes the per-sample values (the mean over the
last axis for the regression losses), multiplies them by ``sample_weight`` if given, and reduces
them; the default reduction ``sum_over_batch_size`` is sum(values) / number of values.

On probability outputs the cross-entropies clip probabilities to [ε, 1 - ε] with ε = 1e-7, as
Keras does; but where the probabilities come from ``keras.activations.softmax`` (over the last
axis) or ``sigmoid``, which leave their logits on the output as ``_keras_logits`` (Keras 3's
contract; the Dense activation, the Softmax and Activation layers all use them), they are
computed from those logits in one fused, stable step, as Keras does.

Labels and predictions whose ranks differ by a trailing axis of size 1 are first brought to one
rank (Keras's rule); then the losses that compare entries one by one (the regression losses, the
hinges, ``kl_divergence``, ``poisson``, ``cosine_similarity``, the categorical focal
cross-entropy) broadcast them, as Keras does: labels (8, 10) against predictions (8, 1) compare
each sample's ten labels with its one prediction. The binary and categorical cross-entropies
need one shape.

Where chainrule differs from Keras: a Loss made with ``dtype=None`` computes in the dtype of a
floating ``y_pred`` Tensor (float32 for other inputs) instead of always in float32, so float64
gradient checks stay in float64; a ``sample_weight`` of lower rank than the per-sample values
weights their leading axes (one weight per sample of a sequence loss); and every per-sample
function matches the ranks as the Loss classes do, where Keras's functions for the hinges,
``kl_divergence``, ``poisson`` and the focal and binary cross-entropies leave that to the
classes (and so broadcast labels (8,) against predictions (8, 1) to (8, 8), or raise).
"""

import math

import numpy as np

from .. import ops
from ..engine import ShapeError, Tensor, as_array
from . import config
from .keras_tensor import KerasTensor
from .naming import snake_case
from .registry import classes_of, describe, lookup, register_classes, register_names
from .regularizers import l2_normalize


def _as_pair(y_true, y_pred, labels_dtype=None):
    """y_pred as a Tensor; y_true as an array (or Tensor) of ``labels_dtype`` or y_pred's dtype."""
    if not isinstance(y_pred, Tensor):
        y_pred = Tensor(as_array(y_pred).astype(np.float32, copy=False))
    dtype = labels_dtype or y_pred.dtype
    if isinstance(y_true, Tensor):
        if y_true.dtype != dtype:
            y_true = ops.cast(y_true, dtype=np.dtype(dtype))
    else:
        y_true = as_array(y_true)
        if y_true.dtype != dtype:
            y_true = y_true.astype(dtype)
    return y_true, y_pred


def _same_rank(x1, x2):
    """Keras's rule for ranks that differ by one with a trailing size-1 axis: a rank-1 partner
    gains a trailing axis, any other loses the size-1 axis of the other."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1:
            return x1, ops.expand_dims(x2, axis=-1)
        return ops.squeeze(x1, axis=-1), x2
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1:
            return ops.expand_dims(x1, axis=-1), x2
        return x1, ops.squeeze(x2, axis=-1)
    return x1, x2


def _logits(y_pred):
    """The logits of probabilities that ``keras.activations.softmax`` (over the last axis) or
    ``sigmoid`` produced (Keras 3's ``_keras_logits``), else None."""
    return getattr(y_pred, "_keras_logits", None)


def _matching(name, y_true, y_pred):
    """y_true and y_pred of one dtype and shape (a trailing axis of size 1 may differ): the
    rule of Keras's cross-entropies, whose labels and predictions pair entry by entry.

    Raises:
        ShapeError: shapes that differ otherwise, naming the loss and both shapes.
    """
    y_true, y_pred = _same_rank(*_as_pair(y_true, y_pred))
    if y_true.shape != y_pred.shape:
        raise ShapeError(
            f"{name}: labels of shape {tuple(y_true.shape)} do not match the predictions of shape "
            f"{tuple(y_pred.shape)}; they must be equal (a trailing axis of size 1 may differ)."
        )
    return y_true, y_pred


def _broadcasting(name, y_true, y_pred):
    """y_true and y_pred of one dtype, brought to one rank by :func:`_same_rank`, whose shapes
    then broadcast together (NumPy's rule): the rule of Keras's elementwise losses, so that
    labels (8, 10) against predictions (8, 1) compare every label with its sample's prediction.

    Raises:
        ShapeError: shapes that do not broadcast, naming the loss and both shapes as given.
    """
    y_true, y_pred = _as_pair(y_true, y_pred)
    ranked_true, ranked_pred = _same_rank(y_true, y_pred)
    if ranked_true.shape != ranked_pred.shape:
        try:
            np.broadcast_shapes(ranked_true.shape, ranked_pred.shape)
        except ValueError:
            raise ShapeError(
                f"{name}: labels of shape {tuple(y_true.shape)} and predictions of shape "
                f"{tuple(y_pred.shape)} do not broadcast together; they must be equal, or "
                f"broadcast (NumPy's rule) once a trailing axis of size 1 is dropped from the "
                f"one of higher rank."
            ) from None
    return ranked_true, ranked_pred


def _check_axis(name, axis):
    if isinstance(axis, bool):
        raise ValueError(f"{name}: `axis` must be an int; received axis={axis!r}.")


def _smooth(y_true, label_smoothing, classes):
    """Labels moved toward the uniform distribution over ``classes``: y (1 - s) + s / classes."""
    if not label_smoothing:
        return y_true
    return y_true * (1.0 - label_smoothing) + label_smoothing / classes


# ----- regression losses ---------------------------------------------------------------------


def mean_squared_error(y_true, y_pred):
    """mean over the last axis of (y_true - y_pred)².   dL/dp = 2 (p - t) / n."""
    y_true, y_pred = _broadcasting("mean_squared_error", y_true, y_pred)
    diff = y_pred - y_true
    return ops.mean(diff * diff, axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean over the last axis of |y_true - y_pred|.   dL/dp = sign(p - t) / n."""
    y_true, y_pred = _broadcasting("mean_absolute_error", y_true, y_pred)
    return ops.mean(ops.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 · mean over the last axis of |t - p| / max(|t|, ε) (ε = 1e-7).

    dL/dp = 100 sign(p - t) / (n max(|t|, ε)).
    """
    y_true, y_pred = _broadcasting("mean_absolute_percentage_error", y_true, y_pred)
    scale = ops.maximum(ops.abs(y_true), config.epsilon())
    return 100.0 * ops.mean(ops.abs((y_true - y_pred) / scale), axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean over the last axis of (log(max(p, ε) + 1) - log(max(t, ε) + 1))² (ε = 1e-7).

    dL/dp = 2 (log(p + 1) - log(t + 1)) / (n (p + 1)) where p > ε, else 0.
    """
    y_true, y_pred = _broadcasting("mean_squared_logarithmic_error", y_true, y_pred)
    diff = ops.log(ops.maximum(y_pred, config.epsilon()) + 1.0) - ops.log(
        ops.maximum(y_true, config.epsilon()) + 1.0
    )
    return ops.mean(diff * diff, axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """mean over the last axis of 0.5 e² where |e| <= delta, else delta |e| - 0.5 delta²
    (e = y_pred - y_true): quadratic near zero, linear beyond ``delta``.

    dL/dy_pred = e where |e| <= delta, else delta sign(e) (per element, before the mean).
    """
    y_true, y_pred = _broadcasting("huber", y_true, y_pred)
    error = y_pred - y_true
    absolute = ops.abs(error)
    return ops.mean(
        ops.where(absolute <= delta, 0.5 * error * error, delta * absolute - 0.5 * delta * delta),
        axis=-1,
    )


def log_cosh(y_true, y_pred):
    """mean over the last axis of log(cosh(e)), e = y_pred - y_true, computed without overflow
    as e + softplus(-2e) - log 2.   d/de log cosh e = tanh e.

    About e²/2 for small e and |e| - log 2 for large e: like MSE, less swayed by outliers.
    """
    y_true, y_pred = _broadcasting("log_cosh", y_true, y_pred)
    error = y_pred - y_true
    return ops.mean(error + ops.softplus(-2.0 * error) - math.log(2.0), axis=-1)


def kl_divergence(y_true, y_pred):
    """sum over the last axis of t log(t / p), with t and p clipped to [ε, 1] (ε = 1e-7).

    dL/dp = -t / p where p is inside the clip range.
    """
    y_true, y_pred = _broadcasting("kl_divergence", y_true, y_pred)
    y_true = ops.clip(y_true, config.epsilon(), 1.0)
    y_pred = ops.clip(y_pred, config.epsilon(), 1.0)
    return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """mean over the last axis of p - t log(p + ε) (ε = 1e-7): the Poisson negative
    log-likelihood of counts t with rate p, up to terms without p.   dL/dp = 1 - t / (p + ε)."""
    y_true, y_pred = _broadcasting("poisson", y_true, y_pred)
    return ops.mean(y_pred - y_true * ops.log(y_pred + config.epsilon()), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum over ``axis`` of (t / ||t||) (p / ||p||): minus the cosine of the angle between the
    label and prediction vectors, so that it is minimized by aligned vectors (Keras's sign).
    A zero vector gives 0."""
    y_true, y_pred = _broadcasting("cosine_similarity", y_true, y_pred)
    return -ops.sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis=axis)


# ----- hinge losses ----------------------------------------------------------------------------


def _hinge_labels(y_true):
    """Labels in {-1, 1}: labels that are all 0 or 1 become 2t - 1, others are kept (Keras's
    rule), written as t + b (t - 1) with b = 1 when every label is 0 or 1, so that it is one
    expression of the labels, without a branch on their values."""
    flags = ops.cast(ops.equal(y_true, 0.0), dtype=y_true.dtype) + ops.cast(
        ops.equal(y_true, 1.0), dtype=y_true.dtype
    )
    binary = ops.min(flags) if flags.size else 0.0
    return y_true + binary * (y_true - 1.0)


def hinge(y_true, y_pred):
    """mean over the last axis of max(1 - t p, 0), for labels t in {-1, 1} (0/1 labels are
    converted).   dL/dp = -t where t p < 1, else 0."""
    y_true, y_pred = _broadcasting("hinge", y_true, y_pred)
    return ops.mean(ops.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean over the last axis of max(1 - t p, 0)², for labels t in {-1, 1} (0/1 labels are
    converted).   dL/dp = -2 t max(1 - t p, 0)."""
    y_true, y_pred = _broadcasting("squared_hinge", y_true, y_pred)
    margin = ops.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)
    return ops.mean(margin * margin, axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(neg - pos + 1, 0) with pos = sum(t p) and neg = max((1 - t) p) over the last axis,
    for one-hot labels t: the margin between the true class's score and the best other one."""
    y_true, y_pred = _broadcasting("categorical_hinge", y_true, y_pred)
    positive = ops.sum(y_true * y_pred, axis=-1)
    negative = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(negative - positive + 1.0, 0.0)


# ----- cross-entropies -------------------------------------------------------------------------


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum over ``axis`` of y_true * log(y_pred), for one-hot (or soft) labels.

    With ``label_smoothing`` s and k classes, the labels become y_true (1 - s) + s / k.
    On probabilities, y_pred is first divided by its sum over ``axis`` and clipped to [ε, 1 - ε];
    from logits z it is -sum t log softmax(z), whose gradient is softmax(z) sum(t) - t.
    """
    return _categorical_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis)


def mean_categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """The mean over samples of :func:`categorical_crossentropy` (its default reduction), with
    the softmax cross-entropy and the mean fused into one op and one gradient."""
    return _categorical_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis, True)


def _categorical_labels(name, y_true, y_pred):
    """y_true and y_pred of one dtype, checked to have one shape (one-hot labels); a trailing
    axis of size 1 may differ (see :func:`_same_rank`)."""
    y_true, y_pred = _as_pair(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        y_true, y_pred = _same_rank(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        hint = (
            f" Integer class labels need loss='sparse_{name}', or one-hot "
            f"encode them first: keras.utils.to_categorical(y, {y_pred.shape[-1]})."
            if y_true.ndim < y_pred.ndim or (y_true.ndim and y_true.shape[-1] == 1)
            else ""
        )
        raise ShapeError(
            f"{name}: labels of shape {tuple(y_true.shape)} do not match the "
            f"predictions of shape {tuple(y_pred.shape)}; they must be equal.{hint}"
        )
    return y_true, y_pred


def _categorical_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis, mean=False):
    _check_axis("categorical_crossentropy", axis)
    y_true, y_pred = _categorical_labels("categorical_crossentropy", y_true, y_pred)
    y_true = _smooth(y_true, label_smoothing, y_pred.shape[axis])
    fused = ops.mean_softmax_cross_entropy if mean else ops.softmax_cross_entropy
    if from_logits:
        return fused(y_pred, y_true, axis=axis)
    logits = _logits(y_pred)
    if logits is not None:  # reuse the softmax already computed: y_pred
        return fused(logits, y_true, y_pred, axis=axis)
    per_sample = -ops.sum(y_true * ops.log(_normalized_probabilities(y_pred, axis)), axis=axis)
    return ops.mean(per_sample) if mean else per_sample


def _normalized_probabilities(y_pred, axis):
    """y_pred / sum(y_pred) over ``axis``, clipped to [ε, 1 - ε] (Keras's guard before a log)."""
    probabilities = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
    return ops.clip(probabilities, config.epsilon(), 1.0 - config.epsilon())


def categorical_focal_crossentropy(
    y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    """sum over ``axis`` of -alpha (1 - p)^gamma t log p (Lin et al., 2017), with p the
    probabilities (softmax of logits when ``from_logits``) divided by their sum and clipped to
    [ε, 1 - ε]; the factor (1 - p)^gamma down-weights classes already predicted well.

    Labels broadcast against the predictions (Keras's rule, see :func:`_broadcasting`) and are
    smoothed as in :func:`categorical_crossentropy`, over the labels' last axis.
    """
    _check_axis("categorical_focal_crossentropy", axis)
    y_true, y_pred = _broadcasting("categorical_focal_crossentropy", y_true, y_pred)
    if y_pred.ndim < 1:
        raise ShapeError(
            "categorical_focal_crossentropy: predictions must have a class axis; received a scalar."
        )
    y_true = _smooth(y_true, label_smoothing, y_true.shape[-1] if y_true.ndim else 1)
    if from_logits:
        y_pred = ops.softmax(y_pred, axis=axis)
    p = _normalized_probabilities(y_pred, axis)
    focal = alpha * (1.0 - p) ** gamma
    return ops.sum(focal * (-y_true * ops.log(p)), axis=axis)


def _sparse_labels(name, y_true, y_pred, axis=-1):
    """Integer labels of y_pred's shape without its class ``axis``, and y_pred as a Tensor."""
    y_true = y_true if isinstance(y_true, Tensor) else Tensor(as_array(y_true))
    if not isinstance(y_pred, Tensor):
        y_pred = Tensor(as_array(y_pred).astype(np.float32, copy=False))
    if y_pred.ndim < 1:
        raise ShapeError(f"{name}: predictions must have a class axis; received a scalar.")
    class_axis = axis % y_pred.ndim
    if y_true.ndim == y_pred.ndim and y_true.shape[class_axis] == 1:
        y_true = ops.squeeze(y_true, axis=class_axis)
    expected = tuple(d for i, d in enumerate(y_pred.shape) if i != class_axis)
    if tuple(y_true.shape) != expected:
        hint = (
            " These look like one-hot labels: use loss='categorical_crossentropy', or pass the "
            "class indices (y.argmax(axis=-1))."
            if y_true.shape == y_pred.shape
            else ""
        )
        raise ShapeError(
            f"{name}: expected integer class labels of shape "
            f"{expected} for predictions of shape {tuple(y_pred.shape)}, but "
            f"received labels of shape {tuple(y_true.shape)}.{hint}"
        )
    if y_true.dtype.kind not in "iu":
        y_true = ops.cast(y_true, dtype=np.dtype(np.int64))
    return y_true, y_pred


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """-log p[label] for integer class labels (y_pred's shape without its class ``axis``).

    On probabilities, p is y_pred divided by its sum over ``axis`` and clipped to [ε, 1 - ε];
    from logits z it is -log softmax(z)[label], whose gradient is softmax(z) - one_hot(label).
    Entries whose label equals ``ignore_class`` give 0 (and no gradient); the Loss class also
    leaves them out of its mean.
    """
    y_true, y_pred = _sparse_labels("sparse_categorical_crossentropy", y_true, y_pred, axis)
    if axis % y_pred.ndim != y_pred.ndim - 1:  # the class axis goes last
        order = [i for i in range(y_pred.ndim) if i != axis % y_pred.ndim]
        y_pred = ops.transpose(y_pred, axes=(*order, axis % y_pred.ndim))
    valid = None
    if ignore_class is not None:
        valid = ops.not_equal(y_true, ignore_class)
        y_true = ops.where(valid, y_true, 0)
    logits = y_pred if from_logits else _logits(y_pred)
    if logits is None:
        logits = ops.log(_normalized_probabilities(y_pred, -1))
    values = ops.sparse_softmax_cross_entropy(logits, y_true)
    return values if valid is None else ops.where(valid, values, 0.0)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over the last axis of -(y log p + (1 - y) log(1 - p)), with p clipped to [ε, 1 - ε];
    from logits z, computed stably as max(z, 0) - z y + log(1 + e^-|z|) (gradient sigmoid(z) - y).

    With ``label_smoothing`` s the labels become y (1 - s) + s / 2.
    """
    y_true, y_pred = _matching("binary_crossentropy", y_true, y_pred)
    y_true = _smooth(y_true, label_smoothing, 2)
    logits = y_pred if from_logits else _logits(y_pred)
    if logits is not None:
        return ops.mean(ops.sigmoid_cross_entropy(logits, y_true), axis=axis)
    return ops.mean(_binary_crossentropy_of_probabilities(y_true, y_pred), axis=axis)


def _binary_crossentropy_of_probabilities(y_true, p):
    """Elementwise -(y log p + (1 - y) log(1 - p)), p clipped to [ε, 1 - ε]."""
    p = ops.clip(p, config.epsilon(), 1.0 - config.epsilon())
    return -(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p))


def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing=False,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
):
    """mean over ``axis`` of (1 - p_t)^gamma · bce(y, p), p_t = y p + (1 - y)(1 - p) (Lin et al.,
    2017): the binary cross-entropy with well-classified entries down-weighted. With
    ``apply_class_balancing`` each term is also weighted by alpha y + (1 - alpha)(1 - y).
    p = sigmoid(y_pred) when ``from_logits``; labels are smoothed as in
    :func:`binary_crossentropy`.
    """
    y_true, y_pred = _matching("binary_focal_crossentropy", y_true, y_pred)
    y_true = _smooth(y_true, label_smoothing, 2)
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    bce = _binary_crossentropy_of_probabilities(y_true, y_pred)
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal = (1.0 - p_t) ** gamma * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return ops.mean(focal, axis=axis)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """(1 - p^q) / q, with p = y_pred[label] the probability of the integer class label
    (Zhang & Sabuncu, 2018): the cross-entropy as q -> 0, the MAE at q = 1, robust to noisy
    labels in between.   dL/dp = -p^(q - 1) on the true class."""
    y_true, y_pred = _sparse_labels("categorical_generalized_cross_entropy", y_true, y_pred)
    one_hot = ops.one_hot(y_true, depth=y_pred.shape[-1], dtype=y_pred.dtype)
    p = ops.sum(y_pred * one_hot, axis=-1)
    return (1.0 - p**q) / q


# ----- overlap and metric-learning losses ------------------------------------------------------


def ctc(y_true, y_pred):
    """Connectionist temporal classification: -log p(labels | logits), one value per sequence.

    Args:
        y_true: (batch, max_label_length) integer labels; 0 is the blank and pads the sequences.
        y_pred: (batch, steps, classes) logits (not softmaxed).

    p sums, over every alignment of the labels to the steps (blanks between and repeats
    merged), the product of the steps' softmax probabilities; its gradient is
    softmax(y_pred) minus each class's posterior occupancy (see ``chainrule.ops.ctc_loss``).
    """
    y_true = y_true if isinstance(y_true, Tensor) else Tensor(as_array(y_true))
    y_pred = y_pred if isinstance(y_pred, Tensor) else Tensor(y_pred)
    if y_true.ndim != 2 or y_pred.ndim != 3:
        raise ValueError(
            f"ctc: y_true must be (batch_size, max_length) integer labels and y_pred "
            f"(batch_size, max_length, num_classes) logits; received y_true.shape="
            f"{y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    labels = ops.cast(y_true, "int32")  # Tensors: a replayed step reads each batch's labels
    label_lengths = ops.cast(ops.count_nonzero(labels, axis=-1), "int32")
    steps = np.full(y_pred.shape[0], y_pred.shape[1], dtype="int32")
    return ops.ctc_loss(y_pred, labels, label_lengths, steps, blank=0)


def dice(y_true, y_pred, axis=None):
    """1 - 2 sum(t p) / (sum t + sum p + ε), the sums over ``axis`` (all axes by default, one
    value for the batch): one minus the soft Dice coefficient (F1 score) of the overlap."""
    y_true, y_pred = _as_pair(y_true, y_pred)
    intersection = ops.sum(y_true * y_pred, axis=axis)
    total = ops.sum(y_true, axis=axis) + ops.sum(y_pred, axis=axis)
    return 1.0 - 2.0 * intersection / (total + config.epsilon())


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """1 - TP / (TP + alpha FP + beta FN + ε) with TP = sum(t p), FP = sum((1 - p) t) and
    FN = sum(p (1 - t)) over ``axis`` (all axes by default), following Keras's naming; with
    alpha = beta = 0.5 it is the Dice loss."""
    y_true, y_pred = _as_pair(y_true, y_pred)
    true_positive = ops.sum(y_true * y_pred, axis=axis)
    false_positive = ops.sum((1.0 - y_pred) * y_true, axis=axis)
    false_negative = ops.sum(y_pred * (1.0 - y_true), axis=axis)
    denominator = true_positive + alpha * false_positive + beta * false_negative + config.epsilon()
    return 1.0 - true_positive / denominator


_NO_PAIR = -1e9  # stands for -inf in a masked logsumexp: the same value, a finite gradient


def circle(
    y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4
):
    """Circle loss (Sun et al., 2020) of unit-norm embeddings y_pred (n, d) with integer labels
    y_true (n,), against ``ref_embeddings`` (m, d) and ``ref_labels`` (m,) (the batch itself by
    default). With cosine distances D = max(1 - y_pred refᵀ, 0), per row:

        loss = softplus(logsumexp_pos(-γ max(m + D, 0)(m - D))
                        + logsumexp_neg(γ max(1 + m - D, 0)(1 - m - D)))

    over the pairs of the same label (positives; without each sample itself when
    ``remove_diagonal``) and of other labels (negatives).
    """
    y_true, y_pred = _as_pair(y_true, y_pred, labels_dtype=np.int64)
    labels = ops.reshape(y_true, shape=(-1, 1))
    if y_pred.ndim != 2 or labels.shape[0] != y_pred.shape[0]:
        raise ShapeError(
            f"circle: expected embeddings of shape (batch, dim) and integer labels of shape "
            f"(batch,); received {tuple(y_pred.shape)} and {tuple(y_true.shape)}."
        )
    ref = y_pred if ref_embeddings is None else ref_embeddings
    ref_labels = labels if ref_labels is None else _as_pair(ref_labels, y_pred, np.int64)[0]
    distances = ops.maximum(1.0 - ops.matmul(y_pred, ops.transpose(ref)), 0.0)
    same = ops.cast(ops.equal(labels, ops.reshape(ref_labels, shape=(1, -1))), dtype=y_pred.dtype)
    negative = 1.0 - same
    positive = same * (1.0 - np.eye(*same.shape, dtype=same.dtype)) if remove_diagonal else same
    positive_weights = ops.maximum((margin + distances) * positive, 0.0)
    negative_weights = ops.maximum((1.0 + margin - distances) * negative, 0.0)
    positive_terms = -gamma * positive_weights * (margin - distances)
    negative_terms = gamma * negative_weights * (1.0 - margin - distances)
    p_loss = ops.logsumexp(ops.where(positive > 0, positive_terms, _NO_PAIR), axis=1)
    n_loss = ops.logsumexp(ops.where(negative > 0, negative_terms, _NO_PAIR), axis=1)
    return ops.softplus(p_loss + n_loss)


# ----- reduction -------------------------------------------------------------------------------

REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight", None)
_MEANS = ("sum_over_batch_size", "mean")  # sum(values) / number of values


def standardize_reduction(reduction):
    """``reduction`` if it is one of Keras's reductions, else a ValueError listing them."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid reduction {reduction!r}; expected one of "
            f"{', '.join(repr(r) for r in REDUCTIONS)}"
        )
    return reduction


def _as_weight(weight, values):
    """``weight`` as a Tensor of values' dtype."""
    weight = weight if isinstance(weight, Tensor) else Tensor(as_array(weight))
    return weight if weight.dtype == values.dtype else ops.cast(weight, dtype=values.dtype)


def _mask_weight(mask, values, reduction):
    """The weight that a boolean ``mask`` Tensor of values gives: 0 where False; where True, 1,
    or total / valid for the mean reductions, so that the mean runs over the valid entries."""
    weight = ops.cast(mask, dtype=values.dtype)
    if reduction in _MEANS:
        valid = ops.sum(weight)
        nonzero = ops.not_equal(valid, 0.0)
        weight = weight * ops.where(nonzero, weight.size / ops.where(nonzero, valid, 1.0), 0.0)
    return weight


def _aligned_weight(weight, values):
    """``weight`` if it broadcasts against ``values`` (NumPy's rule, as Keras); else, if its
    shape is values' leading shape, reshaped to weight those leading entries (one weight per
    sample of a sequence loss, where Keras raises)."""
    try:
        np.broadcast_shapes(weight.shape, values.shape)
        return weight
    except ValueError:
        pass
    if weight.ndim < values.ndim and values.shape[: weight.ndim] == weight.shape:
        return ops.reshape(weight, shape=weight.shape + (1,) * (values.ndim - weight.ndim))
    raise ShapeError(
        f"Loss: sample_weight of shape {tuple(weight.shape)} does not fit the per-sample losses "
        f"of shape {tuple(values.shape)}; pass one weight per sample, of shape "
        f"{tuple(values.shape[:1])}, or weights of the losses' shape."
    )


def reduce_weighted(values, sample_weight, reduction, mask=None):
    """Weight the per-sample ``values`` and reduce them as Keras does.

    sum_over_batch_size (and mean): sum(w v) / number of values;  sum: sum(w v);
    mean_with_sample_weight: sum(w v) / sum(w);  none (or None): w v. A scalar ``values`` is
    returned as it is. ``mask`` (booleans of values' shape) leaves entries out: the means then
    run over the entries it keeps.
    """
    standardize_reduction(reduction)
    weight = None if sample_weight is None else _as_weight(sample_weight, values)
    if mask is not None:
        mask_weight = _mask_weight(mask, values, reduction)
        if weight is None:
            weight = mask_weight
        else:
            mask_weight, weight = _same_rank(mask_weight, weight)
            weight = _aligned_weight(weight, mask_weight) * mask_weight
    if weight is not None:
        values, weight = _same_rank(values, weight)
        values = values * _aligned_weight(weight, values)
    if reduction is None or reduction == "none" or values.ndim == 0 or values.shape == (0,):
        return values
    if weight is None and reduction in _MEANS:
        return ops.mean(values)  # = sum(values) / number of values, in one op
    total = ops.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weight is not None:
        divisor = ops.sum(weight)
        nonzero = ops.not_equal(divisor, 0.0)  # 0 / 0 gives 0, as Keras's divide_no_nan
        return ops.where(nonzero, total / ops.where(nonzero, divisor, 1.0), 0.0)
    return total / values.size if values.size else total * 0.0


# ----- masks attached to tensors ------------------------------------------------------------------


def set_keras_mask(x, mask):
    """Attach ``mask`` (booleans of x's leading shape, e.g. (batch, time)) to the Tensor or
    KerasTensor ``x`` as ``x._keras_mask``, as Keras 3 does; None detaches it. Other values
    (NumPy arrays) carry no mask."""
    if isinstance(x, (Tensor, KerasTensor)):
        x._keras_mask = mask


def get_keras_mask(x):
    """The mask attached to ``x`` (``x._keras_mask``, set by the layer that made it), or None."""
    return getattr(x, "_keras_mask", None)


def _combined_mask(first, second):
    """The logical and of two optional boolean masks (None: no mask)."""
    if first is None or second is None:
        return second if first is None else first
    return ops.mul(ops.cast(first, dtype=bool), ops.cast(second, dtype=bool))


# ----- Loss objects ------------------------------------------------------------------------------


def _to_dtype(x, dtype):
    """``x`` (Tensor, array, list or scalar) as a Tensor of ``dtype``."""
    if isinstance(x, Tensor):
        return x if x.dtype == dtype else ops.cast(x, dtype=dtype)
    return Tensor(as_array(x).astype(dtype, copy=False))


class Loss:
    """Base class: subclasses define the per-sample ``call(y_true, y_pred)``; calling the loss
    weights those values by ``sample_weight`` and reduces them (see :func:`reduce_weighted`).

    Args:
        name: the loss's name (the class name in snake case by default).
        reduction: "sum_over_batch_size" (default), "sum", "mean", "mean_with_sample_weight",
            "none" or None.
        dtype: the dtype both inputs are cast to; None computes in y_pred's floating dtype.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype = None if dtype is None else np.dtype(dtype)

    @property
    def dtype(self):
        """The dtype the loss computes in ("float32", Keras's floatx, unless given)."""
        return "float32" if self._dtype is None else self._dtype.name

    def __call__(self, y_true, y_pred, sample_weight=None):
        output_mask = get_keras_mask(y_pred)  # e.g. from Embedding(mask_zero=True) upstream
        if self._dtype is not None:
            y_true, y_pred = _to_dtype(y_true, self._dtype), _to_dtype(y_pred, self._dtype)
        values = self.call(y_true, y_pred)
        mask = _combined_mask(output_mask, self._values_mask(y_true, y_pred, values))
        return reduce_weighted(values, sample_weight, self.reduction, mask)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def _values_mask(self, y_true, y_pred, values):
        """A boolean Tensor of the values that count in the reduction (None: all of them)."""
        return None

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _ignore_class_mask(y_true, y_pred, values, ignore_class=None, **kwargs):
    if ignore_class is None:
        return None
    labels = y_true if isinstance(y_true, Tensor) else Tensor(as_array(y_true))
    return ops.not_equal(ops.reshape(labels, shape=values.shape), ignore_class)


def _positive_mask(y_true, y_pred, values, **kwargs):
    return ops.greater(values, 0.0)


class LossFunctionWrapper(Loss):
    """A Loss made of a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    Before ``fn``, y_true and y_pred whose ranks differ by a trailing size-1 axis are brought to
    one rank (Keras's rule).
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or fn.__name__, reduction=reduction, dtype=dtype)
        self.fn, self.fn_kwargs = fn, kwargs

    def __call__(self, y_true, y_pred, sample_weight=None):
        fused = _FUSED_MEANS.get(self.fn)
        plain = sample_weight is None and get_keras_mask(y_pred) is None
        if fused is not None and plain and self.reduction in _MEANS:
            if self._dtype is not None:
                y_true, y_pred = _to_dtype(y_true, self._dtype), _to_dtype(y_pred, self._dtype)
            return fused(y_true, y_pred, **self.fn_kwargs)
        return super().__call__(y_true, y_pred, sample_weight)

    def call(self, y_true, y_pred):
        if hasattr(y_true, "ndim") and hasattr(y_pred, "ndim"):
            y_true, y_pred = _same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def _values_mask(self, y_true, y_pred, values):
        mask = _VALUE_MASKS.get(self.fn)
        return None if mask is None else mask(y_true, y_pred, values, **self.fn_kwargs)

    def get_config(self):
        config = super().get_config()
        if type(self) is LossFunctionWrapper:  # Keras's form of a function in a config
            config["fn"] = {
                "module": "builtins",
                "class_name": "function",
                "config": self.fn.__name__,
                "registered_name": "function",
            }
        return {**config, **self.fn_kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            fn = config["fn"]
            fn = fn.get("config") if isinstance(fn, dict) else fn
            config["fn"] = get(fn) if isinstance(fn, str) else fn
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn.__name__}, kwargs={self.fn_kwargs})>"


class _KerasLoss(LossFunctionWrapper):
    """A loss class of Keras's catalogue: its config is its name, reduction and arguments, but
    the arguments listed in ``_UNSAVED_DEFAULTS`` (which Keras's config leaves out) only when
    they differ from their default, so that they survive a round trip."""

    _UNSAVED_DEFAULTS = {}

    def get_config(self):
        config = Loss.get_config(self)
        for key, value in self.fn_kwargs.items():
            if key not in self._UNSAVED_DEFAULTS or value != self._UNSAVED_DEFAULTS[key]:
                config[key] = value
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MeanSquaredError(_KerasLoss):
    """Mean over the last axis of (y_true - y_pred)² (:func:`mean_squared_error`)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(_KerasLoss):
    """Mean over the last axis of |y_true - y_pred| (:func:`mean_absolute_error`)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(_KerasLoss):
    """100 · mean |t - p| / max(|t|, ε) (:func:`mean_absolute_percentage_error`)."""

    def __init__(
        self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error", dtype=None
    ):
        super().__init__(
            mean_absolute_percentage_error, reduction=reduction, name=name, dtype=dtype
        )


class MeanSquaredLogarithmicError(_KerasLoss):
    """Mean of (log(p + 1) - log(t + 1))² (:func:`mean_squared_logarithmic_error`)."""

    def __init__(
        self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error", dtype=None
    ):
        super().__init__(
            mean_squared_logarithmic_error, reduction=reduction, name=name, dtype=dtype
        )


class CosineSimilarity(_KerasLoss):
    """Minus the cosine between y_true and y_pred along ``axis`` (:func:`cosine_similarity`).
    ``axis`` is in the config only when it is not -1 (Keras's config leaves it out)."""

    _UNSAVED_DEFAULTS = {"axis": -1}

    def __init__(
        self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None
    ):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Huber(_KerasLoss):
    """Quadratic within ``delta`` of the label, linear beyond (:func:`huber`). ``delta`` is in
    the config only when it is not 1.0 (Keras's config leaves it out)."""

    _UNSAVED_DEFAULTS = {"delta": 1.0}

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)


class LogCosh(_KerasLoss):
    """Mean over the last axis of log cosh(y_pred - y_true) (:func:`log_cosh`)."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(_KerasLoss):
    """sum t log(t / p) over the last axis (:func:`kl_divergence`)."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(_KerasLoss):
    """Mean of p - t log(p + ε) over the last axis (:func:`poisson`)."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class Hinge(_KerasLoss):
    """Mean of max(1 - t p, 0) over the last axis (:func:`hinge`)."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(_KerasLoss):
    """Mean of max(1 - t p, 0)² over the last axis (:func:`squared_hinge`)."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(_KerasLoss):
    """max(max_other p - p_true + 1, 0) (:func:`categorical_hinge`)."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)


class BinaryCrossentropy(_KerasLoss):
    """Binary cross-entropy averaged over ``axis`` (:func:`binary_crossentropy`)."""

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
        dtype=None,
    ):
        super().__init__(
            binary_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class BinaryFocalCrossentropy(_KerasLoss):
    """Binary cross-entropy with the focal factor (1 - p_t)^gamma
    (:func:`binary_focal_crossentropy`)."""

    def __init__(
        self,
        apply_class_balancing=False,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(
            binary_focal_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
        )


class CategoricalCrossentropy(_KerasLoss):
    """Cross-entropy of one-hot (or soft) labels over ``axis`` (:func:`categorical_crossentropy`);
    its default reduction runs as one fused op."""

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            categorical_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class CategoricalFocalCrossentropy(_KerasLoss):
    """Categorical cross-entropy with the focal factor alpha (1 - p)^gamma
    (:func:`categorical_focal_crossentropy`)."""

    def __init__(
        self,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(
            categorical_focal_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
            alpha=alpha,
            gamma=gamma,
        )


class SparseCategoricalCrossentropy(_KerasLoss):
    """Cross-entropy of integer class labels (:func:`sparse_categorical_crossentropy`); entries
    labelled ``ignore_class`` are left out of the reduction (the means count only the others).
    ``axis`` is in the config only when it is not -1 (Keras's config leaves it out)."""

    _UNSAVED_DEFAULTS = {"axis": -1}

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        axis=-1,
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            sparse_categorical_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )


class CategoricalGeneralizedCrossEntropy(_KerasLoss):
    """(1 - p^q) / q of the true class's probability (:func:`categorical_generalized_cross_entropy`).

    Raises:
        ValueError: q outside (0, 1).
    """

    def __init__(
        self,
        q=0.5,
        reduction="sum_over_batch_size",
        name="categorical_generalized_cross_entropy",
        dtype=None,
    ):
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: q must be in (0, 1); got {q}.")
        super().__init__(
            categorical_generalized_cross_entropy, reduction=reduction, name=name, dtype=dtype, q=q
        )


class Dice(_KerasLoss):
    """1 - the soft Dice coefficient over ``axis`` (:func:`dice`)."""

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)


class CTC(_KerasLoss):
    """The CTC loss of label sequences given per-step class logits (:func:`ctc`)."""

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)


class Tversky(_KerasLoss):
    """1 - the Tversky index over ``axis`` (:func:`tversky`)."""

    def __init__(
        self,
        alpha=0.5,
        beta=0.5,
        reduction="sum_over_batch_size",
        name="tversky",
        axis=None,
        dtype=None,
    ):
        super().__init__(
            tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis
        )


class Circle(_KerasLoss):
    """Circle loss of unit-norm embeddings and integer labels (:func:`circle`); rows with a zero
    loss are left out of the reduction, as in Keras."""

    def __init__(
        self,
        gamma=80.0,
        margin=0.4,
        remove_diagonal=True,
        reduction="sum_over_batch_size",
        name="circle",
        dtype=None,
    ):
        super().__init__(
            circle,
            reduction=reduction,
            name=name,
            dtype=dtype,
            gamma=gamma,
            margin=margin,
            remove_diagonal=remove_diagonal,
        )


# Per-sample losses whose mean (the default reduction, without sample weights) is one fused op.
_FUSED_MEANS = {categorical_crossentropy: mean_categorical_crossentropy}
# Per-sample losses whose values carry a mask of the entries that count (Keras's _keras_mask).
_VALUE_MASKS = {sparse_categorical_crossentropy: _ignore_class_mask, circle: _positive_mask}

# Keras's short names
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
bce = BCE = binary_crossentropy
logcosh = log_cosh

LOSSES = {
    fn.__name__: fn
    for fn in (
        mean_squared_error,
        mean_absolute_error,
        mean_absolute_percentage_error,
        mean_squared_logarithmic_error,
        cosine_similarity,
        huber,
        log_cosh,
        kl_divergence,
        poisson,
        hinge,
        squared_hinge,
        categorical_hinge,
        binary_crossentropy,
        binary_focal_crossentropy,
        categorical_crossentropy,
        categorical_focal_crossentropy,
        sparse_categorical_crossentropy,
        categorical_generalized_cross_entropy,
        ctc,
        dice,
        tversky,
        circle,
    )
}
LOSSES.update(
    {
        "mse": mse,
        "mae": mae,
        "mape": mape,
        "msle": msle,
        "kld": kld,
        "bce": bce,
        "logcosh": logcosh,
        "kullback_leibler_divergence": kl_divergence,
    }
)
CLASSES = {
    cls.__name__: cls
    for cls in (
        MeanSquaredError,
        MeanAbsoluteError,
        MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError,
        CosineSimilarity,
        Huber,
        LogCosh,
        KLDivergence,
        Poisson,
        Hinge,
        SquaredHinge,
        CategoricalHinge,
        BinaryCrossentropy,
        BinaryFocalCrossentropy,
        CategoricalCrossentropy,
        CategoricalFocalCrossentropy,
        SparseCategoricalCrossentropy,
        CategoricalGeneralizedCrossEntropy,
        CTC,
        Dice,
        Tversky,
        Circle,
    )
}

# Files name the losses under keras.losses.
register_names("keras.losses", LOSSES)
register_classes("keras.losses", [*CLASSES.values(), Loss, LossFunctionWrapper])


def get(identifier):
    """A loss from its name (a per-sample function, or a Loss of default settings for a class
    name), a config dict, a Loss class or instance, or a callable; None stays None.

    Raises:
        ValueError: an unknown name, listing the known ones.
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in CLASSES:
        return CLASSES[identifier]()
    if isinstance(identifier, str):
        return lookup("loss", LOSSES, identifier)
    raise TypeError(f"Could not interpret loss identifier: {identifier!r}")


def serialize(loss):
    """Keras's description of a loss: ``{"module", "class_name", "config", "registered_name"}``
    for a Loss, Keras's function form (the function's name) for a function; None stays None."""
    if loss is None:
        return None
    if isinstance(loss, Loss):
        return describe(loss, "keras.losses")
    if callable(loss) and hasattr(loss, "__name__"):  # a function is written by its name
        return {
            "module": "builtins",
            "class_name": "function",
            "config": loss.__name__,
            "registered_name": "function",
        }
    raise TypeError(f"Cannot serialize {loss!r}: it is neither a Loss nor a function.")


def deserialize(name, custom_objects=None):
    """The loss that :func:`serialize` describes, or a loss from its name.

    ``custom_objects`` maps further names to classes or functions.
    """
    custom = custom_objects or {}
    if isinstance(name, str):
        return custom[name] if name in custom else get(name)
    if not isinstance(name, dict) or "class_name" not in name:
        raise ValueError(f"deserialize: expected a loss name or a config dict; got {name!r}.")
    class_name, config = name["class_name"], name.get("config", {})
    if class_name == "function":
        return custom[config] if config in custom else lookup("loss", LOSSES, config)
    cls = custom.get(class_name) or classes_of("keras.losses").get(class_name)
    if cls is None:
        raise ValueError(
            f"Unknown loss class {class_name!r}. Known classes: "
            f"{', '.join(sorted(classes_of('keras.losses')))}."
        )
    return cls.from_config(config)


def as_loss_object(identifier):
    """The identifier as a Loss object (functions are wrapped with the default reduction)."""
    loss = get(identifier)
    return loss if isinstance(loss, Loss) else LossFunctionWrapper(loss)
