"""keras.Variable: made from a value or from an initializer and a shape, as Keras 3 makes it;
layers' weights are keras.Variables; the errors for what Keras refuses."""

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import initializers


def test_a_value_becomes_a_float32_variable_of_its_own():
    value = np.arange(6, dtype=np.int64).reshape(2, 3)
    v = keras.Variable(value, name="counts")
    assert v.shape == (2, 3) and v.dtype == np.float32 and v.name == "counts"
    np.testing.assert_array_equal(v.numpy(), value)
    value[0, 0] = 99  # the variable keeps its own copy
    assert v.numpy()[0, 0] == 0
    assert keras.Variable(np.zeros(2), dtype="float64").dtype == np.float64
    assert keras.Variable(keras.Variable([1.0, 2.0])).numpy().tolist() == [1.0, 2.0]


def test_an_initializer_and_a_shape_make_the_values():
    assert keras.Variable("zeros", shape=(2, 2)).numpy().tolist() == [[0.0, 0.0], [0.0, 0.0]]
    ones = keras.Variable(initializers.Constant(3.0), shape=(4,))
    assert ones.numpy().tolist() == [3.0] * 4
    custom = keras.Variable(lambda shape, dtype: np.full(shape, 0.5, dtype), shape=(3,))
    assert custom.numpy().tolist() == [0.5] * 3 and custom.dtype == np.float32


def test_trainable_decides_whether_a_gradient_is_recorded():
    w = keras.Variable("ones", shape=(3,))
    frozen = keras.Variable("ones", shape=(3,), trainable=False)
    assert w.trainable and w.requires_grad
    assert not frozen.trainable and not frozen.requires_grad
    (w * frozen).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 1.0, 1.0])
    w.assign(np.full(3, 2.0))
    assert w.numpy().tolist() == [2.0, 2.0, 2.0]


def test_layers_weights_are_keras_variables():
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    assert isinstance(layer.kernel, keras.Variable) and isinstance(layer.bias, keras.Variable)
    assert layer.kernel.path == f"{layer.name}/kernel"


def test_what_keras_refuses_gets_its_error():
    with pytest.raises(ValueError, match="the `shape` argument should be specified"):
        keras.Variable("zeros")
    with pytest.raises(ValueError, match=r"Initial value has shape \(2,\), .* is \(3,\)"):
        keras.Variable(np.zeros(2), shape=(3,))
