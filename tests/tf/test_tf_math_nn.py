"""tf.math, tf.nn and tf.linalg names added to the facade (reductions, top_k, log1p, the clip
functions, moments, conv2d, pools, dropout, bias_add, norm, einsum): values against closed forms
in NumPy, gradients by finite differences, errors for bad input."""

import numpy as np
import pytest

import chainrule as tf
from chainrule import gradcheck

rng = np.random.default_rng(2)


def randn(*shape):
    return rng.standard_normal(shape)


def test_reduce_prod_values_and_gradient_through_zeros():
    x = randn(3, 5, 2)
    np.testing.assert_allclose(tf.reduce_prod(x).numpy(), np.prod(x))
    np.testing.assert_allclose(tf.reduce_prod(x, axis=1).numpy(), np.prod(x, axis=1))
    np.testing.assert_allclose(
        tf.reduce_prod(x, axis=[0, 2], keepdims=True).numpy(),
        np.prod(x, axis=(0, 2), keepdims=True),
    )
    assert tf.reduce_prod(tf.constant([2, 3, 4])).dtype == tf.int32
    assert float(tf.reduce_prod(tf.zeros((0,)))) == 1.0
    gradcheck(lambda t: tf.reduce_prod(t, axis=1), x)
    # with a zero the gradient is the product of the others, not 0/0
    with_zero = np.array([2.0, 0.0, 3.0, 5.0, 7.0])
    t = tf.Variable(with_zero)
    with tf.GradientTape() as tape:
        y = tf.reduce_prod(t)
    np.testing.assert_allclose(tape.gradient(y, t).numpy(), [0.0, 210.0, 0.0, 0.0, 0.0])


def test_reduce_any_all_variance_std_log1p():
    b = np.array([[True, False], [False, False]])
    assert tf.reduce_any(b).numpy() and not tf.reduce_all(b).numpy()
    np.testing.assert_array_equal(tf.reduce_any(b, axis=1).numpy(), [True, False])
    with pytest.raises(TypeError, match="reduce_any: input must be boolean"):
        tf.reduce_any(tf.ones((2,)))
    x = randn(4, 3)
    np.testing.assert_allclose(tf.reduce_variance(x, axis=0).numpy(), x.var(axis=0))
    np.testing.assert_allclose(tf.math.reduce_std(x).numpy(), x.std())
    gradcheck(lambda t: tf.reduce_variance(t, axis=1), x)
    gradcheck(lambda t: tf.reduce_std(t, axis=0, keepdims=True), x)
    with pytest.raises(TypeError, match="reduce_variance: input must be floating point"):
        tf.reduce_variance(tf.constant([1, 2]))
    p = np.abs(randn(5))
    np.testing.assert_allclose(tf.math.log1p(p).numpy(), np.log1p(p), rtol=1e-12)
    gradcheck(tf.math.log1p, p)
    # below float epsilon 1 + x rounds to 1, but ln(1 + x) = x - x^2/2 + ... keeps x's digits
    tiny = np.array([1e-10, -3e-12, 1e-20])
    np.testing.assert_allclose(tf.math.log1p(tiny).numpy(), tiny - tiny**2 / 2, rtol=1e-15)
    tiny32 = tf.math.log1p(tf.constant([1e-9]))
    assert tiny32.dtype == tf.float32
    np.testing.assert_allclose(tiny32.numpy(), [1e-9], rtol=1e-6)


def test_top_k_values_indices_and_gradient():
    x = np.array([[1.0, 5.0, 3.0, 5.0], [0.0, -1.0, 2.0, 1.0]])
    values, indices = tf.math.top_k(x, k=2)
    np.testing.assert_array_equal(values.numpy(), [[5.0, 5.0], [2.0, 1.0]])
    np.testing.assert_array_equal(indices.numpy(), [[1, 3], [2, 3]])  # ties: lower index first
    assert indices.dtype == tf.int32
    gradcheck(lambda t: tf.math.top_k(t, k=3).values * tf.constant([3.0, 2.0, 1.0]), randn(2, 5))
    with pytest.raises(ValueError, match="top_k: k=5 must be between 0 and the size of the last"):
        tf.math.top_k(x, k=5)


