"""tf names that are thin adapters of chainrule.ops' primitives: the trigonometric and
hyperbolic functions, cumsum/cumprod (exclusive, reverse), reverse, roll, repeat, tensordot and
tf.linalg's decompositions. Values against NumPy's closed forms and TensorFlow's documented
examples, gradients by finite differences, errors for bad input."""

import numpy as np
import pytest

import chainrule as tf
from chainrule import gradcheck

rng = np.random.default_rng(3)


def randn(*shape):
    return rng.standard_normal(shape)


@pytest.mark.parametrize(
    "fn, reference, low, high",
    [
        (tf.sin, np.sin, -3, 3),
        (tf.cos, np.cos, -3, 3),
        (tf.tan, np.tan, -1, 1),
        (tf.asin, np.arcsin, -0.9, 0.9),
        (tf.acos, np.arccos, -0.9, 0.9),
        (tf.atan, np.arctan, -3, 3),
        (tf.sinh, np.sinh, -2, 2),
        (tf.cosh, np.cosh, -2, 2),
        (tf.asinh, np.arcsinh, -2, 2),
        (tf.acosh, np.arccosh, 1.1, 3),
        (tf.atanh, np.arctanh, -0.9, 0.9),
        (tf.math.expm1, np.expm1, -2, 2),
    ],
)
def test_elementwise_functions(fn, reference, low, high):
    x = rng.uniform(low, high, size=(3, 4))
    np.testing.assert_allclose(fn(x).numpy(), reference(x), rtol=1e-12)
    gradcheck(fn, x)
    assert fn(tf.constant([(low + high) / 2])).dtype == tf.float32


def test_expm1_is_exact_for_tiny_x_and_atan2_and_floor():
    tiny = np.array([1e-12, -1e-15])
    np.testing.assert_allclose(tf.math.expm1(tiny).numpy(), tiny + tiny**2 / 2, rtol=1e-15)
    # atan2(y, x) is the angle of the point (x, y)
    y, x = np.array([1.0, 1.0, -1.0, 0.0]), np.array([1.0, -1.0, -1.0, 2.0])
    np.testing.assert_allclose(
        tf.atan2(y, x).numpy(), [np.pi / 4, 3 * np.pi / 4, -3 * np.pi / 4, 0.0], rtol=1e-12
    )
    np.testing.assert_allclose(tf.math.atan2(y=y, x=x).numpy(), np.arctan2(y, x))
    gradcheck(tf.atan2, randn(3), randn(3))
    np.testing.assert_array_equal(tf.floor([-1.5, 0.2, 2.0]).numpy(), [-2.0, 0.0, 2.0])


def test_cumsum_and_cumprod_follow_tensorflow_examples():
    # tf.math.cumsum's documentation on [a, b, c]: [a, a + b, a + b + c]; exclusive [0, a, a + b];
    # reverse [a + b + c, b + c, c]; both [b + c, c, 0]
    x = tf.constant([2.0, 3.0, 5.0])
    assert tf.cumsum(x).numpy().tolist() == [2.0, 5.0, 10.0]
    assert tf.cumsum(x, exclusive=True).numpy().tolist() == [0.0, 2.0, 5.0]
    assert tf.cumsum(x, reverse=True).numpy().tolist() == [10.0, 8.0, 5.0]
    assert tf.cumsum(x, exclusive=True, reverse=True).numpy().tolist() == [8.0, 5.0, 0.0]
    # tf.math.cumprod's: [a, a b, a b c]; exclusive [1, a, a b]; both [b c, c, 1]
    assert tf.math.cumprod(x).numpy().tolist() == [2.0, 6.0, 30.0]
    assert tf.math.cumprod(x, exclusive=True).numpy().tolist() == [1.0, 2.0, 6.0]
    assert tf.math.cumprod(x, exclusive=True, reverse=True).numpy().tolist() == [15.0, 5.0, 1.0]
    m = randn(3, 4)
    np.testing.assert_allclose(tf.cumsum(m, axis=1).numpy(), np.cumsum(m, axis=1))
    np.testing.assert_allclose(
        tf.cumsum(m, axis=-2, reverse=True).numpy(), np.cumsum(m[::-1], axis=0)[::-1]
    )
    assert tf.cumsum(tf.constant([1, 2, 3])).dtype == tf.int32
    for exclusive in (False, True):
        for reverse in (False, True):
            gradcheck(lambda t: tf.cumsum(t, axis=1, exclusive=exclusive, reverse=reverse), m)
            gradcheck(
                lambda t: tf.math.cumprod(t, axis=0, exclusive=exclusive, reverse=reverse),
                rng.uniform(0.5, 2.0, size=(3, 2)),
            )


