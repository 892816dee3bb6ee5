"""Saving and loading in Keras 3's formats: round trips of every registered class, Keras-made
files (fixtures), resuming training bit for bit, the allow-list, the size checks, atomic saves
and the checkpoint callbacks. Real Keras is in test_interop.py; fuzzing and killed saves
in test_faults.py."""

import io
import json
import os
import pathlib
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from chainrule import keras, random
from chainrule.keras import (
    activations,
    callbacks,
    constraints,
    initializers,
    layers,
    losses,
    metrics,
    optimizers,
    regularizers,
)
from chainrule.keras.models import Sequential, load_model, model_from_json
from chainrule.keras.optimizers import schedules
from chainrule.keras.saving import LAYERS, FileFormatError, serialization

FIXTURES = pathlib.Path(__file__).parents[2] / "fixtures" / "keras"
KERAS_FIXTURES = ["dense_adam", "sgd_nesterov", "rmsprop_layers", "conv_adam", "uncompiled"]


def data(n=48, features=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, features)).astype("float32"), rng.integers(0, classes, n)


def small_model(optimizer="adam", features=5, dropout=True):
    stack = [keras.Input(shape=(features,)), layers.Dense(8, activation="relu")]
    stack += [layers.Dropout(0.25)] if dropout else []
    model = Sequential(stack + [layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def trained(optimizer="adam", epochs=2):
    keras.utils.set_random_seed(3)
    model = small_model(optimizer)
    x, y = data()
    model.fit(x, y, batch_size=16, epochs=epochs, verbose=0)
    return model


def rewrite(source, target, config=None, weights=None):
    """Copy a .keras archive, passing its config (a dict) or weights (an open h5py.File, in
    append mode) through the given functions first."""
    with zipfile.ZipFile(source) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    if config is not None:
        description = json.loads(entries["config.json"])
        config(description)
        entries["config.json"] = json.dumps(description).encode()
    if weights is not None:
        buffer = io.BytesIO(entries["model.weights.h5"])
        with h5py.File(buffer, "a") as h5:
            weights(h5)
        entries["model.weights.h5"] = buffer.getvalue()
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return target


def optimizer_state(optimizer):
    return {name: [a.copy() for a in table.values()] for name, table in optimizer._slots.items()}


# ----- round trips -----------------------------------------------------------------------------


OPTIMIZER_EXAMPLES = {
    **{name: cls for name, cls in optimizers.OPTIMIZERS.items()},
    "sgd": lambda: optimizers.SGD(momentum=0.9, nesterov=True),
    "adam_amsgrad": lambda: optimizers.Adam(amsgrad=True),
    "rmsprop_centered": lambda: optimizers.RMSprop(momentum=0.5, centered=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZER_EXAMPLES))
def test_save_load_restores_weights_optimizer_state_and_compile_config(tmp_path, name):
    model = trained(OPTIMIZER_EXAMPLES[name]())
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = load_model(path)
    x, y = data(seed=1)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.get_config() == model.get_config()
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 6
    before = optimizer_state(model.optimizer)
    after = optimizer_state(loaded.optimizer)
    assert before.keys() == after.keys() and before
    for slot in before:
        for a, b in zip(before[slot], after[slot]):
            np.testing.assert_array_equal(a, b)
    assert getattr(loaded.optimizer, "u_product", None) == getattr(
        model.optimizer, "u_product", None
    )
    assert loaded.loss == model.loss and loaded._metric_identifiers == ["accuracy"]
    # the next step is the same in both (same dropout mask): the state is complete
    for m in (model, loaded):
        keras.utils.set_random_seed(1)
        m.train_on_batch(x[:16], y[:16])
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_the_archive_holds_kerass_entries_and_weight_layout(tmp_path):
    model = Sequential(
        [
            keras.Input(shape=(4,)),
            layers.Dense(3),
            layers.Activation("relu"),
            layers.Dense(2, name="head"),
            layers.BatchNormalization(),
        ]
    )
    model.compile(optimizer=optimizers.RMSprop(momentum=0.5), loss="mse")
    model.fit(np.ones((4, 4)), np.ones((4, 2)), verbose=0)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        metadata = json.loads(archive.read("metadata.json"))
        config = json.loads(archive.read("config.json"))
        weights = archive.read("model.weights.h5")
    assert metadata["keras_version"].startswith("3.")
    assert config["module"] == "keras" and config["class_name"] == "Sequential"
    assert [layer["class_name"] for layer in config["config"]["layers"]] == [
        "InputLayer",
        "Dense",
        "Activation",
        "Dense",
        "BatchNormalization",
    ]
    dense = config["config"]["layers"][1]
    assert dense["module"] == "keras.layers"
    assert dense["build_config"] == {"input_shape": [None, 4]}
    assert dense["config"]["dtype"]["class_name"] == "DTypePolicy"
    assert dense["config"]["kernel_initializer"]["module"] == "keras.initializers"
    assert config["compile_config"]["optimizer"]["class_name"] == "RMSprop"
    with h5py.File(io.BytesIO(weights), "r") as h5:
        assert h5["vars"].attrs["name"] == model.name
        # groups are named by class, numbered per class, whatever the layers' own names
        assert sorted(h5["layers"]) == ["activation", "batch_normalization", "dense", "dense_1"]
        assert h5["layers/dense_1/vars"].attrs["name"] == "head"
        assert h5["layers/dense/vars/0"].shape == (4, 3)
        # trainable weights first: gamma, beta, then moving mean and variance
        bn = model.layers[3]
        for i, w in enumerate([bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance]):
            np.testing.assert_array_equal(h5[f"layers/batch_normalization/vars/{i}"], w.numpy())
        stored = h5["optimizer/vars"]
        assert int(stored["0"][()]) == 1 and stored["1"][()] == pytest.approx(0.001)
        # RMSprop keeps Keras's grouping: every velocity, then every momentum
        velocities = [model.optimizer.slot(v, "velocity") for v in model.trainable_weights]
        momenta = [model.optimizer.slot(v, "momentum") for v in model.trainable_weights]
        for i, expected in enumerate(velocities + momenta):
            np.testing.assert_array_equal(stored[str(i + 2)], expected)
        assert len(stored) == 2 + len(velocities) + len(momenta)


def test_sublayers_weights_sit_at_kerass_nested_paths(tmp_path):
    """A recurrent layer's weights are its cell's, a wrapper's its layers': Keras 3 stores them
    under the attribute that holds the sublayer (the paths below were listed from files that
    Keras 3.15.1 wrote for the same models)."""
    model = Sequential(
        [
            keras.Input((4, 2)),
            layers.TimeDistributed(layers.Dense(3)),
            layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
            layers.RNN([layers.GRUCell(2), layers.GRUCell(2)], return_sequences=True),
            layers.SimpleRNN(2),
        ]
    )
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        weights = archive.read("model.weights.h5")
    stored = {}

    def note_dataset(name, node):
        if isinstance(node, h5py.Dataset):
            stored[name] = node.shape

    with h5py.File(io.BytesIO(weights), "r") as h5:
        h5.visititems(note_dataset)
    assert stored == {
        "layers/time_distributed/layer/vars/0": (2, 3),
        "layers/time_distributed/layer/vars/1": (3,),
        "layers/bidirectional/forward_layer/cell/vars/0": (3, 12),
        "layers/bidirectional/forward_layer/cell/vars/1": (3, 12),
        "layers/bidirectional/forward_layer/cell/vars/2": (12,),
        "layers/bidirectional/backward_layer/cell/vars/0": (3, 12),
        "layers/bidirectional/backward_layer/cell/vars/1": (3, 12),
        "layers/bidirectional/backward_layer/cell/vars/2": (12,),
        "layers/rnn/cell/cells/gru_cell/vars/0": (6, 6),
        "layers/rnn/cell/cells/gru_cell/vars/1": (2, 6),
        "layers/rnn/cell/cells/gru_cell/vars/2": (2, 6),
        "layers/rnn/cell/cells/gru_cell_1/vars/0": (2, 6),
        "layers/rnn/cell/cells/gru_cell_1/vars/1": (2, 6),
        "layers/rnn/cell/cells/gru_cell_1/vars/2": (2, 6),
        "layers/simple_rnn/cell/vars/0": (2, 2),
        "layers/simple_rnn/cell/vars/1": (2, 2),
        "layers/simple_rnn/cell/vars/2": (2,),
    }
    cell = model.layers[1].forward_layer.cell
    np.testing.assert_array_equal(
        load_model(tmp_path / "m.keras").layers[1].forward_layer.cell.recurrent_kernel.numpy(),
        cell.recurrent_kernel.numpy(),
    )


class MinimalCell(layers.Layer):
    """h_t = tanh(x_t K + h_{t-1} R): a user's recurrent cell."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units, self.state_size = units, units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units))
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units))

    def call(self, inputs, states):
        output = keras.ops.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_an_rnn_of_a_users_cell_loads_with_custom_objects(tmp_path):
    """The cell's class is found for the RNN's own config too (while its weights are planned),
    and its weights sit at layers/rnn/cell/vars."""
    model = Sequential([keras.Input((5, 3)), layers.RNN(MinimalCell(4))])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as h5:
            assert sorted(h5["layers/rnn/cell/vars"]) == ["0", "1"]
    with pytest.raises(FileFormatError, match="Unknown class 'MinimalCell'"):
        load_model(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras", custom_objects={"MinimalCell": MinimalCell})
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_attention_layers_are_written_as_keras_writes_them(tmp_path):
    """Keras stores a sublayer at the first name its walk of ``dir(layer)`` reaches it by:
    MultiHeadAttention's projections at their public properties' names (query_dense), a
    gate without a property and GroupQueryAttention's at their attributes' (_gate_dense,
    _query_dense). Its calls' tensors are positional arguments, its build_config a
    shapes_dict, GroupQueryAttention named as Keras exports it (as Keras 3.15.1 writes)."""
    query, value = keras.Input((4, 6)), keras.Input((3, 6))
    outputs = [
        layers.MultiHeadAttention(2, 3, use_gate=True)(query, value),
        layers.GroupQueryAttention(4, 4, 2)(query, value),
    ]
    keras.Model([query, value], outputs).save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        config = json.loads(archive.read("config.json"))
        weights = archive.read("model.weights.h5")
    with h5py.File(io.BytesIO(weights), "r") as h5:
        # (Keras writes an empty _softmax group too: chainrule has no Softmax sublayer)
        assert sorted(h5["layers/multi_head_attention"]) == [
            "_dropout_layer",
            "_gate_dense",
            "key_dense",
            "output_dense",
            "query_dense",
            "value_dense",
            "vars",
        ]
        assert sorted(h5["layers/grouped_query_attention"]) == [
            "_dropout_layer",
            "_key_dense",
            "_output_dense",
            "_query_dense",
            "_value_dense",
            "vars",
        ]
    attention, grouped = config["config"]["layers"][2:]
    assert grouped["class_name"] == "GroupQueryAttention"
    assert attention["build_config"] == {
        "shapes_dict": {"query_shape": [None, 4, 6], "value_shape": [None, 3, 6]}
    }
    histories = [arg["config"]["keras_history"] for arg in attention["inbound_nodes"][0]["args"]]
    assert histories == [[query.node.layer.name, 0, 0], [value.node.layer.name, 0, 0]]
    assert type(load_model(tmp_path / "m.keras").layers[3]) is layers.GroupedQueryAttention


def test_a_tensor_keyword_argument_of_a_call_is_saved_as_a_graph_tensor(tmp_path):
    """``lstm(x, mask=m)`` with ``m`` a model input: the call reads ``m`` when the model runs,
    and the file writes it among the call's kwargs as Keras does (a ``__keras_tensor__``)."""
    sequences, mask = keras.Input((5, 3)), keras.Input((5,), dtype="bool")
    model = keras.Model([sequences, mask], layers.LSTM(3)(sequences, mask=mask))
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        config = json.loads(archive.read("config.json"))
    written = config["config"]["layers"][2]["inbound_nodes"][0]["kwargs"]["mask"]
    assert written["class_name"] == "__keras_tensor__"
    assert written["config"]["keras_history"] == [mask.node.layer.name, 0, 0]
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    steps = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1]], bool)
    loaded = load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(
        loaded.predict([x, steps], verbose=0), model.predict([x, steps], verbose=0)
    )
    # the first sample's masked steps change nothing; without the mask they would
    changed = x.copy()
    changed[0, 2:] += 1.0
    output = loaded.predict([changed, steps], verbose=0)
    np.testing.assert_allclose(output[0], model.predict([x, steps], verbose=0)[0], atol=1e-6)


