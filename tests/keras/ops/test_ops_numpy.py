"""keras.ops.numpy against the examples in Keras 3's docstrings (values and dtypes as printed
there), plus gradients of the composite functions and the errors users see."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.engine import ShapeError, Tensor
from chainrule.keras import ops

NAN = float("nan")
NAN_GRID = np.array([[1.0, NAN, 3.0], [NAN, 2.0, 1.0]])
ARGS_NAN = np.array([[1.0, NAN, 3.0], [NAN, 2.0, 0.0]])
A25 = np.arange(25).reshape(5, 5)

# (call, expected values, expected dtype or None): from the examples in the docstrings of
# keras/src/ops/numpy.py (Keras 3.15.1)
DOCSTRING_EXAMPLES = [
    (lambda: ops.absolute([-1.2, 1.2]), [1.2, 1.2], "float32"),
    (lambda: ops.fabs(np.array([-1, 2], "int32")), [1.0, 2.0], "float32"),
    (lambda: ops.add([1, 4], [5, 6]), [6, 10], "int32"),
    (
        lambda: ops.add([[5, 4], [5, 6]], [5, 6]),
        [[10, 10], [10, 12]],
        "int32",
    ),
    (lambda: ops.all([True, False]), False, "bool"),
    (lambda: ops.all([[True, False], [True, True]], axis=0), [True, False], "bool"),
    (lambda: ops.all([[True, False], [True, True]], keepdims=True), [[False]], "bool"),
    (lambda: ops.any([[True, False], [True, True]], axis=0), [True, True], "bool"),
    (lambda: ops.amax([[1, 3, 5], [2, 3, 6]]), 6, "int32"),
    (lambda: ops.amax([[1, 6, 8], [1, 5, 2]], axis=0), [1, 6, 8], "int32"),
    (lambda: ops.amax([[1, 6, 8], [1, 5, 2]], axis=1, keepdims=True), [[8], [5]], "int32"),
    (lambda: ops.amin([[1, 6, 8], [7, 5, 3]], axis=0), [1, 5, 3], "int32"),
    (lambda: ops.append([1, 2, 3], [[4, 5, 6], [7, 8, 9]]), list(range(1, 10)), "int32"),
    (
        lambda: ops.append([[1, 2, 3], [4, 5, 6]], [[7, 8, 9]], axis=0),
        [[1, 2, 3], [4, 5, 6], [7, 8, 9]],
        "int32",
    ),
    (lambda: ops.arange(3), [0, 1, 2], "int32"),
    (lambda: ops.arange(3.0), [0.0, 1.0, 2.0], "float32"),
    (lambda: ops.arange(3, 7), [3, 4, 5, 6], "int32"),
    (lambda: ops.arange(3, 7, 2), [3, 5], "int32"),
    (lambda: ops.arccos([1, -1]), [0.0, 3.1415927], "float32"),
    (lambda: ops.arccosh([10, 100]), [2.993223, 5.298292], "float32"),
    (lambda: ops.arcsin([1, -1, 0]), [1.5707964, -1.5707964, 0.0], "float32"),
    (lambda: ops.arcsinh([1, -1, 0]), [0.88137364, -0.88137364, 0.0], "float32"),
    (lambda: ops.arctan([0, 1]), [0.0, 0.7853982], "float32"),
    (
        lambda: ops.arctan2([-1, -1, 1, 1], [-1, 1, 1, -1]) * 180 / np.pi,
        [-135.0, -45.0, 45.0, 135.0],
        "float32",
    ),
    (lambda: ops.argmax(ops.arange(6).reshape((2, 3)) + 10), 5, "int32"),
    (lambda: ops.argmax(ops.arange(6).reshape((2, 3)) + 10, axis=0), [1, 1, 1], "int32"),
    (lambda: ops.argmin(ops.arange(6).reshape((2, 3)) + 10, axis=1), [0, 0], "int32"),
    (lambda: ops.argsort([3, 1, 2]), [1, 2, 0], "int32"),
    (lambda: ops.argsort([[0, 3], [3, 2], [4, 5]], axis=0), [[0, 1], [1, 0], [2, 2]], "int32"),
    (lambda: ops.argsort([[0, 3], [3, 2], [4, 5]], axis=1), [[0, 1], [1, 0], [0, 1]], "int32"),
    (lambda: ops.array([1, 2, 3], dtype="float32"), [1.0, 2.0, 3.0], "float32"),
    (lambda: ops.average(ops.arange(1, 5)), 2.5, "float32"),
    (lambda: ops.average(ops.arange(1, 11), weights=ops.arange(10, 0, -1)), 4.0, "float32"),
    (
        lambda: ops.average(ops.arange(6).reshape((3, 2)), axis=1, weights=[1.0 / 4, 3.0 / 4]),
        [0.75, 2.75, 4.75],
        "float32",
    ),
    (lambda: ops.heaviside([-2.0, 0.0, 3.0], 0.5), [0.0, 0.5, 1.0], "float32"),
    (lambda: ops.bincount(ops.array([1, 2, 2, 3], dtype="uint8")), [0, 1, 2, 1], "int32"),
    (
        lambda: ops.bincount(ops.array([1, 2, 2, 3], dtype="uint8"), minlength=6),
        [0, 1, 2, 1, 0, 0],
        "int32",
    ),
    (lambda: ops.broadcast_to([1, 2, 3], (3, 3)), [[1, 2, 3]] * 3, "int32"),
    (lambda: ops.count_nonzero([[0, 1, 7, 0], [3, 0, 2, 19]]), 5, "int32"),
    (lambda: ops.count_nonzero([[0, 1, 7, 0], [3, 0, 2, 19]], axis=1), [2, 3], "int32"),
    (lambda: ops.deg2rad([0.0, 90.0, 180.0]), [0.0, 1.57079633, 3.14159265], "float32"),
    (lambda: ops.rad2deg([0.0, 1.57079633, 3.14159265]), [0.0, 90.0, 180.0], "float32"),
    (lambda: ops.diag(ops.arange(9).reshape((3, 3))), [0, 4, 8], "int32"),
    (lambda: ops.diag(ops.arange(9).reshape((3, 3)), k=-1), [3, 7], "int32"),
    (
        lambda: ops.diag(ops.diag(ops.arange(9).reshape((3, 3)))),
        [[0, 0, 0], [0, 4, 0], [0, 0, 8]],
        "int32",
    ),
    (lambda: ops.diagonal(ops.arange(8).reshape((2, 2, 2)), 0, 0, 1), [[0, 6], [1, 7]], "int32"),
    (lambda: ops.diff([1, 2, 4, 7, 0]), [1, 2, 3, -7], "int32"),
    (lambda: ops.diff([1, 2, 4, 7, 0], n=2), [1, 1, -10], "int32"),
    (lambda: ops.diff([[1, 3, 6, 10], [0, 5, 6, 8]], axis=0), [[-1, 2, 0, -2]], "int32"),
    (
        lambda: ops.digitize(np.array([0.0, 1.0, 3.0, 1.6]), np.array([0.0, 3.0, 4.5, 7.0])),
        [1, 1, 2, 1],
        "int32",
    ),
    (
        lambda: ops.dstack([[[1], [2], [3]], [[4], [5], [6]]]),
        [[[1, 4]], [[2, 5]], [[3, 6]]],
        "int32",
    ),
    (lambda: ops.einsum("ii", A25), 60, None),
    (lambda: ops.einsum(A25, [0, 0]), 60, None),
    (lambda: ops.einsum("ii -> i", A25), [0, 6, 12, 18, 24], None),
    (lambda: ops.einsum(A25, [0, 0], [0]), [0, 6, 12, 18, 24], None),
    (lambda: ops.einsum("...j -> ...", A25), [10, 35, 60, 85, 110], None),
    (lambda: ops.einsum("ji", np.arange(6).reshape(2, 3)), [[0, 3], [1, 4], [2, 5]], None),
    (lambda: ops.einsum("ij, j", A25, np.arange(5)), [30, 80, 130, 180, 230], None),
    (lambda: ops.einsum(A25, [0, 1], np.arange(5), [1]), [30, 80, 130, 180, 230], None),
    (lambda: ops.trace(A25), 60, None),
    (lambda: ops.hypot([3.0, 4.0, 5.0], [4.0, 3.0, 12.0]), [5.0, 5.0, 13.0], "float32"),
    (
        lambda: ops.hypot([[1, 2], [3, 4]], [1, 1]),
        [[1.41421356, 2.23606798], [3.16227766, 4.12310563]],
        "float32",
    ),
    (lambda: ops.isin([0, 1, 2, 5], [0, 2]), [True, False, True, False], "bool"),
    (lambda: ops.lcm([2, 3, 4], [5, 6, 7]), [10, 6, 28], "int32"),
    (lambda: ops.ldexp([0.75, 1.5], [1, 2]), [1.5, 6.0], "float32"),
    (lambda: ops.logaddexp2([1, 2, 3], [1, 2, 3]), [2.0, 3.0, 4.0], "float32"),
    (lambda: ops.fmax([2.0, NAN], [1.0, 4.0]), [2.0, 4.0], "float32"),
    (lambda: ops.fmin([2.0, NAN], [1.0, 4.0]), [1.0, 4.0], "float32"),
    (lambda: ops.meshgrid([1, 2, 3], [4, 5, 6], indexing="ij")[1], [[4, 5, 6]] * 3, "int32"),
    (lambda: ops.nanargmax(ARGS_NAN), 2, "int32"),
    (lambda: ops.nanargmax(ARGS_NAN, axis=0), [0, 1, 0], "int32"),
    (lambda: ops.nanargmin(ARGS_NAN), 5, "int32"),
    (lambda: ops.nanargmin(ARGS_NAN, axis=1, keepdims=True), [[0], [2]], "int32"),
    (lambda: ops.nancumsum(NAN_GRID), [1.0, 1.0, 4.0, 4.0, 6.0, 7.0], None),
    (lambda: ops.nancumprod(NAN_GRID), [1.0, 1.0, 3.0, 3.0, 6.0, 6.0], None),
    (lambda: ops.nanmax(NAN_GRID), 3.0, None),
    (lambda: ops.nanmax(NAN_GRID, axis=1), [3.0, 2.0], None),
    (lambda: ops.nanmean(NAN_GRID), 1.75, None),
    (lambda: ops.nanmean(NAN_GRID, axis=1, keepdims=True), [[2.0], [1.5]], None),
    (lambda: ops.nanmedian(NAN_GRID), 1.5, None),
]


@pytest.mark.parametrize("index", range(len(DOCSTRING_EXAMPLES)))
def test_docstring_examples(index):
    call, expected, dtype = DOCSTRING_EXAMPLES[index]
    out = call()
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    if dtype is not None:
        assert out.dtype == np.dtype(dtype)


def test_windows_match_numpy_in_float32():
    # Keras's docstrings print these windows; NumPy computes the same numbers
    for name in ("bartlett", "blackman", "hamming", "hanning"):
        out = getattr(ops, name)(5)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.numpy(), getattr(np, name)(5), atol=1e-6)
    np.testing.assert_allclose(ops.kaiser(5, beta=14.0).numpy(), np.kaiser(5, 14.0), rtol=1e-5)


def test_split_and_unique_return_several_tensors():
    pieces = ops.hsplit(ops.arange(16.0).reshape((4, 4)), [1, 3])
    assert [p.shape for p in pieces] == [(4, 1), (4, 2), (4, 1)]
    values, index, inverse, counts = ops.unique(
        [3, 1, 3, 2, 1], return_index=True, return_inverse=True, return_counts=True
    )
    np.testing.assert_array_equal(values.numpy(), [1, 2, 3])
    np.testing.assert_array_equal(index.numpy(), [1, 3, 0])
    np.testing.assert_array_equal(inverse.numpy(), [2, 0, 2, 1, 0])
    np.testing.assert_array_equal(counts.numpy(), [2, 1, 2])
    np.testing.assert_array_equal(
        ops.unique([3, 1, 3], size=4, fill_value=-1).numpy(), [1, 3, -1, -1]
    )


def test_statistics_closed_forms():
    x = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0]], "float32")
    np.testing.assert_allclose(ops.var(x, axis=1).numpy(), [1.25, 5.0])
    np.testing.assert_allclose(ops.std(x, axis=1).numpy(), [math.sqrt(1.25), math.sqrt(5.0)])
    np.testing.assert_allclose(ops.median(x, axis=1).numpy(), [2.5, 5.0])
    # linear interpolation between the sorted values: position q (n - 1)
    np.testing.assert_allclose(ops.quantile(x[0], [0.0, 0.5, 1.0 / 3]).numpy(), [1.0, 2.5, 2.0])
    np.testing.assert_allclose(ops.percentile(x[0], 25, method="lower").numpy(), 1.0)
    np.testing.assert_allclose(ops.percentile(x[0], 25, method="higher").numpy(), 2.0)
    np.testing.assert_allclose(ops.percentile(x[0], 25, method="midpoint").numpy(), 1.5)
    assert ops.quantile(x, 0.5, axis=0, keepdims=True).shape == (1, 4)
    assert ops.quantile(x, [0.1, 0.9], axis=1).shape == (2, 2)
    assert ops.mean(np.array([1, 2], "int32")).dtype == np.float32
    assert ops.sum(np.array([True, True])).dtype == np.int32


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# composites built from primitives: float64 gradient checks (the primitives have their own)
GRADIENTS = [
    (lambda x: ops.var(x, axis=1), (_rand(3, 4),)),
    (lambda x: ops.std(x), (_rand(3, 4),)),
    (lambda x: ops.median(x, axis=0), (_rand(5, 3),)),
    (lambda x: ops.quantile(x, [0.3, 0.8], axis=1), (_rand(2, 6),)),
    (lambda x: ops.average(x, axis=1, weights=np.array([1.0, 2.0, 3.0])), (_rand(2, 3),)),
    (lambda x, w: ops.average(x, axis=0, weights=w), (_rand(3, 2), np.abs(_rand(3, 2)) + 0.5)),
    (lambda x: ops.sort(x, axis=0), (_rand(4, 3),)),
    (lambda x: ops.take(x, np.array([2, 0, 2]), axis=1), (_rand(2, 3),)),
    (lambda x: ops.take_along_axis(x, np.array([[1, 0, 1]]), axis=0), (_rand(2, 3),)),
    (lambda x: ops.tile(x, (2, 3)), (_rand(2, 2),)),
    (lambda x: ops.repeat(x, [1, 3], axis=0), (_rand(2, 3),)),
    (lambda x: ops.roll(x, 1, axis=1), (_rand(2, 3),)),
    (lambda x: ops.flip(x), (_rand(2, 3),)),
    (lambda x: ops.rot90(x, 3), (_rand(2, 3),)),
    (lambda x: ops.pad(x, ((1, 2), (2, 1)), mode="reflect"), (_rand(3, 4),)),
    (lambda x: ops.pad(x, 1, mode="edge"), (_rand(3, 4),)),
    (lambda x: ops.tril(x, -1) + ops.triu(x, 1), (_rand(3, 3),)),
    (lambda x: ops.diagonal(x, 1, 0, 2), (_rand(3, 2, 4),)),
    (lambda x: ops.diag(x, 1), (_rand(3),)),
    (lambda x: ops.trace(x), (_rand(3, 3),)),
    (lambda a, b: ops.cross(a, b), (_rand(4, 3), _rand(4, 3, seed=1))),
    (lambda a, b: ops.kron(a, b), (_rand(2, 2), _rand(2, 3, seed=1))),
    (lambda a, b: ops.dot(a, b), (_rand(2, 3, 4), _rand(5, 4, 2, seed=1))),
    (lambda a, b: ops.inner(a, b), (_rand(2, 3), _rand(4, 3, seed=1))),
    (lambda a, b: ops.outer(a, b), (_rand(3), _rand(4, seed=1))),
    (lambda a, b: ops.vdot(a, b), (_rand(2, 3), _rand(2, 3, seed=1))),
    (lambda a, b: ops.correlate(a, b, mode="same"), (_rand(6), _rand(3, seed=1))),
    (lambda a, b: ops.correlate(a, b, mode="full"), (_rand(4), _rand(3, seed=1))),
    (lambda x: ops.corrcoef(x), (_rand(3, 5),)),
    (lambda x: ops.diff(x, n=2, axis=0), (_rand(4, 3),)),
    (lambda y, x: ops.trapezoid(y, x), (_rand(2, 4), np.array([0.0, 0.5, 1.5, 3.0]))),
    (lambda x: ops.vander(x, 4), (_rand(3),)),
    (lambda a, b: ops.logaddexp(a, b), (_rand(3, 4), _rand(4, seed=1))),
    (lambda a, b: ops.hypot(a, b), (_rand(3), _rand(3, seed=1))),
    (lambda a, b: ops.mod(a, b), (np.array([0.3, 2.7, -1.4]), np.array([1.1, -0.8, 0.6]))),
    (lambda a: ops.divide_no_nan(a, np.array([0.5, 0.0, -2.0])), (_rand(3),)),
    (lambda b: ops.divide_no_nan(np.array([1.0, 2.0]), b), (np.array([0.5, -2.0]),)),
    (lambda x: ops.sinc(x), (np.array([0.3, -1.7, 2.2]),)),
    (lambda x: ops.log2(x) + ops.log10(x) + ops.exp2(x), (np.array([0.3, 1.7, 2.2]),)),
    (lambda x: ops.nanmean(x, axis=1) + ops.nansum(x, axis=1), (np.array([[1.0, NAN, 3.0]]),)),
    (lambda x: ops.nanmax(x, axis=1) + ops.nanstd(x), (np.array([[1.0, NAN, 3.0, 2.0]]),)),
    (
        lambda *xs: ops.select(
            [np.array([True, False, False]), np.array([True, True, False])], list(xs)
        ),
        (_rand(3), _rand(3, seed=1)),
    ),
    (lambda a, b: ops.meshgrid(a, b)[0] * ops.meshgrid(a, b)[1], (_rand(3), _rand(2, seed=1))),
    (lambda x: ops.stack(ops.split(x, 2, axis=1)), (_rand(3, 4),)),
    (lambda x: ops.prod(x, axis=0), (_rand(3, 2),)),
    (lambda x: ops.cumsum(x) + ops.cumprod(x), (np.array([0.5, -1.5, 2.0]),)),
]


@pytest.mark.parametrize("index", range(len(GRADIENTS)))
def test_composite_gradients(index):
    fn, inputs = GRADIENTS[index]
    cr.gradcheck(fn, *inputs)


def test_non_differentiable_results_carry_no_gradient():
    x = Tensor([1.5, -2.0], requires_grad=True)
    for out in (ops.floor(x), ops.argsort(x), ops.greater(x, 0), ops.isnan(x), ops.sign(x)):
        assert not out.requires_grad


def test_complex_limits_are_real_only():
    x = np.array([-1.0, 2.0], "float32")
    np.testing.assert_array_equal(ops.real(x).numpy(), x)
    np.testing.assert_array_equal(ops.imag(x).numpy(), [0.0, 0.0])
    np.testing.assert_allclose(ops.angle(x).numpy(), [np.pi, 0.0])
    np.testing.assert_array_equal(ops.isreal(x).numpy(), [True, True])
    with pytest.raises(TypeError, match="complex"):
        ops.real(np.array([1 + 1j]))


def test_shape_errors_name_the_op_and_both_shapes():
    with pytest.raises(ShapeError, match=r"matmul.*\(2, 3\).*\(2, 3\)"):
        ops.matmul(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"concatenate.*\(2, 3\).*\(2, 4\)"):
        ops.concatenate([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ShapeError, match=r"reshape.*\(2, 3\).*\(4,\)"):
        ops.reshape(np.ones((2, 3)), (4,))
    with pytest.raises(ShapeError, match=r"tensordot.*\(2, 3\).*\(4, 5\)"):
        ops.tensordot(np.ones((2, 3)), np.ones((4, 5)), axes=1)
    with pytest.raises(ValueError, match="split: axis 0 of size 3"):
        ops.split(np.ones(3), 2)
    with pytest.raises(ValueError, match="pad: mode"):
        ops.pad(np.ones(3), 1, mode="maximum")
    with pytest.raises(TypeError, match="bitwise_and: needs integer"):
        ops.bitwise_and(np.ones(2), np.ones(2))


def test_every_keras_numpy_function_is_exported():
    # the 220 names of dir(keras.ops.numpy) in Keras 3.15.1
    assert len(ops.numpy.__all__) == 220
    for name in ops.numpy.__all__:
        assert callable(getattr(ops, name)), name


def _second(fn):
    """x -> d/dx sum(fn(x)), recorded so that it can be differentiated again."""
    return lambda x: cr.gradients(fn(x).sum(), x, create_graph=True)


# the VJPs of the primitives behind these ops are written with primitives: second derivatives
SECOND_ORDER = [
    (cr.ops.sin, _rand(4)),
    (cr.ops.cos, _rand(4)),
    (cr.ops.tan, np.array([0.3, -0.6, 0.1])),
    (cr.ops.arcsin, np.array([0.3, -0.6, 0.1])),
    (cr.ops.arccos, np.array([0.3, -0.6, 0.1])),
    (cr.ops.arctan, _rand(4)),
    (lambda x: cr.ops.arctan2(x, x * x + 1), _rand(4)),
    (cr.ops.sinh, _rand(4)),
    (cr.ops.cosh, _rand(4)),
    (cr.ops.arcsinh, _rand(4)),
    (cr.ops.arccosh, np.array([1.5, 2.0, 3.0])),
    (cr.ops.arctanh, np.array([0.3, -0.6, 0.1])),
    (cr.ops.log1p, np.array([0.3, 1.6, 0.1])),
    (cr.ops.expm1, _rand(4)),
    (cr.ops.cbrt, np.array([0.3, -1.6, 2.1])),
    (lambda x: cr.ops.prod(x * x, axis=1), _rand(2, 3)),
    (lambda x: cr.ops.cumsum(x * x, axis=0), _rand(4)),
    (lambda x: cr.ops.cumprod(x * x, axis=0), _rand(4)),
    (lambda x: cr.ops.pad(x * x, pad_width=((1, 1),)), _rand(3)),
    (lambda x: cr.ops.einsum("ij,jk->ik", x, x * x), _rand(3, 3)),
    (lambda x: cr.ops.einsum("ii->i", x * x), _rand(3, 3)),
    (lambda x: ops.sort(x * x), _rand(5)),
]


@pytest.mark.parametrize("index", range(len(SECOND_ORDER)))
def test_second_derivatives(index):
    fn, x0 = SECOND_ORDER[index]
    assert cr.gradcheck(_second(fn), x0) < 1e-5
