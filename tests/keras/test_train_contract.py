"""Keras 3's training contract: train_step/test_step/predict_step(data), compute_loss with
``self.losses``, compute_metrics and ``metrics``, compile without a loss, callbacks' logs, and
PyDatasets and generators in fit/evaluate/predict.

The guide "Customizing what happens in fit() with TensorFlow" (keras-io,
guides/custom_train_step_in_tensorflow.py) runs below with its imports swapped, on small data.
Expected values come from closed forms, or from Keras 3.15.1 (JAX backend) where quoted.
"""

import math

import numpy as np
import pytest

import chainrule as tf
import chainrule.keras as keras
from chainrule.keras import layers

RNG = np.random.default_rng(0)
X = RNG.random((64, 8)).astype("float32")
Y = RNG.random((64, 1)).astype("float32")


def linear_model(cls=keras.Model, units=1, **dense):
    inputs = keras.Input(shape=(8,))
    outputs = layers.Dense(units, **dense)(inputs)
    return cls(inputs, outputs)


# ----- the guide, end to end ---------------------------------------------------------------------


class GuideStep(keras.Model):
    """The guide's first example: compute_loss and self.metrics inside train_step."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_guide_custom_train_step_with_compiled_loss_and_metrics():
    model = linear_model(GuideStep)
    assert isinstance(model, GuideStep) and type(model).__name__ == "GuideStep"
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    history = model.fit(X, Y, epochs=3, verbose=0).history
    assert sorted(history) == ["loss", "mae"] and len(history["loss"]) == 3
    assert all(isinstance(v, float) for v in history["loss"] + history["mae"])
    assert history["loss"][-1] < history["loss"][0]


def test_epoch_logs_keep_the_steps_nesting_until_the_callbacks_sort_them_as_keras():
    """The guide's step returns {"loss", "compile_metrics": {"mae"}}, whose keys are not the
    metrics' results: Keras hands the callbacks those logs, sorted by their own keys, the
    nested ones merged where they sort ("compile_metrics" before "loss"); TensorFlow 2.21
    (Keras 3.15) gives ['mae', 'loss', 'val_loss', 'val_mae']. Keras's own step returns the
    metrics' results, flat: ['loss', 'mae', 'val_loss', 'val_mae']."""
    for cls, order in [
        (GuideStep, ["mae", "loss", "val_loss", "val_mae"]),
        (keras.Model, ["loss", "mae", "val_loss", "val_mae"]),
    ]:
        model = linear_model(cls)
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        history = model.fit(X, Y, epochs=1, verbose=0, validation_split=0.25).history
        assert list(history) == order


class Keras2Step(keras.Model):
    """A step written for tf.keras (Keras 2): self.compiled_loss and self.compiled_metrics,
    which Keras 3 on TensorFlow keeps, with a warning each."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_a_keras_2_step_uses_compiled_loss_and_compiled_metrics_with_warnings():
    model = linear_model(Keras2Step)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    with pytest.warns(UserWarning) as caught:
        history = model.fit(X, Y, batch_size=64, epochs=3, verbose=0).history
    messages = {str(w.message).split("`")[1] for w in caught}
    assert {"model.compiled_loss()", "model.compiled_metrics()"} <= messages
    assert sorted(history) == ["loss", "mae"]
    assert history["mae"][-1] < history["mae"][0]  # the compiled loss trains the model
    # as in Keras 3, every metric is updated: a Mean (the loss tracker) with y_pred alone
    y_pred = model.predict(X, verbose=0)
    model.reset_metrics()
    with pytest.warns(UserWarning, match="compiled_metrics"):
        model.compiled_metrics.update_state(Y, y_pred)
    assert math.isclose(float(model.metrics[0].result()), float(y_pred.mean()), rel_tol=1e-5)
    mae = float(np.abs(Y - y_pred).mean())
    assert math.isclose(float(model.get_metrics_result()["mae"]), mae, rel_tol=1e-5)


class LowLevel(keras.Model):
    """The guide's second example: its own trackers, listed by an overridden ``metrics``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