def test_a_loss_scale_optimizer_is_stored_in_kerass_nested_layout(tmp_path):
    """Its own variables (iterations and learning rate kept at 0, step counter, dynamic scale)
    then the inner optimizer's, at optimizer/vars; the inner ones again at
    optimizer/inner_optimizer/vars (the layout Keras 3.15.1 writes); training resumes."""
    model = Sequential([keras.Input((3,)), layers.Dense(2)])
    scaled = optimizers.LossScaleOptimizer(optimizers.Adam(0.01), dynamic_growth_steps=2)
    model.compile(optimizer=scaled, loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(24, 3)).astype("float32"), rng.normal(size=(24, 2)).astype("float32")
    model.fit(x, y, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        weights = archive.read("model.weights.h5")
    with h5py.File(io.BytesIO(weights), "r") as h5:
        stored = [h5[f"optimizer/vars/{i}"][()] for i in range(len(h5["optimizer/vars"]))]
        group = h5["optimizer/inner_optimizer/vars"]
        inner = [group[str(i)][()] for i in range(len(group))]
    # Adam's iterations, learning rate, then m and v of the kernel and of the bias
    assert [float(v) for v in stored[:6]] == [0, 0, 1, 2.0**16, 3, pytest.approx(0.01)]
    assert len(stored) == 4 + len(inner) and len(inner) == 6
    for a, b in zip(stored[4:], inner):
        np.testing.assert_array_equal(a, b)
    loaded = load_model(tmp_path / "m.keras")
    assert loaded.optimizer.step_counter == 1 and loaded.optimizer.dynamic_scale == 2.0**16
    model.train_on_batch(x[:8], y[:8])
    loaded.train_on_batch(x[:8], y[:8])
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_multi_optimizer_is_stored_in_kerass_nested_layout(tmp_path):
    """Its step count and a learning rate kept at 0, then each inner optimizer's variables
    (the map's, then the default's), at optimizer/vars; each inner optimizer's again at
    optimizer/optimizers/<class>/vars (the layout Keras 3.15.1 writes); training resumes."""
    model = Sequential([keras.Input((3,)), layers.Dense(4, name="body"), layers.Dense(2)])
    # the built model's paths are sequential/body/..., the loaded one's body/... (as in Keras)
    routes = optimizers.OptimizerMap(
        optimizers.Adam(0.01), {"(.*/)?body/.*": optimizers.SGD(0.1, momentum=0.9)}
    )
    model.compile(optimizer=optimizers.MultiOptimizer(routes), loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")
    model.fit(x, y, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        weights = archive.read("model.weights.h5")
    with h5py.File(io.BytesIO(weights), "r") as h5:
        counts = {key: len(h5[f"optimizer/optimizers/{key}/vars"]) for key in ("sgd", "adam")}
        stored = [h5[f"optimizer/vars/{i}"][()] for i in range(len(h5["optimizer/vars"]))]
    assert counts == {"sgd": 2 + 2, "adam": 2 + 4}  # iterations, learning rate, the slots
    assert [float(v) for v in stored[:4]] == [2, 0, 2, pytest.approx(0.1)]
    assert len(stored) == 2 + 4 + 6
    loaded = load_model(tmp_path / "m.keras")
    model.train_on_batch(x[:8], y[:8])
    loaded.train_on_batch(x[:8], y[:8])
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_wrapped_model_in_a_functional_model_is_counted_once(tmp_path):
    """A model inside a wrapper is checked layer by layer as it is built: the wrapper's own
    check leaves its weights out, so the file's bytes are not counted against them twice."""
    inputs = keras.Input((4, 3))
    inner = Sequential([keras.Input((3,)), layers.Dense(2)])
    model = keras.Model(inputs, layers.TimeDistributed(inner)(inputs))
    model.save(tmp_path / "m.keras")
    x = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    loaded = load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_subclassed_models_layers_after_layers_in_keras_order_sit_under_layers(tmp_path):
    """Keras's walk reaches a subclassed model's ``layers`` list between its attributes named
    before and after "layers": ``self.encoder`` is stored at encoder/..., ``self.project`` at
    layers/time_distributed/... (as Keras 3.15.1 writes it)."""

    class Reader(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.project = layers.TimeDistributed(layers.Dense(3))
            self.encoder = layers.Bidirectional(layers.LSTM(2))

        def call(self, inputs):
            return self.encoder(self.project(inputs))

    model = Reader()
    model(np.ones((2, 5, 3), "float32"))
    model.save_weights(tmp_path / "r.weights.h5")
    with h5py.File(tmp_path / "r.weights.h5", "r") as h5:
        assert sorted(h5) == ["encoder", "layers", "vars"]
        assert sorted(h5["encoder"]) == ["backward_layer", "forward_layer", "vars"]
        assert sorted(h5["layers"]) == ["time_distributed"]
        assert h5["layers/time_distributed/layer/vars/0"].shape == (3, 3)
    twin = Reader()
    twin(np.ones((2, 5, 3), "float32"))
    twin.load_weights(tmp_path / "r.weights.h5")
    for a, b in zip(twin.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_sublayers_weight_of_another_shape_is_refused_before_the_model_is_built(tmp_path):
    model = Sequential([keras.Input((4, 2)), layers.Bidirectional(layers.LSTM(3))])
    model.save(tmp_path / "m.keras")

    def wider_backward(config):
        config["config"]["layers"][1]["config"]["backward_layer"]["config"]["units"] = 4

    rewrite(tmp_path / "m.keras", tmp_path / "wider.keras", wider_backward)
    with pytest.raises(
        FileFormatError,
        match=r"makes weight 0 of layers/bidirectional/backward_layer/cell/vars of shape "
        r"\(2, 16\), but the file stores shape \(2, 12\)",
    ):
        load_model(tmp_path / "wider.keras")


def test_an_integer_input_layer_round_trips_and_other_input_types_are_refused(tmp_path):
    """An InputLayer holds no weights, so any numeric dtype loads (token ids, say); a dtype
    that is not numeric is refused before anything is built."""
    model = Sequential(
        [
            keras.Input((5,), dtype="int32"),
            layers.Embedding(8, 4, mask_zero=True),
            layers.LSTM(3),
        ]
    )
    model.save(tmp_path / "ids.keras")
    loaded = load_model(tmp_path / "ids.keras")
    assert loaded.get_config() == model.get_config()
    assert loaded.get_config()["layers"][0]["config"]["dtype"] == "int32"
    ids = np.array([[3, 1, 0, 0, 0], [7, 2, 5, 4, 0]], "int32")
    np.testing.assert_array_equal(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0))

    def textual(config):
        config["config"]["layers"][0]["config"]["dtype"] = "U5000000"

    rewrite(tmp_path / "ids.keras", tmp_path / "text.keras", textual)
    with pytest.raises(FileFormatError, match="InputLayer: dtype must be one of float16.*bool"):
        load_model(tmp_path / "text.keras")


NON_FLOAT_INPUT_LAYERS = {  # strings or integers in: tested in test_preprocessing_layers.py
    "CategoryEncoding",
    "Hashing",
    "IntegerLookup",
    "StringLookup",
    "TextVectorization",
    "Embedding",
}

EXAMPLES = {  # a layer of each registered class, on samples of the given shape
    "Masking": ((3, 2), lambda: layers.Masking(0.5)),
    "Normalization": (
        (3,),
        lambda: layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0]),
    ),
    "Rescaling": ((3,), lambda: layers.Rescaling(scale=0.5, offset=1.0)),
    "Discretization": ((3,), lambda: layers.Discretization(bin_boundaries=[-1.0, 0.0, 1.0])),
    "Resizing": ((5, 6, 2), lambda: layers.Resizing(3, 4)),
    "CenterCrop": ((5, 6, 2), lambda: layers.CenterCrop(3, 4)),
    "RandomFlip": ((5, 6, 3), lambda: layers.RandomFlip("vertical", seed=1)),
    "RandomRotation": ((5, 6, 3), lambda: layers.RandomRotation((-0.1, 0.2), fill_mode="wrap")),
    "RandomZoom": ((5, 6, 3), lambda: layers.RandomZoom([-0.1, 0.2], 0.3, seed=2)),
    "RandomTranslation": ((5, 6, 3), lambda: layers.RandomTranslation(0.1, [-0.2, 0.1])),
    "RandomShear": ((5, 6, 3), lambda: layers.RandomShear(0.2, (0.1, 0.3))),
    "RandomCrop": ((5, 6, 3), lambda: layers.RandomCrop(3, 4, data_format="channels_last")),
    "RandomContrast": ((5, 6, 3), lambda: layers.RandomContrast(0.3, value_range=[0, 1])),
    "RandomBrightness": ((5, 6, 3), lambda: layers.RandomBrightness((-0.1, 0.2))),
    "RandomGrayscale": ((5, 6, 3), lambda: layers.RandomGrayscale(0.3)),
    "RandomInvert": ((5, 6, 3), lambda: layers.RandomInvert(0.5, value_range=(0, 1))),
    "Solarization": ((5, 6, 3), lambda: layers.Solarization(0.1, (0.2, 0.5))),
    "AutoContrast": ((5, 6, 3), lambda: layers.AutoContrast(value_range=(-1, 1))),
    "RandomErasing": ((5, 6, 3), lambda: layers.RandomErasing(0.5, fill_value=[1, 2, 3])),
    "Pipeline": (
        (5, 6, 3),
        lambda: layers.Pipeline([layers.RandomFlip(seed=0), layers.RandomContrast(0.2)]),
    ),
    "Dense": (
        (4,),
        lambda: layers.Dense(
            3,
            activation="relu",
            use_bias=True,
            kernel_initializer="he_normal",
            kernel_regularizer=regularizers.L2(0.01),
            activity_regularizer=regularizers.L1(0.001),
            bias_constraint=constraints.NonNeg(),
        ),
    ),
    "Activation": ((4,), lambda: layers.Activation("gelu")),
    "Flatten": ((2, 3), lambda: layers.Flatten()),
    "Reshape": ((6,), lambda: layers.Reshape((2, 3))),
    "Dropout": ((4,), lambda: layers.Dropout(0.5, seed=1)),
    "GaussianNoise": ((4,), lambda: layers.GaussianNoise(0.1)),
    "ActivityRegularization": ((4,), lambda: layers.ActivityRegularization(l1=0.01)),
    "BatchNormalization": ((4,), lambda: layers.BatchNormalization(momentum=0.9)),
    "LayerNormalization": ((4,), lambda: layers.LayerNormalization(epsilon=1e-4)),
    "GroupNormalization": ((3, 4), lambda: layers.GroupNormalization(groups=2, epsilon=1e-4)),
    "UnitNormalization": ((3, 4), lambda: layers.UnitNormalization(axis=[1, 2])),
    "RMSNormalization": ((3, 4), lambda: layers.RMSNormalization(epsilon=1e-5)),
    "Identity": ((4,), lambda: layers.Identity()),
    "ReLU": ((4,), lambda: layers.ReLU(max_value=6.0)),
    "LeakyReLU": ((4,), lambda: layers.LeakyReLU(negative_slope=0.1)),
    "PReLU": ((4,), lambda: layers.PReLU()),
    "ELU": ((4,), lambda: layers.ELU(alpha=0.5)),
    "Softmax": ((4,), lambda: layers.Softmax()),
    "Conv1D": ((8, 2), lambda: layers.Conv1D(3, 3, padding="same")),
    "Conv2D": ((6, 6, 2), lambda: layers.Conv2D(3, 3, strides=2, activation="relu")),
    "DepthwiseConv2D": (
        (6, 6, 3),
        lambda: layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2),
    ),
    "SeparableConv2D": (
        (7, 6, 2),
        lambda: layers.SeparableConv2D(4, (3, 2), dilation_rate=2, depth_multiplier=3),
    ),
    "MaxPooling2D": ((4, 4, 2), lambda: layers.MaxPooling2D(2)),
    "AveragePooling2D": ((4, 4, 2), lambda: layers.AveragePooling2D(2)),
    "GlobalAveragePooling2D": ((4, 4, 2), lambda: layers.GlobalAveragePooling2D()),
    "GlobalMaxPooling2D": ((4, 4, 2), lambda: layers.GlobalMaxPooling2D()),
    "ZeroPadding2D": ((4, 4, 2), lambda: layers.ZeroPadding2D(1)),
    "UpSampling2D": ((3, 3, 2), lambda: layers.UpSampling2D(2)),
    "Conv3D": ((4, 4, 4, 2), lambda: layers.Conv3D(3, 2, strides=(1, 2, 1), padding="same")),
    "Conv1DTranspose": ((5, 2), lambda: layers.Conv1DTranspose(3, 3, strides=2)),
    "Conv2DTranspose": (
        (3, 3, 2),
        lambda: layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1),
    ),
    "Conv3DTranspose": ((2, 3, 2, 2), lambda: layers.Conv3DTranspose(2, 2, strides=2)),
    "MaxPooling1D": ((6, 2), lambda: layers.MaxPooling1D(2, strides=1)),
    "AveragePooling1D": ((6, 2), lambda: layers.AveragePooling1D(3, padding="same")),
    "MaxPooling3D": ((4, 4, 4, 2), lambda: layers.MaxPooling3D(2)),
    "AveragePooling3D": ((4, 4, 4, 2), lambda: layers.AveragePooling3D(2)),
    "GlobalAveragePooling1D": ((5, 2), lambda: layers.GlobalAveragePooling1D()),
    "GlobalMaxPooling1D": ((5, 2), lambda: layers.GlobalMaxPooling1D(keepdims=True)),
    "GlobalAveragePooling3D": ((2, 3, 2, 2), lambda: layers.GlobalAveragePooling3D()),
    "GlobalMaxPooling3D": ((2, 3, 2, 2), lambda: layers.GlobalMaxPooling3D()),
    "Cropping1D": ((6, 2), lambda: layers.Cropping1D((1, 2))),
    "Cropping2D": ((6, 6, 2), lambda: layers.Cropping2D(((1, 0), (2, 1)))),
    "Cropping3D": ((4, 4, 4, 2), lambda: layers.Cropping3D(1)),
    "ZeroPadding1D": ((4, 2), lambda: layers.ZeroPadding1D((1, 2))),
    "ZeroPadding3D": ((2, 2, 2, 2), lambda: layers.ZeroPadding3D(1)),
    "UpSampling1D": ((3, 2), lambda: layers.UpSampling1D(3)),
    "UpSampling3D": ((2, 2, 2, 2), lambda: layers.UpSampling3D((1, 2, 2))),
    "Permute": ((3, 4), lambda: layers.Permute((2, 1))),
    "RepeatVector": ((4,), lambda: layers.RepeatVector(3)),
    "SpatialDropout1D": ((4, 3), lambda: layers.SpatialDropout1D(0.5, seed=1)),
    "SpatialDropout2D": ((4, 4, 3), lambda: layers.SpatialDropout2D(0.5, seed=1)),
    "SpatialDropout3D": ((2, 2, 2, 3), lambda: layers.SpatialDropout3D(0.5, seed=1)),
    "GaussianDropout": ((4,), lambda: layers.GaussianDropout(0.3, seed=1)),
    "AlphaDropout": ((4,), lambda: layers.AlphaDropout(0.3, seed=1)),
    # layers whose weights sit in sublayers, stored as Keras nests them (layers/lstm/cell/vars)
    "SimpleRNN": ((4, 2), lambda: layers.SimpleRNN(3, return_sequences=True)),
    "LSTM": ((4, 2), lambda: layers.LSTM(3, go_backwards=True)),
    "GRU": ((4, 2), lambda: layers.GRU(3, reset_after=False)),
    "RNN": ((4, 2), lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True)),
    "SimpleRNNCell": ((4, 2), lambda: layers.RNN(layers.SimpleRNNCell(3))),
    "LSTMCell": ((4, 2), lambda: layers.RNN(layers.LSTMCell(2, unit_forget_bias=False))),
    "GRUCell": ((4, 2), lambda: layers.RNN(layers.GRUCell(3))),
    "StackedRNNCells": (
        (4, 2),
        lambda: layers.RNN(layers.StackedRNNCells([layers.GRUCell(3), layers.GRUCell(2)])),
    ),
    "Bidirectional": (
        (4, 2),
        lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="sum"),
    ),
    "TimeDistributed": ((4, 2, 2), lambda: layers.TimeDistributed(layers.Conv1D(3, 2))),
    "EinsumDense": (
        (3, 4),
        lambda: layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de"),
    ),
}


