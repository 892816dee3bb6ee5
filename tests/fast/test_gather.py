"""A shuffled pass's batches gathered a chunk ahead (chainrule.fast.gather): the same batches as
gathering each one when it is asked for, the chunks gathered on the other thread only where that
thread's core is free, and training that ends with the same weights either way."""

import concurrent.futures
import threading

import numpy as np
import pytest

from chainrule import keras
from chainrule.fast import gather
from chainrule.fast import threads as parallel
from chainrule.keras.models import model as model_module

rng = np.random.default_rng(0)

needs_blas_control = pytest.mark.skipif(
    not parallel.blas_thread_counts(),
    reason="the BLAS library's thread count cannot be set here (threadpoolctl not installed?)",
)


class _TakesRecorded(np.ndarray):
    """An array that records the thread of each ``take`` from it."""

    threads = []

    def take(self, *args, **kwargs):
        _TakesRecorded.threads.append(threading.current_thread())
        return np.asarray(self).take(*args, **kwargs)


class _Fixed:
    """A ThreadChoice whose steps all run with one setting."""

    def __init__(self, many):
        self.many = many

    def step(self):
        return self.many


def _two_threads(monkeypatch, many):
    """using_cores() on two threads, every step on every core (``many``) or on one."""
    monkeypatch.delenv("CHAINRULE_NUM_THREADS", raising=False)
    monkeypatch.setattr(parallel, "thread_count", lambda: 2)
    monkeypatch.setattr(parallel, "ThreadChoice", lambda: _Fixed(many))
    return parallel.using_cores()


def _finished_before_needed(monkeypatch):
    """parallel.ahead whose chunks are gathered before the batches reach them, as where the
    steps take longer than a chunk's gathering (here nothing runs between the batches)."""
    submit = parallel.ahead

    def ahead(function, *args):
        future = submit(function, *args)
        if future is not None:
            concurrent.futures.wait([future])
        return future

    monkeypatch.setattr(parallel, "ahead", ahead)


def _arrays(n):
    x = rng.standard_normal((n, 3, 2)).astype(np.float32).view(_TakesRecorded)
    y = np.arange(n).view(_TakesRecorded)
    return x, y


def _each_batch_gathered(arrays, order, batch_size):
    return [
        tuple(np.asarray(a).take(order[s : s + batch_size], axis=0) for a in arrays)
        for s in range(0, len(order), batch_size)
    ]


def _assert_same_batches(got, expected):
    assert len(got) == len(expected)
    for batch, wanted in zip(got, expected):
        assert len(batch) == len(wanted)
        for a, b in zip(batch, wanted):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


