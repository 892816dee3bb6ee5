"""More of tf.math and tf.nn (the names TensorFlow programs reach for that the facade lacked:
rounding, predicates, logical ops, the safe and integer divisions, norms, activations,
embedding_lookup, batch_normalization): values against closed forms and against values printed
by TensorFlow 2.21, gradients by finite differences in float64, broadcasting included."""

import math

import numpy as np
import pytest

import chainrule as tf
from chainrule import gradcheck

rng = np.random.default_rng(3)


def randn(*shape):
    return rng.standard_normal(shape)


def test_rounding_predicates_and_logical_ops():
    # TensorFlow rounds halves to even: tf.round([0.5, 1.5, 2.5, -0.5]) is [0, 2, 2, -0]
    np.testing.assert_array_equal(tf.round([0.5, 1.5, 2.5, -0.5]).numpy(), [0, 2, 2, -0.0])
    np.testing.assert_array_equal(tf.math.rint([0.5, 1.5]).numpy(), [0, 2])
    np.testing.assert_array_equal(tf.math.ceil([-1.5, 1.2]).numpy(), [-1, 2])
    x = np.array([1.0, np.nan, np.inf, -np.inf])
    assert tf.math.is_nan(x).numpy().tolist() == [False, True, False, False]
    assert tf.math.is_inf(x).numpy().tolist() == [False, False, True, True]
    assert tf.math.is_finite(x).numpy().tolist() == [True, False, False, False]
    a, b = [True, True, False], [True, False, False]
    assert tf.logical_and(a, b).numpy().tolist() == [True, False, False]
    assert tf.logical_or(a, b).numpy().tolist() == [True, True, False]
    assert tf.math.logical_xor(a, b).numpy().tolist() == [False, True, False]
    assert tf.logical_not(a).numpy().tolist() == [False, False, True]


def test_divisions_keep_tensorflows_signs_and_dtypes():
    # floormod takes the sign of the divisor, as Python's %: tf.math.floormod([-3., 3.], 2.)
    np.testing.assert_array_equal(tf.math.floormod([-3.0, 3.0], 2.0).numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(tf.math.mod([-7, 7], [3, -3]).numpy(), [2, -2])
    np.testing.assert_array_equal(tf.math.floordiv([-7, 7], [2, 2]).numpy(), [-4, 3])
    # integers divide as float64 (int32), Python numbers as int32
    half = tf.truediv(3, 2)
    assert half.dtype == np.float64 and float(half) == 1.5
    assert tf.truediv(np.int8(3), np.int8(2)).dtype == np.float32
    np.testing.assert_array_equal(tf.math.divide_no_nan([1.0, 2.0], [0.0, 4.0]).numpy(), [0, 0.5])
    np.testing.assert_array_equal(tf.math.divide_no_nan(0.0, 0.0).numpy(), 0.0)
    # the gradient of divide_no_nan is 0 where the divisor is 0, not NaN
    x, y = tf.Variable([1.0, 2.0]), tf.Variable([0.0, 4.0])
    with tf.GradientTape() as tape:
        z = tf.reduce_sum(tf.math.divide_no_nan(x, y))
    dx, dy = tape.gradient(z, [x, y])
    np.testing.assert_allclose(dx.numpy(), [0.0, 0.25])
    np.testing.assert_allclose(dy.numpy(), [0.0, -2.0 / 16])


def test_sums_counts_and_norms():
    np.testing.assert_array_equal(tf.add_n([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).numpy(), [9, 12])
    with pytest.raises(ValueError, match="add_n: inputs must be a non-empty list"):
        tf.add_n([[1.0], [1.0, 2.0]])
    np.testing.assert_array_equal(tf.scalar_mul(3.0, [1.0, 2.0]).numpy(), [3.0, 6.0])
    x = np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]])
    count = tf.math.count_nonzero(x, axis=0)
    assert count.dtype == np.int64 and count.numpy().tolist() == [1, 1, 1]
    assert tf.math.count_nonzero(x, axis=1, keepdims=True).numpy().tolist() == [[2], [1]]
    assert int(tf.math.count_nonzero(x)) == 3
    assert tf.math.count_nonzero(x, dtype=tf.int32).dtype == np.int32
    np.testing.assert_allclose(tf.math.reduce_euclidean_norm(x).numpy(), np.sqrt(14.0))
    np.testing.assert_allclose(
        tf.math.reduce_euclidean_norm(x, axis=1, keepdims=True).numpy(), [[np.sqrt(5)], [3]]
    )
    # tf.math.l2_normalize([[3., 4.], [0., 0.]], axis=1): a zero row stays zero
    for normalize in (tf.math.l2_normalize, tf.nn.l2_normalize):
        np.testing.assert_allclose(
            normalize([[3.0, 4.0], [0.0, 0.0]], axis=1).numpy(), [[0.6, 0.8], [0.0, 0.0]]
        )
    v = randn(2, 3)
    np.testing.assert_allclose(tf.math.l2_normalize(v).numpy(), v / np.linalg.norm(v))


