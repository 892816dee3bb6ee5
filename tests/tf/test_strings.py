"""tf.strings on string Tensors: values from TensorFlow's documented examples, strings through
the shape functions and keras.Input(dtype="string"), and clear errors."""

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras


def strings(tensor):
    return tensor.numpy().tolist() if isinstance(tensor.numpy(), np.ndarray) else tensor.numpy()


def test_the_string_functions_give_tensorflows_documented_values():
    assert strings(tf.strings.lower("CamelCase string and ALL CAPS")) == (
        b"camelcase string and all caps"
    )
    assert strings(tf.strings.upper(["a1", "b"])) == [b"A1", b"B"]
    # TensorFlow changes the case of ASCII letters only, unless told the encoding
    assert strings(tf.strings.lower("\u00c9COLE")) == "\u00c9cole".encode()
    assert strings(tf.strings.lower("\u00c9COLE", encoding="utf-8")) == "\u00e9cole".encode()
    assert strings(tf.strings.upper("\u00e9t\u00e9")) == "\u00e9T\u00e9".encode()
    assert (
        strings(
            tf.strings.regex_replace("Text with tags.<br /><b>contains html</b>", "<[^>]+>", " ")
        )
        == b"Text with tags.  contains html "
    )
    assert strings(tf.strings.regex_replace("aaa", "a", "b", replace_global=False)) == b"baa"
    assert strings(tf.strings.regex_full_match(["TF lib", "lib TF"], ".*lib$")) == [True, False]
    assert strings(tf.strings.length(["Hello", "TensorFlow", "\U0001f642"])) == [5, 10, 4]
    assert tf.strings.length(["\U0001f642"], unit="UTF8_CHAR").numpy().tolist() == [1]
    assert tf.strings.length(["ab"]).dtype == np.int32
    assert strings(tf.strings.join(["abc", "def"])) == b"abcdef"
    joined = tf.strings.join([["abc", "123"], ["def", "456"], ["ghi", "789"]], separator=".")
    assert strings(joined) == [b"abc.def.ghi", b"123.456.789"]
    pairs = tf.constant([["abc", "123"], ["def", "456"]])
    assert strings(tf.strings.reduce_join(pairs)) == b"abc123def456"
    assert strings(tf.strings.reduce_join(pairs, axis=-1)) == [b"abc123", b"def456"]
    assert strings(tf.strings.reduce_join(pairs, axis=-2, separator=".")) == [
        b"abc.def",
        b"123.456",
    ]
    assert strings(tf.strings.as_string([3, 2])) == [b"3", b"2"]
    assert strings(tf.strings.as_string([3.1415926, 2.71828], precision=2)) == [b"3.14", b"2.72"]
    assert strings(tf.strings.as_string(np.float32(1.5))) == b"1.500000"
    assert strings(tf.strings.strip([b"\nTensorFlow", b"     The python library    "])) == [
        b"TensorFlow",
        b"The python library",
    ]
    assert strings(tf.strings.substr([b"Hello", b"World"], pos=1, len=2)) == [b"el", b"or"]
    assert strings(tf.strings.split("hello world")) == [b"hello", b"world"]
    assert strings(tf.strings.unicode_split("abc", "UTF-8")) == [b"a", b"b", b"c"]
    number = tf.strings.to_number(["1.5", "-2"])
    assert number.dtype == np.float32 and number.numpy().tolist() == [1.5, -2.0]
    assert tf.strings.to_number(["7"], out_type=tf.int32).numpy().tolist() == [7]


def test_string_tensors_move_through_the_shape_functions():
    text = tf.constant(["a", "b", "c", "d"])
    assert text.dtype == tf.string and repr(text).endswith("dtype=string)")
    assert tf.reshape(text, (2, 2)).shape == (2, 2)
    assert tf.expand_dims(text, -1).shape == (4, 1)
    assert tf.squeeze(tf.expand_dims(text, 0)).shape == (4,)
    assert strings(tf.transpose(tf.reshape(text, (2, 2)))) == [[b"a", b"c"], [b"b", b"d"]]
    assert strings(tf.concat([text, text[:1]], axis=0))[-1] == b"a"
    assert tf.stack([text, text]).shape == (2, 4)
    assert f"{tf.constant(20)}" == "20" and f"{tf.constant('x')}" == "b'x'"


def test_bad_input_names_the_function():
    with pytest.raises(TypeError, match="tf.strings.lower: expected strings; got dtype float"):
        tf.strings.lower(np.zeros(2))
    with pytest.raises(ValueError, match="tf.strings.to_number: 'x1' is not a number"):
        tf.strings.to_number(["1", "x1"])
    with pytest.raises(ValueError, match="RaggedTensor"):
        tf.strings.split(["a b", "c"])
    with pytest.raises(ValueError, match="unit must be 'BYTE' or 'UTF8_CHAR'"):
        tf.strings.length("a", unit="UTF16_CHAR")
    with pytest.raises(TypeError, match="use tf.strings.to_number"):
        tf.constant(["1"], dtype="float32")


def test_a_model_reads_strings_from_a_string_input_with_the_rank_keras_adjusts():
    vectorize = keras.layers.TextVectorization(max_tokens=10, output_sequence_length=3)
    vectorize.adapt(["good film", "bad film", "good"])
    inputs = keras.Input(shape=(1,), dtype="string")
    outputs = keras.layers.Embedding(10, 2)(vectorize(inputs))
    model = keras.Model(inputs, outputs)
    assert model.get_config()["layers"][0]["config"]["dtype"] == "string"
    texts = np.array(["good film", "bad"], dtype=object)
    by_column = model.predict(texts[:, None], verbose=0)  # (batch, 1), as declared
    by_row = model.predict(texts, verbose=0)  # (batch,): a last axis of 1 is added, as in Keras
    np.testing.assert_array_equal(by_row, by_column)
    assert by_row.shape == (2, 3, 2)


def test_a_string_tensor_indexes_and_an_integer_scalar_is_an_index():
    batch = tf.constant(["first review", "second review"])
    assert batch[1].numpy() == b"second review" and batch[1].dtype == tf.string
    assert batch[tf.constant(0)].numpy() == b"first review"
    names = ["neg", "pos"]
    assert names[tf.constant(1)] == "pos"  # TensorFlow tutorials index class names so
    with pytest.raises(TypeError, match="only an integer scalar Tensor can be used as an index"):
        names[tf.constant(1.0)]


def test_tensorflows_short_names_for_the_keras_modules():
    assert tf.metrics.BinaryAccuracy is keras.metrics.BinaryAccuracy
    assert tf.losses.BinaryCrossentropy is keras.losses.BinaryCrossentropy
    assert tf.optimizers.Adam is keras.optimizers.Adam
    assert tf.initializers.GlorotUniform is keras.initializers.GlorotUniform
