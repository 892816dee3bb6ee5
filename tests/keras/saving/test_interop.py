"""Both ways with real Keras 3 (JAX backend, CPU): a model saved by chainrule loads in Keras
and predicts the same, and trains on from the same optimizer state; a model saved by Keras
loads in chainrule and does the same. Needs the ``interop`` extra (keras, jax); skipped without.
"""

import os
import warnings

import numpy as np
import pytest

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("JAX_PLATFORMS", "cpu")
pytest.importorskip("jax")
keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

from test_keras_file import EXAMPLES

import chainrule.keras as ck
from chainrule.keras.models import load_model

TOLERANCE = 1e-6  # max abs difference of float32 predictions
RESULTS = {}  # the measured differences, printed at the end (pytest -s)


def inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=(32,) + shape).astype("float32")


def chainrule_models():
    """name -> (chainrule model, sample shape, labels of 32 samples)."""
    rng = np.random.default_rng(1)
    labels3 = rng.integers(0, 3, 32)
    return {
        "dense_adam": (
            ck.Sequential(
                [
                    ck.Input(shape=(6,)),
                    ck.layers.Dense(
                        16, activation="relu", kernel_regularizer=ck.regularizers.L2(0.01)
                    ),
                    ck.layers.Dropout(0.2),
                    ck.layers.Dense(3, activation="softmax"),
                ]
            ),
            "adam",
            (6,),
            ck.utils.to_categorical(labels3, 3),
            "categorical_crossentropy",
        ),
        "bn_rmsprop": (
            ck.Sequential(
                [
                    ck.Input(shape=(2, 4)),
                    ck.layers.Flatten(),
                    ck.layers.Dense(8, kernel_initializer="he_uniform", use_bias=False),
                    ck.layers.BatchNormalization(),
                    ck.layers.Activation("tanh"),
                    ck.layers.LayerNormalization(),
                    ck.layers.Dense(3),
                    ck.layers.Softmax(),
                ]
            ),
            ck.optimizers.RMSprop(momentum=0.5, centered=True),
            (2, 4),
            labels3,
            "sparse_categorical_crossentropy",
        ),
        "conv_sgd": (
            ck.Sequential(
                [
                    ck.Input(shape=(6, 6, 2)),
                    ck.layers.Conv2D(4, 3, padding="same", activation="relu"),
                    ck.layers.MaxPooling2D(2),
                    ck.layers.Conv2D(2, 2),
                    ck.layers.Flatten(),
                    ck.layers.Dense(1, activation="sigmoid"),
                ]
            ),
            ck.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
            (6, 6, 2),
            (labels3 > 0).astype("float32")[:, None],
            "binary_crossentropy",
        ),
    }


def keras_models():
    rng = np.random.default_rng(2)
    labels3 = rng.integers(0, 3, 32)
    return {
        "dense_adam_amsgrad": (
            keras.Sequential(
                [
                    keras.Input(shape=(6,)),
                    keras.layers.Dense(16, activation="elu"),
                    keras.layers.Dense(3, activation="softmax"),
                ]
            ),
            keras.optimizers.Adam(amsgrad=True),
            (6,),
            keras.utils.to_categorical(labels3, 3),
            "categorical_crossentropy",
        ),
        "bn_nadam": (
            keras.Sequential(
                [
                    keras.Input(shape=(5,)),
                    keras.layers.Dense(8, use_bias=False),  # a bias before BN gets only noise
                    keras.layers.BatchNormalization(),
                    keras.layers.LeakyReLU(negative_slope=0.2),
                    keras.layers.Dense(3, activation="softmax"),
                ]
            ),
            keras.optimizers.Nadam(),
            (5,),
            labels3,
            "sparse_categorical_crossentropy",
        ),
        "conv_rmsprop": (
            keras.Sequential(
                [
                    keras.Input(shape=(6, 6, 2)),
                    keras.layers.Conv2D(3, 3, activation="relu"),
                    keras.layers.GlobalAveragePooling2D(),
                    keras.layers.Dense(2, activation="softmax"),
                ]
            ),
            keras.optimizers.RMSprop(momentum=0.3),
            (6, 6, 2),
            labels3 % 2,
            "sparse_categorical_crossentropy",
        ),
    }


def max_difference(a_weights, b_weights):
    return max(float(np.abs(a - b).max()) for a, b in zip(a_weights, b_weights))


@pytest.mark.parametrize("name", sorted(chainrule_models()))
def test_a_chainrule_model_loads_in_keras_and_predicts_the_same(tmp_path, name):
    model, optimizer, shape, y, loss = chainrule_models()[name]
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    x = inputs(shape)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # e.g. "Skipping variable loading"
        restored = keras.saving.load_model(tmp_path / "m.keras")
    difference = float(np.abs(model.predict(x, verbose=0) - restored.predict(x, verbose=0)).max())
    RESULTS[f"chainrule -> Keras, {name}"] = difference
    assert difference <= TOLERANCE
    assert int(restored.optimizer.iterations) == model.optimizer.iterations == 8
    assert type(restored.optimizer).__name__ == type(model.optimizer).__name__
    if name == "dense_adam":
        return  # its dropout masks differ between the two libraries
    # the optimizer state carried over: one more step on the same batch agrees
    model.train_on_batch(x[:8], y[:8])
    restored.train_on_batch(x[:8], y[:8])
    assert max_difference(model.get_weights(), restored.get_weights()) <= 1e-5


