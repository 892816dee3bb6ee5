"""The order in which a .keras file stores a layer's weights: Keras 3 stores them under
layers/<layer>/vars/0, 1, ... in its tracking order (the variables tracked trainable first, each
group in the order the layer first saw them), so a file crosses between the libraries only if
chainrule stores and reads them in that order too. (tests/keras/saving/test_interop.py crosses
such a file with real Keras.)"""

import io
import zipfile

import numpy as np
import pytest

from chainrule import keras

h5py = pytest.importorskip("h5py")


class MixedState(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = keras.Variable(np.full((3,), 2.0), name="a", dtype="float32")
        self.n = keras.Variable(np.zeros(3), name="n", dtype="float32", trainable=False)

    def build(self, input_shape):
        self.m = self.add_weight(shape=(3,), initializer="zeros", name="m", trainable=False)
        self.b = self.add_weight(shape=(3,), initializer="zeros", name="b")
        self.c = keras.Variable(np.zeros(3), name="c", dtype="float32")

    def call(self, x):
        return x * self.a + self.b + self.c + self.n + self.m


def test_a_layers_variables_are_stored_and_read_in_kerass_order(tmp_path):
    # Keras 3.15.1, this model with weight i of layer.weights set to i:
    #   [w.name for w in layer.weights] -> ['a', 'b', 'c', 'n', 'm']
    #   model.weights.h5: layers/mixed_state/vars/0..4 hold 0, 1, 2, 3, 4
    model = keras.Sequential([keras.Input((3,)), MixedState(name="mixed")])
    layer = model.layers[0]
    assert [w.name for w in layer.weights] == ["a", "b", "c", "n", "m"]
    for i, weight in enumerate(layer.weights):
        weight.assign(np.full(3, float(i)))
    model.save(tmp_path / "mixed.keras")
    with zipfile.ZipFile(tmp_path / "mixed.keras") as archive:
        with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as h5:
            stored = h5["layers/mixed_state/vars"]
            assert {key: float(stored[key][0]) for key in stored} == {
                str(i): float(i) for i in range(5)
            }
    restored = keras.saving.load_model(
        tmp_path / "mixed.keras", custom_objects={"MixedState": MixedState}
    )
    for name, weight in zip("abcnm", restored.layers[0].weights):
        assert weight.name == name
        np.testing.assert_array_equal(weight.numpy(), np.full(3, float("abcnm".index(name))))
