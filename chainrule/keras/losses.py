"""Losses with Keras 3's definitions: a per-sample function, then one reduction.

``Loss.__call__(y_true, y_pred, sample_weight)`` computes the per-sample values (the mean over the
last axis for the regression losses), multiplies them by ``sample_weight`` if given, and reduces
them; the default reduction ``sum_over_batch_size`` is sum(values) / number of values.

On probability outputs the cross-entropies clip probabilities to [ε, 1 - ε] with ε = 1e-7, as
Keras does; but where the probabilities come from ``keras.activations.softmax`` (over the last
axis) or ``sigmoid``, which leave their logits on the output as ``_keras_logits`` (Keras 3's
contract; the Dense activation, the Softmax and Activation layers all use them), they are
computed from those logits in one fused, stable step, as Keras does.
"""

import math

import numpy as np

from .. import ops
from ..engine import ShapeError, Tensor, as_array
from .registry import lookup, register_classes, register_names

EPSILON = 1e-7


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


def _same_rank(y_true, y_pred):
    """Squeeze or expand a trailing size-1 axis so y_true has y_pred's rank (Keras's rule)."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        return ops.squeeze(y_true, axis=-1), y_pred
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        return y_true, ops.squeeze(y_pred, axis=-1)
    return y_true, y_pred


def _logits(y_pred):
    """The logits of probabilities that ``keras.activations.softmax`` (over the last axis) or
    ``sigmoid`` produced (Keras 3's ``_keras_logits``), else None."""
    return getattr(y_pred, "_keras_logits", None)


# ----- per-sample loss functions -------------------------------------------------------------


def mean_squared_error(y_true, y_pred):
    """mean over the last axis of (y_true - y_pred)²."""
    y_true, y_pred = _same_rank(*_as_pair(y_true, y_pred))
    _check_same_shape("mean_squared_error", y_true, y_pred)
    diff = y_pred - y_true
    return ops.mean(diff * diff, axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean over the last axis of |y_true - y_pred|."""
    y_true, y_pred = _same_rank(*_as_pair(y_true, y_pred))
    _check_same_shape("mean_absolute_error", y_true, y_pred)
    return ops.mean(ops.abs(y_pred - y_true), axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum over ``axis`` of y_true * log(y_pred), for one-hot (or soft) labels.

    With ``label_smoothing`` s and k classes, the labels become y_true (1 - s) + s / k.
    """
    return _categorical_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis)


def mean_categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """The mean over samples of :func:`categorical_crossentropy` (its default reduction), with
    the softmax cross-entropy and the mean fused into one op and one gradient."""
    return _categorical_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis, True)


