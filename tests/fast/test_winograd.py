"""Winograd's F(2 x 2, 3 x 3) convolution (chainrule.fast.winograd) against the convolution it
replaces: the same numbers to rounding, in the tiled layout of the 2 x 2 max pooling, with and
without padding, and used only where it suits; its transforms compiled are the Python loops
they are written as; and a convnet trains with it as with the im2col products."""

import functools

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras, ops
from chainrule.fast import fused, kernels, winograd
from chainrule.fast.tiled import conv2d_tiled, tile_max, tiled_conv_gradients
from chainrule.ops.conv import conv_geometry

pytest.importorskip("numba")
rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def small_arrays_compiled(monkeypatch):
    """The compiled transforms down to the smallest arrays and three input channels (fit uses
    them from FUSED_FROM elements and FROM_CHANNELS channels)."""
    monkeypatch.setattr(fused, "FUSED_FROM", 1)
    monkeypatch.setattr(winograd, "FROM_CHANNELS", 3)
    monkeypatch.setattr(winograd, "GRADIENTS_FROM_CHANNELS", 3)


def _tiles_of(y):
    """y (N, Ho, Wo, F) by 2 x 2 window, by hand: t[n, 2 a + b, i, j] = y[n, 2 i + a, 2 j + b]."""
    n, ho, wo, f = y.shape
    t = np.empty((n, 4, ho // 2, wo // 2, f), y.dtype)
    for a in range(2):
        for b in range(2):
            t[:, 2 * a + b] = y[:, a : ho // 2 * 2 : 2, b : wo // 2 * 2 : 2]
    return t


def _draw(dtype, n, h, w, channels, filters):
    x = rng.standard_normal((n, h, w, channels)).astype(dtype)
    kernel = rng.standard_normal((3, 3, channels, filters)).astype(dtype)
    return x, kernel, rng.standard_normal(filters).astype(dtype)


def _used(x, kernel, padding):
    geo = conv_geometry("test", x.shape, kernel.shape, 1, padding, 1, 1)
    return winograd.suits(x, kernel.shape, geo, 1, kernel.dtype)


SHAPES = [  # (images, height, width, channels, filters, padding)
    (4, 13, 13, 32, 64, "valid"),  # the MNIST convnet's second layer
    (3, 11, 10, 3, 4, "valid"),  # odd and even sizes: the last row of outputs is no tile's
    (3, 11, 10, 5, 4, "same"),  # tiles at the border read the zero padding
    (2, 9, 12, 8, 7, "same"),
    (5, 6, 7, 4, 3, "same"),
]


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-6), (np.float64, 1e-14)])
@pytest.mark.parametrize("n, h, w, channels, filters, padding", SHAPES)
def test_the_convolution_is_conv2d_to_rounding(
    dtype, tolerance, n, h, w, channels, filters, padding
):
    """Within ``tolerance`` of the largest output of the convolution computed in float64, as
    close as the im2col product in the same dtype (float32: about 1e-7)."""
    x, kernel, bias = _draw(dtype, n, h, w, channels, filters)
    assert _used(x, kernel, padding)
    exact = ops.conv2d.forward(*(a.astype(np.float64) for a in (x, kernel, bias)), padding=padding)
    expected = _tiles_of(exact)
    t = conv2d_tiled(x, kernel, bias, tiles=(2, 2), padding=padding)
    assert t.dtype == dtype and t.shape == expected.shape
    scale = np.abs(expected).max()
    assert np.abs(t - expected).max() <= tolerance * scale
    without_bias = conv2d_tiled(x, kernel, tiles=(2, 2), padding=padding)
    assert np.abs(without_bias + bias - expected).max() <= tolerance * scale


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("n, h, w, channels, filters, padding", SHAPES)
@pytest.mark.parametrize("wrt", [("x", "kernel", "bias"), ("kernel", "bias"), ("x",)])
@pytest.mark.parametrize("gradients_from", [3, 10**9])
def test_the_blocks_gradients_are_the_engines_to_rounding(
    monkeypatch, dtype, tolerance, n, h, w, channels, filters, padding, wrt, gradients_from
):
    """tiled_conv_gradients gives the engine's gradients of relu(max_pool2d(conv2d(x, K, b))),
    computed in float64, within ``tolerance`` of each gradient's largest magnitude: through
    Winograd's transforms, and through im2col after Winograd's forward (fewer input channels
    than GRADIENTS_FROM_CHANNELS)."""
    monkeypatch.setattr(winograd, "GRADIENTS_FROM_CHANNELS", gradients_from)
    calls = []
    gradients = winograd.gradients
    monkeypatch.setattr(winograd, "gradients", lambda *a: calls.append(1) or gradients(*a))
    x, kernel, bias = _draw(dtype, n, h, w, channels, filters)
    params = {"padding": padding}
    tensors = [cr.Tensor(a.astype(np.float64), requires_grad=True) for a in (x, kernel, bias)]
    y_engine = ops.relu(ops.max_pool2d(ops.conv2d(*tensors, **params), pool_size=2))
    g = rng.standard_normal(y_engine.shape)
    (y_engine * g).sum().backward()
    t = conv2d_tiled(x, kernel, bias, tiles=(2, 2), **params)
    y = tile_max(t, relu=True)
    got = tiled_conv_gradients(
        g.astype(dtype), y, t, x, kernel, wrt=wrt, relu=True, tiles=(2, 2), **params
    )
    assert bool(calls) == (gradients_from == 3)
    expected = dict(zip(("x", "kernel", "bias"), (tensor.grad.numpy() for tensor in tensors)))
    for name, gradient in zip(wrt, got):
        assert gradient.dtype == dtype and gradient.shape == expected[name].shape
        scale = np.abs(expected[name]).max()
        assert np.abs(gradient - expected[name]).max() <= tolerance * scale, name


