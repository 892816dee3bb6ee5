"""The batch cut over threads (chainrule.fast.threads): the parts, the BLAS setting, and ops that
give the same results cut as whole."""

import threading

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras, ops
from chainrule.fast import choice, kernels, runtime, tiled
from chainrule.fast import threads as parallel
from chainrule.fast.process import flush_denormals

rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _parts_of_any_size(monkeypatch):
    """These tests cut small arrays: parts of one row upward are allowed."""
    monkeypatch.setattr(parallel, "MIN_ROWS", 1)


needs_blas_control = pytest.mark.skipif(
    not parallel.blas_thread_counts(),
    reason="the BLAS library's thread count cannot be set here (threadpoolctl not installed?)",
)


def test_outside_using_cores_everything_runs_whole_in_this_thread():
    calls = []
    results = parallel.over_parts(lambda rows: calls.append(rows) or 7, 10, work=1 << 30)
    assert calls == [slice(0, 10)] and results == [7] and parallel.parts() == 1


@needs_blas_control
def test_parts_cover_the_batch_in_order_one_per_thread(monkeypatch):
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "3")
    seen = []

    def part(rows):
        seen.append((rows, threading.current_thread() is threading.main_thread()))
        return rows.stop - rows.start

    with parallel.using_cores():
        assert parallel.parts() == 3
        assert parallel.over_parts(part, 10, work=parallel.MIN_WORK) == [3, 3, 4]
        # small work, or fewer rows than threads: one call in this thread
        assert parallel.over_parts(part, 10, work=parallel.MIN_WORK - 1) == [10]
        assert parallel.over_parts(part, 2, work=1 << 30) == [2]
    assert sorted(rows.start for rows, _ in seen[:3]) == [0, 3, 6]
    assert (slice(0, 3), True) in seen  # the first part runs in the calling thread
    assert sum(not main for _, main in seen) == 2
    assert parallel.parts() == 1


@needs_blas_control
def test_blas_runs_one_thread_once_the_work_is_cut_and_its_own_count_after(monkeypatch):
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "2")
    get = parallel.blas_thread_counts
    before = get()
    a = rng.standard_normal((600, 300))
    with parallel.using_cores():
        assert get() == before  # nothing cut yet: a dense network keeps the BLAS threads
        assert parallel.matmul(a, a.T).shape == (600, 600) and get() == before
        parallel.over_parts(lambda rows: None, 4, work=1 << 30)
        assert set(get()) == {1}
        with parallel.using_cores():  # nested (evaluate inside fit): no change
            assert set(get()) == {1} and parallel.parts() == 2
        assert set(get()) == {1}
    assert get() == before


@needs_blas_control
def test_parts_smaller_than_min_rows_are_not_worth_a_thread(monkeypatch):
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "2")
    monkeypatch.setattr(parallel, "MIN_ROWS", 32)
    with parallel.using_cores():
        assert parallel.over_parts(lambda rows: rows, 63, work=1 << 30) == [slice(0, 63)]
        assert parallel.over_parts(lambda rows: rows, 64, work=1 << 30) == [
            slice(0, 32),
            slice(32, 64),
        ]


def test_one_thread_changes_nothing(monkeypatch):
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "1")
    with parallel.using_cores():
        assert parallel.parts() == 1


@pytest.mark.parametrize("value", ["many", "0", "-2", "1.5"])
def test_a_bad_thread_count_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", value)
    with pytest.raises(ValueError, match="CHAINRULE_NUM_THREADS must be a positive integer"):
        parallel.thread_count()


