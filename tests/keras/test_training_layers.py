"""The layers beyond Dense: closed forms, float64 gradient checks, the train/inference switch,
regularizers and constraints, and the errors a user sees."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras import constraints, optimizers, regularizers
from chainrule.keras.layers import (
    ELU,
    ActivityRegularization,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    GaussianNoise,
    LayerNormalization,
    LeakyReLU,
    PReLU,
    ReLU,
    Reshape,
    Softmax,
)
from chainrule.keras.models import Sequential

rng = np.random.default_rng(0)


def gradcheck(fn, *inputs):
    assert cr.gradcheck(fn, *inputs, atol=1e-6, rtol=1e-5) < 1e-4


def away_from_zero(*shape):
    return rng.uniform(0.2, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


# ----- Flatten, Reshape -----------------------------------------------------------------------


def test_flatten_and_reshape_shapes_and_order():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(Flatten()(x).numpy(), x.reshape(2, 12))
    assert Flatten()(np.ones(5)).shape == (5, 1)  # a (batch,) input gains a feature axis
    # channels_first moves the channel axis last before flattening
    np.testing.assert_array_equal(
        Flatten(data_format="channels_first")(x).numpy(), x.transpose(0, 2, 1).reshape(2, 12)
    )
    np.testing.assert_array_equal(Reshape((4, -1))(x).numpy(), x.reshape(2, 4, 3))
    assert Flatten().compute_output_shape((None, 28, 28, 1)) == (None, 784)
    assert Flatten().compute_output_shape((None, None, 3)) == (None, None)
    assert Reshape((-1, 2)).compute_output_shape((None, 12)) == (None, 6, 2)
    assert Reshape((-1, 2)).compute_output_shape((None, None)) == (None, None, 2)


def test_flatten_and_reshape_gradients():
    gradcheck(lambda x: Flatten(dtype="float64")(x), rng.standard_normal((2, 3, 2)))
    gradcheck(
        lambda x: Flatten(data_format="channels_first", dtype="float64")(x),
        rng.standard_normal((2, 3, 2, 2)),
    )
    gradcheck(lambda x: Reshape((3, 2), dtype="float64")(x), rng.standard_normal((2, 6)))


def test_reshape_errors_name_the_shapes():
    with pytest.raises(ValueError, match="not contain more than one -1"):
        Reshape((-1, -1))
    with pytest.raises(
        ValueError,
        match=r"input shape \(12,\) has 12 elements and "
        r"target_shape=\(5, 2\) has 10",
    ):
        Reshape((5, 2))(np.ones((3, 12)))
    with pytest.raises(ValueError, match="cannot infer the -1"):
        Reshape((5, -1))(np.ones((3, 12)))
    with pytest.raises(ValueError, match="data_format must be one of"):
        Flatten(data_format="channels_middle")


def test_flatten_between_layers_of_a_model():
    model = Sequential([keras.Input(shape=(4, 3)), Flatten(), Dense(2)])
    assert model.layers[0].compute_output_shape((None, 4, 3)) == (None, 12)
    assert model.count_params() == 12 * 2 + 2
    assert model.predict(np.ones((5, 4, 3), np.float32), verbose=0).shape == (5, 2)


# ----- Dropout, GaussianNoise ------------------------------------------------------------------


def test_dropout_is_inverted_and_only_active_in_training():
    x = np.ones((200, 50), np.float32)
    layer = Dropout(0.3, seed=1)
    np.testing.assert_array_equal(layer(x).numpy(), x)  # default: inference
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    y = layer(x, training=True).numpy()
    kept = y != 0
    assert abs(1 - kept.mean() - 0.3) < 0.02  # about 30% dropped
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)  # the rest scaled by 1/(1 - rate)
    assert abs(y.mean() - 1.0) < 0.03  # the expectation is preserved


def test_dropout_gradient_flows_through_the_same_mask():
    x = cr.Tensor(rng.standard_normal((20, 10)), requires_grad=True)
    y = Dropout(0.5, seed=3, dtype="float64")(x, training=True)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (y.numpy() != 0) / 0.5)


def test_random_layers_and_activity_regularization_pass_gradient_checks():
    # a fresh layer with the same seed draws the same noise on every evaluation
    gradcheck(
        lambda x: Dropout(0.4, seed=5, dtype="float64")(x, training=True),
        rng.standard_normal((4, 5)),
    )
    gradcheck(
        lambda x: GaussianNoise(0.3, seed=5, dtype="float64")(x, training=True),
        rng.standard_normal((4, 5)),
    )
    layer = ActivityRegularization(l1=0.1, l2=0.3, dtype="float64")

    def penalty(x):
        layer(x)
        return layer.losses[0]

    gradcheck(penalty, away_from_zero(4, 3))


def test_dropout_is_reproducible_with_a_seed_or_set_random_seed():
    x = np.ones((4, 30), np.float32)
    a = Dropout(0.5, seed=7)(x, training=True).numpy()
    b = Dropout(0.5, seed=7)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    keras.utils.set_random_seed(11)
    c = Dropout(0.5)(x, training=True).numpy()
    keras.utils.set_random_seed(11)
    d = Dropout(0.5)(x, training=True).numpy()
    np.testing.assert_array_equal(c, d)
    assert not np.array_equal(a, Dropout(0.5, seed=8)(x, training=True).numpy())


def test_dropout_noise_shape_shares_the_mask():
    y = Dropout(0.5, noise_shape=(None, 1, 6), seed=0)(np.ones((3, 4, 6)), training=True).numpy()
    assert (y == y[:, :1, :]).all()  # the same mask at every step of axis 1
    with pytest.raises(ValueError, match="one entry per input axis"):
        Dropout(0.5, noise_shape=(None, 6))(np.ones((3, 4, 6)), training=True)
    with pytest.raises(ValueError, match="positive integers or None"):
        Dropout(0.5, noise_shape=(None, 0, 6))


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.5", None])
def test_dropout_rejects_rates_outside_0_1(rate):
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\)"):
        Dropout(rate)


def test_gaussian_noise_adds_noise_of_stddev_in_training_only():
    x = np.zeros((400, 50), np.float32)
    layer = GaussianNoise(0.5, seed=2)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    noise = layer(x, training=True).numpy()
    assert abs(noise.std() - 0.5) < 0.01 and abs(noise.mean()) < 0.01
    with pytest.raises(ValueError, match=r"stddev must be a number in \[0, 1\]"):
        GaussianNoise(-1.0)


def test_activity_regularization_adds_its_penalty_per_sample():
    x = rng.standard_normal((4, 3)).astype(np.float32)
    model = Sequential([ActivityRegularization(l1=0.1, l2=0.2)])
    np.testing.assert_array_equal(model(x).numpy(), x)
    (penalty,) = model.losses
    expected = (0.1 * np.abs(x).sum() + 0.2 * (x * x).sum()) / 4
    assert float(penalty.item()) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="l1 and l2 must be >= 0"):
        ActivityRegularization(l1=-1)


# ----- BatchNormalization ------------------------------------------------------------------------


def test_batch_normalization_training_uses_batch_statistics_and_updates_moving_averages():
    x = rng.standard_normal((64, 3)).astype(np.float32) * [1.0, 2.0, 3.0] + [5.0, -1.0, 0.0]
    layer = BatchNormalization()
    y = layer(x, training=True).numpy()
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    # moving = moving * 0.99 + batch * 0.01, from zeros and ones
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.01 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.99 + 0.01 * var, rtol=1e-5)
    before = layer.moving_mean.numpy().copy()
    layer(x, training=False)  # inference leaves the moving averages alone
    np.testing.assert_array_equal(layer.moving_mean.numpy(), before)


def test_batch_normalization_on_a_batch_without_rows_keeps_its_moving_averages():
    layer = BatchNormalization()
    layer(np.ones((4, 3), np.float32), training=True)
    before = [layer.moving_mean.numpy().copy(), layer.moving_variance.numpy().copy()]
    with np.errstate(all="ignore"):
        assert layer(np.zeros((0, 3), np.float32), training=True).shape == (0, 3)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), before[0])
    np.testing.assert_array_equal(layer.moving_variance.numpy(), before[1])


def test_batch_normalization_inference_uses_the_moving_averages():
    layer = BatchNormalization(momentum=0.5, epsilon=0.01)
    layer.build((None, 2))
    layer.set_weights(
        [np.array([2.0, 1.0]), np.array([0.5, -0.5]), np.array([1.0, -2.0]), np.array([4.0, 0.25])]
    )
    x = np.array([[3.0, 0.0], [1.0, -2.0]], np.float32)
    expected = np.array([2.0, 1.0]) * (x - [1.0, -2.0]) / np.sqrt([4.01, 0.26]) + [0.5, -0.5]
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-6)
    assert [w.name for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]


@pytest.mark.parametrize("training", [True, False])
def test_batch_normalization_gradients_through_the_batch_statistics(training):
    layer = BatchNormalization(dtype="float64", momentum=0.9)
    layer.build((None, 3))
    layer.moving_mean.assign(rng.standard_normal(3))
    layer.moving_variance.assign(rng.uniform(0.5, 2.0, 3))

    def fn(x, gamma, beta):
        layer.gamma, layer.beta = gamma, beta
        return layer.call(x, training=training)

    gradcheck(fn, rng.standard_normal((6, 3)), rng.uniform(0.5, 2.0, 3), rng.standard_normal(3))


def test_batch_normalization_gradient_matches_the_closed_form():
    # dL/dx = γ / (N σ) (N g - sum g - x̂ sum g x̂), the textbook backward pass
    x, g = rng.standard_normal((8, 2)), rng.standard_normal((8, 2))
    gamma = np.array([1.5, 0.5])
    layer = BatchNormalization(dtype="float64")
    layer.build((None, 2))
    layer.gamma.assign(gamma)
    xt = cr.Tensor(x, requires_grad=True)
    layer(xt, training=True).backward(g)
    sigma = np.sqrt(x.var(0) + 1e-3)
    x_hat = (x - x.mean(0)) / sigma
    expected = gamma / (8 * sigma) * (8 * g - g.sum(0) - x_hat * (g * x_hat).sum(0))
    np.testing.assert_allclose(xt.grad.numpy(), expected, rtol=1e-10)


def test_batch_normalization_over_a_channel_axis_of_images():
    x = rng.standard_normal((4, 3, 5, 5)) * 2 + 1  # channels first
    layer = BatchNormalization(axis=1, dtype="float64")
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-10)
    np.testing.assert_allclose(
        y.var(axis=(0, 2, 3)), x.var(axis=(0, 2, 3)) / (x.var(axis=(0, 2, 3)) + 1e-3), rtol=1e-8
    )
    assert layer.gamma.shape == (3,)

    def fn(x, gamma):
        layer.gamma = gamma
        return layer.call(x, training=True)

    gradcheck(fn, rng.standard_normal((2, 3, 2, 2)), rng.uniform(0.5, 2, 3))


def test_frozen_batch_normalization_runs_in_inference_mode():
    x = rng.standard_normal((16, 2)).astype(np.float32) + 3
    layer = BatchNormalization()
    layer.build((None, 2))
    layer.trainable = False
    np.testing.assert_allclose(layer(x, training=True).numpy(), x / np.sqrt(1.001), rtol=1e-6)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), [0, 0])


def test_batch_normalization_errors():
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\]"):
        BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="epsilon must be > 0"):
        BatchNormalization(epsilon=0)
    with pytest.raises(ValueError, match="axis 3 is out of bounds for inputs of rank 2"):
        BatchNormalization(axis=3)(np.ones((2, 2)))
    layer = BatchNormalization()
    layer(np.ones((2, 4)))
    with pytest.raises(
        ValueError,
        match="expected ndim=2 and axis -1 of input shape to have "
        r"value 4, but received input with shape \(2, 5\)",
    ):
        layer(np.ones((2, 5)))


# ----- LayerNormalization ------------------------------------------------------------------------


def test_layer_normalization_normalizes_each_sample():
    x = rng.standard_normal((5, 4)).astype(np.float32) * 3 + 2
    y = LayerNormalization()(x).numpy()
    mean, var = x.mean(1, keepdims=True), x.var(1, keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    layer = LayerNormalization(axis=[1, 2])
    z = rng.standard_normal((2, 3, 4))
    layer(z)
    assert layer.gamma.shape == (3, 4) and layer.beta.shape == (3, 4)


def test_layer_normalization_gradients():
    layer = LayerNormalization(dtype="float64")
    layer.build((None, 4))

    def fn(x, gamma, beta):
        layer.gamma, layer.beta = gamma, beta
        return layer.call(x)

    gradcheck(fn, rng.standard_normal((3, 4)), rng.uniform(0.5, 2, 4), rng.standard_normal(4))
    over_two = LayerNormalization(axis=[1, 2], dtype="float64")
    over_two.build((None, 2, 3))

    def fn2(x, gamma):
        over_two.gamma = gamma
        return over_two.call(x)

    gradcheck(fn2, rng.standard_normal((2, 2, 3)), rng.uniform(0.5, 2, (2, 3)))


def test_layer_normalization_rms_scaling():
    x = rng.standard_normal((3, 4))
    layer = LayerNormalization(rms_scaling=True, dtype="float64")
    np.testing.assert_allclose(layer(x).numpy(), x / np.sqrt((x * x).mean(1, keepdims=True) + 1e-3))
    assert layer.beta is None and layer.gamma is not None
    gradcheck(lambda x: layer.call(x), x)


def test_layer_normalization_errors():
    with pytest.raises(TypeError, match="axis must be an int or a non-empty list of ints"):
        LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="cannot normalize over the batch axis 0"):
        LayerNormalization(axis=0)(np.ones((2, 3)))


# ----- activation layers --------------------------------------------------------------------------


def test_activation_layers_closed_forms_and_defaults():
    x = np.array([[-10.0, -5.0, 0.0, 5.0, 10.0]])
    np.testing.assert_allclose(ReLU()(x).numpy(), [[0, 0, 0, 5, 10]])
    np.testing.assert_allclose(
        ReLU(max_value=10, negative_slope=0.5, threshold=0)(x).numpy(),
        [[-5.0, -2.5, 0.0, 5.0, 10.0]],
    )
    np.testing.assert_allclose(ReLU(max_value=6)(x).numpy(), [[0, 0, 0, 5, 6]])
    assert LeakyReLU().negative_slope == 0.3  # the layer's default, not the function's 0.2
    np.testing.assert_allclose(LeakyReLU()(x).numpy(), [[-3.0, -1.5, 0.0, 5.0, 10.0]])
    np.testing.assert_allclose(
        ELU(alpha=0.5)(x).numpy(), [np.where(x[0] > 0, x[0], 0.5 * np.expm1(x[0]))], rtol=1e-6
    )
    np.testing.assert_allclose(
        Softmax()(np.array([[1.0, 2.0, 1.0]])).numpy(),
        [[0.21194157, 0.5761169, 0.21194157]],
        rtol=1e-6,
    )
    prelu = PReLU(alpha_initializer=keras.initializers.Constant(0.25))
    np.testing.assert_allclose(prelu(x).numpy(), [[-2.5, -1.25, 0, 5, 10]])


def test_leaky_relu_alpha_is_deprecated():
    with pytest.warns(UserWarning, match="`alpha` is deprecated"):
        layer = LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1


def test_activation_layer_gradients():
    x = away_from_zero(4, 3)
    gradcheck(lambda x: ReLU(negative_slope=0.2, dtype="float64")(x), x)
    gradcheck(lambda x: LeakyReLU(dtype="float64")(x), x)
    gradcheck(lambda x: ELU(alpha=0.7, dtype="float64")(x), x)
    gradcheck(lambda x: Softmax(dtype="float64")(x), rng.standard_normal((3, 4)))
    gradcheck(lambda x: Softmax(axis=[1, 2], dtype="float64")(x), rng.standard_normal((2, 2, 3)))
    prelu = PReLU(dtype="float64")
    prelu.build((None, 3))

    def fn(x, alpha):
        prelu.alpha = alpha
        return prelu.call(x)

    gradcheck(fn, x, rng.uniform(0.1, 0.5, 3))


def test_prelu_shared_axes_and_softmax_mask():
    prelu = PReLU(shared_axes=[1, 2])
    prelu(np.ones((2, 4, 4, 3)))
    assert prelu.alpha.shape == (1, 1, 3)
    masked = Softmax()(np.zeros((1, 4)), mask=np.array([[1, 1, 0, 1]])).numpy()
    np.testing.assert_allclose(masked, [[1 / 3, 1 / 3, 0, 1 / 3]], atol=1e-7)
    np.testing.assert_allclose(Softmax(axis=[1, 2])(np.zeros((1, 2, 2))).numpy(), 0.25)


def test_activation_layer_errors():
    with pytest.raises(ValueError, match="ReLU: negative_slope cannot be None or negative"):
        ReLU(negative_slope=-1)
    with pytest.raises(ValueError, match="ReLU: max_value cannot be None or negative"):
        ReLU(max_value=-1)
    with pytest.raises(ValueError, match="LeakyReLU: negative_slope cannot be None or negative"):
        LeakyReLU(negative_slope=None)
    with pytest.raises(ValueError, match=r"shared axis 3 must be in \[1, 3\)"):
        PReLU(shared_axes=3)(np.ones((2, 3, 3)))


# ----- training vs inference in a model -----------------------------------------------------------


def test_model_call_switches_dropout_and_batch_normalization():
    keras.utils.set_random_seed(0)
    model = Sequential([Dense(16, input_shape=(4,)), BatchNormalization(), Dropout(0.5), Dense(2)])
    x = rng.standard_normal((32, 4)).astype(np.float32)
    inference = model(x, training=False).numpy()
    np.testing.assert_array_equal(model(x).numpy(), inference)  # default: inference
    np.testing.assert_array_equal(model.predict(x, verbose=0), inference)
    bn = model.layers[1]
    before = bn.moving_mean.numpy().copy()
    first, second = model(x, training=True).numpy(), model(x, training=True).numpy()
    assert not np.allclose(first, second)  # a new dropout mask each call
    assert not np.allclose(bn.moving_mean.numpy(), before)  # moving averages updated
    assert model.count_params() == (4 * 16 + 16) + 4 * 16 + (16 * 2 + 2)
    assert len(model.non_trainable_weights) == 2


def test_fit_trains_in_training_mode_and_evaluates_in_inference_mode():
    x = rng.standard_normal((64, 3)).astype(np.float32) * 4 + 10
    y = (x[:, 0] > 10).astype(np.float32)
    model = Sequential([BatchNormalization(momentum=0.0), Dense(1, activation="sigmoid")])
    model.compile(optimizers.SGD(0.0), "binary_crossentropy")
    model.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
    bn = model.layers[0]
    # momentum 0: the moving statistics are exactly those of the one training batch
    np.testing.assert_allclose(bn.moving_mean.numpy(), x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), x.var(0), rtol=1e-4)
    model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(bn.moving_mean.numpy(), x.mean(0), rtol=1e-5)


# ----- regularizers and constraints ---------------------------------------------------------------


def test_weight_regularizers_are_added_to_the_loss_as_keras_does():
    x = rng.standard_normal((5, 3)).astype(np.float32)
    y = rng.standard_normal((5, 2)).astype(np.float32)
    layer = Dense(
        2,
        kernel_regularizer=regularizers.l2(0.1),
        bias_regularizer="l1",
        activity_regularizer=regularizers.l1_l2(l1=0.01, l2=0.02),
        bias_initializer="ones",
    )
    model = Sequential([layer])
    model.compile("sgd", "mse")
    out = model(x)
    w, b = layer.kernel.numpy(), layer.bias.numpy()
    o = out.numpy()
    expected = (
        ((o - y) ** 2).mean()
        + 0.1 * (w * w).sum()
        + 0.01 * np.abs(b).sum()
        + (0.01 * np.abs(o).sum() + 0.02 * (o * o).sum()) / 5
    )
    assert model.compute_loss(x, y, out).item() == pytest.approx(expected, rel=1e-5)


def test_kernel_regularizer_gradient_is_two_l2_w():
    layer = Dense(2, kernel_regularizer="l2", dtype="float64")
    layer.build((None, 3))
    (penalty,) = layer.losses
    penalty.backward()
    np.testing.assert_allclose(layer.kernel.grad.numpy(), 2 * 0.01 * layer.kernel.numpy())


def test_constraints_closed_forms():
    w = np.array([[3.0, 0.1], [4.0, -0.1]])  # column norms 5 and ~0.141
    np.testing.assert_allclose(constraints.MaxNorm(2)(w), w * [2 / (5 + 1e-7), 1.0], rtol=1e-6)
    np.testing.assert_allclose(constraints.NonNeg()(w), [[3.0, 0.1], [4.0, 0.0]])
    unit = constraints.UnitNorm()(w)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=0), 1.0, rtol=1e-6)
    bounded = constraints.MinMaxNorm(1.0, 2.0)(w)
    np.testing.assert_allclose(np.linalg.norm(bounded, axis=0), [2.0, 1.0], rtol=1e-5)
    half = constraints.MinMaxNorm(1.0, 2.0, rate=0.5)(w)
    np.testing.assert_allclose(np.linalg.norm(half, axis=0)[0], 0.5 * 2 + 0.5 * 5, rtol=1e-6)
    row = constraints.MaxNorm(1.0, axis=1)(w)
    np.testing.assert_allclose(np.linalg.norm(row, axis=1), 1.0, rtol=1e-6)
    tensor = constraints.NonNeg()(cr.Tensor(w))
    assert isinstance(tensor, cr.Tensor)


def test_kernel_constraint_is_applied_after_each_update():
    x = rng.standard_normal((32, 3)).astype(np.float32)
    y = -np.abs(rng.standard_normal((32, 4))).astype(np.float32)
    model = Sequential(
        [Dense(4, kernel_constraint="non_neg", bias_constraint=constraints.max_norm(0.5))]
    )
    model.compile(optimizers.SGD(0.5), "mse")
    model.fit(x, y, epochs=2, verbose=0)
    assert (model.layers[0].kernel.numpy() >= 0).all()
    assert np.linalg.norm(model.layers[0].bias.numpy()) <= 0.5 + 1e-6


def test_constraint_identifiers_and_errors():
    assert isinstance(constraints.get("unit_norm"), constraints.UnitNorm)
    assert isinstance(constraints.get("MaxNorm"), constraints.MaxNorm)
    with pytest.raises(
        ValueError, match="Unknown constraint: 'positive'. Known constraints: max_norm"
    ):
        constraints.get("positive")
    with pytest.raises(ValueError, match="must not exceed max_value"):
        constraints.MinMaxNorm(2.0, 1.0)
