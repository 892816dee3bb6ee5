"""The recurrent layers: outputs against real Keras 3 on fixed weights, gradients against finite
differences (float64), Keras's weights and configs, masks, states, dropout, the wrappers, and
an LSTM text classifier trained with fit."""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.keras as keras
from chainrule.keras import layers

rng = np.random.default_rng(7)


def fill(layer, seed):
    """The weights that ``fill`` in the Keras script below gives (one seeded draw per weight)."""
    weights = [
        np.random.default_rng(seed + i).uniform(-0.5, 0.5, w.shape).astype("float32")
        for i, w in enumerate(layer.weights)
    ]
    layer.set_weights(weights)


X = np.random.default_rng(0).uniform(-1, 1, (2, 4, 2)).astype("float32")
MASK = np.array([[True, True, True, False], [True, False, True, True]])

CASES = {
    "simple_rnn_seq": (lambda: layers.SimpleRNN(3, return_sequences=True), {}),
    "lstm_state_mask": (lambda: layers.LSTM(3, return_state=True), {"mask": MASK}),
    "lstm_seq_mask": (lambda: layers.LSTM(3, return_sequences=True), {"mask": MASK}),
    "gru_backwards": (lambda: layers.GRU(3, go_backwards=True, return_sequences=True), {}),
    "gru_reset_before": (lambda: layers.GRU(3, reset_after=False), {}),
    "bidi_concat_mask": (
        lambda: layers.Bidirectional(layers.LSTM(2, return_sequences=True)),
        {"mask": MASK},
    ),
    "bidi_ave": (lambda: layers.Bidirectional(layers.GRU(2), merge_mode="ave"), {}),
}

