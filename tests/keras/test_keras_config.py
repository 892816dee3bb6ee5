"""keras.config / keras.backend settings take effect: floatx for new layers, variables,
initializers and Python floats in keras.ops; epsilon in losses; image_data_format in layers."""

import numpy as np
import pytest

import chainrule.keras as keras


@pytest.fixture
def restore():
    saved = (keras.config.floatx(), keras.config.epsilon(), keras.config.image_data_format())
    yield
    keras.config.set_floatx(saved[0])
    keras.config.set_epsilon(saved[1])
    keras.config.set_image_data_format(saved[2])


def test_floatx_sets_the_dtype_of_what_is_made_afterwards(restore):
    keras.backend.set_floatx("float64")
    assert keras.backend.floatx() == keras.config.floatx() == "float64"
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    assert layer.kernel.dtype == np.float64
    assert keras.Variable(initializer="zeros", shape=(2,)).dtype == np.float64
    assert keras.initializers.GlorotUniform()((2, 2)).dtype == np.float64
    assert keras.ops.add(1.5, 2.5).dtype == np.float64
    keras.backend.set_floatx("float32")
    assert keras.layers.Dense(2).dtype == np.float32


def test_bfloat16_and_unknown_types_are_refused(restore):
    with pytest.raises(ValueError, match="NumPy, which has no bfloat16"):
        keras.config.set_floatx("bfloat16")
    with pytest.raises(ValueError, match="unknown `floatx` value 'float8'"):
        keras.config.set_floatx("float8")


def test_epsilon_is_read_when_a_loss_runs(restore):
    y_true, y_pred = np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]])
    # binary cross-entropy clips predictions to [eps, 1 - eps]: -log(1 - eps) for the 0 entry
    keras.config.set_epsilon(1e-3)
    got = float(keras.losses.binary_crossentropy(y_true, y_pred)[0])
    assert got == pytest.approx(-np.log(1 - 1e-3), rel=1e-4)


def test_image_data_format_is_the_layers_default(restore):
    keras.config.set_image_data_format("channels_first")
    layer = keras.layers.Conv2D(4, 3)
    assert layer.data_format == "channels_first"
    assert layer(np.zeros((1, 2, 5, 5), "float32")).shape == (1, 4, 3, 3)
    with pytest.raises(ValueError, match="must be one of"):
        keras.config.set_image_data_format("nhwc")
