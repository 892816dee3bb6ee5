"""What ``fit`` does around the replayed training step, counted in Python function calls.

The replayed plan makes a small model's step cost a few dozen microseconds of NumPy; the Keras
contract around it (Tensors for the batch, the optimizer, the loss tracker, compile_metrics, the
logs, the callbacks) is Python, and work added there (walking the layers for the metrics list,
packing structures, converting logs on every step) doubled the article's time per epoch once
without changing a result. Wall time is too noisy to guard that on a shared machine; the number
of Python calls per step is exact.
"""

import sys

import numpy as np

from chainrule import keras
from chainrule.fast import runtime
from chainrule.keras.layers import Dense
from chainrule.keras.models import Sequential

# The article's model (Dense relu, Dense softmax, SGD, categorical cross-entropy, accuracy)
# makes 58 Python calls per replayed step (70 without Numba, which computes the softmax, its
# cross-entropy and their gradient in one call), about 30 of them the plan's kernels; 87 before
# fit called the step's parts directly (fast.train_step.DirectStep); 190 before the metrics list
# was read once per epoch, the logs read only when used, and the batches, the metric updates and
# the packing of the outputs made cheaper.
CALLS_PER_STEP = 75


def calls_during(function):
    """The number of Python function calls (and generator resumptions) ``function()`` makes."""
    count = 0

    def profiler(frame, event, arg):
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profiler)
    try:
        function()
    finally:
        sys.setprofile(None)
    return count


def test_a_replayed_fit_step_makes_a_bounded_number_of_python_calls(monkeypatch):
    # A fixed thread count: the per-step choice between one core and all of them would switch
    # the BLAS library's threads during its trials, calls that depend on the clock.
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "1")
    # what is counted is the replayed step, which CHAINRULE_FAST=0 (a CI run) switches off
    monkeypatch.setattr(runtime, "_enabled", True)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((32 * 40, 20), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, len(x))]
    model = Sequential(
        [Dense(10, activation="relu", input_shape=(20,)), Dense(10, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # traces, checks and keeps the plan

    def fit(samples):
        return calls_during(
            lambda: model.fit(x[:samples], y[:samples], batch_size=32, epochs=1, verbose=0)
        )

    few, many = fit(32 * 8), fit(32 * 40)
    per_step = (many - few) / 32  # what fit costs once (setting up, the epoch's end) cancels
    assert per_step <= CALLS_PER_STEP, (
        f"fit's replayed step made {per_step:.1f} Python calls per batch; at most "
        f"{CALLS_PER_STEP} expected. Profile a step (benchmarks/profile_fit.py) to see what was "
        f"added around the plan."
    )


class BatchLogs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs = []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(logs)


def test_logs_read_after_the_step_are_those_the_step_would_have_returned():
    # fit updates the metrics on each step and leaves their results to whatever reads the logs;
    # a model whose get_metrics_result is its own (so read on every step) must log the same.
    class ReadEveryStep(Sequential):
        def get_metrics_result(self):
            return super().get_metrics_result()

    rng = np.random.default_rng(1)
    x = rng.random((32 * 6 + 5, 20), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, len(x))]
    runs = []
    for kind in (Sequential, ReadEveryStep):
        keras.utils.set_random_seed(0)
        model = kind([Dense(10, activation="relu", input_shape=(20,)), Dense(10, "softmax")])
        model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
        batches = BatchLogs()
        history = model.fit(x, y, batch_size=32, epochs=3, verbose=0, callbacks=[batches])
        runs.append((batches.logs, history.history, model.evaluate(x, y, verbose=0)))
    assert runs[0] == runs[1]
    assert len(runs[0][0]) == 3 * 7 and set(runs[0][0][-1]) == {"accuracy", "loss"}
