"""Convolution, pooling, padding and upsampling layers: Keras 3's configs, output shapes and
parameter counts (recorded from Keras in tests/fixtures/conv/keras_layers.json), weights,
summary(), values and gradients, the errors for bad inputs, and a small convnet that learns
MNIST digits."""

import json
import pathlib

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras, ops
from chainrule.keras import layers
from chainrule.keras.saving import load_model
from chainrule.keras.saving.serialization import (
    KERAS_ONLY,
    deserialize_keras_object,
    layer_config,
)

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "conv"
KERAS_LAYERS = json.loads((FIXTURES / "keras_layers.json").read_text())
rng = np.random.default_rng(0)


def _without_keras_only(value):
    """A Keras config without the entries chainrule leaves out at their neutral values."""
    if isinstance(value, dict):
        return {
            k: _without_keras_only(v)
            for k, v in value.items()
            if not (k in KERAS_ONLY and v == KERAS_ONLY[k])
        }
    return value


@pytest.mark.parametrize("name", sorted(KERAS_LAYERS))
def test_config_output_shape_and_parameters_are_keras(name):
    facts = KERAS_LAYERS[name]
    layer = deserialize_keras_object(
        {"module": "keras.layers", "class_name": facts["class_name"], "config": facts["config"]}
    )
    ours = json.loads(json.dumps(layer_config(layer)["config"]))  # tuples as JSON lists
    assert ours == _without_keras_only(facts["config"])
    input_shape = tuple(facts["input_shape"])
    assert list(layer.compute_output_shape(input_shape)) == facts["output_shape"]
    if not layer.built:
        layer.build(input_shape)
    assert layer.count_params() == facts["params"]
    y = layer(rng.standard_normal((2,) + input_shape[1:]).astype("float32"))
    assert y.shape == (2,) + tuple(facts["output_shape"][1:])


def test_the_keras_io_convnet_saved_by_keras_loads_and_predicts_the_same():
    model = load_model(FIXTURES / "mnist_convnet.keras")
    expected = np.load(FIXTURES / "mnist_convnet.npz")
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dropout",
        "Dense",
    ]
    np.testing.assert_allclose(
        model.predict(expected["x"], verbose=0), expected["y"], rtol=1e-5, atol=1e-6
    )


def test_conv2d_weights_are_a_glorot_uniform_kernel_then_a_zero_bias():
    layer = layers.Conv2D(64, (3, 3), name="c")
    layer.build((None, 13, 13, 32))
    kernel, bias = layer.get_weights()
    assert [w.path for w in layer.weights] == ["c/kernel", "c/bias"]
    assert kernel.shape == (3, 3, 32, 64) and kernel.dtype == np.float32
    limit = np.sqrt(6 / (3 * 3 * 32 + 3 * 3 * 64))  # the fans count the 3x3 window
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.95 * limit
    np.testing.assert_array_equal(bias, np.zeros(64, np.float32))


def _keras_io_convnet():
    """The keras-io "Simple MNIST convnet", as its page writes it."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


def test_summary_of_the_keras_io_mnist_convnet_matches_keras():
    model = _keras_io_convnet()
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    rows = [line.split("│")[2:4] for line in text.splitlines() if line.startswith("│")]
    assert [(shape.strip(), params.strip()) for shape, params in rows] == [
        ("(None, 26, 26, 32)", "320"),
        ("(None, 13, 13, 32)", "0"),
        ("(None, 11, 11, 64)", "18,496"),
        ("(None, 5, 5, 64)", "0"),
        ("(None, 1600)", "0"),
        ("(None, 1600)", "0"),
        ("(None, 10)", "16,010"),
    ]
    assert "Total params: 34,826 (136.04 KB)" in text


def test_conv2d_layer_is_activation_of_convolution_plus_bias():
    layer = layers.Conv2D(
        4, 3, strides=2, padding="same", activation="relu", bias_initializer="random_normal"
    )
    x = rng.standard_normal((2, 7, 7, 3)).astype("float32")
    y = layer(x)
    kernel, bias = layer.get_weights()
    expected = np.maximum(ops.conv2d(x, kernel, bias, strides=2, padding="same"), 0)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)


class _DoubledKernel(layers.Conv2D):
    """keras-io's "customizing the convolution operation": an override of convolution_op."""

    def convolution_op(self, inputs, kernel):
        return keras.ops.conv(inputs, 2.0 * kernel, strides=list(self.strides), padding="valid")