def _categorical_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis, mean=False):
    y_true, y_pred = _as_pair(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        hint = (
            " Integer class labels need loss='sparse_categorical_crossentropy', or one-hot "
            f"encode them first: keras.utils.to_categorical(y, {y_pred.shape[-1]})."
            if y_true.ndim < y_pred.ndim or (y_true.ndim and y_true.shape[-1] == 1)
            else ""
        )
        raise ShapeError(
            f"categorical_crossentropy: labels of shape {tuple(y_true.shape)} do not match the "
            f"predictions of shape {tuple(y_pred.shape)}; they must be equal.{hint}"
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    fused = ops.mean_softmax_cross_entropy if mean else ops.softmax_cross_entropy
    if from_logits:
        return fused(y_pred, y_true, axis=axis)
    logits = _logits(y_pred)
    if logits is not None:  # reuse the softmax already computed: y_pred
        return fused(logits, y_true, y_pred, axis=axis)
    probabilities = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
    probabilities = ops.clip(probabilities, EPSILON, 1.0 - EPSILON)
    per_sample = -ops.sum(y_true * ops.log(probabilities), axis=axis)
    return ops.mean(per_sample) if mean else per_sample


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """-log y_pred[label] for integer class labels (shape of y_pred without its last axis)."""
    y_true = y_true if isinstance(y_true, Tensor) else Tensor(as_array(y_true))
    if not isinstance(y_pred, Tensor):
        y_pred = Tensor(as_array(y_pred).astype(np.float32, copy=False))
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    if y_true.shape != y_pred.shape[:-1]:
        hint = (
            " These look like one-hot labels: use loss='categorical_crossentropy', or pass the "
            "class indices (y.argmax(axis=-1))."
            if y_true.shape == y_pred.shape
            else ""
        )
        raise ShapeError(
            f"sparse_categorical_crossentropy: expected integer class labels of shape "
            f"{tuple(y_pred.shape[:-1])} for predictions of shape {tuple(y_pred.shape)}, but "
            f"received labels of shape {tuple(y_true.shape)}.{hint}"
        )
    if y_true.dtype.kind not in "iu":
        y_true = ops.cast(y_true, dtype=np.dtype(np.int64))
    logits = y_pred if from_logits else _logits(y_pred)
    if logits is None:
        logits = ops.log(ops.clip(y_pred, EPSILON, 1.0 - EPSILON))
    return ops.sparse_softmax_cross_entropy(logits, y_true)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over the last axis of -(y log p + (1 - y) log(1 - p)).

    With ``label_smoothing`` s the labels become y (1 - s) + s / 2.
    """
    y_true, y_pred = _same_rank(*_as_pair(y_true, y_pred))
    _check_same_shape("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    logits = y_pred if from_logits else _logits(y_pred)
    if logits is not None:
        return ops.mean(ops.sigmoid_cross_entropy(logits, y_true), axis=axis)
    p = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
    return -ops.mean(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p), axis=axis)


def _check_same_shape(name, y_true, y_pred):
    if y_true.shape != y_pred.shape:
        raise ShapeError(
            f"{name}: labels of shape {tuple(y_true.shape)} do not match the predictions of shape "
            f"{tuple(y_pred.shape)}; they must be equal (a trailing axis of size 1 may differ)."
        )


# ----- Loss objects ------------------------------------------------------------------------------

REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight", None)
_MEANS = ("sum_over_batch_size", "mean")  # sum(values) / number of values


def reduce_weighted(values, sample_weight, reduction):
    """Weight the per-sample ``values`` and reduce them as Keras does.

    sum_over_batch_size (and mean): sum(w v) / number of values;  sum: sum(w v);
    mean_with_sample_weight: sum(w v) / sum(w);  none: w v.
    """
    if sample_weight is not None:
        weight = (
            sample_weight if isinstance(sample_weight, Tensor) else Tensor(as_array(sample_weight))
        )
        if weight.dtype != values.dtype:
            weight = ops.cast(weight, dtype=values.dtype)
        if weight.ndim == values.ndim + 1 and weight.shape[-1] == 1:
            weight = ops.squeeze(weight, axis=-1)
        if weight.ndim < values.ndim:
            weight = ops.reshape(weight, shape=weight.shape + (1,) * (values.ndim - weight.ndim))
        values = values * weight
    if reduction is None or reduction == "none":
        return values
    if sample_weight is None and reduction in _MEANS:
        return ops.mean(values)  # = sum(values) / number of values, in one op
    total = ops.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return total / ops.sum(ops.broadcast_to(weight, shape=values.shape))
    return total / values.size if values.size else total * 0.0


class Loss:
    """Base class: subclasses define the per-sample ``call(y_true, y_pred)``.

    Args:
        name: the loss's name.
        reduction: "sum_over_batch_size" (default), "sum", "mean_with_sample_weight" or "none".
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"Invalid reduction {reduction!r}; expected one of "
                f"{', '.join(repr(r) for r in REDUCTIONS)}"
            )
        self.name = name or type(self).__name__
        self.reduction = reduction
        self.dtype = dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        return reduce_weighted(self.call(y_true, y_pred), sample_weight, self.reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A Loss made of a per-sample function and its keyword arguments."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, **kwargs):
        super().__init__(name=name or fn.__name__, reduction=reduction)
        self.fn, self.fn_kwargs = fn, kwargs

    def __call__(self, y_true, y_pred, sample_weight=None):
        fused = _FUSED_MEANS.get(self.fn)
        if fused is not None and sample_weight is None and self.reduction in _MEANS:
            return fused(y_true, y_pred, **self.fn_kwargs)
        return super().__call__(y_true, y_pred, sample_weight)

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self.fn_kwargs}


def _loss_class(class_name, fn, default_name, signature_doc):
    """A Keras loss class (e.g. ``CategoricalCrossentropy``) around a per-sample function."""

    def __init__(self, reduction="sum_over_batch_size", name=default_name, **kwargs):
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, **kwargs)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self.fn_kwargs}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    doc = f"{fn.__doc__.splitlines()[0]}\n\n    Keyword arguments: {signature_doc}."
    return type(
        class_name,
        (LossFunctionWrapper,),
        {
            "__init__": __init__,
            "get_config": get_config,
            "from_config": from_config,
            "__doc__": doc,
        },
    )


MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error, "mean_squared_error", "none")
MeanAbsoluteError = _loss_class(
    "MeanAbsoluteError", mean_absolute_error, "mean_absolute_error", "none"
)
CategoricalCrossentropy = _loss_class(
    "CategoricalCrossentropy",
    categorical_crossentropy,
    "categorical_crossentropy",
    "from_logits=False, label_smoothing=0.0, axis=-1",
)
SparseCategoricalCrossentropy = _loss_class(
    "SparseCategoricalCrossentropy",
    sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy",
    "from_logits=False",
)
BinaryCrossentropy = _loss_class(
    "BinaryCrossentropy",
    binary_crossentropy,
    "binary_crossentropy",
    "from_logits=False, label_smoothing=0.0, axis=-1",
)

# Per-sample losses whose mean (the default reduction, without sample weights) is one fused op.
_FUSED_MEANS = {categorical_crossentropy: mean_categorical_crossentropy}
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

LOSSES = {
    "mean_squared_error": mean_squared_error,
    "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
    "mae": mean_absolute_error,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
}
CLASSES = {
    cls.__name__: cls
    for cls in (
        MeanSquaredError,
        MeanAbsoluteError,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
        BinaryCrossentropy,
    )
}


def get(identifier):
    """A loss from its name (a per-sample function), a Loss instance, or a callable."""
    if isinstance(identifier, Loss) or callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in CLASSES:
        return CLASSES[identifier]()
    if isinstance(identifier, str):
        return lookup("loss", LOSSES, identifier)
    raise TypeError(f"Could not interpret loss identifier: {identifier!r}")


def as_loss_object(identifier):
    """The identifier as a Loss object (functions are wrapped with the default reduction)."""
    loss = get(identifier)
    return loss if isinstance(loss, Loss) else LossFunctionWrapper(loss)


# ----- more losses, with Keras 3's definitions ---------------------------------------------------


def _matching(name, y_true, y_pred):
    """y_true and y_pred of one dtype and shape (a trailing axis of size 1 may differ)."""
    y_true, y_pred = _same_rank(*_as_pair(y_true, y_pred))
    _check_same_shape(name, y_true, y_pred)
    return y_true, y_pred


def huber(y_true, y_pred, delta=1.0):
    """mean over the last axis of 0.5 e² where |e| <= delta, else delta |e| - 0.5 delta²
    (e = y_pred - y_true): quadratic near zero, linear beyond ``delta``.

    dL/dy_pred = e where |e| <= delta, else delta sign(e) (per element, before the mean).
    """
    y_true, y_pred = _matching("huber", y_true, y_pred)
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
    y_true, y_pred = _matching("log_cosh", y_true, y_pred)
    error = y_pred - y_true
    return ops.mean(error + ops.softplus(-2.0 * error) - math.log(2.0), axis=-1)


