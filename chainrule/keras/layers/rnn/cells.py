"""The recurrent cells: one time step of SimpleRNN, LSTM and GRU, and a stack of cells.

A cell maps (x_t, states_{t-1}) to (output_t, states_t) with ``call(inputs, states)``, where
``states`` is a list with one Tensor per entry of ``cell.state_size``. The :class:`RNN` layer
runs it over the time axis; the gradient through time is the chain rule over those steps, taken
by the engine (see docs/backprop.md).

Shapes: x_t (batch, input_dim); each state (batch, units); kernel W (input_dim, k units),
recurrent_kernel U (units, k units), with k = 1 (SimpleRNN), 4 (LSTM: gates i, f, c, o) or
3 (GRU: gates z, r, h), as Keras 3 lays them out, so that its weights load unchanged.
"""

import numpy as np

from .... import nest
from ....engine import Tensor, as_array
from ....ops import noise
from ....ops.recurrent import gru_sequence, lstm_sequence, simple_rnn_sequence
from ... import activations as activations_module
from ... import constraints as constraints_module
from ... import initializers as initializers_module
from ... import registry
from ... import regularizers as regularizers_module
from ...saving.serialization import (
    deserialize_config,
    deserialize_keras_object,
    serialize_keras_object,
)
from ..base import Layer


class DropoutRNNCell:
    """What a cell with ``dropout`` and ``recurrent_dropout`` shares: one dropout mask for the
    inputs and one for the recurrent state, drawn at the first step of a sequence and used at
    every step of it (Keras's rule), forgotten by :meth:`reset_dropout_mask` after it."""

    def _set_dropout(self, dropout, recurrent_dropout, seed):
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
                raise ValueError(
                    f"{type(self).__name__}: {name} must be a number in [0, 1), the fraction "
                    f"of units to drop; received {name}={rate!r}."
                )
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self._generator = None if seed is None else np.random.default_rng(seed)
        self.reset_dropout_mask()
        self.reset_recurrent_dropout_mask()

    def get_dropout_mask(self, step_input):
        """The inputs' dropout mask of this sequence (scaled by 1 / (1 - dropout))."""
        if self._dropout_mask is None and self.dropout > 0:
            self._dropout_mask = noise.dropout_mask(
                step_input, shape=step_input.shape, rate=self.dropout, rng=self._generator
            )
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_state):
        """The recurrent state's dropout mask of this sequence."""
        if self._recurrent_dropout_mask is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = noise.dropout_mask(
                step_state,
                shape=step_state.shape,
                rate=self.recurrent_dropout,
                rng=self._generator,
            )
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None

    def _dropped(self, inputs, h_tm1, training):
        """(x_t, h_{t-1}) times their dropout masks in training, as they are otherwise."""
        if training and self.dropout > 0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0:
            h_tm1 = h_tm1 * self.get_recurrent_dropout_mask(h_tm1)
        return inputs, h_tm1


