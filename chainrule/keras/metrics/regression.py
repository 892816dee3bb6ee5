"""Regression metrics: running means of per-sample errors, RMSE, R², and the correlations."""

import warnings

import numpy as np

from .. import config, losses
from .base import Mean, Metric, WrapperWithConfig, as_array, as_result, same_rank, wrapper_class


def _pair(y_true, y_pred):
    """y_true and y_pred as float64 arrays of one rank (Keras's trailing-axis rule)."""
    return same_rank(as_array(y_true, np.float64), as_array(y_pred, np.float64))


def cosine_similarity(y_true, y_pred, axis=-1):
    """Σ over ``axis`` of (t / ||t||)(p / ||p||): the cosine of the angle between the label and
    prediction vectors (the loss of that name is its negative); 0 for a zero vector."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's r along ``axis``: mean(((t - t̄) / σ_t) ((p - p̄) / σ_p)), σ the population
    standard deviation."""
    y_true, y_pred = _pair(y_true, y_pred)
    t = y_true - y_true.mean(axis=axis, keepdims=True)
    p = y_pred - y_pred.mean(axis=axis, keepdims=True)
    t = t / t.std(axis=axis, keepdims=True)
    p = p / p.std(axis=axis, keepdims=True)
    return as_result(np.mean(t * p, axis=axis))


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation along ``axis``, as Keras computes it:
    mean(2 (t - p̄)(p - p̄) / (σ_t² + σ_p² + (t̄ - p̄)² + ε)), ε = 1e-7 (note Keras's p̄ in the
    first factor, where the textbook has t̄)."""
    y_true, y_pred = _pair(y_true, y_pred)
    true_mean = y_true.mean(axis=axis, keepdims=True)
    pred_mean = y_pred.mean(axis=axis, keepdims=True)
    true_var = y_true.var(axis=axis, keepdims=True)
    pred_var = y_pred.var(axis=axis, keepdims=True)
    covariance = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + (true_mean - pred_mean) ** 2
    return as_result(np.mean(2 * covariance / (norm + config.epsilon()), axis=axis))


MeanSquaredError = wrapper_class(
    "MeanSquaredError",
    losses.mean_squared_error,
    "mean_squared_error",
    "down",
    "The running mean of mean((y_true - y_pred)²) over the last axis.",
)
MeanAbsoluteError = wrapper_class(
    "MeanAbsoluteError",
    losses.mean_absolute_error,
    "mean_absolute_error",
    "down",
    "The running mean of mean(|y_true - y_pred|) over the last axis.",
)
MeanAbsolutePercentageError = wrapper_class(
    "MeanAbsolutePercentageError",
    losses.mean_absolute_percentage_error,
    "mean_absolute_percentage_error",
    "down",
    "The running mean of 100 · mean(|y_true - y_pred| / max(|y_true|, ε)) over the last axis.",
)
MeanSquaredLogarithmicError = wrapper_class(
    "MeanSquaredLogarithmicError",
    losses.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
    "down",
    "The running mean of mean((log(max(y_pred, ε) + 1) - log(max(y_true, ε) + 1))²) over the "
    "last axis.",
)
LogCoshError = wrapper_class(
    "LogCoshError",
    losses.log_cosh,
    "logcosh",
    "down",
    "The running mean of mean(log cosh(y_pred - y_true)) over the last axis.",
)


PearsonCorrelation = wrapper_class(
    "PearsonCorrelation",
    pearson_correlation,
    "pearson_correlation",
    "up",
    "The running mean of :func:`pearson_correlation` over the batches' samples.  Args: name, "
    "dtype, axis (default -1).",
    axis=-1,
)
ConcordanceCorrelation = wrapper_class(
    "ConcordanceCorrelation",
    concordance_correlation,
    "concordance_correlation",
    "up",
    "The running mean of :func:`concordance_correlation`.  Args: name, dtype, axis (default -1).",
    axis=-1,
)


class CosineSimilarity(WrapperWithConfig):
    """The running mean of :func:`cosine_similarity` (1 for aligned vectors, -1 for opposite).

    Args:
        name: default "cosine_similarity".  dtype: of the result.
        axis: the axis of the vectors (default -1; not written in the config, as in Keras).
    """

    _direction = "up"

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


class RootMeanSquaredError(Mean):
    """sqrt(Σ w (y_true - y_pred)² / Σ w) over every value seen (each sample's squared errors
    averaged first, as :class:`Mean` does).  Args: name (default "root_mean_squared_error"),
    dtype."""

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _pair(y_true, y_pred)
        super().update_state((y_pred - y_true) ** 2, sample_weight=sample_weight)

    def result_value(self):
        return float(np.sqrt(super().result_value()))


class R2Score(Metric):
    """The coefficient of determination R² = 1 - SS_res / SS_tot per output column, from sums
    accumulated over every batch: SS_res = Σ w (y - ŷ)², SS_tot = Σ w y² - (Σ w y)² / Σ w.

    Inputs are 2-D, (batch, outputs); sample weights are one per sample or one per value.

    Args:
        class_aggregation: "uniform_average" (default: the mean over the columns),
            "variance_weighted_average" (weighted by each column's SS_tot) or None (the
            column scores).
        num_regressors: p > 0 gives the adjusted R², 1 - (1 - R²)(n - 1) / (n - p - 1), with n
            the number of values seen (Keras falls back to R², with a warning, when n - 1 <= p).
        name: default "r2_score".  dtype: of the result.
    """

    _direction = "up"

    def __init__(
        self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None
    ):
        super().__init__(name=name, dtype=dtype)
        choices = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in choices:
            raise ValueError(
                f"R2Score: invalid class_aggregation={class_aggregation!r}; expected one of "
                f"{choices}."
            )
        if num_regressors < 0:
            raise ValueError(
                f"R2Score: num_regressors must be >= 0; received num_regressors={num_regressors}."
            )
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.num_samples = self.add_variable(shape=(), initializer="zeros", name="num_samples")
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                f"R2Score expects 2D inputs with shape (batch_size, output_dim). Received "
                f"input shapes: y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}."
            )
        columns = (y_pred_shape[-1],)
        self.squared_sum = self.add_variable(columns, "zeros", name="squared_sum")
        self.sum = self.add_variable(columns, "zeros", name="sum")
        self.total_mse = self.add_variable(columns, "zeros", name="residual")
        self.count = self.add_variable(columns, "zeros", name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _pair(y_true, y_pred)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        weight = 1.0 if sample_weight is None else as_array(sample_weight, np.float64)
        if np.ndim(weight) == 1:
            weight = weight[:, None]
        weight = np.broadcast_to(weight, y_true.shape)
        self.sum.assign_add((y_true * weight).sum(axis=0))
        self.squared_sum.assign_add((y_true * y_true * weight).sum(axis=0))
        self.total_mse.assign_add(((y_true - y_pred) ** 2 * weight).sum(axis=0))
        self.count.assign_add(weight.sum(axis=0))
        self.num_samples.assign_add(y_true.size)

    def result(self):
        if not self._built:
            return as_result(0.0)
        total_sum, count = self.sum.numpy().astype(np.float64), self.count.numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            total = self.squared_sum.numpy() - total_sum * (total_sum / count)
            raw = 1 - self.total_mse.numpy() / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw) / np.sum(total)
        else:
            score = raw
        n, p = float(self.num_samples.numpy()), self.num_regressors
        if p and p >= n - 1:
            warnings.warn(
                "R2Score: more independent predictors than data points (or as many as n - 1) "
                "for the adjusted R²; returning the plain R².",
                stacklevel=2,
            )
        elif p:
            score = 1 - (1 - score) * (n - 1) / (n - p - 1)
        return as_result(score)

    def get_config(self):
        return {
            **super().get_config(),
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
