"""Keras model building beyond Sequential: the functional API (keras.Input, layers called on
symbolic tensors, merge layers, several inputs and outputs), subclassed models and custom layers
(tracking by attribute assignment), models used as layers, summary() for all, and the errors
for models that cannot work."""

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

rng = np.random.default_rng(0)


def relu(x):
    return np.maximum(x, 0)


def summary_of(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def rows_of(text):
    """The (name, shape, params[, connected]) cells of each table row (the lines of a cell
    wrapped over several are joined with spaces)."""
    rows, lines = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("│"):
            lines.append([c.strip() for c in line.strip("│").split("│")])
        elif lines:
            rows.append([" ".join(filter(None, column)) for column in zip(*lines)])
            lines = []
    return rows


# ----- the functional API -----------------------------------------------------------------------


def test_functional_mlp_computes_the_closed_form_and_lists_its_layers():
    keras.backend.clear_session()
    inputs = keras.Input(shape=(784,), name="digits")
    x1 = layers.Dense(64, activation="relu")(inputs)
    x2 = layers.Dense(64, activation="relu")(x1)
    outputs = layers.Dense(10, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)

    assert isinstance(inputs, keras.KerasTensor) and inputs.shape == (None, 784)
    assert outputs.shape == (None, 10) and model.name == "functional"
    assert [layer.name for layer in model.layers] == ["digits", "dense", "dense_1", "predictions"]
    assert model.inputs == [inputs] and model.outputs == [outputs]
    assert [w.path for w in model.trainable_weights] == [
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
        "predictions/kernel",
        "predictions/bias",
    ]
    assert model.count_params() == 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10

    x = rng.random((5, 784)).astype(np.float32)
    w1, b1, w2, b2, w3, b3 = model.get_weights()
    expected = relu(relu(x @ w1 + b1) @ w2 + b2) @ w3 + b3
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)

    rows = rows_of(summary_of(model))
    assert rows == [
        ["digits (InputLayer)", "(None, 784)", "0"],
        ["dense (Dense)", "(None, 64)", "50,240"],
        ["dense_1 (Dense)", "(None, 64)", "4,160"],
        ["predictions (Dense)", "(None, 10)", "650"],
    ]


def test_branches_joined_by_merge_layers_with_two_inputs_and_two_outputs():
    keras.backend.clear_session()
    a = keras.Input(shape=(4,), name="a")
    b = keras.Input(shape=(4,), name="b")
    ha = layers.Dense(3, name="da")(a)
    hb = layers.Dense(3, name="db")(b)
    added = layers.Add(name="sum")([ha, hb])
    product = layers.Multiply(name="product")([ha, hb])
    joined = layers.Concatenate(name="joined")([added, product, a])
    model = keras.Model(inputs=[a, b], outputs={"joined": joined, "sum": added})

    xa, xb = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    wa, ba, wb, bb = model.get_weights()
    pa, pb = xa @ wa + ba, xb @ wb + bb
    for given in ([xa, xb], {"a": xa, "b": xb}):
        out = model(given)
        assert set(out) == {"joined", "sum"}
        # float32 outputs against a float64 reference: an absolute tolerance for values near 0
        np.testing.assert_allclose(out["sum"].numpy(), pa + pb, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            out["joined"].numpy(),
            np.concatenate([pa + pb, pa * pb, xa], axis=1),
            rtol=1e-5,
            atol=1e-6,
        )

    rows = rows_of(summary_of(model))
    assert rows[0] == ["a (InputLayer)", "(None, 4)", "0", "-"]
    assert ["joined (Concatenate)", "(None, 10)", "0", "sum[0][0], product[0][0], a[0][0]"] in rows
    assert ["product (Multiply)", "(None, 3)", "0", "da[0][0], db[0][0]"] in rows


