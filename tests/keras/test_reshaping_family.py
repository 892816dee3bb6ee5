"""Cropping, zero padding and upsampling in 1-D, 2-D and 3-D, Permute, RepeatVector and the
spatial, Gaussian and alpha dropouts: values against their NumPy closed forms, Keras 3's
configs (recorded from Keras 3.15.1: ``L.Cropping3D().get_config()`` etc.), output shapes,
gradients against finite differences and the errors for bad arguments."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import layers

rng = np.random.default_rng(0)
X1 = rng.standard_normal((2, 6, 3)).astype("float32")
X2 = rng.standard_normal((2, 5, 6, 3)).astype("float32")
X3 = rng.standard_normal((2, 4, 5, 3, 2)).astype("float32")


def test_configs_are_keras_configs():
    # Recorded with Keras 3.15.1: {k: v for k, v in L.X().get_config().items()
    #                              if k not in ("name", "dtype", "trainable")}
    expected = [
        (layers.Cropping1D(), {"cropping": (1, 1)}),
        (layers.Cropping2D(), {"cropping": ((0, 0), (0, 0)), "data_format": "channels_last"}),
        (
            layers.Cropping3D(),
            {"cropping": ((1, 1), (1, 1), (1, 1)), "data_format": "channels_last"},
        ),
        (layers.Cropping2D(2), {"cropping": ((2, 2), (2, 2)), "data_format": "channels_last"}),
        (layers.UpSampling1D(), {"size": 2}),
        (layers.UpSampling3D(), {"size": (2, 2, 2), "data_format": "channels_last"}),
        (layers.ZeroPadding1D(), {"padding": (1, 1), "data_format": "channels_last"}),
        (
            layers.ZeroPadding3D(),
            {"padding": ((1, 1), (1, 1), (1, 1)), "data_format": "channels_last"},
        ),
        (
            layers.ZeroPadding3D(2),
            {"padding": ((2, 2), (2, 2), (2, 2)), "data_format": "channels_last"},
        ),
        (layers.Permute((2, 1)), {"dims": (2, 1)}),
        (layers.RepeatVector(3), {"n": 3}),
        (layers.SpatialDropout1D(0.5), {"rate": 0.5, "seed": None}),
        (layers.SpatialDropout2D(0.5), {"rate": 0.5, "seed": None, "data_format": "channels_last"}),
        (layers.SpatialDropout3D(0.5), {"rate": 0.5, "seed": None, "data_format": "channels_last"}),
        (layers.GaussianDropout(0.5), {"rate": 0.5, "seed": None}),
        (layers.AlphaDropout(0.5), {"rate": 0.5, "seed": None, "noise_shape": None}),
    ]
    for layer, config in expected:
        found = layer.get_config()
        for key in ("name", "dtype", "trainable"):  # SpatialDropout leaves out trainable
            found.pop(key, None)
        assert found == config, type(layer).__name__
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


def test_cropping_equals_slicing():
    np.testing.assert_array_equal(layers.Cropping1D((1, 2))(X1).numpy(), X1[:, 1:4])
    np.testing.assert_array_equal(layers.Cropping2D(((1, 0), (2, 1)))(X2).numpy(), X2[:, 1:, 2:5])
    first = np.moveaxis(X2, -1, 1)  # (2, 3, 5, 6)
    np.testing.assert_array_equal(
        layers.Cropping2D((1, 2), data_format="channels_first")(first).numpy(),
        first[:, :, 1:4, 2:4],
    )
    np.testing.assert_array_equal(
        layers.Cropping3D(((1, 1), (0, 2), (1, 0)))(X3).numpy(), X3[:, 1:3, 0:3, 1:]
    )
    assert layers.Cropping3D().compute_output_shape((None, 4, 5, None, 2)) == (None, 2, 3, None, 2)
    with pytest.raises(ValueError, match="removes all of axis 1"):
        layers.Cropping1D((3, 3))(X1)
    with pytest.raises(ValueError, match="cropping"):
        layers.Cropping2D(((1, 2, 3), (1, 1)))


def test_zero_padding_equals_numpy_pad():
    np.testing.assert_array_equal(
        layers.ZeroPadding1D((2, 1))(X1).numpy(), np.pad(X1, ((0, 0), (2, 1), (0, 0)))
    )
    np.testing.assert_array_equal(
        layers.ZeroPadding3D((1, 0, 2))(X3).numpy(),
        np.pad(X3, ((0, 0), (1, 1), (0, 0), (2, 2), (0, 0))),
    )
    first = np.moveaxis(X3, -1, 1)
    np.testing.assert_array_equal(
        layers.ZeroPadding3D(((0, 1), (2, 0), (1, 1)), data_format="channels_first")(first).numpy(),
        np.pad(first, ((0, 0), (0, 0), (0, 1), (2, 0), (1, 1))),
    )
    np.testing.assert_array_equal(
        layers.ZeroPadding2D(((1, 0), (0, 2)))(X2).numpy(),
        np.pad(X2, ((0, 0), (1, 0), (0, 2), (0, 0))),
    )


def test_upsampling_repeats_entries():
    np.testing.assert_array_equal(layers.UpSampling1D(3)(X1).numpy(), np.repeat(X1, 3, axis=1))
    expected = np.repeat(np.repeat(np.repeat(X3, 2, axis=1), 1, axis=2), 3, axis=3)
    np.testing.assert_array_equal(layers.UpSampling3D((2, 1, 3))(X3).numpy(), expected)
    first = np.moveaxis(X3, -1, 1)
    np.testing.assert_array_equal(
        layers.UpSampling3D(2, data_format="channels_first")(first).numpy(),
        np.repeat(np.repeat(np.repeat(first, 2, axis=2), 2, axis=3), 2, axis=4),
    )
    np.testing.assert_array_equal(
        layers.UpSampling2D((2, 3))(X2).numpy(), np.repeat(np.repeat(X2, 2, 1), 3, 2)
    )
    assert layers.UpSampling3D().compute_output_shape((None, 2, None, 3, 4)) == (
        None,
        4,
        None,
        6,
        4,
    )


def test_permute_and_repeat_vector():
    np.testing.assert_array_equal(
        layers.Permute((3, 1, 2))(X3[..., 0]).numpy(), np.transpose(X3[..., 0], (0, 3, 1, 2))
    )
    assert layers.Permute((2, 1)).compute_output_shape((None, 10, 64)) == (None, 64, 10)
    y = layers.RepeatVector(4)(X1[:, 0]).numpy()
    np.testing.assert_array_equal(y, np.repeat(X1[:, None, 0], 4, axis=1))
    assert layers.RepeatVector(4).compute_output_shape((None, 3)) == (None, 4, 3)
    with pytest.raises(ValueError, match="consecutive and start from 1"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match="RepeatVector"):
        layers.RepeatVector(2)(X1)
    with pytest.raises(TypeError, match="`n`"):
        layers.RepeatVector(1.5)


def test_reshaping_gradients_match_finite_differences():
    cases = [
        (layers.Cropping1D((1, 2), dtype="float64"), X1),
        (layers.Cropping3D(((1, 1), (0, 2), (1, 0)), dtype="float64"), X3),
        (layers.ZeroPadding1D((2, 1), dtype="float64"), X1),
        (layers.ZeroPadding3D(1, dtype="float64"), X3),
        (layers.UpSampling1D(2, dtype="float64"), X1),
        (layers.UpSampling3D((1, 2, 2), dtype="float64"), X3),
        (layers.Permute((2, 1), dtype="float64"), X1),
        (layers.RepeatVector(3, dtype="float64"), X1[:, 0]),
    ]
    for layer, x in cases:
        assert cr.gradcheck(layer, x.astype(np.float64)) < 1e-6, type(layer).__name__


def test_spatial_dropout_drops_whole_channels():
    x = np.ones((8, 5, 4, 16), "float32")
    layer = layers.SpatialDropout2D(0.5, seed=1)
    np.testing.assert_array_equal(layer(x).numpy(), x)  # inference: the identity
    y = layer(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert np.all(y == y[:, :1, :1, :])  # one decision per sample and channel
    assert 0.3 < (y == 0).mean() < 0.7
    first = layers.SpatialDropout3D(0.5, data_format="channels_first", seed=2)
    y = first(np.ones((4, 6, 2, 3, 2), "float32"), training=True).numpy()
    assert np.all(y == y[:, :, :1, :1, :1])
    y = layers.SpatialDropout1D(0.5, seed=3)(np.ones((4, 7, 8), "float32"), training=True)
    assert np.all(y.numpy() == y.numpy()[:, :1])
    with pytest.raises(ValueError, match="expected ndim=4"):
        layer(np.ones((2, 3, 4), "float32"), training=True)


def test_gaussian_and_alpha_dropout_keep_the_statistics():
    x = np.ones((200, 500), "float32")
    y = layers.GaussianDropout(0.2, seed=0)(x, training=True).numpy()
    assert abs(y.mean() - 1.0) < 0.01
    assert abs(y.std() - np.sqrt(0.2 / 0.8)) < 0.01
    np.testing.assert_array_equal(layers.GaussianDropout(0.2)(x).numpy(), x)
    z = np.random.default_rng(1).standard_normal((400, 500)).astype("float32")
    alpha = layers.AlphaDropout(0.3, seed=0)
    y = alpha(z, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02  # self-normalising
    # dropped entries all take the same value a * (-alpha scale) + b
    a = (0.7 * (1 + 0.3 * (1.6732632423543772 * 1.0507009873554805) ** 2)) ** -0.5
    saturated = a * (-1.6732632423543772 * 1.0507009873554805) * 0.7
    assert 0.25 < np.isclose(y, saturated, atol=1e-6).mean() < 0.35
    np.testing.assert_array_equal(alpha(z).numpy(), z)
    with pytest.raises(ValueError, match="between 0 and 1"):
        layers.GaussianDropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        layers.AlphaDropout(-0.1)


def test_dropout_gradients_flow_through_the_drawn_noise():
    x = np.random.default_rng(2).standard_normal((3, 4, 5))
    for layer in (
        layers.SpatialDropout1D(0.4, seed=0, dtype="float64"),
        layers.GaussianDropout(0.4, seed=0, dtype="float64"),
        layers.AlphaDropout(0.4, seed=0, dtype="float64"),
    ):
        t = cr.Tensor(x, requires_grad=True)
        layer._generator = np.random.default_rng(5)
        y = layer(t, training=True)
        y.sum().backward()
        layer._generator = np.random.default_rng(5)
        again = layer(x + 1.0, training=True).numpy()
        # y is affine in x with the same noise: the slope is (again - y) / 1
        np.testing.assert_allclose(t.grad.numpy(), again - y.numpy(), atol=1e-10)
