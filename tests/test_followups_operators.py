"""Tensor has the Python operators of Keras tensors (//, %, &, |, ^, ~, round) and NumPy's
reduction keywords; KerasTensor records the same operators as Keras 3's ops."""

import numpy as np
import pytest

import chainrule
import chainrule.keras as keras
from chainrule.engine import Tensor

INTS = np.array([7, -7, 5, 0], np.int32)
DIVISORS = np.array([2, 2, -3, 4], np.int32)


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a // b,
        lambda a, b: a % b,
        lambda a, b: a & b,
        lambda a, b: a | b,
        lambda a, b: a ^ b,
        lambda a, b: 9 // b,
        lambda a, b: 9 % b,
        lambda a, b: 6 & b,
        lambda a, b: 6 | b,
        lambda a, b: 6 ^ b,
        lambda a, b: ~a,
    ],
)
def test_integer_operators_match_numpy(op):
    result = op(Tensor(INTS), Tensor(DIVISORS))
    assert isinstance(result, Tensor)
    expected = op(INTS, DIVISORS)  # NumPy's operators: Python's semantics
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result.numpy(), expected)


def test_float_floor_division_and_modulo():
    a = np.array([5.5, -2.25, 3.0], np.float32)
    b = np.array([2.0, 2.0, -2.0], np.float32)
    np.testing.assert_allclose((Tensor(a) // Tensor(b)).numpy(), np.floor_divide(a, b))
    np.testing.assert_allclose((Tensor(a) % Tensor(b)).numpy(), np.mod(a, b))
    np.testing.assert_allclose((Tensor(a) % 2).numpy(), np.mod(a, 2))
    np.testing.assert_allclose((2.0 % Tensor(a)).numpy(), np.mod(2.0, a), rtol=1e-6)
    assert (Tensor(a) // 2).dtype == np.float32  # a Python scalar does not upcast


def test_modulo_gradient():
    # d(a % b)/da = 1, d(a % b)/db = -floor(a / b), away from the jumps
    rng = np.random.default_rng(0)
    a = rng.uniform(0.1, 0.9, (3, 4)) + rng.integers(-3, 3, (3, 4))
    b = rng.uniform(1.2, 2.0, (3, 4))
    assert chainrule.gradcheck(lambda x, y: x % y, a, b)
    assert chainrule.gradcheck(lambda x: 2.5 % x, b)


def test_bools_and_rounding():
    p, q = np.array([True, True, False]), np.array([True, False, False])
    np.testing.assert_array_equal((Tensor(p) & Tensor(q)).numpy(), p & q)
    np.testing.assert_array_equal((Tensor(p) | q).numpy(), p | q)
    np.testing.assert_array_equal((~Tensor(p)).numpy(), ~p)
    x = Tensor(np.array([0.5, 1.5, 2.675, -1.5], np.float32))
    np.testing.assert_array_equal(round(x).numpy(), [0.0, 2.0, 3.0, -2.0])  # halves to even
    np.testing.assert_allclose(round(x, 1).numpy(), np.round(x.numpy(), 1))
    assert round(x).dtype == np.float32


def test_bitwise_operators_refuse_floats_clearly():
    with pytest.raises(TypeError, match="bitwise_and: needs integer or bool tensors"):
        Tensor(np.ones(2, np.float32)) & Tensor(np.ones(2, np.float32))
    with pytest.raises(TypeError, match="invert: needs integer or bool tensors"):
        ~Tensor(np.ones(2, np.float32))


def test_numpy_reductions_on_tensors():
    t = Tensor(np.array([[1.0, 2.0], [3.0, 6.0]], np.float32))
    for fn, expected in ((np.mean, 3.0), (np.sum, 12.0), (np.max, 6.0), (np.min, 1.0)):
        result = fn(t)
        assert isinstance(result, Tensor) and float(result) == expected
    np.testing.assert_allclose(np.mean(t, axis=0).numpy(), [2.0, 4.0])
    assert t.sum(dtype="float64").dtype == np.float64
    with pytest.raises(TypeError, match="out= is not supported"):
        np.sum(t, out=np.zeros(()))


def test_fbeta_per_class_result_is_a_tensor():
    metric = keras.metrics.FBetaScore(average=None, threshold=0.5)
    metric.update_state(np.array([[1, 0], [0, 1]]), np.array([[0.9, 0.2], [0.6, 0.8]]))
    result = metric.result()
    assert isinstance(result, Tensor) and result.shape == (2,)
    # class 0: P = 1/2, R = 1 -> F1 = 2/3; class 1: P = R = 1 -> F1 = 1 (up to Keras's ε)
    np.testing.assert_allclose(result.numpy(), [2 / 3, 1.0], rtol=1e-5)
    assert float(np.mean(result)) == pytest.approx(5 / 6, rel=1e-5)


def test_keras_tensor_records_the_operators_as_keras_ops():
    # Keras 3 records &, |, ^, ~ on KerasTensors as logical_and/or/xor/not.
    x = keras.Input((3,))
    outputs = {
        "floor_divide": x // 2,
        "mod": 3.0 % x,
        "logical_and": (x > 0) & (x < 2),
        "logical_or": (x > 0) | (x < -2),
        "logical_xor": (x > 0) ^ (x > 1),
        "logical_not": ~(x > 0),
        "round": round(x, 1),
    }
    for name, tensor in outputs.items():
        assert tensor.node.layer.kind == name
    model = keras.Model(x, outputs)
    data = np.array([[0.5, 1.5, -3.04]], np.float32)
    values = {name: t.numpy() for name, t in model(data).items()}
    np.testing.assert_allclose(values["floor_divide"], np.floor_divide(data, 2))
    np.testing.assert_allclose(values["mod"], np.mod(3.0, data), atol=1e-6)
    np.testing.assert_array_equal(values["logical_and"], (data > 0) & (data < 2))
    np.testing.assert_array_equal(values["logical_or"], (data > 0) | (data < -2))
    np.testing.assert_array_equal(values["logical_xor"], (data > 0) ^ (data > 1))
    np.testing.assert_array_equal(values["logical_not"], ~(data > 0))
    np.testing.assert_allclose(values["round"], np.round(data, 1))
    counts = keras.Input((2,), dtype="int32")
    assert (counts & 2).dtype == np.bool_  # logical, as in Keras
