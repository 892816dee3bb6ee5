"""keras.Variable: made from a value or from an initializer and a shape, as Keras 3 makes it;
layers' weights are keras.Variables; the errors for what Keras refuses; Keras 3's `value`
property and repr."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras import initializers, ops


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


def test_value_is_a_property_as_in_keras_3():
    # as Keras 3: `v.value` is a property, so float(v.value) is 3.0
    v = keras.Variable(3.0)
    value = v.value
    assert float(value) == 3.0 and value.dtype == np.float32
    v.assign(5.0)  # the value read before is its own: JAX's arrays do not change either
    assert float(value) == 3.0 and float(v.value) == 5.0
    # TensorFlow's tf.Variable, behind the chainrule.tf facade, keeps value() a method
    assert float(cr.Variable(2.0).value()) == 2.0


def test_repr_is_keras_3s():
    # as Keras 3.15.1: path, shape, dtype and the values, a float32 scalar written as Python
    # writes the float32 number
    v = keras.Variable(np.arange(6.0).reshape(2, 3), name="w")
    assert repr(v) == (
        "<Variable path=w, shape=(2, 3), dtype=float32, value=[[0. 1. 2.]\n [3. 4. 5.]]>"
    )
    assert repr(keras.Variable(7, dtype="int32", name="count")) == (
        "<Variable path=count, shape=(), dtype=int32, value=7>"
    )
    assert repr(keras.Variable(1e-6, name="x")) == (
        "<Variable path=x, shape=(), dtype=float32, value=9.999999974752427e-07>"
    )
    layer = keras.layers.Dense(3, kernel_initializer="ones")
    layer.build((None, 2))
    expected = f"<Variable path={layer.name}/bias, shape=(3,), dtype=float32, value=[0. 0. 0.]>"
    assert repr(layer.bias) == expected


class CategoricalTruePositives(keras.metrics.Metric):
    """The metric of Keras's training guide (training_with_built_in_methods), as written there:
    its result() returns the variable's `.value`."""

    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        self.true_positives.assign_add(ops.sum(ops.cast(values, "float32")))

    def result(self):
        return self.true_positives.value

    def reset_state(self):
        self.true_positives.assign(0.0)


def test_a_metric_returning_its_variables_value_logs_a_number_in_fit():
    # the first layer outputs one-hot of the label (a fixed kernel), so every sample is a hit
    x = np.eye(3, dtype="float32")[[0, 1, 2, 1]]
    y = np.array([[0], [1], [2], [1]])
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(3, kernel_initializer="identity", trainable=False)]
    )
    model.compile(optimizer="sgd", loss="mse", metrics=[CategoricalTruePositives()])
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert history.history["categorical_true_positives"] == [4.0, 4.0]
