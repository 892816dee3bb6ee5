"""What fit, evaluate and predict accept besides arrays, and fit's remaining options, with the
semantics Keras 3 has (checked against Keras 3.15 where noted): class_weight, sample_weight
with validation_split, steps_per_epoch, validation_freq, weighted_metrics, and Datasets,
PyDatasets and generators, which train exactly as the equivalent arrays do."""

import math
import warnings

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import optimizers
from chainrule.keras.callbacks import Callback
from chainrule.keras.layers import Dense
from chainrule.keras.models import Sequential
from chainrule.keras.models.data import as_input_array
from chainrule.keras.utils import PyDataset
from chainrule.tf.data import Dataset


def blobs(n=120, seed=0):
    """Three Gaussian blobs in 4-D, integer labels 0..2."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.standard_normal((n, 4)).astype(np.float32) + 2.0 * np.eye(3, 4, dtype=np.float32)[y]
    return x, y


def model(seed=0, metrics=("accuracy",), weighted_metrics=None):
    keras.utils.set_random_seed(seed)
    m = Sequential([Dense(8, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")])
    m.compile(
        optimizers.SGD(0.1),
        "sparse_categorical_crossentropy",
        metrics=list(metrics),
        weighted_metrics=weighted_metrics,
    )
    return m


def weights_of(m):
    return [w.numpy() for w in m.weights]


def assert_same_weights(a, b):
    for wa, wb in zip(weights_of(a), weights_of(b), strict=True):
        np.testing.assert_array_equal(wa, wb)


class Steps(Callback):
    """Records the batches of each epoch and the logs each epoch ends with."""

    def __init__(self):
        super().__init__()
        self.steps, self.logs = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.steps.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.steps[-1] += 1

    def on_epoch_end(self, epoch, logs=None):
        self.logs.append(dict(logs))


class Batches(PyDataset):
    """x, y in batches of ``size``, in order; counts its on_epoch_end calls."""

    def __init__(self, x, y, size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.size = x, y, size
        self.epochs_ended = 0
        self.visited = []

    def __len__(self):
        return math.ceil(len(self.x) / self.size)

    def __getitem__(self, index):
        self.visited.append(index)
        rows = slice(index * self.size, (index + 1) * self.size)
        return self.x[rows], self.y[rows]

    def on_epoch_end(self):
        self.epochs_ended += 1


# ----- class_weight, sample_weight -------------------------------------------------------------


def test_class_weight_trains_exactly_as_the_equivalent_sample_weight():
    x, y = blobs()
    class_weight = {0: 1.0, 1: 4.0, 2: 0.5}
    by_class = model()
    history_a = by_class.fit(x, y, class_weight=class_weight, epochs=2, verbose=0).history
    by_sample = model()
    sample_weight = np.array([class_weight[c] for c in y], dtype=np.float32)
    history_b = by_sample.fit(x, y, sample_weight=sample_weight, epochs=2, verbose=0).history
    assert_same_weights(by_class, by_sample)
    assert history_a == history_b
    # One-hot labels: the class of a row is its argmax; unlisted classes weigh 1.
    one_hot = keras.utils.to_categorical(y, 3)
    keras.utils.set_random_seed(0)
    a = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    a.compile(optimizers.SGD(0.1), "categorical_crossentropy")
    a.fit(x, one_hot, class_weight={1: 3.0}, epochs=1, verbose=0)
    keras.utils.set_random_seed(0)
    b = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    b.compile(optimizers.SGD(0.1), "categorical_crossentropy")
    b.fit(x, one_hot, sample_weight=np.where(y == 1, 3.0, 1.0), epochs=1, verbose=0)
    assert_same_weights(a, b)


def test_class_weight_errors_follow_keras():
    x, y = blobs(30)
    m = model()
    with pytest.raises(ValueError, match="class_weight and sample_weight at the same time"):
        m.fit(x, y, class_weight={0: 2.0}, sample_weight=np.ones(30), verbose=0)
    with pytest.raises(ValueError, match="class_weight must be a dict"):
        m.fit(x, y, class_weight=[1.0, 2.0, 3.0], verbose=0)
    with pytest.raises(ValueError, match="integer class indices.*'cat'"):
        m.fit(x, y, class_weight={"cat": 2.0}, verbose=0)
    generator = ((x[i : i + 10], y[i : i + 10]) for i in range(0, 30, 10))
    with pytest.raises(ValueError, match="class_weight is not supported for a generator"):
        m.fit(generator, class_weight={0: 2.0}, verbose=0)


def test_sample_weight_is_split_with_validation_split():
    x, y = blobs(40)
    w = np.linspace(0.1, 2.0, 40).astype(np.float32)
    m = model()
    history = m.fit(
        x, y, sample_weight=w, validation_split=0.25, epochs=1, shuffle=False, verbose=0
    ).history
    expected = m.evaluate(x[30:], y[30:], sample_weight=w[30:], verbose=0, return_dict=True)
    assert history["val_loss"] == [pytest.approx(expected["loss"])]
    unweighted = m.evaluate(x[30:], y[30:], verbose=0, return_dict=True)["loss"]
    assert unweighted != pytest.approx(expected["loss"])


def test_weighted_metrics_see_sample_weight_and_metrics_do_not(tmp_path):
    x, y = blobs(60)
    w = np.where(y == 0, 5.0, 1.0).astype(np.float32)
    m = model(metrics=["accuracy"], weighted_metrics=["accuracy"])
    m.fit(x, y, epochs=1, verbose=0)
    logs = m.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    correct = (m.predict(x, verbose=0).argmax(axis=1) == y).astype(np.float64)
    assert logs["accuracy"] == pytest.approx(correct.mean())
    assert logs["weighted_accuracy"] == pytest.approx((correct * w).sum() / w.sum())
    assert m.metrics_names == ["loss", "compile_metrics"]  # Keras 3.15's names
    m.save(tmp_path / "weighted.keras")
    loaded = keras.models.load_model(tmp_path / "weighted.keras")
    assert loaded.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True) == logs


# ----- steps_per_epoch and validation_freq ----------------------------------------------------


def test_steps_per_epoch_with_arrays_carries_the_pass_over_as_keras_does():
    x, y = blobs(100)
    recorder = Steps()
    m = model()
    with pytest.warns(UserWarning, match="ran out of data"):
        m.fit(x, y, batch_size=10, epochs=5, steps_per_epoch=3, verbose=0, callbacks=[recorder])
    # Keras 3.15 gives [3, 3, 3, 1, 3]: 10 batches per pass, the 4th epoch ends with the pass.
    assert recorder.steps == [3, 3, 3, 1, 3]
    recorder = Steps()
    m.fit(x, y, epochs=2, steps_per_epoch=3, verbose=0, callbacks=[recorder])
    assert recorder.steps == [3, 3]  # without batch_size: ceil(100 / 3) = 34 samples per batch


def test_steps_per_epoch_takes_consecutive_batches_of_a_repeated_dataset():
    x, y = blobs(60)
    ds = Dataset.from_tensor_slices((x, y)).batch(10).repeat()
    recorder = Steps()
    m = model()
    m.fit(ds, epochs=4, steps_per_epoch=4, verbose=0, callbacks=[recorder])
    assert recorder.steps == [4, 4, 4, 4]
    # 16 steps over a pass of 6 batches that carries on: the same as 16 batches in a row.
    reference = model()
    stream = iter(Dataset.from_tensor_slices((x, y)).batch(10).repeat().take(16))
    for xb, yb in stream:
        reference.train_on_batch(xb.numpy(), yb.numpy())
    assert_same_weights(m, reference)


@pytest.mark.parametrize("validation_freq, expected", [(2, [2, 4, 6]), ([1, 4, 5], [1, 4, 5])])
def test_validation_freq_validates_on_the_right_epochs(validation_freq, expected):
    x, y = blobs(40)
    recorder = Steps()
    history = (
        model()
        .fit(
            x,
            y,
            epochs=6,
            validation_data=(x, y),
            verbose=0,
            validation_freq=validation_freq,
            callbacks=[recorder],
        )
        .history
    )
    validated = [epoch + 1 for epoch, logs in enumerate(recorder.logs) if "val_loss" in logs]
    assert validated == expected
    assert len(history["loss"]) == 6 and len(history["val_loss"]) == len(expected)


def test_bad_validation_freq_and_steps():
    x, y = blobs(20)
    m = model()
    with pytest.raises(ValueError, match="Expected validation_freq to be a list or int.*0.5"):
        m.fit(x, y, validation_data=(x, y), validation_freq=0.5, verbose=0)
    with pytest.raises(ValueError, match="validation_freq must be at least 1; got 0"):
        m.fit(x, y, validation_data=(x, y), validation_freq=0, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch must be a positive integer"):
        m.fit(x, y, steps_per_epoch=0, verbose=0)


def test_validation_steps_and_validation_batch_size():
    x, y = blobs(40)
    m = model()
    batches = []
    test_step = m.test_step

    def recording_test_step(data):
        xb = keras.utils.unpack_x_y_sample_weight(data)[0]
        batches.append((len(xb), float(xb[0, 0])))
        return test_step(data)

    m.test_step = recording_test_step
    m.fit(x, y, epochs=2, validation_data=(x, y), validation_batch_size=16, verbose=0)
    assert [size for size, _ in batches] == [16, 16, 8] * 2
    batches.clear()
    m.fit(x, y, batch_size=10, epochs=2, validation_data=(x, y), validation_steps=2, verbose=0)
    # each validation starts a fresh pass, as Keras does: rows 0 and 10 open its two batches
    assert batches == [(10, x[0, 0]), (10, x[10, 0])] * 2


# ----- Datasets, PyDatasets and generators ------------------------------------------------------


def test_dataset_pydataset_generator_and_arrays_train_identically():
    x, y = blobs(100)
    reference = model()
    reference_history = reference.fit(
        x, y, batch_size=16, epochs=2, shuffle=False, verbose=0
    ).history

    def check(source, **kwargs):
        m = model()
        history = m.fit(source, verbose=0, **kwargs).history
        assert_same_weights(m, reference)
        assert history == reference_history

    check(Dataset.from_tensor_slices((x, y)).batch(16), epochs=2)
    check(Batches(x, y, 16), epochs=2, shuffle=False)
    generator = ((x[i : i + 16], y[i : i + 16]) for _ in range(2) for i in range(0, 100, 16))
    check(generator, epochs=2, steps_per_epoch=7)


def test_a_shuffled_dataset_draws_the_same_order_as_fit_on_arrays():
    x, y = blobs(100)
    on_arrays = model(seed=5)
    on_arrays.fit(x, y, batch_size=20, epochs=3, verbose=0)
    on_dataset = model(seed=5)
    on_dataset.fit(Dataset.from_tensor_slices((x, y)).shuffle(100).batch(20), epochs=3, verbose=0)
    assert_same_weights(on_arrays, on_dataset)


def test_sample_weights_in_batches_and_class_weight_on_a_dataset():
    x, y = blobs(60)
    w = np.where(y == 2, 3.0, 1.0).astype(np.float32)
    on_arrays = model()
    on_arrays.fit(x, y, sample_weight=w, batch_size=20, shuffle=False, epochs=1, verbose=0)
    with_weights = model()
    with_weights.fit(Dataset.from_tensor_slices((x, y, w)).batch(20), epochs=1, verbose=0)
    assert_same_weights(on_arrays, with_weights)
    by_class = model()
    by_class.fit(
        Dataset.from_tensor_slices((x, y)).batch(20), class_weight={2: 3.0}, epochs=1, verbose=0
    )
    assert_same_weights(on_arrays, by_class)


def test_evaluate_predict_and_validation_accept_a_dataset():
    x, y = blobs(50)
    m = model()
    m.fit(x, y, epochs=1, verbose=0)
    ds = Dataset.from_tensor_slices((x, y)).batch(8)
    assert m.evaluate(ds, verbose=0) == pytest.approx(m.evaluate(x, y, batch_size=8, verbose=0))
    np.testing.assert_array_equal(m.predict(ds, verbose=0), m.predict(x, verbose=0))
    np.testing.assert_array_equal(
        m.predict(Dataset.from_tensor_slices(x).batch(8), verbose=0), m.predict(x, verbose=0)
    )
    assert m.evaluate(ds, steps=2, verbose=0, return_dict=True) == pytest.approx(
        m.evaluate(x[:16], y[:16], verbose=0, return_dict=True)
    )
    history_ds = model().fit(x, y, epochs=2, validation_data=ds, verbose=0).history
    history_arrays = (
        model()
        .fit(x, y, epochs=2, validation_data=(x, y), validation_batch_size=8, verbose=0)
        .history
    )
    assert history_ds == history_arrays


def test_pydataset_shuffle_visits_every_batch_once_per_epoch_in_a_new_order():
    x, y = blobs(100)
    batches = Batches(x, y, 10)
    model().fit(batches, epochs=3, verbose=0)  # shuffle=True: the batch order is shuffled
    orders = [batches.visited[i : i + 10] for i in range(0, 30, 10)]
    assert all(sorted(order) == list(range(10)) for order in orders)
    assert orders[0] != orders[1] and batches.epochs_ended == 3


def test_a_generator_epoch_ends_with_the_generator():
    x, y = blobs(60)
    recorder = Steps()
    generator = ((x[i : i + 10], y[i : i + 10]) for i in range(0, 60, 10))
    with pytest.warns(UserWarning, match=r"ran out of data.*\.repeat\(\)"):
        history = model().fit(generator, epochs=3, verbose=0, callbacks=[recorder]).history
    assert recorder.steps == [6, 0] and len(history["loss"]) == 1
    with pytest.raises(ValueError, match="no data to evaluate on"):
        model().evaluate(iter([]), verbose=0)


def test_arguments_that_belong_inside_a_source_of_batches_are_rejected():
    x, y = blobs(20)
    ds = Dataset.from_tensor_slices((x, y)).batch(5)
    m = model()
    with pytest.raises(
        ValueError,
        match=r"batch_size argument must not be specified when x is a "
        r"Dataset.*dataset.batch\(8\)",
    ):
        m.fit(ds, batch_size=8, verbose=0)
    with pytest.raises(ValueError, match="When x is a PyDataset, y must not be passed to fit"):
        m.fit(Batches(x, y, 5), y, verbose=0)
    with pytest.raises(ValueError, match="validation_split is only supported for arrays"):
        m.fit(ds, validation_split=0.2, verbose=0)
    with pytest.raises(
        ValueError, match="fit\\(\\) needs targets, but a batch from the Dataset holds only x"
    ):
        m.fit(Dataset.from_tensor_slices(x).batch(5), verbose=0)
    with pytest.raises(ValueError, match="validation_data must be a tuple .* got a list of 1"):
        m.fit(x, y, validation_data=[x], verbose=0)
    with pytest.raises(ValueError, match="fit\\(\\) needs targets: pass y"):
        m.fit(x, verbose=0)
    with pytest.raises(ValueError, match=r"needs samples along axis 0 of x; .* shape \(0, 4\)"):
        m.fit(np.zeros((0, 4)), np.zeros(0), verbose=0)


def test_an_iterable_of_batches_of_unknown_length(capsys):
    x, y = blobs(30)

    class Stream:  # re-iterable, with no __len__: each epoch runs until it ends
        def __iter__(self):
            for i in range(0, 30, 10):
                yield x[i : i + 10], y[i : i + 10]

    m = model()  # input_shape= warns at construction, as in Keras; fit itself must not
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.fit(Stream(), epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[1].startswith("3/3 - ")
    assert lines[2] == "Epoch 2/2" and lines[3].startswith("3/3 - ")


def test_the_finite_check_finds_nan_and_inf_and_passes_sums_that_overflow():
    big = np.full((3, 2), 3e38, dtype=np.float32)  # finite, though their sum overflows
    np.testing.assert_array_equal(as_input_array(big), big)
    for bad in (np.nan, np.inf, -np.inf):
        x = big.copy()
        x[2, 1] = bad
        with pytest.raises(ValueError, match=r"the first at index \(2, 1\)"):
            as_input_array(x)


def test_strided_views_train_as_their_copies_and_a_batch_copies_only_its_rows():
    """keras-io's siamese network trains on the columns of an array of pairs, pairs[:, 0] and
    pairs[:, 1]: views with a stride, which NumPy's take copies whole before picking rows (a
    whole copy per batch: 390 s an epoch where TensorFlow took 33)."""
    import tracemalloc

    from chainrule.backend import take_rows

    rng = np.random.default_rng(0)
    pairs = rng.standard_normal((4000, 2, 64)).astype(np.float32)
    first = pairs[:, 0]
    assert not first.flags.c_contiguous
    rows = rng.permutation(4000)[:32]
    tracemalloc.start()
    picked = take_rows(first, rows)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    np.testing.assert_array_equal(picked, np.ascontiguousarray(first)[rows])
    assert peak < 64 * 1024  # the 8 KB of the rows; the whole column is 1 MB

    y = rng.standard_normal((4000, 1)).astype(np.float32)

    def fitted(x1, x2):
        keras.utils.set_random_seed(1)
        a, b = keras.Input((64,)), keras.Input((64,))
        out = Dense(1)(keras.layers.Concatenate()([Dense(4)(a), Dense(4)(b)]))
        net = keras.Model([a, b], out)
        net.compile(optimizers.SGD(0.01), "mse")
        net.fit([x1, x2], y, batch_size=64, epochs=2, verbose=0)
        return net.get_weights()

    for got, want in zip(
        fitted(pairs[:, 0], pairs[:, 1]),
        fitted(np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])),
    ):
        np.testing.assert_array_equal(got, want)
