"""The speed package's one switch: with it off, training runs on the engine and the primitives
as written (no plan, no kernels, no blocked updates) and gives the same results, to rounding."""

import numpy as np
import pytest

from chainrule import fast, keras, ops
from chainrule.engine import PRIMITIVES
from chainrule.fast import runtime, updates

rng = np.random.default_rng(0)


def _dense():
    return keras.Sequential(
        [
            keras.Input(shape=(20,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(4, activation="softmax"),
        ]
    )


def _convnet():
    return keras.Sequential(
        [
            keras.Input(shape=(10, 10, 2)),
            keras.layers.Conv2D(6, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.BatchNormalization(),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(4, activation="softmax"),
        ]
    )


class _Watch(keras.callbacks.Callback):
    """Records, at every batch, whether the kernels and a blocked update loop were in use."""

    def __init__(self):
        super().__init__()
        self.kernels, self.loops = set(), set()

    def on_train_batch_end(self, batch, logs=None):
        self.kernels.add(PRIMITIVES["conv2d"].kernel is not ops.conv2d.forward)
        self.loops.add(self.model.optimizer.update_loop is updates.update)


def _train(make, optimizer, x, y):
    keras.utils.set_random_seed(3)
    model = make()
    model.compile(optimizer, "categorical_crossentropy", metrics=["accuracy"])
    watch = _Watch()
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[watch])
    return model, history.history, watch


@pytest.mark.parametrize(
    "make, optimizer, shape",
    [(_dense, "sgd", (20,)), (_dense, "adam", (20,)), (_convnet, "rmsprop", (10, 10, 2))],
)
def test_training_with_the_switch_off_agrees_with_the_fast_path(make, optimizer, shape):
    x = rng.standard_normal((64, *shape)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 64)]
    fast_model, fast_history, fast_watch = _train(make, optimizer, x, y)
    with fast.disabled():
        plain_model, plain_history, plain_watch = _train(make, optimizer, x, y)

    assert fast_watch.kernels == {True} and fast_watch.loops == {True}
    assert plain_watch.kernels == {False} and plain_watch.loops == {False}
    assert fast_model._train_plans.plans and not plain_model._train_plans.plans
    # sums taken as products with ones round differently: agreement to float32 rounding
    for a, b in zip(fast_model.get_weights(), plain_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for name in fast_history:
        np.testing.assert_allclose(fast_history[name], plain_history[name], rtol=1e-4)


def test_kernels_are_in_place_only_while_a_training_call_runs():
    assert PRIMITIVES["conv2d"].kernel is ops.conv2d.forward
    assert PRIMITIVES["linear"].vjp_kernels is ops.linear.vjps
    model = _convnet()
    model.compile("sgd", "categorical_crossentropy")
    x = rng.standard_normal((8, 10, 10, 2)).astype(np.float32)
    model.fit(x, np.eye(4, dtype=np.float32)[rng.integers(0, 4, 8)], epochs=1, verbose=0)
    assert PRIMITIVES["conv2d"].kernel is ops.conv2d.forward
    assert PRIMITIVES["linear"].vjp_kernels is ops.linear.vjps
    assert not runtime.active()


def test_the_environment_turns_the_switch_off(monkeypatch):
    monkeypatch.setattr(runtime, "_enabled", None)
    monkeypatch.setenv("CHAINRULE_FAST", "0")
    assert not fast.enabled()
    monkeypatch.setattr(runtime, "_enabled", None)
    monkeypatch.setenv("CHAINRULE_FAST", "1")
    assert fast.enabled()
    previous = fast.set_enabled(False)
    assert previous is True and not fast.enabled()
    fast.set_enabled(True)


class _GatedByItsSign(keras.layers.Layer):
    """y = x * (x > 0): a float times a boolean computed from the batch, which the operator
    casts to float32 (Keras's promotion); a replayed step must cast each new batch's mask."""

    def call(self, x):
        return x * (x > 0)


def test_a_mask_cast_inside_a_users_layer_is_replayed_on_each_batch():
    def make():
        return keras.Sequential(
            [
                keras.Input(shape=(20,)),
                keras.layers.Dense(16),
                _GatedByItsSign(),
                keras.layers.Dense(4, activation="softmax"),
            ]
        )

    x = rng.standard_normal((64, 20)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 64)]
    fast_model, fast_history, _ = _train(make, "sgd", x, y)
    with fast.disabled():
        plain_model, plain_history, _ = _train(make, "sgd", x, y)
    assert fast_model._train_plans.plans
    for a, b in zip(fast_model.get_weights(), plain_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
