"""keras.ops.nn's window ops (convolutions, transposed convolutions, poolings, patches), pixel
shuffles, attention and CTC: against direct NumPy loops written from the definitions, adjoint
identities, values computed with real Keras 3.15.1 (JAX backend), and finite differences."""

import itertools
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.keras as keras
from chainrule.engine import ShapeError

nn = keras.ops.nn
rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def direct_conv(x, kernel, stride, pads, dilation):
    """y[n, i, j, f] = sum_{a, b, c} xp[n, i s + a d, j s + b d, c] k[a, b, c, f] by loops."""
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    kh, kw, cg, filters = kernel.shape
    groups = x.shape[3] // cg
    ho = (xp.shape[1] - dilation * (kh - 1) - 1) // stride + 1
    wo = (xp.shape[2] - dilation * (kw - 1) - 1) // stride + 1
    y = np.zeros((x.shape[0], ho, wo, filters))
    per = filters // groups
    for i, j, f in itertools.product(range(ho), range(wo), range(filters)):
        q = f // per
        window = xp[:, i * stride : i * stride + dilation * (kh - 1) + 1 : dilation]
        window = window[:, :, j * stride : j * stride + dilation * (kw - 1) + 1 : dilation]
        y[:, i, j, f] = np.einsum("nabc,abc->n", window[..., q * cg : (q + 1) * cg], kernel[..., f])
    return y


def test_conv_matches_the_definition_in_both_layouts():
    x, k = randn(2, 7, 6, 4), randn(3, 3, 4, 5)
    # 'same' with stride 2 on 7 rows pads 1 before and 1 after (TensorFlow's rule)
    y = nn.conv(x, k, strides=2, padding="same")
    np.testing.assert_allclose(y.numpy(), direct_conv(x, k, 2, ((1, 1), (0, 1)), 1), rtol=1e-10)
    y = nn.conv(x.transpose(0, 3, 1, 2), k, dilation_rate=2, data_format="channels_first")
    expected = direct_conv(x, k, 1, ((0, 0), (0, 0)), 2).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10)
    grouped = randn(2, 2, 2, 6)  # 4 channels, 2 per group: 2 groups of 3 filters
    y = nn.conv(x, grouped)
    np.testing.assert_allclose(
        y.numpy(), direct_conv(x, grouped, 1, ((0, 0), (0, 0)), 1), rtol=1e-10
    )
    x1, k1 = randn(2, 8, 3), randn(3, 3, 2)
    y = nn.conv(x1, k1, padding="same", strides=2)
    expected = direct_conv(x1[:, None], k1[None], 2, ((0, 0), (0, 1)), 1)[:, 0]
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10)


def test_depthwise_and_separable_conv():
    x, dk, pk = randn(2, 5, 6, 3), randn(3, 3, 3, 2), randn(1, 1, 6, 4)
    y = nn.depthwise_conv(x, dk, padding="same").numpy()
    assert y.shape == (2, 5, 6, 6)
    for c, m in itertools.product(range(3), range(2)):  # output channel c * M + m
        alone = direct_conv(
            x[..., c : c + 1], dk[:, :, c : c + 1, m : m + 1], 1, ((1, 1), (1, 1)), 1
        )
        np.testing.assert_allclose(y[..., c * 2 + m], alone[..., 0], rtol=1e-10)
    sep = nn.separable_conv(x, dk, pk, strides=2).numpy()
    expected = np.einsum("nijc,cf->nijf", nn.depthwise_conv(x, dk, strides=2).numpy(), pk[0, 0])
    np.testing.assert_allclose(sep, expected, rtol=1e-10)
    cr.gradcheck(
        lambda a, d, p: nn.separable_conv(a, d, p, padding="same"), randn(1, 4, 4, 3), dk, pk
    )