MULTI_INPUT = {  # round-tripped in functional models by their own tests
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "Dot",
    "Attention",
    "AdditiveAttention",
    "MultiHeadAttention",
    "GroupedQueryAttention",
    "GroupQueryAttention",
}


def test_every_registered_layer_has_a_round_trip_example():
    exempt = {"InputLayer"} | MULTI_INPUT | NON_FLOAT_INPUT_LAYERS
    missing = sorted(set(LAYERS) - set(EXAMPLES) - exempt)
    assert not missing, f"add an example to EXAMPLES for: {missing}"


@pytest.mark.parametrize("class_name", sorted(EXAMPLES))
def test_every_registered_layer_round_trips_through_a_file(tmp_path, class_name):
    sample_shape, make = EXAMPLES[class_name]
    layer = make()
    rebuilt = type(layer).from_config(layer.get_config())
    assert rebuilt.get_config() == layer.get_config()
    model = Sequential([keras.Input(shape=sample_shape), layer])
    rng = np.random.default_rng(0)
    model.set_weights(
        [np.abs(rng.normal(size=w.shape)).astype("float32") + 0.5 for w in model.get_weights()]
    )
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert loaded.get_config() == model.get_config()
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = rng.normal(size=(2,) + sample_shape).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def _round_trip(obj):
    """obj -> Keras description -> JSON -> object."""
    description = json.loads(json.dumps(keras.saving.serialize_keras_object(obj)))
    return keras.saving.deserialize_keras_object(description)