# Computed with real Keras 3.15.1 (KERAS_BACKEND=jax), rounded to 6 decimals:
#     import numpy as np, keras
#     from keras import layers
#
#     def fill(layer, seed):
#         ws = [np.random.default_rng(seed + i).uniform(-0.5, 0.5, w.shape).astype("float32") for i, w in enumerate(layer.weights)]
#         layer.set_weights(ws)
#
#     x = np.random.default_rng(0).uniform(-1, 1, (2, 4, 2)).astype("float32")
#     mask = np.array([[True, True, True, False], [True, False, True, True]])
#     cases = {
#         "simple_rnn_seq": (lambda: layers.SimpleRNN(3, return_sequences=True), {}),
#         "lstm_state_mask": (lambda: layers.LSTM(3, return_state=True), {"mask": mask}),
#         "lstm_seq_mask": (lambda: layers.LSTM(3, return_sequences=True), {"mask": mask}),
#         "gru_backwards": (lambda: layers.GRU(3, go_backwards=True, return_sequences=True), {}),
#         "gru_reset_before": (lambda: layers.GRU(3, reset_after=False), {}),
#         "bidi_concat_mask": (lambda: layers.Bidirectional(layers.LSTM(2, return_sequences=True)), {"mask": mask}),
#         "bidi_ave": (lambda: layers.Bidirectional(layers.GRU(2), merge_mode="ave"), {}),
#     }
#     for name, (make, kw) in cases.items():
#         layer = make()
#         layer.build(x.shape)
#         fill(layer, 10)
#         out = layer(x, **kw)
#         outs = out if isinstance(out, (list, tuple)) else [out]
#         print(f"    \"{name}\": {[np.asarray(o).round(6).tolist() for o in outs]},")
KERAS_OUTPUTS = {
    "simple_rnn_seq": [
        [
            [
                [0.037197, 0.345905, -0.053029],
                [-0.448443, 0.537446, -0.13128],
                [-0.275991, 0.133086, -0.27261],
                [-0.154753, 0.417415, -0.462891],
            ],
            [
                [-0.473494, 0.407317, -0.536213],
                [0.538417, 0.295713, 0.143842],
                [0.002789, 0.067996, 0.469544],
                [-0.046977, 0.106003, 0.306124],
            ],
        ]
    ],
    "lstm_state_mask": [
        [[0.010059, -0.069222, 0.065926], [0.147812, -0.167498, 0.112885]],
        [[0.010059, -0.069222, 0.065926], [0.147812, -0.167498, 0.112885]],
        [[0.013599, -0.18304, 0.115588], [0.249583, -0.40424, 0.282503]],
    ],
    "lstm_seq_mask": [
        [
            [
                [0.097716, -0.103174, 0.083322],
                [0.060887, -0.197041, 0.108467],
                [0.010059, -0.069222, 0.065926],
                [0.010059, -0.069222, 0.065926],
            ],
            [
                [-0.039168, -0.000309, 0.045628],
                [-0.039168, -0.000309, 0.045628],
                [0.157949, -0.112154, 0.083177],
                [0.147812, -0.167498, 0.112885],
            ],
        ]
    ],
    "gru_backwards": [
        [
            [
                [0.149276, -0.222468, 0.334893],
                [0.267618, -0.340212, 0.482703],
                [-0.239651, -0.362668, 0.438287],
                [-0.136361, -0.224441, 0.382623],
            ],
            [
                [-0.018324, -0.005566, 0.165569],
                [-0.064853, 0.115166, 0.188775],
                [-0.103463, 0.163974, 0.192885],
                [0.106554, -0.165024, 0.447481],
            ],
        ]
    ],
    "gru_reset_before": [[[0.164699, -0.324826, 0.378476], [-0.03742, 0.060141, 0.170246]]],
    "bidi_concat_mask": [
        [
            [
                [-0.044288, -0.0905, 0.06222, -0.097025],
                [-0.045315, -0.055817, 0.042218, -0.155367],
                [-0.059517, -0.142638, -0.204944, -0.032785],
                [0.0, 0.0, 0.0, 0.0],
            ],
            [
                [-0.022031, -0.028261, -0.091101, -0.103126],
                [0.0, 0.0, 0.0, 0.0],
                [-0.062594, -0.111808, 0.063594, -0.002758],
                [-0.07548, -0.14182, 0.039705, -0.024549],
            ],
        ]
    ],
    "bidi_ave": [[[-0.001184, -0.26557], [-0.19802, -0.152053]]],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_match_keras_on_fixed_weights(name):
    make, kwargs = CASES[name]
    layer = make()
    layer.build(X.shape)
    fill(layer, 10)
    out = layer(X, **kwargs)
    outs = out if isinstance(out, (list, tuple)) else [out]
    assert len(outs) == len(KERAS_OUTPUTS[name])
    for got, want in zip(outs, KERAS_OUTPUTS[name]):
        np.testing.assert_allclose(got.numpy(), np.array(want), atol=2e-6)


# Keras 3.15.1's weights, from
#     layer.build((None, 5, 3)); [(w.path, w.shape) for w in layer.weights]
KERAS_WEIGHTS = {
    "SimpleRNN": [("kernel", (3, 4)), ("recurrent_kernel", (4, 4)), ("bias", (4,))],
    "LSTM": [("kernel", (3, 16)), ("recurrent_kernel", (4, 16)), ("bias", (16,))],
    "GRU": [("kernel", (3, 12)), ("recurrent_kernel", (4, 12)), ("bias", (2, 12))],
}


@pytest.mark.parametrize("name", sorted(KERAS_WEIGHTS))
def test_weights_have_keras_names_shapes_and_order(name):
    layer = getattr(layers, name)(4)
    layer.build((None, 5, 3))
    assert [(w.name, w.shape) for w in layer.weights] == KERAS_WEIGHTS[name]
    assert layer.cell.name == {"SimpleRNN": "simple_rnn_cell"}.get(name, name.lower() + "_cell")


def test_lstm_forget_gate_bias_starts_at_one():
    layer = layers.LSTM(2, bias_initializer="zeros")
    layer.build((None, 3, 1))
    np.testing.assert_array_equal(layer.cell.bias.numpy(), [0, 0, 1, 1, 0, 0, 0, 0])
    plain = layers.LSTM(2, unit_forget_bias=False)
    plain.build((None, 3, 1))
    np.testing.assert_array_equal(plain.cell.bias.numpy(), np.zeros(8))


def test_wrappers_hold_keras_weights():
    bidirectional = layers.Bidirectional(layers.LSTM(2, name="lstm"))
    bidirectional.build((None, 5, 3))
    assert [w.shape for w in bidirectional.weights] == [(3, 8), (2, 8), (8,)] * 2
    assert bidirectional.forward_layer.name == "forward_lstm"
    assert bidirectional.backward_layer.name == "backward_lstm"
    assert bidirectional.backward_layer.go_backwards
    distributed = layers.TimeDistributed(layers.Dense(2))
    distributed.build((None, 5, 3))
    assert [w.shape for w in distributed.weights] == [(3, 2), (2,)]


# The keys of Keras 3.15.1's configs (KERAS_BACKEND=jax):
#     sorted(keras.layers.LSTM(4).get_config()), and so on.
LAYER_KEYS = [
    "activation", "activity_regularizer", "bias_constraint", "bias_initializer",
    "bias_regularizer", "dropout", "dtype", "go_backwards", "kernel_constraint",
    "kernel_initializer", "kernel_regularizer", "name", "recurrent_constraint",
    "recurrent_dropout", "recurrent_initializer", "recurrent_regularizer", "return_sequences",
    "return_state", "stateful", "trainable", "units", "unroll", "use_bias",
    "zero_output_for_mask",
]  # fmt: skip
KERAS_CONFIG_KEYS = {
    "SimpleRNN": sorted(LAYER_KEYS),
    "LSTM": sorted(LAYER_KEYS + ["recurrent_activation", "unit_forget_bias", "seed"]),
    "GRU": sorted(LAYER_KEYS + ["recurrent_activation", "reset_after", "seed"]),
}


@pytest.mark.parametrize("name", sorted(KERAS_CONFIG_KEYS))
def test_config_has_keras_keys_and_round_trips(name):
    layer = getattr(layers, name)(
        4, return_sequences=True, go_backwards=True, dropout=0.25, activation="relu"
    )
    config = layer.get_keras_config()
    assert sorted(config) == KERAS_CONFIG_KEYS[name]
    assert config["units"] == 4 and config["dropout"] == 0.25 and config["activation"] == "relu"
    copy = getattr(layers, name).from_config(config)
    assert copy.get_config() == layer.get_config()
    assert copy.go_backwards and copy.return_sequences and copy.cell.dropout == 0.25


def test_gru_loads_a_keras_config():
    # keras.layers.GRU(3, reset_after=False, return_state=True).get_config(), Keras 3.15.1
    config = {
        "name": "gru", "trainable": True,
        "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                  "registered_name": None},
        "return_sequences": False, "return_state": True, "go_backwards": False,
        "stateful": False, "unroll": False, "zero_output_for_mask": False, "units": 3,
        "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
        "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                               "config": {"seed": None}, "registered_name": None},
        "recurrent_initializer": {"module": "keras.initializers", "class_name": "Orthogonal",
                                  "config": {"seed": None, "gain": 1.0},
                                  "registered_name": None},
        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros",
                             "config": {}, "registered_name": None},
        "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
        "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
        "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0,
        "reset_after": False, "seed": None,
    }  # fmt: skip
    layer = layers.GRU.from_config(config)
    output, state = layer(X)
    assert output.shape == (2, 3) and not layer.reset_after
    np.testing.assert_array_equal(output.numpy(), state.numpy())
    assert layer.cell.bias.shape == (9,)


