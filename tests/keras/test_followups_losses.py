"""Activity penalties go through add_loss, as Keras adds them after each call, and an outermost
functional call clears the losses of the previous one."""

import numpy as np

import chainrule.keras as keras
from chainrule.keras import layers


class AddsLoss(layers.Layer):
    def call(self, inputs):
        self.add_loss(keras.ops.sum(inputs))
        return inputs


def test_functional_call_clears_the_previous_losses():
    x = keras.Input((2,))
    shared = AddsLoss()
    model = keras.Model(x, shared(shared(x)))  # both calls' losses count
    data = np.ones((3, 2), "float32")
    model(data)
    model(2 * data)
    np.testing.assert_allclose([loss.numpy() for loss in model.losses], [12.0, 12.0])


def test_activity_penalty_is_an_added_loss_per_call():
    dense = layers.Dense(
        2, kernel_initializer="ones", use_bias=False, activity_regularizer=keras.regularizers.L1(1)
    )
    x = keras.Input((2,))
    model = keras.Model(x, dense(dense(x)))  # one layer, two calls: two penalties
    model(np.ones((4, 2), "float32"))
    # first call: y = [2, 2] per sample, L1 = 16 / 4 = 4; second: y = [4, 4], 32 / 4 = 8
    np.testing.assert_allclose(sorted(float(loss.numpy()) for loss in model.losses), [4.0, 8.0])
    assert not hasattr(dense, "_activity_losses")


def test_any_layer_takes_an_activity_regularizer():
    layer = layers.Layer(activity_regularizer="l2")  # the identity, penalised
    layer(np.full((2, 3), 2.0, "float32"))
    # Keras: l2 = 0.01 * sum(y²) / batch = 0.01 * 24 / 2
    np.testing.assert_allclose(layer.losses[0].numpy(), 0.12, rtol=1e-6)
    assert layer.get_config()["activity_regularizer"]["class_name"] == "L2"
    assert "activity_regularizer" not in layers.ActivityRegularization(l1=0.1).get_config()


def test_sequential_losses_are_the_layers_losses_once():
    shared = layers.Dense(2, kernel_regularizer=keras.regularizers.L2(0.5))
    model = keras.Sequential([keras.Input((2,)), shared, AddsLoss()])
    model(np.ones((1, 2), "float32"))
    assert len(model.losses) == 2  # the added loss and the kernel's penalty
