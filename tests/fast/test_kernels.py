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

    def recorded(name, *arrays):
        kernel = for_arrays(name, *arrays)
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
