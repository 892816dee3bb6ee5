"""Keras 3's dtype rules: result_type's promotion lattice, standardize_dtype and
convert_to_tensor.

The expected dtypes were printed by real Keras 3.15.1 (JAX backend), but for the 64-bit results
that chainrule keeps (marked where they occur):
    rt = keras.backend.result_type
    for p in PROMOTIONS: print(p, rt(*p))
    for x in CONVERSIONS: print(repr(x), keras.ops.convert_to_tensor(x).dtype)
"""

import numpy as np
import pytest

from chainrule.engine import Tensor
from chainrule.keras.ops.dtypes import convert_to_tensor, result_type, standardize_dtype

PROMOTIONS = [
    (("int32", float), "float32"),
    (("float16", "float32"), "float32"),
    (("int8", "uint8"), "int16"),
    (("bool", int), "int32"),
    (("uint8", int), "uint8"),
    (("int8", int), "int8"),
    (("float16", float), "float16"),
    (("bool", "float16"), "float16"),
    (("uint16", "int8"), "int32"),
    (("uint8", "uint16"), "uint16"),
    (("int16", "float16"), "float16"),
    (("bool", float), "float32"),
    ((int, float), "float32"),
    ((int, int), "int32"),
    (("bool", "bool"), "bool"),
    (("int8", "int16", "uint8"), "int16"),
    (("uint8", "int32"), "int32"),
    ((), "float32"),
    (("int32", "float16"), "float16"),
    ((int, "float16"), "float16"),
    (("uint8", "int8", "float16"), "float16"),
    (("uint32", "float16"), "float16"),
    (("int64", "float16"), "float16"),
    (("uint64", "int64"), "float32"),
    (("uint16", "uint32"), "uint32"),
    (("int16", "uint32"), "int64"),  # 64 bits kept (Keras on JAX narrows it to int32)
    (("bool",), "bool"),
    ((None, "float16"), "float32"),
]


@pytest.mark.parametrize("dtypes, expected", PROMOTIONS)
def test_result_type_follows_the_keras_lattice(dtypes, expected):
    assert result_type(*dtypes) == expected


def test_result_type_of_values_treats_python_scalars_as_weak():
    assert result_type(np.ones(2, "int32"), 1.5) == "float32"
    assert result_type(np.ones(2, "int8"), 3) == "int8"
    assert result_type(Tensor(np.ones(2, "float16")), 2.0) == "float16"
    assert result_type([1.5, 2.0]) == "float32"  # a Python float list is floatx
    assert result_type(1, 2) == "int32"
    assert result_type(True, 1) == "int32"
    assert result_type(None) == "float32"


def test_result_type_keeps_64_bit_types():
    # Keras's JAX backend narrows these to 32 bits; chainrule keeps them, as its TF backend does
    assert result_type("float64", "float32") == "float64"
    assert result_type("int64", 2) == "int64"
    assert result_type("int64", "float32") == "float32"


CONVERSIONS = [
    (1.5, "float32"),
    (2, "int32"),
    (True, "bool"),
    ([1.5, 2], "float32"),
    ([1, 2], "int32"),
    ([True, False], "bool"),
    (np.ones(2, "float16"), "float16"),
    (np.ones(2, "uint8"), "uint8"),
]


@pytest.mark.parametrize("value, expected", CONVERSIONS)
def test_convert_to_tensor_dtypes(value, expected):
    t = convert_to_tensor(value)
    assert isinstance(t, Tensor) and t.dtype == np.dtype(expected)


def test_convert_to_tensor_passes_tensors_through_and_casts_on_request():
    t = Tensor([1.0, 2.0])
    assert convert_to_tensor(t) is t
    assert convert_to_tensor(t, "int32").dtype == np.int32
    assert convert_to_tensor(np.ones(2), dtype="float16").dtype == np.float16


def test_convert_to_tensor_stacks_a_list_of_tensors_with_their_gradient():
    a = Tensor([1.0, 2.0], requires_grad=True)
    stacked = convert_to_tensor([a, [3.0, 4.0]])
    assert stacked.shape == (2, 2)
    (stacked * stacked).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 4.0])


def test_standardize_dtype_gives_keras_names():
    assert standardize_dtype(None) == "float32"
    assert standardize_dtype(int) == "int32"
    assert standardize_dtype(float) == "float32"
    assert standardize_dtype(bool) == "bool"
    assert standardize_dtype("int") == "int32"
    assert standardize_dtype(np.float16) == "float16"
    assert standardize_dtype(np.dtype("uint8")) == "uint8"
    assert standardize_dtype(Tensor(np.array([1, 2], "int16"))) == "int16"
    assert standardize_dtype(np.float64) == "float64"
    assert standardize_dtype("uint8") == "uint8"


@pytest.mark.parametrize("alias", ["float", "double", "half", "f4", "<f4", "int4"])
def test_standardize_dtype_refuses_what_keras_refuses(alias):
    # real Keras: keras.backend.standardize_dtype(alias) raises "Invalid dtype: <alias>"
    with pytest.raises(ValueError, match="Invalid dtype"):
        standardize_dtype(alias)
    with pytest.raises(ValueError, match="Invalid dtype"):
        result_type("int32", alias)


def test_bfloat16_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="'bfloat16' has no NumPy type.*'float16' or 'float32'"):
        standardize_dtype("bfloat16")


def test_complex_data_is_refused_clearly():
    with pytest.raises(TypeError, match="no complex dtypes"):
        convert_to_tensor(np.array([1 + 2j]))
    with pytest.raises(TypeError, match="no complex dtypes"):
        convert_to_tensor([1j])
    with pytest.raises(ValueError, match="Invalid dtype"):
        standardize_dtype("not-a-dtype")