def _swap(cells, tensors):
    """Put ``tensors`` in place of the cells' kernel, recurrent_kernel and bias, in order."""
    tensors = iter(tensors)
    for cell in cells:
        cell.kernel, cell.recurrent_kernel, cell.bias = next(tensors), next(tensors), next(tensors)


def _gradcheck_layer(layer, x, cells, **call_kwargs):
    layer.build(x.shape)
    weights = [w + rng.standard_normal(w.shape) * 0.2 for w in layer.get_weights()]

    def fn(x, *tensors):
        _swap(cells(layer), tensors)
        out = layer.call(x, **call_kwargs)
        return out[0] * out[1].sum() if isinstance(out, list) else out

    assert cr.gradcheck(fn, x, *weights, atol=1e-7, rtol=1e-5) < 1e-4


GRADIENT_CASES = {
    "simple_rnn": lambda: layers.SimpleRNN(3, return_sequences=True, dtype="float64"),
    "lstm": lambda: layers.LSTM(3, return_sequences=True, dtype="float64"),
    "lstm_backwards_state": lambda: layers.LSTM(
        2, go_backwards=True, return_state=True, dtype="float64"
    ),
    "gru": lambda: layers.GRU(3, return_sequences=True, dtype="float64"),
    "gru_reset_before": lambda: layers.GRU(2, reset_after=False, dtype="float64"),
}


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
@pytest.mark.parametrize("masked", [False, True])
def test_backpropagation_through_time_matches_finite_differences(name, masked):
    x = rng.standard_normal((2, 4, 3))
    kwargs = {"mask": cr.Tensor(MASK)} if masked else {}
    _gradcheck_layer(GRADIENT_CASES[name](), x, lambda layer: [layer.cell], **kwargs)


