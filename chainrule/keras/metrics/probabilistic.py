"""Cross-entropies, KL divergence, Poisson and the hinges as running means: the loss functions
of :mod:`chainrule.keras.losses`, averaged over everything seen."""

import numpy as np

from .. import losses
from .base import Mean, WrapperWithConfig, as_array, same_rank, wrapper_class

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
        values = as_array(self._fn(y_true, y_pred, **self._fn_kwargs))
        if self.ignore_class is not None and sample_weight is not None:
            # Ignored entries are 0 in the values; with weights they also count for nothing
            # (without weights they still count, as in Keras).
            kept = as_array(y_true) != self.ignore_class
            if kept.ndim == np.ndim(y_pred) and kept.shape[self.axis] == 1:
                kept = np.squeeze(kept, axis=self.axis)
            weight, kept = same_rank(as_array(sample_weight, np.float64), kept)
            sample_weight = weight * kept
        Mean.update_state(self, values, sample_weight=sample_weight)
