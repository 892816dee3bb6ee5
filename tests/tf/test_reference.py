"""chainrule's TensorFlow vocabulary against TensorFlow itself: the values and GradientTape
gradients that tests/fixtures/tf_api/make_fixtures.py recorded with TensorFlow, reproduced by
running the same code with ``tf`` bound to chainrule."""

import importlib.util
import pathlib

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "tf_api"
_spec = importlib.util.spec_from_file_location(
    "make_tf_api_fixtures", FIXTURES / "make_fixtures.py"
)
make_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_fixtures)
RECORDED = np.load(FIXTURES / "tf_api.npz")
CASES = make_fixtures.cases(tf)
# TensorFlow keeps leaky_relu's alpha = 0.2 as a float32 (0.2000000030) also for float64
# features; chainrule uses 0.2 in the features' dtype.
RTOL = {"leaky_relu": 2e-8}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_tape_gradients_match_tensorflow(name):
    fn, shapes, integers = CASES[name]
    inputs = [tf.constant(RECORDED[f"{name}/x{i}"]) for i in range(len(shapes))]
    with tf.GradientTape() as tape:
        for i, t in enumerate(inputs):
            if i not in integers:
                tape.watch(t)
        y = fn(*inputs)
        loss = tf.reduce_sum(y * RECORDED[f"{name}/g"])
    grads = tape.gradient(loss, inputs)
    rtol = RTOL.get(name, 1e-12)
    np.testing.assert_allclose(y.numpy(), RECORDED[f"{name}/y"], rtol=rtol, atol=1e-14)
    for i, g in enumerate(grads):
        if i in integers:
            assert g is None
        else:
            np.testing.assert_allclose(
                g.numpy(), RECORDED[f"{name}/dx{i}"], rtol=max(rtol, 1e-10), atol=1e-13
            )


def test_functional_model_outputs_loss_and_gradients_match_keras_on_tensorflow():
    model = make_fixtures.functional_model(keras)
    count = len(model.trainable_weights)
    model.set_weights([RECORDED[f"model/w{i}"] for i in range(count)])
    with tf.GradientTape() as tape:
        y = model([RECORDED["model/a"], RECORDED["model/b"]])
        loss = tf.reduce_mean(tf.square(y - RECORDED["model/t"]))
    grads = tape.gradient(loss, model.trainable_weights)
    np.testing.assert_allclose(y.numpy(), RECORDED["model/y"], rtol=1e-12)
    assert float(loss) == pytest.approx(float(RECORDED["model/loss"]), rel=1e-12)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g.numpy(), RECORDED[f"model/dw{i}"], rtol=1e-10, atol=1e-14)
