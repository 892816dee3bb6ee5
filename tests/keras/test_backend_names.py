"""keras.backend: Keras 3's fourteen names, their defaults, setters, errors and counters.

Expected values are real Keras 3.15.1's, computed with
    KERAS_BACKEND=jax python -c "import keras; b = keras.backend; print(sorted(n for n in
    dir(b) if not n.startswith('_')), b.floatx(), b.epsilon(), b.image_data_format(),
    b.standardize_dtype(float), b.standardize_dtype(int), b.result_type('int32', 'float16'),
    b.get_uid('dense'), b.get_uid('dense'), b.get_uid(), b.is_float_dtype('bfloat16'),
    b.is_int_dtype('uint8'), b.is_float_dtype(float))"
which printed the list below, float32 1e-07 channels_last float32 int32 float16 1 2 1 True True
True.
"""

import numpy as np
import pytest

import chainrule.keras as keras
from chainrule import Tensor
from chainrule.keras import backend

KERAS_NAMES = [
    "backend",
    "clear_session",
    "epsilon",
    "floatx",
    "get_uid",
    "image_data_format",
    "is_float_dtype",
    "is_int_dtype",
    "is_keras_tensor",
    "result_type",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "standardize_dtype",
]


def test_the_fourteen_names_of_keras_backend():
    assert sorted(backend.__all__) == KERAS_NAMES
    for name in KERAS_NAMES:
        assert callable(getattr(keras.backend, name))


def test_defaults_and_dtype_helpers():
    assert backend.floatx() == "float32"
    assert backend.epsilon() == 1e-7
    assert backend.image_data_format() == "channels_last"
    assert backend.standardize_dtype("float64") == "float64"
    assert backend.standardize_dtype(np.int32) == "int32"
    assert backend.standardize_dtype(None) == "float32"
    assert backend.result_type("float32", "float32") == "float32"
    assert backend.is_float_dtype("float16") and backend.is_float_dtype(float)
    assert not backend.is_float_dtype("int32")
    assert backend.is_int_dtype("uint8") and backend.is_int_dtype("int64")
    assert not backend.is_int_dtype("float32") and not backend.is_int_dtype("bool")


def test_backend_answers_tensorflow_so_programs_take_the_tensorflow_branch():
    assert backend.backend() == "tensorflow"


def test_setters_change_the_settings_and_check_their_values():
    try:
        backend.set_floatx("float64")
        assert backend.floatx() == "float64"
        backend.set_epsilon(1e-5)
        assert backend.epsilon() == 1e-5
        backend.set_image_data_format("Channels_First")
        assert backend.image_data_format() == "channels_first"
    finally:
        backend.set_floatx("float32")
        backend.set_epsilon(1e-7)
        backend.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="set_floatx: unknown `floatx` value 'int32'"):
        backend.set_floatx("int32")
    with pytest.raises(ValueError, match="set_image_data_format: `data_format` must be one of"):
        backend.set_image_data_format("nhwc")
    assert backend.floatx() == "float32"


def test_is_keras_tensor():
    assert backend.is_keras_tensor(keras.Input((3,)))
    assert not backend.is_keras_tensor(np.ones(2))
    assert not backend.is_keras_tensor(Tensor(np.ones(2)))


def test_get_uid_shares_the_layer_name_counter_and_clear_session_resets_it():
    backend.clear_session()
    assert backend.get_uid("block") == 1
    assert backend.get_uid("block") == 2
    assert backend.get_uid() == 1
    backend.clear_session()
    first = keras.layers.Dense(2)
    assert first.name == "dense"
    assert backend.get_uid("dense") == 2  # as in Keras: the first Dense took uid 1
    assert keras.layers.Dense(2).name == "dense_2"
    backend.clear_session(free_memory=False)
    assert keras.layers.Dense(2).name == "dense"
    assert backend.get_uid("dense") == 2
