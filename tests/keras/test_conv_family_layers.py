"""Conv3D, the transposed convolutions and the 1-D/3-D and global poolings: Keras 3's weights,
configs and output shapes, values equal to real Keras's on fixed weights, gradients against
finite differences, and the keras-io MNIST convolutional autoencoder and conditional-GAN
generator built and trained.

Expected values were recorded with Keras 3.15.1 on JAX (KERAS_BACKEND=jax); ``fill`` sets every
weight, in ``layer.weights`` order, to 0.5 * default_rng(seed).standard_normal(shape), and each
output is stored as (shape, sum, sum of y.ravel() * cos(arange(size)), first 4 values)::

    xi = data(30, 2, 3, 3, 2)
    t = L.Conv2DTranspose(3, 3, strides=2, padding="same"); t(xi); fill(t, 31)
    rec("convt2_same", t(xi))
    t = L.Conv2DTranspose(2, (2, 3), strides=(2, 1), padding="valid", output_padding=(1, 0),
                          data_format="channels_first"); t(xi); fill(t, 32)
    rec("convt2_cf", t(xi))
    xs = data(33, 2, 4, 3)
    t = L.Conv1DTranspose(2, 3, strides=2, dilation_rate=1); t(xs); fill(t, 34)
    rec("convt1", t(xs))
    xv = data(35, 1, 2, 3, 2, 2)
    t = L.Conv3DTranspose(2, 2, strides=(2, 1, 1), padding="same"); t(xv); fill(t, 36)
    rec("convt3", t(xv))
    c = L.Conv3D(3, (2, 2, 1), padding="same", strides=(1, 2, 1)); c(xv); fill(c, 37)
    rec("conv3d", c(xv))
    rec("maxpool1", L.MaxPooling1D(2, strides=1, padding="same")(xs))
    rec("avgpool3", L.AveragePooling3D((2, 2, 1), padding="same")(xv))
    rec("gap1_mask", L.GlobalAveragePooling1D()(xs, mask=np.array([[1, 1, 0, 0],
                                                                   [1, 1, 1, 1]], bool)))
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers

KERAS = {
    "convt2_same": ((2, 6, 6, 3), -77.9505, -4.3907, [-0.7703, 0.09343, 0.33131, 0.16055]),
    "convt2_cf": ((2, 2, 7, 4), -66.6016, -2.4911, [-0.51455, 0.57296, 0.76209, -0.18864]),
    "convt1": ((2, 9, 2), -0.0283, -2.8906, [1.53936, -0.59024, 0.40982, -0.59385]),
    "convt3": ((1, 4, 3, 2, 2), 18.0556, 1.3609, [0.65644, 0.63202, -1.19355, 0.13318]),
    "conv3d": ((1, 2, 2, 2, 3), -10.4371, -0.0557, [-1.45226, -0.15078, -0.403, 3.31031]),
    "maxpool1": ((2, 4, 3), 2.3245, 1.8617, [0.39837, -0.56282, 1.00165, 0.04212]),
    "avgpool3": ((1, 1, 2, 2, 2), -1.6653, -1.2259, [0.3952, 0.35387, 0.28606, -0.22556]),
    "gap1_mask": ((2, 3), -0.83, -0.6051, [0.22024, -1.06686, 0.79524, 0.62302]),
}


def fill(layer, seed):
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [(rng.standard_normal(w.shape) * 0.5).astype("float32") for w in layer.weights]
    )


def data(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def check(name, y):
    """y against the fingerprint of Keras's output ``name``."""
    shape, total, weighted, first = KERAS[name]
    y = np.asarray(y.numpy(), dtype=np.float64)
    assert y.shape == shape
    flat = y.ravel()
    assert flat.sum() == pytest.approx(total, abs=2e-3)
    assert (flat * np.cos(np.arange(flat.size))).sum() == pytest.approx(weighted, abs=2e-3)
    np.testing.assert_allclose(flat[: len(first)], first, atol=2e-5)


XI, XS, XV = data(30, 2, 3, 3, 2), data(33, 2, 4, 3), data(35, 1, 2, 3, 2, 2)