def test_conv_gradients():
    cr.gradcheck(
        lambda a, k: nn.conv(a, k, strides=2, padding="same"), randn(1, 5, 5, 2), randn(3, 3, 2, 3)
    )
    cr.gradcheck(
        lambda a, k: nn.conv(a, k, data_format="channels_first", dilation_rate=2),
        randn(1, 2, 6, 5),
        randn(2, 2, 2, 2),
    )
    cr.gradcheck(
        lambda a, k: nn.depthwise_conv(a, k, strides=(1, 2)), randn(2, 4, 5, 2), randn(2, 2, 2, 2)
    )


def test_conv_transpose_matches_real_keras():
    # KERAS_BACKEND=jax python -c "import keras, numpy as np; print(np.asarray(
    #   keras.ops.conv_transpose(np.arange(1., 5., dtype='float32').reshape(1, 2, 2, 1),
    #   np.array([[1., 2.], [3., 4.]], 'float32').reshape(2, 2, 1, 1), strides=2)).reshape(4, 4))"
    x = np.arange(1.0, 5.0, dtype="float32").reshape(1, 2, 2, 1)
    k = np.array([[1.0, 2.0], [3.0, 4.0]], "float32").reshape(2, 2, 1, 1)
    expected = [[1, 2, 2, 4], [3, 4, 6, 8], [3, 6, 4, 8], [9, 12, 12, 16]]
    y = nn.conv_transpose(x, k, strides=2)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy().reshape(4, 4), expected)
    # ... conv_transpose(np.arange(1., 4.).reshape(1, 3, 1), np.array([1., -1., 2.]).reshape(3, 1, 1),
    #     strides=2, padding="same") -> [1, -1, 4, -2, 7, -3]
    y = nn.conv_transpose(
        np.arange(1.0, 4.0, dtype="float32").reshape(1, 3, 1),
        np.array([1.0, -1.0, 2.0], "float32").reshape(3, 1, 1),
        strides=2,
        padding="same",
    )
    np.testing.assert_array_equal(y.numpy().ravel(), [1, -1, 4, -2, 7, -3])


# (input spatial shape, kernel window, strides, padding, output_padding, dilation, Keras's
# output spatial shape): the shapes real Keras gives for a (2, *spatial, 4) input.
TRANSPOSE_CASES = [
    ((7, 6), (3, 3), 1, "valid", None, 1, (9, 8)),
    ((7, 6), (3, 3), 2, "valid", None, 1, (15, 13)),
    ((7, 6), (3, 3), 3, "valid", None, 1, (21, 18)),
    ((7, 6), (3, 3), 2, "valid", 1, 1, (16, 14)),
    ((7, 6), (3, 3), 2, "same", None, 1, (14, 12)),
    ((7, 6), (3, 3), 3, "same", None, 1, (21, 18)),
    ((7, 6), (3, 3), 2, "same", 1, 1, (14, 12)),
    ((7, 6), (2, 2), 4, "valid", None, 1, (28, 24)),
    ((7, 6), (3, 3), 1, "same", None, 2, (7, 6)),
    ((5,), (4,), 2, "same", None, 1, (10,)),
    ((5,), (3,), 3, "valid", 2, 1, (17,)),
]


@pytest.mark.parametrize("spatial, window, strides, padding, extra, dilation, out", TRANSPOSE_CASES)
def test_conv_transpose_is_the_adjoint_of_conv(
    spatial, window, strides, padding, extra, dilation, out
):
    x, k = randn(2, *spatial, 4), randn(*window, 3, 4)
    y = nn.conv_transpose(x, k, strides, padding, extra, dilation_rate=dilation)
    assert y.shape == (2, *out, 3)
    # <conv_transpose(x), u> = <x, conv(u)>, the forward conv on the output with the pads that
    # map it back to the input: then conv_transpose's gradient is exactly conv
    u = randn(*y.shape)
    grad = cr.grad(
        lambda a: (
            nn.conv_transpose(a, k, strides, padding, extra, dilation_rate=dilation) * u
        ).sum()
    )
    direct = np.sum(y.numpy() * u)
    np.testing.assert_allclose(np.sum(np.asarray(grad(x)) * x), direct, rtol=1e-10)
    # and it is linear in the kernel: the same identity through the kernel's gradient
    kgrad = cr.grad(
        lambda kk: (
            nn.conv_transpose(x, kk, strides, padding, extra, dilation_rate=dilation) * u
        ).sum()
    )
    np.testing.assert_allclose(np.sum(np.asarray(kgrad(k)) * k), direct, rtol=1e-10)


