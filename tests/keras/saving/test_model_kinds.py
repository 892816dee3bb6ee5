"""Functional and subclassed models in Keras 3's ``.keras`` and ``.weights.h5`` layout.

The fixtures were written by real Keras 3.15.1 (``tests/fixtures/keras/make_fixtures.py kinds``):
chainrule loads them and predicts what Keras predicted, and resumes training from the saved
optimizer state to the weights Keras reached after one more step. Files chainrule writes are
read back here; ``test_interop.py`` has real Keras read them.
"""

import json
import pathlib
import time
import zipfile

import numpy as np
import pytest

pytest.importorskip("h5py")

import chainrule.keras as keras
from chainrule.keras import layers
from chainrule.keras.saving import FileFormatError

FIXTURES = pathlib.Path(__file__).parents[2] / "fixtures" / "keras"
EXPECTED = np.load(FIXTURES / "expected_kinds.npz")


@keras.saving.register_keras_serializable(package="fixtures")
class Tower(keras.Model):
    """The subclassed model of the fixtures: the same attributes as Keras's ``Tower``."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.encoder = layers.Dense(units, activation="relu")
        self.blocks = [layers.Dense(units), layers.Dense(units, activation="tanh")]
        self.head = keras.Sequential([layers.Dense(2)])

    def call(self, inputs, training=False):
        x = self.encoder(inputs)
        for block in self.blocks:
            x = block(x) + x
        return self.head(x)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def weight_paths(path):
    """The HDF5 paths of every dataset in a ``.keras`` file's weights."""
    import io

    import h5py

    with zipfile.ZipFile(path) as archive:
        data = archive.read("model.weights.h5")
    found = []
    with h5py.File(io.BytesIO(data), "r") as h5:
        h5.visititems(
            lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) else None
        )
    return sorted(found)


@pytest.mark.parametrize("name", ["functional_adam", "subclassed"])
def test_keras_files_load_predict_and_resume_training(name):
    model = keras.models.load_model(FIXTURES / f"{name}.keras")
    x = EXPECTED[f"x_{name}"]
    np.testing.assert_allclose(model.predict(x, verbose=0), EXPECTED[f"y_{name}"], atol=1e-6)
    assert int(model.optimizer.iterations) == EXPECTED[f"iterations_{name}"]
    model.train_on_batch(x[:4], EXPECTED[f"ystep_{name}"])
    stepped = [EXPECTED[f"stepped_{name}_{i}"] for i in range(len(model.get_weights()))]
    for got, want in zip(model.get_weights(), stepped):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_compile_state_comes_back_with_metric_objects():
    model = keras.models.load_model(FIXTURES / "functional_adam.keras")
    assert type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    top_k = [m for m in model._metric_identifiers if type(m).__name__ == "TopKCategoricalAccuracy"]
    assert len(top_k) == 1 and top_k[0].k == 3


def test_keras_ops_between_layers():
    """Keras writes each keras.ops call as a node of an op class (Sum with axis in its config,
    GetItem with slices in its args); chainrule calls the same functions."""
    model = keras.models.load_model(FIXTURES / "functional_ops.keras")
    kinds = [type(op).__name__ for op in model.operations]
    for kind in ("Sum", "Add", "Concatenate", "Tanh", "GetItem", "Subtract", "Relu", "Mean"):
        assert kind in kinds
    for index, output in enumerate(model(EXPECTED["x_functional_ops_x"])):
        np.testing.assert_allclose(output.numpy(), EXPECTED[f"y_functional_ops_{index}"], atol=1e-6)


