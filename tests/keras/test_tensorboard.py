"""keras.callbacks.TensorBoard: the event files it writes, read back with TensorBoard's own
reader, hold Keras's tags, steps and the values History saw."""

import builtins
import json
import os

import numpy as np
import pytest

from chainrule.keras import Sequential
from chainrule.keras import layers as L
from chainrule.keras.callbacks import LambdaCallback, TensorBoard
from chainrule.keras.utils import set_random_seed

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read(folder):
    """Everything in the event files of `folder`, by TensorBoard's reader."""
    accumulator = event_accumulator.EventAccumulator(
        str(folder), size_guidance={kind: 0 for kind in event_accumulator.DEFAULT_SIZE_GUIDANCE}
    )
    return accumulator.Reload()


def scalars(accumulator, tag):
    return [(event.step, event.value) for event in accumulator.Scalars(tag)]


def fit(callbacks, epochs=2, validation_split=0.25):
    set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = Sequential(
        [
            L.Dense(3, activation="relu", input_shape=(4,), name="hidden"),
            L.Dense(1, "sigmoid", name="output"),
        ]
    )
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x,
        y,
        batch_size=8,
        epochs=epochs,
        validation_split=validation_split,
        verbose=0,
        callbacks=callbacks,
    )
    return model, history.history


def test_epoch_scalars_equal_history_in_train_and_validation(tmp_path):
    model, history = fit([TensorBoard(tmp_path)])
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train, validation = read(tmp_path / "train"), read(tmp_path / "validation")
    assert set(train.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    assert set(validation.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy"}
    for name in ("loss", "accuracy"):
        for accumulator, key in ((train, name), (validation, f"val_{name}")):
            steps, values = zip(*scalars(accumulator, f"epoch_{name}"))
            assert steps == (0, 1)
            np.testing.assert_allclose(values, history[key], rtol=1e-6)
    assert scalars(train, "epoch_learning_rate") == [
        (0, pytest.approx(0.01)),
        (1, pytest.approx(0.01)),
    ]
    assert not any(tag.startswith("batch_") for tag in train.Tags()["scalars"])


@pytest.mark.parametrize("update_freq, steps", [("batch", [1, 2, 3, 4, 5, 6, 7, 8]), (3, [3, 6])])
def test_batch_scalars_every_update_freq_batches(tmp_path, update_freq, steps):
    seen = []  # the logs of each batch, 4 an epoch (32 samples in batches of 8), 2 epochs
    record = LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(dict(logs)))
    fit([TensorBoard(tmp_path, update_freq=update_freq), record], validation_split=0.0)
    assert len(seen) == 8
    train = read(tmp_path / "train")
    for name in ("loss", "accuracy"):
        got = scalars(train, f"batch_{name}")
        assert [step for step, _ in got] == steps
        np.testing.assert_allclose(
            [value for _, value in got], [seen[step - 1][name] for step in steps], rtol=1e-6
        )
    assert not (tmp_path / "validation").exists()


def test_weight_histograms_every_histogram_freq_epochs(tmp_path):
    model, _ = fit([TensorBoard(tmp_path, histogram_freq=2)], epochs=3)
    train = read(tmp_path / "train")
    tags = {f"{w.path}/histogram" for w in model.weights}
    assert (
        set(train.Tags()["histograms"])
        == tags
        == {
            f"{model.name}/hidden/kernel/histogram",  # built inside the Sequential's name scope
            f"{model.name}/hidden/bias/histogram",
            f"{model.name}/output/kernel/histogram",
            f"{model.name}/output/bias/histogram",
        }
    )
    events = train.Histograms(f"{model.name}/hidden/kernel/histogram")
    assert [event.step for event in events] == [0, 2]
    last = events[-1].histogram_value
    kernel = model.layers[0].kernel.data
    assert last.num == kernel.size and sum(last.bucket) == kernel.size
    assert last.min == pytest.approx(kernel.min()) and last.max == pytest.approx(kernel.max())
    assert last.sum == pytest.approx(float(kernel.sum()), rel=1e-5)


def test_the_model_config_is_written_for_the_graphs_tab(tmp_path):
    model, _ = fit([TensorBoard(tmp_path)], epochs=1)
    train = read(tmp_path / "train")
    assert train.Tags()["tensors"] == ["keras"]
    assert train.SummaryMetadata("keras").plugin_data.plugin_name == "graph_keras_model"
    (event,) = train.Tensors("keras")
    config = json.loads(event.tensor_proto.string_val[0])
    assert config == json.loads(model.to_json())
    fit([TensorBoard(tmp_path / "none", write_graph=False)], epochs=1)
    assert read(tmp_path / "none" / "train").Tags()["tensors"] == []


def test_steps_per_second(tmp_path):
    fit([TensorBoard(tmp_path, write_steps_per_second=True, update_freq=2)], epochs=1)
    train = read(tmp_path / "train")
    assert {"epoch_steps_per_second", "batch_steps_per_second"} <= set(train.Tags()["scalars"])
    assert all(value > 0 for _, value in scalars(train, "epoch_steps_per_second"))


def test_keras_defaults_and_argument_checks(tmp_path):
    callback = TensorBoard()
    assert (callback.log_dir, callback.histogram_freq, callback.update_freq) == ("logs", 0, "epoch")
    assert callback.write_graph and not callback.write_images and callback.profile_batch == 0
    assert TensorBoard(update_freq="batch").update_freq == 1
    for wrong in ({"update_freq": "step"}, {"update_freq": 0}, {"histogram_freq": -1}):
        with pytest.raises(ValueError, match="TensorBoard"):
            TensorBoard(tmp_path, **wrong)
    with pytest.raises(ValueError, match="profil"):
        TensorBoard(tmp_path, profile_batch=2)
    with pytest.warns(UserWarning, match="write_images"):
        TensorBoard(tmp_path, write_images=True)


def test_without_tensorboard_the_message_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name == "tensorboard" or name.startswith("tensorboard."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[tensorboard\]"'):
        TensorBoard("logs")