def test_reverse_roll_repeat():
    x = randn(2, 3, 4)
    np.testing.assert_array_equal(tf.reverse(x, [0, 2]).numpy(), x[::-1, :, ::-1])
    # tf.roll's documentation: roll([0, 1, 2, 3, 4], shift=2, axis=0) -> [3, 4, 0, 1, 2]
    assert tf.roll([0, 1, 2, 3, 4], shift=2, axis=0).numpy().tolist() == [3, 4, 0, 1, 2]
    np.testing.assert_array_equal(
        tf.roll(x, shift=[1, -2], axis=[0, 2]).numpy(), np.roll(x, (1, -2), axis=(0, 2))
    )
    # tf.repeat's documentation: repeat(['a', 'b', 'c'], repeats=[3, 0, 2], axis=0)
    assert tf.repeat([1, 2, 3], repeats=[3, 0, 2], axis=0).numpy().tolist() == [1, 1, 1, 3, 3]
    np.testing.assert_array_equal(tf.repeat(x, 2, axis=1).numpy(), np.repeat(x, 2, axis=1))
    assert tf.repeat([[1, 2], [3, 4]], 2).numpy().tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    gradcheck(lambda t: tf.reverse(t, [1]) * tf.constant(np.arange(24.0).reshape(2, 3, 4)), x)
    gradcheck(lambda t: tf.roll(t, shift=[1, -2], axis=[0, 2]) ** 2, x)
    gradcheck(lambda t: tf.repeat(t, [1, 0, 2], axis=1) ** 2, x)
    with pytest.raises(ValueError, match="roll: shift and axis must have the same length"):
        tf.roll(x, shift=[1, 2], axis=0)


def test_tensordot():
    a, b = randn(2, 3, 4), randn(3, 4, 5)
    np.testing.assert_allclose(tf.tensordot(a, b, axes=2).numpy(), np.tensordot(a, b, axes=2))
    pairs = [[0, 2], [1, 0]]
    c = randn(4, 2)
    np.testing.assert_allclose(
        tf.linalg.tensordot(a, c, axes=pairs).numpy(), np.tensordot(a, c, axes=pairs)
    )
    gradcheck(lambda s, t: tf.tensordot(s, t, axes=2), a, b)


def spd(n):
    m = randn(n, n)
    return m @ m.T + n * np.eye(n)


def test_det_inv_solve_cholesky():
    a = spd(3)
    batch = np.stack([spd(3), spd(3)])
    np.testing.assert_allclose(tf.linalg.det(batch).numpy(), np.linalg.det(batch))
    np.testing.assert_allclose(tf.linalg.inv(a).numpy(), np.linalg.inv(a), atol=1e-12)
    np.testing.assert_allclose(
        tf.linalg.inv(a + np.triu(a), adjoint=True).numpy(),
        np.linalg.inv((a + np.triu(a)).T),
        atol=1e-12,
    )
    rhs = randn(3, 2)
    np.testing.assert_allclose(tf.linalg.solve(a, rhs).numpy(), np.linalg.solve(a, rhs))
    lower = tf.linalg.cholesky(a).numpy()
    np.testing.assert_allclose(lower @ lower.T, a, atol=1e-12)
    assert np.allclose(np.triu(lower, 1), 0)
    gradcheck(tf.linalg.det, batch)
    gradcheck(tf.linalg.inv, a)
    gradcheck(tf.linalg.solve, a, rhs)
    gradcheck(lambda t: tf.linalg.cholesky((t + tf.linalg.matrix_transpose(t)) / 2), a)
    with pytest.raises(ValueError, match=r"linalg.det: input must be square .* got \(2, 3\)"):
        tf.linalg.det(randn(2, 3))
    with pytest.raises(ValueError, match=r"linalg.solve: rhs must have shape \(..., 3, k\)"):
        tf.linalg.solve(a, randn(3))