def test_conv_transpose_adjoint_of_conv_by_dot_products():
    # <conv(u), x> = <u, conv_transpose(x)> for the 'same' stride-1 case, where both pad alike
    u, k = randn(2, 6, 5, 3), randn(3, 3, 3, 4)
    x = randn(2, 6, 5, 4)
    left = np.sum(nn.conv(u, k, padding="same").numpy() * x)
    right = np.sum(u * nn.conv_transpose(x, k, padding="same").numpy())
    np.testing.assert_allclose(left, right, rtol=1e-10)
    # channels_first gives the same numbers, transposed
    y = nn.conv_transpose(x.transpose(0, 3, 1, 2), k, 2, "same", data_format="channels_first")
    np.testing.assert_allclose(
        y.numpy(), nn.conv_transpose(x, k, 2, "same").numpy().transpose(0, 3, 1, 2)
    )
    cr.gradcheck(
        lambda a, kk: nn.conv_transpose(a, kk, 2, "valid"), randn(1, 3, 2, 2), randn(2, 3, 3, 2)
    )
    cr.gradcheck(lambda a, kk: nn.conv_transpose(a, kk, 3, "valid"), randn(1, 3, 2), randn(2, 2, 2))


def test_window_op_errors_name_the_op():
    with pytest.raises(ShapeError, match=r"conv: expects an input .* got input shape \(2, 5, 3\)"):
        nn.conv(randn(2, 5, 3), randn(3, 3, 3, 4))
    with pytest.raises(ShapeError, match="conv: the input has 3 channels"):
        nn.conv(randn(1, 5, 5, 3), randn(3, 3, 2, 4))
    with pytest.raises(
        ShapeError, match="depthwise_conv: the kernel's axis -2 must be the input's 3"
    ):
        nn.depthwise_conv(randn(1, 5, 5, 3), randn(3, 3, 2, 1))
    with pytest.raises(
        ShapeError, match="conv_transpose: the kernel's last axis must be the input's 3"
    ):
        nn.conv_transpose(randn(1, 5, 5, 3), randn(3, 3, 2, 4))
    with pytest.raises(ValueError, match="conv: `padding` must be one of 'valid', 'same'"):
        nn.conv(randn(1, 5, 5, 3), randn(3, 3, 3, 4), padding="full")
    with pytest.raises(ValueError, match="conv: `data_format` must be"):
        nn.conv(randn(1, 5, 5, 3), randn(3, 3, 3, 4), data_format="NHWC")
    with pytest.raises(ShapeError, match=r"max_pool: expects an input .* 1, 2 or 3 spatial axes"):
        nn.max_pool(randn(1, 4, 4, 4, 4, 2), 2)
    with pytest.raises(ShapeError, match="conv: the window of depth 3 .* does not fit the input's"):
        nn.conv(randn(1, 2, 4, 4, 2), randn(3, 1, 1, 2, 1))