@pytest.mark.parametrize("name", sorted(keras_models()))
def test_a_keras_model_loads_in_chainrule_and_predicts_the_same(tmp_path, name):
    keras.utils.set_random_seed(0)
    model, optimizer, shape, y, loss = keras_models()[name]
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    x = inputs(shape, seed=3)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = load_model(tmp_path / "m.keras")
    difference = float(np.abs(model.predict(x, verbose=0) - restored.predict(x, verbose=0)).max())
    RESULTS[f"Keras -> chainrule, {name}"] = difference
    assert difference <= TOLERANCE
    assert restored.optimizer.iterations == int(model.optimizer.iterations) == 8
    model.train_on_batch(x[:8], y[:8])
    restored.train_on_batch(x[:8], y[:8])
    assert max_difference(model.get_weights(), restored.get_weights()) <= 1e-5


# Where Keras 3.15.1 itself does not do what its documentation says (docs/keras_api/
# differences.md): the layer still crosses, but Keras's side is checked as it behaves.
KERAS_DIFFERS = {
    # Keras writes RandomShear's factor as (-f, f) and then refuses the negative bound it wrote
    "RandomShear": "refuses its own config",
    # at inference Keras returns the images uncropped; chainrule crops to the documented size
    "RandomCrop": "does not crop at inference",
}


