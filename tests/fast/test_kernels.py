"""Kernels of :mod:`chainrule.fast.kernels` that replace a primitive's function outright (not to
cut it over threads): each gives the primitive's results, to rounding."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.fast import fused, kernels, threads

rng = np.random.default_rng(0)


@pytest.mark.parametrize("alpha", [0.2, 0.01, 0.0, 1.0, 0.3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_leaky_relu_gradient_kernel_is_the_primitives(alpha, dtype):
    a = rng.standard_normal((4, 5, 3)).astype(dtype)
    a[0, 0] = 0.0  # the slope at 0 is alpha, as the primitive's
    g = rng.standard_normal(a.shape).astype(dtype)
    y = ops.leaky_relu.forward(a, alpha=alpha)
    expected = ops.leaky_relu.vjps[0](g, y, a, alpha)
    got = kernels._leaky_relu_vjp(g, y, a, alpha)
    assert got.dtype == dtype
    tolerance = 1e-7 if dtype == np.float32 else 1e-15
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=0)


def test_the_leaky_relu_gradient_kernel_leaves_tensors_to_the_primitive():
    """Differentiating a gradient (create_graph) hands the kernel Tensors: they go to the
    primitive's VJP, which records its ops."""
    a = cr.Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    g = cr.Tensor(np.array([3.0, 5.0]), requires_grad=True)
    got = kernels._leaky_relu_vjp(g, ops.leaky_relu(a), a, 0.2)
    assert isinstance(got, cr.Tensor) and got.requires_grad
    np.testing.assert_allclose(got.numpy(), [0.6, 5.0])


@pytest.mark.parametrize("alpha", [0.2, 0.0, 1.0, 1.5, -0.5])
def test_leaky_relu_is_its_definition_for_any_slope(alpha):
    a = np.array([-2.0, -0.0, 0.0, 0.5, np.inf, -np.inf, np.nan], dtype=np.float32)
    with np.errstate(invalid="ignore"):  # inf times 0
        y = ops.leaky_relu.forward(a, alpha=alpha)
        expected = np.where(a > 0, a, a * np.float32(alpha))
    np.testing.assert_array_equal(y, expected)


def _compiled_loops(monkeypatch, compiled):
    """The compiled loops of chainrule.fast.fused for arrays of any size, or none (NumPy);
    returns the list of (kernel name, whether it was given) that the kernels ask for."""
    monkeypatch.setattr(fused, "FUSED_FROM", 1)
    if compiled:
        pytest.importorskip("numba")
    else:
        monkeypatch.setattr(fused, "compiled", lambda: None)
    chosen, for_arrays = [], fused.for_arrays

    def recorded(name, *arrays, **options):
        kernel = for_arrays(name, *arrays, **options)
        chosen.append((name, kernel is not None))
        return kernel

    monkeypatch.setattr(fused, "for_arrays", recorded)
    return chosen


@pytest.mark.parametrize(
    "shapes",
    [
        ((6, 4, 3), (3,)),
        ((6, 4, 3), (6, 4, 3)),
        ((1, 4, 3), (6, 4, 3)),
        ((6, 1), (6, 5)),
        ((6,), (6,)),
    ],
)
@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "numpy"])
@pytest.mark.skipif(not threads.blas_thread_counts(), reason="the BLAS's threads cannot be set")
def test_add_and_relu_cut_over_threads_are_the_primitives(monkeypatch, shapes, compiled):
    """The batch's rows cut over two threads: the same numbers, bit for bit, with operands that
    broadcast along the batch axis or against it; ReLU by its compiled kernel or by NumPy."""
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "2")
    monkeypatch.setattr(threads, "MIN_WORK", 1)
    monkeypatch.setattr(threads, "MIN_ROWS", 1)
    monkeypatch.setattr(kernels, "CUT_FROM", 1)
    chosen = _compiled_loops(monkeypatch, compiled)
    parts, over_parts = [], threads.over_parts

    def counted(function, n, work=None):
        results = over_parts(function, n, work)
        parts.append(len(results))
        return results

    monkeypatch.setattr(threads, "over_parts", counted)
    a, b = (rng.standard_normal(shape).astype(np.float32) for shape in shapes)
    g = rng.standard_normal(np.broadcast_shapes(*shapes)).astype(np.float32)
    total = a + b
    with threads.using_cores():
        threads.over_parts(lambda rows: None, 2, work=1 << 30)  # the threads take the BLAS's
        np.testing.assert_array_equal(kernels.add(a, b), total)
        np.testing.assert_array_equal(kernels.relu(total), ops.relu.forward(total))
        expected = ops.relu.vjps[0](g, None, total)
        np.testing.assert_array_equal(kernels._relu_vjp(g, None, total), expected)
    assert parts[-3:] == [2, 2, 2]
    assert [given for _, given in chosen] == [compiled, compiled]


