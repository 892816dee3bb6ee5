"""Embedding, Masking and pad_sequences against real Keras 3, Keras 3's mask propagation
(compute_mask, call(mask=), Sequential and functional models, losses and metrics), and the
keras-io guide "Understanding masking & padding" run with chainrule's imports."""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule as tf
import chainrule.keras as keras
from chainrule import fast
from chainrule.fast.plan import Plan
from chainrule.keras import layers
from chainrule.keras.losses import get_keras_mask, set_keras_mask

rng = np.random.default_rng(11)


def fill(layer, seed):
    """One seeded uniform draw per weight, as ``fill`` in the Keras script below."""
    weights = [
        np.random.default_rng(seed + i).uniform(-0.5, 0.5, w.shape).astype("float32")
        for i, w in enumerate(layer.weights)
    ]
    layer.set_weights(weights)


# ----- Embedding ---------------------------------------------------------------------------------


def test_embedding_looks_up_rows_and_sums_their_gradients():
    layer = layers.Embedding(5, 3)
    ids = np.array([[0, 4, 4], [2, 1, 0]])
    table = layer(ids) if False else None  # noqa: F841  (built below)
    out = layer(ids)
    np.testing.assert_array_equal(out.numpy(), layer.embeddings.numpy()[ids])
    assert out.shape == (2, 3, 3) and layer.compute_output_shape((None, 3)) == (None, 3, 3)
    assert get_keras_mask(out) is None

    def fn(table):
        layer.embeddings = table
        return layer.call(cr.Tensor(ids)) * np.arange(3.0)

    assert cr.gradcheck(fn, rng.standard_normal((5, 3))) < 1e-6
    # Row 4 is read twice and row 3 never: dL/dE sums the two reads and leaves row 3 at 0.
    table = cr.Tensor(np.zeros((5, 3)), requires_grad=True)
    layer.embeddings = table
    layer.call(cr.Tensor(ids)).sum().backward()
    np.testing.assert_array_equal(table.grad.numpy()[:, 0], [2, 1, 1, 0, 2])


def test_embedding_mask_zero_and_errors():
    layer = layers.Embedding(10, 4, mask_zero=True)
    ids = np.array([[3, 1, 0, 0], [7, 0, 0, 0]])
    out = layer(ids)
    np.testing.assert_array_equal(get_keras_mask(out).numpy(), ids != 0)
    np.testing.assert_array_equal(layer.compute_mask(ids).numpy(), ids != 0)
    assert layers.Embedding(10, 4).compute_mask(ids) is None
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        layer(np.array([[10]]))
    with pytest.raises(ValueError, match="output_dim"):
        layers.Embedding(10, 0)
    with pytest.warns(UserWarning, match="input_length"):
        layers.Embedding(10, 4, input_length=4)


def test_embedding_options_and_config():
    weights = np.arange(6.0).reshape(3, 2)
    layer = layers.Embedding(
        3,
        2,
        weights=[weights],
        embeddings_regularizer=keras.regularizers.L2(0.5),
        embeddings_constraint="non_neg",
    )
    np.testing.assert_array_equal(layer(np.array([[2, 0]])).numpy(), [[[4, 5], [0, 1]]])
    np.testing.assert_allclose(float(sum(layer.losses).numpy()), 0.5 * np.sum(weights**2))
    assert layer.embeddings.constraint is not None
    # sorted(keras.layers.Embedding(10, 3).get_config()), Keras 3.15.1
    keras_keys = [
        "activity_regularizer", "dtype", "embeddings_constraint", "embeddings_initializer",
        "embeddings_regularizer", "input_dim", "mask_zero", "name", "output_dim",
        "quantization_config", "trainable",
    ]  # fmt: skip
    config = layers.Embedding(10, 3, mask_zero=True).get_keras_config()
    assert sorted(config) == keras_keys
    assert config["embeddings_initializer"]["class_name"] == "RandomUniform"
    assert config["embeddings_initializer"]["config"]["minval"] == -0.05
    copy = layers.Embedding.from_config(config)
    assert copy.mask_zero and copy.input_dim == 10 and copy.output_dim == 3
    built = layers.Embedding(10, 3)
    built.build((None, 4))
    assert [(w.name, w.shape) for w in built.weights] == [("embeddings", (10, 3))]


# ----- Masking and pad_sequences -----------------------------------------------------------------

# With real Keras 3.15.1 (KERAS_BACKEND=jax):
#     x = np.array([[[1., 2.], [0., 0.], [3., 0.]], [[0., 0.], [0., 0.], [1., 1.]]], "float32")
#     out = keras.layers.Masking()(x); np.asarray(out), np.asarray(out._keras_mask)
KERAS_MASKING = (
    [[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]], [[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]],
    [[True, False, True], [False, False, True]],
)