@pytest.mark.parametrize("class_name", sorted(EXAMPLES))
def test_every_registered_layer_crosses_to_keras_and_back(tmp_path, class_name):
    sample_shape, make = EXAMPLES[class_name]
    model = ck.Sequential([ck.Input(shape=sample_shape), make()])
    if KERAS_DIFFERS.get(class_name) == "refuses its own config":
        model.save(tmp_path / "chainrule.keras")
        with pytest.raises(TypeError, match="in the range"):
            keras.saving.load_model(tmp_path / "chainrule.keras")
        keras_layer = getattr(keras.layers, class_name)(x_factor=0.2)
        assert keras_layer.get_config()["x_factor"] == list(model.layers[-1].x_factor) or (
            tuple(keras_layer.get_config()["x_factor"]) == tuple(model.layers[-1].x_factor)
        )
        return
    rng = np.random.default_rng(0)
    model.set_weights(
        [np.abs(rng.normal(size=w.shape)).astype("float32") + 0.5 for w in model.get_weights()]
    )
    model.save(tmp_path / "chainrule.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        in_keras = keras.saving.load_model(tmp_path / "chainrule.keras")
    in_keras.save(tmp_path / "keras.keras")  # Keras's own config of the layer, all its keys
    back = load_model(tmp_path / "keras.keras")
    x = rng.normal(size=(3,) + sample_shape).astype("float32")
    expected = model.predict(x, verbose=0)
    # relative to the outputs' size: float32 rounding of sums of many products (Conv3D)
    scale = max(1.0, float(np.abs(expected).max()))
    if class_name not in KERAS_DIFFERS:
        RESULTS[f"chainrule -> Keras, {class_name} (relative)"] = float(
            np.abs(in_keras.predict(x, verbose=0) - expected).max() / scale
        )
    if KERAS_DIFFERS.get(class_name) == "does not crop at inference":
        assert in_keras.predict(x, verbose=0).shape == x.shape != expected.shape
    else:
        assert np.abs(in_keras.predict(x, verbose=0) - expected).max() <= TOLERANCE * scale
    np.testing.assert_array_equal(back.predict(x, verbose=0), expected)


def test_weights_files_cross_both_ways(tmp_path):
    model, optimizer, shape, y, loss = chainrule_models()["bn_rmsprop"]
    model.compile(optimizer=optimizer, loss=loss)
    x = inputs(shape)
    model.fit(x, y, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    twin = keras.saving.load_model(tmp_path / "m.keras")
    twin.set_weights([w * 0.5 for w in twin.get_weights()])
    twin.save_weights(tmp_path / "k.weights.h5")
    model.load_weights(tmp_path / "k.weights.h5")
    assert max_difference(model.get_weights(), twin.get_weights()) == 0.0
    model.save_weights(tmp_path / "c.weights.h5")
    twin.load_weights(tmp_path / "c.weights.h5")
    assert max_difference(model.get_weights(), twin.get_weights()) == 0.0


def functional_pair(lib):
    """The same functional model in chainrule (``lib=ck``) or Keras (``lib=keras``): branches
    that join, a layer called twice, a Sequential and a functional model inside, and two inputs
    (a dict) with two outputs."""
    a = lib.Input(shape=(6,), name="a")
    b = lib.Input(shape=(3,), name="b")
    shared = lib.layers.Dense(5, activation="tanh", name="shared")
    left = shared(a)
    right = lib.layers.Dense(5, activation="relu")(lib.layers.Dense(6)(b))
    joined = lib.layers.Add()([left, right])
    again = shared(lib.layers.Dense(6)(joined))
    inner_in = lib.Input(shape=(10,))
    inner = lib.Model(inner_in, lib.layers.Dense(4, activation="relu")(inner_in), name="inner")
    block = lib.Sequential([lib.Input(shape=(4,)), lib.layers.Dense(3), lib.layers.Dense(3)])
    first = block(inner(lib.layers.Concatenate()([joined, again])))
    second = lib.layers.Dense(1, name="second")(lib.layers.Multiply()([left, again]))
    return lib.Model({"a": a, "b": b}, [first, second], name="branchy")


def single_functional(lib):
    """One input, one output, a shared layer and a nested Sequential: trainable in both."""
    inputs = lib.Input(shape=(6,))
    shared = lib.layers.Dense(6, activation="tanh")
    x = shared(shared(inputs))
    x = lib.layers.Concatenate()([x, lib.layers.Dense(2, activation="relu")(inputs)])
    block = lib.Sequential([lib.Input(shape=(8,)), lib.layers.Dense(4, activation="relu")])
    return lib.Model(inputs, lib.layers.Dense(3, activation="softmax")(block(x)))


def tower_class(lib):
    """A subclassed model with layers in attributes, in a list and in a nested Sequential."""

    class Tower(lib.Model):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.encoder = lib.layers.Dense(units, activation="relu")
            self.blocks = [lib.layers.Dense(units), lib.layers.Dense(units, activation="tanh")]
            self.head = lib.Sequential([lib.layers.Dense(3, activation="softmax")])

        def call(self, inputs, training=False):
            x = self.encoder(inputs)
            for block in self.blocks:
                x = block(x) + x
            return self.head(x)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return Tower


def two_inputs(seed):
    rng = np.random.default_rng(seed)
    return {
        "a": rng.normal(size=(16, 6)).astype("float32"),
        "b": rng.normal(size=(16, 3)).astype("float32"),
    }


def test_a_functional_model_with_two_inputs_and_outputs_crosses_both_ways(tmp_path):
    x = two_inputs(4)
    model = functional_pair(ck)
    model.save(tmp_path / "c.keras")
    in_keras = keras.saving.load_model(tmp_path / "c.keras")
    ours = [o.numpy() for o in model(x)]
    theirs = in_keras.predict(x, verbose=0)
    difference = max(float(np.abs(o - t).max()) for o, t in zip(ours, theirs))
    RESULTS["chainrule -> Keras, functional with 2 inputs and 2 outputs"] = difference
    assert difference <= TOLERANCE
    keras_model = functional_pair(keras)
    keras_model.save(tmp_path / "k.keras")
    back = load_model(tmp_path / "k.keras")
    theirs = keras_model.predict(x, verbose=0)
    ours = [o.numpy() for o in back(x)]
    difference = max(float(np.abs(o - t).max()) for o, t in zip(ours, theirs))
    RESULTS["Keras -> chainrule, functional with 2 inputs and 2 outputs"] = difference
    assert difference <= TOLERANCE
    keras_model.save_weights(tmp_path / "k.weights.h5")
    model.load_weights(tmp_path / "k.weights.h5")
    assert max_difference(model.get_weights(), keras_model.get_weights()) == 0.0


@pytest.mark.parametrize("kind", ["functional", "subclassed"])
def test_training_resumes_across_libraries(tmp_path, kind):
    """Saved after training in one library, the model goes on training in the other from the
    same optimizer state: one more step agrees."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = ck.utils.to_categorical(rng.integers(0, 3, 32), 3)
    towers = {}
    for lib in (ck, keras):
        towers[lib] = tower_class(lib)
    objects = {"Tower": towers[keras]}
    make = {
        "functional": lambda lib: single_functional(lib),
        "subclassed": lambda lib: towers[lib](units=5, name="tower"),
    }[kind]
    for source, target in ((ck, keras), (keras, ck)):
        if source is keras:
            keras.utils.set_random_seed(0)
        model = make(source)
        model.compile(optimizer=source.optimizers.Adam(0.01), loss="categorical_crossentropy")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        model.save(tmp_path / f"{kind}.keras")
        if target is keras:
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)
                restored = keras.saving.load_model(
                    tmp_path / f"{kind}.keras", custom_objects=objects
                )
        else:
            restored = load_model(tmp_path / f"{kind}.keras", custom_objects={"Tower": towers[ck]})
        difference = float(
            np.abs(model.predict(x, verbose=0) - restored.predict(x, verbose=0)).max()
        )
        RESULTS[f"{source.__name__} -> {target.__name__}, {kind}"] = difference
        assert difference <= TOLERANCE
        assert int(restored.optimizer.iterations) == int(model.optimizer.iterations) == 8
        model.train_on_batch(x[:8], y[:8])
        restored.train_on_batch(x[:8], y[:8])
        assert max_difference(model.get_weights(), restored.get_weights()) <= 1e-5


def with_ops(lib):
    """keras.ops calls between layers: written by both as nodes of op classes."""
    inputs = lib.Input(shape=(4,))
    x = lib.layers.Dense(4)(inputs)
    total = lib.ops.sum(x, axis=1, keepdims=True) + 1.0
    joined = lib.ops.concatenate([x, total], axis=-1)
    out = lib.ops.tanh(joined) - x[:, :1]
    return lib.Model(inputs, [lib.layers.Dense(2)(lib.ops.relu(out) * 2.0), lib.ops.mean(out, -1)])


def test_a_model_with_op_nodes_crosses_both_ways(tmp_path):
    x = inputs((4,), seed=6)
    ck.utils.set_random_seed(0)
    model = with_ops(ck)
    model.save(tmp_path / "c.keras")
    in_keras = keras.saving.load_model(tmp_path / "c.keras")
    ours = [o.numpy() for o in model(x)]
    difference = max(float(np.abs(o - t).max()) for o, t in zip(ours, in_keras.predict(x)))
    RESULTS["chainrule -> Keras, functional with keras.ops nodes"] = difference
    assert difference <= TOLERANCE
    keras.utils.set_random_seed(0)
    keras_model = with_ops(keras)
    keras_model.save(tmp_path / "k.keras")
    back = load_model(tmp_path / "k.keras")
    theirs = keras_model.predict(x, verbose=0)
    difference = max(float(np.abs(o.numpy() - t).max()) for o, t in zip(back(x), theirs))
    RESULTS["Keras -> chainrule, functional with keras.ops nodes"] = difference
    assert difference <= TOLERANCE


def nested_sequential(lib):
    """A Sequential model holding a Sequential and a functional model."""
    inner = lib.Sequential([lib.Input(shape=(6,)), lib.layers.Dense(4, activation="relu")])
    head_in = lib.Input(shape=(4,))
    head = lib.Model(head_in, lib.layers.Dense(3, activation="softmax")(head_in))
    return lib.Sequential([lib.Input(shape=(6,)), inner, head])


def test_models_nested_in_a_sequential_model_resume_training_across_libraries(tmp_path):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = ck.utils.to_categorical(rng.integers(0, 3, 32), 3)
    for source, target in ((ck, keras), (keras, ck)):
        source.utils.set_random_seed(0)
        model = nested_sequential(source)
        model.compile(optimizer=source.optimizers.Adam(0.01), loss="categorical_crossentropy")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        model.save(tmp_path / "nested.keras")
        restored = (keras.saving.load_model if target is keras else load_model)(
            tmp_path / "nested.keras"
        )
        difference = float(
            np.abs(model.predict(x, verbose=0) - restored.predict(x, verbose=0)).max()
        )
        RESULTS[f"{source.__name__} -> {target.__name__}, models nested in Sequential"] = difference
        assert difference <= TOLERANCE
        assert int(restored.optimizer.iterations) == int(model.optimizer.iterations) == 8
        model.train_on_batch(x[:8], y[:8])
        restored.train_on_batch(x[:8], y[:8])
        assert max_difference(model.get_weights(), restored.get_weights()) <= 1e-5


def encoder_decoder(lib):
    """keras-io's sequence-to-sequence shape: the encoder LSTM's final states are the
    decoder's ``initial_state``, a tensor given as a keyword argument."""
    encoder_inputs = lib.Input(shape=(None, 5))
    _, h, c = lib.layers.LSTM(6, return_state=True)(encoder_inputs)
    decoder_inputs = lib.Input(shape=(None, 4))
    decoded = lib.layers.LSTM(6, return_sequences=True)(decoder_inputs, initial_state=[h, c])
    outputs = lib.layers.Dense(4, activation="softmax")(decoded)
    return lib.Model([encoder_inputs, decoder_inputs], outputs)


def test_a_call_with_tensors_in_its_keyword_arguments_crosses_both_ways():
    rng = np.random.default_rng(7)
    x = [rng.normal(size=(3, 7, 5)).astype("float32"), rng.normal(size=(3, 2, 4)).astype("f4")]
    ours, theirs = encoder_decoder(ck), encoder_decoder(keras)
    assert ours.count_params() == theirs.count_params()
    theirs.set_weights(ours.get_weights())
    in_keras = keras.Model.from_config(ours.get_config())
    in_keras.set_weights(ours.get_weights())
    back = ck.Model.from_config(theirs.get_config())
    back.set_weights(ours.get_weights())
    expected = theirs.predict(x, verbose=0)
    difference = max(
        float(np.abs(ours.predict(x, verbose=0) - expected).max()),
        float(np.abs(in_keras.predict(x, verbose=0) - expected).max()),
        float(np.abs(back.predict(x, verbose=0) - expected).max()),
    )
    RESULTS["encoder-decoder with initial_state=, configs both ways"] = difference
    assert difference <= TOLERANCE


def sequence_model(lib, kind):
    """A small sequence model of the given kind, on samples of 5 steps (``lib`` is chainrule's
    keras or Keras): its recurrent and wrapped layers keep their weights in sublayers."""
    layers = lib.layers
    if kind == "masked_embedding":
        return lib.Sequential(
            [
                lib.Input(shape=(5,), dtype="int32"),
                layers.Embedding(8, 4, mask_zero=True),
                layers.LSTM(3, return_sequences=True),
                layers.GRU(2),
                layers.Dense(2),
            ]
        )
    body = {
        "lstm": [layers.LSTM(4, return_sequences=True), layers.LSTM(3, go_backwards=True)],
        "gru": [layers.GRU(4, return_sequences=True), layers.GRU(3, reset_after=False)],
        "simple_rnn": [layers.SimpleRNN(4, return_sequences=True), layers.SimpleRNN(3)],
        "bidirectional": [
            layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
            layers.Bidirectional(layers.GRU(2), merge_mode="ave"),
        ],
        "time_distributed": [
            layers.TimeDistributed(layers.Dense(4, activation="relu")),
            layers.SimpleRNN(3),
        ],
        "stacked_cells": [layers.RNN([layers.LSTMCell(3), layers.GRUCell(3)])],
    }[kind]
    return lib.Sequential([lib.Input(shape=(5, 3)), *body, layers.Dense(2)])


def sequence_data(kind, seed):
    rng = np.random.default_rng(seed)
    if kind == "masked_embedding":  # ids padded with zeros at the end: masked steps
        x = rng.integers(1, 8, size=(32, 5)).astype("int32")
        x[np.arange(5)[None, :] >= rng.integers(1, 6, size=(32, 1))] = 0
    else:
        x = rng.normal(size=(32, 5, 3)).astype("float32")
    return x, rng.normal(size=(32, 2)).astype("float32")


SEQUENCE_KINDS = [
    "lstm",
    "gru",
    "simple_rnn",
    "bidirectional",
    "time_distributed",
    "stacked_cells",
    "masked_embedding",
]


@pytest.mark.parametrize("kind", SEQUENCE_KINDS)
def test_sequence_models_cross_both_ways_and_resume_training(tmp_path, kind):
    """Recurrent and wrapped layers, saved after training in one library, predict the same in
    the other and train on from the same Adam state."""
    x, y = sequence_data(kind, seed=8)
    for source, target in ((ck, keras), (keras, ck)):
        source.utils.set_random_seed(0)
        model = sequence_model(source, kind)
        model.compile(optimizer=source.optimizers.Adam(0.01), loss="mse")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        model.save(tmp_path / f"{kind}.keras")
        if target is keras:
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)  # e.g. "Skipping variable loading"
                restored = keras.saving.load_model(tmp_path / f"{kind}.keras")
        else:
            restored = load_model(tmp_path / f"{kind}.keras")
        difference = float(
            np.abs(model.predict(x, verbose=0) - restored.predict(x, verbose=0)).max()
        )
        RESULTS[f"{source.__name__} -> {target.__name__}, sequence model {kind}"] = difference
        assert difference <= TOLERANCE
        assert int(restored.optimizer.iterations) == int(model.optimizer.iterations) == 8
        model.train_on_batch(x[:8], y[:8])
        restored.train_on_batch(x[:8], y[:8])
        assert max_difference(model.get_weights(), restored.get_weights()) <= 1e-5


def minimal_cell_class(lib):
    """keras-io's MinimalRNNCell: h_t = tanh(x_t K + h_{t-1} R), a user's cell for ``RNN``."""

    class MinimalRNNCell(lib.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(
                shape=(self.units, self.units), name="recurrent_kernel"
            )

        def call(self, inputs, states):
            output = lib.ops.tanh(
                lib.ops.matmul(inputs, self.kernel)
                + lib.ops.matmul(states[0], self.recurrent_kernel)
            )
            return output, [output]

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return MinimalRNNCell


def test_a_users_cell_in_rnn_crosses_both_ways(tmp_path):
    """Its weights sit at layers/rnn/cell/vars in both libraries' files."""
    x = inputs((5, 3), seed=11)
    cells = {lib: minimal_cell_class(lib) for lib in (ck, keras)}
    for source, target in ((ck, keras), (keras, ck)):
        source.utils.set_random_seed(0)
        model = source.Sequential(
            [
                source.Input(shape=(5, 3)),
                source.layers.RNN(cells[source](4)),
                source.layers.Dense(2),
            ]
        )
        model.save(tmp_path / "cell.keras")
        objects = {"MinimalRNNCell": cells[target]}
        if target is keras:
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)  # e.g. "Skipping variable loading"
                restored = keras.saving.load_model(tmp_path / "cell.keras", custom_objects=objects)
        else:
            restored = load_model(tmp_path / "cell.keras", custom_objects=objects)
        difference = float(
            np.abs(model.predict(x, verbose=0) - restored.predict(x, verbose=0)).max()
        )
        RESULTS[f"{source.__name__} -> {target.__name__}, RNN of a user's cell"] = difference
        assert difference <= TOLERANCE


def mask_argument_model(lib):
    """A mask given to a call as a tensor keyword argument, ``lstm(x, mask=m)``: Keras writes
    it among the call's kwargs, as a tensor of the graph."""
    sequences, mask = lib.Input(shape=(5, 3)), lib.Input(shape=(5,), dtype="bool")
    outputs = lib.layers.LSTM(3)(sequences, mask=mask)
    return lib.Model([sequences, mask], lib.layers.Dense(2)(outputs))


def test_a_call_with_a_tensor_keyword_argument_crosses_both_ways(tmp_path):
    x = [inputs((5, 3), seed=12), np.arange(5)[None, :] < np.arange(1, 33)[:, None] % 6]
    for source, target in ((ck, keras), (keras, ck)):
        source.utils.set_random_seed(0)
        model = mask_argument_model(source)
        model.save(tmp_path / "mask.keras")
        if target is keras:
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)  # e.g. "Skipping variable loading"
                restored = keras.saving.load_model(tmp_path / "mask.keras")
        else:
            restored = load_model(tmp_path / "mask.keras")
        expected = model.predict(x, verbose=0)
        difference = float(np.abs(expected - restored.predict(x, verbose=0)).max())
        RESULTS[f"{source.__name__} -> {target.__name__}, mask=tensor keyword"] = difference
        assert difference <= TOLERANCE
        unmasked = model.predict([x[0], np.ones_like(x[1])], verbose=0)
        assert np.abs(unmasked - expected).max() > 1e-3  # the mask was applied


