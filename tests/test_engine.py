"""The Tensor and the backward pass: accumulation, graph freeing, no_grad, dtypes, long chains,
double backward, numerical stability and the errors a user sees."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.engine import PRIMITIVES, tracing, values_of


def test_closed_form_gradient_of_a_small_network():
    rng = np.random.default_rng(1)
    x, w, t = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    W = cr.Tensor(w, requires_grad=True)
    loss = ((cr.Tensor(x) @ W - t) ** 2).sum()
    loss.backward()
    np.testing.assert_allclose(W.grad.numpy(), 2 * x.T @ (x @ w - t), rtol=1e-12)


def test_gradients_accumulate_where_a_tensor_is_used_twice():
    x = cr.Tensor([2.0, 3.0], dtype="float64", requires_grad=True)
    y = x * x + x * 3.0  # dy/dx = 2x + 3
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [7.0, 9.0])
    (x * 1.0).sum().backward()  # .grad keeps accumulating across backward calls
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 10.0])


def test_a_chain_of_100000_ops_backpropagates_without_recursion():
    x = cr.Tensor(1.0, dtype="float64", requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0000001**100_000, rel=1e-9)


def test_graph_is_freed_after_backward_unless_retained():
    x = cr.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(cr.GraphFreedError, match="retain_graph=True"):
        y.backward()


def test_no_grad_records_nothing():
    x = cr.Tensor([1.0, 2.0], requires_grad=True)
    with cr.no_grad():
        y = x * 2
        with cr.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad and not z.is_leaf
    assert cr.is_grad_enabled()

    @cr.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad


def test_tracing_records_every_op_and_still_records_gradients():
    x = cr.Tensor([1.0, 2.0], requires_grad=True)
    constant = cr.Tensor([3.0, 4.0])
    with tracing():
        y = x * 2  # needs a gradient: recorded as always
        z = constant + 1  # needs none: recorded only for a replay
    assert y.requires_grad and y._node.parents
    assert not z.requires_grad and z._node is not None and not z._node.parents
    after = constant + 1
    assert after._node is None  # outside the block, nothing extra is recorded
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_tracing_notes_reads_of_the_datas_values_into_python():
    """What code computes from values read into Python is not recorded, so a trace notes such
    reads: of its inputs, of what was computed from them, and of Variables, but not of
    constants."""
    reads = {
        "float": lambda x: float(x.sum()),
        "numpy": lambda x: x.numpy(),
        "np.asarray": lambda x: np.asarray(x * 2),
        "bool": lambda x: bool(x.sum() > 0),
        "values_of": lambda x: values_of(x),
        "as_array": lambda x: cr.engine.as_array(x + 1),
        "tf.strings": lambda x: cr.strings.as_string(x),
        "a Variable": lambda x: cr.Variable([1.0, 2.0]).numpy(),
    }
    for name, read in reads.items():
        x = cr.Tensor([1.0, 2.0])
        with tracing([x]) as traced:
            read(x)
        assert traced.values_read, name
    x, constant = cr.Tensor([1.0, 2.0]), cr.Tensor([3.0, 4.0])
    with tracing([x]) as traced:
        y = x * constant.numpy()  # a constant's values are the same on every run
    assert not traced.values_read and y._node is not None
    assert x.numpy().tolist() == [1.0, 2.0]  # outside a trace, reading notes nothing


def test_the_engine_reaches_the_operators_through_the_registry():
    """Tensor's operators call the primitives registered by chainrule.ops, by name."""
    x = cr.Tensor([1.0, -2.0], requires_grad=True)
    y = -(x * x) @ cr.Tensor([1.0, 1.0])
    assert y._node.prim is PRIMITIVES["matmul"] is ops.matmul
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [-2.0, 4.0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_preserved_through_every_op_and_its_gradient(dtype):
    x = cr.Tensor(np.ones((2, 3)), dtype=dtype, requires_grad=True)
    w = cr.Tensor(np.ones((3, 4)), dtype=dtype, requires_grad=True)
    y = cr.softmax(cr.tanh(x @ w) * 0.5 + 1) ** 2 / 3.0
    y = cr.logsumexp(cr.sigmoid(y) - cr.exp(-y), axis=-1).mean()
    assert y.dtype == np.dtype(dtype)
    y.backward()
    assert x.grad.dtype == np.dtype(dtype) and w.grad.dtype == np.dtype(dtype)


def test_default_dtypes():
    assert cr.Tensor([1.0, 2.0]).dtype == np.float32
    assert cr.Tensor(np.zeros(2)).dtype == np.float64  # an array keeps its dtype
    assert cr.Tensor([1, 2]).dtype.kind == "i"
    assert (cr.Tensor([1.0]) * 2.5).dtype == np.float32  # Python scalars never upcast


@pytest.mark.parametrize("value", [1e4, -1e4])
def test_softmax_family_is_finite_at_extreme_logits(value):
    logits = cr.Tensor([[value, 0.0, -value], [value, value, 0.0]], requires_grad=True)
    for fn in (cr.softmax, cr.log_softmax, cr.logsumexp):
        out = fn(logits)
        assert np.isfinite(out.numpy()).all(), fn
        out.sum().backward()
        assert np.isfinite(logits.grad.numpy()).all(), fn
    np.testing.assert_allclose(
        cr.softmax(logits).numpy()[1], [0.5, 0.5, 0] if value > 0 else [0, 0, 1], atol=1e-6
    )
    np.testing.assert_allclose(cr.logsumexp(logits).numpy()[0], abs(value), rtol=1e-6)
    loss = ops.sparse_softmax_cross_entropy(logits, np.array([2, 2]))
    assert np.isfinite(loss.numpy()).all()


def test_sigmoid_is_finite_and_exact_in_the_tails():
    s = cr.sigmoid(cr.Tensor([-1e4, -50.0, 0.0, 50.0, 1e4], dtype="float64")).numpy()
    np.testing.assert_allclose(s, [0.0, np.exp(-50.0), 0.5, 1.0, 1.0], rtol=1e-12, atol=0)


def test_a_comparison_has_no_gradient():
    x = cr.Tensor([1.0, -1.0], requires_grad=True)
    mask = x > 0
    assert mask.dtype == np.bool_ and not mask.requires_grad


def test_indexing_with_repeats_scatters_and_adds():
    x = cr.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 0, 2])].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, 1.0])


