"""A layer called on several symbolic positional tensors (``layer(a, b)``) records them all."""

import numpy as np

import chainrule
import chainrule.keras as keras


class ScaledSum(keras.layers.Layer):
    def call(self, x, y, factor=1.0):
        return (x + y) * factor


class Bilinear(keras.layers.Layer):
    def build(self, x_shape, y_shape):
        self.w = self.add_weight((x_shape[-1], y_shape[-1]), "glorot_uniform")

    def call(self, x, y):
        return keras.ops.sum((x @ self.w) * y, axis=-1, keepdims=True)


def test_every_positional_tensor_is_recorded():
    a, b = keras.Input((3,)), keras.Input((3,))
    layer = ScaledSum()
    out = layer(a, b, 2.0)  # a Python value may stand among the arguments
    assert out.node.input_tensors == [a, b]
    assert layer.input == [a, b]
    model = keras.Model([a, b], out)
    x, y = np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")
    np.testing.assert_allclose(model([x, y]).numpy(), 6.0)


def test_build_sees_each_argument_and_gradients_reach_both_inputs():
    a, b = keras.Input((3,), dtype="float64"), keras.Input((2,), dtype="float64")
    layer = Bilinear(dtype="float64")
    model = keras.Model([a, b], layer(a, b))
    assert layer.w.shape == (3, 2)
    assert model.output.shape == (None, 1)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    np.testing.assert_allclose(
        model([x, y]).numpy(), ((x @ layer.w.numpy()) * y).sum(-1, keepdims=True)
    )
    assert chainrule.gradcheck(lambda u, v: model([u, v]), x, y)
    assert [id(w) for w in model.trainable_weights] == [id(layer.w)]