def test_masking_matches_keras_and_passes_the_gradient_of_kept_steps():
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]], [[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]])
    layer = layers.Masking()
    out = layer(x.astype("float32"))
    np.testing.assert_array_equal(out.numpy(), KERAS_MASKING[0])
    np.testing.assert_array_equal(get_keras_mask(out).numpy(), KERAS_MASKING[1])
    other = layers.Masking(mask_value=1.0)
    np.testing.assert_array_equal(other.compute_mask(cr.Tensor(x)).numpy(), [[1, 1, 1], [1, 1, 0]])
    assert layers.Masking.from_config(other.get_config()).mask_value == 1.0
    assert cr.gradcheck(lambda t: layers.Masking(dtype="float64").call(t), x + 0.5) < 1e-6


def test_pad_sequences_matches_keras():
    # keras.utils.pad_sequences on the same arguments, Keras 3.15.1.
    sequences = [[1, 2, 3], [4, 5], [6, 7, 8, 9]]
    pad = keras.utils.pad_sequences
    np.testing.assert_array_equal(pad(sequences, maxlen=3), [[1, 2, 3], [0, 4, 5], [7, 8, 9]])
    np.testing.assert_array_equal(
        pad(sequences, maxlen=3, padding="post", truncating="post", value=-1),
        [[1, 2, 3], [4, 5, -1], [6, 7, 8]],
    )
    floats = pad([[1.5], [], [2.5, 3.5]], dtype="float32")
    np.testing.assert_array_equal(floats, [[0.0, 1.5], [0.0, 0.0], [2.5, 3.5]])
    assert floats.dtype == np.float32 and pad(sequences).dtype == np.int32
    assert pad([[[1, 2]], [[3, 4], [5, 6]]]).shape == (2, 2, 2)
    with pytest.raises(ValueError, match="padding"):
        pad(sequences, padding="middle")
    with pytest.raises(ValueError, match="iterables"):
        pad([[1], 2])


# ----- propagation -------------------------------------------------------------------------------


