"""The TensorFlow vocabulary (``import chainrule as tf``): tensors and variables, tf.math, tf.nn,
the array functions, tf.random and tf.function, against closed forms, with their gradients
checked by finite differences, and the errors for bad inputs."""

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ----- tensors and variables ------------------------------------------------------------------


def test_constant_dtypes_follow_tensorflow():
    assert tf.constant(1.5).dtype == tf.float32
    assert tf.constant([1, 2]).dtype == tf.int32
    assert tf.constant(np.array([1.0])).dtype == tf.float64  # NumPy arrays keep their dtype
    assert tf.constant(True).dtype == tf.bool
    assert tf.constant(3, dtype=tf.float64).dtype == np.float64
    filled = tf.constant(7.0, shape=(2, 3))
    np.testing.assert_array_equal(filled.numpy(), np.full((2, 3), 7.0, np.float32))
    np.testing.assert_array_equal(tf.constant([1, 2, 3, 4], shape=[2, 2]).numpy(), [[1, 2], [3, 4]])
    v = tf.Variable([1.0, 2.0])
    snapshot = tf.constant(v)
    v.assign([5.0, 6.0])
    np.testing.assert_array_equal(snapshot.numpy(), [1.0, 2.0])


def test_convert_to_tensor_returns_tensors_as_they_are_and_converts_the_rest():
    t = tf.constant([1.0, 2.0])
    assert tf.convert_to_tensor(t) is t
    converted = tf.convert_to_tensor([[1.0, 2.0]])
    assert isinstance(converted, tf.Tensor) and converted.shape == (1, 2)
    assert tf.convert_to_tensor(3, dtype_hint=tf.float32).dtype == np.float32


def test_variable_assign_and_numpy():
    v = tf.Variable([[1.0, 2.0]], name="w")
    assert v.trainable and v.dtype == np.float32 and v.requires_grad
    v.assign([[3.0, 4.0]])
    v.assign_add([[1.0, 1.0]])
    v.assign_sub(tf.constant([[0.5, 0.5]]))
    np.testing.assert_array_equal(v.numpy(), [[3.5, 4.5]])
    assert not tf.Variable(1.0, trainable=False).trainable


def test_cast_truncates_toward_zero_and_is_differentiable_between_floats():
    np.testing.assert_array_equal(tf.cast([1.7, -1.7, 0.2], tf.int32).numpy(), [1, -1, 0])
    assert tf.cast([0.0, 2.0], tf.bool).numpy().tolist() == [False, True]
    x = tf.Variable(randn(3, 2))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.cast(x, tf.float32) * 3.0)
    g = tape.gradient(y, x)
    assert g.dtype == np.float64 and np.all(g.numpy() == 3.0)  # dy/dx = 3, cast back


def test_zeros_ones_fill_range_and_like():
    assert tf.zeros((2, 3)).dtype == np.float32 and not tf.zeros([2, 3]).numpy().any()
    assert tf.ones(4, dtype=tf.int64).numpy().tolist() == [1, 1, 1, 1]
    x = tf.constant(np.arange(6.0).reshape(2, 3))
    assert tf.zeros_like(x).dtype == np.float64 and tf.ones_like(x, dtype="int32").sum() == 6
    np.testing.assert_array_equal(tf.fill([2, 2], 9).numpy(), [[9, 9], [9, 9]])
    assert tf.range(5).numpy().tolist() == [0, 1, 2, 3, 4] and tf.range(5).dtype == tf.int32
    np.testing.assert_allclose(tf.range(1.0, 2.0, 0.25).numpy(), [1.0, 1.25, 1.5, 1.75])


def test_layers_losses_and_models_called_eagerly_return_tensors():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(3)])
    out = model(np.ones((2, 4)))
    assert isinstance(out, tf.Tensor) and out.numpy().shape == (2, 3)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)([0, 2], out.numpy())
    expected = -np.log(softmax(out.numpy())[[0, 1], [0, 2]]).mean()
    assert isinstance(loss, tf.Tensor) and loss.numpy() == pytest.approx(expected, rel=1e-6)
    assert all(isinstance(w, tf.Variable) for w in model.trainable_weights)