@pytest.mark.parametrize(
    "variable, ranks, bound, expected",
    [
        ("MPI_LOCALNRANKS", "2", False, 4),  # MPICH: 2 processes share the 8 cores
        ("OMPI_COMM_WORLD_LOCAL_SIZE", "3", False, 2),  # Open MPI
        ("MPI_LOCALNRANKS", "16", False, 1),
        ("MPI_LOCALNRANKS", "2", True, 4),  # bound by the launcher to 4 cores: kept
        (None, None, False, 8),
    ],
)
def test_processes_of_an_mpi_job_share_the_machines_cores(
    monkeypatch, variable, ranks, bound, expected
):
    for name in ("CHAINRULE_NUM_THREADS", "MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE"):
        monkeypatch.delenv(name, raising=False)
    if variable:
        monkeypatch.setenv(variable, ranks)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: set(range(4 if bound else 8)))
    assert parallel.thread_count() == expected


def test_an_error_in_another_thread_reaches_the_caller(monkeypatch):
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "2")

    def part(rows):
        if rows.start:
            raise RuntimeError("part two failed")

    with parallel.using_cores():
        if parallel.parts() == 2:
            with pytest.raises(RuntimeError, match="part two failed"):
                parallel.over_parts(part, 4, work=1 << 30)


@needs_blas_control
def test_the_other_threads_flush_subnormals_like_the_caller(monkeypatch):
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "2")
    tiny = np.full(4, 1e-39, dtype=np.float32)  # subnormal in float32

    def part(rows):
        return float((tiny[rows] * np.float32(1.0)).sum())

    with parallel.using_cores():
        assert parallel.over_parts(part, 4, work=1 << 30)[1] > 0  # no flushing asked for
        with flush_denormals():
            assert parallel.over_parts(part, 4, work=1 << 30) == [0.0, 0.0]


def _cut_and_whole(function, *arrays):
    """function(*arrays) outside and inside using_cores (two threads, which have replaced the
    BLAS library's)."""
    whole = function(*arrays)
    with parallel.using_cores():
        parallel.over_parts(lambda rows: None, 2, work=1 << 30)
        cut = function(*arrays)
    return whole, cut


CONV = {"strides": 1, "padding": "valid", "dilation_rate": 1, "groups": 1}