def test_an_op_outside_keras_ops_is_refused(tmp_path):
    with zipfile.ZipFile(FIXTURES / "functional_ops.keras") as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(entries["config.json"])
    op = next(d for d in config["config"]["layers"] if d["class_name"] == "Tanh")
    op["class_name"] = "System"
    entries["config.json"] = json.dumps(config)
    with zipfile.ZipFile(tmp_path / "bad.keras", "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(FileFormatError, match="op 'System'"):
        keras.models.load_model(tmp_path / "bad.keras")


def test_a_dict_of_inputs_and_a_list_of_outputs():
    model = keras.models.load_model(FIXTURES / "functional_multi.keras")
    x = {key: EXPECTED[f"x_functional_multi_{key}"] for key in ("a", "b")}
    outputs = model(x)
    assert isinstance(outputs, list) and len(outputs) == 2
    for index, output in enumerate(outputs):
        np.testing.assert_allclose(
            output.numpy(), EXPECTED[f"y_functional_multi_{index}"], atol=1e-6
        )


@pytest.mark.parametrize(
    "name", ["functional_adam", "functional_multi", "functional_ops", "subclassed"]
)
def test_weights_files_load_into_the_same_architecture(name):
    model = keras.models.load_model(FIXTURES / f"{name}.keras", compile=False)
    reference = [w.copy() for w in model.get_weights()]
    model.set_weights([np.zeros_like(w) for w in reference])
    model.load_weights(FIXTURES / f"{name}.weights.h5")
    for got, want in zip(model.get_weights(), reference):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "name", ["functional_adam", "functional_multi", "functional_ops", "subclassed"]
)
def test_saving_again_writes_keras_layout_and_config(name, tmp_path):
    model = keras.models.load_model(FIXTURES / f"{name}.keras")
    model.save(tmp_path / "again.keras")
    assert weight_paths(tmp_path / "again.keras") == weight_paths(FIXTURES / f"{name}.keras")
    with zipfile.ZipFile(FIXTURES / f"{name}.keras") as archive:
        theirs = json.loads(archive.read("config.json"))
    with zipfile.ZipFile(tmp_path / "again.keras") as archive:
        ours = json.loads(archive.read("config.json"))
    # A user's class is found by its registered name; the module written beside it is free.
    keys = ("class_name", "registered_name", "build_config")
    for key in keys if name == "subclassed" else ("module",) + keys:
        assert ours.get(key) == theirs.get(key), key
    if "layers" in theirs["config"]:
        assert [d["name"] for d in ours["config"]["layers"]] == [
            d["name"] for d in theirs["config"]["layers"]
        ]
        for key in ("input_layers", "output_layers"):
            assert ours["config"][key] == theirs["config"][key]
        for mine, keras_layer in zip(ours["config"]["layers"], theirs["config"]["layers"]):
            assert mine["inbound_nodes"] == keras_layer["inbound_nodes"], mine["name"]
    again = keras.models.load_model(tmp_path / "again.keras")
    for got, want in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_a_subclassed_model_needs_its_class():
    scope = keras.saving.get_custom_objects()
    saved = scope.pop("fixtures>Tower")
    try:
        with pytest.raises(FileFormatError, match="'Tower'.*custom_objects"):
            keras.models.load_model(FIXTURES / "subclassed.keras")
        model = keras.models.load_model(
            FIXTURES / "subclassed.keras", custom_objects={"Tower": Tower}
        )
        assert isinstance(model, Tower)
    finally:
        scope["fixtures>Tower"] = saved


def test_model_from_config_dispatches_on_input_layers():
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, layers.Dense(2)(layers.Dense(4)(inputs)))
    rebuilt = keras.Model.from_config(model.get_config())
    assert type(rebuilt).__name__ == "Functional"
    assert [type(layer).__name__ for layer in rebuilt.layers] == ["InputLayer", "Dense", "Dense"]
    tower = Tower.from_config(Tower(units=3).get_config())
    assert isinstance(tower, Tower) and tower.units == 3


def test_loading_is_linear_in_the_number_of_layers(tmp_path):
    """2,000 layers load in a few seconds (building the model once, not once per layer)."""
    model = keras.Sequential([keras.Input(shape=(1,))] + [layers.Dense(1) for _ in range(2000)])
    model.save(tmp_path / "deep.keras")
    start = time.perf_counter()
    loaded = keras.models.load_model(tmp_path / "deep.keras")
    assert time.perf_counter() - start < 30  # about 4 s on one core; quadratic took minutes
    x = np.ones((2, 1), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def rewritten(tmp_path, change, name="functional_adam"):
    """A copy of a fixture with ``change(config)`` applied to its config.json."""
    with zipfile.ZipFile(FIXTURES / f"{name}.keras") as archive:
        entries = {entry: archive.read(entry) for entry in archive.namelist()}
    config = json.loads(entries["config.json"])
    change(config)
    entries["config.json"] = json.dumps(config)
    target = tmp_path / f"changed_{name}.keras"
    with zipfile.ZipFile(target, "w") as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
    return target


def test_a_functional_config_cannot_allocate_more_than_the_file_holds(tmp_path):
    """A layer's weights are checked before it is built, on the shape it is called with."""
    import tracemalloc

    def huge(config):
        for description in config["config"]["layers"]:
            if description["class_name"] == "InputLayer":
                description["config"]["batch_shape"] = [None, 100_000]
            if description["config"].get("name") == "shared":
                description["config"]["units"] = 1_000_000  # a 400 GB kernel, if it were built

    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match=r"'shared' \(Dense\).*bytes"):
            keras.models.load_model(rewritten(tmp_path, huge))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 << 20