class _StepLoopCell:
    """Subclasses of the built-in cells: the RNN layer runs them step by step (a subclass may
    change ``call``), so they give the step loop's results for the fused recurrence's."""

    lstm = type("StepLoopLSTMCell", (layers.LSTMCell,), {})
    gru = type("StepLoopGRUCell", (layers.GRUCell,), {})
    simple_rnn = type("StepLoopSimpleRNNCell", (layers.SimpleRNNCell,), {})


FUSED_CASES = {
    "lstm": ("lstm", {}, {}),
    "lstm_seq_state_mask_backwards": (
        "lstm",
        {},
        {"return_sequences": True, "return_state": True, "go_backwards": True},
    ),
    "gru": ("gru", {}, {"return_sequences": True, "return_state": True}),
    "gru_reset_before_backwards": ("gru", {"reset_after": False}, {"go_backwards": True}),
    "simple_rnn_no_bias": ("simple_rnn", {"use_bias": False}, {"return_sequences": True}),
}


@pytest.mark.parametrize("name", sorted(FUSED_CASES))
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("given_states", [False, True])
def test_fused_recurrence_equals_the_step_loop(name, masked, given_states):
    kind, cell_options, layer_options = FUSED_CASES[name]
    cells = {"lstm": layers.LSTMCell, "gru": layers.GRUCell, "simple_rnn": layers.SimpleRNNCell}
    fused = layers.RNN(cells[kind](4, **cell_options), **layer_options)
    looped = layers.RNN(getattr(_StepLoopCell, kind)(4, **cell_options), **layer_options)
    x = rng.standard_normal((3, 5, 2)).astype("float32")
    fused.build(x.shape)
    looped.build(x.shape)
    looped.set_weights(fused.get_weights())
    assert fused.cell.fuses_sequence(training=True)
    assert not looped.cell.fuses_sequence(training=True)
    kwargs = {
        "mask": cr.Tensor(np.array([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1], [0, 1, 1, 0, 1]], bool))
    }
    kwargs = kwargs if masked else {}
    if given_states:
        sizes = fused.state_size
        kwargs["initial_state"] = [
            cr.Tensor(rng.standard_normal((3, size)).astype("float32"), requires_grad=True)
            for size in sizes
        ]
    results = []
    for layer in (fused, looped):
        inputs = cr.Tensor(x, requires_grad=True)
        outputs = layer(inputs, training=True, **kwargs)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        loss = sum((out * np.cos(np.arange(out.size)).reshape(out.shape)).sum() for out in outputs)
        loss.backward()
        states = kwargs.get("initial_state", [])
        grads = [inputs.grad] + [w.grad for w in layer.weights] + [s.grad for s in states]
        results.append(([out.numpy() for out in outputs], [g.numpy() for g in grads]))
        for tensor in (*layer.weights, *states):
            tensor.grad = None
    for mine, theirs in zip(*[outputs + grads for outputs, grads in results]):
        np.testing.assert_allclose(mine, theirs, rtol=2e-5, atol=2e-6)


def test_dropout_in_training_and_other_activations_keep_the_step_loop():
    assert not layers.LSTMCell(2, dropout=0.5).fuses_sequence(training=True)
    assert layers.LSTMCell(2, dropout=0.5).fuses_sequence(training=False)
    assert not layers.GRUCell(2, recurrent_dropout=0.1).fuses_sequence(training=True)
    assert not layers.SimpleRNNCell(2, activation="relu").fuses_sequence(training=False)
    assert not layers.LSTMCell(2, recurrent_activation="hard_sigmoid").fuses_sequence(False)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
def test_bidirectional_gradients_match_finite_differences(merge_mode):
    layer = layers.Bidirectional(
        layers.GRU(2, return_sequences=True, dtype="float64"), merge_mode=merge_mode
    )
    x = rng.standard_normal((2, 3, 2))
    cells = lambda layer: [layer.forward_layer.cell, layer.backward_layer.cell]  # noqa: E731
    _gradcheck_layer(layer, x, cells, mask=cr.Tensor(MASK[:, :3]))


