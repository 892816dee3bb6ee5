"""keras.device, name_scope, remat, RematScope and version: accepted as Keras accepts them."""

import numpy as np
import pytest

import chainrule.keras as keras


@pytest.mark.parametrize("name", ["cpu", "CPU:0", "/device:CPU:0", "/job:localhost/device:cpu:0"])
def test_a_cpu_device_is_accepted(name):
    with keras.device(name):
        assert keras.ops.add(1, 2).numpy() == 3


@pytest.mark.parametrize("name", ["gpu", "gpu:0", "/device:TPU:0", 3])
def test_other_devices_are_refused_clearly(name):
    with pytest.raises(ValueError, match="chainrule computes with NumPy on the CPU"):
        with keras.device(name):
            pass


def test_remat_and_its_scope_leave_values_and_gradients_unchanged():
    layer = keras.layers.Dense(3)
    x = np.ones((2, 4), "float32")
    with keras.RematScope(mode="full"), keras.name_scope("block"):
        y = keras.remat(layer)(x)
    np.testing.assert_array_equal(y.numpy(), layer(x).numpy())
    with pytest.raises(ValueError, match="RematScope: mode must be one of"):
        keras.RematScope(mode="sometimes")


def test_the_base_classes_and_version_are_at_the_top():
    assert issubclass(keras.layers.Dense, keras.Layer)
    assert isinstance(keras.optimizers.Adam(), keras.Optimizer)
    assert isinstance(keras.losses.Huber(), keras.Loss)
    assert isinstance(keras.metrics.Mean(), keras.Metric)
    assert isinstance(keras.initializers.Zeros(), keras.Initializer)
    assert isinstance(keras.regularizers.L2(), keras.Regularizer)
    assert keras.version().startswith("3.")


def test_keras_utils_normalize_and_the_registration_helpers():
    # keras.utils.normalize(np.array([[3., 4.], [0, 0]])) in Keras 3.15.1: [[0.6 0.8] [0. 0.]]
    np.testing.assert_allclose(
        keras.utils.normalize(np.array([[3.0, 4.0], [0.0, 0.0]])), [[0.6, 0.8], [0.0, 0.0]]
    )
    assert keras.utils.register_keras_serializable is keras.saving.register_keras_serializable
    assert keras.utils.custom_object_scope is keras.saving.custom_object_scope