def test_a_shared_layer_counts_its_weights_once_and_shows_both_calls():
    keras.backend.clear_session()
    shared = layers.Dense(2, name="shared")
    a, b = keras.Input(shape=(3,), name="left"), keras.Input(shape=(3,), name="right")
    model = keras.Model([a, b], layers.Subtract(name="diff")([shared(a), shared(b)]))
    assert len(model.trainable_weights) == 2 and model.count_params() == 8
    xa, xb = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    kernel, _ = shared.get_weights()
    np.testing.assert_allclose(model([xa, xb]).numpy(), (xa - xb) @ kernel, rtol=1e-5, atol=1e-6)
    assert ["diff (Subtract)", "(None, 2)", "0", "shared[0][0], shared[1][0]"] in rows_of(
        summary_of(model)
    )


@pytest.mark.parametrize(
    "layer, closed_form",
    [
        (layers.Add(), lambda xs: xs[0] + xs[1] + xs[2]),
        (layers.Multiply(), lambda xs: xs[0] * xs[1] * xs[2]),
        (layers.Average(), lambda xs: (xs[0] + xs[1] + xs[2]) / 3),
        (layers.Maximum(), lambda xs: np.maximum(np.maximum(xs[0], xs[1]), xs[2])),
        (layers.Minimum(), lambda xs: np.minimum(np.minimum(xs[0], xs[1]), xs[2])),
        (layers.Concatenate(axis=1), lambda xs: np.concatenate(xs, axis=1)),
    ],
)
def test_merge_layers_match_closed_forms_eagerly_and_their_gradients(layer, closed_form):
    xs = [rng.standard_normal((2, 3)) for _ in range(3)]
    np.testing.assert_allclose(layer(xs).numpy(), closed_form(xs).astype(np.float32), rtol=1e-6)
    merge64 = type(layer)(dtype="float64", **({"axis": 1} if hasattr(layer, "axis") else {}))
    tf.gradcheck(lambda a, b, c: merge64([a, b, c]), *xs)


def test_merging_inputs_of_lower_rank_adds_axes_after_the_batch_axis():
    x, y = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(layers.Add()([x, y]).numpy(), x + y[:, None, :], rtol=1e-6)
    a, b = keras.Input(shape=(4, 3)), keras.Input(shape=(3,))
    assert layers.add([a, b]).shape == (None, 4, 3)
    assert layers.concatenate([a, a], axis=1).shape == (None, 8, 3)


def test_training_reaches_the_layers_unless_their_call_fixed_it():
    inputs = keras.Input(shape=(1000,))
    follows = layers.Dropout(0.5)(inputs)
    always = layers.Dropout(0.5)(inputs, training=True)
    model = keras.Model(inputs, [follows, always])
    x = np.ones((1, 1000), np.float32)
    inference, forced = model(x)
    np.testing.assert_array_equal(inference.numpy(), x)
    assert 0.3 < (forced.numpy() == 0).mean() < 0.7
    dropped, _ = model(x, training=True)
    assert 0.3 < (dropped.numpy() == 0).mean() < 0.7


def test_functional_model_trains_with_fit_and_with_a_gradient_tape():
    keras.utils.set_random_seed(1)
    y = rng.integers(0, 2, 256)
    x = (rng.standard_normal((256, 2)) + 2.5 * (2 * y[:, None] - 1)).astype(np.float32)
    inputs = keras.Input(shape=(2,))
    hidden = layers.Dense(8, activation="tanh")(inputs)
    logits = layers.Dense(2)(layers.Concatenate()([hidden, inputs]))
    model = keras.Model(inputs, logits)
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        metrics=["accuracy"],
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.evaluate(x, y, verbose=0)[1] > 0.95


# ----- subclassed models and custom layers ------------------------------------------------------