def test_a_loss_scale_optimizers_state_crosses_both_ways(tmp_path):
    """Keras stores a LossScaleOptimizer's variables (its step counter and dynamic scale, then
    its inner optimizer's) at optimizer/vars, and the inner optimizer's again at
    optimizer/inner_optimizer/vars: training resumes from the same state either way."""
    rng = np.random.default_rng(13)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = rng.normal(size=(32, 2)).astype("float32")
    for source, target in ((ck, keras), (keras, ck)):
        source.utils.set_random_seed(0)
        model = source.Sequential([source.Input(shape=(6,)), source.layers.Dense(2)])
        optimizer = source.optimizers.LossScaleOptimizer(
            source.optimizers.Adam(0.01), dynamic_growth_steps=3
        )
        model.compile(optimizer=optimizer, loss="mse")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)  # 8 steps: the scale grew twice
        model.save(tmp_path / "scaled.keras")
        if target is keras:
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)  # e.g. "Skipping variable loading"
                restored = keras.saving.load_model(tmp_path / "scaled.keras")
        else:
            restored = load_model(tmp_path / "scaled.keras")
        loaded, saved = restored.optimizer, model.optimizer
        assert int(loaded.iterations) == int(saved.iterations) == 8
        assert int(loaded.step_counter) == int(saved.step_counter) == 2
        assert float(loaded.dynamic_scale) == float(saved.dynamic_scale) == 2.0**17
        model.train_on_batch(x[:8], y[:8])
        restored.train_on_batch(x[:8], y[:8])
        difference = max_difference(model.get_weights(), restored.get_weights())
        RESULTS[f"{source.__name__} -> {target.__name__}, LossScaleOptimizer step"] = difference
        assert difference <= 1e-6