def test_time_distributed_applies_the_layer_to_every_step_with_its_gradient():
    dense = layers.Dense(2, activation="tanh", dtype="float64")
    layer = layers.TimeDistributed(dense, dtype="float64")
    x = rng.standard_normal((2, 4, 3))
    layer.build(x.shape)
    kernel, bias = layer.get_weights()
    expected = np.tanh(x @ kernel + bias)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-12)

    def fn(x, kernel, bias):
        dense.kernel, dense.bias = kernel, bias
        return layer.call(x)

    assert cr.gradcheck(fn, x, kernel, bias) < 1e-4
    assert layer.compute_output_shape((None, 4, 3)) == (None, 4, 2)


def test_masked_steps_keep_the_previous_state_and_output():
    layer = layers.LSTM(3, return_sequences=True, return_state=True)
    x = X.copy()
    out_full, h_full, c_full = layer(x[:1, :3])
    masked = np.array([[True, True, True, False]])
    out, h, c = layer(x[:1], mask=masked)
    np.testing.assert_allclose(out.numpy()[:, :3], out_full.numpy(), rtol=1e-6)
    np.testing.assert_allclose(out.numpy()[:, 3], out.numpy()[:, 2], rtol=1e-6)
    np.testing.assert_allclose(h.numpy(), h_full.numpy(), rtol=1e-6)
    np.testing.assert_allclose(c.numpy(), c_full.numpy(), rtol=1e-6)
    zeroed = layers.RNN(layer.cell, return_sequences=True, zero_output_for_mask=True)
    np.testing.assert_array_equal(zeroed(x[:1], mask=masked).numpy()[:, 3], 0.0)


def test_initial_state_and_return_state():
    layer = layers.SimpleRNN(2, return_state=True, use_bias=False)
    layer.build((None, 1, 1))
    kernel = np.array([[0.5, -0.5]], "float32")
    recurrent = np.array([[0.1, 0.2], [0.3, 0.4]], "float32")
    layer.set_weights([kernel, recurrent])
    x = np.array([[[1.0]]], "float32")
    h0 = np.array([[1.0, 2.0]], "float32")
    output, state = layer(x, initial_state=[h0])
    np.testing.assert_allclose(output.numpy(), np.tanh(x[:, 0] @ kernel + h0 @ recurrent), 1e-6)
    np.testing.assert_array_equal(state.numpy(), output.numpy())
    with pytest.raises(ValueError, match="1 states"):
        layer(x, initial_state=[h0, h0])


def test_stateful_layer_carries_states_between_batches_until_reset():
    layer = layers.GRU(3, stateful=True)
    whole = layers.GRU(3)
    layer.build((2, 4, 2))
    whole.build((2, 4, 2))
    whole.set_weights(layer.get_weights())
    first, second = layer(X[:, :2]), layer(X[:, 2:])
    np.testing.assert_allclose(second.numpy(), whole(X).numpy(), rtol=1e-5)
    layer.reset_states()
    np.testing.assert_allclose(layer(X[:, :2]).numpy(), first.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="stateful"):
        layer(X[:1])


def test_dropout_acts_in_training_only_with_one_mask_per_sequence():
    layer = layers.SimpleRNN(4, dropout=0.5, recurrent_dropout=0.5, seed=3)
    x = np.ones((8, 5, 3), "float32")
    inference = layer(x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), inference.numpy())
    trained = layer(x, training=True)
    assert not np.allclose(trained.numpy(), inference.numpy())
    assert layer.cell._dropout_mask is None  # forgotten after the sequence
    with pytest.raises(ValueError, match="dropout"):
        layers.LSTM(2, dropout=1.5)


