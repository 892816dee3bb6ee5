"""Metrics from confusion counts at thresholds: TP/FP/TN/FN, precision, recall, AUC, and the
sensitivity/specificity/precision/recall trade-off metrics.

A prediction is positive at threshold t when y_pred > t (strictly); a label is positive when it
is nonzero. The counts are weighted by ``sample_weight`` and accumulated over batches in the
metric's variables, so every ratio is over everything seen, not a mean of batch ratios.
"""

import numpy as np

from .. import config
from .base import Metric, as_array, as_result, divide_no_nan

NEG_INF = -1e10  # below any prediction: the threshold that makes every top-k entry positive
COUNT_NAMES = {
    "tp": "true_positives",
    "fp": "false_positives",
    "tn": "true_negatives",
    "fn": "false_negatives",
}


def parse_thresholds(thresholds, default, metric):
    """The thresholds as a list of floats in [0, 1] (``[default]`` when None)."""
    if thresholds is None:
        return [default]
    values = [
        float(t) for t in (thresholds if isinstance(thresholds, (list, tuple)) else [thresholds])
    ]
    if not values or any(not 0.0 <= t <= 1.0 for t in values):
        raise ValueError(
            f"{metric}: thresholds must be values in [0, 1]; got thresholds={thresholds!r}"
        )
    return values


def _evenly_spaced(thresholds):
    """Whether the thresholds are i / (n - 1) for i = 0..n-1, up to the ends (which may be -ε
    and 1 + ε): then a prediction's bucket can be computed instead of compared n times."""
    n = len(thresholds)
    if (
        n < 3
        or thresholds[0] not in (0.0, -config.epsilon())
        or thresholds[-1] not in (1.0, 1.0 + config.epsilon())
    ):
        return False
    inner = np.asarray(thresholds[1:-1], np.float64)
    return bool(np.allclose(inner, np.arange(1, n - 1) / (n - 1), rtol=0, atol=1e-12))


def confusion_counts(
    y_true,
    y_pred,
    thresholds,
    sample_weight=None,
    top_k=None,
    class_id=None,
    multi_label=False,
    label_weights=None,
):
    """Weighted true/false positive/negative counts at each threshold, as Keras counts them.

    ``top_k`` keeps only the k highest predictions of each row (the rest become negative),
    ``class_id`` keeps only that column. Sample weights broadcast against y_pred (a trailing
    axis is added as needed). For evenly spaced thresholds the predictions are clipped to
    [0, 1] and bucketed, in O(n + T) rather than O(n T).

    Returns:
        A dict of float64 arrays 'tp', 'fp', 'tn', 'fn' of shape (T,), or (T, L) with
        ``multi_label`` for predictions with L labels along the last axis.

    Raises:
        ValueError: labels and predictions of different shapes (after Keras's rule that a
            trailing axis of size 1 may be added or dropped), or ``class_id`` on 1-D predictions.
    """
    y_true, y_pred = as_array(y_true), as_array(y_pred, np.float64)
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    elif y_pred.ndim == y_true.ndim - 1:
        y_pred = y_pred[..., None]
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"Labels of shape {y_true.shape} and predictions of shape {y_pred.shape} are "
            f"incompatible: they must have the same shape."
        )
    weight = np.ones_like(y_pred) if sample_weight is None else as_array(sample_weight, np.float64)
    weight = weight.reshape(weight.shape + (1,) * (y_pred.ndim - weight.ndim))
    weight = np.broadcast_to(weight, y_pred.shape)
    if top_k is not None:
        order = np.argsort(-y_pred, axis=-1, kind="stable")
        keep = np.zeros(y_pred.shape, bool)
        np.put_along_axis(keep, order[..., :top_k], True, axis=-1)
        y_pred = np.where(keep, y_pred, NEG_INF)
    if class_id is not None:
        if y_pred.ndim < 2 or (y_pred.ndim == 2 and y_pred.shape[-1] == 1 and class_id > 0):
            raise ValueError(
                f"class_id={class_id} needs predictions of shape (num_samples, num_classes); "
                f"found shape {y_pred.shape}."
            )
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
        weight = weight[..., class_id, None]
    if label_weights is not None and not multi_label:
        weight = weight * np.asarray(label_weights, np.float64)
    labels = y_true.astype(bool)
    if multi_label:
        labels, y_pred, weight = (a.reshape(-1, a.shape[-1]) for a in (labels, y_pred, weight))
    else:
        labels, y_pred, weight = labels.reshape(-1), y_pred.reshape(-1), weight.reshape(-1)
    if _evenly_spaced(thresholds):
        return _bucketed_counts(labels, y_pred, weight, thresholds)
    positive = y_pred[None] > np.asarray(thresholds, np.float64).reshape((-1,) + (1,) * y_pred.ndim)
    return {
        "tp": (weight * (positive & labels)).sum(axis=1),
        "fp": (weight * (positive & ~labels)).sum(axis=1),
        "tn": (weight * (~positive & ~labels)).sum(axis=1),
        "fn": (weight * (~positive & labels)).sum(axis=1),
    }


