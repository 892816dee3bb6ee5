"""Keras 3's saving hooks: ``get_build_config``/``build_from_config``,
``save_own_variables``/``load_own_variables`` and ``get_compile_config``/``compile_from_config``,
called where Keras calls them when a model is saved and loaded, and what their defaults do."""

import json
import warnings
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from chainrule import keras  # noqa: E402
from chainrule.keras import layers, saving  # noqa: E402
from chainrule.keras.saving import FileFormatError  # noqa: E402

X = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")


def config_json(path):
    return json.loads(zipfile.ZipFile(path).read("config.json"))


# ----- get_build_config / build_from_config ---------------------------------------------------


class InitBuilt(layers.Layer):
    """keras-io's LayerWithCustomBuild: ``build`` takes an initializer besides the shape."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape, layer_init):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer=layer_init)
        self.layer_init, self.built_for = layer_init, input_shape

    def call(self, x):
        return keras.ops.matmul(x, self.w)

    def get_config(self):
        return {**super().get_config(), "units": self.units}

    def get_build_config(self):
        return {"input_shape": self.built_for, "layer_init": self.layer_init}

    def build_from_config(self, config):
        self.build(config["input_shape"], config["layer_init"])


class NeedsInit(layers.Layer):
    """A ``build`` that needs more than the shape, without the hooks to save it."""

    def build(self, input_shape, layer_init):
        self.w = self.add_weight(shape=(input_shape[-1], 2), initializer=layer_init)

    def call(self, x):
        return keras.ops.matmul(x, self.w)


def test_the_default_build_config_is_the_built_shape():
    # as Keras 3.15: {'input_shape': (None, 4)} once built, None before
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    assert model.layers[0].get_build_config() == {"input_shape": (None, 4)}
    assert layers.Dense(2).get_build_config() is None
    dense = layers.Dense(3)
    dense.build_from_config({"input_shape": [None, 4]})
    assert dense.built and dense.kernel.shape == (4, 3)


@pytest.mark.parametrize("with_input", [True, False])
def test_a_layer_whose_build_takes_more_than_its_shape_round_trips(tmp_path, with_input):
    first = InitBuilt(units=16)
    first.build((None, 8), "ones")
    front = [keras.Input((8,))] if with_input else []
    model = keras.Sequential(front + [first, layers.Dense(1)])
    expected = model.predict(X, verbose=0)
    model.save(tmp_path / "m.keras")
    description = config_json(tmp_path / "m.keras")["config"]["layers"]
    # as Keras 3.15 writes it: the layer's own build_config, and the next layer's input shape
    assert description[-2]["build_config"] == {"input_shape": [None, 8], "layer_init": "ones"}
    assert description[-1]["build_config"] == {"input_shape": [None, 16]}
    loaded = saving.load_model(tmp_path / "m.keras", custom_objects={"InitBuilt": InitBuilt})
    assert loaded.layers[0].layer_init == "ones" and loaded.built
    np.testing.assert_allclose(loaded.predict(X, verbose=0), expected)


def test_a_build_that_needs_more_than_the_shape_is_reported_with_the_layer(tmp_path):
    for functional in (False, True):
        layer = NeedsInit(name="needs_init")
        layer.build((None, 8), "ones")
        inputs = keras.Input((8,))
        model = (
            keras.Model(inputs, layer(inputs)) if functional else keras.Sequential([inputs, layer])
        )
        model.save(tmp_path / "m.keras")
        with pytest.raises(FileFormatError) as failure:
            saving.load_model(tmp_path / "m.keras", custom_objects={"NeedsInit": NeedsInit})
        message = str(failure.value)
        assert "layer 'needs_init' (NeedsInit)" in message and "['layer_init']" in message
        assert "build_from_config" in message and "damaged" not in message


def test_a_failing_build_from_config_is_reported_with_the_layer_and_the_error(tmp_path):
    class Forgetful(InitBuilt):
        def get_build_config(self):
            return {"layer_init": self.layer_init}

    layer = Forgetful(name="forgetful")
    layer.build((None, 8), "zeros")
    keras.Sequential([keras.Input((8,)), layer]).save(tmp_path / "m.keras")
    with pytest.raises(FileFormatError, match="layer 'forgetful' .*KeyError: 'input_shape'"):
        saving.load_model(tmp_path / "m.keras", custom_objects={"Forgetful": Forgetful})


# ----- save_own_variables / load_own_variables ------------------------------------------------


def test_the_default_store_holds_the_own_weights_trainable_first():
    # as Keras 3.15: BatchNormalization stores gamma, beta, moving_mean, moving_variance
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.BatchNormalization()])
    dense, norm = model.layers
    store = {}
    norm.save_own_variables(store)
    assert sorted(store) == ["0", "1", "2", "3"]
    for index, weight in enumerate([norm.gamma, norm.beta, norm.moving_mean]):
        np.testing.assert_array_equal(store[str(index)], weight.numpy())
    np.testing.assert_array_equal(store["3"], norm.moving_variance.numpy())
    store = {"0": np.ones((4, 3), "float32"), "1": np.full(3, 2.0, "float32")}
    dense.load_own_variables(store)
    np.testing.assert_array_equal(dense.kernel.numpy(), store["0"])
    np.testing.assert_array_equal(dense.bias.numpy(), store["1"])


def test_the_default_load_checks_the_count_and_the_shapes():
    dense = keras.Sequential([keras.Input((4,)), layers.Dense(3)]).layers[0]
    # as Keras 3.15's message for a store of another size
    too_many = {"0": np.zeros((4, 3)), "1": np.zeros(3), "2": np.zeros(1)}
    with pytest.raises(ValueError, match="Layer 'dense.*' expected 2 variables, but received 3"):
        dense.load_own_variables(too_many)
    with pytest.raises(ValueError, match=r"has shape \(4, 3\), but the store holds shape \(5, 3\)"):
        dense.load_own_variables({"0": np.zeros((5, 3)), "1": np.zeros(3)})


class Offset(layers.Dense):
    """A Dense layer that stores one more number beside its weights, its own way."""

    calls = []

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.offset = 0.0

    def call(self, x):
        return super().call(x) + self.offset

    def save_own_variables(self, store):
        Offset.calls.append("save")
        super().save_own_variables(store)
        store["offset"] = np.array([self.offset])

    def load_own_variables(self, store):
        Offset.calls.append("load")
        self.offset = float(store["offset"][0])
        self.kernel.assign(store["0"])
        self.bias.assign(store["1"])


def test_a_layer_that_stores_more_state_round_trips(tmp_path):
    Offset.calls.clear()
    model = keras.Sequential([keras.Input((8,)), Offset(2), layers.Dense(1)])
    model.layers[0].offset = 42.0
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, np.ones((4, 1)), verbose=0)
    model.save(tmp_path / "m.keras")
    weights = zipfile.ZipFile(tmp_path / "m.keras").read("model.weights.h5")
    with h5py.File(__import__("io").BytesIO(weights)) as h5:
        assert sorted(h5["layers/offset/vars"]) == ["0", "1", "offset"]  # as Keras 3.15
    loaded = saving.load_model(tmp_path / "m.keras", custom_objects={"Offset": Offset})
    assert Offset.calls == ["save", "load"] and loaded.layers[0].offset == 42.0
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    fresh = keras.Sequential([keras.Input((8,)), Offset(2), layers.Dense(1)])
    fresh.load_weights(tmp_path / "m.keras")  # load_weights calls it too
    assert fresh.layers[0].offset == 42.0


def test_a_failing_load_own_variables_is_reported_with_the_layer(tmp_path):
    class Misnamed(layers.Dense):
        def load_own_variables(self, store):
            self.kernel.assign(store["kernel"])

    keras.Sequential([keras.Input((3,)), Misnamed(2, name="misnamed")]).save(tmp_path / "m.keras")
    objects = {"Misnamed": Misnamed}
    with pytest.raises(FileFormatError, match="layer 'misnamed' .*load_own_variables failed"):
        saving.load_model(tmp_path / "m.keras", custom_objects=objects)
    model = keras.Sequential([keras.Input((3,)), Misnamed(2, name="misnamed")])
    with pytest.warns(UserWarning, match="Skipping loading weights for layer 'misnamed'"):
        model.load_weights(tmp_path / "m.keras", skip_mismatch=True)


# ----- get_compile_config / compile_from_config -----------------------------------------------


class CompileOnly(keras.Model):
    """A model whose ``compile`` has its own signature, without the hooks to save it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.head = layers.Dense(1)

    def call(self, x):
        return self.head(x)

    def compile(self, optimizer, loss_fn):
        super().compile(optimizer=optimizer, loss=loss_fn)
        self.loss_fn = loss_fn


