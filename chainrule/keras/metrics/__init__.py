"""``keras.metrics``: the Metric contract and Keras 3's catalogue of metrics.

Modules: base (Metric, Mean, Sum, MeanMetricWrapper), accuracy, probabilistic (cross-entropies,
KL, Poisson, hinges), regression (errors, R², correlations), confusion (counts, precision,
recall, AUC, ...AtRecall), fbeta, iou. This module holds the names: ``get``, ``serialize``,
``deserialize`` and the tables that files and ``compile`` look metrics up in.
"""

import numpy as np

from .. import losses
from ..naming import snake_case
from ..registry import describe, lookup, register_classes, register_names
from .accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from .base import NAMED_FUNCTIONS, Mean, MeanMetricWrapper, Metric, Sum
from .confusion import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
    confusion_counts,
)
from .fbeta import F1Score, FBetaScore
from .iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from .probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from .regression import (
    ConcordanceCorrelation,
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    PearsonCorrelation,
    R2Score,
    RootMeanSquaredError,
    concordance_correlation,
    pearson_correlation,
)

# The metric functions that are the loss functions of the same name.
binary_crossentropy = losses.binary_crossentropy
binary_focal_crossentropy = losses.binary_focal_crossentropy
categorical_focal_crossentropy = losses.categorical_focal_crossentropy
mean_absolute_percentage_error = losses.mean_absolute_percentage_error
mean_squared_logarithmic_error = losses.mean_squared_logarithmic_error
categorical_crossentropy = losses.categorical_crossentropy
sparse_categorical_crossentropy = losses.sparse_categorical_crossentropy
categorical_hinge = losses.categorical_hinge
hinge = losses.hinge
squared_hinge = losses.squared_hinge
huber = losses.huber
kl_divergence = losses.kl_divergence
log_cosh = losses.log_cosh
poisson = losses.poisson
mean_absolute_error = losses.mean_absolute_error
mean_squared_error = losses.mean_squared_error

CLASSES = {
    cls.__name__: cls
    for cls in (
        Metric,
        Mean,
        Sum,
        MeanMetricWrapper,
        Accuracy,
        BinaryAccuracy,
        CategoricalAccuracy,
        SparseCategoricalAccuracy,
        TopKCategoricalAccuracy,
        SparseTopKCategoricalAccuracy,
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
        KLDivergence,
        Poisson,
        Hinge,
        SquaredHinge,
        CategoricalHinge,
        MeanSquaredError,
        MeanAbsoluteError,
        MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError,
        RootMeanSquaredError,
        LogCoshError,
        CosineSimilarity,
        R2Score,
        PearsonCorrelation,
        ConcordanceCorrelation,
        TruePositives,
        FalsePositives,
        TrueNegatives,
        FalseNegatives,
        Precision,
        Recall,
        AUC,
        PrecisionAtRecall,
        RecallAtPrecision,
        SensitivityAtSpecificity,
        SpecificityAtSensitivity,
        FBetaScore,
        F1Score,
        IoU,
        BinaryIoU,
        MeanIoU,
        OneHotIoU,
        OneHotMeanIoU,
    )
}

# Identifiers that ``get`` and ``compile`` accept: Keras's class names in snake_case and its
# aliases, for the metrics that need no constructor argument. Lookups are case-insensitive.
_NEEDS_ARGUMENTS = {
    "Metric",
    "MeanMetricWrapper",
    "IoU",
    "MeanIoU",
    "OneHotIoU",
    "OneHotMeanIoU",
    "PrecisionAtRecall",
    "RecallAtPrecision",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
}
METRICS = {
    snake_case(name).lower(): cls for name, cls in CLASSES.items() if name not in _NEEDS_ARGUMENTS
}
METRICS.update({name.lower(): cls for name, cls in CLASSES.items() if name not in _NEEDS_ARGUMENTS})
METRICS.update(
    {
        "bce": BinaryCrossentropy,
        "mse": MeanSquaredError,
        "mae": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError,
    }
)

FUNCTIONS = {
    fn.__name__: fn
    for fn in (
        binary_accuracy,
        categorical_accuracy,
        sparse_categorical_accuracy,
        top_k_categorical_accuracy,
        sparse_top_k_categorical_accuracy,
        binary_crossentropy,
        binary_focal_crossentropy,
        categorical_crossentropy,
        categorical_focal_crossentropy,
        sparse_categorical_crossentropy,
        categorical_hinge,
        hinge,
        squared_hinge,
        huber,
        kl_divergence,
        log_cosh,
        poisson,
        mean_absolute_error,
        mean_squared_error,
        mean_absolute_percentage_error,
        mean_squared_logarithmic_error,
        pearson_correlation,
        concordance_correlation,
    )
}
NAMED_FUNCTIONS.update(FUNCTIONS)

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
    """A Metric from an identifier: a Metric (returned as is), a Metric class (made with its
    defaults), a config dict (see :func:`deserialize`), a name, or a function ``fn(y_true,
    y_pred)`` (wrapped in a :class:`MeanMetricWrapper` named after it).

    A name builds the metric named by it, as ``compile`` does: ``get("mse").name == "mse"``.
    'accuracy' and 'acc' need example labels and outputs (``y_true``, ``y_pred``) to choose the
    right accuracy; without them 'accuracy' is :class:`Accuracy`. Returns None for None.

    Raises:
        ValueError: an unknown name (the message lists the known ones) or an identifier of
            another kind.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier.lower() in ACCURACY_NAMES:
        if y_pred is None:
            return Accuracy(name=identifier)
        return accuracy_for(y_true, y_pred, name=identifier)
    if isinstance(identifier, str):
        return lookup("metric", METRICS, identifier)(name=identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def serialize(metric):
    """Keras 3's description of a metric: ``{"module": "keras.metrics", "class_name",
    "config", "registered_name"}``; a metric function becomes its name."""
    if not isinstance(metric, Metric):
        if callable(metric) and getattr(metric, "__name__", None) in FUNCTIONS:
            return metric.__name__
        raise TypeError(f"serialize: expected a keras Metric or metric function, got {metric!r}")
    cls = type(metric)
    builtin = CLASSES.get(cls.__name__) is cls
    if builtin:
        return describe(metric, "keras.metrics")
    return describe(metric, cls.__module__, cls.__name__)


def deserialize(config, custom_objects=None):
    """The metric (or metric function) that :func:`serialize` described; ``custom_objects``
    maps class names to your own Metric classes.

    Raises:
        ValueError: a class or function name that is neither Keras's nor in custom_objects.
    """
    custom_objects = custom_objects or {}
    if isinstance(config, str):
        if config in custom_objects:
            return custom_objects[config]
        return FUNCTIONS.get(config) or get(config)
    name = config.get("class_name")
    cls = custom_objects.get(name) or CLASSES.get(name)
    if cls is None:
        raise ValueError(
            f"deserialize: unknown metric class {name!r}. Pass custom_objects={{{name!r}: "
            f"YourMetric}} for your own metrics."
        )
    return cls.from_config(config.get("config", {}))


__all__ = sorted(
    [*CLASSES, *FUNCTIONS, "get", "serialize", "deserialize"],
)

# Files name the metrics under keras.metrics.
register_names("keras.metrics", {**METRICS, **FUNCTIONS})
register_classes("keras.metrics", CLASSES.values())