class MinimalRNNCell(layers.Layer):
    """Keras's own example of a cell (the RNN docstring)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), name="recurrent_kernel"
        )

    def call(self, inputs, states):
        prev_output = states[0]
        output = inputs @ self.kernel + prev_output @ self.recurrent_kernel
        return output, [output]


def test_rnn_runs_a_user_cell_and_a_stack_of_cells():
    cell = MinimalRNNCell(3)
    x = rng.standard_normal((2, 4, 5)).astype("float32")
    y = layers.RNN(cell)(x)
    kernel, recurrent = cell.kernel.numpy(), cell.recurrent_kernel.numpy()
    h = np.zeros((2, 3), "float32")
    for t in range(4):
        h = x[:, t] @ kernel + h @ recurrent
    np.testing.assert_allclose(y.numpy(), h, rtol=1e-5, atol=1e-6)

    stacked = layers.RNN([MinimalRNNCell(3), MinimalRNNCell(6)], return_state=True)
    output, first_states, second_states = stacked(x)
    assert output.shape == (2, 6)
    assert first_states[0].shape == (2, 3) and second_states[0].shape == (2, 6)
    inputs = keras.Input((None, 5))
    assert layers.RNN(MinimalRNNCell(3), return_sequences=True)(inputs).shape == (None, None, 3)


def test_bidirectional_merge_modes_and_states():
    forward = layers.LSTM(2, return_sequences=True, return_state=True)
    layer = layers.Bidirectional(forward, merge_mode=None)
    y, y_rev, h, c, h_rev, c_rev = layer(X)
    assert y.shape == y_rev.shape == (2, 4, 2) and h_rev.shape == (2, 2)
    summed = layers.Bidirectional(layers.LSTM(2, return_sequences=True), merge_mode="sum")
    summed.build(X.shape)
    summed.set_weights(layer.get_weights())
    np.testing.assert_allclose(summed(X).numpy(), (y + y_rev).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="merge_mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="opposite"):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2))
    config = layers.Bidirectional(layers.GRU(2)).get_keras_config()
    copy = layers.Bidirectional.from_config(config)
    assert copy.backward_layer.go_backwards and copy.merge_mode == "concat"


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="units"):
        layers.GRU(0)
    with pytest.raises(ValueError, match="time"):
        layers.LSTM(2)(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="state_size"):
        layers.RNN(layers.Dense(2))


def test_lstm_text_classifier_trains_with_fit():
    keras.utils.set_random_seed(0)
    vocabulary, length = 30, 12
    data = np.random.default_rng(0)
    lengths = data.integers(3, length + 1, 256)
    tokens = [list(data.integers(1, vocabulary, n)) for n in lengths]
    labels = np.array([float(np.mean(np.array(t) > vocabulary // 2) > 0.5) for t in tokens])
    x = keras.utils.pad_sequences(tokens, maxlen=length)
    model = keras.Sequential(
        [
            keras.Input((length,), dtype="int32"),
            layers.Embedding(vocabulary, 8, mask_zero=True),
            layers.LSTM(8),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(x, labels, epochs=8, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0]
    assert history.history["accuracy"][-1] > 0.8


def _keras_lstm_config(name, go_backwards):
    """The config Keras 3.15.1 writes for an LSTM(2) inside Bidirectional (its initializers
    shortened to the keys chainrule reads)."""
    initializer = {
        "module": "keras.initializers",
        "config": {"seed": None},
        "registered_name": None,
    }
    return {
        "module": "keras.layers", "class_name": "LSTM", "registered_name": None,
        "build_config": {"input_shape": [None, 5, 3]},
        "config": {
            "name": name, "trainable": True,
            "dtype": {"module": "keras", "class_name": "DTypePolicy",
                      "config": {"name": "float32"}, "registered_name": None},
            "return_sequences": False, "return_state": False, "go_backwards": go_backwards,
            "stateful": False, "unroll": False, "zero_output_for_mask": False, "units": 2,
            "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
            "kernel_initializer": {**initializer, "class_name": "GlorotUniform"},
            "recurrent_initializer": {**initializer, "class_name": "Orthogonal",
                                      "config": {"seed": None, "gain": 1.0}},
            "bias_initializer": {**initializer, "class_name": "Zeros", "config": {}},
            "unit_forget_bias": True, "kernel_regularizer": None,
            "recurrent_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None,
            "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0,
            "recurrent_dropout": 0.0, "seed": None,
        },
    }  # fmt: skip


def test_bidirectional_loads_a_keras_config():
    # keras.layers.Bidirectional(keras.layers.LSTM(2)).get_config() after build((None, 5, 3))
    description = {
        "module": "keras.layers",
        "class_name": "Bidirectional",
        "config": {
            "name": "bidirectional",
            "trainable": True,
            "dtype": "float32",
            "merge_mode": "concat",
            "layer": _keras_lstm_config("forward_lstm_1", False),
            "backward_layer": _keras_lstm_config("backward_lstm_1", True),
        },
    }
    layer = keras.saving.deserialize_keras_object(description)
    assert layer.forward_layer.name == "forward_lstm_1"
    assert layer.backward_layer.name == "backward_lstm_1" and layer.backward_layer.go_backwards
    assert layer(rng.standard_normal((2, 5, 3)).astype("float32")).shape == (2, 4)
    assert [w.shape for w in layer.weights] == [(3, 8), (2, 8), (8,)] * 2