class Counts(keras.callbacks.Callback):
    """The loss tracker's count at each epoch's start, and the losses of every batch."""

    def __init__(self):
        super().__init__()
        self.counts, self.batch_losses = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.counts.append(float(self.model.loss_tracker.count))
        self.batch_losses.append([])

    def on_train_batch_end(self, batch, logs=None):
        self.batch_losses[-1].append(logs["loss"])


def test_guide_compile_without_loss_and_user_metrics_reset_each_epoch():
    model = linear_model(LowLevel)
    model.compile(optimizer="adam")  # no loss: train_step computes its own
    counts = Counts()
    history = model.fit(X, Y, epochs=3, batch_size=16, verbose=0, callbacks=[counts]).history
    assert counts.counts == [0, 0, 0]  # reset_metrics() at the start of each epoch
    assert model.metrics_names == ["loss", "mae"]
    # the epoch's loss is the running mean its last batch reported
    assert history["loss"] == pytest.approx([losses[-1] for losses in counts.batch_losses])
    model.reset_metrics()
    assert model.get_metrics_result() == {"loss": 0.0, "mae": 0.0}


class Weighted(keras.Model):
    """The guide's third example: sample_weight unpacked from data."""

    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}


def test_guide_sample_weight_reaches_train_step():
    model = linear_model(Weighted, kernel_initializer="zeros")
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    sw = RNG.random((64, 1)).astype("float32")
    history = model.fit(X, Y, sample_weight=sw, batch_size=64, epochs=1, verbose=0).history
    # zero weights: y_pred = 0, so the weighted mse is sum(w y^2) / n; the mae, a metric and not
    # a weighted metric, ignores the weights as in Keras 3.15.1: mean(|y|)
    assert history["loss"][0] == pytest.approx(float(np.sum(sw * Y**2) / 64), rel=1e-5)
    assert history["mae"][0] == pytest.approx(float(np.mean(np.abs(Y))), rel=1e-5)


class GuideTest(keras.Model):
    """The guide's fourth example: a custom test_step."""

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_guide_custom_test_step():
    model = linear_model(GuideTest, kernel_initializer="zeros")
    model.compile(loss="mse", metrics=["mae"])
    loss, mae = model.evaluate(X, Y, batch_size=64, verbose=0)
    assert loss == pytest.approx(float(np.mean(Y**2)), rel=1e-5)
    assert mae == pytest.approx(float(np.mean(Y)), rel=1e-5)


class GAN(keras.Model):
    """The guide's GAN, as written there (``tf.shape(t)`` spelled ``t.shape``)."""

    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.seed_generator = keras.random.SeedGenerator(1337)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, real_images):
        if isinstance(real_images, tuple):
            real_images = real_images[0]
        batch_size = real_images.shape[0]
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator
        )
        generated_images = self.generator(random_latent_vectors)
        combined_images = tf.concat([generated_images, real_images], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * keras.random.uniform(labels.shape, seed=self.seed_generator)
        with tf.GradientTape() as tape:
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply(grads, self.discriminator.trainable_weights)
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator
        )
        misleading_labels = tf.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply(grads, self.generator.trainable_weights)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def test_guide_gan_trains_on_a_dataset_of_images_alone():
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            layers.Conv2D(4, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    latent_dim = 4
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(4 * 4 * 4),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((4, 4, 4)),
            layers.UpSampling2D((2, 2)),
            layers.Conv2D(1, (3, 3), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )
    images = RNG.random((24, 8, 8, 1)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(images).shuffle(buffer_size=64).batch(8)
    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    before = [w.numpy().copy() for w in generator.weights + discriminator.weights]
    history = gan.fit(dataset.take(2), epochs=2, verbose=0).history
    assert sorted(history) == ["d_loss", "g_loss"] and len(history["d_loss"]) == 2
    assert all(math.isfinite(v) for v in history["d_loss"] + history["g_loss"])
    after = generator.weights + discriminator.weights
    assert all(not np.array_equal(b, a.numpy()) for b, a in zip(before, after))


# ----- what a step receives ----------------------------------------------------------------------


class Recording(keras.Model):
    """Records the structure of each ``data`` and runs Keras's own step."""

    seen = []

    def train_step(self, data):
        Recording.seen.append(_structure(data))
        return super().train_step(data)


def _structure(data):
    if isinstance(data, tuple):
        return tuple(type(d).__name__ for d in data)
    return type(data).__name__


class Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]


def test_train_step_gets_the_batch_as_the_data_yields_it():
    Recording.seen = []
    model = linear_model(Recording)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X, Y, batch_size=64, verbose=0)
    model.fit(X, Y, sample_weight=np.ones(64), batch_size=64, verbose=0)
    model.fit(Batches(X, Y, 64, workers=2, use_multiprocessing=False, max_queue_size=4), verbose=0)
    assert Recording.seen == [
        ("Tensor", "Tensor"),
        ("Tensor", "Tensor", "Tensor"),
        ("Tensor", "Tensor"),
    ]


