"""Callbacks observed through real (tiny) training runs: EarlyStopping stops at the right epoch
and restores the best weights, ReduceLROnPlateau, LearningRateScheduler, TerminateOnNaN,
CSVLogger and LambdaCallback, and the warnings and errors a user sees."""

import csv
import re
import types
import warnings

import numpy as np
import pytest

from chainrule.keras import callbacks, optimizers
from chainrule.keras.layers import Dense
from chainrule.keras.models import Sequential

rng = np.random.default_rng(0)
X = rng.standard_normal((16, 3)).astype(np.float32)
Y = (X @ np.array([[1.0], [-2.0], [0.5]])).astype(np.float32)


def tiny_model(lr=0.01):
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizers.SGD(lr), "mse", metrics=["mae"])
    return model


def scripted(key, values):
    """A callback that writes values[epoch] into the epoch logs under ``key`` (it must come
    before the callback under test), and records the weights at each epoch's end."""
    recorder = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: (
            logs.__setitem__(key, values[epoch]),
            recorder.weights.append(recorder.model.get_weights()),
        )
    )
    recorder.weights = []
    return recorder


def fit(model, cbs, epochs=10, **kwargs):
    return model.fit(X, Y, batch_size=8, epochs=epochs, verbose=0, callbacks=cbs, **kwargs)


# ----- EarlyStopping -----------------------------------------------------------------------------


def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    model = tiny_model()
    scores = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 1.0, 0.5, 0.1, 0.0]  # best at epoch 2, then none
    script = scripted("score", scores)
    stopper = callbacks.EarlyStopping(
        monitor="score", patience=3, mode="min", restore_best_weights=True
    )
    history = fit(model, [script, stopper])
    assert len(history.history["loss"]) == 6  # epochs 0-5: three without improvement after 2
    assert stopper.stopped_epoch == 5 and stopper.best_epoch == 2 and stopper.best == 3.0
    for now, best in zip(model.get_weights(), script.weights[2]):
        np.testing.assert_array_equal(now, best)
    assert not np.allclose(script.weights[5][0], script.weights[2][0])


def test_early_stopping_min_delta_max_mode_and_baseline():
    model = tiny_model()
    # in "max" mode with min_delta 0.1, +0.05 steps are not improvements
    stopper = callbacks.EarlyStopping(monitor="score", mode="max", min_delta=0.1, patience=1)
    history = fit(model, [scripted("score", [1.0, 1.05, 1.1, 2.0, 3.0]), stopper], epochs=5)
    assert len(history.history["loss"]) == 2
    # an improvement that does not beat the baseline does not reset the wait, so a plateau
    # above the baseline stops one epoch sooner than without it
    flat = [3.0] * 5
    stopper = callbacks.EarlyStopping(monitor="score", mode="min", baseline=0.5, patience=2)
    assert len(fit(model, [scripted("score", flat), stopper], epochs=5).history["loss"]) == 2
    stopper = callbacks.EarlyStopping(monitor="score", mode="min", patience=2)
    assert len(fit(model, [scripted("score", flat), stopper], epochs=5).history["loss"]) == 3


def test_early_stopping_waits_for_start_from_epoch():
    model = tiny_model()
    stopper = callbacks.EarlyStopping(monitor="score", mode="min", patience=0, start_from_epoch=3)
    history = fit(model, [scripted("score", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), stopper], epochs=6)
    assert len(history.history["loss"]) == 5  # first seen at epoch 3, no improvement at 4


def test_early_stopping_on_real_validation_loss_with_auto_mode():
    model = tiny_model(lr=0.05)
    stopper = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    history = fit(model, [stopper], epochs=200, validation_data=(X, Y))
    val = history.history["val_loss"]
    assert len(val) < 200 and stopper.stopped_epoch == len(val) - 1
    assert min(val) == val[stopper.best_epoch]
    assert model.evaluate(X, Y, verbose=0)[0] == pytest.approx(min(val), rel=1e-5)