# ----- double backward ---------------------------------------------------------------------------


def _second_derivative(fn):
    """x -> d/dx sum(fn(x)), recorded so it can be differentiated again."""
    return lambda x: cr.gradients(fn(x).sum(), x, create_graph=True)


@pytest.mark.parametrize(
    "fn, second",
    [
        (cr.tanh, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
        (cr.sigmoid, lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 2 * s)),
        (cr.exp, np.exp),
        (lambda x: x * x * x, lambda x: 6 * x),
        (cr.log, lambda x: -1 / x**2),
        (cr.sqrt, lambda x: -0.25 * x**-1.5),
    ],
)
def test_second_derivatives_match_closed_forms_and_finite_differences(fn, second):
    x0 = np.random.default_rng(2).uniform(0.5, 1.5, 5)
    x = cr.Tensor(x0, requires_grad=True)
    (g,) = [cr.gradients(fn(x).sum(), x, create_graph=True)]
    (h,) = [cr.gradients(g.sum(), x)]
    np.testing.assert_allclose(h.numpy(), second(x0), rtol=1e-10)
    assert cr.gradcheck(_second_derivative(fn), x0) < 1e-6


def test_hessian_vector_products_through_matmul_and_mul():
    rng = np.random.default_rng(3)
    a0, w0, v = (
        rng.standard_normal((3, 4)),
        rng.standard_normal((4, 2)),
        rng.standard_normal((4, 2)),
    )

    def f(w):
        return cr.tanh(cr.Tensor(a0) @ (w * w)).sum()

    w = cr.Tensor(w0, requires_grad=True)
    g = cr.gradients(f(w), w, create_graph=True)
    hvp = cr.gradients((g * v).sum(), w)  # H v = d/dw <df/dw, v>
    eps = 1e-6
    gradient = cr.grad(f)
    numeric = (gradient(w0 + eps * v) - gradient(w0 - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hvp.numpy(), numeric, rtol=1e-6, atol=1e-8)
    assert cr.gradcheck(lambda t: cr.gradients(f(t), t, create_graph=True), w0) < 1e-6


def test_nested_grad_gives_the_second_derivative():
    d2 = cr.grad(cr.grad(lambda x: (x**4).sum()))
    np.testing.assert_allclose(d2(np.array([2.0])), [48.0])


def test_value_and_grad_with_several_argnums():
    value, (ga, gb) = cr.value_and_grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(
        np.array([1.0, 2.0]), np.array([3.0, 4.0])
    )
    assert value == 11.0
    np.testing.assert_allclose(ga, [3.0, 4.0])
    np.testing.assert_allclose(gb, [1.0, 2.0])


def test_gradients_returns_none_for_an_unconnected_input():
    x, z = cr.Tensor([1.0], requires_grad=True), cr.Tensor([1.0], requires_grad=True)
    gx, gz = cr.gradients((x * 2).sum(), [x, z])
    assert gx.item() == 2.0 and gz is None


def test_gradients_follow_only_the_paths_that_reach_the_tensors_asked_for(monkeypatch):
    """A generator's weights need no gradient when the discriminator's is asked for (a GAN's
    custom train step): the backward pass skips every VJP whose input leads to none of the
    tensors asked for, and gives the same gradients."""
    tanh, calls = PRIMITIVES["tanh"], []
    original = tanh.vjp_kernels[0]
    monkeypatch.setitem(tanh.vjp_kernels, 0, lambda *a: calls.append(a) or original(*a))
    generator = cr.Tensor([0.5, -1.0], requires_grad=True)
    discriminator = cr.Tensor([2.0, 3.0], requires_grad=True)
    fake = ops.tanh(generator * 2)
    loss = (ops.tanh(fake) * discriminator).sum()
    (gd,) = cr.gradients(loss, [discriminator], retain_graph=True)
    np.testing.assert_allclose(gd.numpy(), np.tanh(np.tanh([1.0, -2.0])), rtol=1e-6)
    assert calls == []
    (gf,) = cr.gradients(loss, [fake], retain_graph=True)  # a tensor inside the graph
    assert len(calls) == 1
    through_tanh = [2.0, 3.0] * (1 - np.tanh(np.tanh([1.0, -2.0])) ** 2)
    np.testing.assert_allclose(gf.numpy(), through_tanh, rtol=1e-6)
    (gg,) = cr.gradients(loss, [generator])
    assert len(calls) == 3
    expected = gf.numpy() * (1 - np.tanh([1.0, -2.0]) ** 2) * 2
    np.testing.assert_allclose(gg.numpy(), expected, rtol=1e-6)


# ----- bad input ---------------------------------------------------------------------------------


def test_shapes_that_cannot_broadcast_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: .*\(2, 3\).*\(4,\)"):
        cr.Tensor(np.ones((2, 3))) + cr.Tensor(np.ones(4))


def test_matmul_inner_dimension_mismatch():
    with pytest.raises(
        cr.ShapeError, match=r"matmul: inner dimensions differ: \(2, 3\) @ \(4, 5\)"
    ):
        cr.Tensor(np.ones((2, 3))) @ np.ones((4, 5))


def test_backward_on_a_non_scalar_needs_an_upstream_gradient():
    y = cr.Tensor(np.ones((2, 2)), requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"shape \(2, 2\) needs an upstream gradient"):
        y.backward()
    with pytest.raises(ValueError, match=r"upstream gradient has shape \(3,\)"):
        y.backward(np.ones(3))
    y.backward(np.ones((2, 2)))


def test_non_numeric_data_is_rejected_and_strings_are_kept_out_of_the_primitives():
    with pytest.raises(TypeError, match="numeric"):
        cr.Tensor(np.array([object()]))
    with pytest.raises(TypeError, match="numeric"):
        cr.Tensor([{"a": 1}, None])
    text = cr.Tensor(["a", b"\xc3\xa9"])  # a string Tensor (tf.string): bytes are UTF-8
    assert text.data.tolist() == ["a", "\u00e9"] and text.numpy().tolist() == [b"a", b"\xc3\xa9"]
    with pytest.raises(
        TypeError, match=r"exp: cannot apply to an array of shape \(2,\) and dtype object"
    ):
        cr.ops.exp(text)
    with pytest.raises(TypeError, match="floating-point"):
        cr.Tensor(["a"], requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        cr.Tensor([1, 2], requires_grad=True)


def test_cross_entropy_from_given_probabilities_equals_the_logits_form():
    rng = np.random.default_rng(4)
    z = rng.standard_normal((6, 5)) * 3
    t = rng.dirichlet(np.ones(5), 6)
    p = cr.softmax(cr.Tensor(z)).numpy()
    np.testing.assert_allclose(
        ops.softmax_cross_entropy(z, t, p), ops.softmax_cross_entropy(z, t), rtol=1e-12
    )
    extreme = np.array([[200.0, 0.0], [0.0, 1.0]], dtype=np.float32)  # p underflows in row 0
    labels = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    probabilities = cr.softmax(cr.Tensor(extreme)).numpy()
    np.testing.assert_allclose(
        ops.softmax_cross_entropy(extreme, labels, probabilities), [200.0, 1.3132616], rtol=1e-6
    )


@pytest.mark.parametrize(
    "left, right, expected",
    [
        ("int32", "float32", "float32"),  # NumPy: float64
        ("int64", "float32", "float32"),
        ("bool", "float32", "float32"),
        ("uint8", "float16", "float16"),
        ("int8", "int32", "int32"),
        ("float16", "float32", "float32"),
    ],
)
def test_operators_promote_integers_and_floats_as_keras_does(left, right, expected):
    # expected: keras.backend.result_type(left, right) in Keras 3.15.1
    a, b = cr.Tensor(np.ones(3, left)), cr.Tensor(np.ones(3, right))
    for result in (a * b, b * a, a + b, a - b, a @ b):
        assert result.dtype == np.dtype(expected)
    assert (b / a).dtype == np.dtype(expected if "float" in expected else "float32")
    ints = cr.Tensor(np.arange(1, 4, dtype="int32"))
    assert (ints * 1.5).dtype == (1.5 - ints).dtype == np.float32  # NumPy: float64
    assert (ints / ints).dtype == (ints / 2).dtype == (2 / ints).dtype == np.float32
    assert (ints * 2).dtype == (ints // 2).dtype == np.int32


def test_a_boolean_mask_times_a_float_passes_the_gradient_where_it_is_true():
    x = cr.Tensor(np.array([1.0, 2.0], "float32"), requires_grad=True)
    mask = x > 1.5
    y = (x * mask).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0])