@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "numpy"])
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("chunk", [1, 1 << 18])
def test_the_input_gradient_kernel_is_the_primitives(monkeypatch, compiled, groups, chunk):
    """col2im a few images at a time (one, or all), by the compiled loop after one product for
    all taps or by the primitive's products per tap: the same numbers as the primitive's."""
    monkeypatch.setattr(kernels, "COL2IM_CHUNK", chunk)
    monkeypatch.setattr(kernels, "COL2IM_ROWS", 1)
    chosen = _compiled_loops(monkeypatch, compiled)
    g, kernel = rng.standard_normal((3, 5, 3, 6)), rng.standard_normal((3, 2, 4 // groups, 6))
    params = dict(input_shape=(3, 9, 8, 4), strides=(2, 3), padding=((1, 2), (0, 1)))
    params.update(dilation_rate=(1, 2), groups=groups)
    expected = ops.conv2d_backprop_input.forward(g, kernel, **params)
    got = kernels.conv2d_backprop_input(g, kernel, **params)
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-14)
    assert chosen == ([("col2im_add", compiled)] if groups == 1 else [])


def test_image_chunks_hold_a_budget_of_elements_but_a_floor_of_pixels():
    """As many images per chunk as the budget holds (4 pixels of 5 elements: 2 images in 40),
    never fewer than make min_pixels, never none; every image in one chunk, in order."""
    assert kernels.image_chunks(5, 4, 5, 40, 1) == [slice(0, 2), slice(2, 4), slice(4, 6)]
    assert kernels.image_chunks(5, 4, 5, 40, 12) == [slice(0, 3), slice(3, 6)]
    assert kernels.image_chunks(3, 4, 5, 1, 1) == [slice(0, 1), slice(1, 2), slice(2, 3)]
    assert kernels.image_chunks(3, 4, 5, 60, 1) == [slice(0, 3)]
    assert kernels.image_chunks(0, 4, 5, 40, 1) == [slice(0, 2)]


@pytest.mark.parametrize("blas_in_calling_thread", [True, False])
def test_products_are_cut_where_the_blas_runs_them_in_this_thread(
    monkeypatch, blas_in_calling_thread
):
    """Chunks only where the BLAS library runs each product in the calling thread alone, and
    not for a first layer's matrix (9 numbers per pixel against 32 filters): there, and on the
    BLAS library's own threads, one chunk."""
    monkeypatch.setattr(kernels, "PRODUCT_CHUNK", 1)
    monkeypatch.setattr(kernels, "PRODUCT_ROWS", 1)
    monkeypatch.setattr(threads, "blas_in_calling_thread", lambda: blas_in_calling_thread)
    assert kernels.matrix_chunks(5, 676, 9, 32) == [slice(0, 5)]
    assert kernels.matrix_chunks(0, 676, 9, 32) == [slice(0, 1)]
    cut = [slice(0, 1), slice(1, 2), slice(2, 3)] if blas_in_calling_thread else [slice(0, 3)]
    assert kernels.matrix_chunks(3, 100, 288, 64) == cut
    assert kernels.product_chunks(3, 100, 16) == cut


def test_outside_a_training_call_the_blas_runs_products_on_its_own_threads():
    assert not threads.blas_in_calling_thread()


@pytest.mark.parametrize("budget", [1, 1 << 40], ids=["one image a chunk", "whole"])
@pytest.mark.parametrize("groups", [1, 2])
def test_convolutions_in_chunks_of_images_are_the_primitives(monkeypatch, budget, groups):
    """conv2d's kernel and its kernel gradient make their im2col matrix a chunk of images at a
    time: the convolution is the primitive's bit for bit, the kernel gradient (a sum over the
    chunks) equal to rounding."""
    monkeypatch.setattr(kernels, "PRODUCT_CHUNK", budget)
    monkeypatch.setattr(kernels, "PRODUCT_ROWS", 1)
    monkeypatch.setattr(threads, "blas_in_calling_thread", lambda: True)
    made = {"convolve": [], "columns": []}  # the images of each chunk, per function

    def spy(name):
        real = getattr(kernels, name)

        def counted(x, *args, **kwargs):
            made[name].append(len(x))
            return real(x, *args, **kwargs)

        monkeypatch.setattr(kernels, name, counted)

    spy("convolve")
    spy("columns")  # the kernel gradient's im2col matrices
    x, bias = rng.standard_normal((5, 9, 8, 4)), rng.standard_normal(6)
    kernel = rng.standard_normal((3, 2, 4 // groups, 6))
    params = dict(strides=(2, 1), padding="same", dilation_rate=(1, 2), groups=groups)
    y = kernels.conv2d(x, kernel, bias, **params)
    np.testing.assert_array_equal(y, ops.conv2d.forward(x, kernel, bias, **params))
    g = rng.standard_normal(y.shape)
    got = kernels.conv2d_backprop_kernel(x, g, kernel_shape=kernel.shape, **params)
    expected = ops.conv2d_backprop_kernel.forward(x, g, kernel_shape=kernel.shape, **params)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    chunks = [1] * 5 if budget == 1 else [5]
    assert made == {"convolve": chunks, "columns": chunks}


def _softmax_loss_and_gradient(logits, labels):
    """The three ops the fused call replaces: the softmax, the mean cross-entropy given it,
    and that loss's VJP for an incoming gradient of 1, as the primitives compute them."""
    p = ops.softmax.forward(logits, axis=-1)
    loss = ops.mean_softmax_cross_entropy.forward(logits, labels, p, axis=-1)
    return p, loss, ops.mean_softmax_cross_entropy.vjps[0](1.0, loss, logits, labels, p, axis=-1)


def _sparse_loss_and_gradient(logits, labels, softmax=None, cross_entropy=None, vjp=None):
    """The ops the sparse call replaces: the softmax, the per-row cross-entropies and their
    mean, and the mean's and the cross-entropy's VJPs for an incoming gradient of 1; by default
    the primitives as written."""
    losses = (cross_entropy or ops.sparse_softmax_cross_entropy.forward)(logits, labels)
    loss = ops.mean.forward(losses)
    g = ops.mean.vjps[0](np.ones_like(loss), loss, losses)
    gradient = (vjp or ops.sparse_softmax_cross_entropy.vjps[0])(g, losses, logits, labels)
    return (softmax or ops.softmax.forward)(logits), loss, gradient


def _labels(kind, shape, dtype):
    n, classes = shape
    if kind == "sparse":
        return rng.integers(0, classes, n)
    if kind == "one-hot":
        return np.eye(classes, dtype=dtype)[rng.integers(0, classes, n)]
    t = rng.random(shape).astype(dtype)
    t /= t.sum(axis=1, keepdims=True)  # a distribution per row
    if kind == "unnormalized":  # rows summing to 0.5 to 2.5
        t *= (0.5 + 2 * rng.random((n, 1))).astype(dtype)
    return t


SOFTMAX_SHAPES = [(1, 1), (32, 10), (300, 3), (5, 1000)]  # the last beyond ROWS_LOOP_UNTIL


@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SOFTMAX_SHAPES)
@pytest.mark.parametrize("kind", ["one-hot", "soft", "unnormalized", "sparse"])
def test_the_softmax_loss_with_its_gradient_is_the_primitives(
    monkeypatch, compiled, dtype, shape, kind
):
    """One call for the softmax, the mean cross-entropy and its gradient gives the primitives'
    results to rounding, by the compiled pass per row (for a small matrix) and by NumPy."""
    chosen = _compiled_loops(monkeypatch, compiled)
    logits = (3 * rng.standard_normal(shape)).astype(dtype)
    t = _labels(kind, shape, dtype)
    if kind == "sparse":
        got = kernels.sparse_softmax_cross_entropy_with_gradient(logits, t)
        expected = _sparse_loss_and_gradient(logits, t)
    else:
        got = kernels.softmax_cross_entropy_with_gradient(logits, t)
        expected = _softmax_loss_and_gradient(logits, t)
    looped = compiled and logits.size <= kernels.ROWS_LOOP_UNTIL
    assert any(name.endswith("softmax_cross_entropy") and given for name, given in chosen) == looped
    tolerance = 2e-6 if dtype == np.float32 else 1e-13
    for value, want in zip(got, expected):
        assert value.dtype == dtype and np.shape(value) == np.shape(want)
        np.testing.assert_allclose(value, want, rtol=tolerance, atol=tolerance * 1e-2)
    # the closed forms: rows of p sum to 1; L = -mean sum t log p; dL/dz = (p sum t - t) / n
    p, loss, gradient = got
    n, classes = shape
    t = np.eye(classes, dtype=dtype)[t] if kind == "sparse" else t
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=tolerance)
    exact = -(t.astype(np.float64) * np.log(ops.softmax.forward(logits.astype(np.float64)))).sum()
    np.testing.assert_allclose(loss, exact / n, rtol=tolerance * 5)
    closed = (p * t.sum(1, keepdims=True) - t) / n  # (a difference: its error is absolute)
    np.testing.assert_allclose(gradient, closed, rtol=tolerance, atol=tolerance / n)


@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "numpy"])
@pytest.mark.parametrize("shape", SOFTMAX_SHAPES)
@pytest.mark.parametrize("kind", ["soft", "sparse"])
def test_the_softmax_loss_in_one_call_is_its_kernels_bit_for_bit(
    monkeypatch, compiled, shape, kind
):
    """Inside fit the ops run as these kernels (the engine's steps, a plan not rewritten): the
    call gives their numbers to the last bit, so a step computes the same whichever runs."""
    _compiled_loops(monkeypatch, compiled)
    logits = (3 * rng.standard_normal(shape)).astype(np.float32)
    t = _labels(kind, shape, np.float32)
    if kind == "sparse":
        got = kernels.sparse_softmax_cross_entropy_with_gradient(logits, t)
        expected = _sparse_loss_and_gradient(
            logits,
            t,
            kernels.softmax,
            kernels.sparse_softmax_cross_entropy,
            kernels._sparse_softmax_cross_entropy_vjp,
        )
    else:
        got = kernels.softmax_cross_entropy_with_gradient(logits, t)
        p = kernels.softmax(logits)
        loss = kernels.mean_softmax_cross_entropy(logits, t, p)
        seed = np.ones_like(loss)
        expected = p, loss, kernels._mean_softmax_cross_entropy_vjp_logits(seed, loss, logits, t, p)
    for value, want in zip(got, expected):
        assert value.dtype == want.dtype
        np.testing.assert_array_equal(np.asarray(value).view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "numpy"])