def test_early_stopping_auto_mode_maximizes_accuracy():
    x = rng.standard_normal((32, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    model = Sequential([Dense(1, activation="sigmoid")])
    model.compile(optimizers.SGD(0.0), "binary_crossentropy", metrics=["accuracy"])
    stopper = callbacks.EarlyStopping(monitor="accuracy", patience=1)
    model.fit(x, y, epochs=5, verbose=0, callbacks=[stopper])
    assert stopper._sign == 1 and stopper.stopped_epoch == 1  # constant accuracy: no gain


def test_early_stopping_warns_once_for_a_missing_monitor():
    model = tiny_model()
    stopper = callbacks.EarlyStopping(monitor="val_los", patience=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(model, [stopper], epochs=4)
    messages = [str(w.message) for w in caught if "val_los" in str(w.message)]
    assert len(messages) == 1
    assert "Early stopping conditioned on metric `val_los` which is not available" in messages[0]
    assert "Available metrics are: loss,mae" in messages[0]
    assert len(history.history["loss"]) == 4  # training goes on


def test_early_stopping_cannot_guess_the_direction_of_an_unknown_metric():
    model = tiny_model()
    with pytest.raises(ValueError, match="Pass mode='max'"):
        fit(
            model,
            [scripted("score", [1.0] * 3), callbacks.EarlyStopping(monitor="score")],
            epochs=3,
        )
    with pytest.warns(UserWarning, match="mode 'sideways' is unknown, fallback to auto"):
        callbacks.EarlyStopping(mode="sideways")


# ----- learning-rate callbacks --------------------------------------------------------------------


def test_reduce_lr_on_plateau_with_patience_cooldown_and_min_lr():
    model = tiny_model(lr=0.1)
    seen = []
    reducer = callbacks.ReduceLROnPlateau(
        monitor="score", factor=0.5, patience=2, cooldown=2, min_lr=0.02
    )
    spy = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(logs["learning_rate"]))
    fit(model, [scripted("score", [1.0] * 9), reducer, spy], epochs=9)
    # epoch 0 sets the best; waits 1, 2: halve; cooldown 2 epochs (the second also counts
    # a wait, as in Keras); wait 2: halve; ... (the logs show the rate each epoch used)
    assert seen == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.02)  # floored at min_lr
    with pytest.raises(ValueError, match="does not support a factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=2.0)


def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    model = tiny_model(lr=0.1)
    rates = []
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)
    spy = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: rates.append(logs["learning_rate"]))
    history = fit(model, [scheduler, spy], epochs=4)
    assert rates == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    assert history.history["learning_rate"] == pytest.approx(rates)
    one_argument = callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))
    fit(model, [one_argument], epochs=3)
    assert model.optimizer.learning_rate == pytest.approx(0.03)
    with pytest.raises(ValueError, match="should be a float. Got: 'fast'"):
        fit(model, [callbacks.LearningRateScheduler(lambda epoch, lr: "fast")], epochs=1)


# ----- TerminateOnNaN, CSVLogger, LambdaCallback --------------------------------------------------


def test_terminate_on_nan_stops_at_the_first_bad_batch(capsys):
    model = tiny_model(lr=1e6)  # diverges to inf, then NaN
    batches = []
    spy = callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            history = fit(model, [callbacks.TerminateOnNaN(), spy], epochs=50)
    assert len(history.history["loss"]) < 50
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch"):
            fit(tiny_model(lr=1e6), [callbacks.TerminateOnNaN(raise_error=True)], epochs=50)


def test_csv_logger_writes_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    model = tiny_model()
    history = fit(model, [callbacks.CSVLogger(path)], epochs=2)
    fit(model, [callbacks.CSVLogger(path, append=True)], epochs=3)
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "loss", "mae"]
    assert [r["epoch"] for r in rows] == ["0", "1", "0", "1", "2"]  # one header only
    assert float(rows[1]["loss"]) == pytest.approx(history.history["loss"][1])
    fit(model, [callbacks.CSVLogger(path, separator=";")], epochs=1)
    assert open(path).read().splitlines()[0] == "epoch;loss;mae"  # overwritten


def test_lambda_callback_calls_the_given_functions_in_order():
    calls = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append("begin"),
        on_epoch_end=lambda epoch, logs: calls.append(f"epoch {epoch}: {sorted(logs)}"),
        on_train_end=lambda logs: calls.append("end"),
    )
    fit(tiny_model(), [cb], epochs=2)
    assert calls == ["begin", "epoch 0: ['loss', 'mae']", "epoch 1: ['loss', 'mae']", "end"]
    with pytest.raises(TypeError, match="'on_epoch_finish' is not a callback hook"):
        callbacks.LambdaCallback(on_epoch_finish=print)


def test_progress_bar_shows_the_batch_where_training_stopped(capsys):
    """A stop mid-epoch (Ctrl-C, TerminateOnNaN) leaves the bar at the last batch trained, not
    at the epoch's full count."""
    x = np.zeros((80, 3), np.float32)
    y = np.zeros((80, 1), np.float32)
    stopper = callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: setattr(stopper.model, "stop_training", batch == 2)
    )
    tiny_model().fit(x, y, batch_size=8, epochs=1, verbose=1, callbacks=[stopper])
    out = capsys.readouterr().out
    assert out.startswith(" 3/10 ━") and "10/10" not in out


def test_predict_shows_keras_progress_unless_silent(capsys):
    """predict's verbose as Keras's: "auto" and 1 a bar of the batches, 2 one line, 0 nothing."""
    model, x = tiny_model(), np.zeros((80, 3), np.float32)
    model.predict(x, batch_size=8)
    assert capsys.readouterr().out.startswith("10/10 ━")
    model.predict(x, batch_size=8, verbose=2)
    assert re.fullmatch(r"10/10 - \d+s - \d+[mu]?s/step\n", capsys.readouterr().out)
    model.predict(x, batch_size=8, verbose=0)
    assert capsys.readouterr().out == ""


def test_the_callbacks_package_exposes_its_classes_not_other_modules():
    public = {name: getattr(callbacks, name) for name in dir(callbacks) if not name.startswith("_")}
    foreign = [
        name
        for name, value in public.items()
        if isinstance(value, types.ModuleType) and not value.__name__.startswith(callbacks.__name__)
    ]
    assert not foreign  # no os, json or np beside the classes
    assert set(callbacks.__all__) <= set(public)
    assert {"Callback", "EarlyStopping", "ModelCheckpoint", "TensorBoard"} <= set(callbacks.__all__)