def test_a_call_reading_a_tensor_no_layer_makes_is_refused(tmp_path):
    def dangling(config):
        layer = config["config"]["layers"][-1]
        layer["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["nowhere", 0, 0]

    with pytest.raises(FileFormatError, match="no layer of the config produces"):
        keras.models.load_model(rewritten(tmp_path, dangling))


def functional_classifier():
    inputs = keras.Input(shape=(4,))
    shared = layers.Dense(4, activation="tanh")
    x = layers.Concatenate()([shared(inputs), shared(shared(inputs))])
    block = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(5, activation="relu")])
    return keras.Model(inputs, layers.Dense(3, activation="softmax")(block(x)))


@pytest.mark.parametrize("kind", ["sequential", "functional", "subclassed"])
def test_model_checkpoint_files_resume_training_exactly(tmp_path, kind):
    """Two epochs, a checkpoint, one more epoch from the file: the weights of three epochs in
    one go (no shuffling, no dropout, the optimizer's state and step count restored)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 4)).astype("float32")
    y = rng.integers(0, 2, 24)  # Tower has two outputs
    make = {
        "sequential": lambda: keras.Sequential(
            [keras.Input(shape=(4,)), layers.Dense(5, activation="relu"), layers.Dense(3)]
        ),
        "functional": functional_classifier,
        "subclassed": lambda: Tower(units=3),
    }[kind]
    runs = []
    for epochs in (3, 2):
        keras.utils.set_random_seed(1)
        model = make()
        model.compile(
            optimizer=keras.optimizers.Adam(0.05),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=kind != "functional"),
            metrics=[keras.metrics.SparseTopKCategoricalAccuracy(k=2)],
        )
        checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "ckpt.keras"))
        model.fit(
            x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0, callbacks=[checkpoint]
        )
        runs.append(model)
    resumed = keras.models.load_model(tmp_path / "ckpt.keras")
    assert int(resumed.optimizer.iterations) == 6
    assert type(resumed._loss_object).__name__ == "SparseCategoricalCrossentropy"
    resumed.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(resumed.get_weights(), runs[0].get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_weights_of_another_architecture_are_skipped_only_when_asked(tmp_path):
    model = functional_classifier()
    model.save_weights(tmp_path / "w.weights.h5")
    inputs = keras.Input(shape=(4,))
    shared = layers.Dense(4, activation="tanh")
    x = layers.Concatenate()([shared(inputs), shared(shared(inputs))])
    block = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(5, activation="relu")])
    other = keras.Model(inputs, layers.Dense(2)(block(x)))  # a different head
    before = [w.copy() for w in other.get_weights()]
    with pytest.raises(FileFormatError, match="shape"):
        other.load_weights(tmp_path / "w.weights.h5")
    for got, want in zip(other.get_weights(), before):
        np.testing.assert_array_equal(got, want)  # nothing assigned on an error
    with pytest.warns(UserWarning, match="Skipping loading weights for layer"):
        other.load_weights(tmp_path / "w.weights.h5", skip_mismatch=True)
    np.testing.assert_array_equal(other.get_weights()[0], model.get_weights()[0])
    np.testing.assert_array_equal(other.get_weights()[-1], before[-1])


def test_arguments_keras_takes_that_chainrule_cannot_honour_are_clear_errors(tmp_path):
    model = functional_classifier()
    with pytest.raises(ValueError, match="zipped=False"):
        model.save(tmp_path / "m.keras", zipped=False)
    with pytest.raises(ValueError, match="max_shard_size"):
        model.save_weights(tmp_path / "m.weights.h5", max_shard_size=1)
    keras.saving.save_model(model, tmp_path / "m.keras", zipped=True)
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    x = np.ones((2, 4), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_layer_and_optimizer_descriptions_round_trip():
    from chainrule.keras.saving import serialization

    dense = layers.Dense(3, activation="relu", name="d")
    dense(np.ones((2, 5), "float32"))
    description = serialization.serialize_layer(dense)
    assert description["build_config"] == {"input_shape": [None, 5]}
    again = serialization.deserialize_layer(description)
    assert (type(again).__name__, again.units, again.name) == ("Dense", 3, "d")
    model = functional_classifier()
    rebuilt = serialization.deserialize_layer(serialization.serialize_layer(model))
    assert [type(layer).__name__ for layer in rebuilt.layers] == [
        type(layer).__name__ for layer in model.layers
    ]
    adam = serialization.deserialize_optimizer({"class_name": "adam", "config": {"beta_1": 0.5}})
    assert type(adam).__name__ == "Adam" and adam.beta_1 == 0.5
    description = serialization.serialize_optimizer(keras.optimizers.SGD(0.1, momentum=0.9))
    assert serialization.deserialize_optimizer(description).momentum == 0.9
    with pytest.raises(FileFormatError, match="not an optimizer"):
        serialization.deserialize_optimizer(
            {"module": "keras.layers", "class_name": "Dense", "config": {"units": 2}}
        )


def test_models_nested_in_a_sequential_model(tmp_path):
    """Keras's layout for a Sequential model holding a Sequential and a functional model, and
    the nested layers' weights checked before they are built."""
    inner = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3)], name="inner")
    head_in = keras.Input(shape=(3,))
    head = keras.Model(head_in, layers.Dense(2)(head_in), name="head")
    model = keras.Sequential([keras.Input(shape=(4,)), inner, head, layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 4)), np.ones((8, 1)), verbose=0)
    model.save(tmp_path / "nested.keras")
    assert weight_paths(tmp_path / "nested.keras")[:6] == [
        "layers/dense/vars/0",
        "layers/dense/vars/1",
        "layers/functional/layers/dense/vars/0",
        "layers/functional/layers/dense/vars/1",
        "layers/sequential/layers/dense/vars/0",
        "layers/sequential/layers/dense/vars/1",
    ]
    loaded = keras.models.load_model(tmp_path / "nested.keras")
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert int(loaded.optimizer.iterations) == 1

    def huge(config):
        nested = config["config"]["layers"][1]["config"]["layers"]
        nested[0]["config"]["batch_shape"] = [None, 100_000]
        nested[1]["config"]["units"] = 1_000_000

    with zipfile.ZipFile(tmp_path / "nested.keras") as archive:
        entries = {entry: archive.read(entry) for entry in archive.namelist()}
    config = json.loads(entries["config.json"])
    huge(config)
    entries["config.json"] = json.dumps(config)
    with zipfile.ZipFile(tmp_path / "bomb.keras", "w") as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
    with pytest.raises(FileFormatError, match="bytes"):
        keras.models.load_model(tmp_path / "bomb.keras")


@keras.saving.register_keras_serializable(package="kinds")
class Doubling(keras.Model):
    """A Model subclass built from inputs and outputs: a functional model with its methods."""

    def predict_step(self, data):
        return super().predict_step(data) * 2.0


def test_json_and_functional_subclasses_round_trip(tmp_path):
    inputs = keras.Input(shape=(3,))
    hidden = layers.Dense(4)(inputs)
    model = Doubling(inputs, keras.ops.relu(hidden) + 1.0)
    model.save(tmp_path / "doubling.keras")
    loaded = keras.models.load_model(tmp_path / "doubling.keras")
    assert isinstance(loaded, Doubling)
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    rebuilt = keras.models.model_from_json(model.to_json())
    assert isinstance(rebuilt, Doubling) and [type(op).__name__ for op in rebuilt.operations] == [
        "InputLayer",
        "Dense",
        "Relu",
        "Add",
    ]
    tower = keras.models.model_from_json(Tower(units=3).to_json())
    assert isinstance(tower, Tower) and tower.units == 3