@needs_blas_control
@pytest.mark.parametrize(
    "channels, groups, tiles", [(3, 1, (2, 2)), (4, 2, (2, 2)), (1, 1, (2, 2))]
)
@pytest.mark.parametrize("chunks", ["as set", "of two images"])
def test_convolutions_and_poolings_cut_over_threads_give_the_primitives_results(
    monkeypatch, channels, groups, tiles, chunks
):
    """The kernels of chainrule.fast cut over two threads give what the primitives of
    chainrule.ops give whole: bit for bit, but for sums over the batch (rounding only); also
    with the convolutions' products made two images at a time, so that each thread's part of
    three images ends in a chunk of one."""
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "2")
    monkeypatch.setattr(parallel, "MIN_WORK", 1)
    if chunks == "of two images":  # 36 pixels per image in the pooling's layout, 49 without
        monkeypatch.setattr(kernels, "PRODUCT_CHUNK", 1)
        monkeypatch.setattr(kernels, "PRODUCT_ROWS", 72)
    x = rng.standard_normal((6, 9, 9, channels)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, channels // groups, 4)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    conv = {**CONV, "groups": groups}
    y = ops.conv2d.forward(x, kernel, bias, **conv)
    g = rng.standard_normal(y.shape).astype(np.float32)
    pooled = ops.max_pool2d.forward(y)
    gp = rng.standard_normal(pooled.shape).astype(np.float32)
    cases = [
        (lambda: ops.conv2d(x, kernel, bias, **conv), 0),
        # a BLAS product over fewer rows may round its last bit differently
        (lambda: ops.conv2d_backprop_input(g, kernel, input_shape=x.shape, **conv), 1e-6),
        (lambda: ops.conv2d_backprop_kernel(x, g, kernel_shape=kernel.shape, **conv), 1e-5),
        (lambda: ops.max_pool2d(y), 0),
        (lambda: ops.max_pool2d_backprop(y, pooled, gp), 0),
    ]
    t = tiled.conv2d_tiled(x, kernel, bias, tiles=tiles, **conv)
    tiled_pooled = tiled.tile_max(t)
    wrt = ("x", "kernel", "bias")
    cases += [
        (lambda: tiled.conv2d_tiled(x, kernel, bias, tiles=tiles, **conv), 0),
        (lambda: tiled.tile_max(t, relu=True), 0),
    ] + [
        (  # the input gradient exactly; the sums up to rounding
            lambda i=i: tiled.tiled_conv_gradients(
                gp, tiled_pooled, t, x, kernel, wrt=wrt, tiles=tiles, **conv
            )[i],
            1e-5 if i else 0,
        )
        for i in range(3)
    ]
    for function, tolerance in cases:
        whole = function()
        with parallel.using_cores(), kernels.installed():
            parallel.over_parts(lambda rows: None, 2, work=1 << 30)  # the threads take the BLAS's
            cut = function()
        np.testing.assert_allclose(cut, whole, rtol=tolerance, atol=tolerance)


RECURRENCES = {  # name: (gates, states, bias shape, params)
    "simple_rnn_sequence": (1, 1, lambda n: (n,), {}),
    "lstm_sequence": (4, 2, lambda n: (4 * n,), {}),
    "gru_sequence": (3, 1, lambda n: (2, 3 * n), {}),
    "gru_reset_before": (3, 1, lambda n: (3 * n,), {"reset_after": False}),
}


@pytest.mark.parametrize("name", sorted(RECURRENCES))
@pytest.mark.parametrize("masked", [False, True])
def test_recurrences_cut_over_threads_give_the_primitives_results(monkeypatch, name, masked):
    """A recurrence's kernel runs each thread's sequences through the steps: the same states
    and, for every input, the same gradients (the weights' up to rounding)."""
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "2")
    monkeypatch.setattr(parallel, "MIN_WORK", 1)
    gates, states, bias_shape, params = RECURRENCES[name]
    params = {"go_backwards": True, **params}
    batch, steps, features, units = 6, 5, 3, 4
    shapes = [(batch, steps, features), (features, gates * units), (units, gates * units)]
    shapes += [bias_shape(units)] + [(batch, units)] * states
    inputs = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    inputs.append(rng.uniform(size=(batch, steps)) > 0.3 if masked else None)
    recurrence = getattr(ops.recurrent, name.replace("_reset_before", "_sequence"))
    y = recurrence.forward(*inputs, **params)
    g = rng.standard_normal(y.shape).astype(np.float32)
    count = len(shapes)
    whole = [y] + [recurrence.vjp(i, g, y, inputs, params) for i in range(count)]
    with parallel.using_cores(), kernels.installed():
        parallel.over_parts(lambda rows: None, 2, work=1 << 30)  # the threads take the BLAS's
        y_cut = recurrence.kernel(*inputs, **params)
        cut = [y_cut] + [recurrence.vjp(i, g.copy(), y_cut, inputs, params) for i in range(count)]
    for mine, theirs in zip(cut, whole):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-5)


@needs_blas_control
@pytest.mark.parametrize("shape", [(300, 40, 20), (40, 30, 500), (5, 7, 3)])
def test_products_cut_by_rows_or_columns_equal_the_whole(monkeypatch, shape):
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "2")
    monkeypatch.setattr(parallel, "MIN_WORK", 1)
    n, k, m = shape
    a, b = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    cuts, over_parts = [], parallel.over_parts

    def spy(function, n, work=None):
        cuts.append(n)
        return over_parts(function, n, work)

    monkeypatch.setattr(parallel, "over_parts", spy)
    whole, cut = _cut_and_whole(parallel.matmul, a, b)
    assert cuts[-1] == (n if n >= m else m)  # cut by rows, or by columns
    np.testing.assert_allclose(cut, whole, rtol=1e-12, atol=1e-12)
    whole, cut = _cut_and_whole(parallel.matmul, a.T.copy().T, b[:, ::-1])  # strided operands
    np.testing.assert_allclose(cut, whole, rtol=1e-12, atol=1e-12)