class _StandardizedKernel(layers.Conv2D):
    """...and a call() that convolves through convolution_op with a standardized kernel."""

    def call(self, inputs):
        mean, var = keras.ops.moments(self.kernel, axes=[0, 1, 2], keepdims=True)
        result = self.convolution_op(inputs, (self.kernel - mean) / keras.ops.sqrt(var + 1e-10))
        return result + self.bias if self.use_bias else result


def test_a_convolution_op_of_a_subclass_is_what_the_layer_convolves_with():
    """Conv2D's call() goes through an overridden convolution_op, then adds the bias and the
    activation (Keras 3's BaseConv); a 3 x 3 window of ones on ones sums 9 taps."""
    ones = np.ones((1, 5, 5, 1), "float32")
    doubled = _DoubledKernel(1, 3, kernel_initializer="ones", bias_initializer="ones")
    np.testing.assert_array_equal(doubled(ones).numpy(), np.full((1, 3, 3, 1), 19.0))
    plain = layers.Conv2D(1, 3, kernel_initializer="ones", bias_initializer="ones")
    plain.build(ones.shape)
    np.testing.assert_array_equal(plain.convolution_op(ones, plain.kernel * 3).numpy(), 27.0)

    layer = _StandardizedKernel(4, 3, bias_initializer="random_normal")
    x = rng.standard_normal((2, 6, 6, 3)).astype("float32")
    layer.build(x.shape)
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    standardized = (kernel - kernel.mean((0, 1, 2))) / np.sqrt(kernel.var((0, 1, 2)) + 1e-10)
    np.testing.assert_allclose(
        layer(x).numpy(), ops.conv2d(x, standardized, bias), rtol=1e-5, atol=1e-5
    )


def test_a_subclass_convolving_by_convolution_op_trains_in_fit_and_keeps_channels_first():
    model = keras.Sequential([keras.Input((6, 6, 3)), _StandardizedKernel(4, 3)])
    model.compile("adam", "mse")
    before = model.get_weights()[0].copy()
    x, y = rng.standard_normal((8, 6, 6, 3)), rng.standard_normal((8, 4, 4, 4))
    losses = model.fit(x, y, epochs=3, batch_size=4, verbose=0).history["loss"]
    assert losses[-1] < losses[0] and not np.array_equal(model.get_weights()[0], before)

    class Through(layers.Conv2D):
        def convolution_op(self, inputs, kernel):
            return super().convolution_op(inputs, kernel)

    x = rng.standard_normal((2, 3, 6, 6)).astype("float32")
    plain = layers.Conv2D(2, 3, data_format="channels_first", bias_initializer="ones")
    through = Through(2, 3, data_format="channels_first", bias_initializer="ones")
    plain.build(x.shape), through.build(x.shape)
    through.set_weights(plain.get_weights())
    np.testing.assert_allclose(through(x).numpy(), plain(x).numpy(), rtol=1e-6)