def test_a_filter_of_one_tap_picks_out_the_pixels():
    """A kernel whose one nonzero tap is 1 copies the input pixels it reads, exactly: the
    transforms add and subtract, and the products multiply by 0 and 1 (and ½, exactly)."""
    x = rng.integers(-8, 8, (2, 8, 8, 3)).astype(np.float32)
    kernel = np.zeros((3, 3, 3, 3), np.float32)
    for c in range(3):
        kernel[1, 2, c, c] = 1.0  # filter c = channel c of the pixel one row down, two right
    t = conv2d_tiled(x, kernel, tiles=(2, 2))
    np.testing.assert_array_equal(t, _tiles_of(x[:, 1:7, 2:8]))


@pytest.mark.parametrize(
    "channels, kernel_size, conv, tiles",
    [
        (1, 3, {}, (2, 2)),  # one channel: the im2col product is faster
        (4, 3, {"strides": 2}, (2, 2)),
        (4, 3, {"dilation_rate": 2}, (2, 2)),
        (4, 3, {"groups": 2}, (2, 2)),
        (4, 3, {}, (3, 2)),
        (4, 5, {}, (2, 2)),
    ],
)
def test_elsewhere_the_im2col_product_computes_it_bit_for_bit(
    monkeypatch, channels, kernel_size, conv, tiles
):
    calls = []
    convolve = winograd.convolve_tiled
    monkeypatch.setattr(winograd, "convolve_tiled", lambda *a: calls.append(1) or convolve(*a))
    x = rng.standard_normal((2, 12, 12, channels)).astype(np.float32)
    shape = (kernel_size, kernel_size, channels // conv.get("groups", 1), 4)
    kernel = rng.standard_normal(shape).astype(np.float32)
    y = ops.conv2d.forward(x, kernel, **conv)
    t = conv2d_tiled(x, kernel, tiles=tiles, **conv)
    assert not calls
    ph, pw = tiles
    hq, wq = y.shape[1] // ph, y.shape[2] // pw
    for a in range(ph):
        for b in range(pw):
            np.testing.assert_array_equal(
                t[:, a * pw + b], y[:, a : hq * ph : ph, b : wq * pw : pw]
            )


def test_without_numba_or_for_other_arrays_it_is_not_used(monkeypatch):
    x, kernel, _ = _draw(np.float32, 2, 8, 8, 4, 4)
    assert _used(x, kernel, "valid")
    assert not _used(x, kernel.astype(np.float64), "valid")  # dtypes that differ
    assert not _used(np.asfortranarray(x), kernel, "valid")  # not C-contiguous
    assert not _used(x.astype(np.float16), kernel.astype(np.float16), "valid")
    monkeypatch.setattr(fused, "compiled", lambda: None)
    assert not _used(x, kernel, "valid")


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_the_transforms_as_python_loops_are_the_compiled_ones(padding):
    # what Numba compiles, run by the interpreter: the same arithmetic on NumPy's scalars
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    (top, _), (left, _) = conv_geometry("test", x.shape, (3, 3, 3, 2), 1, padding, 1, 1).pads
    hq, wq = (3, 3) if padding == "same" else (2, 2)
    compiled, interpreted = (np.empty((16, 2 * hq * wq, 3), np.float32) for _ in range(2))
    fused.compiled().winograd_tiles(x, compiled, top, left, hq, wq)
    fused.winograd_tiles(x, interpreted, top, left, hq, wq)
    np.testing.assert_array_equal(compiled, interpreted)
    m, bias = rng.standard_normal((16, 2 * hq * wq, 5)).astype(np.float32), np.ones(5, np.float32)
    compiled, interpreted = (np.empty((2, 4, hq, wq, 5), np.float32) for _ in range(2))
    fused.compiled().winograd_untiles(m, bias, compiled.reshape(2, 2, 2, hq, wq, 5))
    fused.winograd_untiles(m, bias, interpreted.reshape(2, 2, 2, hq, wq, 5))
    np.testing.assert_array_equal(compiled, interpreted)
    dy = rng.standard_normal((2, 2, 2, hq, wq, 5)).astype(np.float32)
    compiled, interpreted = (np.empty((16, 2 * hq * wq, 5), np.float32) for _ in range(2))
    fused.compiled().winograd_gradient_tiles(dy, compiled)
    fused.winograd_gradient_tiles(dy, interpreted)
    np.testing.assert_array_equal(compiled, interpreted)
    dv = rng.standard_normal((16, 2 * hq * wq, 3)).astype(np.float32)
    compiled, interpreted = (np.ones((2, 2 * hq + 2, 2 * wq + 2, 3), np.float32) for _ in range(2))
    fused.compiled().winograd_untiles_add(dv.copy(), compiled, hq, wq)
    fused.winograd_untiles_add(dv.copy(), interpreted, hq, wq)
    np.testing.assert_array_equal(compiled, interpreted)


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("n, h, w, channels, filters, padding", SHAPES)
def test_a_convolution_on_its_own_and_its_gradients_are_conv2d_s(
    monkeypatch, dtype, tolerance, n, h, w, channels, filters, padding
):
    """Without a pooling after it (the kernels of conv2d and of its two gradients, the output
    in its own layout, odd sizes included), against the primitives in float64. The input
    gradient of a convolution of CONVOLVED_GRADIENT_CHANNELS input channels or more is a
    convolution of the output's gradient, by Winograd's algorithm too; of fewer, col2im's."""
    x, kernel, bias = _draw(dtype, n, h, w, channels, filters)
    params = {"padding": padding}
    tensors = [cr.Tensor(a.astype(np.float64), requires_grad=True) for a in (x, kernel, bias)]
    y_exact = ops.conv2d(*tensors, **params)
    g = rng.standard_normal(y_exact.shape)
    (y_exact * g).sum().backward()
    exact = [y_exact.numpy(), tensors[0].grad.numpy(), tensors[1].grad.numpy()]
    calls = []
    names = ("convolve", "kernel_gradient")
    for name in names:
        function = getattr(winograd, name)
        spy = functools.partial(lambda f, *a: calls.append(f.__name__) or f(*a), function)
        monkeypatch.setattr(winograd, name, spy)
    inputs = [cr.Tensor(a, requires_grad=True) for a in (x, kernel, bias)]
    with kernels.installed():  # as in fit: the kernels in place of the primitives
        y = ops.conv2d(*inputs, **params)
        (y * cr.Tensor(g.astype(dtype))).sum().backward()
    got = [y.numpy(), inputs[0].grad.numpy(), inputs[1].grad.numpy()]
    by_convolution = channels >= kernels.CONVOLVED_GRADIENT_CHANNELS
    assert sorted(calls) == sorted(names + ("convolve",) * by_convolution)
    for result, expected in zip(got, exact):
        assert result.dtype == dtype and result.shape == expected.shape
        assert np.abs(result - expected).max() <= tolerance * np.abs(expected).max()


def _train_convnet(x, y):
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(8, 3, activation="relu", padding="same"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    return history.history["loss"], model.get_weights()


def test_a_convnet_trains_with_it_as_with_the_im2col_products(monkeypatch):
    calls = []
    convolve = winograd.convolve_tiled
    monkeypatch.setattr(winograd, "convolve_tiled", lambda *a: calls.append(1) or convolve(*a))
    x = rng.standard_normal((64, 12, 12, 1)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 64)]
    losses, weights = _train_convnet(x, y)
    assert calls  # the second layer's forward ran by Winograd's algorithm in fit's steps
    monkeypatch.setattr(winograd, "FROM_CHANNELS", 10**9)
    calls.clear()
    im2col_losses, im2col_weights = _train_convnet(x, y)
    assert not calls
    np.testing.assert_allclose(losses, im2col_losses, rtol=1e-4)
    for w, v in zip(weights, im2col_weights):
        np.testing.assert_allclose(w, v, rtol=1e-3, atol=1e-5)