@needs_blas_control
@pytest.mark.parametrize(
    "subscripts, shape_a, shape_b, parts_cut",
    [
        ("aecd,abcd->acbe", (4, 5, 3, 2), (4, 6, 3, 2), [4]),  # attention's scores: key, query
        ("acbe,aecd->abcd", (4, 3, 6, 5), (4, 5, 3, 2), [4]),  # its weighted sum of the values
        ("abcd,cde->abe", (4, 3, 2, 5), (2, 5, 6), []),  # no batch letter: one product, uncut
    ],
)
def test_einsums_cut_over_threads_give_the_primitives_results(
    monkeypatch, subscripts, shape_a, shape_b, parts_cut
):
    """The einsum kernel multiplies its stack of matrices a part of the stack per thread:
    every matrix product whole, so the result is the primitive's, bit for bit."""
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "2")
    monkeypatch.setattr(parallel, "MIN_WORK", 1)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    cuts, over_parts = [], parallel.over_parts

    def spy(function, n, work=None):
        cuts.append(n)
        return over_parts(function, n, work)

    monkeypatch.setattr(parallel, "over_parts", spy)
    expected = ops.linalg.einsum.forward(a, b, subscripts=subscripts)
    with parallel.using_cores(), kernels.installed():
        parallel.over_parts(lambda rows: None, 2, work=1 << 30)  # the threads take over
        cuts.clear()
        cut = kernels.FORWARDS["einsum"](a, b, subscripts=subscripts)
    assert cuts == parts_cut  # the stack of 4 matrices (the first batch axis) cut in two
    np.testing.assert_array_equal(cut, expected)


def _trained_weights(seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(12, 12, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(400, activation="relu"),  # a kernel of several blocks
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile("adam", "categorical_crossentropy")
    x = rng.standard_normal((96, 12, 12, 1)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 96)]
    model.fit(x, y, batch_size=48, epochs=2, verbose=0)
    return model.get_weights()


@needs_blas_control
def test_training_on_two_threads_is_reproducible(monkeypatch):
    """The parts are fixed by the batch and the thread count, never by timing: the same seed
    gives the same weights, bit for bit, with the work cut everywhere it can be."""
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "2")
    monkeypatch.setattr(parallel, "MIN_WORK", 1)
    state = rng.bit_generator.state
    first = _trained_weights(3)
    rng.bit_generator.state = state
    second = _trained_weights(3)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@needs_blas_control
def test_a_part_that_would_cut_its_rows_again_runs_them_whole(monkeypatch):
    """Each part runs in its own thread; were a part to hand work to the pool again, it could
    wait for itself (and the cores are taken already). It runs that work whole instead."""
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "2")

    def inner(rows):
        return parallel.over_parts(lambda r: (r.start, r.stop), rows.stop - rows.start, 1 << 30)

    with parallel.using_cores():
        assert parallel.over_parts(inner, 8, work=1 << 30) == [[(0, 4)], [(0, 4)]]
        assert parallel.over_parts(lambda r: r, 4, work=1 << 30) == [slice(0, 2), slice(2, 4)]


@needs_blas_control
def test_only_the_thread_that_took_the_cores_cuts_its_work(monkeypatch):
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "2")
    seen = []

    def other_thread():
        seen.append(parallel.over_parts(lambda rows: rows, 4, work=1 << 30))

    with parallel.using_cores():
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert parallel.over_parts(lambda rows: rows, 4, work=1 << 30) == [slice(0, 2), slice(2, 4)]
    assert seen == [[slice(0, 4)]]


def test_without_threadpoolctl_everything_runs_whole(monkeypatch):
    monkeypatch.setattr(parallel._BlasThreads, "_pools", None)
    monkeypatch.setitem(__import__("sys").modules, "threadpoolctl", None)  # import fails
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "2")
    with parallel.using_cores():
        assert parallel.parts() == 1
        assert parallel.over_parts(lambda rows: rows, 64, work=1 << 30) == [slice(0, 64)]
        parallel.training_step()  # nothing to choose