class SumOfSquares(layers.Layer):
    """Adds mean(y^2) over the batch as a loss and passes y on."""

    def call(self, y):
        self.add_loss(tf.reduce_mean(tf.square(y)))
        return y


def unsupervised_model(regularizer=None):
    inputs = keras.Input(shape=(8,))
    y = layers.Dense(1, use_bias=False, kernel_initializer="ones", kernel_regularizer=regularizer)(
        inputs
    )
    return keras.Model(inputs, SumOfSquares()(y))


def test_compile_without_loss_trains_on_add_loss_alone():
    model = unsupervised_model()
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    history = model.fit(X, batch_size=16, epochs=3, verbose=0).history
    # each batch's loss is mean((x . 1)^2); the epoch's, their mean weighted by batch size
    expected = float(np.mean(X.sum(axis=1) ** 2))
    assert history["loss"] == pytest.approx([expected] * 3, rel=1e-5)  # replayed steps too
    assert model.evaluate(X, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_fit_counts_regularization_once():
    model = unsupervised_model(keras.regularizers.L2(0.1))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    history = model.fit(X, Y, batch_size=64, epochs=2, verbose=0).history
    pred = X.sum(axis=1, keepdims=True)
    # mse + the added mean(pred^2) + 0.1 * sum(w^2) with w = ones((8, 1))
    expected = float(np.mean((pred - Y) ** 2) + np.mean(pred**2) + 0.1 * 8)
    assert history["loss"] == pytest.approx([expected] * 2, rel=1e-5)


class OwnLoss(keras.Model):
    """Overrides compute_loss, as the Keras docstring shows (a tracker of its own), without the
    ``training`` argument that Keras 3.3 added."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def compute_loss(self, x, y, y_pred, sample_weight):
        loss = tf.reduce_mean(tf.abs(y_pred - y))
        for extra in self.losses:
            loss = loss + extra
        self.loss_tracker.update_state(loss)
        return loss

    @property
    def metrics(self):
        return [self.loss_tracker]


def test_compute_loss_override_is_used_by_the_default_steps():
    model = linear_model(OwnLoss, kernel_initializer="zeros", use_bias=False)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    history = model.fit(X, Y, batch_size=16, epochs=2, verbose=0).history
    assert history["loss"] == pytest.approx([float(np.mean(Y))] * 2, rel=1e-5)  # mae, not mse
    assert model.loss_tracker.count == 4  # once per step of the last epoch, each one eager


class ApplyGradients(keras.Model):
    """A step that updates with apply_gradients(zip(...)) and returns plain floats."""

    def train_step(self, data):
        x, y = keras.utils.unpack_x_y_sample_weight(data)[:2]
        with tf.GradientTape() as tape:
            loss = self.compute_loss(x, y, self(x, training=True))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": float(loss), "steps": 1.0}


def test_a_step_may_return_plain_floats_and_use_apply_gradients():
    model = linear_model(ApplyGradients, kernel_initializer="zeros", use_bias=False)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    history = model.fit(X, Y, batch_size=64, epochs=2, verbose=0).history
    assert sorted(history) == ["loss", "steps"] and history["steps"] == [1.0, 1.0]
    assert history["loss"][0] == pytest.approx(float(np.mean(Y**2)), rel=1e-5)
    # two SGD steps from w = 0 on L = mean((X w - Y)^2): w <- w - 0.1 * 2/n X^T (X w - Y)
    w = np.zeros((8, 1))
    for _ in range(2):
        w -= 0.1 * 2 / 64 * X.T @ (X @ w - Y)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-5)


class Doubled(keras.Model):
    def predict_step(self, data):
        return {"twice": 2 * self(data, training=False), "same": self(data, training=False)}


def test_predict_step_override_and_its_structure():
    model = linear_model(Doubled)
    out = model.predict(X, batch_size=10, verbose=0)
    assert sorted(out) == ["same", "twice"] and out["same"].shape == (64, 1)
    np.testing.assert_allclose(out["twice"], 2 * out["same"], rtol=1e-6)


def test_default_steps_keep_keras_results():
    model = linear_model(kernel_initializer="zeros")
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]  # as Keras 3.15.1
    logs = model.evaluate(X, Y, batch_size=16, verbose=0, return_dict=True)
    assert logs == pytest.approx({"loss": float(np.mean(Y**2)), "mae": float(np.mean(Y))})
    results = model.get_metrics_result()
    assert float(results["loss"]) == pytest.approx(logs["loss"])
    model.reset_metrics()
    assert float(model.get_metrics_result()["loss"]) == 0.0
    logs = model.compute_metrics(X, Y, np.zeros_like(Y))
    assert float(logs["mae"]) == pytest.approx(float(np.mean(Y)), rel=1e-6)


def test_compute_loss_without_any_loss_says_what_to_do():
    model = linear_model()
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="No loss to compute. Provide a `loss` argument"):
        model.fit(X, Y, verbose=0)


def test_pack_and_unpack_x_y_sample_weight():
    pack, unpack = keras.utils.pack_x_y_sample_weight, keras.utils.unpack_x_y_sample_weight
    assert pack(1) == 1 and pack((1, 2)) == ((1, 2),) and pack(1, 2) == (1, 2)
    assert pack(1, 2, 3) == (1, 2, 3)
    for packed in (pack(1), pack(1, 2), pack(1, 2, 3), pack([1, 2], 3)):
        x, y, w = unpack(packed)
        assert pack(x, y, w) == packed or (x, y, w) == ([1, 2], 3, None)


# ----- callbacks' logs ---------------------------------------------------------------------------


class AllHooks(keras.callbacks.Callback):
    """Records (hook, keys of logs) for every hook, checking that logs is a dict."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def _record(self, hook, logs):
        assert isinstance(logs, dict), (hook, logs)
        self.calls.append((hook, tuple(sorted(logs))))


for _hook in (
    "on_train_begin",
    "on_train_end",
    "on_test_begin",
    "on_test_end",
    "on_predict_begin",
    "on_predict_end",
):
    setattr(AllHooks, _hook, lambda self, logs=None, _h=_hook: self._record(_h, logs))
for _hook in (
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
):
    setattr(AllHooks, _hook, lambda self, i, logs=None, _h=_hook: self._record(_h, logs))


def test_every_hook_gets_a_dict_with_keras_keys():
    # Keras 3.15.1, the same model and calls (fit with validation_data, 1 epoch, 1 batch):
    #   on_train_begin (), on_epoch_begin (), on_train_batch_begin (),
    #   on_train_batch_end ('loss', 'mae'), on_test_begin (), on_test_batch_begin (),
    #   on_test_batch_end ('loss', 'mae'), on_test_end ('loss', 'mae'),
    #   on_epoch_end ('loss', 'mae', 'val_loss', 'val_mae'), on_train_end (the same)
    model = linear_model()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    hooks = AllHooks()
    model.fit(X, Y, batch_size=64, validation_data=(X, Y), verbose=0, callbacks=[hooks])
    metric_keys = ("loss", "mae")
    epoch_keys = ("loss", "mae", "val_loss", "val_mae")
    assert hooks.calls == [
        ("on_train_begin", ()),
        ("on_epoch_begin", ()),
        ("on_train_batch_begin", ()),
        ("on_train_batch_end", metric_keys),
        ("on_test_begin", ()),
        ("on_test_batch_begin", ()),
        ("on_test_batch_end", metric_keys),
        ("on_test_end", metric_keys),
        ("on_epoch_end", epoch_keys),
        ("on_train_end", epoch_keys),
    ]
    hooks.calls = []
    model.evaluate(X, Y, batch_size=64, verbose=0, callbacks=[hooks])
    assert [hook for hook, _ in hooks.calls] == [
        "on_test_begin",
        "on_test_batch_begin",
        "on_test_batch_end",
        "on_test_end",
    ]
    hooks.calls = []
    model.predict(X, batch_size=64, verbose=0, callbacks=[hooks])
    assert hooks.calls == [
        ("on_predict_begin", ()),
        ("on_predict_batch_begin", ()),
        ("on_predict_batch_end", ("outputs",)),
        ("on_predict_end", ()),
    ]


def test_logs_values_are_python_floats():
    seen = []
    model = linear_model(LowLevel)  # its step returns Tensors
    model.compile(optimizer="adam")
    callback = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(logs)
    )
    model.fit(X, Y, batch_size=32, verbose=0, callbacks=[callback])
    assert all(type(v) is float for logs in seen for v in logs.values())


