"""tf.random (truncated_normal, shuffle, categorical, Generator), tf.debugging's checks and
tf.print: distributions, seeding, dtypes, the errors raised and the printed text."""

import sys

import numpy as np
import pytest

import chainrule as tf


def test_truncated_normal_stays_within_two_standard_deviations():
    x = tf.random.truncated_normal((20000,), mean=3.0, stddev=2.0, seed=1).numpy()
    assert x.dtype == np.float32
    assert x.min() >= 3.0 - 4.0 and x.max() <= 3.0 + 4.0
    # N(0, 1) truncated to [-2, 2] has standard deviation 0.8796 (closed form)
    assert abs(x.mean() - 3.0) < 0.05 and abs(x.std() - 2 * 0.8796) < 0.05
    np.testing.assert_array_equal(
        tf.random.truncated_normal((3,), seed=5).numpy(),
        tf.random.truncated_normal((3,), seed=5).numpy(),
    )
    with pytest.raises(ValueError, match="random.truncated_normal: dtype must be floating"):
        tf.random.truncated_normal((2,), dtype=tf.int32)


def test_shuffle_permutes_the_first_axis():
    x = np.arange(12).reshape(6, 2)
    y = tf.random.shuffle(x, seed=0).numpy()
    assert sorted(y[:, 0].tolist()) == [0, 2, 4, 6, 8, 10]
    np.testing.assert_array_equal(y[:, 1] - y[:, 0], 1)  # rows move whole


def test_categorical_frequencies_follow_softmax():
    logits = np.log([[0.2, 0.8], [0.9, 0.1]])
    draws = tf.random.categorical(logits, 4000, seed=2)
    assert draws.dtype == tf.int64 and draws.shape == (2, 4000)
    assert abs(draws.numpy()[0].mean() - 0.8) < 0.03
    assert abs(draws.numpy()[1].mean() - 0.1) < 0.03
    assert tf.random.categorical(logits, 3, dtype=tf.int32).dtype == tf.int32


def test_set_seed_replays_the_global_draws():
    tf.random.set_seed(11)
    a = tf.random.uniform((4,)).numpy()
    tf.random.set_seed(11)
    np.testing.assert_array_equal(a, tf.random.uniform((4,)).numpy())


def test_generator_replays_from_its_seed_and_leaves_the_global_one_alone():
    tf.random.set_seed(0)
    expected_global = tf.random.normal((3,)).numpy()
    tf.random.set_seed(0)
    g = tf.random.Generator.from_seed(42)
    first = g.normal(shape=(2, 3))
    assert first.dtype == tf.float32 and first.shape == (2, 3)
    np.testing.assert_array_equal(tf.random.normal((3,)).numpy(), expected_global)
    h = tf.random.Generator.from_seed(42)
    np.testing.assert_array_equal(h.normal(shape=(2, 3)).numpy(), first.numpy())
    ints = g.uniform((100,), minval=0, maxval=5, dtype=tf.int32).numpy()
    assert ints.dtype == np.int32 and ints.min() >= 0 and ints.max() < 5
    assert np.abs(g.truncated_normal((100,)).numpy()).max() <= 2


def test_random_keeps_the_core_generator_names():
    # chainrule.random is the facade's tf.random: the core's functions stay reachable there
    assert tf.random.generator() is tf.random.generator()
    state = tf.random.get_state()
    a = tf.random.uniform((2,)).numpy()
    tf.random.set_state(state)
    np.testing.assert_array_equal(a, tf.random.uniform((2,)).numpy())


def test_assertions_pass_quietly_and_fail_with_the_values():
    assert tf.debugging.assert_equal([1, 2], [1, 2]) is None
    tf.debugging.assert_less(tf.constant([1.0, 2.0]), 3.0)
    tf.assert_rank(tf.ones((2, 3)), 2)
    tf.debugging.assert_positive([1, 2])
    tf.debugging.assert_near([1.0, 2.0], [1.0, 2.0 + 1e-7])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"x == y .* x\(1,\)=2 y=3"):
        tf.debugging.assert_equal([1, 2], [1, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="shapes differ: assert_greater"):
        tf.debugging.assert_greater([1, 0], 0, message="shapes differ")
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected rank 3, got 2"):
        tf.debugging.assert_rank(tf.ones((2, 3)), 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="assert_near failed"):
        tf.debugging.assert_near([1.0], [1.1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="assert_non_negative"):
        tf.debugging.assert_non_negative([0.0, -1.0])
    with pytest.raises(TypeError, match="expected dtype int32, got float32"):
        tf.debugging.assert_type(tf.ones(2), tf.int32)
    with pytest.raises(ValueError, match="do not broadcast"):
        tf.debugging.assert_equal([1, 2], [1, 2, 3])


def test_check_numerics_names_nan_and_inf():
    x = tf.constant([1.0, 2.0])
    assert tf.debugging.check_numerics(x, "ok") is x
    with pytest.raises(tf.errors.InvalidArgumentError, match="loss: check_numerics .* NaN and Inf"):
        tf.debugging.check_numerics(np.array([np.nan, np.inf]), "loss")


def test_print_writes_tensorflow_style_text(capsys):
    tf.print(tf.constant([1.0, 2.5]), "step", tf.constant(3))
    assert capsys.readouterr().err == "[1 2.5] step 3\n"
    tf.print(tf.range(10), output_stream=sys.stdout)
    assert capsys.readouterr().out == "[0 1 2 ... 7 8 9]\n"
    tf.print(tf.range(6), summarize=-1, sep=",", end="!\n")
    assert capsys.readouterr().err == "[0 1 2 3 4 5]!\n"
