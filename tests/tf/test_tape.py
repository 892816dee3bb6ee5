"""GradientTape: its gradients are the engine's (equal to backward()'s and to finite
differences on functional and subclassed models), TensorFlow's semantics for watching,
persistence, unconnected sources and nesting, and the errors for bad calls."""

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

F64 = {"dtype": "float64"}


def functional_model(seed):
    """Two inputs, two branches joined by Add, Multiply and Concatenate (float64)."""
    keras.utils.set_random_seed(seed)
    a = keras.Input(shape=(3,), dtype="float64", name="a")
    b = keras.Input(shape=(2,), dtype="float64", name="b")
    h1 = layers.Dense(4, activation="tanh", **F64)(a)
    h2 = layers.Dense(4, activation="sigmoid", bias_initializer="random_normal", **F64)(b)
    joined = layers.Concatenate(**F64)(
        [layers.Add(**F64)([h1, h2]), layers.Multiply(**F64)([h1, h2]), a]
    )
    return keras.Model([a, b], layers.Dense(2, **F64)(joined))


class Affine(layers.Layer):
    """A custom layer: y = x W + b, with weights from add_weight."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="random_normal", name="w"
        )
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", name="b")

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b


class Subclassed(keras.Model):
    """Layers in a list, a custom layer and a bare Variable, used with Python control flow."""

    def __init__(self):
        super().__init__(dtype="float64")
        self.blocks = [layers.Dense(4, activation="tanh", **F64), Affine(4, **F64)]
        self.gain = tf.Variable(np.array([1.5, -0.5, 2.0, 0.7]), name="gain")
        self.head = layers.Dense(2, **F64)

    def call(self, x, training=False):
        for block in self.blocks:
            x = block(x) * self.gain if block is self.blocks[-1] else block(x)
        return self.head(x)


def squared_error(outputs, target):
    return tf.reduce_mean(tf.square(outputs - target))


def finite_differences(loss_of, variables, eps=1e-6):
    """Central differences of the scalar loss_of() with respect to each variable's elements."""
    grads = []
    for v in variables:
        g = np.zeros(v.shape)
        for index in np.ndindex(*v.shape):
            original = v.data[index]
            v.data[index] = original + eps
            up = float(loss_of())
            v.data[index] = original - eps
            down = float(loss_of())
            v.data[index] = original
            g[index] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def check_against_backward_and_differences(model, inputs, target):
    weights = model.trainable_weights
    with tf.GradientTape() as tape:
        loss = squared_error(model(inputs), target)
    tape_grads = tape.gradient(loss, weights)

    for w in weights:
        w.grad = None
    squared_error(model(inputs), target).backward()
    numeric = finite_differences(lambda: squared_error(model(inputs), target), weights)
    for w, g, n in zip(weights, tape_grads, numeric):
        assert g.dtype == np.float64 and g.shape == w.shape
        np.testing.assert_allclose(g.numpy(), w.grad.numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(g.numpy(), n, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_functional_model_gradients_equal_backward_and_finite_differences(seed):
    model = functional_model(seed)
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal((5, 3)), rng.standard_normal((5, 2))]
    assert len(model.trainable_weights) == 6
    check_against_backward_and_differences(model, inputs, rng.standard_normal((5, 2)))


@pytest.mark.parametrize("seed", [0, 1])
def test_subclassed_model_gradients_equal_backward_and_finite_differences(seed):
    keras.utils.set_random_seed(seed)
    model = Subclassed()
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 3))
    model(x)
    names = [w.name for w in model.trainable_weights]
    assert names == ["gain", "kernel", "bias", "w", "b", "kernel", "bias"]
    check_against_backward_and_differences(model, x, rng.standard_normal((6, 2)))


def test_watched_constant_gets_the_closed_form_gradient():
    x = tf.constant([1.0, 2.0, 3.0], dtype="float64")
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.exp(x) * x)  # dy/dx = e^x (1 + x)
    g = tape.gradient(y, x)
    np.testing.assert_allclose(g.numpy(), np.exp([1.0, 2.0, 3.0]) * [2.0, 3.0, 4.0], rtol=1e-14)
    assert not x.requires_grad  # the tape switched recording off again for the constant