def test_a_multi_optimizers_state_crosses_both_ways(tmp_path):
    """Keras stores a MultiOptimizer's step count, then each inner optimizer's variables, at
    optimizer/vars, and each inner optimizer's again at optimizer/optimizers/sgd/vars...:
    training resumes from the same state either way."""
    rng = np.random.default_rng(14)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = rng.normal(size=(32, 2)).astype("float32")
    for source, target in ((ck, keras), (keras, ck)):
        source.utils.set_random_seed(0)
        model = source.Sequential(
            [
                source.Input(shape=(6,)),
                source.layers.Dense(4, activation="tanh", name="body"),
                source.layers.Dense(2, name="head"),
            ]
        )
        optimizers = source.optimizers
        # the head's variables: "head/kernel" in chainrule, "sequential/head/kernel" in Keras
        routes = optimizers.OptimizerMap(
            optimizers.Adam(0.01), {".*head/.*": optimizers.SGD(0.1, momentum=0.9)}
        )
        model.compile(optimizer=optimizers.MultiOptimizer(routes), loss="mse")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        model.save(tmp_path / "multi.keras")
        if target is keras:
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)  # e.g. "Skipping variable loading"
                restored = keras.saving.load_model(tmp_path / "multi.keras")
        else:
            restored = load_model(tmp_path / "multi.keras")
        steps = [int(o.iterations) for o in restored.optimizer.optimizers]
        assert steps == [int(o.iterations) for o in model.optimizer.optimizers] == [8, 8]
        model.train_on_batch(x[:8], y[:8])
        restored.train_on_batch(x[:8], y[:8])
        difference = max_difference(model.get_weights(), restored.get_weights())
        RESULTS[f"{source.__name__} -> {target.__name__}, MultiOptimizer step"] = difference
        assert difference <= 1e-6