def test_transposed_convolutions_equal_keras():
    layer = layers.Conv2DTranspose(3, 3, strides=2, padding="same")
    layer(XI)
    assert [(w.name, w.shape) for w in layer.weights] == [("kernel", (3, 3, 3, 2)), ("bias", (3,))]
    fill(layer, 31)
    check("convt2_same", layer(XI))
    assert layer.compute_output_shape((None, 3, 3, 2)) == (None, 6, 6, 3)
    first = layers.Conv2DTranspose(
        2, (2, 3), strides=(2, 1), output_padding=(1, 0), data_format="channels_first"
    )
    first(XI)
    assert first.kernel.shape == (2, 3, 2, 3)
    fill(first, 32)
    check("convt2_cf", first(XI))
    assert first.compute_output_shape((None, 3, 3, 2)) == (None, 2, 7, 4)
    one = layers.Conv1DTranspose(2, 3, strides=2)
    one(XS)
    fill(one, 34)
    check("convt1", one(XS))
    three = layers.Conv3DTranspose(2, 2, strides=(2, 1, 1), padding="same")
    three(XV)
    assert three.kernel.shape == (2, 2, 2, 2, 2)
    fill(three, 36)
    check("convt3", three(XV))


def test_conv3d_and_poolings_equal_keras():
    layer = layers.Conv3D(3, (2, 2, 1), padding="same", strides=(1, 2, 1))
    layer(XV)
    assert [(w.name, w.shape) for w in layer.weights] == [
        ("kernel", (2, 2, 1, 2, 3)),
        ("bias", (3,)),
    ]
    fill(layer, 37)
    check("conv3d", layer(XV))
    check("maxpool1", layers.MaxPooling1D(2, strides=1, padding="same")(XS))
    check("avgpool3", layers.AveragePooling3D((2, 2, 1), padding="same")(XV))
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    check("gap1_mask", layers.GlobalAveragePooling1D()(XS, mask=mask))


def test_configs_are_keras_configs():
    config = layers.Conv2DTranspose(3, 2).get_config()
    for key, value in {
        "filters": 3,
        "kernel_size": (2, 2),
        "strides": (1, 1),
        "padding": "valid",
        "output_padding": None,
        "data_format": "channels_last",
        "dilation_rate": (1, 1),
        "activation": "linear",
        "use_bias": True,
    }.items():
        assert config[key] == value, key
    assert "groups" not in config
    assert layers.Conv1DTranspose(3, 2).get_config()["kernel_size"] == (2,)
    config = layers.Conv3D(3, 2).get_config()
    assert (config["kernel_size"], config["strides"], config["groups"]) == ((2, 2, 2), (1, 1, 1), 1)
    config = layers.MaxPooling1D().get_config()
    assert (config["pool_size"], config["strides"], config["padding"]) == ((2,), (2,), "valid")
    config = layers.AveragePooling3D(2).get_config()
    assert (config["pool_size"], config["strides"]) == ((2, 2, 2), (2, 2, 2))
    config = layers.GlobalMaxPooling3D().get_config()
    assert (config["data_format"], config["keepdims"]) == ("channels_last", False)
    clone = layers.Conv3DTranspose.from_config(layers.Conv3DTranspose(4, 3, strides=2).get_config())
    assert clone.strides == (2, 2, 2) and clone.filters == 4


def test_output_shapes_of_the_family():
    cases = [
        (layers.Conv1DTranspose(4, 3, strides=3), (None, 5, 2), (None, 15, 4)),
        (layers.Conv1DTranspose(4, 2, strides=3), (None, 5, 2), (None, 15, 4)),
        (
            layers.Conv2DTranspose(4, 5, strides=2, padding="valid"),
            (None, 7, 7, 2),
            (None, 17, 17, 4),
        ),
        (layers.Conv2DTranspose(4, 3, dilation_rate=2), (None, 7, 7, 2), (None, 11, 11, 4)),
        (layers.Conv3D(5, 3), (None, 6, 7, 8, 2), (None, 4, 5, 6, 5)),
        (layers.MaxPooling3D(), (None, 6, 7, 8, 2), (None, 3, 3, 4, 2)),
        (layers.AveragePooling1D(3, padding="same"), (None, 7, 2), (None, 3, 2)),
        (layers.GlobalAveragePooling3D(keepdims=True), (None, 6, 7, 8, 2), (None, 1, 1, 1, 2)),
        (layers.GlobalMaxPooling1D(data_format="channels_first"), (None, 6, 7), (None, 6)),
    ]
    for layer, input_shape, expected in cases:
        assert layer.compute_output_shape(input_shape) == expected, layer
        x = np.zeros((1,) + input_shape[1:], "float32")
        assert layer(x).shape == (1,) + expected[1:], layer


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_transposed_convolution_gradients_match_finite_differences(data_format):
    layer = layers.Conv2DTranspose(
        2,
        (3, 2),
        strides=(2, 1),
        padding="same",
        activation="tanh",
        data_format=data_format,
        dtype="float64",
    )
    x = data(60, 2, 3, 4, 3).astype(np.float64)
    layer(x)

    def fn(x, kernel, bias):
        layer.kernel, layer.bias = kernel, bias
        return layer(x)

    assert cr.gradcheck(fn, x, layer.kernel.numpy(), layer.bias.numpy() + 0.1) < 1e-4
    three = layers.Conv3DTranspose(2, 2, strides=2, dtype="float64")
    x3 = data(61, 1, 2, 2, 3, 2).astype(np.float64)
    three(x3)

    def fn3(x, kernel, bias):
        three.kernel, three.bias = kernel, bias
        return three(x)

    assert cr.gradcheck(fn3, x3, three.kernel.numpy(), three.bias.numpy() + 0.1) < 1e-4


