"""Cross-entropies, KL divergence, Poisson and the hinges as running means: the loss functions
of :mod:`chainrule.keras.losses`, averaged over everything seen."""

import numpy as np

from .. import losses
from .base import Mean, WrapperWithConfig, as_array, as_result, same_rank, wrapper_class

EPSILON = 1e-7


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
    """mean over ``axis`` of (1 - p_t)^γ · BCE, with p_t = y p + (1 - y)(1 - p) and BCE the
    binary cross-entropy on p clipped to [ε, 1 - ε] (ε = 1e-7); with ``apply_class_balancing``
    each term is also weighted by α y + (1 - α)(1 - y). ``from_logits`` applies a sigmoid to
    y_pred first; ``label_smoothing`` s turns the labels into y (1 - s) + s / 2.

    A metric value (no gradient is recorded)."""
    y_pred = as_array(y_pred, np.float64)
    y_true = as_array(y_true, np.float64)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = 1.0 / (1.0 + np.exp(-y_pred))
    clipped = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
    bce = -(y_true * np.log(clipped) + (1.0 - y_true) * np.log(1.0 - clipped))
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal = (1.0 - p_t) ** gamma * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return as_result(np.mean(focal, axis=axis))


def categorical_focal_crossentropy(
    y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    """Σ over ``axis`` of -α (1 - q)^γ y log q, with q = y_pred / Σ y_pred clipped to
    [ε, 1 - ε] (ε = 1e-7): the cross-entropy with easy, confident classes down-weighted.
    ``from_logits`` applies a softmax first; ``label_smoothing`` s with k classes turns the
    labels into y (1 - s) + s / k.

    A metric value (no gradient is recorded)."""
    y_pred = as_array(y_pred, np.float64)
    y_true = as_array(y_true, np.float64)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        y_pred = np.exp(y_pred - y_pred.max(axis=axis, keepdims=True))
    output = np.clip(y_pred / y_pred.sum(axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON)
    focal = alpha * (1.0 - output) ** gamma * (-y_true * np.log(output))
    return as_result(focal.sum(axis=axis))


BinaryCrossentropy = wrapper_class(
    "BinaryCrossentropy",
    losses.binary_crossentropy,
    "binary_crossentropy",
    "down",
    "The running mean of the binary cross-entropy -(y log p + (1 - y) log(1 - p)) (averaged "
    "over the last axis per sample).  Args: name, dtype, from_logits (default False), "
    "label_smoothing (default 0).",
    from_logits=False,
    label_smoothing=0,
)
CategoricalCrossentropy = wrapper_class(
    "CategoricalCrossentropy",
    losses.categorical_crossentropy,
    "categorical_crossentropy",
    "down",
    "The running mean of the categorical cross-entropy -Σ y log p over ``axis``, for one-hot "
    "labels.  Args: name, dtype, from_logits (default False), label_smoothing (default 0), "
    "axis (default -1).",
    from_logits=False,
    label_smoothing=0,
    axis=-1,
)
KLDivergence = wrapper_class(
    "KLDivergence",
    losses.kl_divergence,
    "kl_divergence",
    "down",
    "The running mean of the KL divergence Σ t log(t / p) over the last axis.",
)
Poisson = wrapper_class(
    "Poisson",
    losses.poisson,
    "poisson",
    "down",
    "The running mean of the Poisson loss mean(p - t log(p + ε)) over the last axis.",
)
Hinge = wrapper_class(
    "Hinge",
    losses.hinge,
    "hinge",
    "down",
    "The running mean of the hinge loss mean(max(1 - t p, 0)) over the last axis (0/1 labels "
    "become -1/1).",
)
SquaredHinge = wrapper_class(
    "SquaredHinge",
    losses.squared_hinge,
    "squared_hinge",
    "down",
    "The running mean of the squared hinge loss mean(max(1 - t p, 0)²) over the last axis.",
)
CategoricalHinge = wrapper_class(
    "CategoricalHinge",
    losses.categorical_hinge,
    "categorical_hinge",
    "down",
    "The running mean of the categorical hinge loss max(max((1 - t) p) - Σ t p + 1, 0).",
)


class SparseCategoricalCrossentropy(WrapperWithConfig):
    """The running mean of -log p[label] for integer labels.

    Args:
        name: default "sparse_categorical_crossentropy".  dtype: of the result.
        from_logits: whether y_pred holds logits (default False: probabilities).
        ignore_class: a label value whose samples count neither in the total nor in the count.
        axis: the class axis (default -1).
    """

    _config_keys = ("from_logits", "ignore_class", "axis")

    def __init__(
        self,
        name="sparse_categorical_crossentropy",
        dtype=None,
        from_logits=False,
        ignore_class=None,
        axis=-1,
    ):
        super().__init__(
            losses.sparse_categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = as_array(y_true)
        if self.ignore_class is not None:
            kept = y_true != self.ignore_class
            y_true = np.where(kept, y_true, 0)
            if kept.ndim == np.ndim(y_pred) and kept.shape[-1] == 1:
                kept = kept[..., 0]
        values = self._values(y_true, y_pred)
        if self.ignore_class is not None and sample_weight is None:
            values = values * kept  # as Keras: ignored samples add 0 but still count
        elif self.ignore_class is not None:
            weight, kept = same_rank(as_array(sample_weight, np.float64), kept)
            sample_weight = weight * kept  # weighted: ignored samples count for nothing
        Mean.update_state(self, values, sample_weight=sample_weight)

    def _values(self, y_true, y_pred):
        values = losses.sparse_categorical_crossentropy(
            y_true, y_pred, from_logits=self.from_logits, axis=self.axis
        )
        return as_array(values)