def test_a_keras_legacy_hdf5_sequence_model_loads(tmp_path):
    """Keras's legacy .h5 lists a layer's weights with its sublayers' (an LSTM's cell's, both
    of a Bidirectional's layers) in one group; they are planned and matched as one layer's."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(4, 2)),
            keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True)),
            keras.layers.GRU(2),
            keras.layers.Dense(1),
        ]
    )
    model.save(tmp_path / "legacy.h5")
    x = inputs((4, 2), seed=15)
    difference = float(
        np.abs(model.predict(x, verbose=0) - load_model(tmp_path / "legacy.h5").predict(x)).max()
    )
    RESULTS["Keras -> chainrule, legacy .h5 sequence model"] = difference
    assert difference <= TOLERANCE


def reader_class(lib):
    """A subclassed model holding a Bidirectional LSTM and a TimeDistributed Dense in its
    attributes: their sublayers sit under the attributes' names (encoder/forward_layer/cell)."""

    class Reader(lib.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.project = lib.layers.TimeDistributed(lib.layers.Dense(units, activation="relu"))
            self.encoder = lib.layers.Bidirectional(lib.layers.LSTM(units))
            self.head = lib.layers.Dense(2)

        def call(self, inputs):
            return self.head(self.encoder(self.project(inputs)))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return Reader


def test_a_subclassed_model_of_sequence_layers_crosses_both_ways(tmp_path):
    x = inputs((5, 3), seed=16)
    readers = {lib: reader_class(lib) for lib in (ck, keras)}
    for source, target in ((ck, keras), (keras, ck)):
        source.utils.set_random_seed(0)
        model = readers[source](units=3, name="reader")
        model(x[:2])
        model.save(tmp_path / "reader.keras")
        objects = {"Reader": readers[target]}
        if target is keras:
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)  # e.g. "Skipping variable loading"
                restored = keras.saving.load_model(
                    tmp_path / "reader.keras", custom_objects=objects
                )
        else:
            restored = load_model(tmp_path / "reader.keras", custom_objects=objects)
        difference = float(
            np.abs(model.predict(x, verbose=0) - restored.predict(x, verbose=0)).max()
        )
        RESULTS[f"{source.__name__} -> {target.__name__}, subclassed sequence model"] = difference
        assert difference <= TOLERANCE


def attention_model(lib):
    """MultiHeadAttention (stored at query_dense/vars..., its properties' names), a gated one
    (_gate_dense/vars, which has no property) and GroupQueryAttention (_query_dense/vars...)."""
    query, value = lib.Input(shape=(4, 6)), lib.Input(shape=(3, 6))
    plain = lib.layers.MultiHeadAttention(2, 3)(query, value)
    gated = lib.layers.MultiHeadAttention(2, 3, use_gate=True)(query, value)
    grouped = lib.layers.GroupQueryAttention(4, 4, 2)(query, value)
    return lib.Model([query, value], [plain, gated, grouped])


def test_attention_layers_cross_both_ways(tmp_path):
    x = [inputs((4, 6), seed=9), inputs((3, 6), seed=10)]
    for source, target in ((ck, keras), (keras, ck)):
        source.utils.set_random_seed(0)
        model = attention_model(source)
        model.save(tmp_path / "attention.keras")
        if target is keras:
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)  # e.g. "Skipping variable loading"
                restored = keras.saving.load_model(tmp_path / "attention.keras")
        else:
            restored = load_model(tmp_path / "attention.keras")
        difference = max(
            float(np.abs(np.asarray(a) - np.asarray(b)).max())
            for a, b in zip(model.predict(x, verbose=0), restored.predict(x, verbose=0))
        )
        RESULTS[f"{source.__name__} -> {target.__name__}, attention layers"] = difference
        assert difference <= TOLERANCE