def direct_conv3d(x, kernel, strides, pads):
    """y[n, i, j, l, f] = sum xp[n, i s0 + a, j s1 + b, l s2 + c, :] k[a, b, c, :, f], by loops."""
    xp = np.pad(x, ((0, 0), *pads, (0, 0)))
    window = kernel.shape[:3]
    out = [(xp.shape[1 + d] - window[d]) // strides[d] + 1 for d in range(3)]
    y = np.zeros((x.shape[0], *out, kernel.shape[-1]))
    for i, j, m in itertools.product(*map(range, out)):
        box = xp[
            :,
            i * strides[0] : i * strides[0] + window[0],
            j * strides[1] : j * strides[1] + window[1],
            m * strides[2] : m * strides[2] + window[2],
        ]
        y[:, i, j, m] = np.einsum("nabcd,abcdf->nf", box, kernel)
    return y


def test_3d_conv_and_its_transpose():
    x, k = randn(2, 5, 6, 4, 3), randn(2, 3, 2, 3, 4)
    # 'same' with strides (2, 1, 2): depth pads (0, 1), rows (1, 1), columns (0, 0)
    y = nn.conv(x, k, strides=(2, 1, 2), padding="same")
    expected = direct_conv3d(x, k, (2, 1, 2), ((0, 1), (1, 1), (0, 0)))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10)
    np.testing.assert_allclose(
        nn.conv(x.transpose(0, 4, 1, 2, 3), k, data_format="channels_first").numpy(),
        direct_conv3d(x, k, (1, 1, 1), ((0, 0),) * 3).transpose(0, 4, 1, 2, 3),
        rtol=1e-10,
    )
    cr.gradcheck(
        lambda a, kk: nn.conv(a, kk, 2, "same"), randn(1, 3, 4, 3, 2), randn(2, 2, 2, 2, 2)
    )
    dk = randn(2, 2, 2, 3, 2)
    y = nn.depthwise_conv(x, dk).numpy()
    np.testing.assert_allclose(
        y[..., 3],
        direct_conv3d(x[..., 1:2], dk[:, :, :, 1:2, 1:2], (1, 1, 1), ((0, 0),) * 3)[..., 0],
    )
    # shapes real Keras gives for this input and a (3, 2, 2, 4, 3) kernel
    tk = randn(3, 2, 2, 4, 3)
    for strides, padding, extra, shape in [
        (2, "valid", None, (11, 12, 8)),
        ((2, 3, 1), "same", None, (10, 18, 4)),
        ((3, 2, 2), "valid", (2, 1, 0), (17, 13, 8)),
    ]:
        y = nn.conv_transpose(x, tk, strides, padding, extra)
        assert y.shape == (2, *shape, 4)
        u = randn(*y.shape)
        grad = cr.grad(lambda a: (nn.conv_transpose(a, tk, strides, padding, extra) * u).sum())
        np.testing.assert_allclose(
            np.sum(np.asarray(grad(x)) * x), np.sum(y.numpy() * u), rtol=1e-10
        )
    # stride 1, 'same': the exact adjoint of the 'same' convolution
    v = randn(2, 5, 6, 4, 4)
    np.testing.assert_allclose(
        np.sum(nn.conv(v, tk, padding="same").numpy() * x),
        np.sum(v * nn.conv_transpose(x, tk, padding="same").numpy()),
        rtol=1e-10,
    )
    cr.gradcheck(
        lambda a, kk: nn.conv_transpose(a, kk, 2), randn(1, 2, 2, 2, 2), randn(2, 2, 1, 2, 2)
    )


# ----- pooling -----------------------------------------------------------------------------------


def direct_pool(x, size, stride, reduce):
    """Pool each window that fits (valid padding), by loops, channels_last."""
    ho, wo = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    y = np.empty((x.shape[0], ho, wo, x.shape[3]))
    for i, j in itertools.product(range(ho), range(wo)):
        y[:, i, j] = reduce(
            x[:, i * stride : i * stride + size, j * stride : j * stride + size], axis=(1, 2)
        )
    return y