def test_conv1d_convolves_in_its_call_as_keras_does_not_by_convolution_op():
    class Doubled1D(layers.Conv1D):
        def convolution_op(self, inputs, kernel):
            return keras.ops.conv(inputs, 2.0 * kernel)

    layer = Doubled1D(1, 3, kernel_initializer="ones", use_bias=False)
    np.testing.assert_array_equal(layer(np.ones((1, 5, 1), "float32")).numpy(), 3.0)


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda f: layers.Conv2D(3, (2, 3), padding="same", data_format=f), (2, 4, 6, 5)),
        (lambda f: layers.Conv1D(3, 2, padding="causal", data_format=f), (2, 4, 6)),
        (lambda f: layers.MaxPooling2D(2, data_format=f), (2, 3, 4, 5)),
        (lambda f: layers.AveragePooling2D((2, 1), padding="same", data_format=f), (2, 3, 5, 5)),
        (lambda f: layers.GlobalMaxPooling2D(data_format=f), (2, 3, 4, 5)),
        (lambda f: layers.ZeroPadding2D(((1, 0), (0, 2)), data_format=f), (2, 3, 4, 5)),
        (lambda f: layers.UpSampling2D((2, 3), data_format=f), (2, 3, 4, 5)),
    ],
)
def test_channels_first_is_channels_last_with_the_channel_axis_moved(make, shape):
    x = rng.standard_normal(shape).astype("float32")
    last, first = make("channels_last"), make("channels_first")
    moved = np.moveaxis(x, -1, 1)
    y_last = last(x)
    first.build((None,) + moved.shape[1:])
    first.set_weights(last.get_weights())
    y_first = first(moved).numpy()
    expected = y_last.numpy() if y_last.ndim == 2 else np.moveaxis(y_last.numpy(), -1, 1)
    np.testing.assert_allclose(y_first, expected, rtol=1e-6)
    assert first.compute_output_shape((None,) + moved.shape[1:])[1:] == y_first.shape[1:]


def test_padding_and_upsampling_values_and_gradients():
    x = cr.Tensor(np.arange(12.0).reshape(1, 2, 3, 2), requires_grad=True)
    padded = layers.ZeroPadding2D(((1, 0), (2, 1)))(x)
    assert padded.shape == (1, 3, 6, 2)
    np.testing.assert_array_equal(padded.numpy()[0, 1:, 2:5], x.numpy()[0])
    assert padded.numpy().sum() == x.numpy().sum()
    upsampled = layers.UpSampling2D((2, 3))(x)
    np.testing.assert_array_equal(
        upsampled.numpy()[0, :, :, 0], np.repeat(np.repeat(x.numpy()[0, :, :, 0], 2, 0), 3, 1)
    )
    g = rng.standard_normal(upsampled.shape)
    (padded.sum() + (upsampled * g).sum()).backward()
    block_sums = g.reshape(1, 2, 2, 3, 3, 2).sum(axis=(2, 4))  # each pixel's 2x3 copies
    np.testing.assert_allclose(x.grad.numpy(), 1.0 + block_sums, rtol=1e-5)


def test_global_pooling_reduces_height_and_width():
    x = rng.standard_normal((2, 3, 4, 5)).astype("float32")
    np.testing.assert_allclose(
        layers.GlobalAveragePooling2D()(x).numpy(), x.mean(axis=(1, 2)), rtol=1e-6
    )
    np.testing.assert_array_equal(
        layers.GlobalMaxPooling2D(keepdims=True)(x).numpy(), x.max(axis=(1, 2), keepdims=True)
    )


def test_batch_normalization_normalizes_each_channel_of_a_feature_map():
    x = rng.standard_normal((8, 5, 5, 3)).astype("float32") * [1.0, 4.0, 0.1] + [0.0, 3.0, -2.0]
    feature_maps = layers.Conv2D(6, 3)(x)
    y = layers.BatchNormalization()(feature_maps, training=True).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 1, 2)), 1, atol=1e-2)


def test_depthwise_conv2d_filters_each_channel_with_its_own_kernels():
    """Output channel c m + k is input channel c convolved with kernel[:, :, c, k]."""
    layer = layers.DepthwiseConv2D(
        (3, 2), strides=(1, 2), padding="same", depth_multiplier=2, bias_initializer="ones"
    )
    x = rng.standard_normal((2, 6, 7, 3)).astype("float32")
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 3, 2) and y.shape == (2, 6, 4, 6)
    for c in range(3):
        for k in range(2):
            alone = ops.conv2d(
                x[..., c : c + 1],
                kernel[:, :, c : c + 1, k : k + 1],
                strides=(1, 2),
                padding="same",
            )
            np.testing.assert_allclose(
                y[..., 2 * c + k], alone[..., 0] + bias[2 * c + k], rtol=1e-5
            )


