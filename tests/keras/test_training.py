"""The Keras training API: compile/fit/evaluate/predict semantics, SGD, metrics, callbacks,
reproducibility and the errors a user sees."""

import re
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras import metrics, optimizers
from chainrule.keras.callbacks import Callback
from chainrule.keras.layers import Dense, Input
from chainrule.keras.models import Sequential


def blobs(n=200, seed=0):
    """Two well separated Gaussian blobs in 4-D, labels 0/1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.standard_normal((n, 4)).astype(np.float32) + 3.0 * (2 * y[:, None] - 1)
    return x, y


def article_model(inputs=784, hidden=10):
    return Sequential(
        [Dense(hidden, activation="relu", input_shape=(inputs,)), Dense(10, activation="softmax")]
    )


# ----- optimizers ------------------------------------------------------------------------------


def _one_step(optimizer, w0, g, steps=1):
    w = cr.Variable(np.array(w0, dtype=np.float64))
    for _ in range(steps):
        optimizer.apply([np.array(g, dtype=np.float64)], [w])
    return w.numpy()


def test_sgd_step_is_w_minus_learning_rate_times_gradient():
    np.testing.assert_allclose(
        _one_step(optimizers.SGD(), [1.0, -2.0], [0.5, 0.25]),
        [1.0 - 0.01 * 0.5, -2.0 - 0.01 * 0.25],
    )
    assert optimizers.SGD().learning_rate == 0.01


def test_sgd_momentum_and_nesterov_follow_keras_formulas():
    lr, mu, g, w = 0.1, 0.9, 2.0, 1.0
    # momentum: v1 = -lr g; w1 = w + v1; v2 = mu v1 - lr g; w2 = w1 + v2
    v1 = -lr * g
    v2 = mu * v1 - lr * g
    assert _one_step(optimizers.SGD(lr, momentum=mu), [w], [g], 2)[0] == pytest.approx(w + v1 + v2)
    # nesterov: w <- w + mu v_new - lr g
    nesterov = (w + mu * v1 - lr * g) + mu * v2 - lr * g
    assert _one_step(optimizers.SGD(lr, momentum=mu, nesterov=True), [w], [g], 2)[0] == (
        pytest.approx(nesterov)
    )


def test_adam_first_step_moves_each_weight_by_the_learning_rate():
    # t = 1: m = 0.1 g, v = 0.001 g^2, alpha = lr sqrt(0.001)/0.1 -> step = lr g/|g| (ε aside)
    w = _one_step(optimizers.Adam(0.01), [1.0, 1.0], [3.0, -0.5])
    np.testing.assert_allclose(w, [1.0 - 0.01, 1.0 + 0.01], rtol=1e-6)


def test_optimizer_identifiers_and_bad_values():
    assert isinstance(optimizers.get("sgd"), optimizers.SGD)
    assert isinstance(optimizers.get("Adam"), optimizers.Adam)
    with pytest.raises(
        ValueError, match="Unknown optimizer: 'sdg'. Known optimizers: .*adam, .*sgd"
    ):
        optimizers.get("sdg")
    with pytest.raises(ValueError, match="non-negative"):
        optimizers.SGD(learning_rate=-0.1)


# ----- building, summary, weights -------------------------------------------------------------


def test_article_model_summary_and_parameter_count(capsys):
    keras.backend.clear_session()
    model = article_model()
    assert model.count_params() == 7960
    model.summary()
    out = capsys.readouterr().out
    assert 'Model: "sequential"' in out
    assert "dense (Dense)" in out and "dense_1 (Dense)" in out
    assert "(None, 10)" in out and "7,850" in out and "110" in out
    assert "Total params: 7,960 (31.09 KB)" in out
    assert "Non-trainable params: 0 (0.00 B)" in out


def test_default_initialisation_is_glorot_uniform_and_zero_bias():
    model = article_model()
    kernel, bias, _, _ = model.get_weights()
    limit = np.sqrt(6 / (784 + 10))
    assert kernel.shape == (784, 10) and bias.shape == (10,)
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    assert kernel.std() == pytest.approx(limit / np.sqrt(3), rel=0.05)
    assert not bias.any()


def test_input_layer_add_and_lazy_build():
    model = Sequential()
    model.add(Input(shape=(3,)))
    model.add(Dense(2))
    assert model.built and model.count_params() == 8
    lazy = Sequential([Dense(2), Dense(1)])
    assert not lazy.built
    lazy(np.ones((5, 7), np.float32))
    assert lazy.layers[0].kernel.shape == (7, 2)
    assert [layer.name for layer in lazy.layers] == [
        lazy.get_layer(index=0).name,
        lazy.get_layer(index=1).name,
    ]


def test_get_and_set_weights_round_trip():
    a, b = article_model(), article_model()
    b.set_weights(a.get_weights())
    x = np.random.default_rng(1).random((5, 784)).astype(np.float32)
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))
    with pytest.raises(ValueError, match="expects 2 weights"):
        a.layers[0].set_weights([np.zeros((784, 10))])
    with pytest.raises(ValueError, match=r"shape \(784, 10\).*\(10, 784\)"):
        a.layers[0].set_weights([np.zeros((10, 784)), np.zeros(10)])


# ----- training semantics ----------------------------------------------------------------------


def test_fit_converges_on_a_separable_problem():
    keras.utils.set_random_seed(0)  # the weights' first draw, whatever ran before
    x, y = blobs()
    model = Sequential([Dense(8, activation="tanh"), Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.SGD(0.1), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y.astype(np.float32), epochs=20, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    assert history.history["loss"][-1] < 0.1 < history.history["loss"][0]
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy == 1.0 and loss < 0.1


def test_history_keys_validation_split_takes_the_last_fraction():
    x, y = blobs(100)
    seen = []

    class Recorder(Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)

    model = Sequential([Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["acc"])
    history = model.fit(
        x, y, epochs=2, batch_size=16, validation_split=0.2, verbose=0, callbacks=[Recorder()]
    )
    assert list(history.history) == ["acc", "loss", "val_acc", "val_loss"]
    assert seen == list(range(5)) * 2  # 80 training samples / 16
    val = model.evaluate(x[80:], y[80:], verbose=0, return_dict=True)
    assert history.history["val_loss"][-1] == pytest.approx(val["loss"])
    assert history.history["val_acc"][-1] == pytest.approx(val["acc"])


def test_epoch_metrics_are_means_weighted_by_batch_size():
    x, y = blobs(10)
    x = x * 0.1  # moderate probabilities, so float32 rounding stays far below the tolerance
    model = Sequential([Dense(2, activation="softmax")])
    model.compile(optimizers.SGD(0.0), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)  # 4 + 4 + 2
    probabilities = model.predict(x, verbose=0)
    losses = -np.log(np.clip(probabilities[np.arange(10), y], 1e-7, 1))
    assert history.history["loss"][0] == pytest.approx(losses.mean(), rel=1e-5)
    assert history.history["accuracy"][0] == pytest.approx(np.mean(probabilities.argmax(1) == y))


def test_accuracy_resolves_like_keras():
    binary = metrics.get("accuracy", np.zeros((4, 1)), np.zeros((4, 1)))
    sparse = metrics.get("accuracy", np.zeros(4), np.zeros((4, 3)))
    sparse_column = metrics.get("acc", np.zeros((4, 1)), np.zeros((4, 3)))
    categorical = metrics.get("accuracy", np.zeros((4, 3)), np.zeros((4, 3)))
    assert isinstance(binary, metrics.BinaryAccuracy)
    assert isinstance(sparse, metrics.SparseCategoricalAccuracy)
    assert isinstance(sparse_column, metrics.SparseCategoricalAccuracy)
    assert isinstance(categorical, metrics.CategoricalAccuracy)
    assert sparse_column.name == "acc"
    m = metrics.CategoricalAccuracy()
    m.update_state(np.eye(3)[[0, 1]], np.array([[0.9, 0.1, 0], [0.8, 0.1, 0.1]]))
    m.update_state(np.eye(3)[[2]], np.array([[0, 0, 1.0]]))
    assert m.result() == pytest.approx(2 / 3)
    m.reset_state()
    assert m.result() == 0.0


def test_callback_hooks_run_in_keras_order():
    calls = []
    hooks = [
        "on_train_begin",
        "on_epoch_begin",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_epoch_end",
        "on_train_end",
        "on_test_begin",
        "on_test_end",
    ]
    Recorder = type(
        "Recorder",
        (Callback,),
        {
            hook: (lambda name: lambda self, *args, **kwargs: calls.append(name))(hook)
            for hook in hooks
        },
    )
    x, y = blobs(8)
    model = Sequential([Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[Recorder()])
    assert calls == [
        "on_train_begin",
        "on_epoch_begin",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_epoch_end",
        "on_train_end",
    ]

    class Legacy(Callback):  # the on_batch_* aliases still see every training batch
        def on_batch_end(self, batch, logs=None):
            calls.append(("batch", batch, sorted(logs)))

    calls.clear()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[Legacy()])
    assert calls == [("batch", 0, ["loss"]), ("batch", 1, ["loss"])]


def test_predict_train_and_test_on_batch():
    x, y = blobs(40)
    model = Sequential([Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model.predict(x, batch_size=7, verbose=0).shape == (40, 3)
    loss, accuracy = model.train_on_batch(x[:8], y[:8])
    assert np.isfinite(loss) and 0 <= accuracy <= 1
    logs = model.test_on_batch(x[:8], y[:8], return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert model.predict_on_batch(x[:2]).shape == (2, 3)


def test_train_on_batch_reports_that_batch_alone():
    # as Keras 3: train_on_batch resets the metrics first, so its logs are the batch's own loss
    # and metrics, computed before the update; numbers from Keras 3.15.1 (JAX) and by hand
    model = Sequential([Input((3,)), Dense(1, kernel_initializer="ones")])
    model.compile(optimizers.SGD(0.01), "mse", metrics=["mae"])
    x = np.ones((8, 3), np.float32)
    assert model.train_on_batch(x, np.zeros((8, 1))) == pytest.approx([9.0, 3.0])
    # the step moved each weight by 0.01 · 2 · 3 = 0.06: predictions 3 · 0.94 - 0.06 = 2.76
    logs = model.train_on_batch(x, np.full((8, 1), 10.0), return_dict=True)
    assert logs == pytest.approx({"loss": 7.24**2, "mae": 7.24}, rel=1e-6)
    model.fit(x, np.zeros((8, 1)), verbose=0)  # fit's epoch means do not leak into the next
    # two more steps: predictions 3.3392, then 3.072064
    assert model.train_on_batch(x, np.full((8, 1), 10.0)) == pytest.approx(
        [6.927936**2, 6.927936], rel=1e-5
    )


def test_history_params_are_keras_s():
    # Keras 3.15.1: History.params == {"verbose": 0, "epochs": 2, "steps": 2}, in that order
    model = Sequential([Input((3,)), Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(np.zeros((8, 3)), np.zeros((8, 1)), batch_size=4, epochs=2, verbose=0)
    assert list(history.params.items()) == [("verbose", 0), ("epochs", 2), ("steps", 2)]


def test_fit_broadcasts_targets_against_a_narrower_output_as_keras():
    # Keras 3.15.1 (JAX) trains a Dense(1) on targets (8, 10) with mean_squared_error: each
    # prediction is compared with its sample's 10 targets; its losses and weights after 3 epochs
    x = np.linspace(-1, 1, 32, dtype=np.float32).reshape(8, 4)
    y = np.linspace(0, 2, 80, dtype=np.float32).reshape(8, 10)
    model = Sequential([Input((4,)), Dense(1, kernel_initializer="ones")])
    model.compile(optimizers.SGD(0.1), "mean_squared_error")
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)
    assert history.history["loss"] == pytest.approx([4.191968, 2.291957, 1.2642], rel=1e-5)
    kernel, bias = model.layers[0].get_weights()
    np.testing.assert_allclose(
        kernel.ravel(), [0.48028633, 0.51163083, 0.54297525, 0.57431972], rtol=1e-5
    )
    np.testing.assert_allclose(bias, [0.48583904], rtol=1e-5)


def test_set_random_seed_makes_runs_bit_identical():
    x, y = blobs(64)

    def run():
        keras.utils.set_random_seed(7)
        model = Sequential([Dense(6, activation="relu"), Dense(2, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
        return model.get_weights(), history.history

    (w1, h1), (w2, h2) = run(), run()
    assert h1 == h2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


def test_to_categorical():
    np.testing.assert_array_equal(keras.utils.to_categorical([0, 2, 1], 3), np.eye(3)[[0, 2, 1]])
    assert keras.utils.to_categorical([1, 3]).shape == (2, 4)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        keras.utils.to_categorical([0, 3], 3)


def test_verbose_output_matches_keras_format(capsys):
    x, y = blobs(64)
    model = Sequential([Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=1)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[2] == "Epoch 2/2"
    assert out[1].startswith("2/2 ━━━━━━━━━━━━━━━━━━━━ ")
    assert "/step - accuracy: " in out[1] and " - loss: " in out[1]
    model.fit(x, y, epochs=1, verbose=2)
    line = capsys.readouterr().out.strip()
    assert line.startswith("2/2 - ") and "/step - accuracy:" in line


# ----- bad input -------------------------------------------------------------------------------


def test_wrong_feature_size_names_the_layer_and_shapes():
    model = article_model()
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match=r'layer "dense.*" .*value 784.*\(32, 100\)'):
        model.fit(np.zeros((64, 100)), np.zeros((64, 10)), verbose=0)


def test_sparse_and_categorical_label_mixups_suggest_the_other_loss():
    x = np.zeros((8, 784), np.float32)
    model = article_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="use loss='categorical_crossentropy'"):
        model.fit(x, np.eye(10)[np.arange(8)], verbose=0)
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match="need loss='sparse_categorical_crossentropy'"):
        model.fit(x, np.arange(8), verbose=0)


def test_mismatched_lengths_non_numeric_and_nan_inputs():
    model = article_model()
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match="x has 8 .* y has 7"):
        model.fit(np.zeros((8, 784)), np.zeros((7, 10)), verbose=0)
    with pytest.raises(
        TypeError, match=r'Layer "\w+" \(Dense\) computes on numbers but received strings'
    ):
        model.fit(np.array([["a"] * 784] * 2), np.zeros((2, 10)), verbose=0)
    with pytest.raises(TypeError, match="x must be numeric"):
        model.fit(np.array([[{}] * 784] * 2, dtype=object), np.zeros((2, 10)), verbose=0)
    bad = np.zeros((4, 784))
    bad[2, 5] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinite values \(the first at index \(2, 5\)\)"):
        model.fit(bad, np.zeros((4, 10)), verbose=0)


def test_fit_before_compile_and_unknown_identifiers():
    model = article_model()
    with pytest.raises(RuntimeError, match="must call compile"):
        model.fit(np.zeros((2, 784)), np.zeros((2, 10)))
    with pytest.raises(ValueError, match="Unknown loss: 'categorical_crossentropyy'"):
        model.compile("sgd", "categorical_crossentropyy")
    with pytest.raises(ValueError, match="Unknown metric: 'accuracyy'"):
        model.compile("sgd", "mse", metrics=["accuracyy"])
    with pytest.raises(ValueError, match="Unknown activation"):
        Dense(3, activation="rel")


def test_a_nan_loss_stops_training_and_names_epoch_and_batch():
    x, y = blobs(64)
    model = Sequential([Dense(2, activation="linear")])
    model.compile(optimizers.SGD(1e30), "mse")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, np.stack([y, y], 1).astype(np.float32), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1
    # one warning, chainrule's own, not NumPy's overflow warnings from the diverging update
    assert [str(w.message)[:16] for w in caught] == ["The loss became "]
    assert re.search(r"loss became (nan|inf) at epoch 1, batch \d+", str(caught[0].message))


def test_logs_and_results_are_python_floats_as_keras_gives_them():
    x, labels = blobs(32)
    y = np.eye(2, dtype=np.float32)[labels]
    model = Sequential([Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy", "mae"])
    history = model.fit(x, y, epochs=2, verbose=0)
    results = [
        model.evaluate(x, y, verbose=0, return_dict=True),
        model.test_on_batch(x, y, return_dict=True),
    ]
    for logs in [{k: v[-1] for k, v in history.history.items()}, *results]:
        assert set(logs) == {"accuracy", "loss", "mae"}
        assert all(type(value) is float for value in logs.values()), logs
    assert all(type(value) is float for value in model.evaluate(x, y, verbose=0))


def test_the_first_step_of_an_unbuilt_model_updates_its_weights():
    x, y = blobs(8)

    def fresh():
        keras.utils.set_random_seed(3)
        model = Sequential([Dense(2, activation="softmax")])
        model.compile(optimizers.SGD(0.5), "sparse_categorical_crossentropy")
        return model

    reference = fresh()
    reference(x[:1])  # built by a call: its initial weights
    trained = fresh()
    trained.train_on_batch(x, y)  # built inside the first training step
    expected = reference.layers[0].kernel.numpy() - 0.5 * cr.grad(
        lambda k: reference.compute_loss(y=y, y_pred=cr.softmax(cr.Tensor(x) @ k))
    )(reference.layers[0].kernel.numpy())
    np.testing.assert_allclose(trained.layers[0].kernel.numpy(), expected, rtol=1e-5)