@pytest.mark.parametrize(
    "ours, closed_form",
    [
        (tf.math.rsqrt, lambda x: 1 / np.sqrt(x)),
        (tf.math.reciprocal, lambda x: 1 / x),
        (tf.math.log_sigmoid, lambda x: -np.log1p(np.exp(-x))),
        (tf.math.softsign, lambda x: x / (1 + np.abs(x))),
        (tf.nn.softsign, lambda x: x / (1 + np.abs(x))),
        (tf.nn.relu6, lambda x: np.clip(x, 0, 6)),
        (
            tf.nn.selu,
            lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
        ),
        (tf.nn.silu, lambda x: x / (1 + np.exp(-x))),
        (lambda x: tf.nn.swish(x, beta=2.0), lambda x: x / (1 + np.exp(-2 * x))),
        (tf.nn.gelu, lambda x: x * (1 + np.vectorize(math.erf)(x / np.sqrt(2))) / 2),
        (
            lambda x: tf.nn.gelu(x, approximate=True),
            lambda x: x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))) / 2,
        ),
        (lambda x: tf.math.reduce_euclidean_norm(x, axis=1), lambda x: np.sqrt((x * x).sum(1))),
        (
            lambda x: tf.nn.l2_normalize(x, axis=-1),
            lambda x: x / np.linalg.norm(x, axis=-1)[:, None],
        ),
    ],
)
def test_functions_match_closed_forms_and_their_gradients(ours, closed_form):
    x = np.abs(randn(3, 4)) + 0.5 if ours is tf.math.rsqrt else randn(3, 4) * 3
    if ours is tf.nn.relu6:  # away from the kinks at 0 and 6
        x = np.where(np.abs(x) < 0.1, 0.5, np.where(np.abs(x - 6) < 0.1, 5.5, x))
    np.testing.assert_allclose(ours(x).numpy(), closed_form(x), rtol=1e-12, atol=1e-14)
    gradcheck(ours, x)


def test_binary_compositions_broadcast_and_differentiate_in_both_arguments():
    x, y = randn(3, 4), randn(4) + 3.0
    np.testing.assert_allclose(tf.math.squared_difference(x, y).numpy(), (x - y) ** 2)
    gradcheck(tf.math.squared_difference, x, y)
    np.testing.assert_allclose(tf.math.floormod(x, y).numpy(), np.mod(x, y))
    gradcheck(tf.math.floormod, x * 5, y)  # d/dy = -floor(x / y), away from the jumps
    np.testing.assert_allclose(tf.math.divide_no_nan(x, y).numpy(), x / y)
    gradcheck(tf.math.divide_no_nan, x, y)


def test_embedding_lookup_picks_rows_clips_them_and_adds_the_gradient_back():
    params = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    rows = tf.nn.embedding_lookup(params, [[2, 0]])
    np.testing.assert_array_equal(rows.numpy(), [[[5.0, 6.0], [1.0, 2.0]]])
    np.testing.assert_array_equal(tf.nn.embedding_lookup([params], [1]).numpy(), [[3.0, 4.0]])
    with pytest.raises(ValueError, match="2 shards is not supported"):
        tf.nn.embedding_lookup([params, params], [1])
    # max_norm scales a longer embedding down to that norm: [3, 4] -> [0.6, 0.8]
    table = np.array([[3.0, 4.0], [0.3, 0.4]])
    clipped = tf.nn.embedding_lookup(table, [0, 1], max_norm=1.0)
    np.testing.assert_allclose(clipped.numpy(), [[0.6, 0.8], [0.3, 0.4]])
    p = tf.Variable(randn(4, 3))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.nn.embedding_lookup(p, [1, 3, 1]) * [[1.0], [2.0], [3.0]])
    np.testing.assert_allclose(tape.gradient(y, p).numpy(), [[0] * 3, [4] * 3, [0] * 3, [2] * 3])
    gradcheck(lambda t: tf.nn.embedding_lookup(t, [[0, 2], [2, 3]], max_norm=0.5), randn(4, 3))


def test_batch_normalization_compute_average_loss_and_zero_fraction():
    # tf.nn.batch_normalization([1., 2.], 1.5, 0.25, 0.1, 2.0, 1e-3) in TensorFlow
    y = tf.nn.batch_normalization(tf.constant([1.0, 2.0]), 1.5, 0.25, 0.1, 2.0, 1e-3)
    np.testing.assert_allclose(y.numpy(), [-1.8960121, 2.096012], rtol=1e-6)
    x, mean, var, offset, scale = randn(5, 3), randn(3), np.abs(randn(3)) + 0.5, randn(3), randn(3)
    expected = (x - mean) / np.sqrt(var + 1e-3) * scale + offset
    normalize = lambda *a: tf.nn.batch_normalization(*a, variance_epsilon=1e-3)  # noqa: E731
    np.testing.assert_allclose(normalize(x, mean, var, offset, scale).numpy(), expected)
    np.testing.assert_allclose(
        tf.nn.batch_normalization(x, mean, var, None, None, 1e-3).numpy(),
        (x - mean) / np.sqrt(var + 1e-3),
    )
    gradcheck(normalize, x, mean, var, offset, scale)
    losses = tf.constant([1.0, 2.0, 3.0])
    np.testing.assert_allclose(tf.nn.compute_average_loss(losses).numpy(), 2.0)
    np.testing.assert_allclose(tf.nn.compute_average_loss(losses, global_batch_size=6), 1.0)
    weighted = tf.nn.compute_average_loss(losses, sample_weight=[1.0, 0.0, 2.0])
    np.testing.assert_allclose(weighted.numpy(), 7.0 / 3)
    assert float(tf.nn.zero_fraction([0.0, 1.0, 0.0, 2.0])) == 0.5
    values, indices = tf.nn.top_k([1.0, 3.0, 2.0], k=2)
    assert values.numpy().tolist() == [3.0, 2.0] and indices.numpy().tolist() == [1, 2]