def test_metric_results_are_scalar_tensors():
    metric = keras.metrics.SparseCategoricalAccuracy()
    metric.update_state([0, 1, 1], np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]))
    result = metric.result()
    assert result.numpy() == pytest.approx(2 / 3) and result.numpy().dtype == np.float32
    assert float(result) == pytest.approx(2 / 3) and f"{result:.4f}" == "0.6667"
    mean = keras.metrics.Mean()
    mean(tf.constant(2.0))
    mean(4.0)
    assert float(mean.result()) == 3.0
    mean.reset_state()
    assert float(mean.result()) == 0.0


# ----- tf.math ----------------------------------------------------------------------------------


def test_reductions_against_numpy_with_axis_lists_and_keepdims():
    x = randn(2, 3, 4)
    cases = [
        (tf.reduce_sum, np.sum),
        (tf.reduce_mean, np.mean),
        (tf.reduce_max, np.max),
        (tf.math.reduce_min, np.min),
    ]
    for ours, theirs in cases:
        np.testing.assert_allclose(ours(x).numpy(), theirs(x))
        np.testing.assert_allclose(ours(x, axis=[0, 2]).numpy(), theirs(x, axis=(0, 2)))
        np.testing.assert_allclose(
            ours(x, axis=1, keepdims=True).numpy(), theirs(x, axis=1, keepdims=True)
        )
        tf.gradcheck(lambda t, f=ours: f(t, axis=[0, 2]), x)
    lse = tf.reduce_logsumexp(x, axis=-1).numpy()
    np.testing.assert_allclose(lse, np.log(np.exp(x).sum(axis=-1)))
    tf.gradcheck(lambda t: tf.reduce_logsumexp(t), x)


@pytest.mark.parametrize(
    "ours, closed_form, make",
    [
        (tf.exp, np.exp, randn),
        (tf.math.log, np.log, lambda *s: rng.uniform(0.5, 2.0, s)),
        (tf.sqrt, np.sqrt, lambda *s: rng.uniform(0.5, 2.0, s)),
        (tf.square, np.square, randn),
        (tf.abs, np.abs, lambda *s: rng.uniform(0.2, 1.0, s) * rng.choice([-1, 1], s)),
        (tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)), randn),
        (tf.tanh, np.tanh, randn),
        (tf.math.softplus, lambda x: np.log1p(np.exp(x)), randn),
        (tf.negative, np.negative, randn),
    ],
)
def test_elementwise_functions_match_closed_forms_and_their_gradients(ours, closed_form, make):
    x = make(3, 4)
    np.testing.assert_allclose(ours(x).numpy(), closed_form(x), rtol=1e-12)
    tf.gradcheck(ours, x)


def test_binary_functions_broadcast_and_keep_python_scalars_from_upcasting():
    x, y = randn(3, 4), randn(4)
    for ours, theirs in [
        (tf.maximum, np.maximum),
        (tf.minimum, np.minimum),
        (tf.math.add, np.add),
        (tf.math.subtract, np.subtract),
        (tf.math.multiply, np.multiply),
    ]:
        np.testing.assert_allclose(ours(x, y).numpy(), theirs(x, y))
        tf.gradcheck(ours, x, y)
    assert tf.maximum(tf.constant([1.0, -1.0]), 0.0).dtype == np.float32
    assert tf.equal([1, 2, 3], [1, 0, 3]).numpy().tolist() == [True, False, True]


def test_matmul_with_transposes():
    a, b = randn(2, 3, 4), randn(2, 5, 4)
    np.testing.assert_allclose(tf.matmul(a, b, transpose_b=True).numpy(), a @ b.swapaxes(-1, -2))
    np.testing.assert_allclose(
        tf.matmul(a.swapaxes(-1, -2), b, transpose_a=True, transpose_b=True).numpy(),
        a @ b.swapaxes(-1, -2),
    )
    tf.gradcheck(lambda p, q: tf.matmul(p, q, transpose_b=True), a, b)


def test_argmax_defaults_to_axis_0_and_int64():
    x = np.array([[1.0, 9.0, 3.0], [7.0, 2.0, 8.0]])
    assert tf.argmax(x).numpy().tolist() == [1, 0, 1] and tf.argmax(x).dtype == tf.int64
    assert tf.argmax(x, axis=1).numpy().tolist() == [1, 2]
    assert tf.math.argmin(x, axis=-1, output_type=tf.int32).dtype == tf.int32