class _GatedCell(DropoutRNNCell, Layer):
    """A cell with ``gates`` blocks of ``units`` in its kernel, recurrent kernel and bias, and
    the options every Keras cell takes."""

    gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(
                f"{type(self).__name__}: units must be a positive integer; received "
                f"units={units!r}."
            )
        self.units = units
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.recurrent_initializer = initializers_module.get(recurrent_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers_module.get(recurrent_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        self.kernel_constraint = constraints_module.get(kernel_constraint)
        self.recurrent_constraint = constraints_module.get(recurrent_constraint)
        self.bias_constraint = constraints_module.get(bias_constraint)
        self._set_dropout(dropout, recurrent_dropout, seed)

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            (input_shape[-1], self.gates * self.units),
            self.kernel_initializer,
            name="kernel",
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            (self.units, self.gates * self.units),
            self.recurrent_initializer,
            name="recurrent_kernel",
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                self._bias_shape(),
                self._full_bias_initializer(),
                name="bias",
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.built = True

    def _bias_shape(self):
        return (self.gates * self.units,)

    def _full_bias_initializer(self):
        return self.bias_initializer

    def fuses_sequence(self, training):
        """Whether :meth:`sequence` computes what the step loop would: a built-in cell (not a
        subclass, whose ``call`` may differ), Keras's default activations (tanh, sigmoid), and
        no dropout in this call."""
        return (
            type(self) in (SimpleRNNCell, LSTMCell, GRUCell)
            and self.activation is activations_module.tanh
            and getattr(self, "recurrent_activation", None) in (None, activations_module.sigmoid)
            and not (training and (self.dropout > 0 or self.recurrent_dropout > 0))
        )

    def sequence(self, sequences, states, mask=None, go_backwards=False):
        """The cell over the whole sequence in one fused primitive (ops/recurrent.py), whose
        VJP is backpropagation through time written out by hand.

        Args:
            sequences: (batch, T, features); states: the initial states, one per state size;
            mask: booleans (batch, T) or None (a masked step carries the states);
            go_backwards: from the last step to the first.

        Returns:
            (every step's output (T, batch, units), in the order of processing; the final
            states).
        """
        y = self.recurrence(
            sequences,
            self.kernel,
            self.recurrent_kernel,
            self.bias,
            *states,
            mask,
            go_backwards=go_backwards,
        )
        n = self.units
        # y[t] ends with the states: [..., h_t] (SimpleRNN, GRU) or [..., c_t, h_t] (LSTM)
        final = [y[-1, :, -n:]]
        if isinstance(self.state_size, list):  # LSTM's [h, c]
            final.append(y[-1, :, -2 * n : -n])
        return y[:, :, -n:], final

    def check_input(self, x):
        if x.ndim != 2 or x.shape[-1] != self.kernel.shape[0]:
            raise self.incompatible(x, f"expected a step of shape (batch, {self.kernel.shape[0]})")

    def get_initial_state(self, batch_size=None):
        """Zeros of shape (batch_size, units), one per state."""
        return zero_states(self.state_size, batch_size, self.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations_module.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers_module.serialize(self.kernel_initializer),
            recurrent_initializer=initializers_module.serialize(self.recurrent_initializer),
            bias_initializer=initializers_module.serialize(self.bias_initializer),
            kernel_regularizer=regularizers_module.serialize(self.kernel_regularizer),
            recurrent_regularizer=regularizers_module.serialize(self.recurrent_regularizer),
            bias_regularizer=regularizers_module.serialize(self.bias_regularizer),
            kernel_constraint=constraints_module.serialize(self.kernel_constraint),
            recurrent_constraint=constraints_module.serialize(self.recurrent_constraint),
            bias_constraint=constraints_module.serialize(self.bias_constraint),
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            seed=self.seed,
        )
        return config


@registry.serializable("keras.layers")
class SimpleRNNCell(_GatedCell):
    """One step of a fully connected recurrent network:

        h_t = activation(x_t W + b + h_{t-1} U),   output_t = h_t

    Gradients (from the engine): with a = x_t W + b + h_{t-1} U and d = dL/dh_t * activation'(a),
    dL/dW += x_tᵀ d, dL/dU += h_{t-1}ᵀ d, dL/db += sum over the batch of d, and
    dL/dh_{t-1} = d Uᵀ carries the gradient one step back.

    Args:
        units: the size of the state h.
        activation: default ``"tanh"``.
        use_bias: as for Dense, like ``kernel_initializer`` (glorot_uniform),
            ``recurrent_initializer`` (orthogonal), ``bias_initializer`` (zeros), and the
            regularizers and constraints, per weight.
        dropout: the fraction of the inputs' units to drop in training (one mask per sequence).
        recurrent_dropout: the same for h_{t-1}.
        seed: the seed of the dropout masks.
    """

    recurrence = staticmethod(simple_rnn_sequence)

    def call(self, inputs, states, training=False):
        prev_output = states[0] if isinstance(states, (list, tuple)) else states
        inputs, prev_output = self._dropped(inputs, prev_output, training)
        h = inputs @ self.kernel
        if self.bias is not None:
            h = h + self.bias
        output = self.activation(h + prev_output @ self.recurrent_kernel)
        new_state = [output] if isinstance(states, (list, tuple)) else output
        return output, new_state


@registry.serializable("keras.layers")
class LSTMCell(_GatedCell):
    """One step of a long short-term memory network (Keras's gate order i, f, c, o):

        z = x_t W + h_{t-1} U + b,   split into z_i, z_f, z_c, z_o (units each)
        i = σ(z_i),  f = σ(z_f),  o = σ(z_o),  g = tanh(z_c)
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t),   output_t = h_t

    (σ = ``recurrent_activation``, tanh = ``activation``.) Gradients (from the engine):
    dL/dc_{t-1} = dL/dc_t * f, the path along which the gradient crosses many steps without
    shrinking while the forget gate stays open; dL/dz_f = dL/dc_t * c_{t-1} * σ'(z_f), and
    so on for each gate; dL/dh_{t-1} = dL/dz Uᵀ.

    Args:
        units: the size of h and c.
        activation: default ``"tanh"``; recurrent_activation: default ``"sigmoid"``.
        unit_forget_bias: start the forget gate's bias at 1 (default True, as Keras).
        use_bias, initializers, regularizers, constraints, dropout, recurrent_dropout, seed:
            as :class:`SimpleRNNCell`.
    """

    gates = 4

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            **kwargs,
        )
        self.recurrent_activation = activations_module.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    recurrence = staticmethod(lstm_sequence)

    @property
    def state_size(self):
        return [self.units, self.units]

    def _full_bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, initializer = self.units, self.bias_initializer

        def forget_gate_ones(shape, dtype=None):
            parts = [initializer((units,), dtype), np.ones(units), initializer((2 * units,), dtype)]
            return np.concatenate([as_array(part) for part in parts]).astype(dtype)

        return forget_gate_ones

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states
        inputs, h_tm1 = self._dropped(inputs, h_tm1, training)
        z = inputs @ self.kernel + h_tm1 @ self.recurrent_kernel
        if self.bias is not None:
            z = z + self.bias
        n = self.units
        i = self.recurrent_activation(z[:, :n])
        f = self.recurrent_activation(z[:, n : 2 * n])
        c = f * c_tm1 + i * self.activation(z[:, 2 * n : 3 * n])
        o = self.recurrent_activation(z[:, 3 * n :])
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update(
            recurrent_activation=activations_module.serialize(self.recurrent_activation),
            unit_forget_bias=self.unit_forget_bias,
        )
        return config


@registry.serializable("keras.layers")
class GRUCell(_GatedCell):
    """One step of a gated recurrent unit (Keras's gate order z, r, h). With
    ``reset_after=True`` (Keras 3's default) the bias has shape (2, 3 units): b_x for the
    inputs, b_h for the state, and the reset gate applies after the recurrent product:

        x_z, x_r, x_h = split(x_t W + b_x)      h_z, h_r, h_h = split(h_{t-1} U + b_h)
        z = σ(x_z + h_z),  r = σ(x_r + h_r),  ĥ = tanh(x_h + r * h_h)
        h_t = z * h_{t-1} + (1 - z) * ĥ,   output_t = h_t

    With ``reset_after=False`` the bias is (3 units,) and ĥ = tanh(x_h + (r * h_{t-1}) U_h).
    Gradients (from the engine): dL/dh_{t-1} = dL/dh_t * z plus the paths through z, r and ĥ.

    Args:
        units: the size of h.
        activation: default ``"tanh"``; recurrent_activation: default ``"sigmoid"``.
        reset_after: default True (Keras 3, and the cuDNN layout).
        use_bias, initializers, regularizers, constraints, dropout, recurrent_dropout, seed:
            as :class:`SimpleRNNCell`.
    """

    gates = 3

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        reset_after=True,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            **kwargs,
        )
        self.recurrent_activation = activations_module.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def recurrence(self, *inputs, go_backwards=False):
        """:func:`gru_sequence` with this cell's ``reset_after``."""
        return gru_sequence(*inputs, reset_after=self.reset_after, go_backwards=go_backwards)

    def call(self, inputs, states, training=False):
        h_tm1 = states[0] if isinstance(states, (list, tuple)) else states
        inputs, dropped_h = self._dropped(inputs, h_tm1, training)
        n, kernel, recurrent = self.units, self.kernel, self.recurrent_kernel
        x = inputs @ kernel
        if self.bias is not None:
            x = x + (self.bias[0] if self.reset_after else self.bias)
        if self.reset_after:
            inner = dropped_h @ recurrent
            if self.bias is not None:
                inner = inner + self.bias[1]
            z = self.recurrent_activation(x[:, :n] + inner[:, :n])
            r = self.recurrent_activation(x[:, n : 2 * n] + inner[:, n : 2 * n])
            recurrent_h = r * inner[:, 2 * n :]
        else:
            z = self.recurrent_activation(x[:, :n] + dropped_h @ recurrent[:, :n])
            r = self.recurrent_activation(x[:, n : 2 * n] + dropped_h @ recurrent[:, n : 2 * n])
            recurrent_h = (r * dropped_h) @ recurrent[:, 2 * n :]
        hh = self.activation(x[:, 2 * n :] + recurrent_h)
        h = z * h_tm1 + (1 - z) * hh
        new_state = [h] if isinstance(states, (list, tuple)) else h
        return h, new_state

    def get_config(self):
        config = super().get_config()
        config.update(
            recurrent_activation=activations_module.serialize(self.recurrent_activation),
            reset_after=self.reset_after,
        )
        return config


