"""Keras 2's HDF5 files, made by real Keras (tf_keras 2.21 and Keras 3's legacy writer; see
tests/fixtures/keras/make_legacy_fixtures.py): whole models and weight files load, predict as
Keras did, and compile as they were saved."""

import pathlib
import shutil

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from chainrule import keras  # noqa: E402
from chainrule.keras import layers, optimizers  # noqa: E402
from chainrule.keras.models import load_model  # noqa: E402
from chainrule.keras.saving import FileFormatError  # noqa: E402

FIXTURES = pathlib.Path(__file__).parents[2] / "fixtures" / "keras"
EXPECTED = np.load(FIXTURES / "expected_legacy.npz")


@pytest.mark.parametrize("name", ["keras2_convnet", "keras2_mlp", "keras3_legacy"])
def test_a_keras_hdf5_model_predicts_as_keras_did(name):
    model = load_model(FIXTURES / f"{name}.h5")
    got = model.predict(EXPECTED[f"x_{name}"], verbose=0)
    np.testing.assert_allclose(got, EXPECTED[f"y_{name}"], atol=1e-6)


def test_the_keras2_convnet_is_rebuilt_layer_for_layer_and_compiled():
    model = load_model(FIXTURES / "keras2_convnet.h5")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "MaxPooling2D", "BatchNormalization", "Flatten", "Dropout", "Dense"]
    assert model.layers[2].axis == 3  # Keras 2 wrote [3]
    assert isinstance(model.optimizer, optimizers.Adam)
    assert model.loss == "categorical_crossentropy"
    x = EXPECTED["x_keras2_convnet"]
    history = model.fit(x, np.eye(3)[[0, 1, 2, 0, 1]], epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and "accuracy" in history.history


def test_tf_keras_optimizer_names_and_settings_are_kept():
    model = load_model(FIXTURES / "keras2_mlp.h5")
    assert isinstance(model.optimizer, optimizers.SGD)  # written as "Custom>SGD"
    assert model.optimizer.momentum == pytest.approx(0.9)
    assert model.optimizer.learning_rate == pytest.approx(0.05)
    assert load_model(FIXTURES / "keras2_mlp.h5", compile=False).optimizer is None


def mlp():
    return keras.Sequential(
        [keras.Input((5,)), layers.Dense(4, activation="tanh"), layers.Dense(2)]
    )


@pytest.mark.parametrize("file", ["keras2_mlp_weights.h5", "keras2_mlp.h5"])
def test_load_weights_reads_keras2_weight_files_and_model_files(file):
    model = mlp()
    model.load_weights(FIXTURES / file)
    got = model.predict(EXPECTED["x_keras2_mlp"], verbose=0)
    np.testing.assert_allclose(got, EXPECTED["y_keras2_mlp"], atol=1e-6)


def test_weights_of_another_architecture_are_refused_with_both_shapes():
    model = keras.Sequential([keras.Input((5,)), layers.Dense(3), layers.Dense(2)])
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(
        FileFormatError, match=r"the model has shape \(5, 3\), the file stores \(5, 4\)"
    ):
        model.load_weights(FIXTURES / "keras2_mlp_weights.h5")
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_weights_file_given_to_load_model_says_what_to_do():
    with pytest.raises(FileFormatError, match="it is a weights file; build the model in code"):
        load_model(FIXTURES / "keras2_mlp_weights.h5")


def test_a_keras2_file_with_unwritten_weights_is_refused(tmp_path):
    path = tmp_path / "hostile.h5"
    shutil.copy(FIXTURES / "keras2_mlp.h5", path)
    with h5py.File(path, "r+") as h5:
        first = h5["model_weights"].attrs["layer_names"][0]
        group = h5["model_weights"][first.decode() if hasattr(first, "decode") else first]
        (kernel_path,) = [n for n in group.attrs["weight_names"] if "kernel" in str(n)]
        kernel_path = kernel_path.decode() if hasattr(kernel_path, "decode") else kernel_path
        parent, _, leaf = kernel_path.rpartition("/")
        del group[parent][leaf]
        group[parent].create_dataset(leaf, shape=(5, 4), dtype="float32")
    with pytest.raises(FileFormatError, match="declares 80 bytes of data but the file stores 0"):
        load_model(path)