class Linear(layers.Layer):
    """The custom layer of Keras's guide: y = x w + b."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
            name="w",
        )
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True, name="b")

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b


class PairSum(layers.Layer):
    """A custom layer without compute_output_shape that changes the shape: (n, d) -> (n, d/2)."""

    def call(self, inputs):
        return inputs[:, 0::2] + inputs[:, 1::2]


class MLP(keras.Model):
    def __init__(self, hidden=(8, 8), classes=3, **kwargs):
        super().__init__(**kwargs)
        self.hidden = [layers.Dense(n, activation="relu") for n in hidden]
        self.extra = {"linear": Linear(4)}
        self.blocks = []  # filled after assignment: still tracked
        self.blocks.append(layers.Dense(classes))

    def call(self, x, training=False):
        for layer in self.hidden:
            x = layer(x)
        return self.blocks[0](self.extra["linear"](x))


def test_subclassed_model_tracks_layers_in_attributes_lists_and_dicts():
    keras.backend.clear_session()
    model = MLP()
    assert model.trainable_weights == [] and not model.built
    with pytest.raises(ValueError, match='model "mlp" has not yet been built'):
        model.summary()
    x = rng.standard_normal((5, 6)).astype(np.float32)
    out = model(x)
    assert out.shape == (5, 3)
    assert [layer.name for layer in model.layers] == ["dense", "dense_1", "linear", "dense_2"]
    # the layers are first called inside the model's call, so inside its name scope (Keras
    # 3.15.1 gives a model of this class "m/dense/kernel", ...)
    assert [w.path for w in model.weights] == [
        "mlp/dense/kernel",
        "mlp/dense/bias",
        "mlp/dense_1/kernel",
        "mlp/dense_1/bias",
        "mlp/linear/w",
        "mlp/linear/b",
        "mlp/dense_2/kernel",
        "mlp/dense_2/bias",
    ]
    w1, b1, w2, b2, w3, b3, w4, b4 = model.get_weights()
    expected = (relu(relu(x @ w1 + b1) @ w2 + b2) @ w3 + b3) @ w4 + b4
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)

    rows = rows_of(summary_of(model))
    assert rows == [
        ["dense (Dense)", "(None, 8)", "56"],
        ["dense_1 (Dense)", "(None, 8)", "72"],
        ["linear (Linear)", "?", "36"],
        ["dense_2 (Dense)", "(None, 3)", "15"],
    ]

    model.set_weights([w * 0 for w in model.get_weights()])
    assert not model(x).numpy().any()


def test_build_creates_the_weights_and_frozen_sublayers_are_not_trainable():
    model = MLP(hidden=(4,))
    model.build((None, 3))
    assert model.built and len(model.weights) == 6
    model.hidden[0].trainable = False
    assert len(model.trainable_weights) == 4 and len(model.non_trainable_weights) == 2
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 6


def test_subclassed_model_trains_with_fit():
    keras.utils.set_random_seed(2)
    y = rng.integers(0, 3, 300)
    x = (rng.standard_normal((300, 6)) + 3.0 * np.eye(3)[y].repeat(2, axis=1)).astype(np.float32)
    model = MLP()
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        metrics=["accuracy"],
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9


def test_custom_layers_in_functional_models_get_their_output_shapes():
    inputs = keras.Input(shape=(6,))
    halved = PairSum()(inputs)
    assert halved.shape == (None, 3)
    outputs = layers.Dense(2)(Linear(5)(halved))
    model = keras.Model(inputs, outputs)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    w, b, kernel, bias = model.get_weights()
    expected = ((x[:, 0::2] + x[:, 1::2]) @ w + b) @ kernel + bias
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_models_used_as_layers():
    keras.backend.clear_session()
    inputs = keras.Input(shape=(3,))
    inner = keras.Model(inputs, layers.Dense(4)(inputs), name="inner")
    probabilities = keras.Sequential([inner, layers.Softmax()])
    x = rng.standard_normal((2, 3)).astype(np.float32)
    logits = inner(x).numpy()
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probabilities(x).numpy(), expected, rtol=1e-5)
    assert probabilities.weights == inner.weights and probabilities.count_params() == 16
    assert rows_of(summary_of(probabilities)) == [
        ["inner (Functional)", "(None, 4)", "16"],
        ["softmax (Softmax)", "(None, 4)", "0"],
    ]

    outer_inputs = keras.Input(shape=(3,))
    subclassed = MLP(classes=4)
    outer = keras.Model(outer_inputs, layers.Add()([inner(outer_inputs), subclassed(outer_inputs)]))
    np.testing.assert_allclose(outer(x).numpy(), logits + subclassed(x).numpy(), rtol=1e-5)
    assert len(outer.trainable_weights) == 2 + 8
    nested = keras.Sequential([keras.Input(shape=(3,)), MLP(classes=2), layers.Dense(1)])
    assert nested(x).shape == (2, 1) and len(nested.trainable_weights) == 10


def test_sequential_accepts_keras_input_first():
    model = keras.Sequential([keras.Input(shape=(5,)), layers.Dense(2)])
    assert model.built and model.layers[0].kernel.shape == (5, 2)
    with pytest.raises(TypeError, match="accepted only as the model's input"):
        keras.Sequential([keras.Input(shape=(5,)), layers.Dense(2)(keras.Input(shape=(5,)))])


def test_metrics_objects_in_a_custom_loop():
    accuracy = keras.metrics.SparseCategoricalAccuracy()
    loss_mean = keras.metrics.Mean()
    for logits, labels, loss in [
        (np.array([[2.0, 1.0], [0.0, 1.0]]), [0, 0], 0.5),
        (np.array([[0.0, 3.0]]), [1], 1.5),
    ]:
        accuracy.update_state(labels, logits)
        loss_mean.update_state(tf.constant(loss))
    assert accuracy.result().numpy() == pytest.approx(2 / 3)
    assert float(loss_mean.result()) == 1.0
    accuracy.reset_state()
    assert float(accuracy.result()) == 0.0


# ----- errors -----------------------------------------------------------------------------------


def test_outputs_not_connected_to_the_inputs_are_refused():
    a, b = keras.Input(shape=(3,), name="first"), keras.Input(shape=(3,), name="second")
    with pytest.raises(
        ValueError,
        match=r"Graph disconnected: cannot find parent for tensor "
        r"<KerasTensor shape=\(None, 3\).*name=second> at layer "
        r"'dense.*not among the model's inputs \['first'\]",
    ):
        keras.Model(a, layers.Dense(2)(layers.Add()([a, layers.Dense(3)(b)])))
    with pytest.raises(ValueError, match="Graph disconnected.*it is an output of the model"):
        keras.Model(a, b)
    with pytest.raises(
        TypeError,
        match=r"Model\(outputs=...\): every element must be a symbolic "
        r"tensor.*got Tensor",
    ):
        keras.Model(a, tf.constant([1.0]))
    with pytest.raises(TypeError, match=r"Model\(inputs=...\).*got ndarray"):
        keras.Model(np.ones(3), layers.Dense(2)(a))


def test_layers_called_on_inputs_of_the_wrong_rank_or_shape():
    with pytest.raises(
        ValueError,
        match=r"needs inputs with a batch axis and a feature axis; got "
        r"input shape \(None,\)",
    ):
        layers.Dense(3)(keras.Input(shape=()))
    inputs = keras.Input(shape=(784,))
    model = keras.Model(inputs, layers.Dense(10)(inputs))
    with pytest.raises(
        ValueError,
        match=r'Input 0 of layer "functional.*" is incompatible with '
        r"the layer: expected shape=\(None, 784\), found "
        r"shape=\(2, 28, 28\)",
    ):
        model(np.zeros((2, 28, 28)))
    with pytest.raises(
        ValueError,
        match=r"expected axis -1 of input shape to have value 784.*"
        r"received input with shape \(None, 10\)",
    ):
        model.layers[1](keras.Input(shape=(10,)))


def test_multi_input_models_name_what_they_expected():
    a, b = keras.Input((2,), name="first"), keras.Input((2,), name="second")
    model = keras.Model([a, b], layers.Add()([a, b]))
    with pytest.raises(
        ValueError,
        match=r"expects inputs named \['first', 'second'\].*missing: "
        r"\['second'\]",
    ):
        model({"first": np.ones((1, 2))})
    with pytest.raises(ValueError, match=r"expects 2 inputs .* but it received 1"):
        model(np.ones((1, 2)))


def test_merge_and_construction_errors_are_clear():
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(4,))
    with pytest.raises(
        ValueError,
        match=r"inputs have incompatible shapes. Received shapes "
        r"\[\(None, 3\), \(None, 4\)\]",
    ):
        layers.Add()([a, b])
    with pytest.raises(ValueError, match="Subtract.*exactly 2 inputs"):
        layers.Subtract()([a, a, a])
    with pytest.raises(
        ValueError, match="requires inputs with matching shapes except for the concatenation axis"
    ):
        layers.Concatenate(axis=1)([keras.Input((2, 3)), keras.Input((2, 4))])
    with pytest.raises(ValueError, match="should be called on a list of inputs"):
        layers.Add()(np.ones((2, 3)))
    with pytest.raises(ValueError, match="different batch sizes"):
        layers.Add()([np.ones((2, 3)), np.ones((3, 3))])
    with pytest.raises(TypeError, match="called on a mix of symbolic inputs.*ndarray"):
        layers.Add()([a, np.ones((1, 3))])
    with pytest.raises(ValueError, match='The name "twin" is used 2 times in the model'):
        keras.Model(a, layers.Dense(1, name="twin")(layers.Dense(3, name="twin")(a)))


def test_forgetting_super_init_is_explained():
    class Forgetful(keras.Model):
        def __init__(self):
            self.dense = layers.Dense(2)

    with pytest.raises(RuntimeError, match=r"assigns 'dense' before calling super\(\).__init__"):
        Forgetful()


def test_tensors_given_as_keyword_arguments_are_part_of_the_graph():
    """The decoder reads the encoder's states through ``initial_state=``, and a Dense-made mask
    goes in through ``mask=``: both producers are in the model, trained, and in its config."""
    encoder_inputs = keras.Input(shape=(None, 3))
    _, h, c = keras.layers.LSTM(4, return_state=True)(encoder_inputs)
    decoder_inputs = keras.Input(shape=(5, 2))
    keep = keras.Input(shape=(5,), dtype="bool")
    decoded = keras.layers.LSTM(4)(decoder_inputs, initial_state=[h, c], mask=keep)
    model = keras.Model([encoder_inputs, decoder_inputs, keep], keras.layers.Dense(1)(decoded))
    assert [type(layer).__name__ for layer in model.layers].count("LSTM") == 2
    assert model.count_params() == 4 * 4 * (3 + 4 + 1) + 4 * 4 * (2 + 4 + 1) + 5  # 4 gates
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(8, 6, 3)), rng.normal(size=(8, 5, 2)), rng.random((8, 5)) > 0.3]
    encoder_kernel = model.layers[2].get_weights()[0].copy()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, rng.normal(size=(8, 1)), epochs=1, verbose=0)
    assert not np.allclose(model.layers[2].get_weights()[0], encoder_kernel)
    masked = x[1].copy()
    masked[~x[2]] = 99.0  # masked steps are skipped: their values change nothing
    np.testing.assert_allclose(
        model.predict([x[0], masked, x[2]], verbose=0), model.predict(x, verbose=0), atol=1e-6
    )
    again = keras.Model.from_config(model.get_config())
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_a_functional_model_names_its_outputs_by_the_layers_computing_them():
    # Keras 3.15.1: Model(i, [Dense(1, name="a")(i), Dense(1, name="b")(i)]).output_names
    # -> ['a', 'b']; outputs {"p": Dense(2, name="a")(i), "q": ops.relu(...)} -> ['a', 'relu'];
    # Model(i, i) with Input name "inp" -> ['inp']; a layer's two outputs -> ['split', 'split'];
    # the attribute can be set; Sequential and subclassed models have none (AttributeError)
    i = keras.Input((3,), name="inp")
    model = keras.Model(i, [layers.Dense(1, name="a")(i), layers.Dense(1, name="b")(i)])
    assert model.output_names == ["a", "b"]
    x = layers.Dense(2, name="a2")(i)
    assert keras.Model(i, {"p": x, "q": keras.ops.relu(x)}).output_names == ["a2", "relu"]
    assert keras.Model(i, i).output_names == ["inp"]
    split = layers.Lambda(lambda t: [t, t], name="split")(i)
    assert keras.Model(i, split).output_names == ["split", "split"]
    model.output_names = ["x", "y"]
    assert model.output_names == ["x", "y"]

    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x):
            return self.d(x)

    for other in (keras.Sequential([keras.Input((3,)), layers.Dense(2)]), Sub()):
        other(np.ones((1, 3)))
        with pytest.raises(AttributeError):
            other.output_names


def test_a_functional_model_refuses_add_loss():
    # Keras 3.15.1: Functional.add_loss raises NotImplementedError, for a symbolic loss
    # (model.add_loss(100.0 + 0.0 * ops.mean(h))) as for any other
    inputs = keras.Input((4,))
    hidden = layers.Dense(2)(inputs)
    model = keras.Model(inputs, hidden)
    with pytest.raises(NotImplementedError, match="cannot add a loss itself"):
        model.add_loss(100.0 + 0.0 * keras.ops.mean(hidden))
    assert model.losses == []


def test_input_shape_must_be_a_tuple_as_keras_says():
    # Keras 3.15.1: keras.Input(shape=784) -> ValueError "Cannot convert '784' to a shape.";
    # shape=(784.0,) -> "Cannot convert '(784.0,)' to a shape. Found invalid dimension '784.0'
    # of type '<class 'float'>'."; shape=(-1, 3) -> "... Negative dimensions are not allowed.";
    # shape=[784] and shape=(np.int64(3),) are fine: (None, 784), (None, 3)
    with pytest.raises(ValueError, match="^Cannot convert '784' to a shape\\."):
        keras.Input(shape=784)
    with pytest.raises(ValueError, match="Found invalid dimension '784.0' of type"):
        keras.Input(shape=(784.0,))
    with pytest.raises(ValueError, match="Negative dimensions are not allowed"):
        keras.Input(shape=(-1, 3))
    with pytest.raises(ValueError, match="^Cannot convert '5' to a shape\\."):
        keras.Input(batch_shape=5)
    assert keras.Input(shape=[784]).shape == (None, 784)
    assert keras.Input(shape=(np.int64(3),)).shape == (None, 3)


def test_a_functional_model_may_pass_a_layers_first_input_by_keyword():
    # Keras 3.15.1: y = Double()(logits=i, targets=t); Model([i, t], y)([ones, ones])[0, 0]
    # -> 3.0 (the endpoint layer pattern)
    class Double(layers.Layer):
        def call(self, logits, targets=None):
            return logits * 2.0 + targets

    i, t = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([i, t], Double()(logits=i, targets=t))
    ones = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(model([ones, ones]).numpy(), np.full((2, 3), 3.0))


def test_a_config_with_the_input_passed_by_keyword_loads():
    # Keras 3.15.1 writes the call Double()(logits=i, targets=t) of a functional model with
    # empty args: {'args': (), 'kwargs': {'logits': <tensor i>, 'targets': <tensor t>}}
    class Double(layers.Layer):
        def call(self, logits, targets=None):
            return logits * 2.0 + targets

    i, t = keras.Input((3,)), keras.Input((3,))
    config = keras.Model([i, t], Double(name="double")(logits=i, targets=t)).get_config()
    (call,) = config["layers"][-1]["inbound_nodes"]
    call["kwargs"]["logits"] = call["args"].pop(0)
    assert call["args"] == [] and sorted(call["kwargs"]) == ["logits", "targets"]
    model = keras.Model.from_config(config, custom_objects={"Double": Double})
    ones = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(model([ones, ones]).numpy(), np.full((2, 3), 3.0))
