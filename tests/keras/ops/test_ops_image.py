"""keras.ops.image: values recorded from real Keras 3.15.1 on JAX, closed forms, and float64
gradient checks.

The recorded values came from this script (KERAS_BACKEND=jax)::

    img = (np.arange(12, dtype="float32").reshape(1, 3, 4, 1) ** 1.5) / 10
    keras.ops.image.resize(img, size, interpolation=m, antialias=aa)[0, :, :, 0]
    a = np.arange(12.0).reshape(3, 4)
    c = np.array([[0.5, 1.5, -0.7, 2.6], [1.5, 2.5, 3.9, -1.2]])
    keras.ops.image.map_coordinates(a, c, order, fill_mode=mode, fill_value=-1.0)
    x = np.arange(2 * 3 * 4 * 3, dtype="float32").reshape(2, 3, 4, 3) / 24
    t = np.array([[1, 0, 0, 0, 1, 0, 0, 0], [0.9, 0.1, 0.5, -0.2, 1.1, 0.3, 0, 0]], "float32")
    keras.ops.image.affine_transform(x, t)[1, :, :, 2]
    keras.ops.image.rgb_to_hsv(x[0, :1])
    keras.ops.image.ssim(x, x[::-1] * 0.9, filter_size=3)
    start = np.array([[0, 0], [3, 0], [0, 2], [3, 2]], "float32")
    end = np.array([[1, 0], [3, 1], [0, 2], [2, 2]], "float32")
    keras.ops.image.perspective_transform(x[0], start, end)[:, :, 0]
    keras.ops.image.scale_and_translate(img, (1, 2, 5, 1), np.array([0.8, 1.3], "float32"),
                                        np.array([0.5, -1.0], "float32"), (1, 2), "cubic")
    keras.ops.image.sobel_edges(img)[0, :, :, 0]
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import ops

image = ops.image
rng = np.random.default_rng(3)
IMG = (np.arange(12, dtype="float32").reshape(1, 3, 4, 1) ** 1.5) / 10
X = np.arange(2 * 3 * 4 * 3, dtype="float32").reshape(2, 3, 4, 3) / 24


def _np(t):
    return t.numpy() if isinstance(t, cr.Tensor) else np.asarray(t)


RESIZED = {
    ("bilinear", False, (2, 5)): [
        [0.2, 0.308156, 0.467032, 0.661504, 0.852718],
        [1.897056, 2.182273, 2.52182, 2.877159, 3.199222],
    ],
    ("bilinear", True, (2, 3)): [
        [0.354529, 0.604837, 0.931862],
        [1.831978, 2.317161, 2.84055],
    ],
    ("nearest", False, (5, 3)): [
        [0.0, 0.282843, 0.519615],
        [0.0, 0.282843, 0.519615],
        [0.8, 1.469694, 1.852026],
        [2.262742, 3.162278, 3.648287],
        [2.262742, 3.162278, 3.648287],
    ],
    ("bicubic", False, (4, 6)): [
        [-0.047621, -0.010329, 0.070242, 0.187659, 0.352404, 0.465089],
        [0.38376, 0.489686, 0.670377, 0.858227, 1.094277, 1.249786],
        [1.377232, 1.556081, 1.84552, 2.115404, 2.436828, 2.644325],
        [2.309977, 2.520321, 2.858957, 3.17105, 3.538396, 3.774453],
    ],
    ("bicubic", True, (2, 3)): [
        [0.250039, 0.507543, 0.857281],
        [1.858299, 2.400658, 2.985237],
    ],
    ("lanczos3", False, (2, 6)): [
        [0.051105, 0.102164, 0.22029, 0.348964, 0.557097, 0.672794],
        [2.014795, 2.199382, 2.553943, 2.831328, 3.220015, 3.429112],
    ],
    ("lanczos5", True, (5, 2)): [
        [0.066444, 0.39327],
        [0.103718, 0.522891],
        [0.960516, 1.651806],
        [2.14959, 3.043208],
        [2.565663, 3.472066],
    ],
}


@pytest.mark.parametrize("method, antialias, size", list(RESIZED))
def test_resize_matches_real_keras(method, antialias, size):
    out = image.resize(IMG, size, interpolation=method, antialias=antialias)
    assert out.shape == (1,) + size + (1,) and out.dtype == np.float32
    np.testing.assert_allclose(_np(out)[0, :, :, 0], RESIZED[method, antialias, size], atol=2e-6)


def test_resize_layouts_ranks_and_integers():
    x = rng.random((2, 5, 6, 3)).astype("float32")
    last = _np(image.resize(x, (3, 4)))
    first = _np(image.resize(x.transpose(0, 3, 1, 2), (3, 4), data_format="channels_first"))
    np.testing.assert_allclose(first.transpose(0, 2, 3, 1), last, atol=1e-6)
    np.testing.assert_allclose(_np(image.resize(x[0], (3, 4))), last[0], atol=1e-6)
    np.testing.assert_allclose(_np(image.resize(x, (5, 6))), x)  # same size: unchanged
    ints = np.array([[0, 255], [255, 0]], "uint8").reshape(1, 2, 2, 1)
    out = image.resize(ints, (3, 3))
    assert out.dtype == np.uint8 and _np(out)[0, 1, 1, 0] == 128  # 127.5 rounds half to even
    assert image.resize(ints, (4, 4), interpolation="nearest").dtype == np.uint8


def test_resize_to_aspect_ratio():
    x = rng.random((1, 4, 8, 1)).astype("float32")
    cropped = image.resize(x, (2, 2), crop_to_aspect_ratio=True)
    np.testing.assert_allclose(_np(cropped), _np(image.resize(x[:, :, 2:6], (2, 2))), atol=1e-6)
    padded = _np(image.resize(x, (8, 8), pad_to_aspect_ratio=True, fill_value=0.5))
    assert padded.shape == (1, 8, 8, 1) and np.all(padded[0, :2] == 0.5)
    with pytest.raises(ValueError, match="resize: interpolation must be one of"):
        image.resize(x, (2, 2), interpolation="area")


def test_resize_gradients():
    x = rng.standard_normal((1, 4, 5, 2))
    for method in ("bilinear", "nearest", "bicubic", "lanczos3"):
        cr.gradcheck(lambda a, m=method: image.resize(a, (3, 7), interpolation=m), x)
    cr.gradcheck(lambda a: image.resize(a, (2, 2), antialias=True), x)


MAPPED = {
    "constant": [[6.0, 11.0, -1.0, -1.0], [3.5, 8.5, -0.88, -1.0]],
    "nearest": [[6.0, 11.0, 3.0, 8.0], [3.5, 8.5, 3.0, 8.0]],
    "wrap": [[6.0, 11.0, 8.0, 3.0], [3.5, 8.5, 5.9, 6.0]],
    "mirror": [[6.0, 11.0, 6.0, 5.0], [3.5, 8.5, 4.9, 6.8]],
    "reflect": [[6.0, 11.0, 3.0, 8.0], [3.5, 8.5, 3.0, 8.2]],
}


@pytest.mark.parametrize("mode", list(MAPPED))
def test_map_coordinates_matches_real_keras(mode):
    a = np.arange(12.0).reshape(3, 4)
    c = np.array([[0.5, 1.5, -0.7, 2.6], [1.5, 2.5, 3.9, -1.2]])
    for order in (0, 1):
        out = image.map_coordinates(a, c, order, fill_mode=mode, fill_value=-1.0)
        np.testing.assert_allclose(_np(out), MAPPED[mode][order], atol=1e-5)


def test_map_coordinates_gradients_reach_input_and_coordinates():
    c = np.array([[0.3, 1.6, 2.2], [0.4, 2.7, 1.1]])
    cr.gradcheck(lambda a, c: image.map_coordinates(a, c, 1), rng.standard_normal((3, 4)), c)
    with pytest.raises(ValueError, match="map_coordinates: order must be 0 or 1"):
        image.map_coordinates(np.ones((2, 2)), c[:, :1], 3)


def test_affine_transform_matches_real_keras_and_identity():
    t = np.array([[1, 0, 0, 0, 1, 0, 0, 0], [0.9, 0.1, 0.5, -0.2, 1.1, 0.3, 0, 0]], "float32")
    out = _np(image.affine_transform(X, t))
    np.testing.assert_allclose(out[0], X[0])  # the identity transform
    expected = [
        [1.795833, 1.808333, 1.68375, 1.096667],
        [2.358333, 2.370833, 2.383333, 1.650834],
        [1.335417, 1.948333, 2.60625, 1.745],
    ]
    np.testing.assert_allclose(out[1, :, :, 2], expected, atol=2e-6)
    cr.gradcheck(
        lambda x, t: image.affine_transform(x, t, fill_mode="reflect"),
        rng.standard_normal((1, 3, 4, 2)),
        np.array([0.93, 0.11, 0.37, -0.17, 1.07, 0.29, 0.0, 0.0]),  # no sample on a pixel
    )


def test_perspective_transform_matches_real_keras():
    start = np.array([[0, 0], [3, 0], [0, 2], [3, 2]], "float32")
    end = np.array([[1, 0], [3, 1], [0, 2], [2, 2]], "float32")
    out = _np(image.perspective_transform(X[0], start, end))
    expected = [
        [0.055363, 0.0, 0.059911, 0.055785],
        [0.296296, 0.396739, 0.388158, 0.375],
        [1.0, 1.140625, 1.375, 0.0],
    ]
    np.testing.assert_allclose(out[:, :, 0], expected, atol=2e-6)
    np.testing.assert_allclose(_np(image.perspective_transform(X, start, start)), X, atol=1e-6)


def test_scale_and_translate_matches_real_keras():
    out = image.scale_and_translate(
        IMG, (1, 2, 5, 1), np.array([0.8, 1.3]), np.array([0.5, -1.0]), (1, 2), "cubic"
    )
    expected = [
        [-0.041176, 0.057942, 0.207781, 0.380136, 0.0],
        [0.68979, 0.915625, 1.16426, 1.422308, 0.0],
    ]
    np.testing.assert_allclose(_np(out)[0, :, :, 0], expected, atol=2e-6)


def test_elastic_transform_is_seeded_and_keeps_shape():
    x = rng.random((2, 8, 9, 3)).astype("float32")
    a = _np(image.elastic_transform(x, alpha=2.0, sigma=1.0, seed=4))
    b = _np(image.elastic_transform(x, alpha=2.0, sigma=1.0, seed=4))
    assert a.shape == x.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(_np(image.elastic_transform(x, alpha=0.0, seed=1)), x, atol=1e-6)


def test_crop_and_pad_images():
    x = rng.random((2, 5, 6, 3))
    out = _np(image.crop_images(x, 1, 2, target_height=3, right_cropping=1))
    np.testing.assert_array_equal(out, x[:, 1:4, 2:5])
    out = _np(image.pad_images(x, 1, 2, target_height=9, right_padding=1))
    assert out.shape == (2, 9, 9, 3)
    np.testing.assert_array_equal(out[:, 1:6, 2:8], x)
    assert out.sum() == pytest.approx(x.sum())
    first = _np(image.pad_images(x.transpose(0, 3, 1, 2), 1, 1, 1, 1, data_format="channels_first"))
    assert first.shape == (2, 3, 7, 8)
    with pytest.raises(ValueError, match="crop_images: pass exactly two of top_cropping"):
        image.crop_images(x, 1, 1, bottom_cropping=1, target_height=2, target_width=2)
    with pytest.raises(ValueError, match="pad_images: the top padding comes out negative"):
        image.pad_images(x, left_padding=0, right_padding=0, bottom_padding=0, target_height=3)
    cr.gradcheck(lambda a: image.crop_images(a, 1, 1, target_height=2, target_width=3), x[:1])
    cr.gradcheck(lambda a: image.pad_images(a, 2, 0, 1, 1), x[:1, :3, :3])


def test_colour_conversions():
    gray = _np(image.rgb_to_grayscale(X))
    np.testing.assert_allclose(gray[..., 0], X @ np.array([0.2989, 0.587, 0.114]), rtol=1e-6)
    assert image.rgb_to_grayscale(X[..., :1]).shape == (2, 3, 4, 1)
    ints = image.rgb_to_grayscale(np.full((2, 2, 3), 100, "uint8"))
    assert ints.dtype == np.uint8 and _np(ints).max() == 99  # 99.99 cast down, as Keras
    expected = [
        [0.583333, 1.0, 0.083333],
        [0.583333, 0.4, 0.208333],
        [0.583333, 0.25, 0.333333],
        [0.583333, 0.181818, 0.458333],
    ]
    np.testing.assert_allclose(_np(image.rgb_to_hsv(X[0, :1]))[0], expected, atol=2e-6)
    rgb = rng.random((2, 4, 5, 3)).astype("float32")
    np.testing.assert_allclose(_np(image.hsv_to_rgb(image.rgb_to_hsv(rgb))), rgb, atol=1e-5)
    first = _np(image.rgb_to_hsv(rgb.transpose(0, 3, 1, 2), data_format="channels_first"))
    np.testing.assert_allclose(first.transpose(0, 2, 3, 1), _np(image.rgb_to_hsv(rgb)))
    with pytest.raises(ValueError, match="rgb_to_hsv: expects float images"):
        image.rgb_to_hsv(np.ones((2, 2, 3), "uint8"))
    cr.gradcheck(image.rgb_to_grayscale, rng.random((1, 2, 3, 3)))
    cr.gradcheck(image.hsv_to_rgb, rng.uniform(0.05, 0.95, (2, 3, 3)))


def test_filters():
    edges = _np(image.sobel_edges(IMG))
    assert edges.shape == (1, 3, 4, 1, 2)
    np.testing.assert_allclose(
        edges[0, 0, :, 0],
        [[2.718034, 1.318034], [4.505762, 1.235379], [5.909448, 1.573222], [5.173745, -2.035379]],
        atol=2e-6,
    )
    delta = np.zeros((1, 5, 5, 1), "float32")
    delta[0, 2, 2, 0] = 1.0
    blurred = _np(image.gaussian_blur(delta, (3, 5), (1.0, 2.0)))[0, :, :, 0]
    rows = np.exp(-0.5 * (np.arange(-2, 3) / 2.0) ** 2)  # 5 taps, sigma 2, down the rows
    cols = np.exp(-0.5 * (np.arange(-1, 2) / 1.0) ** 2)  # 3 taps, sigma 1, across
    np.testing.assert_allclose(
        blurred[:, 1:4], np.outer(rows / rows.sum(), cols / cols.sum()), rtol=1e-6
    )
    assert np.all(blurred[:, [0, 4]] == 0)
    cr.gradcheck(
        lambda a: image.gaussian_blur(a, (3, 3), (1.0, 1.5)), rng.standard_normal((1, 4, 4, 2))
    )
    cr.gradcheck(image.sobel_edges, rng.standard_normal((1, 3, 4, 1)))


def test_ssim_matches_real_keras_and_is_one_on_itself():
    out = image.ssim(X, X[::-1] * 0.9, filter_size=3)
    np.testing.assert_allclose(_np(out), [0.636707, 0.537402], atol=2e-6)
    x = rng.random((12, 12, 3))
    assert image.ssim(x, x).item() == pytest.approx(1.0)
    cr.gradcheck(
        lambda a, b: image.ssim(a, b, filter_size=3),
        rng.random((1, 4, 4, 1)),
        rng.random((1, 4, 4, 1)),
    )


def test_extract_patches():
    x = np.arange(2 * 4 * 6 * 3, dtype="float32").reshape(2, 4, 6, 3)
    out = _np(image.extract_patches(x, 2))
    assert out.shape == (2, 2, 3, 12)
    np.testing.assert_array_equal(out[1, 1, 2], x[1, 2:4, 4:6].reshape(-1))  # (tap, channel) order
    same = _np(image.extract_patches(x, (3, 2), strides=(2, 3), padding="same"))
    assert same.shape == (2, 2, 2, 18)
    # "same" pads height 4 for 3-row windows every 2 rows with one row at the bottom (as TF)
    np.testing.assert_array_equal(same[0, 1, 0].reshape(3, 2, 3)[2], 0)
    np.testing.assert_array_equal(same[0, 0, 0].reshape(3, 2, 3)[0], x[0, 0, :2])
    dilated = _np(image.extract_patches(x, 2, strides=1, dilation_rate=2))
    np.testing.assert_array_equal(dilated[0, 0, 0].reshape(2, 2, 3)[1, 1], x[0, 2, 2])
    v = rng.random((1, 4, 5, 6, 2))
    p3 = _np(image.extract_patches_3d(v, 2))
    assert p3.shape == (1, 2, 2, 3, 16)
    np.testing.assert_allclose(p3[0, 1, 0, 2], v[0, 2:4, 0:2, 4:6].reshape(-1))
    assert image.extract_patches(v[0], (2, 3, 2), strides=(1, 2, 2), padding="same").shape == (
        4,
        3,
        3,
        24,
    )
    with pytest.raises(ValueError, match="extract_patches: patches of size"):
        image.extract_patches(x, 5)
    cr.gradcheck(
        lambda a: image.extract_patches(a, 2, strides=1), rng.standard_normal((1, 3, 3, 2))
    )