def test_accuracy_the_tensorflow_way():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [5.0, 1.0]])
    labels = tf.constant([0, 1, 1], dtype=tf.int64)
    correct = tf.equal(tf.argmax(logits, axis=1), labels)
    assert float(tf.reduce_mean(tf.cast(correct, tf.float32))) == pytest.approx(2 / 3)


# ----- array functions --------------------------------------------------------------------------


def test_shape_functions_and_their_gradients():
    x = randn(2, 3, 4)
    np.testing.assert_array_equal(tf.reshape(x, [4, -1]).numpy(), x.reshape(4, -1))
    np.testing.assert_array_equal(tf.transpose(x, perm=[2, 0, 1]).numpy(), x.transpose(2, 0, 1))
    np.testing.assert_array_equal(tf.transpose(x).numpy(), x.T)
    np.testing.assert_array_equal(tf.concat([x, x], axis=1).numpy(), np.concatenate([x, x], 1))
    np.testing.assert_array_equal(tf.stack([x, x], axis=-1).numpy(), np.stack([x, x], -1))
    assert tf.squeeze(tf.expand_dims(x, 0)).shape == x.shape
    np.testing.assert_array_equal(tf.where(x > 0, x, 0.0).numpy(), np.where(x > 0, x, 0.0))
    tf.gradcheck(lambda t: tf.transpose(tf.reshape(t, (4, 6)), perm=[1, 0]), x)
    tf.gradcheck(lambda a, b: tf.concat([a, b], axis=0), randn(2, 3), randn(1, 3))
    tf.gradcheck(lambda a, b: tf.stack([a, b], axis=1), randn(2, 3), randn(2, 3))


def test_one_hot_values_axis_and_out_of_range_indices():
    np.testing.assert_array_equal(
        tf.one_hot([0, 2, 5], 3).numpy(), [[1, 0, 0], [0, 0, 1], [0, 0, 0]]
    )  # 5 >= depth: all off
    hot = tf.one_hot([1, 0], 3, on_value=5.0, off_value=-1.0, axis=0)
    np.testing.assert_array_equal(hot.numpy(), [[-1, 5], [5, -1], [-1, -1]])
    assert tf.one_hot([1], 2, dtype=tf.int32).dtype == tf.int32


# ----- tf.nn --------------------------------------------------------------------------------------


def test_softmax_and_log_softmax_closed_forms_and_gradients():
    z = randn(3, 5)
    np.testing.assert_allclose(tf.nn.softmax(z).numpy(), softmax(z), rtol=1e-12)
    np.testing.assert_allclose(tf.nn.softmax(z, axis=0).numpy(), softmax(z, 0), rtol=1e-12)
    np.testing.assert_allclose(tf.nn.log_softmax(z).numpy(), np.log(softmax(z)), rtol=1e-12)
    for fn in (tf.nn.softmax, tf.nn.log_softmax, lambda t: tf.nn.softmax(t, axis=0)):
        tf.gradcheck(fn, z)


@pytest.mark.parametrize(
    "ours, closed_form",
    [
        (tf.nn.relu, lambda x: np.maximum(x, 0)),
        (tf.nn.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
        (tf.nn.tanh, np.tanh),
        (tf.nn.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
        (tf.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x)),
    ],
)
def test_activations_match_closed_forms_and_their_gradients(ours, closed_form):
    x = rng.uniform(0.2, 2.0, (4, 3)) * rng.choice([-1, 1], (4, 3))
    np.testing.assert_allclose(ours(x).numpy(), closed_form(x), rtol=1e-12)
    tf.gradcheck(ours, x)


def test_cross_entropies_from_logits_match_closed_forms_and_their_gradients():
    z = randn(4, 5)
    labels = softmax(randn(4, 5))
    dense = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=z)
    np.testing.assert_allclose(dense.numpy(), -(labels * np.log(softmax(z))).sum(-1), rtol=1e-12)
    tf.gradcheck(lambda t, p: tf.nn.softmax_cross_entropy_with_logits(p, t), z, labels)

    classes = np.array([0, 4, 2, 2])
    sparse = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=classes, logits=z)
    np.testing.assert_allclose(
        sparse.numpy(), -np.log(softmax(z)[np.arange(4), classes]), rtol=1e-12
    )
    tf.gradcheck(lambda t: tf.nn.sparse_softmax_cross_entropy_with_logits(classes, t), z)

    targets = rng.uniform(0, 1, (4, 5))
    binary = tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=z)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(
        binary.numpy(), -(targets * np.log(p) + (1 - targets) * np.log(1 - p)), rtol=1e-10
    )
    tf.gradcheck(lambda t, y: tf.nn.sigmoid_cross_entropy_with_logits(y, t), z, targets)
    assert float(tf.nn.l2_loss(np.array([3.0, 4.0]))) == 12.5