@pytest.mark.parametrize(
    "table",
    [
        initializers.INITIALIZERS,
        regularizers.REGULARIZERS,
        constraints.CONSTRAINTS,
        optimizers.OPTIMIZERS,
        losses.CLASSES,
        metrics.METRICS,
    ],
    ids=["initializers", "regularizers", "constraints", "optimizers", "losses", "metrics"],
)
def test_every_class_in_the_name_tables_round_trips_its_config(table):
    classes = {value for value in table.values() if isinstance(value, type)}
    assert classes
    for cls in classes:
        obj = cls()
        rebuilt = _round_trip(obj)
        assert type(rebuilt) is cls and rebuilt.get_config() == obj.get_config(), cls


def test_schedules_and_optimizers_with_schedules_round_trip():
    examples = [
        schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True),
        schedules.PiecewiseConstantDecay([5, 10], [0.1, 0.01, 0.001]),
        schedules.PolynomialDecay(0.1, 100),
        schedules.InverseTimeDecay(0.1, 10, 0.5),
        schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=5),
    ]
    for schedule in examples:
        original = optimizers.SGD(learning_rate=schedule)
        rebuilt = _round_trip(original)
        assert rebuilt.get_config() == original.get_config()
        assert type(rebuilt._learning_rate) is type(schedule)