def test_separable_conv2d_is_the_depthwise_step_then_a_pointwise_product():
    layer = layers.SeparableConv2D(
        4, 3, depth_multiplier=2, activation="tanh", bias_initializer="random_normal"
    )
    x = rng.standard_normal((2, 7, 7, 3)).astype("float32")
    y = layer(x).numpy()
    depthwise_kernel, pointwise_kernel, bias = layer.get_weights()
    assert pointwise_kernel.shape == (1, 1, 6, 4)
    depthwise = layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False)
    depthwise.build((None, 7, 7, 3))
    depthwise.set_weights([depthwise_kernel])
    expected = np.tanh(depthwise(x).numpy() @ pointwise_kernel[0, 0] + bias)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("use_bias", [True, False])
def test_separable_conv2d_gradients_match_finite_differences(use_bias):
    layer = layers.SeparableConv2D(
        2, (2, 3), strides=2, padding="same", depth_multiplier=2, use_bias=use_bias, dtype="float64"
    )
    layer.build((None, 5, 6, 2))
    x = rng.standard_normal((2, 5, 6, 2))
    weights = [w * 0.5 + 0.1 for w in layer.get_weights()]

    def fn(x, depthwise_kernel, pointwise_kernel, *bias):
        layer.depthwise_kernel, layer.pointwise_kernel = depthwise_kernel, pointwise_kernel
        layer.bias = bias[0] if bias else None
        return layer.call(x)

    assert cr.gradcheck(fn, x, *weights, atol=1e-6, rtol=1e-5) < 1e-4


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_depthwise_conv2d_gradients_match_finite_differences(data_format):
    layer = layers.DepthwiseConv2D(
        (3, 2),
        dilation_rate=(1, 2),
        depth_multiplier=3,
        activation="tanh",
        data_format=data_format,
        dtype="float64",
    )
    shape = (2, 6, 7, 2) if data_format == "channels_last" else (2, 2, 6, 7)
    layer.build((None,) + shape[1:])
    x = rng.standard_normal(shape)
    kernel, bias = (w + rng.standard_normal(w.shape) * 0.3 for w in layer.get_weights())

    def fn(x, kernel, bias):
        layer.kernel, layer.bias = kernel, bias
        return layer.call(x)

    assert cr.gradcheck(fn, x, kernel, bias, atol=1e-6, rtol=1e-5) < 1e-4


def test_separable_convolutions_refuse_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match=r"`depth_multiplier` must be a positive integer"):
        layers.DepthwiseConv2D(3, depth_multiplier=0)
    with pytest.raises(ValueError, match=r"`filters` must be a positive integer"):
        layers.SeparableConv2D(0, 3)
    with pytest.raises(cr.ShapeError, match=r'"dw" \(DepthwiseConv2D\).*expected ndim=4'):
        layers.DepthwiseConv2D(3, name="dw")(np.zeros((2, 8, 8), "float32"))
    layer = layers.SeparableConv2D(2, 3, name="sep")
    layer(np.zeros((1, 5, 5, 3), "float32"))
    with pytest.raises(cr.ShapeError, match=r'layer "sep" .*value 3 .*\(1, 5, 5, 1\)'):
        layer(np.zeros((1, 5, 5, 1), "float32"))
    with pytest.raises(ValueError, match=r"kernel of size \(7, 7\).*larger than the input"):
        layers.DepthwiseConv2D(7)(np.zeros((1, 5, 5, 1), "float32"))


# ----- errors ------------------------------------------------------------------------------------


def test_a_3d_input_to_conv2d_names_the_layer_the_shape_and_the_fix():
    with pytest.raises(
        cr.ShapeError,
        match=r'layer "c2" \(Conv2D\) is incompatible with the '
        r"layer: expected ndim=4, \(batch, height, width, "
        r"channels\), but received input with shape "
        r"\(None, 28, 28\).*x\[\.\.\., None\]",
    ):
        layers.Conv2D(8, 3, name="c2")(np.zeros((2, 28, 28), "float32"))