# ----- tf.random, tf.function, the module ------------------------------------------------------


def test_random_draws_have_the_asked_shape_dtype_and_seed():
    tf.random.set_seed(3)
    a = tf.random.normal((200, 50), mean=1.0, stddev=2.0)
    tf.random.set_seed(3)
    b = tf.random.normal([200, 50], mean=1.0, stddev=2.0)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype == np.float32 and a.numpy().mean() == pytest.approx(1.0, abs=0.05)
    assert a.numpy().std() == pytest.approx(2.0, rel=0.03)
    u = tf.random.uniform((1000,), minval=-1.0, maxval=3.0, dtype=tf.float64)
    assert u.dtype == np.float64 and -1.0 <= u.numpy().min() and u.numpy().max() < 3.0
    k = tf.random.uniform((1000,), maxval=4, dtype=tf.int32)
    assert k.dtype == np.int32 and set(k.numpy().tolist()) == {0, 1, 2, 3}


def test_function_decorator_runs_the_function_on_every_call():
    calls = []

    @tf.function
    def double(x):
        calls.append(1)
        return x * 2

    @tf.function(jit_compile=True, reduce_retracing=True)
    def square(x):
        return x * x

    assert float(double(tf.constant(2.0))) == 4.0 and float(double(3.0)) == 6.0
    assert len(calls) == 2 and double.__name__ == "double" and double.python_function
    assert float(square(tf.constant(3.0))) == 9.0


def test_the_module_speaks_tensorflow():
    assert isinstance(tf.__version__, str)
    for name in [
        "GradientTape",
        "Variable",
        "constant",
        "nn",
        "math",
        "random",
        "function",
        "reduce_sum",
        "one_hot",
        "concat",
        "zeros_like",
        "keras",
        "float32",
    ]:
        assert hasattr(tf, name), name


# ----- bad inputs -------------------------------------------------------------------------------


def test_bad_inputs_get_clear_errors():
    z = randn(4, 3)
    with pytest.raises(
        ValueError,
        match=r"labels of shape \(4, 1\) do not fit logits of shape "
        r"\(4, 3\).*\(4,\)",
    ):
        tf.nn.sparse_softmax_cross_entropy_with_logits(np.zeros((4, 1), int), z)
    with pytest.raises(TypeError, match="labels must be integer class indices; got dtype float64"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(np.zeros(4), z)
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 3\)"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(np.array([0, 1, 2, 3]), z)
    with pytest.raises(ValueError, match=r"labels of shape \(4, 2\) and logits of shape \(4, 3\)"):
        tf.nn.softmax_cross_entropy_with_logits(np.zeros((4, 2)), z)
    with pytest.raises(TypeError, match="one_hot: indices must be integers; got dtype float32"):
        tf.one_hot([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="requested dtype float64 for a Tensor of dtype float32"):
        tf.convert_to_tensor(tf.constant(1.0), dtype=tf.float64)
    with pytest.raises(
        ValueError,
        match=r"shape \(3,\) \(3 elements\) does not fit "
        r"shape=\(2, 2\)",
    ):
        tf.constant([1, 2, 3], shape=(2, 2))
    with pytest.raises(ValueError, match="integer dtype \\(int32\\) needs maxval"):
        tf.random.uniform((2,), dtype=tf.int32)
    with pytest.raises(TypeError, match="unexpected keyword arguments: \\['jit'\\]"):
        tf.function(jit=True)
    with pytest.raises(ValueError, match="where: give both x and y"):
        tf.where(np.array([True]))
    with pytest.raises(ValueError, match="matmul: inner dimensions differ"):
        tf.matmul(np.ones((2, 3)), np.ones((2, 3)))
