"""``fit``'s direct step: on the usual batch, once the step is known, the replayed plan, the
optimizer's update, the loss tracker and the compiled metrics are called directly. It must train
exactly as the full training step does, and stand aside wherever the step does more."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.fast import runtime
from chainrule.fast.train_step import DirectStep
from chainrule.keras.layers import Dense
from chainrule.keras.models import Model, Sequential

rng = np.random.default_rng(0)
x = rng.random((32 * 6 + 5, 20), dtype=np.float32)  # a last batch of 5
y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, len(x))]


@pytest.fixture(autouse=True)
def fast_path_on(monkeypatch):
    monkeypatch.setattr(runtime, "_enabled", True)  # what is tested is the fast path's own


@pytest.fixture
def direct_steps(monkeypatch):
    """The number of batches the direct step trained on, so far."""
    counted, step = [0], DirectStep.step

    def counting(self, run, batch):
        counted[0] += 1
        return step(self, run, batch)

    monkeypatch.setattr(DirectStep, "step", counting)
    return counted


class TargetSum(keras.metrics.Metric):
    """The sum of y_true, from the Tensor the training step hands a metric."""

    def __init__(self, name="target_sum"):
        super().__init__(name=name)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        assert isinstance(y_true, cr.Tensor)
        self.total.assign_add(keras.ops.sum(y_true))

    def result(self):
        return self.total


def _train(optimizer="sgd", weighted_metrics=("mae",), class_weight=None, **dense_options):
    keras.utils.set_random_seed(0)
    model = Sequential(
        [
            Dense(10, activation="relu", input_shape=(20,), **dense_options),
            Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=optimizer,
        loss="categorical_crossentropy",
        metrics=["accuracy", TargetSum()],
        weighted_metrics=list(weighted_metrics),
    )
    logged = []  # each batch's logs, as a callback reads them
    batches = keras.callbacks.LambdaCallback(on_train_batch_end=lambda _, logs: logged.append(logs))
    history = model.fit(
        x, y, batch_size=32, epochs=3, verbose=0, callbacks=[batches], class_weight=class_weight
    )
    return model, history.history, logged


def test_the_direct_step_trains_as_the_full_step(monkeypatch, direct_steps):
    direct, direct_history, direct_logs = _train(keras.optimizers.Adam(0.01))
    # the full step: each epoch's first batch (after which the direct step's parts are found),
    # the first epoch's second (which checks the plan) and the last batch, of 5 samples, in the
    # first two epochs (its shape traced, then checked)
    assert direct_steps[0] == 3 * 7 - 3 - 1 - 2
    steps = direct_steps[0]
    monkeypatch.setattr(Model, "_direct_step", lambda self: None)
    full, full_history, full_logs = _train(keras.optimizers.Adam(0.01))
    assert direct_steps[0] == steps  # none more
    assert direct_history == full_history and direct_logs == full_logs
    assert set(direct_logs[-1]) == {"loss", "accuracy", "target_sum", "mae"}
    for a, b in zip(direct.get_weights(), full.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(direct.optimizer.variables, full.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


CLASS_WEIGHT = {c: 0.5 + c / 10 for c in range(10)}


def test_the_direct_step_trains_on_class_weighted_batches_as_the_full_step(
    monkeypatch, direct_steps
):
    """Sample weights (here from class_weight) go into the replayed loss; the compiled metrics
    ignore them, as Keras's do, so the direct step takes such batches too."""
    direct, direct_history, direct_logs = _train(
        keras.optimizers.Adam(0.01), weighted_metrics=(), class_weight=CLASS_WEIGHT
    )
    assert direct_steps[0] == 3 * 7 - 3 - 1 - 2  # as for batches without weights
    monkeypatch.setattr(Model, "_direct_step", lambda self: None)
    full, full_history, full_logs = _train(
        keras.optimizers.Adam(0.01), weighted_metrics=(), class_weight=CLASS_WEIGHT
    )
    assert direct_history == full_history and direct_logs == full_logs
    for a, b in zip(direct.get_weights(), full.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_weighted_metric_keeps_weighted_batches_in_the_full_step(direct_steps):
    model, history, _ = _train("sgd", weighted_metrics=("mae",), class_weight=CLASS_WEIGHT)
    assert direct_steps[0] == 0
    assert np.isfinite(history["mae"]).all()


@pytest.mark.parametrize(
    "optimizer, dense_options",
    [
        (keras.optimizers.SGD(use_ema=True), {}),
        (keras.optimizers.SGD(gradient_accumulation_steps=2), {}),
        (keras.optimizers.SGD(loss_scale_factor=4.0), {}),
        (keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD()), {}),
        ("sgd", {"kernel_constraint": keras.constraints.MaxNorm(1.0)}),
    ],
    ids=["ema", "accumulation", "loss scale", "LossScaleOptimizer", "constraint"],
)
def test_the_full_step_trains_where_the_optimizer_does_more_than_update(
    direct_steps, optimizer, dense_options
):
    model, history, _ = _train(optimizer, **dense_options)
    assert direct_steps[0] == 0
    assert np.isfinite(history["loss"]).all()


def test_the_full_step_trains_a_model_with_a_loss_per_output(direct_steps):
    inputs = keras.Input(shape=(20,))
    hidden = Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, [Dense(10, name="a")(hidden), Dense(10, name="b")(hidden)])
    model.compile("sgd", ["mse", "mse"])
    history = model.fit(x, [y, y], batch_size=32, epochs=2, verbose=0)
    assert direct_steps[0] == 0
    assert {"loss", "a_loss", "b_loss"} <= set(history.history)