@needs_blas_control
@pytest.mark.parametrize("n", [1, 7, 24, 25, 70])
def test_batches_gathered_ahead_are_each_batch_gathered_and_on_the_other_thread(monkeypatch, n):
    monkeypatch.setattr(gather, "MAX_BATCHES", 3)  # chunks of 3 batches of 4 rows
    _finished_before_needed(monkeypatch)
    arrays, order = _arrays(n), rng.permutation(n)
    _TakesRecorded.threads.clear()
    with _two_threads(monkeypatch, many=False):
        parallel.training_step()  # one core: the BLAS library in this thread, the other free
        got = list(gather.shuffled_batches(arrays, order, 4))
    _assert_same_batches(got, _each_batch_gathered(arrays, order, 4))
    chunks = -(-n // 12)
    others = [t for t in _TakesRecorded.threads if t is not threading.current_thread()]
    # the first chunk's batches here, one by one; every later chunk on the other thread
    assert len(others) == 2 * (chunks - 1)
    assert len(_TakesRecorded.threads) - len(others) == 2 * min(3, -(-n // 4))


@needs_blas_control
def test_while_the_blas_threads_use_every_core_each_batch_is_gathered_here(monkeypatch):
    monkeypatch.setattr(gather, "MAX_BATCHES", 2)
    arrays, order = _arrays(30), rng.permutation(30)
    _TakesRecorded.threads.clear()
    with _two_threads(monkeypatch, many=True):
        parallel.training_step()
        got = list(gather.shuffled_batches(arrays, order, 4))
    _assert_same_batches(got, _each_batch_gathered(arrays, order, 4))
    assert _TakesRecorded.threads == [threading.current_thread()] * 16


def test_outside_a_training_call_each_batch_is_gathered_here():
    arrays, order = _arrays(10), rng.permutation(10)
    _TakesRecorded.threads.clear()
    got = list(gather.shuffled_batches(arrays, order, 3))
    _assert_same_batches(got, _each_batch_gathered(arrays, order, 3))
    assert _TakesRecorded.threads == [threading.current_thread()] * 8


class _NotStarted:
    """A future that the other thread has not started: it can still be cancelled."""

    def cancel(self):
        return True

    def result(self):
        pytest.fail("a chunk whose gathering never started must not be waited for")


def test_a_chunk_the_other_thread_has_not_started_is_gathered_here(monkeypatch):
    monkeypatch.setattr(gather, "MAX_BATCHES", 2)
    monkeypatch.setattr(parallel, "ahead", lambda function, *args: _NotStarted())
    arrays, order = _arrays(19), rng.permutation(19)
    got = list(gather.shuffled_batches(arrays, order, 4))
    _assert_same_batches(got, _each_batch_gathered(arrays, order, 4))


def test_a_chunk_holds_at_most_max_batches_and_chunk_bytes_and_one_batch_at_least(monkeypatch):
    monkeypatch.setattr(gather, "CHUNK_BYTES", 1000)
    rows = [np.zeros((10, 5), np.float32), np.zeros(10, np.int64)]  # 28 bytes a row
    assert gather.batches_per_chunk(rows, 4) == 8  # 1000 // 112
    assert gather.batches_per_chunk(rows, 1) == gather.MAX_BATCHES
    assert gather.batches_per_chunk(rows, 100) == 1
    assert gather.batches_per_chunk([np.zeros((0, 5))], 4) == gather.MAX_BATCHES


def _fitted_weights(**weighting):
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input(shape=(20,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(4, activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(1).standard_normal((300, 20)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[np.arange(300) % 4]
    if weighting.get("sample_weight") == "given":
        weighting["sample_weight"] = np.linspace(0.5, 2.0, 300).astype(np.float32)
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, **weighting)
    return model.get_weights(), history.history


@needs_blas_control
@pytest.mark.parametrize(
    "weighting", [{}, {"sample_weight": "given"}, {"class_weight": {0: 1.0, 1: 3.0, 2: 0.5, 3: 1}}]
)
def test_fit_with_batches_gathered_ahead_ends_with_the_same_weights(monkeypatch, weighting):
    """On one core (the other free to gather), the chunks of 4 batches (32 rows: 10 chunks an
    epoch) are gathered on the other thread; the weights and logs equal those of a fit that
    gathers each batch in its step; with sample or class weights too, gathered with the batch."""
    monkeypatch.setattr(gather, "MAX_BATCHES", 4)
    _finished_before_needed(monkeypatch)
    chunks = []
    submit = parallel.ahead

    def counted(function, *args):
        future = submit(function, *args)
        chunks.append(future is not None)
        return future

    monkeypatch.setattr(parallel, "ahead", counted)
    monkeypatch.setattr(parallel, "thread_count", lambda: 2)
    monkeypatch.setattr(parallel, "ThreadChoice", lambda: _Fixed(False))
    monkeypatch.delenv("CHAINRULE_NUM_THREADS", raising=False)
    ahead, ahead_logs = _fitted_weights(**weighting)
    # every chunk after each epoch's first on the other thread: the choice starts on one core
    # (as after a fit that chose it), so the first is gathered ahead too
    assert len(chunks) == 3 * 9 and all(chunks)
    monkeypatch.setattr(model_module, "batch_gathering", lambda: None)
    chunks.clear()
    each, each_logs = _fitted_weights(**weighting)
    assert not chunks
    assert ahead_logs == each_logs
    for a, b in zip(ahead, each):
        np.testing.assert_array_equal(a, b)