def registered_functions(lib):
    """An activation and a loss registered with ``register_keras_serializable`` (once per
    library: the registries are global)."""

    def half_tanh(x):
        return 0.5 * lib.ops.tanh(x)

    def halved_mse(y_true, y_pred):
        return 0.5 * lib.ops.mean(lib.ops.square(y_pred - y_true), axis=-1)

    found = []
    for name, fn in (("half_tanh", half_tanh), ("halved_mse", halved_mse)):
        registered = lib.saving.get_registered_object(f"interop>{name}")
        if registered is None:
            registered = lib.saving.register_keras_serializable("interop", name)(fn)
        found.append(registered)
    return found


def test_a_registered_activation_and_loss_cross_both_ways(tmp_path):
    """Both libraries write them as {"module": "builtins", "class_name": "function", "config":
    "interop>half_tanh", "registered_name": "function"} and find them in their registry."""
    x = inputs((4,), seed=12)
    y = np.ones((32, 2), dtype="float32")
    functions = {lib: registered_functions(lib) for lib in (ck, keras)}
    for source, target in ((ck, keras), (keras, ck)):
        source.utils.set_random_seed(0)
        half_tanh, halved_mse = functions[source]
        model_inputs = source.Input(shape=(4,))
        outputs = source.layers.Dense(2, activation=half_tanh)(model_inputs)
        model = source.Model(model_inputs, outputs)
        model.compile(optimizer="sgd", loss=halved_mse)
        model.fit(x, y, batch_size=16, verbose=0)
        model.save(tmp_path / "registered.keras")
        if target is keras:
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)
                restored = keras.saving.load_model(tmp_path / "registered.keras")
        else:
            restored = load_model(tmp_path / "registered.keras")
        assert restored.layers[1].activation is functions[target][0]
        assert restored.loss is functions[target][1]
        difference = float(
            np.abs(model.predict(x, verbose=0) - restored.predict(x, verbose=0)).max()
        )
        RESULTS[f"{source.__name__} -> {target.__name__}, registered activation"] = difference
        assert difference <= TOLERANCE