def test_activations_are_written_by_name_and_read_back():
    for name, fn in activations.ACTIVATIONS.items():
        layer = layers.Dense(2, activation=name)
        rebuilt = layers.Dense.from_config(layer.get_config())
        assert rebuilt.activation is fn
        assert keras.saving.serialize_keras_object(fn) in activations.ACTIVATIONS


def test_to_json_and_model_from_json(tmp_path):
    model = trained("rmsprop")
    text = model.to_json()
    rebuilt = model_from_json(text)
    assert json.loads(rebuilt.to_json()) == json.loads(text)
    assert rebuilt.compiled and isinstance(rebuilt.optimizer, optimizers.RMSprop)
    assert rebuilt.optimizer.iterations == 0  # the architecture, not the state
    model.save_weights(tmp_path / "w.weights.h5")
    rebuilt.load_weights(tmp_path / "w.weights.h5")
    x, _ = data()
    np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0))
    assert rebuilt.optimizer.iterations == model.optimizer.iterations


def test_a_model_built_from_data_or_input_shape_saves_its_input_shape(tmp_path):
    keras.utils.set_random_seed(0)
    model = Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(2)])
    called = Sequential([layers.Dense(3), layers.Dense(2)])
    x = np.ones((2, 4), "float32")
    called(x)
    for m in (model, called):
        m.save(tmp_path / "m.keras")
        loaded = load_model(tmp_path / "m.keras")
        assert loaded.batch_input_shape == (None, 4) and not loaded.compiled
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), m.predict(x, verbose=0))


