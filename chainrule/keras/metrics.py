"""Metrics: stateful running means over an epoch, with Keras's names and semantics.

A metric is a per-sample function (1.0 for a correct prediction, say) wrapped in a running mean:
``update_state`` adds sum(w * values) to a total and sum(w) (or the number of samples) to a count,
``result`` is total / count. Metrics do not need gradients, so they compute on plain arrays.
"""

import numpy as np

from ..engine import Tensor
from .registry import lookup, register_classes, register_names


def _array(x):
    if type(x) is np.ndarray:  # the usual case, as fit passes them
        return x
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_true) == argmax(y_pred) over the last axis, else 0.0."""
    return _categorical_hits(y_true, y_pred).astype(np.float32)


def _categorical_hits(y_true, y_pred):
    y_true, y_pred = _array(y_true), _array(y_pred)
    return y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals argmax(y_pred) over the last axis, else 0.0."""
    return _sparse_categorical_hits(y_true, y_pred).astype(np.float32)


def _sparse_categorical_hits(y_true, y_pred):
    y_true, y_pred = _array(y_true), _array(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true == y_pred.argmax(axis=-1)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Mean over the last axis of [y_true == (y_pred > threshold)]."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true[..., None]
    return (y_true == (y_pred > threshold)).astype(np.float32).mean(axis=-1)


class Metric:
    """Base class of stateful metrics: ``update_state``, ``result``, ``reset_state``."""

    def __init__(self, name=None, dtype=None):
        self.name = name or type(self).__name__
        self.dtype = dtype
        self.reset_state()

    def reset_state(self):
        raise NotImplementedError

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def result_value(self):
        """The result as a Python float, or an array for a metric of several values: what
        ``fit`` puts in its logs."""
        result = self.result()
        result = result.numpy() if isinstance(result, Tensor) else result
        return float(result) if np.ndim(result) == 0 else np.asarray(result)

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """The (weighted) mean of the values seen: sum(w v) / sum(w)."""

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values = _array(values)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
            return
        if isinstance(sample_weight, (int, float)) and values.ndim == 0:
            self.total += float(values) * sample_weight  # a batch's mean, weighted by its size
            self.count += sample_weight
            return
        weight = np.broadcast_to(_array(sample_weight).astype(np.float64), values.shape)
        self.total += float((values * weight).sum())
        self.count += float(weight.sum())

    def add(self, value, weight):
        """Add one value (a number or a one-element array) with its weight: what
        ``update_state(value, sample_weight=weight)`` does for a batch's mean, more directly."""
        self.total += float(value) * weight
        self.count += weight

    def result(self):
        """The mean so far as a float32 scalar Tensor (``float(m.result())`` or
        ``m.result().numpy()``, as in TensorFlow); 0 before any update."""
        return Tensor(np.float32(self.result_value()))

    def result_value(self):
        return float(self.total / self.count) if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The running mean of a per-sample function ``fn(y_true, y_pred)``."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self.fn, self.fn_kwargs = fn, kwargs
        super().__init__(name=name or fn.__name__, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self.fn(y_true, y_pred, **self.fn_kwargs)
        if sample_weight is not None:
            sample_weight = _array(sample_weight)
            if sample_weight.ndim == values.ndim + 1 and sample_weight.shape[-1] == 1:
                sample_weight = sample_weight[..., 0]
        super().update_state(values, sample_weight)

    def get_config(self):
        return {**super().get_config(), **self.fn_kwargs}


def _metric_class(class_name, fn, default_name, direction, hits=None):
    """A Keras metric class around ``fn``; ``direction`` ("up" or "down") says which way is
    better, for callbacks that monitor it in mode "auto". For an accuracy, ``hits(y_true,
    y_pred)`` gives fn's values as booleans, which an unweighted update counts directly."""

    def __init__(self, name=default_name, dtype=None, **kwargs):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            return MeanMetricWrapper.update_state(self, y_true, y_pred, sample_weight)
        correct = hits(y_true, y_pred)
        self.total += np.count_nonzero(correct)
        self.count += correct.size
        return None

    methods = {"__init__": __init__, "__doc__": f"Running mean of: {fn.__doc__}"}
    if hits is not None:
        methods["update_state"] = update_state
    return type(class_name, (MeanMetricWrapper,), {**methods, "_direction": direction})


CategoricalAccuracy = _metric_class(
    "CategoricalAccuracy", categorical_accuracy, "categorical_accuracy", "up", _categorical_hits
)
SparseCategoricalAccuracy = _metric_class(
    "SparseCategoricalAccuracy",
    sparse_categorical_accuracy,
    "sparse_categorical_accuracy",
    "up",
    _sparse_categorical_hits,
)
BinaryAccuracy = _metric_class("BinaryAccuracy", binary_accuracy, "binary_accuracy", "up")


def mean_squared_error(y_true, y_pred):
    """Mean over the last axis of (y_true - y_pred)²."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    return np.mean((y_pred - y_true.reshape(y_pred.shape)) ** 2, axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean over the last axis of |y_true - y_pred|."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    return np.mean(np.abs(y_pred - y_true.reshape(y_pred.shape)), axis=-1)


METRICS = {
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy,
    "mean_squared_error": lambda name="mean_squared_error": MeanMetricWrapper(
        mean_squared_error, name=name
    ),
    "mse": lambda name="mse": MeanMetricWrapper(mean_squared_error, name=name),
    "mean_absolute_error": lambda name="mean_absolute_error": MeanMetricWrapper(
        mean_absolute_error, name=name
    ),
    "mae": lambda name="mae": MeanMetricWrapper(mean_absolute_error, name=name),
}
ACCURACY_NAMES = ("accuracy", "acc")


def accuracy_for(y_true, y_pred, name="accuracy"):
    """The accuracy Keras means by 'accuracy' for these labels and outputs.

    Binary when the output has one unit; sparse categorical when the labels have a lower rank
    than the output or a last axis of 1 (and the output more than one unit); else categorical.
    """
    y_true_shape, y_pred_shape = np.shape(y_true), np.shape(y_pred)
    if y_pred_shape[-1] == 1:
        return BinaryAccuracy(name=name)
    if len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1):
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def get(identifier, y_true=None, y_pred=None):
    """A Metric object from a name, a Metric, or a per-sample function.

    'accuracy' and 'acc' need example labels and outputs to choose the right accuracy.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    if isinstance(identifier, str) and identifier.lower() in ACCURACY_NAMES:
        return accuracy_for(y_true, y_pred, name=identifier)
    if isinstance(identifier, str):
        return lookup("metric", METRICS, identifier)(name=identifier)
    raise TypeError(f"Could not interpret metric identifier: {identifier!r}")


# ----- regression and top-k metrics -----------------------------------------------------------

MeanSquaredError = _metric_class(
    "MeanSquaredError", mean_squared_error, "mean_squared_error", "down"
)
MeanAbsoluteError = _metric_class(
    "MeanAbsoluteError", mean_absolute_error, "mean_absolute_error", "down"
)


def _in_top_k(targets, y_pred, k):
    """1.0 where the target class's score is among the k highest of its row, else 0.0.

    As TensorFlow's in_top_k, a target tied with the k-th score counts as in the top k: the
    test is "fewer than k scores are strictly higher".
    """
    target_scores = np.take_along_axis(y_pred, targets[..., None], axis=-1)
    return ((y_pred > target_scores).sum(axis=-1) < k).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is among the k highest predictions, else 0.0."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    return _in_top_k(y_true.argmax(axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is among the k highest predictions, else 0.0."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return _in_top_k(y_true.astype(np.int64), y_pred, k)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the ``k`` (default 5) highest predictions."""

    _direction = "up"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` (default 5) highest predictions."""

    _direction = "up"

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


# ----- confusion-matrix metrics -----------------------------------------------------------------

NEG_INF = -1e10  # below any prediction: the threshold that makes every top-k entry positive
EPSILON = 1e-7
_COUNT_NAMES = {
    "tp": "true_positives",
    "fp": "false_positives",
    "tn": "true_negatives",
    "fn": "false_negatives",
}


def _thresholds(thresholds, default, metric):
    """The thresholds as a list of floats in [0, 1] (``default`` when None)."""
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

    A prediction is positive when y_pred > threshold (strictly); a label is positive when it is
    nonzero. ``top_k`` keeps only the k highest predictions of each row (the rest become
    negative), ``class_id`` keeps only that column. Sample weights broadcast against y_pred.

    Returns:
        A dict of arrays 'tp', 'fp', 'tn', 'fn' of shape (T,), or (T, L) with ``multi_label``
        for predictions with L labels along the last axis.

    Raises:
        ValueError: labels and predictions of different shapes (after Keras's rule that a
            trailing axis of size 1 may be added or dropped).
    """
    y_true, y_pred = _array(y_true), _array(y_pred).astype(np.float64)
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    elif y_pred.ndim == y_true.ndim - 1:
        y_pred = y_pred[..., None]
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"Labels of shape {y_true.shape} and predictions of shape {y_pred.shape} are "
            f"incompatible: they must have the same shape."
        )
    weight = np.ones_like(y_pred) if sample_weight is None else _array(sample_weight)
    weight = weight.astype(np.float64).reshape(weight.shape + (1,) * (y_pred.ndim - weight.ndim))
    weight = np.broadcast_to(weight, y_pred.shape)
    if top_k is not None:
        order = np.argsort(-y_pred, axis=-1, kind="stable")
        keep = np.zeros(y_pred.shape, bool)
        np.put_along_axis(keep, order[..., :top_k], True, axis=-1)
        y_pred = np.where(keep, y_pred, NEG_INF)
    if class_id is not None:
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
        weight = weight[..., class_id, None]
    if label_weights is not None and not multi_label:
        weight = weight * np.asarray(label_weights, np.float64)
    labels = y_true.astype(bool)
    if multi_label:
        labels, y_pred, weight = (a.reshape(-1, a.shape[-1]) for a in (labels, y_pred, weight))
    else:
        labels, y_pred, weight = labels.reshape(-1), y_pred.reshape(-1), weight.reshape(-1)
    positive = y_pred[None] > np.asarray(thresholds, np.float64).reshape((-1,) + (1,) * y_pred.ndim)
    return {
        "tp": (weight * (positive & labels)).sum(axis=1),
        "fp": (weight * (positive & ~labels)).sum(axis=1),
        "tn": (weight * (~positive & ~labels)).sum(axis=1),
        "fn": (weight * (~positive & labels)).sum(axis=1),
    }


def _divide_no_nan(a, b):
    """a / b, with 0 where b is 0."""
    return np.divide(a, b, out=np.zeros_like(a, dtype=np.float64), where=b != 0)


def _accumulated(total, counts):
    """The dict of arrays ``counts`` added key by key to the running ``total`` (None at first:
    then ``counts`` itself)."""
    if total is None:
        return counts
    for key in counts:
        total[key] = total[key] + counts[key]
    return total


def _scalar_or_array(values):
    """A float for one value (one threshold), the array for several."""
    return float(values[0]) if values.size == 1 else values


class _ConfusionMetric(Metric):
    """Accumulates the confusion counts named by ``_counts`` over batches."""

    _counts = ()
    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = _thresholds(thresholds, default, type(self).__name__)
        super().__init__(name=name or type(self).__name__.lower(), dtype=dtype)

    def reset_state(self):
        for count in self._counts:
            setattr(self, _COUNT_NAMES[count], np.zeros(len(self.thresholds)))

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(
            y_true, y_pred, self.thresholds, sample_weight, top_k=self.top_k, class_id=self.class_id
        )
        for count in self._counts:
            getattr(self, _COUNT_NAMES[count])[...] += counts[count]

    def get_config(self):
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_ConfusionMetric):
    """precision = TP / (TP + FP) over everything seen since the last reset (0 when nothing was
    predicted positive): a running ratio, not a mean of batch ratios.

    Args:
        thresholds: a float or a list of floats in [0, 1] (default 0.5); a prediction is
            positive when it is > the threshold. A list gives one precision per threshold.
        top_k: count only the k highest predictions of each sample as positive.
        class_id: compute the binary precision of this class (column) only.
        name: default "precision".
    """

    _counts = ("tp", "fp")

    def result(self):
        return _scalar_or_array(
            _divide_no_nan(self.true_positives, self.true_positives + self.false_positives)
        )


class Recall(_ConfusionMetric):
    """recall = TP / (TP + FN) over everything seen since the last reset (0 without positive
    labels). Arguments as for :class:`Precision`; name default "recall"."""

    _counts = ("tp", "fn")

    def result(self):
        return _scalar_or_array(
            _divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)
        )


class AUC(Metric):
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
        num_labels: accepted for compatibility (labels are counted on the first batch).
        label_weights: per-label weights: of the average with ``multi_label``, of the data
            points otherwise.
        from_logits: apply a sigmoid to the predictions first.
    """

    _direction = "up"

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
            inner = sorted(_thresholds(thresholds, None, "AUC"))
            num_thresholds = len(inner) + 2
        self.num_thresholds, self.curve, self.summation_method = (
            num_thresholds,
            curve,
            summation_method,
        )
        self._init_from_thresholds = thresholds is not None
        self.thresholds = [-EPSILON] + inner + [1.0 + EPSILON]
        self.multi_label, self.num_labels = multi_label, num_labels
        self.label_weights = (
            None if label_weights is None else np.asarray(label_weights, np.float64)
        )
        self.from_logits = from_logits
        super().__init__(name=name or "auc", dtype=dtype)

    def reset_state(self):
        self._counts = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _array(y_pred)
        if self.from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-y_pred.astype(np.float64)))
        counts = confusion_counts(
            y_true,
            y_pred,
            self.thresholds,
            sample_weight,
            multi_label=self.multi_label,
            label_weights=self.label_weights,
        )
        self._counts = _accumulated(self._counts, counts)

    def result(self):
        if self._counts is None:
            return 0.0
        tp, fp, tn, fn = (self._counts[k] for k in ("tp", "fp", "tn", "fn"))
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = self._interpolated_pr_areas(tp, fp, fn)
        else:
            recall = _divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = _divide_no_nan(fp, fp + tn), recall
            else:
                x, y = recall, _divide_no_nan(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / 2
            elif self.summation_method == "minoring":
                heights = np.minimum(y[:-1], y[1:])
            else:
                heights = np.maximum(y[:-1], y[1:])
            areas = (x[:-1] - x[1:]) * heights
        by_label = areas.sum(axis=0)
        if not self.multi_label:
            return float(by_label)
        if self.label_weights is None:
            return float(by_label.mean())
        return float(
            _divide_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights))
        )

    @staticmethod
    def _interpolated_pr_areas(tp, fp, fn):
        """Davis & Goadrich (2006): TP and P = TP + FP vary linearly between thresholds, so the
        area of each interval is slope (ΔTP + intercept log(P_A / P_B)) / (TP_B + FN_B)."""
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both_positive, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return _divide_no_nan(
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
        self.average, self.beta, self.threshold = average, float(beta), threshold
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self._counts = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _array(y_true).astype(np.float64), _array(y_pred).astype(np.float64)
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
        predicted = predicted.astype(np.float64)
        weight = 1.0 if sample_weight is None else _array(sample_weight).reshape(-1, 1)
        axis = None if self.average == "micro" else 0
        counts = {
            "tp": (weight * predicted * y_true).sum(axis=axis),
            "fp": (weight * predicted * (1 - y_true)).sum(axis=axis),
            "fn": (weight * (1 - predicted) * y_true).sum(axis=axis),
            "support": (weight * y_true).sum(axis=axis),
        }
        self._counts = _accumulated(self._counts, counts)

    def result(self):
        if self._counts is None:
            return 0.0
        tp, fp, fn = self._counts["tp"], self._counts["fp"], self._counts["fn"]
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta**2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + EPSILON)
        if self.average == "weighted":
            support = self._counts["support"]
            return float(np.sum(score * support / (support.sum() + EPSILON)))
        if self.average is not None:
            return float(np.mean(score))
        return score

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


METRICS.update(
    {
        "mean_squared_error": MeanSquaredError,
        "mse": MeanSquaredError,
        "mean_absolute_error": MeanAbsoluteError,
        "mae": MeanAbsoluteError,
        "top_k_categorical_accuracy": TopKCategoricalAccuracy,
        "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
        "precision": Precision,
        "recall": Recall,
        "auc": AUC,
        "f1_score": F1Score,
        "fbeta_score": FBetaScore,
    }
)

# Files name the metrics under keras.metrics.
register_names("keras.metrics", METRICS)
register_classes("keras.metrics", METRICS.values())