def test_conv3d_and_pooling_gradients_match_finite_differences():
    layer = layers.Conv3D(2, 2, padding="same", dtype="float64")
    x = data(62, 1, 3, 3, 2, 2).astype(np.float64)
    layer(x)

    def fn(x, kernel, bias):
        layer.kernel, layer.bias = kernel, bias
        return layer(x)

    assert cr.gradcheck(fn, x, layer.kernel.numpy(), layer.bias.numpy() + 0.1) < 1e-4
    for pool in (
        layers.MaxPooling1D(2, strides=1, dtype="float64"),
        layers.AveragePooling3D(2, padding="same", dtype="float64"),
        layers.MaxPooling3D(2, dtype="float64"),
        layers.GlobalMaxPooling3D(dtype="float64"),
    ):
        shape = (2, 5, 3) if isinstance(pool, layers.MaxPooling1D) else (1, 4, 3, 2, 2)
        assert cr.gradcheck(pool, data(63, *shape).astype(np.float64)) < 1e-4
    mask = np.array([[1, 0, 1, 1], [0, 1, 1, 0]], bool)
    masked = layers.GlobalAveragePooling1D(dtype="float64")
    assert cr.gradcheck(lambda x: masked(x, mask=mask), XS.astype(np.float64)) < 1e-4


def test_bad_arguments_and_inputs_are_refused():
    with pytest.raises(ValueError, match="output_padding"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="filters"):
        layers.Conv1DTranspose(0, 3)
    layer = layers.Conv2DTranspose(2, 3)
    layer(XI)
    with pytest.raises(Exception, match="expected axis -1 of input shape to have value 2"):
        layer(np.zeros((1, 3, 3, 5), "float32"))
    with pytest.raises(Exception, match="expected ndim=5"):
        layers.Conv3D(2, 2)(np.zeros((1, 3, 3, 2), "float32"))
    with pytest.raises(ValueError, match="pooling window"):
        layers.MaxPooling3D(4)(np.zeros((1, 3, 3, 3, 1), "float32"))


def test_mnist_convolutional_autoencoder_trains():
    keras.utils.set_random_seed(0)
    # keras-io examples/vision/autoencoder.py, on 16 x 16 digits-like blobs for speed.
    rng = np.random.default_rng(0)
    images = np.zeros((64, 16, 16, 1), "float32")
    for image in images:
        r, c = rng.integers(2, 10, size=2)
        image[r : r + 5, c : c + 5] = 1.0
    inputs = layers.Input(shape=(16, 16, 1))
    x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2DTranspose(8, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(8, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    autoencoder = keras.Model(inputs, x)
    assert autoencoder.output_shape == (None, 16, 16, 1)
    autoencoder.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    history = autoencoder.fit(images, images, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]


def test_conditional_gan_generator_builds_and_trains():
    keras.utils.set_random_seed(0)
    # The generator of keras-io examples/generative/conditional_gan.py: a latent vector plus a
    # one-hot class, to a 28 x 28 image by Dense, Reshape and Conv2DTranspose with LeakyReLU;
    # a Cropping2D trims a 32 x 32 variant back to 28 x 28.
    latent_dim, num_classes = 16, 10
    generator = keras.Sequential(
        [
            keras.layers.InputLayer((latent_dim + num_classes,)),
            layers.Dense(4 * 4 * 16),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((4, 4, 16)),
            layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(4, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Cropping2D(((2, 2), (2, 2))),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )
    assert generator.output_shape == (None, 28, 28, 1)
    rng = np.random.default_rng(1)
    codes = rng.standard_normal((16, latent_dim + num_classes)).astype("float32")
    # each code's target: a gray level set by its one-hot class part
    targets = np.broadcast_to(
        (0.1 + 0.08 * np.argmax(codes[:, latent_dim:], axis=1))[:, None, None, None],
        (16, 28, 28, 1),
    ).astype("float32")
    generator.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = generator.fit(codes, targets, epochs=8, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
