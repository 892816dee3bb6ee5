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


@pytest.mark.parametrize("class_name", sorted(EXAMPLES))
def test_every_registered_layer_crosses_to_keras_and_back(tmp_path, class_name):
    sample_shape, make = EXAMPLES[class_name]
    model = ck.Sequential([ck.Input(shape=sample_shape), make()])
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
    RESULTS[f"chainrule -> Keras, {class_name}"] = float(
        np.abs(in_keras.predict(x, verbose=0) - expected).max()
    )
    assert np.abs(in_keras.predict(x, verbose=0) - expected).max() <= TOLERANCE
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


def test_report_the_measured_differences():
    for case, difference in sorted(RESULTS.items()):
        print(f"{case}: max abs prediction difference {difference:.3g}")
    assert all(d <= TOLERANCE for d in RESULTS.values())