def _bucketed_counts(labels, y_pred, weight, thresholds):
    """The counts for thresholds i / (T - 1): a prediction p is positive at threshold i exactly
    when its bucket ceil(p (T - 1)) - 1 is >= i, so TP at i is the sum of the positive labels'
    weights over buckets >= i (a reversed cumulative sum). End thresholds of -ε / 1 + ε put
    p = 0 in bucket 0."""
    n = len(thresholds)
    bucket = np.ceil(np.clip(y_pred, 0.0, 1.0) * (n - 1)) - 1
    if thresholds[0] < 0.0:
        bucket = np.maximum(bucket, 0)
    bucket = bucket.astype(np.int64)
    true_weight, false_weight = weight * labels, weight * ~labels
    columns = 1 if y_pred.ndim == 1 else y_pred.shape[-1]
    bucket = bucket.reshape(-1, columns)
    block = (n + 1) * np.arange(columns)  # one block of n + 1 bins per label; bin 0: dropped
    index = block + np.where(bucket >= 0, bucket + 1, 0)

    def per_threshold(values):
        sums = np.bincount(
            index.ravel(), values.reshape(-1, columns).ravel(), minlength=(n + 1) * columns
        )
        sums = sums.reshape(columns, n + 1)[:, 1:]
        return np.flip(np.cumsum(np.flip(sums, axis=1), axis=1), axis=1).T

    tp, fp = per_threshold(true_weight), per_threshold(false_weight)
    total_true = true_weight.reshape(-1, columns).sum(axis=0)
    total_false = false_weight.reshape(-1, columns).sum(axis=0)
    counts = {"tp": tp, "fp": fp, "tn": total_false - fp, "fn": total_true - tp}
    if y_pred.ndim == 1:
        counts = {key: value[:, 0] for key, value in counts.items()}
    return counts


class _CountsMetric(Metric):
    """Accumulates the confusion counts named by ``_counts`` in variables of ``shape``."""

    _counts = ()
    _direction = "up"

    def _add_count_variables(self, shape):
        for count in self._counts:
            name = COUNT_NAMES[count]
            setattr(self, name, self.add_variable(shape=shape, initializer="zeros", name=name))

    def _accumulate(self, y_true, y_pred, sample_weight=None, **options):
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight, **options)
        for count in self._counts:
            getattr(self, COUNT_NAMES[count]).assign_add(counts[count])

    def _value(self, name):
        return getattr(self, name).numpy().astype(np.float64)


def _one_or_all(values):
    """The first value for one threshold, else all of them (Keras's result shape)."""
    return as_result(values[0] if values.shape[0] == 1 else values)


class _ConditionCount(_CountsMetric):
    """The weighted number of samples in one cell of the confusion matrix, at each threshold.

    Args:
        thresholds: a float or a list of floats in [0, 1] (default 0.5); a prediction is
            positive when it is > the threshold. A list gives one count per threshold.
        name, dtype: as for every metric.
    """

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = parse_thresholds(thresholds, 0.5, type(self).__name__)
        self.accumulator = self.add_variable(
            shape=(len(self.thresholds),), initializer="zeros", name="accumulator"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight)
        self.accumulator.assign_add(counts[self._counts[0]])

    def result(self):
        return _one_or_all(self._value("accumulator"))

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    __doc__ = "True positives: positive labels predicted positive. " + _ConditionCount.__doc__
    _counts = ("tp",)


class FalsePositives(_ConditionCount):
    __doc__ = "False positives: negative labels predicted positive. " + _ConditionCount.__doc__
    _counts = ("fp",)
    _direction = "down"


class TrueNegatives(_ConditionCount):
    __doc__ = "True negatives: negative labels predicted negative. " + _ConditionCount.__doc__
    _counts = ("tn",)