def test_clip_by_value_passes_the_gradient_at_both_ends():
    x = tf.Variable([-2.0, -1.0, 0.5, 1.0, 3.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.clip_by_value(x, -1.0, 1.0))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(
        tf.clip_by_value(tf.constant([[-1, 2], [3, 9]]), 0, 3).numpy(), [[0, 2], [3, 3]]
    )


def test_clip_by_norm_and_global_norm():
    # tf.clip_by_norm's documentation: [[1, 2, 3, 4, 5]] clipped to 2.0
    t = tf.constant([[1.0, 2.0, 3.0, 4.0, 5.0]])
    np.testing.assert_allclose(
        tf.clip_by_norm(t, 2.0).numpy(),
        [[0.26967996, 0.5393599, 0.80903995, 1.0787199, 1.3483998]],
        rtol=1e-6,
    )
    small = np.array([0.1, 0.2])
    np.testing.assert_allclose(tf.clip_by_norm(small, 1.0).numpy(), small)
    rows = randn(3, 4) * 3
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    np.testing.assert_allclose(
        tf.clip_by_norm(rows, 1.5, axes=[1]).numpy(), rows * 1.5 / np.maximum(norms, 1.5)
    )
    np.testing.assert_array_equal(tf.clip_by_norm(np.zeros(3), 1.0).numpy(), np.zeros(3))
    gradcheck(lambda r: tf.clip_by_norm(r, 1.5, axes=[1]), rows)

    a, b = randn(2, 3) * 4, randn(5) * 4
    clipped, norm = tf.clip_by_global_norm([a, None, b], 2.0)
    expected_norm = np.sqrt((a**2).sum() + (b**2).sum())
    np.testing.assert_allclose(float(norm), expected_norm)
    assert clipped[1] is None
    np.testing.assert_allclose(clipped[0].numpy(), a * 2.0 / expected_norm)
    np.testing.assert_allclose(clipped[2].numpy(), b * 2.0 / expected_norm)
    np.testing.assert_allclose(float(tf.linalg.global_norm([a, b])), expected_norm)
    nan_out, _ = tf.clip_by_global_norm([np.array([np.inf, 1.0])], 1.0)
    assert np.isnan(nan_out[0].numpy()).all()
    gradcheck(lambda u, v: tf.clip_by_global_norm([u, v], 2.0)[0][0], a, b)


def test_moments():
    x = randn(4, 3, 2)
    mean, variance = tf.nn.moments(x, axes=[0, 1])
    np.testing.assert_allclose(mean.numpy(), x.mean(axis=(0, 1)))
    np.testing.assert_allclose(variance.numpy(), x.var(axis=(0, 1)))
    mean, variance = tf.nn.moments(x, axes=[0], keepdims=True)
    assert mean.shape == variance.shape == (1, 3, 2)
    gradcheck(lambda t: tf.nn.moments(t, axes=[0])[1], x)
    gradcheck(lambda t: tf.nn.moments(t, axes=[1])[0], x)


def _conv_reference(x, k, stride, pads):
    """Direct cross-correlation (NHWC), the definition written out with loops."""
    x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    kh, kw, _, f = k.shape
    ho = (x.shape[1] - kh) // stride + 1
    wo = (x.shape[2] - kw) // stride + 1
    y = np.zeros((x.shape[0], ho, wo, f))
    for i in range(ho):
        for j in range(wo):
            patch = x[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            y[:, i, j, :] = np.tensordot(patch, k, axes=([1, 2, 3], [0, 1, 2]))
    return y


def test_conv2d_valid_same_nchw_and_gradients():
    x, k = randn(2, 5, 6, 3), randn(3, 3, 3, 4)
    np.testing.assert_allclose(
        tf.nn.conv2d(x, k, strides=1, padding="VALID").numpy(),
        _conv_reference(x, k, 1, ((0, 0), (0, 0))),
        atol=1e-12,
    )
    # 'SAME' with stride 2 on 5 x 6: outputs 3 x 3, pads (1, 1) rows and (0, 1) columns
    np.testing.assert_allclose(
        tf.nn.conv2d(x, k, strides=[1, 2, 2, 1], padding="SAME").numpy(),
        _conv_reference(x, k, 2, ((1, 1), (0, 1))),
        atol=1e-12,
    )
    nchw = tf.nn.conv2d(np.transpose(x, (0, 3, 1, 2)), k, 1, "VALID", data_format="NCHW")
    np.testing.assert_allclose(
        nchw.numpy(),
        np.transpose(_conv_reference(x, k, 1, ((0, 0), (0, 0))), (0, 3, 1, 2)),
        atol=1e-12,
    )
    gradcheck(lambda a, b: tf.nn.conv2d(a, b, 2, "SAME"), randn(1, 4, 4, 2), randn(2, 2, 2, 3))
    with pytest.raises(ValueError, match="conv2d: padding must be 'SAME' or 'VALID'"):
        tf.nn.conv2d(x, k, 1, "FULL")
    with pytest.raises(ValueError, match="conv2d: `strides` must be an int, 2 ints, or 4 ints"):
        tf.nn.conv2d(x, k, [2, 2, 2], "SAME")


def test_pools_and_gradients():
    x = randn(2, 4, 6, 3)
    blocks = x.reshape(2, 2, 2, 3, 2, 3)
    np.testing.assert_allclose(
        tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID").numpy(), blocks.max(axis=(2, 4))
    )
    np.testing.assert_allclose(
        tf.nn.avg_pool2d(x, ksize=[1, 2, 2, 1], strides=2, padding="VALID").numpy(),
        blocks.mean(axis=(2, 4)),
    )
    # 'SAME' average pooling counts only the real pixels: on 4 rows, windows of 3 with stride 3
    # pad one row above and one below, so the lower windows hold rows 2 and 3 only
    corner = tf.nn.avg_pool2d(x, ksize=3, strides=3, padding="SAME").numpy()
    np.testing.assert_allclose(corner[:, 1, 1], x[:, 2:, 3:6].mean(axis=(1, 2)))
    gradcheck(lambda t: tf.nn.max_pool2d(t, 2, 2, "SAME"), randn(1, 3, 5, 2))
    gradcheck(lambda t: tf.nn.avg_pool2d(t, 3, 2, "SAME"), randn(1, 5, 4, 2))


def test_dropout_and_bias_add():
    tf.random.set_seed(0)
    y = tf.nn.dropout(np.ones((1000,), np.float32), rate=0.25).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert 0.2 < (y == 0).mean() < 0.3
    shared = tf.nn.dropout(np.ones((4, 50)), rate=0.5, noise_shape=[4, 1], seed=3).numpy()
    assert all(len(set(row)) == 1 for row in shared)  # one draw per row
    with pytest.raises(ValueError, match=r"dropout: rate must be in \[0, 1\); received rate=1"):
        tf.nn.dropout(np.ones(3), rate=1)
    x, b = randn(2, 3, 4), randn(4)
    np.testing.assert_allclose(tf.nn.bias_add(x, b).numpy(), x + b)
    c = randn(3)
    np.testing.assert_allclose(tf.nn.bias_add(x, c, data_format="NCW").numpy(), x + c[:, None])
    gradcheck(lambda t, u: tf.nn.bias_add(t, u), x, b)
    with pytest.raises(ValueError, match="bias_add: bias must be 1-D with one entry per channel"):
        tf.nn.bias_add(x, randn(3))


def test_norm_orders():
    v = randn(5)
    m = randn(3, 4)
    np.testing.assert_allclose(tf.norm(v).numpy(), np.linalg.norm(v))
    np.testing.assert_allclose(tf.norm(v, ord=1).numpy(), np.abs(v).sum())
    np.testing.assert_allclose(tf.norm(v, ord=np.inf).numpy(), np.abs(v).max())
    np.testing.assert_allclose(tf.norm(v, ord=3).numpy(), np.linalg.norm(v, 3))
    np.testing.assert_allclose(tf.norm(m, axis=1).numpy(), np.linalg.norm(m, axis=1))
    np.testing.assert_allclose(tf.norm(m).numpy(), np.linalg.norm(m))  # all entries
    np.testing.assert_allclose(tf.linalg.norm(m, ord=1, axis=[0, 1]).numpy(), np.linalg.norm(m, 1))
    np.testing.assert_allclose(
        tf.linalg.norm(m, ord=np.inf, axis=[-2, -1], keepdims=True).numpy(),
        np.linalg.norm(m, np.inf, keepdims=True),
    )
    gradcheck(lambda t: tf.norm(t, axis=1), m)
    gradcheck(lambda t: tf.norm(t, ord=1, axis=[0, 1]), m)
    with pytest.raises(ValueError, match="norm: over two axes ord must be"):
        tf.norm(m, ord=3, axis=[0, 1])
    with pytest.raises(ValueError, match="norm: axis must be None, one axis or a pair of dist"):
        tf.norm(m, ord=2, axis=[1, -1])
    with pytest.raises(ValueError, match="norm: axis must be None, one axis or a pair of dist"):
        tf.norm(randn(2, 2, 2), axis=[0, 1, 2])


def test_norm_ord_2_over_two_axes_is_the_largest_singular_value():
    m = randn(3, 4)
    # the spectral norm: the largest singular value (np.linalg.norm's closed form, ord=2)
    np.testing.assert_allclose(tf.norm(m, ord=2, axis=[0, 1]).numpy(), np.linalg.norm(m, 2))
    # diag(3, -5) has singular values 5 and 3
    assert float(tf.norm(np.diag([3.0, -5.0]), ord=2, axis=[-2, -1])) == pytest.approx(5.0)
    # a batch of matrices on axes (2, 0): the others (axis 1) stay, in order
    batch = randn(3, 2, 4)
    expected = np.linalg.norm(np.transpose(batch, (1, 2, 0)), 2, axis=(-2, -1))
    np.testing.assert_allclose(tf.norm(batch, ord=2, axis=[2, 0]).numpy(), expected)
    kept = tf.norm(batch, ord=2, axis=[2, 0], keepdims=True)
    assert kept.shape == (1, 2, 1)
    np.testing.assert_allclose(kept.numpy().reshape(-1), expected)
    # d s_1 / dm = u_1 v_1ᵀ (distinct singular values for random m)
    gradcheck(lambda t: tf.norm(t, ord=2, axis=[0, 1]), m)
    gradcheck(lambda t: tf.norm(t, ord=2, axis=[2, 0]), batch)


@pytest.mark.parametrize(
    "equation, shapes",
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("i,i->", [(4,), (4,)]),
        ("i,j->ij", [(3,), (2,)]),
        ("ij->ji", [(2, 3)]),
        ("ij->j", [(2, 3)]),
        ("ij,kj", [(2, 3), (4, 3)]),  # implicit output: 'ik'
        ("abc,cd,db->ad", [(2, 3, 4), (4, 5), (5, 3)]),
        ("bqhd,bkhd->bhqk", [(2, 3, 2, 4), (2, 5, 2, 4)]),
        ("ii->i", [(3, 3)]),  # the diagonal
        ("ii", [(3, 3)]),  # implicit output: the trace
        ("bii->b", [(2, 3, 3)]),
        ("...ij->...ji", [(2, 3, 4)]),
        ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]),  # ellipses broadcast
        ("b...,b...->...b", [(2, 3, 4), (2, 3, 4)]),
        ("...i,...i", [(2, 3), (2, 3)]),  # implicit output: the '...' axes
    ],
)
def test_einsum_matches_numpy(equation, shapes):
    operands = [randn(*s) for s in shapes]
    np.testing.assert_allclose(
        tf.einsum(equation, *operands).numpy(), np.einsum(equation, *operands), atol=1e-12
    )
    gradcheck(lambda *ts: tf.einsum(equation, *ts), *operands)


def test_einsum_errors():
    with pytest.raises(ValueError, match="einsum: the subscripts 'ij,jk->ik' name 2 operands"):
        tf.einsum("ij,jk->ik", randn(2, 3))
    with pytest.raises(ValueError, match=r"einsum: .*shape \(2, 3\).*shape \(4, 2\)"):
        tf.einsum("ij,jk->ik", randn(2, 3), randn(4, 2))
    with pytest.raises(ValueError, match=r"einsum: the subscripts 'ijk' do not match .* \(2, 2\)"):
        tf.einsum("ijk->k", randn(2, 2))