class _Fixed:
    """A ThreadChoice whose steps run with the settings given, in turn (every core before the
    first step)."""

    many = True

    def __init__(self, *settings):
        self.settings = list(settings)

    def step(self):
        return self.settings.pop(0)


def _cores(monkeypatch, *settings):
    """using_cores() on two threads, with the thread count left to the steps' choice."""
    monkeypatch.delenv("CHAINRULE_NUM_THREADS", raising=False)
    monkeypatch.setattr(parallel, "thread_count", lambda: 2)
    monkeypatch.setattr(parallel, "ThreadChoice", lambda: _Fixed(*settings))
    return parallel.using_cores()


@needs_blas_control
def test_a_step_on_one_core_runs_the_same_parts_in_this_thread_and_blas_on_one(monkeypatch):
    before = parallel.blas_thread_counts()
    seen = []

    def part(rows):
        seen.append((rows, threading.current_thread() is threading.main_thread()))
        return rows

    with _cores(monkeypatch, True, False, True):
        parallel.training_step()  # every core: a dense network keeps the BLAS library's threads
        assert parallel.blas_thread_counts() == before
        parallel.training_step()  # one core
        assert set(parallel.blas_thread_counts()) == {1}
        assert parallel.over_parts(part, 8, work=1 << 30) == [slice(0, 4), slice(4, 8)]
        assert seen == [(slice(0, 4), True), (slice(4, 8), True)]
        parallel.training_step()  # every core again, with the work cut now
        seen.clear()
        assert parallel.over_parts(part, 8, work=1 << 30) == [slice(0, 4), slice(4, 8)]
        assert sorted(main for _, main in seen) == [False, True]
        assert set(parallel.blas_thread_counts()) == {1}  # the threads have replaced BLAS's
    assert parallel.blas_thread_counts() == before


@needs_blas_control
def test_the_user_fixing_the_thread_count_leaves_nothing_to_choose(monkeypatch):
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "2")
    monkeypatch.setattr(parallel, "ThreadChoice", lambda: pytest.fail("no choice to make"))
    with parallel.using_cores():
        parallel.training_step()
        assert parallel.over_parts(lambda rows: rows, 4, work=1 << 30) == [
            slice(0, 2),
            slice(2, 4),
        ]


@needs_blas_control
def test_a_convnet_trains_to_the_same_weights_on_one_core_or_every_core(monkeypatch):
    """The choice changes only where the parts run, never the parts: bit for bit the same."""
    monkeypatch.setattr(parallel, "MIN_WORK", 1)
    state = rng.bit_generator.state
    with monkeypatch.context() as patch:
        patch.setattr(parallel, "thread_count", lambda: 2)
        patch.setattr(parallel, "ThreadChoice", lambda: _Fixed(*[True] * 100))
        every_core = _trained_weights(5)
        rng.bit_generator.state = state
        patch.setattr(parallel, "ThreadChoice", lambda: _Fixed(*[True, False] * 50))
        alternating = _trained_weights(5)
    for a, b in zip(every_core, alternating):
        np.testing.assert_array_equal(a, b)


def _loop(monkeypatch, *settings):
    """A training loop written by hand on two cores, whose steps' choice gives ``settings``."""
    monkeypatch.delenv("CHAINRULE_NUM_THREADS", raising=False)
    monkeypatch.setattr(parallel, "thread_count", lambda: 2)
    fixed = _Fixed(*settings)
    # fit's own choice (made without options) keeps every core
    choices = {True: fixed, False: _Fixed(*[True] * 100)}
    monkeypatch.setattr(parallel, "ThreadChoice", lambda **options: choices[bool(options)])
    monkeypatch.setattr(parallel, "_loop", None)
    return fixed


def _hand_step(model, x, y):
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_weights)
    model.optimizer.apply(grads, model.trainable_weights)


