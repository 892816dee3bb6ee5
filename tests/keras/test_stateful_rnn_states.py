"""The kept states of a stateful RNN layer are Variables, as in Keras 3: made at build when the
batch size is known, updated by each call, set by ``assign``, zeroed by ``reset_states``, and
outside the layer's weights and saved files.

The expected values were recorded with Keras 3.15.1 on JAX (KERAS_BACKEND=jax)::

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 5)).astype("float32")
    lstm = layers.LSTM(3, stateful=True, name="memory"); lstm.build((2, 4, 5))
    lstm.set_weights([0.3 * rng.normal(size=w.shape).astype("float32")
                      for w in lstm.get_weights()])
    y1, y2 = lstm(x), lstm(x)
    lstm.states[0].assign(np.full((2, 3), 0.5)); lstm.states[1].assign(np.full((2, 3), -0.25))
    y3 = lstm(x)
"""

import numpy as np
import pytest

import chainrule.keras as keras
from chainrule import nest
from chainrule.keras import layers
from chainrule.keras.models import load_model

Y1 = [[-0.06635, -0.033787, -0.005588], [0.071573, 0.061855, -0.00655]]
Y2 = [[-0.072405, -0.0374, -0.002659], [0.084899, 0.066949, -0.008722]]
Y3 = [[-0.064258, -0.035314, -0.022404], [0.058419, 0.062599, -0.012551]]


def memory():
    """The LSTM of the module docstring, built, with its weights set, and its input."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 5)).astype("float32")
    lstm = layers.LSTM(3, stateful=True, name="memory")
    lstm.build((2, 4, 5))
    lstm.set_weights([0.3 * rng.normal(size=w.shape).astype("float32") for w in lstm.get_weights()])
    return lstm, x


def test_the_states_are_non_trainable_variables_outside_the_weights():
    # as Keras 3: two Variables rnn_state (path memory/rnn_state) of shape (2, 3) once built, in
    # neither weights (3, the cell's) nor non_trainable_weights nor variables
    lstm, _ = memory()
    assert all(isinstance(state, keras.Variable) for state in lstm.states)
    assert [state.name for state in lstm.states] == ["rnn_state", "rnn_state"]
    assert [state.path for state in lstm.states] == ["memory/rnn_state", "memory/rnn_state"]
    assert [state.shape for state in lstm.states] == [(2, 3), (2, 3)]
    assert not any(state.trainable for state in lstm.states)
    assert len(lstm.weights) == 3 and lstm.non_trainable_weights == []
    assert not any(state is v for state in lstm.states for v in lstm.variables)
    assert layers.LSTM(3, stateful=True).states is None  # as Keras: none before the build


def test_calls_carry_the_states_and_assign_sets_them():
    lstm, x = memory()
    first = lstm.states[0]
    np.testing.assert_allclose(lstm(x).numpy(), Y1, atol=2e-6)
    np.testing.assert_allclose(lstm(x).numpy(), Y2, atol=2e-6)
    assert lstm.states[0] is first  # as Keras: the same Variables, assigned by each call
    lstm.states[0].assign(np.full((2, 3), 0.5))
    lstm.states[1].assign(np.full((2, 3), -0.25))
    np.testing.assert_allclose(lstm(x).numpy(), Y3, atol=2e-6)
    lstm.reset_states()
    assert lstm.states[0] is first
    np.testing.assert_array_equal(lstm.states[1].numpy(), np.zeros((2, 3)))
    np.testing.assert_allclose(lstm(x).numpy(), Y1, atol=2e-6)


def test_an_array_read_from_a_state_keeps_its_values():
    # as Keras 3 (np.asarray of a state is a copy there): later calls and reset_states leave an
    # array read before alone
    lstm, x = memory()
    lstm(x)
    before = np.asarray(lstm.states[0])
    kept = before.copy()
    lstm(x)
    lstm.reset_states()
    np.testing.assert_array_equal(before, kept)
    assert np.abs(kept).sum() > 0


def test_a_gradient_uses_the_states_the_call_started_from():
    # the call's graph keeps its starting states even when they are assigned before backward
    lstm, x = memory()
    fresh = layers.LSTM(3)
    fresh.build((2, 4, 5))
    fresh.set_weights(lstm.get_weights())
    start = [np.full((2, 3), 0.5, "float32"), np.full((2, 3), -0.25, "float32")]
    for state, value in zip(lstm.states, start):
        state.assign(value)
    kept = lstm(x).sum()
    lstm.states[0].assign(np.zeros((2, 3)))
    kept.backward()
    fresh(x, initial_state=start).sum().backward()
    np.testing.assert_allclose(lstm.cell.kernel.grad, fresh.cell.kernel.grad, rtol=1e-6)


def test_stacked_cells_keep_a_variable_per_state():
    # as Keras 3: a list per cell, [h, c] for the LSTMCell and [h] for the GRUCell
    rnn = layers.RNN([layers.LSTMCell(2), layers.GRUCell(3)], stateful=True)
    rnn.build((2, 4, 5))
    flat = nest.flatten(rnn.states)
    assert all(isinstance(state, keras.Variable) for state in flat)
    assert [state.shape for state in flat] == [(2, 2), (2, 2), (2, 3)]


def test_a_layer_built_without_a_batch_size_makes_its_states_at_the_first_call():
    layer = layers.GRU(3, stateful=True)
    layer.build((None, 4, 5))
    assert layer.states is None
    layer(np.ones((2, 4, 5), "float32"))
    assert [type(state) for state in layer.states] == [keras.Variable]
    with pytest.raises(ValueError, match="stateful"):
        layer(np.ones((3, 4, 5), "float32"))


def test_the_states_are_not_saved(tmp_path):
    # as Keras 3: the file holds the cell's three weights; a loaded model starts from zeros
    model = keras.Sequential(
        [keras.Input(batch_shape=(2, 4, 5)), layers.LSTM(3, stateful=True), layers.Dense(1)]
    )
    x = np.random.default_rng(1).normal(size=(2, 4, 5)).astype("float32")
    model(x)
    model.save(tmp_path / "stateful.keras")
    restored = load_model(tmp_path / "stateful.keras")
    assert len(restored.weights) == 5
    np.testing.assert_array_equal(restored.layers[0].states[0].numpy(), np.zeros((2, 3)))
    model.layers[0].reset_states()
    np.testing.assert_allclose(restored(x).numpy(), model(x).numpy(), rtol=1e-6)