def test_unwatched_constant_and_unconnected_variable_give_none_or_zeros():
    x = tf.constant(2.0)
    used, unused = tf.Variable(3.0), tf.Variable([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        y = used * x * x
    assert tape.gradient(y, [x, used, unused]) == [None, tf.constant(4.0), None]
    zeros = tape.gradient(y, unused, unconnected_gradients="zero")
    np.testing.assert_array_equal(zeros.numpy(), [0.0, 0.0])
    assert tape.gradient(tf.constant(1.0), used) is None  # a target that needs no gradient


def test_persistent_tape_gives_the_same_gradients_twice():
    w = tf.Variable(np.array([[0.5, -1.0], [2.0, 0.25]]))
    x = tf.constant(np.array([[1.0, 2.0]]))
    with tf.GradientTape(persistent=True) as tape:
        y = tf.reduce_sum(tf.tanh(tf.matmul(x, w)))
        z = tf.reduce_sum(w * w)
    first, second = tape.gradient(y, w), tape.gradient(y, w)
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    expected = x.numpy().T @ (1 - np.tanh(x.numpy() @ w.numpy()) ** 2)  # xᵀ (1 - tanh²(xW))
    np.testing.assert_allclose(first.numpy(), expected, rtol=1e-14)
    np.testing.assert_allclose(tape.gradient(z, w).numpy(), 2 * w.numpy())


def test_sources_in_nested_structures_come_back_in_the_same_structure():
    a, b, c = tf.Variable(1.0), tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = a * b * c
    grads = tape.gradient(y, {"first": a, "rest": (b, [c])})
    assert set(grads) == {"first", "rest"} and isinstance(grads["rest"], tuple)
    assert float(grads["first"]) == 6.0 and float(grads["rest"][0]) == 3.0
    assert float(grads["rest"][1][0]) == 2.0


def test_several_targets_are_summed_and_output_gradients_weight_them():
    x = tf.Variable([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        y = x * x  # not a scalar
        s = tf.reduce_sum(x)
    g = tape.gradient(y, x, output_gradients=tf.constant([1.0, 10.0]))
    np.testing.assert_allclose(g.numpy(), [2.0, 40.0])  # 2x * upstream
    both = tape.gradient([tf.reduce_sum(y), s], x)
    np.testing.assert_allclose(both.numpy(), [3.0, 5.0])  # 2x + 1


def test_watch_accessed_variables_false_watches_only_what_is_named():
    a, b = tf.Variable(2.0), tf.Variable(5.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(a)
        y = a * a * b
    ga, gb = tape.gradient(y, [a, b])
    assert float(ga) == 20.0 and gb is None


def test_non_trainable_variables_are_not_watched_unless_asked():
    frozen = tf.Variable(3.0, trainable=False)
    with tf.GradientTape(persistent=True) as tape:
        y = frozen * frozen
    assert tape.gradient(y, frozen) is None
    with tf.GradientTape() as tape:
        tape.watch(frozen)
        y = frozen * frozen
    assert float(tape.gradient(y, frozen)) == 6.0
    assert not frozen.requires_grad


def test_stop_recording_leaves_ops_out_of_the_gradient():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x * x
        with tape.stop_recording():
            z = x * x  # a constant as far as the tape is concerned
        total = y + z
    assert float(tape.gradient(total, x)) == 6.0


def test_nested_tapes_give_second_derivatives():
    x = tf.constant(1.5, dtype="float64")
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = x * x * x
        dy = inner.gradient(y, x)  # 3x², recorded by the outer tape
    d2y = outer.gradient(dy, x)
    assert float(dy) == pytest.approx(3 * 1.5**2) and float(d2y) == pytest.approx(6 * 1.5)


def test_intermediate_results_are_sources_too():
    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        h = x * x
        y = tf.exp(h)
    assert float(tape.gradient(y, h)) == pytest.approx(np.exp(4.0))


def test_custom_loop_step_updates_variables_with_apply_and_apply_gradients():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1)])
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 1), np.float32)
    loss_fn = keras.losses.MeanSquaredError()
    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    for apply in (
        lambda g, v: optimizer.apply(g, v),
        lambda g, v: optimizer.apply_gradients(zip(g, v)),
    ):
        before = [w.numpy().copy() for w in model.trainable_weights]
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_weights)
        apply(grads, model.trainable_weights)
        for w, old, g in zip(model.trainable_weights, before, grads):
            np.testing.assert_allclose(w.numpy(), old - 0.1 * g.numpy(), rtol=1e-6)


# ----- bad calls ----------------------------------------------------------------------------


def test_a_second_gradient_call_on_a_non_persistent_tape_is_refused():
    x = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(
        RuntimeError,
        match="non-persistent GradientTape can only be used to "
        "compute one set of gradients.*persistent=True",
    ):
        tape.gradient(y, x)


def test_a_target_that_is_not_a_scalar_is_differentiated_as_its_sum_as_in_tensorflow():
    # TensorFlow's autodiff guide: x = [1, 3], z = (x * x)²  ->  dz/dx = 4 x³ = [4, 108]
    x = tf.constant([1, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    np.testing.assert_array_equal(tape.gradient(z, x).numpy(), [4.0, 108.0])
    np.testing.assert_array_equal(tape.gradient([y, z], x).numpy(), [6.0, 114.0])
    weighted = tape.gradient(z, x, output_gradients=tf.constant([1.0, 0.0]))
    np.testing.assert_array_equal(weighted.numpy(), [4.0, 0.0])


def test_only_what_a_tape_recorded_or_watched_is_a_source_as_in_tensorflow():
    # TensorFlow's autodiff guide: x2 is computed before the tape, x3 is a constant
    x0 = tf.Variable(3.0, name="x0")
    x1 = tf.Variable(3.0, name="x1", trainable=False)
    x2 = tf.Variable(2.0, name="x2") + 1.0
    x3 = tf.constant(3.0, name="x3")
    with tf.GradientTape() as tape:
        y = (x0**2) + (x1**2) + (x2**2)
    grads = tape.gradient(y, [x0, x1, x2, x3])
    assert grads[0].numpy() == 6.0 and grads[1:] == [None, None, None]
    assert [v.name for v in tape.watched_variables()] == ["x0"]
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x  # recorded inside the block: a source too
        z = y * y
    assert tape.gradient(z, y).numpy() == 18.0


def test_bad_sources_targets_and_watches_are_named():
    x = tf.Variable(1.0)
    with tf.GradientTape(persistent=True) as tape:
        y = x * x
        with pytest.raises(TypeError, match="watch expects Tensors.*got ndarray"):
            tape.watch(np.ones(3))
        with pytest.warns(UserWarning, match="must be floating.*int32"):
            tape.watch(tf.constant([1, 2]))
    with pytest.raises(TypeError, match="every source must be a Tensor.*got ndarray"):
        tape.gradient(y, [x, np.ones(2)])
    with pytest.raises(TypeError, match="every target must be a Tensor.*got float"):
        tape.gradient(3.0, x)
    with pytest.raises(ValueError, match="unconnected_gradients must be 'none' or 'zero'"):
        tape.gradient(y, x, unconnected_gradients="zeros")
    with pytest.raises(RuntimeError, match="stop_recording.*inside the tape's with block"):
        tape.stop_recording()