def test_qr_svd_eigh():
    a = randn(4, 3)
    q, r = tf.linalg.qr(a)
    assert q.shape == (4, 3) and r.shape == (3, 3)
    np.testing.assert_allclose(q.numpy() @ r.numpy(), a, atol=1e-12)
    np.testing.assert_allclose(q.numpy().T @ q.numpy(), np.eye(3), atol=1e-12)
    assert tf.linalg.qr(a, full_matrices=True)[0].shape == (4, 4)
    s, u, v = tf.linalg.svd(a)
    assert u.shape == (4, 3) and v.shape == (3, 3)
    # TensorFlow returns v, not vᵀ: a = u diag(s) vᵀ
    np.testing.assert_allclose(u.numpy() * s.numpy() @ v.numpy().T, a, atol=1e-12)
    np.testing.assert_allclose(
        tf.linalg.svd(a, compute_uv=False).numpy(), np.linalg.svd(a, compute_uv=False)
    )
    sym = spd(3)
    e, vectors = tf.linalg.eigh(sym)
    np.testing.assert_allclose(e.numpy(), np.linalg.eigvalsh(sym))
    np.testing.assert_allclose(
        vectors.numpy() @ np.diag(e.numpy()) @ vectors.numpy().T, sym, atol=1e-12
    )
    np.testing.assert_allclose(tf.linalg.eigvalsh(sym).numpy(), np.linalg.eigvalsh(sym))
    gradcheck(lambda t: tf.linalg.qr(t)[1], a)
    gradcheck(lambda t: tf.linalg.svd(t, compute_uv=False), a)
    gradcheck(lambda t: tf.linalg.eigvalsh((t + tf.linalg.matrix_transpose(t)) / 2), sym)


def test_diag_part_trace_band_part():
    m = randn(2, 3, 4)
    np.testing.assert_allclose(tf.linalg.diag_part(m).numpy(), np.diagonal(m, axis1=-2, axis2=-1))
    np.testing.assert_allclose(
        tf.linalg.diag_part(m, k=1).numpy(), np.diagonal(m, 1, axis1=-2, axis2=-1)
    )
    np.testing.assert_allclose(tf.linalg.trace(m).numpy(), np.trace(m, axis1=-2, axis2=-1))
    # tf.linalg.band_part's documentation: 0, -1 the upper triangle, -1, 0 the lower, 0, 0 the
    # diagonal; (1, 2) keeps one diagonal below and two above
    x = np.arange(16.0).reshape(4, 4)
    np.testing.assert_array_equal(tf.linalg.band_part(x, 0, -1).numpy(), np.triu(x))
    np.testing.assert_array_equal(tf.linalg.band_part(x, -1, 0).numpy(), np.tril(x))
    np.testing.assert_array_equal(tf.linalg.band_part(x, 0, 0).numpy(), np.diag(np.diag(x)))
    np.testing.assert_array_equal(tf.linalg.band_part(x, 1, 2).numpy(), np.triu(np.tril(x, 2), -1))
    np.testing.assert_array_equal(tf.linalg.band_part(x, -1, -1).numpy(), x)
    assert tf.linalg.matrix_transpose(m).shape == (2, 4, 3)
    gradcheck(tf.linalg.trace, m)
    gradcheck(lambda t: tf.linalg.band_part(t, 1, 0), m)
