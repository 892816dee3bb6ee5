"""tf.random_normal_initializer and tf.zeros_initializer, as TensorFlow 2 documents them: made
with their settings, called with a shape and a dtype, they return a Tensor of initial values."""

import numpy as np
import pytest

import chainrule as tf


def test_random_normal_initializer_defaults_and_draws():
    # TensorFlow: tf.random_normal_initializer(mean=0.0, stddev=0.05, seed=None)
    initializer = tf.random_normal_initializer()
    assert initializer.get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    values = initializer(shape=(400, 50), dtype="float32")
    assert isinstance(values, tf.Tensor) and values.shape == (400, 50)
    assert values.dtype == np.float32
    assert abs(float(np.mean(values.numpy()))) < 0.002
    assert float(np.std(values.numpy())) == pytest.approx(0.05, rel=0.02)
    assert initializer((3,)).dtype == np.float32  # TensorFlow's default dtype
    shifted = tf.random_normal_initializer(mean=1.0, stddev=2.0)(shape=[10000], dtype=tf.float64)
    assert shifted.dtype == np.float64
    assert float(np.mean(shifted.numpy())) == pytest.approx(1.0, abs=0.2)


def test_a_seeded_initializer_returns_the_same_values_on_every_call():
    # TensorFlow 2: with a seed, an initializer is deterministic (stateless draws)
    initializer = tf.random_normal_initializer(seed=7)
    np.testing.assert_array_equal(initializer((2, 3)).numpy(), initializer((2, 3)).numpy())
    again = tf.random_normal_initializer.from_config(initializer.get_config())
    np.testing.assert_array_equal(again((2, 3)).numpy(), initializer((2, 3)).numpy())
    unseeded = tf.random_normal_initializer()
    assert not np.array_equal(unseeded((2, 3)).numpy(), unseeded((2, 3)).numpy())


def test_zeros_initializer_takes_any_numeric_dtype():
    initializer = tf.zeros_initializer()
    assert initializer.get_config() == {}
    values = initializer(shape=(2, 3), dtype="float32")
    assert values.dtype == np.float32 and values.numpy().tolist() == [[0.0] * 3] * 2
    assert initializer((4,), tf.int32).dtype == np.int32
    assert initializer((2,)).dtype == np.float32


def test_dtypes_the_initializers_cannot_make_raise_naming_them():
    # TensorFlow: ValueError for a random normal of integers and for zeros of strings
    with pytest.raises(ValueError, match="random_normal_initializer: expected a floating point"):
        tf.random_normal_initializer()((2,), dtype=tf.int32)
    with pytest.raises(ValueError, match="zeros_initializer: expected a numeric or boolean"):
        tf.zeros_initializer()((2,), dtype=tf.string)


def test_the_researchers_guide_linear_layer_trains_with_variables_they_make():
    # keras-io "Intro to Keras for researchers": a layer whose weights are tf.Variables made by
    # the initializers, trained with a GradientTape
    w = tf.Variable(tf.random_normal_initializer()(shape=(2, 4), dtype="float32"))
    b = tf.Variable(tf.zeros_initializer()(shape=(4,), dtype="float32"))
    x = tf.ones((3, 2))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.matmul(x, w) + b)
    dw, db = tape.gradient(loss, [w, b])
    assert dw.numpy().tolist() == [[3.0] * 4] * 2 and db.numpy().tolist() == [3.0] * 4