class Regressor(CompileOnly):
    """... and one with them (keras-io's ModelWithCustomCompile, shortened)."""

    def get_compile_config(self):
        return {"optimizer": "sgd", "loss_fn": self.loss_fn}

    def compile_from_config(self, config):
        self.compile(optimizer=config["optimizer"], loss_fn=config["loss_fn"])


def test_a_model_with_its_own_compile_signature_loads_compiled(tmp_path):
    model = Regressor()
    model.compile(optimizer="sgd", loss_fn="mse")
    model.fit(X, np.ones((4, 1)), verbose=0)
    model.save(tmp_path / "m.keras")
    assert config_json(tmp_path / "m.keras")["compile_config"] == {
        "optimizer": "sgd",
        "loss_fn": "mse",
    }
    loaded = saving.load_model(tmp_path / "m.keras", custom_objects={"Regressor": Regressor})
    assert loaded.compiled and loaded.loss_fn == "mse"  # as Keras 3.15
    assert int(loaded.optimizer.iterations) == 1
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_a_model_overriding_only_compile_loads_uncompiled_with_keras_warning(tmp_path):
    model = CompileOnly()
    model.compile(optimizer="sgd", loss_fn="mse")
    model.fit(X, np.ones((4, 1)), verbose=0)
    model.save(tmp_path / "m.keras")
    # as Keras 3.15: compile() is not called, with this warning
    with pytest.warns(UserWarning, match="`compile\\(\\)` was not called as part of model"):
        loaded = saving.load_model(
            tmp_path / "m.keras", custom_objects={"CompileOnly": CompileOnly}
        )
    assert loaded.optimizer is None
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_the_default_compile_config_round_trips():
    model = keras.Sequential([keras.Input((8,)), layers.Dense(1)])
    assert model.get_compile_config() == {}  # as Keras 3.15, before compile
    model.compile(optimizer="adam", loss="mae", metrics=["mse"])
    config = model.get_compile_config()
    copy = keras.Sequential([keras.Input((8,)), layers.Dense(1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        copy.compile_from_config(config)
    assert copy.compiled and copy.loss == "mae"
    assert type(copy.optimizer).__name__ == "Adam"
    assert copy.get_compile_config() == config