def test_load_weights_from_a_keras_file_and_errors(tmp_path):
    model = trained()
    model.save(tmp_path / "m.keras")
    other = small_model()
    other.load_weights(tmp_path / "m.keras")
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="not built"):
        Sequential([layers.Dense(2)]).load_weights(tmp_path / "m.keras")
    wrong = small_model(features=6)
    before = wrong.get_weights()
    with pytest.raises(FileFormatError, match=r"shape \(6, 8\).*\(5, 8\)"):
        wrong.load_weights(tmp_path / "m.keras")
    for a, b in zip(wrong.get_weights(), before):  # nothing was assigned
        np.testing.assert_array_equal(a, b)
    fewer = Sequential([keras.Input(shape=(5,)), layers.Dense(8), layers.Dropout(0.1)])
    with pytest.raises(FileFormatError, match="layers the model does not have"):
        fewer.load_weights(tmp_path / "m.keras")
    sgd = small_model(optimizer="sgd")
    with pytest.raises(FileFormatError, match="optimizer variables"):
        sgd.load_weights(tmp_path / "m.keras")


def test_file_names_and_overwrite(tmp_path):
    model = small_model()
    with pytest.raises(ValueError, match=r"\.keras"):
        model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        model.save_weights(tmp_path / "m.h5")
    model.save(tmp_path / "m.keras")
    with pytest.raises(FileExistsError, match="overwrite"):
        model.save(tmp_path / "m.keras", overwrite=False)
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "m.keras").stat().st_mode & 0o777 == 0o666 & ~umask


# ----- files made by Keras 3 -------------------------------------------------------------------


@pytest.mark.parametrize("name", KERAS_FIXTURES)
def test_models_saved_by_keras_load_and_predict_the_same(name):
    expected = np.load(FIXTURES / "expected.npz")
    model = load_model(FIXTURES / f"{name}.keras")
    difference = np.abs(model.predict(expected[f"x_{name}"], verbose=0) - expected[f"y_{name}"])
    assert difference.max() <= 1e-6
    if name == "uncompiled":
        assert not model.compiled
        return
    assert model.optimizer.iterations == expected[f"iterations_{name}"]
    assert model.optimizer.built  # with Keras's state, so training resumes where it stopped


def _stored_arrays(path):
    """{dataset path: values} of the weights file inside a .keras archive."""
    with zipfile.ZipFile(path) as archive:
        content = archive.read("model.weights.h5")
    arrays = {}
    with h5py.File(io.BytesIO(content), "r") as h5:
        h5.visititems(
            lambda name, node: (
                arrays.__setitem__(name, node[()]) if isinstance(node, h5py.Dataset) else None
            )
        )
    return arrays


@pytest.mark.parametrize("name", KERAS_FIXTURES)
def test_a_keras_file_saved_again_by_chainrule_stores_the_same_values(tmp_path, name):
    load_model(FIXTURES / f"{name}.keras").save(tmp_path / "again.keras")
    original, again = (
        _stored_arrays(FIXTURES / f"{name}.keras"),
        _stored_arrays(tmp_path / "again.keras"),
    )
    assert sorted(again) == sorted(original)  # same layers, same optimizer variables, same order
    for key, values in original.items():
        np.testing.assert_array_equal(again[key], values, err_msg=key)


@pytest.mark.parametrize("name", ["dense_adam", "sgd_nesterov", "conv_adam"])
def test_a_keras_model_trains_on_from_kerass_optimizer_state(name):
    expected = np.load(FIXTURES / "expected.npz")
    model = load_model(FIXTURES / f"{name}.keras")
    model.train_on_batch(expected[f"x_{name}"][:4], expected[f"ystep_{name}"])
    weights = model.get_weights()
    assert len(weights) == len([k for k in expected.files if k.startswith(f"stepped_{name}_")])
    for index, weight in enumerate(weights):  # Keras's next step, from the same saved state
        np.testing.assert_allclose(weight, expected[f"stepped_{name}_{index}"], atol=1e-5)


def test_a_keras_model_keeps_its_compile_config():
    model = load_model(FIXTURES / "dense_adam.keras")
    assert isinstance(model.optimizer, optimizers.Adam)
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    assert model.loss == "categorical_crossentropy"
    assert model._metric_identifiers == ["accuracy"]
    assert isinstance(model.layers[0].kernel_regularizer, regularizers.L2)
    sgd = load_model(FIXTURES / "sgd_nesterov.keras")
    assert sgd.optimizer.nesterov and sgd.optimizer.momentum == pytest.approx(0.9)
    assert isinstance(sgd.loss, losses.BinaryCrossentropy)
    assert sgd.loss.get_config()["label_smoothing"] == pytest.approx(0.1)
    assert not load_model(FIXTURES / "dense_adam.keras", compile=False).compiled


def test_keras_weights_file_loads_into_the_same_architecture():
    expected = np.load(FIXTURES / "expected.npz")
    model = model_from_json(load_model(FIXTURES / "dense_adam.keras").to_json())
    model.load_weights(FIXTURES / "dense_adam.weights.h5")
    prediction = model.predict(expected["x_dense_adam"], verbose=0)
    assert np.abs(prediction - expected["y_dense_adam"]).max() <= 1e-6