class FalseNegatives(_ConditionCount):
    __doc__ = "False negatives: positive labels predicted negative. " + _ConditionCount.__doc__
    _counts = ("fn",)
    _direction = "down"


class _PrecisionRecall(_CountsMetric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = parse_thresholds(thresholds, default, type(self).__name__)
        self._add_count_variables((len(self.thresholds),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._accumulate(y_true, y_pred, sample_weight, top_k=self.top_k, class_id=self.class_id)

    def get_config(self):
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_PrecisionRecall):
    """precision = TP / (TP + FP) over everything seen since the last reset (0 when nothing was
    predicted positive).

    Args:
        thresholds: a float or a list of floats in [0, 1] (default 0.5); a prediction is
            positive when it is > the threshold. A list gives one precision per threshold.
        top_k: count only the k highest predictions of each sample as positive.
        class_id: compute the binary precision of this class (column) only.
        name: default "precision".  dtype: of the result.
    """

    _counts = ("tp", "fp")

    def result(self):
        tp = self._value("true_positives")
        return _one_or_all(divide_no_nan(tp, tp + self._value("false_positives")))


class Recall(_PrecisionRecall):
    """recall = TP / (TP + FN) over everything seen since the last reset (0 without positive
    labels). Arguments as for :class:`Precision`; name default "recall"."""

    _counts = ("tp", "fn")

    def result(self):
        tp = self._value("true_positives")
        return _one_or_all(divide_no_nan(tp, tp + self._value("false_negatives")))


class _AtConstraint(_CountsMetric):
    """The best value of one rate among the thresholds where another rate meets a constraint.

    The thresholds are 0, i / (num_thresholds - 1) and 1 (or [0.5] for num_thresholds = 1); the
    result is max over thresholds with constrained >= value of the dependent rate (0 if none).
    """

    _counts = ("tp", "fp", "tn", "fn")
    _value_name = ""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        if not 0.0 <= value <= 1.0:
            raise ValueError(
                f"{type(self).__name__}: `{self._value_name}` must be in the range [0, 1]. "
                f"Received: {self._value_name}={value}"
            )
        if num_thresholds <= 0:
            raise ValueError(
                f"{type(self).__name__}: `num_thresholds` must be an integer > 0. Received: "
                f"num_thresholds={num_thresholds}"
            )
        super().__init__(name=name, dtype=dtype)
        self.value, self.num_thresholds, self.class_id = value, num_thresholds, class_id
        setattr(self, self._value_name, value)
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
        self._add_count_variables((len(self.thresholds),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._accumulate(y_true, y_pred, sample_weight, class_id=self.class_id)

    def _rates(self):
        tp, fp, tn, fn = (self._value(COUNT_NAMES[k]) for k in self._counts)
        return {
            "sensitivity": divide_no_nan(tp, tp + fn),  # = recall
            "specificity": divide_no_nan(tn, tn + fp),
            "precision": divide_no_nan(tp, tp + fp),
        }

    def _best(self, constrained, dependent):
        rates = self._rates()
        feasible = rates[constrained] >= self.value
        return as_result(np.max(np.where(feasible, rates[dependent], 0.0), initial=0.0))

    def get_config(self):
        return {
            **super().get_config(),
            "class_id": self.class_id,
            "num_thresholds": self.num_thresholds,
            self._value_name: self.value,
        }


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity TP / (TP + FN) at a threshold where the specificity TN / (TN + FP)
    is >= ``specificity``.

    Args:
        specificity: in [0, 1].  num_thresholds: default 200.  class_id: one column only.
        name, dtype: as for every metric.
    """

    _value_name = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("specificity", "sensitivity")


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity at a threshold where the sensitivity is >= ``sensitivity``.
    Arguments as for :class:`SensitivityAtSpecificity`."""

    _value_name = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("sensitivity", "specificity")


class PrecisionAtRecall(_AtConstraint):
    """The best precision at a threshold where the recall is >= ``recall``. Arguments as for
    :class:`SensitivityAtSpecificity`."""

    _value_name = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("sensitivity", "precision")


class RecallAtPrecision(_AtConstraint):
    """The best recall at a threshold where the precision is >= ``precision``. Arguments as for
    :class:`SensitivityAtSpecificity`."""

    _value_name = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("precision", "sensitivity")


class AUC(_CountsMetric):
    """Area under the ROC (or precision-recall) curve, approximated as Keras does: the confusion
    counts are accumulated at fixed thresholds and the curve through those points is summed as
    a Riemann sum.

    The thresholds are -ε, the num_thresholds - 2 evenly spaced values i / (num_thresholds - 1)
    and 1 + ε (ε = 1e-7), or -ε, the given ``thresholds`` and 1 + ε. At each threshold,
    TPR = TP / (TP + FN), FPR = FP / (FP + TN), precision = TP / (TP + FP). The area is
    sum_i (x_i - x_{i+1}) h_i with h_i the mean of the two heights ('interpolation'), their
    minimum ('minoring') or maximum ('majoring'); for the PR curve, 'interpolation' uses Davis &
    Goadrich's interpolation of the counts rather than of precision.

    Args:
        num_thresholds: default 200 (> 1).  curve: "ROC" (default) or "PR".
        summation_method: "interpolation" (default), "minoring" or "majoring".
        name: default "auc".  thresholds: explicit thresholds in [0, 1] instead.
        multi_label: one AUC per label (the last axis), averaged (weighted by ``label_weights``
            if given); otherwise every (label, prediction) pair is one data point.
        num_labels: the number of labels with ``multi_label`` (else read from the first batch).
        label_weights: per-label weights: of the average with ``multi_label``, of the data
            points otherwise.
        from_logits: apply a sigmoid to the predictions first.
    """

    _counts = ("tp", "fp", "tn", "fn")

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        super().__init__(name=name, dtype=dtype)
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'AUC: invalid curve "{curve}"; expected one of "ROC", "PR".')
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f'AUC: invalid summation_method "{summation_method}"; expected one of '
                f'"interpolation", "minoring", "majoring".'
            )
        if thresholds is None:
            if not isinstance(num_thresholds, int) or num_thresholds <= 1:
                raise ValueError(
                    f"AUC: num_thresholds must be an integer > 1; got {num_thresholds!r}"
                )
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        else:
            inner = sorted(parse_thresholds(thresholds, None, "AUC"))
            num_thresholds = len(inner) + 2
        self.num_thresholds, self.curve, self.summation_method = (
            num_thresholds,
            curve,
            summation_method,
        )
        self._init_from_thresholds = thresholds is not None
        self.thresholds = [-config.epsilon()] + inner + [1.0 + config.epsilon()]
        self.multi_label, self.num_labels = multi_label, num_labels
        self.label_weights = (
            None if label_weights is None else np.asarray(label_weights, np.float64)
        )
        self.from_logits = from_logits
        self._built = False
        if not multi_label:
            if num_labels:
                raise ValueError("AUC: `num_labels` is needed only when `multi_label` is True.")
            self._build(None)
        elif num_labels:
            self._build(num_labels)

    def _build(self, num_labels):
        shape = (self.num_thresholds,) if num_labels is None else (self.num_thresholds, num_labels)
        self._add_count_variables(shape)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = as_array(y_pred)
        if self.from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-y_pred.astype(np.float64)))
        if not self._built:
            self._build(y_pred.shape[-1])
        self._accumulate(
            y_true,
            y_pred,
            sample_weight,
            multi_label=self.multi_label,
            label_weights=self.label_weights,
        )

    def result(self):
        if not self._built:
            return as_result(0.0)
        tp, fp, tn, fn = (self._value(COUNT_NAMES[k]) for k in self._counts)
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = self._interpolated_pr_areas(tp, fp, fn)
        else:
            recall = divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = divide_no_nan(fp, fp + tn), recall
            else:
                x, y = recall, divide_no_nan(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / 2
            elif self.summation_method == "minoring":
                heights = np.minimum(y[:-1], y[1:])
            else:
                heights = np.maximum(y[:-1], y[1:])
            areas = (x[:-1] - x[1:]) * heights
        by_label = areas.sum(axis=0)
        if not self.multi_label:
            return as_result(by_label)
        if self.label_weights is None:
            return as_result(by_label.mean())
        return as_result(
            divide_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights))
        )

    @staticmethod
    def _interpolated_pr_areas(tp, fp, fn):
        """Davis & Goadrich (2006): TP and P = TP + FP vary linearly between thresholds, so the
        area of each interval is slope (ΔTP + intercept log(P_A / P_B)) / (TP_B + FN_B)."""
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both_positive, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return divide_no_nan(
            slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)
        )

    def get_config(self):
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self.from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