def test_the_softmax_loss_with_its_gradient_at_the_edges(monkeypatch, compiled):
    """A probability that underflows leaves the loss exact (it is computed from the logits);
    a NaN or an infinite logit gives NaN in its row alone, as in NumPy."""
    _compiled_loops(monkeypatch, compiled)
    logits = np.array([[0.0, -200.0, 5.0], [1.0, np.nan, 2.0], [np.inf, 0.0, 1.0]], np.float32)
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    with np.errstate(invalid="ignore"):
        p, loss, gradient = kernels.softmax_cross_entropy_with_gradient(logits[:1], t[:1])
        np.testing.assert_allclose(loss, 205.0067, rtol=1e-6)  # logsumexp(z) - z_1
        np.testing.assert_allclose(gradient, p - t[:1], rtol=1e-6)
        p, loss, gradient = kernels.softmax_cross_entropy_with_gradient(logits, t)
    assert np.isnan(loss)
    assert np.isfinite(p[0]).all() and np.isnan(p[1:]).all() and np.isnan(gradient[1:]).all()


def test_the_softmax_loss_takes_any_layout(monkeypatch):
    """Logits that are not C-contiguous, or labels of another dtype, go to NumPy's forms."""
    chosen = _compiled_loops(monkeypatch, True)
    logits = rng.standard_normal((10, 6)).astype(np.float32)
    t = np.eye(6, dtype=np.float32)[rng.integers(0, 6, 10)]
    for a, b in ((np.asfortranarray(logits), t), (logits, t.astype(np.float64))):
        got = kernels.softmax_cross_entropy_with_gradient(a, b)
        for value, want in zip(got, _softmax_loss_and_gradient(a, b)):
            np.testing.assert_allclose(value, want, rtol=2e-6)
    assert ("softmax_cross_entropy", True) not in chosen