@needs_blas_control
def test_a_loop_written_by_hand_runs_its_products_on_the_cores_its_steps_choose(monkeypatch):
    """Each tape opened outside fit starts a step; the BLAS library then runs on every core or
    one, as the choice says, and keeps that setting after the step (a loop's evaluation runs
    outside any tape)."""
    own = parallel.blas_thread_counts()
    fixed = _loop(monkeypatch, True, False, False, True)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    _hand_step(model, x, y)
    assert parallel.blas_thread_counts() == own
    _hand_step(model, x, y)
    assert set(parallel.blas_thread_counts()) == {1}
    with tf.GradientTape() as outer:  # one step, though its tapes nest
        with tf.GradientTape():
            model(x)
        assert set(parallel.blas_thread_counts()) == {1}
    del outer
    assert fixed.settings == [True]
    model.fit(x, y, epochs=1, verbose=0)  # fit chooses for itself, from the library's own count
    assert parallel.blas_thread_counts() == own and fixed.settings == [True]
    _hand_step(model, x, y)
    assert parallel.blas_thread_counts() == own and fixed.settings == []


@needs_blas_control
def test_a_custom_train_step_in_fit_leaves_the_choice_to_fit(monkeypatch):
    fixed = _loop(monkeypatch, False)

    class Custom(keras.Model):
        def train_step(self, data):
            _hand_step(self, *data)
            return {}

    inputs = keras.Input((3,))
    model = Custom(inputs, keras.layers.Dense(2)(inputs))
    model.compile("sgd", "mse")
    model.fit(rng.standard_normal((8, 3)), rng.standard_normal((8, 2)), epochs=2, verbose=0)
    assert fixed.settings == [False]  # never asked


@needs_blas_control
@pytest.mark.parametrize("switch", ["CHAINRULE_NUM_THREADS", "CHAINRULE_FAST"])
def test_a_loop_written_by_hand_keeps_the_blas_threads_with_the_choice_switched_off(
    monkeypatch, switch
):
    own = parallel.blas_thread_counts()
    fixed = _loop(monkeypatch, False, False)
    if switch == "CHAINRULE_NUM_THREADS":
        monkeypatch.setenv(switch, "2")
    else:
        monkeypatch.setattr(runtime, "_enabled", False)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    _hand_step(model, rng.standard_normal((4, 3)), rng.standard_normal((4, 2)))
    assert parallel.blas_thread_counts() == own and fixed.settings == [False, False]


@needs_blas_control
def test_evaluate_after_a_fit_that_chose_one_core_runs_on_one(monkeypatch):
    monkeypatch.delenv("CHAINRULE_NUM_THREADS", raising=False)
    monkeypatch.setattr(parallel, "thread_count", lambda: 2)
    own = parallel.blas_thread_counts()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    seen = []

    class Threads(keras.callbacks.Callback):
        def on_test_batch_begin(self, batch, logs=None):
            seen.append(parallel.blas_thread_counts())

    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    model.evaluate(x, y, batch_size=4, callbacks=[Threads()], verbose=0)
    assert seen == [own, own]  # no choice made yet: the library's own threads
    monkeypatch.setattr(choice, "_latest", False)  # as a fit on a busy machine leaves it
    seen.clear()
    model.evaluate(x, y, batch_size=4, callbacks=[Threads()], verbose=0)
    assert seen == [[1] * len(own)] * 2 and parallel.blas_thread_counts() == own


@needs_blas_control
def test_a_loop_of_train_on_batch_calls_chooses_as_a_loop_of_tapes_does(monkeypatch):
    own = parallel.blas_thread_counts()
    fixed = _loop(monkeypatch, False, True, False)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    model.train_on_batch(x, y)
    assert set(parallel.blas_thread_counts()) == {1}
    model.test_on_batch(x, y)
    assert parallel.blas_thread_counts() == own
    model.predict_on_batch(x)
    assert set(parallel.blas_thread_counts()) == {1} and fixed.settings == []