@registry.serializable("keras.layers")
class StackedRNNCells(Layer):
    """Several cells run as one, each step feeding the output of one to the next:

        out⁰ = x_t,   (outᵏ, statesᵏ_t) = cellᵏ(outᵏ⁻¹, statesᵏ_{t-1}),   output_t = out of the last

    Its ``state_size`` lists each cell's; its states are a list with one entry per cell
    (``RNN([cell_a, cell_b])`` makes one).

    Args:
        cells: the cells, first to last.
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
                raise ValueError(
                    f"StackedRNNCells: every cell needs a call method and a state_size; "
                    f"received {cell!r}."
                )
        self.cells = list(cells)

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        size = getattr(last, "output_size", None)
        return size if size is not None else nest.flatten(last.state_size)[0]

    def get_initial_state(self, batch_size=None):
        return [initial_state(cell, batch_size) for cell in self.cells]

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
                cell.built = True
            size = getattr(cell, "output_size", None)
            size = size if size is not None else nest.flatten(cell.state_size)[0]
            input_shape = tuple(input_shape[:-1]) + (size,)
        self.built = True

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            cell_states = cell_states if isinstance(cell_states, (list, tuple)) else [cell_states]
            inputs, cell_states = call_cell(cell, inputs, list(cell_states), training)
            new_states.append(cell_states)
        return inputs, new_states

    def get_config(self):
        config = super().get_config()
        config["cells"] = [serialize_keras_object(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [deserialize_keras_object(cell, custom_objects) for cell in config.pop("cells")]
        return cls(cells, **deserialize_config(config, custom_objects))


def zero_states(state_size, batch_size, dtype="float32"):
    """Zeros of shape (batch_size, size) for each size of ``state_size`` (an int or a list)."""
    sizes = state_size if isinstance(state_size, (list, tuple)) else [state_size]
    return [Tensor(np.zeros((batch_size, size), dtype=dtype)) for size in sizes]


def initial_state(cell, batch_size):
    """The cell's initial states: its own ``get_initial_state``, else zeros per state size."""
    make = getattr(cell, "get_initial_state", None)
    if make is None:
        return zero_states(cell.state_size, batch_size, getattr(cell, "dtype", "float32"))
    states = make(batch_size=batch_size)
    return list(states) if isinstance(states, (list, tuple)) else [states]


def call_cell(cell, inputs, states, training):
    """(output, list of new states) of one step of ``cell``; ``training`` is passed when the
    cell's call takes it."""
    if isinstance(cell, Layer) and cell._training_parameter()[0]:
        output, new_states = cell(inputs, states, training=training)
    else:
        output, new_states = cell(inputs, states)
    return output, list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
