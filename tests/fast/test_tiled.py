"""The tiled convolution of chainrule.fast.tiled against the primitives it replaces: the same
numbers in the pooling's order, the pooling's maximum, and the block's gradients in one call equal
to what the engine gets by chaining max_pool2d's and conv2d's VJPs, with the products made for
all images at once or one image at a time."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.fast import fused, kernels, threads, winograd
from chainrule.fast.tiled import conv2d_tiled, tile_max, tiled_conv_gradients

rng = np.random.default_rng(0)


@pytest.fixture(autouse=True, params=["numba", "numpy"])
def pooling_loops(request, monkeypatch):
    """Every test twice: the pooling and its routing by the compiled loops of
    chainrule.fast.fused (down to the smallest arrays), and by NumPy."""
    if request.param == "numba":
        pytest.importorskip("numba")
        monkeypatch.setattr(fused, "FUSED_FROM", 1)
    else:
        monkeypatch.setattr(fused, "compiled", lambda: None)


@pytest.fixture(autouse=True, params=["whole", "one image a chunk"])
def product_chunks(request, monkeypatch):
    """Every test with the convolutions' im2col matrices made for all images at once (as
    outside a training call), and one image at a time (as where chainrule's threads run the
    products, with the smallest chunks)."""
    if request.param == "one image a chunk":
        monkeypatch.setattr(kernels, "PRODUCT_CHUNK", 1)
        monkeypatch.setattr(kernels, "PRODUCT_ROWS", 1)
        monkeypatch.setattr(threads, "blas_in_calling_thread", lambda: True)


def _tiles_of(y, ph, pw):
    """y (N, Ho, Wo, F) rearranged by hand: t[n, a pw + b, i, j] = y[n, i ph + a, j pw + b]."""
    n, ho, wo, f = y.shape
    hq, wq = ho // ph, wo // pw
    t = np.empty((n, ph * pw, hq, wq, f), dtype=y.dtype)
    for a in range(ph):
        for b in range(pw):
            t[:, a * pw + b] = y[:, a : hq * ph : ph, b : wq * pw : pw]
    return t


BLOCKS = [
    (3, (2, 2), {}),
    (1, (2, 2), {}),  # one input channel: the matrix is filled tap by tap, the bias in it
    (4, (3, 2), {"strides": (2, 1), "padding": "same", "groups": 2}),
    (2, (2, 3), {"dilation_rate": 2}),
]


@pytest.mark.parametrize("channels, tiles, conv", BLOCKS)
def test_a_tiled_convolution_is_the_same_numbers_in_the_pooling_order(
    monkeypatch, channels, tiles, conv
):
    """conv2d_tiled through im2col products is conv2d's output rearranged by window (trailing
    rows and columns that fill no window dropped), bit for bit; tile_max of it is max_pool2d of
    the output, relu included. (Where Winograd's algorithm computes it, the numbers are the
    same to rounding: tests/fast/test_winograd.py.)"""
    monkeypatch.setattr(winograd, "transformed_kernel", lambda *arguments: None)
    x = rng.standard_normal((3, 11, 10, channels)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, channels // conv.get("groups", 1), 4)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    y = ops.conv2d.forward(x, kernel, bias, **conv)
    t = conv2d_tiled(x, kernel, bias, tiles=tiles, **conv)
    np.testing.assert_array_equal(t, _tiles_of(y, *tiles))
    pooled = ops.max_pool2d.forward(y, pool_size=tiles)
    np.testing.assert_array_equal(tile_max(t), pooled)
    np.testing.assert_array_equal(tile_max(t, relu=True), np.maximum(pooled, 0))


@pytest.mark.parametrize(
    "channels, tiles, conv, relu, wrt",
    [
        (3, (2, 2), {}, True, ("x", "kernel", "bias")),
        (1, (2, 2), {}, True, ("kernel", "bias")),  # a first layer: no input gradient
        (4, (3, 2), {"strides": (2, 1), "padding": "same", "groups": 2}, False, ("x", "kernel")),
        (2, (2, 3), {"dilation_rate": 2}, True, ("bias", "x")),
        # 16 channels to 4: the input gradient through the im2col of g, whose windows cover
        # the first 8 x 9 outputs of 9 x 10 only
        (16, (2, 3), {}, True, ("x", "kernel", "bias")),
    ],
)
def test_a_tiled_blocks_gradients_in_one_call_are_the_engines(channels, tiles, conv, relu, wrt):
    """tiled_conv_gradients gives what the engine gives for (relu of) max_pool2d(conv2d(x, K, b)),
    in the order asked for (up to the rounding of sums taken in another order), float64."""
    groups = conv.get("groups", 1)
    x = rng.standard_normal((5, 11, 12, channels))
    kernel = rng.standard_normal((3, 3, channels // groups, 4))
    bias = rng.standard_normal(4)
    params = {"strides": 1, "padding": "valid", "dilation_rate": 1, "groups": 1, **conv}
    names = ("x", "kernel", "bias")
    tensors = {name: cr.Tensor(a, requires_grad=True) for name, a in zip(names, (x, kernel, bias))}
    pooled = ops.max_pool2d(ops.conv2d(*tensors.values(), **params), pool_size=tiles)
    y_engine = ops.relu(pooled) if relu else pooled
    g = rng.standard_normal(y_engine.shape)
    (y_engine * g).sum().backward()

    t = conv2d_tiled(x, kernel, bias, tiles=tiles, **params)
    y = tile_max(t, relu=relu)
    np.testing.assert_allclose(y, y_engine.numpy(), rtol=1e-12, atol=1e-12)
    got = tiled_conv_gradients(g, y, t, x, kernel, wrt=wrt, relu=relu, tiles=tiles, **params)
    assert len(got) == len(wrt)
    for name, gradient in zip(wrt, got):
        np.testing.assert_allclose(gradient, tensors[name].grad.numpy(), rtol=1e-10, atol=1e-10)


def test_each_gradient_goes_to_the_first_maximum_of_its_window():
    # one row of two 1x3 windows, (3, 3, 1) with a tie first and (0, 4, 4) with a tie after; a
    # 1x1 kernel of 1 makes the convolution the identity
    x = np.array([3.0, 3.0, 1.0, 0.0, 4.0, 4.0]).reshape(1, 1, 6, 1)
    kernel = np.ones((1, 1, 1, 1))
    t = conv2d_tiled(x, kernel, tiles=(1, 3))
    y = tile_max(t)
    np.testing.assert_array_equal(y.ravel(), [3.0, 4.0])
    g = np.array([10.0, 20.0]).reshape(1, 1, 2, 1)
    (dx,) = tiled_conv_gradients(g, y, t, x, kernel, wrt=("x",), tiles=(1, 3))
    np.testing.assert_array_equal(dx.ravel(), [10.0, 0.0, 0.0, 0.0, 20.0, 0.0])


def test_bad_tiles_get_errors_that_name_the_function_and_the_shapes():
    image, kernel = np.zeros((2, 5, 5, 3)), np.zeros((3, 3, 3, 4))
    with pytest.raises(cr.ShapeError, match=r"tiles=\(4, 4\) do not fit the output's height"):
        conv2d_tiled(image, kernel, tiles=4)
    with pytest.raises(cr.ShapeError, match=r"tile_max: expects a tiled array .* got shape"):
        tile_max(image)