def saving_hook_classes(lib):
    """keras-io's examples of the saving hooks, shortened: a layer whose build takes an
    initializer (get_build_config, build_from_config), a Dense layer that stores an offset
    beside its weights (save_own_variables, load_own_variables) and a model whose compile has
    its own signature (get_compile_config, compile_from_config)."""

    class InitBuilt(lib.layers.Layer):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape, layer_init):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer=layer_init)
            self.layer_init, self.built_for = layer_init, list(input_shape)

        def call(self, x):
            return lib.ops.matmul(x, self.w)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

        def get_build_config(self):
            return {"input_shape": self.built_for, "layer_init": self.layer_init}

        def build_from_config(self, config):
            self.build(config["input_shape"], config["layer_init"])

    class Offset(lib.layers.Dense):
        def __init__(self, units, **kwargs):
            super().__init__(units, **kwargs)
            self.offset = 0.0

        def call(self, x):
            return super().call(x) + self.offset

        def save_own_variables(self, store):
            super().save_own_variables(store)
            store["offset"] = np.array([self.offset], dtype="float32")

        def load_own_variables(self, store):
            self.offset = float(store["offset"][0])
            self.kernel.assign(store["0"])
            self.bias.assign(store["1"])

    class Regressor(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.head = lib.layers.Dense(1)

        def call(self, x):
            return self.head(x)

        def compile(self, optimizer, loss_fn):
            super().compile(optimizer=optimizer, loss=loss_fn)
            self.loss_fn = loss_fn

        def get_compile_config(self):
            return {"optimizer": "sgd", "loss_fn": self.loss_fn}

        def compile_from_config(self, config):
            self.compile(optimizer=config["optimizer"], loss_fn=config["loss_fn"])

    return {"InitBuilt": InitBuilt, "Offset": Offset, "Regressor": Regressor}


def test_the_saving_hooks_cross_both_ways(tmp_path):
    x = inputs((3,), seed=13)
    classes = {lib: saving_hook_classes(lib) for lib in (ck, keras)}
    for source, target in ((ck, keras), (keras, ck)):
        source.utils.set_random_seed(0)
        built = classes[source]["InitBuilt"](units=4)
        built.build((None, 3), "ones")
        layered = source.Sequential([built, classes[source]["Offset"](2)])
        layered(x)
        layered.layers[1].offset = 1.5
        layered.save(tmp_path / "layers.keras")
        regressor = classes[source]["Regressor"]()
        regressor.compile(optimizer="sgd", loss_fn="mse")
        regressor.fit(x, np.ones((32, 1)), batch_size=16, verbose=0)
        regressor.save(tmp_path / "compile.keras")
        load = keras.saving.load_model if target is keras else load_model
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # e.g. "compile() was not called"
            restored = load(tmp_path / "layers.keras", custom_objects=classes[target])
            compiled = load(tmp_path / "compile.keras", custom_objects=classes[target])
        assert restored.layers[0].layer_init == "ones" and restored.layers[1].offset == 1.5
        assert compiled.loss_fn == "mse" and int(compiled.optimizer.iterations) == 2
        for name, model, copy in (("layers", layered, restored), ("compile", regressor, compiled)):
            difference = float(
                np.abs(np.asarray(model.predict(x, verbose=0)) - copy.predict(x, verbose=0)).max()
            )
            RESULTS[f"{source.__name__} -> {target.__name__}, saving hooks ({name})"] = difference
            assert difference <= TOLERANCE


def mixed_state_class(lib):
    """A layer holding state four ways: Variables assigned in ``__init__`` (one frozen), a
    sublayer, and weights of ``add_weight`` in ``build`` (the frozen one first)."""

    class MixedState(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.scale = lib.Variable(np.full(3, 2.0, "float32"), name="scale")
            self.shift = lib.Variable(np.zeros(3, "float32"), name="shift", trainable=False)
            self.inner = lib.layers.Dense(3, name="inner")

        def build(self, input_shape):
            self.counts = self.add_weight(
                shape=(3,), initializer="zeros", name="counts", trainable=False
            )
            self.bias = self.add_weight(shape=(3,), initializer="zeros", name="bias")
            self.inner.build(input_shape)

        def call(self, x):
            return self.inner(x) * self.scale + self.bias + self.counts + self.shift

    return MixedState


def test_a_layers_variables_keep_their_order_and_values_across_libraries(tmp_path):
    """Both libraries list a layer's weights as Keras tracks them (trainable before
    non-trainable, each in the order first seen, then the sublayers'), and store them in that
    order, so no two weights swap when a file crosses."""
    x = inputs((3,), seed=13)
    classes = {lib: mixed_state_class(lib) for lib in (ck, keras)}
    for source, target in ((ck, keras), (keras, ck)):
        model = source.Sequential([source.Input(shape=(3,)), classes[source](name="mixed")])
        layer = model.layers[0]
        for position, weight in enumerate(layer.weights):
            weight.assign(np.full(weight.shape, position + 1.0, "float32"))
        model.save(tmp_path / "mixed.keras")
        objects = {"MixedState": classes[target]}
        if target is keras:
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)  # e.g. "Skipping variable loading"
                restored = keras.saving.load_model(tmp_path / "mixed.keras", custom_objects=objects)
        else:
            restored = load_model(tmp_path / "mixed.keras", custom_objects=objects)
        names = ["scale", "bias", "shift", "counts", "kernel", "bias"]
        for model_of in (model, restored):
            assert [w.name for w in model_of.layers[0].weights] == names
        for saved, loaded in zip(layer.weights, restored.layers[0].weights):
            np.testing.assert_array_equal(np.asarray(saved), np.asarray(loaded))
        difference = float(
            np.abs(model.predict(x, verbose=0) - restored.predict(x, verbose=0)).max()
        )
        RESULTS[f"{source.__name__} -> {target.__name__}, a layer's mixed state"] = difference
        assert difference <= TOLERANCE


def endpoint_class(lib):
    """keras-io's endpoint layer pattern: the input passed by the name of call's first
    parameter, ``layer(logits=x, targets=t)``."""

    class Endpoint(lib.layers.Layer):
        def call(self, logits, targets=None):
            return lib.ops.sigmoid(logits) + 0.5 * targets

    return Endpoint


def test_a_call_with_the_input_passed_by_keyword_crosses_both_ways(tmp_path):
    """Keras writes that call with empty args and both tensors among the kwargs."""
    x = [inputs((3,), seed=14), inputs((1,), seed=15)]
    classes = {lib: endpoint_class(lib) for lib in (ck, keras)}
    for source, target in ((ck, keras), (keras, ck)):
        source.utils.set_random_seed(0)
        features, targets = source.Input(shape=(3,)), source.Input(shape=(1,))
        logits = source.layers.Dense(1)(features)
        outputs = classes[source](name="endpoint")(logits=logits, targets=targets)
        model = source.Model([features, targets], outputs)
        model.save(tmp_path / "endpoint.keras")
        objects = {"Endpoint": classes[target]}
        if target is keras:
            restored = keras.saving.load_model(tmp_path / "endpoint.keras", custom_objects=objects)
        else:
            restored = load_model(tmp_path / "endpoint.keras", custom_objects=objects)
        difference = float(
            np.abs(model.predict(x, verbose=0) - restored.predict(x, verbose=0)).max()
        )
        RESULTS[f"{source.__name__} -> {target.__name__}, input passed by keyword"] = difference
        assert difference <= TOLERANCE


def stateful_model(lib):
    layers = lib.layers
    return lib.Sequential(
        [lib.Input(batch_shape=(4, 5, 3)), layers.LSTM(3, stateful=True), layers.Dense(2)]
    )


def test_a_stateful_lstm_crosses_both_ways_without_its_states(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, 5, 3)).astype("float32")
    for source, target in ((ck, keras), (keras, ck)):
        source.utils.set_random_seed(0)
        model = stateful_model(source)
        model.predict(x, batch_size=4, verbose=0)  # states moved on from zeros are not saved
        model.save(tmp_path / "stateful.keras")
        if target is keras:
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)  # e.g. "Skipping variable loading"
                restored = keras.saving.load_model(tmp_path / "stateful.keras")
        else:
            restored = load_model(tmp_path / "stateful.keras")
        assert len(restored.weights) == len(model.weights) == 5
        assert [type(s).__name__ for s in restored.layers[0].states] == ["Variable"] * 2
        model.layers[0].reset_states()
        # one batch: Keras's JAX predict does not carry the states from batch to batch
        expected = model.predict(x[:4], batch_size=4, verbose=0)
        got = restored.predict(x[:4], batch_size=4, verbose=0)
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_report_the_measured_differences():
    for case, difference in sorted(RESULTS.items()):
        print(f"{case}: max abs prediction difference {difference:.3g}")
    assert all(d <= TOLERANCE for d in RESULTS.values())
