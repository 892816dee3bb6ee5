"""Lookup layers' vocabularies and IDF weights are saved in .keras files as Keras 3 stores
them (assets/<layer path>/vocabulary.txt, vars/idf_weights) and come back; an asset with an
unsafe name is refused."""

import json
import zipfile

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras.saving.serialization import FileFormatError

TEXTS = ["good film", "bad film", "good plot", "dull plot twist"]


@pytest.mark.parametrize("mode", ["int", "multi_hot", "count", "tf_idf"])
def test_an_adapted_text_vectorization_keeps_its_vocabulary(tmp_path, mode):
    options = {"output_sequence_length": 4} if mode == "int" else {}
    vectorize = keras.layers.TextVectorization(max_tokens=12, output_mode=mode, **options)
    vectorize.adapt(TEXTS)
    inputs = keras.Input(shape=(1,), dtype="string")
    model = keras.Model(inputs, vectorize(inputs))
    model.save(tmp_path / "text.keras")
    names = zipfile.ZipFile(tmp_path / "text.keras").namelist()
    assert "assets/layers/text_vectorization/vocabulary.txt" in names
    back = keras.models.load_model(tmp_path / "text.keras")
    x = np.array([["good twist"], ["unseen film film"]], dtype=object)
    assert back.layers[1].get_vocabulary() == vectorize.get_vocabulary()
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))


def test_string_and_integer_lookups_keep_their_vocabularies(tmp_path):
    strings = keras.layers.StringLookup(output_mode="one_hot")
    strings.adapt(np.array(["a", "b", "a", "c"]))
    integers = keras.layers.IntegerLookup()
    integers.adapt(np.array([7, 3, 7, 12]))
    text = keras.Input(shape=(1,), dtype="string")
    ids = keras.Input(shape=(2,), dtype="int32")
    model = keras.Model([text, ids], [strings(text), integers(ids)])
    model.save(tmp_path / "lookups.keras")
    back = keras.models.load_model(tmp_path / "lookups.keras")
    x = [np.array([["b"], ["z"]], dtype=object), np.array([[12, 7], [5, 3]], dtype="int32")]
    for ours, theirs in zip(back.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_array_equal(ours, theirs)
    assert back.layers[3].get_vocabulary() == integers.get_vocabulary()


def test_a_given_vocabulary_stays_in_the_config_and_an_unsafe_asset_is_refused(tmp_path):
    lookup = keras.layers.StringLookup(vocabulary=["x", "y"])
    inputs = keras.Input(shape=(1,), dtype="string")
    keras.Model(inputs, lookup(inputs)).save(tmp_path / "given.keras")
    names = zipfile.ZipFile(tmp_path / "given.keras").namelist()
    assert not [name for name in names if name.startswith("assets/")]
    with zipfile.ZipFile(tmp_path / "given.keras") as source:
        entries = {name: source.read(name) for name in source.namelist()}
    entries["assets/../../escape.txt"] = b"x"
    with zipfile.ZipFile(tmp_path / "hostile.keras", "w") as target:
        for name, data in entries.items():
            target.writestr(name, data)
    with pytest.raises(FileFormatError, match="asset with an unsafe name"):
        keras.models.load_model(tmp_path / "hostile.keras")


def test_a_string_input_is_written_with_keras_dtype_name(tmp_path):
    """Keras 3 (on TensorFlow) reads "string", not NumPy's "object": checked by hand both ways
    with TensorFlow 2.21's Keras, predictions equal to 0.0 (TextVectorization int and tf_idf,
    StringLookup)."""
    vectorize = keras.layers.TextVectorization(max_tokens=12, output_sequence_length=3)
    vectorize.adapt(TEXTS)
    inputs = keras.Input(shape=(1,), dtype="string")
    keras.Model(inputs, vectorize(inputs)).save(tmp_path / "text.keras")
    config = json.loads(zipfile.ZipFile(tmp_path / "text.keras").read("config.json"))
    layers = config["config"]["layers"]
    assert layers[0]["config"]["dtype"] == "string"
    assert layers[1]["inbound_nodes"][0]["args"][0]["config"]["dtype"] == "string"


def test_saved_vocabularies_and_idf_weights_must_have_the_size_the_config_gives(tmp_path):
    """A file whose assets or weights disagree with the layer's config is refused: it cannot
    hand the layer a vocabulary of millions of tokens its config never mentioned."""
    vectorize = keras.layers.TextVectorization(max_tokens=12, output_mode="tf_idf")
    vectorize.adapt(TEXTS)
    inputs = keras.Input(shape=(1,), dtype="string")
    keras.Model(inputs, vectorize(inputs)).save(tmp_path / "text.keras")
    with zipfile.ZipFile(tmp_path / "text.keras") as source:
        entries = {name: source.read(name) for name in source.namelist()}
    for name in [n for n in entries if n.endswith("vocabulary.txt")]:
        entries[name] += ("\n" + "\n".join(f"extra{i}" for i in range(1000))).encode()
    with zipfile.ZipFile(tmp_path / "long.keras", "w") as target:
        for name, data in entries.items():
            target.writestr(name, data)
    with pytest.raises(FileFormatError, match="vocabulary.txt holds 1[0-9]{3} entries"):
        keras.models.load_model(tmp_path / "long.keras")
    lookup = keras.layers.StringLookup(output_mode="tf_idf", vocabulary_size=4)
    with pytest.raises(FileFormatError, match="idf_weights must be a 1-D float array"):
        lookup.load_stored_arrays({"idf_weights": np.ones((2, 2), "float32")})
    with pytest.raises(FileFormatError, match="idf_weights holds 2 entries.*vocabulary of 4"):
        lookup.load_stored_arrays({"idf_weights": np.ones(2, "float32")})