def kl_divergence(y_true, y_pred):
    """sum over the last axis of t log(t / p), with t and p clipped to [ε, 1] (ε = 1e-7).

    dL/dp = -t / p where p is inside the clip range.
    """
    y_true, y_pred = _matching("kl_divergence", y_true, y_pred)
    y_true = ops.clip(y_true, EPSILON, 1.0)
    y_pred = ops.clip(y_pred, EPSILON, 1.0)
    return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """mean over the last axis of p - t log(p + ε) (ε = 1e-7): the Poisson negative
    log-likelihood of counts t with rate p, up to terms without p.   dL/dp = 1 - t / (p + ε)."""
    y_true, y_pred = _matching("poisson", y_true, y_pred)
    return ops.mean(y_pred - y_true * ops.log(y_pred + EPSILON), axis=-1)


def _hinge_labels(y_true):
    """Labels in {-1, 1}; labels that are all 0 or 1 are mapped by 2t - 1, as Keras does."""
    values = y_true.data if isinstance(y_true, Tensor) else y_true
    if ((values == 0) | (values == 1)).all():
        return 2.0 * y_true - 1.0
    return y_true


def hinge(y_true, y_pred):
    """mean over the last axis of max(1 - t p, 0), for labels t in {-1, 1} (0/1 labels are
    converted).   dL/dp = -t where t p < 1, else 0."""
    y_true, y_pred = _matching("hinge", y_true, y_pred)
    return ops.mean(ops.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean over the last axis of max(1 - t p, 0)², for labels t in {-1, 1} (0/1 labels are
    converted).   dL/dp = -2 t max(1 - t p, 0)."""
    y_true, y_pred = _matching("squared_hinge", y_true, y_pred)
    margin = ops.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)
    return ops.mean(margin * margin, axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(neg - pos + 1, 0) with pos = sum(t p) and neg = max((1 - t) p) over the last axis,
    for one-hot labels t: the margin between the true class's score and the best other one."""
    y_true, y_pred = _matching("categorical_hinge", y_true, y_pred)
    positive = ops.sum(y_true * y_pred, axis=-1)
    negative = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(negative - positive + 1.0, 0.0)


def _l2_normalize(x, axis):
    """x / max(||x||, ε) along ``axis``; the norm is sqrt(max(sum x², ε²)), the same value with
    a finite gradient at x = 0."""
    return x / ops.sqrt(ops.maximum(ops.sum(x * x, axis=axis, keepdims=True), EPSILON**2))


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum over ``axis`` of (t / ||t||) (p / ||p||): minus the cosine of the angle between the
    label and prediction vectors, so that it is minimized by aligned vectors (Keras's sign).
    A zero vector gives 0."""
    y_true, y_pred = _matching("cosine_similarity", y_true, y_pred)
    return -ops.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


Huber = _loss_class("Huber", huber, "huber_loss", "delta=1.0")
LogCosh = _loss_class("LogCosh", log_cosh, "log_cosh", "none")
KLDivergence = _loss_class("KLDivergence", kl_divergence, "kl_divergence", "none")
Poisson = _loss_class("Poisson", poisson, "poisson", "none")
Hinge = _loss_class("Hinge", hinge, "hinge", "none")
SquaredHinge = _loss_class("SquaredHinge", squared_hinge, "squared_hinge", "none")
CategoricalHinge = _loss_class("CategoricalHinge", categorical_hinge, "categorical_hinge", "none")
CosineSimilarity = _loss_class(
    "CosineSimilarity", cosine_similarity, "cosine_similarity", "axis=-1"
)

LOSSES.update(
    {
        "huber": huber,
        "log_cosh": log_cosh,
        "logcosh": log_cosh,
        "kl_divergence": kl_divergence,
        "kld": kl_divergence,
        "poisson": poisson,
        "hinge": hinge,
        "squared_hinge": squared_hinge,
        "categorical_hinge": categorical_hinge,
        "cosine_similarity": cosine_similarity,
    }
)
CLASSES.update(
    {
        cls.__name__: cls
        for cls in (
            Huber,
            LogCosh,
            KLDivergence,
            Poisson,
            Hinge,
            SquaredHinge,
            CategoricalHinge,
            CosineSimilarity,
        )
    }
)

# Files name the losses under keras.losses.
register_names("keras.losses", LOSSES)
register_classes("keras.losses", CLASSES.values())
