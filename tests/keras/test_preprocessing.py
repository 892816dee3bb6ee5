"""keras.preprocessing: exactly the names Keras 3.15.1 exposes there, each the keras.utils
function of the same name."""

import json
from pathlib import Path

import numpy as np

import chainrule.keras as keras

RECORD = Path(__file__).parents[2] / "docs" / "keras_api" / "keras3_names.json"


def test_the_names_are_keras_3s():
    recorded = json.loads(RECORD.read_text())["modules"]
    for module_name in (
        "keras.preprocessing",
        "keras.preprocessing.image",
        "keras.preprocessing.sequence",
    ):
        module = keras
        for part in module_name.split(".")[1:]:
            module = getattr(module, part)
        public = {
            name for name in module.__all__ if not isinstance(getattr(module, name), type(np))
        }
        assert public == set(recorded[module_name]), module_name


def test_they_are_the_utils_functions():
    assert (
        keras.preprocessing.image_dataset_from_directory is keras.utils.image_dataset_from_directory
    )
    assert keras.preprocessing.image.load_img is keras.utils.load_img
    assert keras.preprocessing.sequence.pad_sequences is keras.utils.pad_sequences
    padded = keras.preprocessing.sequence.pad_sequences([[1, 2], [3]], maxlen=3)
    np.testing.assert_array_equal(padded, [[0, 1, 2], [0, 0, 3]])
    resized = keras.preprocessing.image.smart_resize(np.ones((4, 6, 1)), (2, 2))
    assert isinstance(resized, np.ndarray) and resized.shape == (2, 2, 1)