def test_a_keras_lambda_layer_is_refused_by_name():
    with pytest.raises(FileFormatError, match="'Lambda'.*never runs code"):
        load_model(FIXTURES / "lambda.keras")


# ----- resuming ----------------------------------------------------------------------------------


def test_train_save_load_train_is_bit_identical_to_training_straight(tmp_path):
    x, y = data(n=64)
    keras.utils.set_random_seed(11)
    model = small_model()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    model.save(tmp_path / "half.keras")
    state = random.get_state()
    resumed = load_model(tmp_path / "half.keras")
    assert random.get_state() == state  # loading drew no random numbers
    history = resumed.fit(x, y, batch_size=16, epochs=4, initial_epoch=2, verbose=0)
    keras.utils.set_random_seed(11)
    straight = small_model()
    straight.fit(x, y, batch_size=16, epochs=4, verbose=0)
    assert history.epoch == [2, 3]
    assert resumed.optimizer.iterations == straight.optimizer.iterations == 16
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)


class Reseed(callbacks.Callback):
    """Reseed the global generator when an epoch begins, so two runs draw the same shuffles and
    dropout masks from there on whatever they drew before."""

    def __init__(self, epoch, seed):
        super().__init__()
        self.epoch, self.seed = epoch, seed

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            keras.utils.set_random_seed(self.seed)


class Interrupt(callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


def test_backup_and_restore_resumes_an_interrupted_fit(tmp_path):
    x, y = data(n=64)
    backup = tmp_path / "backup"
    keras.utils.set_random_seed(5)
    model = small_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(
            x,
            y,
            batch_size=16,
            epochs=4,
            verbose=0,
            callbacks=[callbacks.BackupAndRestore(backup), Interrupt(), Reseed(2, 9)],
        )
    assert json.loads((backup / "training_metadata.json").read_text()) == {"epoch": 2}
    fresh = small_model()  # another process would start from new random weights
    history = fresh.fit(
        x,
        y,
        batch_size=16,
        epochs=4,
        verbose=0,
        callbacks=[callbacks.BackupAndRestore(backup), Reseed(2, 9)],
    )
    assert history.epoch == [2, 3]
    assert not backup.exists()  # deleted once training finished
    keras.utils.set_random_seed(5)
    straight = small_model()
    straight.fit(x, y, batch_size=16, epochs=4, verbose=0, callbacks=[Reseed(2, 9)])
    for a, b in zip(fresh.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_backup_and_restore_falls_back_to_the_previous_backup(tmp_path):
    x, y = data()
    backup = tmp_path / "backup"
    model = small_model()
    model.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[
            callbacks.BackupAndRestore(backup, double_checkpoint=True, delete_checkpoint=False)
        ],
    )
    (backup / "latest.weights.h5").write_bytes(b"damaged")
    fresh = small_model()
    history = fresh.fit(
        x,
        y,
        epochs=3,
        verbose=0,
        callbacks=[callbacks.BackupAndRestore(backup, double_checkpoint=True)],
    )
    assert history.epoch == [1, 2]  # the previous backup was made after epoch 1
    unbuilt = Sequential([layers.Dense(2)])
    unbuilt.compile(loss="mse")
    with pytest.raises(ValueError, match="must be built"):
        unbuilt.fit(x, y, callbacks=[callbacks.BackupAndRestore(backup)])


# ----- ModelCheckpoint ---------------------------------------------------------------------------


def test_model_checkpoint_saves_when_the_monitored_value_improves(tmp_path):
    x, y = data(n=96)
    keras.utils.set_random_seed(2)
    model = small_model(optimizer=optimizers.SGD(0.5))
    pattern = str(tmp_path / "ck-{epoch:02d}-{val_loss:.4f}.keras")
    history = model.fit(
        x,
        y,
        epochs=6,
        verbose=0,
        validation_split=0.25,
        callbacks=[callbacks.ModelCheckpoint(pattern, monitor="val_loss", save_best_only=True)],
    )
    losses_seen = history.history["val_loss"]
    improved = [i for i, v in enumerate(losses_seen) if v < min(losses_seen[:i], default=np.inf)]
    expected = sorted(f"ck-{i + 1:02d}-{losses_seen[i]:.4f}.keras" for i in improved)
    assert sorted(p.name for p in tmp_path.iterdir()) == expected
    assert 1 <= len(expected) < 6  # with a learning rate this large, some epochs do not improve
    best = load_model(tmp_path / expected[-1])
    assert best.evaluate(x[72:], y[72:], verbose=0)[0] == pytest.approx(min(losses_seen), rel=1e-5)


def test_model_checkpoint_modes_weights_only_and_batch_frequency(tmp_path):
    x, y = data(n=64)
    model = small_model()
    model.fit(
        x,
        y,
        epochs=3,
        verbose=0,
        batch_size=16,
        callbacks=[
            callbacks.ModelCheckpoint(
                tmp_path / "best.weights.h5",
                monitor="accuracy",
                save_best_only=True,
                save_weights_only=True,
            ),
            callbacks.ModelCheckpoint(str(tmp_path / "b-{epoch}-{batch}.keras"), save_freq=3),
        ],
    )
    assert (tmp_path / "best.weights.h5").exists()
    # 4 batches an epoch, 12 in all: saved after batches 3, 6, 9 and 12
    assert sorted(p.name for p in tmp_path.glob("b-*")) == [
        "b-1-3.keras",
        "b-2-2.keras",
        "b-3-1.keras",
        "b-3-4.keras",
    ]
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        callbacks.ModelCheckpoint(tmp_path / "w.keras", save_weights_only=True)
    with pytest.raises(ValueError, match=r"\.keras"):
        callbacks.ModelCheckpoint(tmp_path / "w.h5")
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.ModelCheckpoint(tmp_path / "w.keras", save_freq="often")
    with pytest.raises(KeyError, match="val_f1"):
        model.fit(
            x, y, verbose=0, callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "{val_f1}.keras"))]
        )


# ----- what a file may make chainrule do -------------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    model = trained()
    model.save(tmp_path / "good.keras")
    return tmp_path / "good.keras"


def _set_layer(index, **changes):
    def change(description):
        description["config"]["layers"][index].update(changes)

    return change


