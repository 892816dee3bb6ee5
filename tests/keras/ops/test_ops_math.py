"""keras.ops math functions: Keras 3's docstring examples, closed forms, real-Keras values and
float64 gradient checks."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import ops

rng = np.random.default_rng(0)


def _np(t):
    return t.numpy() if isinstance(t, cr.Tensor) else np.asarray(t)


def test_special_functions_match_keras_docstrings():
    x = np.array([-3.0, -2.0, -1.0, 0.0, 1.0])
    np.testing.assert_allclose(
        _np(ops.erf(x)), [-0.99998, -0.99532, -0.842701, 0.0, 0.842701], atol=1e-5
    )
    np.testing.assert_allclose(
        _np(ops.erfc(x)), [1.999978, 1.9953222, 1.8427008, 1.0, 0.1572992], atol=1e-6
    )
    np.testing.assert_allclose(
        _np(ops.erfinv([-0.5, -0.2, -0.1, 0.0, 0.3])),
        [-0.47694, -0.17914, -0.08886, 0.0, 0.27246],
        atol=1e-5,
    )
    np.testing.assert_allclose(_np(ops.rsqrt([1.0, 10.0, 100.0])), [1.0, 0.31622776, 0.1])
    assert ops.rsqrt([1.0, 4.0]).dtype == np.float32
    assert ops.logsumexp([1.0, 2.0, 3.0]).item() == pytest.approx(3.407606, abs=1e-6)


def test_erfinv_inverts_erf_and_has_its_edges():
    x = np.linspace(-0.999, 0.999, 41)
    y = _np(ops.erfinv(x.astype(np.float64)))
    np.testing.assert_allclose([math.erf(v) for v in y], x, atol=1e-12)
    edges = _np(ops.erfinv(np.array([-1.0, 1.0, 1.5])))
    assert edges[0] == -np.inf and edges[1] == np.inf and np.isnan(edges[2])


def test_logsumexp_axes_and_logdet():
    x = rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(
        _np(ops.logsumexp(x, axis=1, keepdims=True)),
        np.log(np.exp(x).sum(axis=1, keepdims=True)),
    )
    np.testing.assert_allclose(_np(ops.logsumexp(x)), np.log(np.exp(x).sum()))
    tri = np.array([[2.0, 0.0, 0.0], [5.0, 3.0, 0.0], [1.0, 7.0, 0.5]])
    assert ops.logdet(tri).item() == pytest.approx(math.log(3.0))  # det = 2 * 3 * 0.5


def test_top_k_and_in_top_k_docstrings():
    values, indices = ops.top_k(np.array([5, 2, 7, 1, 9, 3], dtype=np.int32), k=3)
    assert values.tolist() == [9, 7, 5] and indices.tolist() == [4, 2, 0]
    assert indices.dtype == np.int32
    predictions = [[0.1, 0.4, 0.6, 0.9, 0.5], [0.1, 0.7, 0.9, 0.8, 0.3], [0.1, 0.6, 0.9, 0.9, 0.5]]
    targets = np.array([2, 5, 3])  # 5 lies outside the rows: never in the top k
    assert ops.in_top_k(targets, predictions, k=3).tolist() == [True, False, True]
    assert ops.in_top_k(np.array([1, 3]), predictions[1:], k=2).tolist() == [False, True]


def test_top_k_ties_take_the_lower_index_and_pass_gradients():
    values, indices = ops.top_k(np.array([[1.0, 3.0, 3.0, 2.0]]), 2)
    assert indices.tolist() == [[1, 2]] and values.tolist() == [[3.0, 3.0]]
    cr.gradcheck(lambda a: ops.top_k(a, 2)[0], rng.standard_normal((3, 5)))


def test_segment_reductions_match_keras_docstrings():
    data = np.array([1, 2, 10, 20, 100, 200], dtype=np.int32)
    ids = np.array([0, 0, 1, 1, 2, 2])
    assert ops.segment_sum(data, ids, 3).tolist() == [3, 30, 300]
    assert ops.segment_max(data, ids, 3).tolist() == [2, 20, 200]
    assert ops.segment_min(data, ids, 3).tolist() == [1, 10, 100]
    assert ops.segment_prod(data, ids, 3).tolist() == [2, 200, 20000]
    assert ops.segment_sum(data, ids).dtype == np.int32


def test_segment_empty_segments_and_dropped_ids():
    out = _np(ops.segment_max(np.array([1.0, 2.0, 3.0]), np.array([0, 0, 5]), num_segments=3))
    assert out.tolist() == [2.0, -np.inf, -np.inf]
    out = _np(ops.segment_sum(np.ones((3, 2)), np.array([2, 2, 0]), num_segments=4))
    np.testing.assert_array_equal(out, [[1, 1], [0, 0], [2, 2], [0, 0]])


def test_segment_gradients():
    ids = np.array([1, 0, 1, 2, 1])
    for fn in (ops.segment_sum, ops.segment_max, ops.segment_min):
        cr.gradcheck(lambda d, fn=fn: fn(d, ids, num_segments=3), rng.standard_normal((5, 2)))
    cr.gradcheck(lambda d: ops.segment_prod(d, ids, 3), rng.uniform(0.5, 2.0, (5,)))


def test_segment_ids_must_match_the_rows():
    with pytest.raises(ValueError, match=r"segment_sum: segment_ids must be one id per row"):
        ops.segment_sum(np.ones((4, 2)), np.array([0, 1]), num_segments=2)


def test_cdist_closed_form_and_gradient():
    # Keras's docstring prints 1.4142135 at [1, 1], but |(1, 1) - (0, 1)| = 1, which real Keras
    # 3.15.1 on JAX also returns.
    out = ops.cdist([[0.0, 0.0], [1.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(_np(out), [[1.0, 1.0], [1.0, 1.0]])
    out = ops.cdist([[0.0, 0.0]], [[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(_np(out), [[5.0, 0.0]])
    cr.gradcheck(ops.cdist, rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)))


def test_extract_sequences_docstring_and_gradient():
    out = ops.extract_sequences(np.array([1, 2, 3, 4, 5, 6]), 3, 2)
    assert out.tolist() == [[1, 2, 3], [3, 4, 5]]
    cr.gradcheck(lambda x: ops.extract_sequences(x, 4, 3), rng.standard_normal((2, 11)))


def test_fft_docstring_examples():
    re, im = ops.fft((np.array([1.0, 2.0], "float32"), np.array([0.0, 1.0], "float32")))
    assert re.tolist() == [3.0, -1.0] and im.tolist() == [1.0, -1.0]
    assert re.dtype == np.float32
    x = (np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([[0.0, 1.0], [1.0, 0.0]]))
    re, im = ops.fft2(x)
    np.testing.assert_allclose(_np(re), [[6.0, 0.0], [0.0, -2.0]])
    np.testing.assert_allclose(_np(im), [[2.0, 0.0], [0.0, -2.0]])


def test_fft_closed_forms():
    n = 8
    delta = np.zeros(n)
    delta[0] = 1.0
    re, im = ops.fft((delta, np.zeros(n)))  # the DFT of a delta is flat
    np.testing.assert_allclose(_np(re), np.ones(n), atol=1e-12)
    np.testing.assert_allclose(_np(im), np.zeros(n), atol=1e-12)
    t = np.arange(n)
    re, im = ops.rfft(np.cos(2 * np.pi * 2 * t / n))  # a cosine of frequency 2: n/2 at bin 2
    np.testing.assert_allclose(_np(re), [0, 0, n / 2, 0, 0], atol=1e-12)
    np.testing.assert_allclose(_np(im), np.zeros(5), atol=1e-12)
    z = (rng.standard_normal((3, 4)), rng.standard_normal((3, 4)))
    back = ops.ifft2(ops.fft2(z))
    np.testing.assert_allclose(_np(back[0]), z[0], atol=1e-12)
    np.testing.assert_allclose(_np(back[1]), z[1], atol=1e-12)


def test_rfft_irfft_docstring_examples():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0], "float32")
    re, im = ops.rfft(x)
    np.testing.assert_allclose(_np(re), [10.0, -2.5, -2.5], atol=1e-6)
    np.testing.assert_allclose(_np(im), [0.0, 3.4409548, 0.81229924], atol=1e-6)
    re, im = ops.rfft(x, 3)
    np.testing.assert_allclose(_np(re), [3.0, -1.5], atol=1e-6)
    np.testing.assert_allclose(_np(im), [0.0, 0.8660254], atol=1e-6)
    # The docstring prints three values; real Keras 3.15.1 on JAX gives the default length
    # 2 (5 - 1) = 8:  keras.ops.irfft((x, x))
    np.testing.assert_allclose(
        _np(ops.irfft((x, x))),
        [2.0, -2.0606601, 0.5, -0.35355338, 0.0, 0.06066012, -0.5, 0.35355338],
        atol=1e-6,
    )
    np.testing.assert_allclose(_np(ops.irfft(ops.rfft(x, 5), 5)), x, atol=1e-6)


def test_fft_gradients():
    a, b = rng.standard_normal((2, 6)), rng.standard_normal((2, 6))
    cr.gradcheck(lambda a, b: ops.fft((a, b))[1], a, b)
    cr.gradcheck(
        lambda a, b: ops.ifft2((a, b))[0], rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    )
    cr.gradcheck(lambda x: ops.rfft(x, 8)[0], rng.standard_normal((2, 6)))  # zero-padded
    cr.gradcheck(lambda x: ops.rfft(x, 4)[1], rng.standard_normal(6))  # cropped
    cr.gradcheck(lambda a, b: ops.irfft((a, b), 6), rng.standard_normal(5), rng.standard_normal(5))


def test_stft_docstring_and_istft_round_trip():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0], "float32")
    re, im = ops.stft(x, 3, 2, 3)
    np.testing.assert_allclose(_np(re), [[0.75, -0.375], [3.75, -1.875], [5.25, -2.625]], atol=1e-6)
    np.testing.assert_allclose(
        _np(im), [[0.0, 0.64951905], [0.0, 0.64951905], [0.0, -0.64951905]], atol=1e-6
    )
    np.testing.assert_allclose(_np(ops.istft(ops.stft(x, 1, 1, 1), 1, 1, 1)), x, atol=1e-6)


def test_stft_and_istft_match_real_keras():
    # Reference from Keras 3.15.1 on JAX:
    #   x = np.sin(np.arange(32) * 0.3).astype("float32")
    #   re, im = keras.ops.stft(x, 8, 4, 16); keras.ops.istft((re, im), 8, 4, 16)
    # gives back x (to 2e-7) and the same spectrum as below (to 2.4e-7); with window="hamming",
    # center=False and length=30 it gives x[8:38 - 8] padded as checked here.
    x = np.sin(np.arange(32) * 0.3).astype("float32")
    re, im = ops.stft(x, 8, 4, 16)
    assert re.shape == (9, 9) and re.dtype == np.float32
    np.testing.assert_allclose(_np(ops.istft((re, im), 8, 4, 16)), x, atol=1e-5)
    frames = np.stack([np.pad(x, 8, mode="reflect")[4 * f : 4 * f + 16] for f in range(9)])
    hann = np.pad(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(8) / 8), 4)
    spectrum = np.fft.rfft(frames * hann)
    np.testing.assert_allclose(_np(re), spectrum.real, atol=1e-5)
    np.testing.assert_allclose(_np(im), spectrum.imag, atol=1e-5)


def test_stft_gradients():
    cr.gradcheck(lambda x: ops.stft(x, 4, 2, 6)[0], rng.standard_normal(12))
    cr.gradcheck(
        lambda x: ops.stft(x, 5, 3, 5, window="hamming", center=False)[1],
        rng.standard_normal((2, 14)),
    )
    a, b = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    cr.gradcheck(lambda a, b: ops.istft((a, b), 4, 2, 6), a, b)


def test_fft_errors_name_the_op():
    with pytest.raises(ValueError, match=r"fft: expects a complex tensor as a \(real, imag\) pair"):
        ops.fft(np.ones(4))
    with pytest.raises(ValueError, match=r"stft: fft_length \(2\) must be at least"):
        ops.stft(np.ones(8, "float32"), 4, 2, 2)