@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "numpy"])
@pytest.mark.parametrize("label", [-1, 4])
def test_a_sparse_label_out_of_range_gets_the_primitives_error(monkeypatch, compiled, label):
    _compiled_loops(monkeypatch, compiled)
    logits = rng.standard_normal((3, 4)).astype(np.float32)
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 4\)"):
        kernels.sparse_softmax_cross_entropy_with_gradient(logits, np.array([0, label, 1]))


@pytest.mark.parametrize(
    "padding", ["valid", "same", ((0, 1), (2, 0)), ((3, 4), (0, 5)), ((2, 2), (2, 2))]
)
@pytest.mark.parametrize("channels, filters", [(8, 1), (8, 8), (12, 20)])
def test_a_3x3_input_gradient_as_a_convolution_of_g_is_the_primitives(padding, channels, filters):
    """From CONVOLVED_GRADIENT_CHANNELS input channels, the input gradient of a 3 x 3
    convolution of stride 1 is g convolved with the flipped kernel: equal to col2im's in
    float64 to rounding, with paddings wider than the window too (their rows get none)."""
    assert channels >= kernels.CONVOLVED_GRADIENT_CHANNELS
    x = rng.standard_normal((3, 9, 7, channels))
    kernel = rng.standard_normal((3, 3, channels, filters))
    y = ops.conv2d.forward(x, kernel, None, padding=padding)
    g = rng.standard_normal(y.shape)
    params = {"input_shape": x.shape, "strides": 1, "padding": padding}
    expected = ops.conv2d_backprop_input.forward(g, kernel, **params)
    with kernels.installed():
        got = ops.conv2d_backprop_input.forward(g, kernel, **params)
    assert got.shape == x.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
