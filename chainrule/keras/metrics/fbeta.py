"""The F-beta and F1 scores, from per-class counts accumulated over batches."""

import numpy as np

from .. import config
from .base import Metric, as_array, as_result


class FBetaScore(Metric):
    """F-beta score per class: (1 + β²) P R / (β² P + R), from TP, FP and FN counted over
    everything seen since the last reset, with Keras's ε = 1e-7 in each denominator.

    Predictions become 0/1 by ``threshold`` (y_pred > threshold), or, when it is None, 1 at the
    row's maximum (if nonzero) and 0 elsewhere. Inputs are 2-D: (batch, classes).

    Args:
        average: None (default: one score per class, an array), "micro" (from the counts summed
            over classes), "macro" (the mean of the class scores) or "weighted" (their mean
            weighted by each class's number of true labels).
        beta: β > 0, default 1.  threshold: in (0, 1], or None.  name: default "fbeta_score".
    """

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                f"{type(self).__name__}: invalid average {average!r}; expected one of None, "
                f"'micro', 'macro', 'weighted'."
            )
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta <= 0:
            raise ValueError(f"{type(self).__name__}: beta must be a number > 0; got {beta!r}")
        if threshold is not None and not 0.0 < threshold <= 1.0:
            raise ValueError(
                f"{type(self).__name__}: threshold must satisfy 0 < threshold <= 1; got "
                f"{threshold!r}"
            )
        super().__init__(name=name, dtype=dtype)
        self.average, self.beta, self.threshold = average, float(beta), threshold
        self._built = False

    def _build(self, num_classes):
        for name in (
            "true_positives",
            "false_positives",
            "false_negatives",
            "intermediate_weights",
        ):
            variable = self.add_variable(shape=(num_classes,), initializer="zeros", name=name)
            setattr(self, name, variable)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = as_array(y_true, np.float64), as_array(y_pred, np.float64)
        if y_true.ndim != 2 or y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs of the same shape (batch_size, "
                f"output_dim); received y_pred.shape={y_pred.shape} and "
                f"y_true.shape={y_true.shape}."
            )
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        if not self._built:
            self._build(y_pred.shape[-1])
        predicted = predicted.astype(np.float64)
        weight = (
            1.0 if sample_weight is None else as_array(sample_weight, np.float64).reshape(-1, 1)
        )
        self.true_positives.assign_add((weight * predicted * y_true).sum(axis=0))
        self.false_positives.assign_add((weight * predicted * (1 - y_true)).sum(axis=0))
        self.false_negatives.assign_add((weight * (1 - predicted) * y_true).sum(axis=0))
        self.intermediate_weights.assign_add((weight * y_true).sum(axis=0))

    def result(self):
        if not self._built:
            return as_result(0.0)
        tp, fp, fn, support = (
            getattr(self, name).numpy().astype(np.float64)
            for name in (
                "true_positives",
                "false_positives",
                "false_negatives",
                "intermediate_weights",
            )
        )
        if self.average == "micro":  # one score from the counts summed over the classes
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        precision = tp / (tp + fp + config.epsilon())
        recall = tp / (tp + fn + config.epsilon())
        b2 = self.beta**2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + config.epsilon())
        if self.average == "weighted":
            return as_result(np.sum(score * support / (support.sum() + config.epsilon())))
        if self.average is not None:
            return as_result(np.mean(score))
        return as_result(score)  # per class: a vector

    def get_config(self):
        return {
            **super().get_config(),
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """F1 score, 2 P R / (P + R): :class:`FBetaScore` with β = 1. Name default "f1_score"."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
