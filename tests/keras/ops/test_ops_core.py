"""keras.ops core: Keras 3's docstring examples, eager control flow that gradients pass through,
scatter and slice updates, custom gradients, rearrange and the complex views."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import ops

rng = np.random.default_rng(2)


def _np(t):
    return t.numpy() if isinstance(t, cr.Tensor) else np.asarray(t)


def test_conversion_facts():
    x = ops.convert_to_tensor([1.0, 2.0])
    assert ops.is_tensor(x) and not ops.is_tensor(np.ones(2))
    assert x.dtype == np.float32 and ops.convert_to_tensor([1, 2]).dtype == np.int32
    assert ops.convert_to_tensor([1, 2], dtype="float16").dtype == np.float16
    assert ops.shape(np.zeros((8, 12))) == (8, 12) and ops.shape(x) == (2,)
    assert ops.dtype(np.zeros((8, 12), "float32")) == "float32"
    assert isinstance(ops.convert_to_numpy(x), np.ndarray)
    assert ops.cast(np.arange(4), "float16").dtype == np.float16
    with pytest.raises(ValueError, match="convert_to_tensor: chainrule has no sparse"):
        ops.convert_to_tensor([1.0], sparse=True)


def test_saturate_cast_docstring():
    # tf.image.resize(bicubic) output from Keras's saturate_cast docstring
    image = np.array([[-22.500004, 52.526054, 201.29752, 276.32355]], "float32")
    assert ops.saturate_cast(image, "uint8").tolist() == [[0, 52, 201, 255]]
    assert ops.saturate_cast(np.array([1e10, -1e10]), "int32").tolist() == [2**31 - 1, -(2**31)]
    assert ops.saturate_cast(np.array([1e300]), "float32").tolist() == [np.finfo("float32").max]


def test_cast_is_differentiable():
    x = cr.Tensor(np.array([1.0, 2.0], "float32"), requires_grad=True)
    (ops.cast(x, "float64") * 3).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [3.0, 3.0]


def test_stop_gradient_cuts_the_graph():
    x = cr.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * ops.stop_gradient(x)).sum()
    y.backward()
    np.testing.assert_allclose(_np(x.grad), [1.0, 2.0])  # d/dx (x * const) = const


def test_control_flow_docstrings():
    x, y = ops.convert_to_tensor(2.0), ops.convert_to_tensor(0.5)
    branches = [lambda a, b: a + b, lambda a, b: a - b]
    assert ops.switch(0, branches, x, y).item() == 2.5
    assert ops.switch(1, branches, x, y).item() == 1.5
    assert ops.switch(7, branches, x, y).item() == 1.5  # clamped, as JAX
    assert ops.while_loop(lambda i: i < 10, lambda i: i + 1, 0) == 10
    assert ops.while_loop(lambda a, b: a < 10, lambda a, b: (a + 1, b + 1), (0, 1)) == (10, 11)
    assert ops.while_loop(lambda i: i < 10, lambda i: i + 1, 0, maximum_iterations=3) == 3
    assert ops.fori_loop(0, 10, lambda i, s: s + i, 0) == 45
    assert ops.cond(ops.convert_to_tensor(True), lambda: 1, lambda: 2) == 1
    assert ops.cond(0, lambda: 1, lambda: 2) == 2


def test_scan_map_and_associative_scan_docstrings():
    carry, result = ops.scan(lambda c, x: (c + x, c + x), np.int32(0), np.array([1, 2, 3, 4, 5]))
    assert carry.item() == 15 and result.tolist() == [1, 3, 6, 10, 15]
    carry, result = ops.scan(lambda c, x: (c * 2, c), 1, None, length=4)
    assert carry == 16 and result.tolist() == [1, 2, 4, 8]
    _, backwards = ops.scan(lambda c, x: (c + x, c + x), 0, np.arange(1, 4), reverse=True)
    assert backwards.tolist() == [6, 5, 3]
    assert ops.map(lambda x: x**2, np.arange(10)).tolist() == [i * i for i in range(10)]
    ys = ops.map(lambda x: {"y1": x**2, "y2": x * 10}, np.arange(10))
    assert ys["y2"].tolist() == list(range(0, 100, 10))
    assert ops.vectorized_map(lambda x: x.sum(), np.ones((3, 4))).tolist() == [4.0] * 3
    assert ops.associative_scan(lambda a, b: a + b, np.arange(5)).tolist() == [0, 1, 3, 6, 10]
    xs = [np.array([1, 2]) for _ in range(3)]
    ys = ops.associative_scan(lambda x, y: [x[0] + y[0], x[1] + y[1], x[2] + y[2]], xs)
    assert [y.tolist() for y in ys] == [[1, 3], [1, 3], [1, 3]]
    rev = ops.associative_scan(lambda a, b: a + b, np.arange(4), reverse=True)
    assert rev.tolist() == [6, 6, 5, 3]
    cols = ops.associative_scan(lambda a, b: a * b, np.array([[1, 2, 3], [4, 5, 6]]), axis=1)
    assert cols.tolist() == [[1, 2, 6], [4, 20, 120]]


def test_gradients_flow_through_loops():
    def loop(x):
        return ops.fori_loop(0, 3, lambda i, v: v * x, x)  # x⁴

    x = rng.uniform(0.5, 1.5, 3)
    cr.gradcheck(loop, x)
    cr.gradcheck(lambda x: ops.scan(lambda c, e: (c * e, c), 1.0, x)[1], x)
    cr.gradcheck(lambda x: ops.associative_scan(lambda a, b: a * b, x), x)
    cr.gradcheck(lambda x: ops.map(lambda r: r * r.sum(), x), rng.standard_normal((2, 3)))


def test_scatter_docstrings():
    out = ops.scatter([[0, 1], [1, 1]], np.array([1.0, 1.0]), shape=(2, 2))
    np.testing.assert_array_equal(_np(out), [[0.0, 1.0], [0.0, 1.0]])
    out = ops.scatter_update(np.zeros(4), [[0], [0], [1]], np.array([1.0, 1.0, 1.0]), "add")
    np.testing.assert_array_equal(_np(out), [2.0, 1.0, 0.0, 0.0])
    out = ops.scatter_update(np.zeros((2, 3)), [[1]], np.array([[5.0, 6.0, 7.0]]))
    np.testing.assert_array_equal(_np(out), [[0, 0, 0], [5, 6, 7]])
    out = ops.scatter_update(np.ones(3), [[2], [0]], np.array([4.0, 3.0]), reduction="max")
    np.testing.assert_array_equal(_np(out), [3.0, 1.0, 4.0])
    out = ops.scatter([[0], [0]], np.array([2.0, 3.0]), shape=(2,))
    np.testing.assert_array_equal(_np(out), [5.0, 0.0])  # repeated indices add up
    with pytest.raises(ValueError, match="scatter_update: reduction must be"):
        ops.scatter_update(np.zeros(2), [[0]], np.ones(1), reduction="avg")


def test_scatter_and_slice_gradients():
    idx = [[0, 2], [1, 0], [0, 2]]  # a repeated index: the last update wins
    out = ops.scatter_update(np.zeros((2, 3)), idx, np.array([1.0, 2.0, 3.0]))
    assert _np(out)[0, 2] == 3.0
    cr.gradcheck(
        lambda a, u: ops.scatter_update(a, idx, u),
        rng.standard_normal((2, 3)),
        rng.standard_normal(3),
    )
    cr.gradcheck(lambda u: ops.scatter(idx, u, (2, 3)), rng.standard_normal(3))
    cr.gradcheck(
        lambda a, u: ops.slice_update(a, (1, 0), u),
        rng.standard_normal((3, 4)),
        rng.standard_normal((2, 3)),
    )
    cr.gradcheck(lambda a: ops.slice(a, (1, 1), (2, -1)), rng.standard_normal((3, 4)))


def test_slice_and_unstack():
    x = np.arange(12).reshape(3, 4)
    assert ops.slice(x, (1, 1), (2, 2)).tolist() == [[5, 6], [9, 10]]
    assert ops.slice(x, (1, 2), (-1, -1)).tolist() == [[6, 7], [10, 11]]
    out = ops.slice_update(np.zeros((3, 3)), (1, 1), np.ones((2, 2)))
    np.testing.assert_array_equal(_np(out), [[0, 0, 0], [0, 1, 1], [0, 1, 1]])
    assert [t.tolist() for t in ops.unstack(np.array([[1, 2], [3, 4]]))] == [[1, 2], [3, 4]]
    assert [t.tolist() for t in ops.unstack(np.array([[1, 2], [3, 4]]), axis=1)] == [[1, 3], [2, 4]]
    with pytest.raises(ValueError, match=r"slice: the window \[2, 4\) on axis 0 leaves"):
        ops.slice(x, (2, 0), (2, 2))
    with pytest.raises(ValueError, match="unstack: num=2 but axis 0"):
        ops.unstack(x, num=2)


def test_custom_gradient_docstring_log1pexp():
    @ops.custom_gradient
    def log1pexp(x):
        e = cr.exp(x)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return upstream * (1.0 - 1.0 / (1 + e))

        return cr.log(1 + e), grad

    x = cr.Tensor(np.array([100.0, 0.0, -3.0]), requires_grad=True)
    y = log1pexp(x)
    np.testing.assert_allclose(_np(y)[1:], np.log1p(np.exp([0.0, -3.0])))
    y.sum().backward()
    np.testing.assert_allclose(_np(x.grad), 1 / (1 + np.exp(-np.array([100.0, 0.0, -3.0]))))


def test_custom_gradient_replaces_the_derivative_and_checks_its_arity():
    @ops.custom_gradient
    def scaled(x, y):
        return x * y, lambda g: (3 * g, 5 * g)

    x, y = cr.Tensor([1.0], requires_grad=True), cr.Tensor([2.0], requires_grad=True)
    scaled(x, y).sum().backward()
    assert x.grad.tolist() == [3.0] and y.grad.tolist() == [5.0]

    @ops.custom_gradient
    def wrong(x, y):
        return x + y, lambda g: g

    a = cr.Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="custom_gradient: the gradient function returned 1"):
        wrong(a, a).sum().backward()


def test_rearrange():
    x = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(_np(ops.rearrange(x, "b h w -> b w h")), x.transpose(0, 2, 1))
    np.testing.assert_array_equal(_np(ops.rearrange(x, "b h w -> b (h w)")), x.reshape(2, 12))
    np.testing.assert_array_equal(
        _np(ops.rearrange(x.reshape(2, 12), "b (h w) -> b w h", h=3)), x.transpose(0, 2, 1)
    )
    np.testing.assert_array_equal(
        _np(ops.rearrange(x, "b h w -> (w b) h")), x.transpose(2, 0, 1).reshape(8, 3)
    )
    with pytest.raises(ValueError, match="rearrange: the pattern 'a b -> b a' names 2 input axes"):
        ops.rearrange(x, "a b -> b a")
    cr.gradcheck(lambda a: ops.rearrange(a, "b (h w) -> w (b h)", w=2), rng.standard_normal((2, 6)))


def test_complex_views_use_real_imaginary_pairs():
    re, im = ops.view_as_complex(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert re.tolist() == [1.0, 3.0] and im.tolist() == [2.0, 4.0]
    assert ops.view_as_real((re, im)).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert ops.view_as_real(np.array([1.0, 3.0])).tolist() == [[1.0, 0.0], [3.0, 0.0]]
    with pytest.raises(ValueError, match="view_as_complex: the last axis must have size 2"):
        ops.view_as_complex(np.ones((2, 3)))