def test_a_kernel_larger_than_the_padded_input_is_refused():
    with pytest.raises(
        ValueError,
        match=r'Layer "big" \(Conv2D\): the kernel of size \(5, 5\) '
        r"with dilation_rate=\(1, 1\) is larger than the input "
        r"of shape \(None, 4, 4, 1\) with padding='valid'",
    ):
        keras.Sequential([keras.Input(shape=(4, 4, 1)), layers.Conv2D(2, 5, name="big")])
    with pytest.raises(ValueError, match=r"pooling window \(3, 3\) is larger than the input"):
        layers.MaxPooling2D(3)(np.zeros((1, 2, 2, 1), "float32"))


def test_channels_that_do_not_match_the_built_kernel_are_refused():
    layer = layers.Conv2D(4, 3, name="rgb")
    layer(np.zeros((1, 5, 5, 3), "float32"))
    with pytest.raises(
        cr.ShapeError,
        match=r'Input 0 of layer "rgb" is incompatible with the '
        r"layer: expected axis -1 of input shape to have "
        r"value 3 .*kernel of shape \(3, 3, 3, 4\).*"
        r"received input with shape \(1, 5, 5, 1\)",
    ):
        layer(np.zeros((1, 5, 5, 1), "float32"))


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: layers.Conv2D(4, 3, strides=-1),
            r"`strides` must be an integer or a tuple of 2 "
            r"integers, all positive; received strides=-1",
        ),
        (lambda: layers.Conv2D(4, (3, 0)), r"received kernel_size=\(3, 0\)"),
        (lambda: layers.Conv2D(4, 3, strides=2, dilation_rate=2), r"`strides > 1` not supported"),
        (
            lambda: layers.Conv2D(5, 3, groups=2),
            r"filters must be evenly divisible by the number "
            r"of groups",
        ),
        (lambda: layers.Conv2D(0, 3), r"`filters` must be a positive integer"),
        (
            lambda: layers.Conv2D(4, 3, padding="causal"),
            r"`padding` must be one of 'valid', 'same'",
        ),
        (lambda: layers.Conv1D(4, 3, data_format="nhwc"), r"`data_format` must be one of"),
        (lambda: layers.MaxPooling2D(pool_size=(2, -2)), r"MaxPooling2D layer .*`pool_size`"),
        (lambda: layers.ZeroPadding2D((1, 2, 3)), r"`padding` must be an int, a tuple of 2 ints"),
        (lambda: layers.UpSampling2D(interpolation="bilinear"), r"only interpolation='nearest'"),
    ],
)
def test_bad_arguments_are_refused_when_the_layer_is_made(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_input_channels_must_divide_into_the_groups():
    with pytest.raises(ValueError, match=r"input has 3 channels"):
        layers.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), "float32"))


# ----- training ----------------------------------------------------------------------------------


def _mnist_images(count):
    (x, y), (x_test, y_test) = keras.datasets.mnist.load_data()
    return (
        x[:count, :, :, None].astype("float32") / 255.0,
        y[:count],
        x_test[:, :, :, None].astype("float32") / 255.0,
        y_test,
    )


def test_a_small_convnet_learns_digits_from_a_few_hundred_images():
    x, y, _, _ = _mnist_images(768)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.003),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x, y, batch_size=32, epochs=4, validation_split=0.25, verbose=0).history
    assert all(a > b for a, b in zip(history["loss"], history["loss"][1:]))
    assert history["val_accuracy"][-1] >= 0.7, history


@pytest.mark.slow
def test_the_keras_io_convnet_reaches_97_percent_after_one_epoch():
    x, y, x_test, y_test = _mnist_images(60000)
    keras.utils.set_random_seed(0)
    model = _keras_io_convnet()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(
        x,
        keras.utils.to_categorical(y, 10),
        batch_size=128,
        epochs=1,
        validation_split=0.1,
        verbose=0,
    )
    loss, accuracy = model.evaluate(x_test, keras.utils.to_categorical(y_test, 10), verbose=0)
    assert accuracy >= 0.97, f"convnet, 1 epoch: test loss {loss:.4f}, test accuracy {accuracy:.4f}"