def test_max_and_average_pool():
    x = randn(2, 7, 6, 3)
    np.testing.assert_allclose(nn.max_pool(x, 3, 2).numpy(), direct_pool(x, 3, 2, np.max))
    np.testing.assert_allclose(
        nn.average_pool(x, 2).numpy(), direct_pool(x, 2, 2, np.mean), rtol=1e-12
    )
    # 'same' averages the real pixels only: the last window of 7 rows (stride 2, size 3, one
    # row of padding before and after) holds 2
    y = nn.average_pool(x, 3, 2, "same").numpy()
    assert y.shape == (2, 4, 3, 3)
    np.testing.assert_allclose(y[:, 3, 0], x[:, 5:7, 0:3].mean(axis=(1, 2)), rtol=1e-12)
    cf = nn.max_pool(x.transpose(0, 3, 1, 2), (2, 3), (1, 2), data_format="channels_first")
    np.testing.assert_allclose(
        cf.numpy().transpose(0, 2, 3, 1), nn.max_pool(x, (2, 3), (1, 2)).numpy()
    )
    x1 = randn(2, 8, 3)
    np.testing.assert_allclose(
        nn.average_pool(x1, 2).numpy(), x1.reshape(2, 4, 2, 3).mean(2), rtol=1e-12
    )
    np.testing.assert_allclose(nn.max_pool(x1, 4, 2).numpy()[:, 1], x1[:, 2:6].max(1))
    cr.gradcheck(lambda a: nn.average_pool(a, 3, 2, "same"), x)
    cr.gradcheck(lambda a: nn.max_pool(a, 2), randn(1, 6, 3))