# ----- PyDatasets and generators -----------------------------------------------------------------


def test_pydataset_and_generator_ignore_batch_size_and_honour_steps_per_epoch():
    # Keras 3.15.1: fit(PyDataset of 3 batches, batch_size=7) trains on its 3 batches;
    #   fit(endless generator, batch_size=7, steps_per_epoch=2, epochs=2) -> 2 epoch losses;
    #   evaluate(PyDataset, batch_size=7) and predict(PyDataset, batch_size=3) -> (12, 1)
    model = linear_model()
    model.compile(optimizer="sgd", loss="mse")
    hooks = AllHooks()
    model.fit(Batches(X[:12], Y[:12], 4), batch_size=7, verbose=0, callbacks=[hooks])
    assert [h for h, _ in hooks.calls].count("on_train_batch_end") == 3

    def endless():
        while True:
            yield X[:4], Y[:4]

    history = model.fit(endless(), batch_size=7, steps_per_epoch=2, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert isinstance(model.evaluate(Batches(X[:12], Y[:12], 4), batch_size=7, verbose=0), float)
    assert model.predict(Batches(X[:12], Y[:12], 4), batch_size=3, verbose=0).shape == (12, 1)
    assert model.predict(endless(), steps=3, verbose=0).shape == (12, 1)


def test_on_batch_methods_run_the_steps():
    Recording.seen = []
    model = linear_model(Recording, kernel_initializer="zeros")
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    loss, mae = model.train_on_batch(X, Y)
    assert Recording.seen == [("Tensor", "Tensor")]
    assert (loss, mae) == pytest.approx((float(np.mean(Y**2)), float(np.mean(Y))), rel=1e-5)
    logs = model.test_on_batch(X, Y, return_dict=True)
    assert logs == pytest.approx({"loss": float(np.mean(Y**2)), "mae": float(np.mean(Y))})
    np.testing.assert_array_equal(model.predict_on_batch(X), np.zeros((64, 1)))
