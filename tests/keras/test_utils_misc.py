"""keras.utils's smaller names: Progbar, Config, split_dataset, get_source_inputs, the
interactive-logging switch and the names Keras shows from keras.backend and keras.saving."""

import json
import logging
import random
import tracemalloc

import numpy as np
import pytest

import chainrule.keras as keras
from chainrule.keras import utils


def test_progbar_averages_values_over_steps(capsys):
    bar = utils.Progbar(4, verbose=2, stateful_metrics=["acc"], unit_name="batch")
    bar.update(1, [("loss", 1.0), ("acc", 0.5)])
    bar.add(2, [("loss", 4.0), ("acc", 0.7)])  # loss: (1 * 1 + 4 * 2) / 3 = 3
    assert bar._values["loss"] == [9.0, 3]
    assert capsys.readouterr().out == ""  # verbose=2 draws only the finished line
    bar.update(4, [("loss", 2.0), ("acc", 0.9)])  # the last update is shown as given
    line = capsys.readouterr().out
    assert line.startswith("4/4 - ") and "/batch" in line
    assert line.rstrip().endswith("- loss: 2.0000 - acc: 0.9000")


def test_progbar_stateless_metrics_and_silence(capsys):
    bar = utils.Progbar(3, verbose=0, stateless_metrics=["loss"])
    bar.update(1, [("loss", 2.0), ("lr", 0.1)])
    bar.update(2, [("loss", 4.0), ("lr", 0.2)])
    assert bar._values == {"loss": [6.0, 2], "lr": [0.2, 1]}
    bar.update(3)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="at most one"):
        utils.Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


def test_interactive_logging_switch(capsys, caplog):
    assert utils.is_interactive_logging_enabled()
    utils.disable_interactive_logging()
    try:
        assert not utils.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="chainrule.keras"):
            utils.Progbar(1, verbose=2).update(1, [("loss", 1.0)])
            model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
            model.compile("sgd", "mse")
            model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=2, verbose=2)
        assert capsys.readouterr().out == ""
        assert "1/1 - " in caplog.text and "Epoch 2/2" in caplog.text
    finally:
        utils.enable_interactive_logging()
    assert utils.is_interactive_logging_enabled()


def test_config_is_a_dict_with_attributes():
    config = utils.Config(learning_rate=0.1, momentum=0.9)
    config.seed = 123
    config["use_ema"] = True
    assert config.seed == 123 and config["learning_rate"] == 0.1 and "use_ema" in config
    assert list(config) == ["learning_rate", "momentum", "seed", "use_ema"]
    assert json.loads(config.to_json()) == config.as_dict() and len(config) == 4
    with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
        config.momentun
    config.freeze()
    assert config.frozen
    for change in (
        lambda: setattr(config, "x", 1),
        lambda: config.update(a=1),
        lambda: config.pop("seed"),
    ):
        with pytest.raises(ValueError, match="frozen"):
            change()
    config.unfreeze()
    del config["seed"]
    assert config.get("seed", "gone") == "gone"


def test_split_dataset_of_arrays():
    x, y = np.arange(10).reshape(10, 1), np.arange(10) * 10
    left, right = utils.split_dataset((x, y), left_size=0.8)
    lx, ly = next(iter(left.batch(100).as_numpy_iterator()))
    rx, ry = next(iter(right.batch(100).as_numpy_iterator()))
    np.testing.assert_array_equal(lx[:, 0], np.arange(8))
    np.testing.assert_array_equal(ry, [80, 90])
    left, right = utils.split_dataset(np.arange(10), left_size=3, right_size=2)
    assert len(left) == 3 and len(right) == 2
    assert list(right.as_numpy_iterator()) == [8, 9]


def test_split_dataset_shuffles_as_keras_does():
    order = list(range(10))
    random.seed(7)
    random.shuffle(order)  # what Keras does with seed=7
    left, right = utils.split_dataset(np.arange(10), right_size=0.3, shuffle=True, seed=7)
    assert list(left.as_numpy_iterator()) + list(right.as_numpy_iterator()) == order


def test_split_dataset_of_a_dataset_and_bad_sizes():
    dataset = keras.utils.timeseries_dataset_from_array(np.arange(6.0), None, 2, batch_size=None)
    left, right = utils.split_dataset(dataset, left_size=2)
    assert [list(w) for w in right.as_numpy_iterator()] == [[2.0, 3.0], [3.0, 4.0], [4.0, 5.0]]
    with pytest.raises(ValueError, match="at least one"):
        utils.split_dataset(np.arange(4))
    with pytest.raises(ValueError, match="smaller than 4"):
        utils.split_dataset(np.arange(4), left_size=4)
    with pytest.raises(ValueError, match="greater than 1"):
        utils.split_dataset(np.arange(4), left_size=0.6, right_size=0.6)
    with pytest.raises(ValueError, match="empty"):
        utils.split_dataset(np.arange(4), left_size=0.1)
    with pytest.raises(TypeError, match="left_size"):
        utils.split_dataset(np.arange(4), left_size="half")


def test_get_source_inputs():
    a, b = keras.Input((3,)), keras.Input((3,))
    hidden = keras.layers.Dense(3)(a)
    out = keras.layers.Add()([hidden, b, keras.layers.Dense(3)(a)])
    sources = utils.get_source_inputs(out * 2)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert utils.get_source_inputs(a) == [a]
    assert utils.get_source_inputs(5) == 5


def test_names_keras_shows_from_backend_and_saving():
    assert utils.clear_session is keras.backend.clear_session
    assert utils.is_keras_tensor is keras.backend.is_keras_tensor
    assert utils.standardize_dtype is keras.backend.standardize_dtype
    assert utils.serialize_keras_object is keras.saving.serialize_keras_object
    assert utils.deserialize_keras_object is keras.saving.deserialize_keras_object
    assert utils.is_keras_tensor(keras.Input((2,))) and not utils.is_keras_tensor(np.ones(2))


def test_timeseries_windows_are_gathered_as_they_are_read():
    """Keras's weather example has 300,000 steps of 7 features in windows of 120: built up
    front the windows would take 2 GB; read batch by batch, only a batch is made."""
    data = np.zeros((300_000, 7), dtype=np.float64)
    tracemalloc.start()
    dataset = keras.utils.timeseries_dataset_from_array(
        data, data[:, 0], sequence_length=120, batch_size=256
    )
    windows, targets = next(iter(dataset))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert windows.shape == (256, 120, 7) and targets.shape == (256,)
    assert peak < 50 * 2**20
    with pytest.raises(ValueError, match="`sequence_length` must be 1 or greater"):
        keras.utils.timeseries_dataset_from_array(data, None, sequence_length=0)
