"""Metrics: stateful running means over an epoch, with Keras's names and semantics.

A metric is a per-sample function (1.0 for a correct prediction, say) wrapped in a running mean:
``update_state`` adds sum(w * values) to a total and sum(w) (or the number of samples) to a count,
``result`` is total / count. Metrics do not need gradients, so they compute on plain arrays.
"""

import numpy as np

from ..engine import Tensor
from .registry import lookup


def _array(x):
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_true) == argmax(y_pred) over the last axis, else 0.0."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    return (y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals argmax(y_pred) over the last axis, else 0.0."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (y_true == y_pred.argmax(axis=-1)).astype(np.float32)


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

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """The (weighted) mean of the values seen: sum(w v) / sum(w)."""

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values = _array(values)
        if isinstance(sample_weight, (int, float)) and values.ndim == 0:
            self.total += float(values) * sample_weight  # a batch's mean, weighted by its size
            self.count += sample_weight
            return
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
            return
        weight = np.broadcast_to(_array(sample_weight).astype(np.float64), values.shape)
        self.total += float((values * weight).sum())
        self.count += float(weight.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


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


def _metric_class(class_name, fn, default_name):
    def __init__(self, name=default_name, dtype=None, **kwargs):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **kwargs)

    return type(class_name, (MeanMetricWrapper,),
                {"__init__": __init__, "__doc__": f"Running mean of: {fn.__doc__}"})


CategoricalAccuracy = _metric_class(
    "CategoricalAccuracy", categorical_accuracy, "categorical_accuracy"
)
SparseCategoricalAccuracy = _metric_class(
    "SparseCategoricalAccuracy", sparse_categorical_accuracy, "sparse_categorical_accuracy"
)
BinaryAccuracy = _metric_class("BinaryAccuracy", binary_accuracy, "binary_accuracy")


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
        mean_squared_error, name=name),
    "mse": lambda name="mse": MeanMetricWrapper(mean_squared_error, name=name),
    "mean_absolute_error": lambda name="mean_absolute_error": MeanMetricWrapper(
        mean_absolute_error, name=name),
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