def test_3d_pools():
    x = randn(2, 5, 6, 4, 3)
    y = nn.max_pool(x, (2, 3, 2), (2, 2, 1), "same").numpy()
    # depth: 3 outputs, pads (0, 1); rows: 3 outputs, pads (0, 1); columns: 4 outputs, pads (0, 1)
    assert y.shape == (2, 3, 3, 4, 3)
    np.testing.assert_array_equal(y[:, 2, 1, 3], x[:, 4:5, 2:5, 3:4].max(axis=(1, 2, 3)))
    np.testing.assert_array_equal(y[:, 0, 0, 0], x[:, 0:2, 0:3, 0:2].max(axis=(1, 2, 3)))
    # depth: 3 outputs, pads (1, 1); rows: 6 outputs, pads (0, 1); columns: 2, no padding
    y = nn.average_pool(x, (3, 2, 2), (2, 1, 2), "same").numpy()
    np.testing.assert_allclose(y[:, 2, 5, 1], x[:, 3:5, 5:6, 2:4].mean(axis=(1, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(y[:, 1, 2, 0], x[:, 1:4, 2:4, 0:2].mean(axis=(1, 2, 3)), rtol=1e-12)
    y = nn.average_pool(x, 2).numpy()
    np.testing.assert_allclose(y[:, 1, 2, 1], x[:, 2:4, 4:6, 2:4].mean(axis=(1, 2, 3)), rtol=1e-12)
    cr.gradcheck(lambda a: nn.average_pool(a, 2, 1, "same"), randn(1, 3, 3, 2, 2))


def test_adaptive_pools():
    # Keras docstring shapes
    assert nn.adaptive_max_pool(np.random.rand(2, 64, 64, 3), output_size=(32, 32)).shape == (
        2,
        32,
        32,
        3,
    )
    assert nn.adaptive_average_pool(np.random.rand(2, 100, 80, 3), output_size=7).shape == (
        2,
        7,
        7,
        3,
    )
    x = randn(2, 7, 6, 4)
    y = nn.adaptive_average_pool(x, (3, 4)).numpy()
    m = nn.adaptive_max_pool(x, (3, 4)).numpy()
    for i, j in itertools.product(
        range(3), range(4)
    ):  # window [floor(i L / n), ceil((i + 1) L / n))
        rows = slice(i * 7 // 3, math.ceil((i + 1) * 7 / 3))
        cols = slice(j * 6 // 4, math.ceil((j + 1) * 6 / 4))
        np.testing.assert_allclose(y[:, i, j], x[:, rows, cols].mean(axis=(1, 2)), rtol=1e-12)
        np.testing.assert_allclose(m[:, i, j], x[:, rows, cols].max(axis=(1, 2)))
    x1 = randn(2, 4, 8)  # channels_first, 1-D
    y1 = nn.adaptive_average_pool(x1, 3, data_format="channels_first").numpy()
    np.testing.assert_allclose(y1[:, :, 1], x1[:, :, 2:6].mean(-1), rtol=1e-12)
    cr.gradcheck(lambda a: nn.adaptive_average_pool(a, (2, 3)), randn(1, 5, 4, 2))


# ----- patches and pixel shuffles ----------------------------------------------------------------


def test_unfold_and_fold():
    # Keras docstrings: unfold(ones((1, 2, 4, 4)), 2, stride=2).shape == (1, 8, 4); fold back
    patches = nn.unfold(np.ones((1, 2, 4, 4)), kernel_size=2, stride=2)
    assert patches.shape == (1, 8, 4)
    assert nn.fold(patches, output_size=(4, 4), kernel_size=2, stride=2).shape == (1, 2, 4, 4)
    x = randn(2, 3, 5, 6)
    cols = nn.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=2).numpy()
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    oh, ow = (7 - 2) // 2 + 1, (8 - 5) // 2 + 1
    assert cols.shape == (2, 3 * 6, oh * ow)
    for c, a, b, i, j in itertools.product(range(3), range(2), range(3), range(oh), range(ow)):
        np.testing.assert_array_equal(
            cols[:, c * 6 + a * 3 + b, i * ow + j], xp[:, c, i * 2 + a, j * 2 + b * 2]
        )
    # fold is the adjoint of unfold: <unfold(x), y> = <x, fold(y)>
    y = randn(*cols.shape)
    folded = nn.fold(y, (5, 6), (2, 3), dilation=(1, 2), padding=1, stride=2).numpy()
    np.testing.assert_allclose(np.sum(cols * y), np.sum(x * folded), rtol=1e-10)
    cr.gradcheck(lambda a: nn.unfold(a, 2, padding=1), randn(1, 2, 3, 3))
    cr.gradcheck(lambda a: nn.fold(a, (3, 3), 2, padding=1), randn(1, 8, 16))
    with pytest.raises(ShapeError, match=r"fold: an output of size \(4, 4\) has 3 x 3 = 9 windows"):
        nn.fold(randn(1, 8, 4), (4, 4), 2)


def test_depth_to_space_and_space_to_depth():
    # Keras docstring shapes
    x = np.arange(1 * 2 * 2 * 12).reshape(1, 2, 2, 12)
    assert nn.depth_to_space(x, block_size=2).shape == (1, 4, 4, 3)
    x = np.arange(1 * 12 * 2 * 2).reshape(1, 12, 2, 2)
    assert nn.depth_to_space(x, 2, data_format="channels_first").shape == (1, 3, 4, 4)
    assert nn.space_to_depth(np.arange(48).reshape(1, 4, 4, 3), 2).shape == (1, 2, 2, 12)
    # channel (p, q, c) of pixel (i, j) goes to pixel (i b + p, j b + q)
    x = randn(2, 3, 2, 8)
    y = nn.depth_to_space(x, 2).numpy()
    for i, j, p, q, c in itertools.product(range(3), range(2), range(2), range(2), range(2)):
        assert y[0, i * 2 + p, j * 2 + q, c] == x[0, i, j, (p * 2 + q) * 2 + c]
    np.testing.assert_array_equal(nn.space_to_depth(y, 2).numpy(), x)
    xf = x.transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(
        nn.depth_to_space(xf, 2, "channels_first").numpy(),
        nn.depth_to_space(x, 2).numpy().transpose(0, 3, 1, 2),
    )
    cr.gradcheck(lambda a: nn.depth_to_space(a, 2), randn(1, 2, 2, 4))
    with pytest.raises(ShapeError, match=r"depth_to_space: the channels \(6\)"):
        nn.depth_to_space(randn(1, 2, 2, 6), 2)


# ----- attention ---------------------------------------------------------------------------------


def reference_attention(q, k, v, bias=None, mask=None, scale=None, causal=False):
    heads = q.shape[2]
    k = np.repeat(k, heads // k.shape[2], axis=2)
    v = np.repeat(v, heads // v.shape[2], axis=2)
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    logits = np.einsum("btnh,bsnh->bnts", q, k) * scale
    if bias is not None:
        logits = logits + bias
    keep = np.ones(logits.shape, bool)
    if mask is not None:
        keep &= mask
    if causal:
        keep &= np.tril(np.ones(logits.shape[-2:], bool))
    logits = np.where(keep, logits, -np.inf)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return np.einsum("bnts,bsnh->btnh", p, v)


def test_dot_product_attention():
    q, k, v = randn(2, 4, 4, 3), randn(2, 5, 2, 3), randn(2, 5, 2, 3)  # 2 key heads for 4
    np.testing.assert_allclose(
        nn.dot_product_attention(q, k, v).numpy(), reference_attention(q, k, v), rtol=1e-10
    )
    mask = rng.random((2, 1, 4, 5)) > 0.3
    mask[..., 0] = True
    bias = randn(1, 4, 4, 5)
    y = nn.dot_product_attention(q, k, v, bias=bias, mask=mask, scale=0.3)
    np.testing.assert_allclose(y.numpy(), reference_attention(q, k, v, bias, mask, 0.3), rtol=1e-10)
    kc, vc = randn(2, 4, 4, 3), randn(2, 4, 4, 3)
    y = nn.dot_product_attention(q, kc, vc, is_causal=True)
    np.testing.assert_allclose(y.numpy(), reference_attention(q, kc, vc, causal=True), rtol=1e-10)
    # Keras docstring shape
    assert nn.dot_product_attention(
        randn(2, 4, 8, 16), randn(2, 6, 8, 16), randn(2, 6, 8, 16)
    ).shape == (2, 4, 8, 16)
    cr.gradcheck(lambda a, b, c: nn.dot_product_attention(a, b, c, mask=mask), q, k, v)
    with pytest.raises(ShapeError, match="dot_product_attention: expects 4-D"):
        nn.dot_product_attention(q[0], k[0], v[0])
    with pytest.raises(ValueError, match="dot_product_attention: flash attention is not supported"):
        nn.dot_product_attention(q, k, v, flash_attention=True)


# ----- CTC ---------------------------------------------------------------------------------------


def brute_force_ctc(log_probs, labels, blank=0):
    """-log of the total probability of every path that collapses to ``labels``."""
    total = -np.inf
    for path in itertools.product(range(log_probs.shape[1]), repeat=log_probs.shape[0]):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        if collapsed == list(labels):
            total = np.logaddexp(total, sum(log_probs[t, c] for t, c in enumerate(path)))
    return -total


def test_ctc_loss():
    # KERAS_BACKEND=jax python -c "import keras, numpy as np; lg = np.log(np.array([[[.5, .3, .2],
    #   [.1, .7, .2], [.6, .1, .3]]], 'float32')); print(keras.ops.ctc_loss(np.array([[1, 2]]), lg,
    #   np.array([2]), np.array([3])))"  -> [1.4653376]
    log_p = np.log(np.array([[[0.5, 0.3, 0.2], [0.1, 0.7, 0.2], [0.6, 0.1, 0.3]]], "float32"))
    loss = nn.ctc_loss(np.array([[1, 2]]), log_p, np.array([2]), np.array([3]))
    assert loss.shape == (1,) and loss.dtype == np.float32
    np.testing.assert_allclose(loss.numpy(), [1.4653376], rtol=1e-6)
    logits = randn(3, 5, 4)
    labels = np.array([[1, 2, 2], [3, 3, 0], [2, 0, 0]])
    label_lengths, steps = np.array([3, 2, 1]), np.array([5, 5, 3])
    loss = nn.ctc_loss(labels, logits, label_lengths, steps, mask_index=0).numpy()
    for b in range(3):
        lp = logits[b, : steps[b]] - np.log(np.exp(logits[b, : steps[b]]).sum(-1, keepdims=True))
        np.testing.assert_allclose(
            loss[b], brute_force_ctc(lp, labels[b, : label_lengths[b]]), rtol=1e-10
        )
    # another blank class
    loss = nn.ctc_loss(labels[1:], logits[1:], label_lengths[1:], steps[1:], mask_index=1).numpy()
    lp = logits[2, :3] - np.log(np.exp(logits[2, :3]).sum(-1, keepdims=True))
    np.testing.assert_allclose(loss[1], brute_force_ctc(lp, [2], blank=1), rtol=1e-10)
    cr.gradcheck(lambda z: nn.ctc_loss(labels, z, label_lengths, steps), logits)


def test_ctc_decode_greedy():
    # real Keras: ctc_decode(log_p, [3]) -> ([[[1, -1, -1]]], [[1.5606477]])
    log_p = np.log(np.array([[[0.5, 0.3, 0.2], [0.1, 0.7, 0.2], [0.6, 0.1, 0.3]]], "float32"))
    decoded, scores = nn.ctc_decode(log_p, np.array([3]))
    np.testing.assert_array_equal(decoded.numpy(), [[[1, -1, -1]]])
    np.testing.assert_allclose(scores.numpy(), [[1.5606477]], rtol=1e-6)
    # repeats merge unless a blank separates them; steps past the length are ignored
    best = np.array([[1, 1, 0, 1, 2, 2, 3]])
    scores = np.where(np.arange(4) == best[..., None], 1.0, 0.0)
    decoded, _ = nn.ctc_decode(scores, np.array([6]))
    np.testing.assert_array_equal(decoded.numpy()[0], [[1, 1, 2, -1, -1, -1, -1]])
    decoded, _ = nn.ctc_decode(scores, np.array([7]), merge_repeated=False)
    np.testing.assert_array_equal(decoded.numpy()[0], [[1, 1, 1, 2, 2, 3, -1]])
    with pytest.raises(ValueError, match="ctc_decode: `strategy` must be 'greedy' or"):
        nn.ctc_decode(scores, np.array([7]), strategy="best")


def test_ctc_decode_beam_search_matches_real_keras():
    # x = np.random.default_rng(5).standard_normal((3, 6, 4)).astype("float32")
    # KERAS_BACKEND=jax: keras.ops.ctc_decode(x, np.array([6, 5, 3]), strategy="beam_search",
    #     beam_width=5, top_paths=3)
    x = np.random.default_rng(5).standard_normal((3, 6, 4)).astype("float32")
    paths, scores = nn.ctc_decode(
        x, np.array([6, 5, 3]), strategy="beam_search", beam_width=5, top_paths=3
    )
    pad = [-1] * 6
    expected = [
        [[3, 1, 2] + pad[:3], [1, 2] + pad[:4], [2] + pad[:5]],
        [[3, 1, 1] + pad[:3], [1, 3, 2] + pad[:3], [2, 2] + pad[:4]],
        [[3, 1, 2, 1] + pad[:2], [1, 3] + pad[:4], [1, 2] + pad[:4]],
    ]
    np.testing.assert_array_equal(paths.numpy(), expected)
    np.testing.assert_allclose(
        scores.numpy(),
        [[-2.6982751, -2.9857619, -3.1125157], [-2.5925407, -2.8225152, -3.0359378]]
        + [[-1.348541, -1.6040753, -2.5425782]],
        rtol=1e-6,
    )
    # with one step per label and a wide beam, the best path's score is its exact probability
    log_p = np.log(np.array([[[0.1, 0.9, 0.0 + 1e-9], [0.2, 0.1, 0.7]]]))
    paths, scores = nn.ctc_decode(log_p, np.array([2]), strategy="beam_search", beam_width=10)
    np.testing.assert_array_equal(paths.numpy()[0, 0], [1, 2])
    np.testing.assert_allclose(scores.numpy()[0, 0], math.log(0.9 * 0.7), rtol=1e-6)
