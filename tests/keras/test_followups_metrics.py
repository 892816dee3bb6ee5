"""Metric functions are the loss functions (one implementation, with gradients), and the
metrics built on them keep Keras 3's values."""

import numpy as np
import pytest

import chainrule
import chainrule.keras as keras
from chainrule.engine import Tensor

SHARED = [
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "sparse_categorical_crossentropy",
]


@pytest.mark.parametrize("name", SHARED)
def test_metric_function_is_the_loss_function(name):
    assert getattr(keras.metrics, name) is getattr(keras.losses, name)


def test_metric_functions_carry_gradients():
    rng = np.random.default_rng(0)
    y_true = rng.uniform(0.5, 2.0, (3, 4))
    y_pred = rng.uniform(0.5, 2.0, (3, 4))
    assert chainrule.gradcheck(
        lambda p: keras.metrics.mean_absolute_percentage_error(y_true, p), y_pred
    )
    assert chainrule.gradcheck(
        lambda p: keras.metrics.mean_squared_logarithmic_error(y_true, p), y_pred
    )
    labels = (rng.uniform(size=(3, 4)) > 0.5).astype(np.float64)
    assert chainrule.gradcheck(
        lambda p: keras.metrics.binary_focal_crossentropy(labels, p, from_logits=True), y_pred
    )


def test_mape_metric_matches_closed_form():
    y_true = np.array([[1.0, 2.0], [4.0, 5.0]])
    y_pred = np.array([[1.5, 2.0], [2.0, 5.0]])
    metric = keras.metrics.MeanAbsolutePercentageError()
    metric.update_state(y_true, y_pred)
    # per sample: 100 * mean(0.5, 0) = 25 and 100 * mean(0.5, 0) = 25
    np.testing.assert_allclose(float(metric.result()), 25.0, rtol=1e-6)


def test_sparse_crossentropy_ignore_class_matches_keras():
    # Values from Keras 3.15.1 (JAX):
    #   m = keras.metrics.SparseCategoricalCrossentropy(ignore_class=2)
    #   m.update_state(yt, yp)  -> 0.349940687417984
    #   m.update_state(yt, yp, sample_weight=[1., 2., 3.]) -> 0.6090291142463684
    #   (and the same with labels of shape (3, 1))
    y_true = np.array([0, 2, 1])
    y_pred = np.array([[0.7, 0.2, 0.1], [0.3, 0.3, 0.4], [0.2, 0.5, 0.3]])
    metric = keras.metrics.SparseCategoricalCrossentropy(ignore_class=2)
    metric.update_state(y_true, y_pred)
    np.testing.assert_allclose(float(metric.result()), 0.349940687417984, rtol=1e-5)
    for labels in (y_true, y_true[:, None]):
        metric.reset_state()
        metric.update_state(labels, y_pred, sample_weight=np.array([1.0, 2.0, 3.0]))
        np.testing.assert_allclose(float(metric.result()), 0.6090291142463684, rtol=1e-5)
    assert isinstance(metric.result(), Tensor)
