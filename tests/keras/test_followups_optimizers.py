"""Optimizers assign its gradient to a variable marked overwrite_with_gradient, as Keras 3."""

import numpy as np
import pytest

import chainrule.keras as keras


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_marked_variable_takes_its_gradient(optimizer):
    optimizer = keras.optimizers.get(optimizer)
    optimizer.clipvalue = 0.5  # clipping is for the updated variables only
    marked = keras.Variable(np.zeros(3, "float32"), name="scale")
    marked.overwrite_with_gradient = True
    plain = keras.Variable(np.ones(3, "float32"), name="w")
    g_marked = np.array([3.0, -2.0, 7.0], "float32")
    optimizer.apply([g_marked, np.ones(3, "float32")], [marked, plain])
    np.testing.assert_array_equal(marked.numpy(), g_marked)
    assert (plain.numpy() < 1.0).all()  # the other variable is updated as usual
    assert int(optimizer.iterations) == 1


def test_layer_weight_marked_by_add_weight():
    layer = keras.layers.Layer()
    weight = layer.add_weight((2,), "zeros", overwrite_with_gradient=True)
    keras.optimizers.SGD(0.1).apply([np.array([4.0, 5.0], "float32")], [weight])
    np.testing.assert_array_equal(weight.numpy(), [4.0, 5.0])