class Doubling(layers.Layer):
    """Keeps the time axis and says so."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs * 2


class Consumer(layers.Layer):
    """Records the mask its call receives."""

    def call(self, inputs, mask=None):
        self.seen = mask
        return inputs * 1


class Unaware(layers.Layer):
    def call(self, inputs):
        return inputs + 1


def test_masks_flow_through_layers_that_support_them_and_stop_at_others():
    ids = np.array([[4, 2, 0], [1, 0, 0]])
    consumer = Consumer()
    model = keras.Sequential([layers.Embedding(5, 2, mask_zero=True), Doubling(), consumer])
    with pytest.warns(UserWarning, match="'consumer'.*does not support masking"):
        out = model(ids)
    np.testing.assert_array_equal(consumer.seen.numpy(), ids != 0)
    assert get_keras_mask(out) is None  # Consumer has neither supports_masking nor compute_mask
    inputs = keras.Input((3,), dtype="int32")
    x = layers.Embedding(5, 2, mask_zero=True)(inputs)
    x = layers.LSTM(3, return_sequences=True)(x)
    with pytest.warns(UserWarning, match="does not support masking"):
        functional = keras.Model(inputs, Consumer()(Doubling()(x)))
        functional(ids)
    np.testing.assert_array_equal(functional.layers[-1].seen.numpy(), ids != 0)
    embedded = layers.Embedding(5, 2, mask_zero=True)(ids)
    with pytest.warns(UserWarning, match="does not support masking"):
        dropped = Unaware()(embedded)
    assert get_keras_mask(dropped) is None
    explicit = Consumer()
    with pytest.warns(UserWarning, match="does not support masking"):
        explicit(embedded, mask=np.array([[True, False, True], [True, True, True]]))
    assert explicit.seen.numpy().tolist() == [[True, False, True], [True, True, True]]


def test_set_keras_mask_attaches_and_detaches():
    x = cr.Tensor(np.ones((2, 3)))
    set_keras_mask(x, cr.Tensor(np.array([[True, False, True]] * 2)))
    assert get_keras_mask(x).shape == (2, 3)
    set_keras_mask(x, None)
    assert get_keras_mask(x) is None


# With real Keras 3.15.1 (KERAS_BACKEND=jax):
#     ids = np.array([[3, 1, 4, 0], [5, 2, 0, 0], [1, 0, 0, 0]])
#     y = np.random.default_rng(1).uniform(-1, 1, (3, 4, 2)).astype("float32")
#     model = keras.Sequential([keras.Input((4,), dtype="int32"),
#                               layers.Embedding(6, 3, mask_zero=True),
#                               layers.LSTM(2, return_sequences=True)])
#     fill(model, 20); model.compile(loss="mse", metrics=["mae"])
#     model.evaluate(ids, y, return_dict=True)
#     model.evaluate(ids, y, sample_weight=WEIGHTS, return_dict=True)
KERAS_MASKED = {"loss": 0.3337399661540985, "mae": 0.4635215699672699}
KERAS_MASKED_WEIGHTED = {"loss": 0.485553503036499, "mae": 0.4635215699672699}
WEIGHTS = np.array([[1.0, 2.0, 0.5, 1.0], [2.0, 1.0, 1.0, 3.0], [0.5, 0.5, 2.0, 1.0]])


def test_losses_and_metrics_leave_out_masked_steps_as_keras():
    ids = np.array([[3, 1, 4, 0], [5, 2, 0, 0], [1, 0, 0, 0]])
    y = np.random.default_rng(1).uniform(-1, 1, (3, 4, 2)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((4,), dtype="int32"),
            layers.Embedding(6, 3, mask_zero=True),
            layers.LSTM(2, return_sequences=True),
        ]
    )
    fill(model, 20)
    model.compile(loss="mse", metrics=["mae"])
    result = model.evaluate(ids, y, verbose=0, return_dict=True)
    assert result == pytest.approx(KERAS_MASKED, rel=1e-5)
    weighted = model.evaluate(ids, y, sample_weight=WEIGHTS, verbose=0, return_dict=True)
    assert weighted == pytest.approx(KERAS_MASKED_WEIGHTED, rel=1e-5)
    # The same numbers by hand: the masked steps have no weight in the means.
    y_pred = model(ids)
    mask = ids != 0
    per_step = np.mean((y_pred.numpy() - y) ** 2, axis=-1)
    assert keras.losses.MeanSquaredError()(y, y_pred).numpy() == pytest.approx(
        per_step[mask].mean(), rel=1e-5
    )
    metric = keras.metrics.MeanAbsoluteError()
    metric.update_state(y, y_pred)
    assert float(metric.result().numpy()) == pytest.approx(
        np.mean(np.abs(y_pred.numpy() - y), axis=-1)[mask].mean(), rel=1e-5
    )


# ----- the keras-io guide ------------------------------------------------------------------------
# keras-team/keras-io, guides/understanding_masking_and_padding.py, with its imports swapped:
#     import chainrule as tf; import chainrule.keras as keras; from chainrule.keras import layers
# Four names the guide takes from TensorFlow are not in chainrule's tf facade yet and are taken
# from keras instead (marked "# guide:"), and `t._keras_mask` is read as get_keras_mask(t).


def test_masking_and_padding_guide_runs():
    raw_inputs = [
        [711, 632, 71],
        [73, 8, 3215, 55, 927],
        [83, 91, 1, 645, 1253, 927],
    ]
    # guide: tf.keras.preprocessing.sequence.pad_sequences
    padded_inputs = keras.utils.pad_sequences(raw_inputs, padding="post")
    assert padded_inputs.tolist()[0] == [711, 632, 71, 0, 0, 0]

    embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
    masked_output = embedding(padded_inputs)
    assert get_keras_mask(masked_output).numpy().sum(axis=1).tolist() == [3, 5, 6]

    masking_layer = layers.Masking()
    unmasked_embedding = tf.cast(
        # guide: tf.tile
        keras.ops.tile(tf.expand_dims(padded_inputs, axis=-1), [1, 1, 10]),
        tf.float32,
    )
    masked_embedding = masking_layer(unmasked_embedding)
    np.testing.assert_array_equal(get_keras_mask(masked_embedding).numpy(), padded_inputs != 0)

    model = keras.Sequential(
        [layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True), layers.LSTM(32)]
    )
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    outputs = layers.LSTM(32)(x)
    model = keras.Model(inputs, outputs)
    assert model(padded_inputs).shape == (3, 32)

    class MyLayer(layers.Layer):
        def __init__(self, **kwargs):
            super(MyLayer, self).__init__(**kwargs)
            self.embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
            self.lstm = layers.LSTM(32)

        def call(self, inputs):
            x = self.embedding(inputs)
            mask = self.embedding.compute_mask(inputs)
            output = self.lstm(x, mask=mask)
            return output

    layer = MyLayer()
    x = np.random.random((32, 10)) * 100
    x = x.astype("int32")
    assert layer(x).shape == (32, 32)

    class TemporalSplit(keras.layers.Layer):
        def call(self, inputs):
            # guide: tf.split
            return keras.ops.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            if mask is None:
                return None
            return keras.ops.split(mask, 2, axis=1)  # guide: tf.split

    first_half, second_half = TemporalSplit()(masked_embedding)
    np.testing.assert_array_equal(get_keras_mask(first_half).numpy(), padded_inputs[:, :3] != 0)
    np.testing.assert_array_equal(get_keras_mask(second_half).numpy(), padded_inputs[:, 3:] != 0)

    class CustomEmbedding(keras.layers.Layer):
        def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
            super(CustomEmbedding, self).__init__(**kwargs)
            self.input_dim = input_dim
            self.output_dim = output_dim
            self.mask_zero = mask_zero

        def build(self, input_shape):
            self.embeddings = self.add_weight(
                shape=(self.input_dim, self.output_dim),
                initializer="random_normal",
                dtype="float32",
            )

        def call(self, inputs):
            # guide: tf.nn.embedding_lookup
            return keras.ops.take(self.embeddings, keras.ops.cast(inputs, "int32"), axis=0)

        def compute_mask(self, inputs, mask=None):
            if not self.mask_zero:
                return None
            return tf.not_equal(inputs, 0)

    layer = CustomEmbedding(10, 32, mask_zero=True)
    x = np.random.random((3, 10)) * 9
    x = x.astype("int32")
    y = layer(x)
    mask = layer.compute_mask(x)
    np.testing.assert_array_equal(mask.numpy(), x != 0)
    np.testing.assert_array_equal(get_keras_mask(y).numpy(), x != 0)

    class MyActivation(keras.layers.Layer):
        def __init__(self, **kwargs):
            super(MyActivation, self).__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs):
            return tf.nn.relu(inputs)

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    x = MyActivation()(x)
    assert get_keras_mask(x).shape == (None, None)  # guide: print("Mask found:", x._keras_mask)
    outputs = layers.LSTM(32)(x)
    model = keras.Model(inputs, outputs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the mask reaches the LSTM: nothing drops it
        assert model(padded_inputs).shape == (3, 32)


class TemporalSoftmax(keras.layers.Layer):
    def call(self, inputs, mask=None):
        broadcast_float_mask = tf.expand_dims(tf.cast(mask, "float32"), -1)
        inputs_exp = tf.exp(inputs) * broadcast_float_mask
        inputs_sum = tf.reduce_sum(inputs * broadcast_float_mask, axis=1, keepdims=True)
        return inputs_exp / inputs_sum


def test_guide_temporal_softmax_receives_the_mask_through_a_layer_that_passes_it():
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
    x = layers.TimeDistributed(layers.Dense(1))(x)  # passes the mask on, as Dense does in Keras
    with pytest.warns(UserWarning, match="temporal_softmax"):  # as Keras: it drops the mask
        outputs = TemporalSoftmax()(x)
    model = keras.Model(inputs, outputs)
    ids = np.random.randint(0, 10, size=(32, 100))
    with pytest.warns(UserWarning, match="temporal_softmax"):
        y = model(ids, np.random.random((32, 100, 1)))
    assert y.shape == (32, 100, 1)
    np.testing.assert_array_equal(y.numpy()[..., 0][ids == 0], 0.0)


def test_guide_temporal_softmax_after_dense():
    """Dense keeps the mask (supports_masking, as Keras 3), so TemporalSoftmax receives it."""
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = layers.Dense(1)(x)
        outputs = TemporalSoftmax()(x)
        model = keras.Model(inputs, outputs)
        y = model(np.random.randint(0, 10, size=(32, 100)), np.random.random((32, 100, 1)))
    assert y.shape == (32, 100, 1)


def test_a_masked_model_replays_its_training_step_with_each_batchs_mask():
    """The mask reaches GlobalAveragePooling1D as a Tensor, so the traced training step is used
    (not refused for a baked-in constant) and trains exactly as the engine does, batch by batch,
    with paddings that differ between batches."""
    rng = np.random.default_rng(0)
    x = np.zeros((64, 8), "int32")
    for row in x:
        n = rng.integers(1, 9)
        row[:n] = rng.integers(1, 20, n)
    y = rng.normal(size=(64, 1)).astype("float32")
    weights = []
    for run_eagerly in (False, True):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((8,), dtype="int32"),
                layers.Embedding(20, 4, mask_zero=True),
                layers.GlobalAveragePooling1D(),
                layers.Dense(1),
            ]
        )
        model.compile(optimizer="sgd", loss="mse", run_eagerly=run_eagerly)
        model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        weights.append(model.get_weights())
        plans = list(model._train_plans.plans.values())
        if not run_eagerly and fast.enabled():
            assert all(isinstance(p, Plan) for p in plans)
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_fit_reports_metrics_without_the_masked_steps_as_evaluate_and_keras():
    """Keras's metrics leave out the steps that y_pred's mask hides in fit as in evaluate
    (MeanMetricWrapper.update_state applies ``get_keras_mask(y_pred)`` to the sample weights).
    With a learning rate of 0 every epoch's training accuracy is the masked accuracy of the
    fixed model, whether the step runs through the engine or replays its plan."""
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, (64, 7))
    x[:, 5:] = 0
    x[::3, 3:] = 0
    y = rng.integers(0, 3, (64, 7))
    mask = x != 0
    for run_eagerly in (False, True):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((7,)),
                layers.Embedding(20, 8, mask_zero=True),
                layers.LSTM(8, return_sequences=True),
                layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(
            keras.optimizers.SGD(0.0),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
            run_eagerly=run_eagerly,
        )
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0).history
        hits = model.predict(x, verbose=0).argmax(-1) == y
        assert hits[mask].mean() != pytest.approx(hits.mean(), rel=1e-3)  # the mask matters
        assert history["accuracy"] == pytest.approx([hits[mask].mean()] * 3, rel=1e-6)
        _, accuracy = model.evaluate(x, y, batch_size=16, verbose=0)
        assert accuracy == pytest.approx(hits[mask].mean(), rel=1e-6)
        replayed = [p for p in model._train_plans.plans.values() if isinstance(p, Plan)]
        assert bool(replayed) == (not run_eagerly and fast.enabled())


# With real Keras 3.15.1 (KERAS_BACKEND=jax):
#     ids = np.array([[3, 1, 4, 2], [5, 2, 0, 0], [1, 0, 0, 0]])
#     inputs = keras.Input((4,), dtype="int32")
#     embedded = layers.Embedding(6, 4, mask_zero=True)(inputs)
#     attended = layers.MultiHeadAttention(num_heads=2, key_dim=3)(embedded, embedded)
#     model = keras.Model(inputs, layers.GlobalAveragePooling1D()(attended))
#     fill(model, 30); model.predict(ids).round(7).tolist()
KERAS_MASKED_ATTENTION = [
    [-0.32533320784568787, -0.5387328863143921, 0.5001360774040222, 0.07623939961194992],
    [-0.3138352930545807, -0.3927108943462372, 0.31821170449256897, 0.17264890670776367],
    [-0.5258635878562927, -0.704082190990448, 0.7345296144485474, -0.20851360261440277],
]


def test_multi_head_attention_takes_the_masks_of_its_query_and_value_as_keras():
    """Keras's Layer.__call__ fills MultiHeadAttention's query_mask and value_mask from the
    tensors' masks, so padded keys get no attention; the output carries the query's mask, which
    the pooling after it then leaves out."""
    ids = np.array([[3, 1, 4, 2], [5, 2, 0, 0], [1, 0, 0, 0]])
    inputs = keras.Input((4,), dtype="int32")
    embedded = layers.Embedding(6, 4, mask_zero=True)(inputs)
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=3)(embedded, embedded)
    model = keras.Model(inputs, layers.GlobalAveragePooling1D()(attended))
    fill(model, 30)
    np.testing.assert_allclose(
        model.predict(ids, verbose=0), KERAS_MASKED_ATTENTION, rtol=1e-5, atol=1e-6
    )
    eager = model(ids)
    np.testing.assert_allclose(eager.numpy(), KERAS_MASKED_ATTENTION, rtol=1e-5, atol=1e-6)


def test_a_masked_attention_model_replays_its_step_with_each_batchs_mask():
    """The attention layer's mask is made by ops on the Embedding's mask, so the traced step is
    replayed (not refused for reading values) and trains as the engine does, with paddings that
    differ from batch to batch."""
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, (48, 6))
    for row in x:
        row[rng.integers(2, 7) :] = 0
    y = rng.normal(size=(48, 1)).astype("float32")
    weights = []
    for run_eagerly in (False, True):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((6,), dtype="int32")
        embedded = layers.Embedding(20, 4, mask_zero=True)(inputs)
        attended = layers.MultiHeadAttention(num_heads=2, key_dim=3)(embedded, embedded)
        model = keras.Model(inputs, layers.Dense(1)(layers.GlobalAveragePooling1D()(attended)))
        model.compile(optimizer="sgd", loss="mse", run_eagerly=run_eagerly)
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        weights.append(model.get_weights())
        if not run_eagerly and fast.enabled():
            assert all(isinstance(p, Plan) for p in model._train_plans.plans.values())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