def test_unknown_classes_and_modules_are_refused_by_name(saved, tmp_path):
    evil = rewrite(
        saved,
        tmp_path / "evil.keras",
        config=_set_layer(1, module="chainrule_test_evil_module", class_name="Pwn"),
    )
    with pytest.raises(FileFormatError, match="'Pwn'.*'chainrule_test_evil_module'"):
        load_model(evil)
    assert "chainrule_test_evil_module" not in sys.modules
    system = rewrite(
        saved, tmp_path / "system.keras", config=_set_layer(1, module="os", class_name="system")
    )
    with pytest.raises(FileFormatError, match="'system'"):
        load_model(system)


def test_custom_objects_are_the_only_way_in(tmp_path):
    class Scale(layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = Sequential([keras.Input(shape=(3,)), Scale(3.0)])
    model.save(tmp_path / "custom.keras")
    with pytest.raises(FileFormatError, match="'Scale'.*custom_objects"):
        load_model(tmp_path / "custom.keras")
    loaded = load_model(tmp_path / "custom.keras", custom_objects={"Scale": Scale})
    np.testing.assert_array_equal(loaded.predict(np.ones((1, 3)), verbose=0), [[3.0] * 3])


def test_unsupported_keras_features_are_clear_errors(saved, tmp_path):
    cases = {
        "mixed": (
            _set_layer(
                1,
                config={
                    "units": 8,
                    "dtype": {
                        "module": "keras",
                        "class_name": "DTypePolicy",
                        "config": {"name": "mixed_float16"},
                    },
                },
            ),
            "mixed_float16",
        ),
        "functional": (lambda d: d.update(class_name="Functional"), "Functional"),
        "lora": (lambda d: d["config"]["layers"][1]["config"].update(lora_rank=4), "lora_rank"),
        "nested": (_set_layer(2, module="keras", class_name="Sequential"), "nested"),
    }
    for name, (change, message) in cases.items():
        with pytest.raises(FileFormatError, match=message):
            load_model(rewrite(saved, tmp_path / f"{name}.keras", config=change))


def test_config_sizes_are_checked_against_the_file_before_anything_is_allocated(saved, tmp_path):
    def huge(description):
        layer_configs = description["config"]["layers"]
        layer_configs[0]["config"]["batch_shape"] = [None, 100_000]
        layer_configs[1]["config"]["units"] = 1_000_000  # a 400 GB kernel, if it were built

    bomb = rewrite(saved, tmp_path / "bomb.keras", config=huge)
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match=r"\(100000, 1000000\).*\(5, 8\)"):
            load_model(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 << 20


def test_weights_that_do_not_match_the_config_are_refused(saved, tmp_path):
    def reshape(h5):
        del h5["layers/dense/vars/1"]
        h5["layers/dense/vars/1"] = np.zeros(9, "float32")

    with pytest.raises(FileFormatError, match=r"layer 'dense\w*'.*\(8,\).*\(9,\)"):
        load_model(rewrite(saved, tmp_path / "shape.keras", weights=reshape))

    def strings(h5):
        del h5["layers/dense/vars/1"]
        h5["layers/dense/vars/1"] = np.array([b"x"] * 8)

    with pytest.raises(FileFormatError, match="float or integer"):
        load_model(rewrite(saved, tmp_path / "strings.keras", weights=strings))

    def missing(h5):
        del h5["layers/dense_1"]

    with pytest.raises(FileFormatError, match=r"no weights for layer 'dense\w*'.*dense_1"):
        load_model(rewrite(saved, tmp_path / "missing.keras", weights=missing))


def test_hdf5_links_to_other_files_are_not_followed(saved, tmp_path):
    def external(h5):
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars/0"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/data")

    def soft(h5):
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars/0"] = h5py.SoftLink("/layers/dense_1/vars/0")

    for name, change in (("external", external), ("soft", soft)):
        with pytest.raises(FileFormatError, match="link"):
            load_model(rewrite(saved, tmp_path / f"{name}.keras", weights=change))


def test_archives_that_are_not_keras_files(saved, tmp_path):
    cases = {
        "empty.keras": b"",
        "text.keras": b"hello, world\n" * 10,
        "truncated.keras": saved.read_bytes()[: len(saved.read_bytes()) // 2],
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(FileFormatError, match=name):
            load_model(tmp_path / name)
    with zipfile.ZipFile(tmp_path / "other.keras", "w") as archive:
        archive.writestr("readme.txt", "nothing here")
    with pytest.raises(FileFormatError, match="no config.json"):
        load_model(tmp_path / "other.keras")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent.keras")


def test_zip_and_json_bombs_are_refused(saved, tmp_path):
    with zipfile.ZipFile(saved) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}

    def archive_with(name, **changes):
        with zipfile.ZipFile(tmp_path / name, "w", zipfile.ZIP_BZIP2) as archive:
            for entry, content in {**entries, **changes}.items():
                archive.writestr(entry, content)
        return tmp_path / name

    zeros = bytes(16 << 20)  # bzip2 stores this in a few dozen bytes
    with pytest.raises(FileFormatError, match="decompression bomb"):
        load_model(archive_with("zip.keras", **{"model.weights.h5": zeros}))
    with pytest.raises(FileFormatError, match="not valid JSON"):
        load_model(archive_with("deep.keras", **{"config.json": b"[" * 100_000}))
    with pytest.raises(FileFormatError, match="not valid JSON"):
        model_from_json("[" * 100_000)


# ----- atomic saving -----------------------------------------------------------------------------


def test_a_failed_save_leaves_the_previous_file_whole_and_no_temporary(saved, monkeypatch):
    good = saved.read_bytes()
    model = small_model()
    original = zipfile.ZipFile.writestr

    def fail_on_weights(archive, name, data, *args, **kwargs):
        if name == "model.weights.h5":
            raise OSError("disk full")
        return original(archive, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail_on_weights)
    with pytest.raises(OSError, match="disk full"):
        model.save(saved)
    monkeypatch.undo()

    class Unsavable(layers.Layer):
        def get_config(self):
            return {**super().get_config(), "mask": {1, 2}}

    with pytest.raises(TypeError, match="Cannot serialize"):
        Sequential([keras.Input(shape=(2,)), Unsavable()]).save(saved)
    assert saved.read_bytes() == good
    assert sorted(p.name for p in saved.parent.iterdir()) == ["good.keras"]


def test_serialization_module_names_every_table():
    tables = serialization.registry()
    assert tables["keras.layers"] is LAYERS
    assert tables["keras.optimizers"]["Adam"] is optimizers.Adam
    assert tables["keras.initializers"]["GlorotUniform"] is initializers.GlorotUniform
