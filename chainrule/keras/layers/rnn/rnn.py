"""The RNN layer: a cell run over the time axis, and SimpleRNN, LSTM and GRU built on it.

A built-in cell with Keras's default activations and no dropout in the call runs the whole
sequence in one fused primitive (ops/recurrent.py), whose VJP is backpropagation through time
written out by hand. Any other cell runs the loop written out step by step: each step calls the
cell on one time slice, so the recorded graph is the unrolled network and its backward pass is
backpropagation through time, the chain rule taken by the engine through every step
(docs/backprop.md).
"""

from .... import nest, ops
from ....backend import xp_of
from ....engine import Tensor
from ... import registry
from ... import regularizers as regularizers_module
from ...naming import name_scope
from ...saving.serialization import deserialize_config, serialize_keras_object
from ...variables import Variable
from ..base import Layer
from .cells import (
    GRUCell,
    LSTMCell,
    SimpleRNNCell,
    StackedRNNCells,
    call_cell,
    initial_state,
)


@registry.serializable("keras.layers")
class RNN(Layer):
    """Run a recurrent ``cell`` over the time axis of its inputs:

        states_0 = initial_state (zeros by default),
        (output_t, states_t) = cell(x[:, t], states_{t-1})   for t = 0 .. T-1

    The layer returns the last output (batch, output_size), or every output
    (batch, T, output_size) with ``return_sequences``, followed by the final states with
    ``return_state``. Where a mask (batch, T) is False, the step is skipped: the states stay
    those of the step before, and the output is the previous output (its first state), or zeros
    with ``zero_output_for_mask``, as Keras 3 does.

    The cell is any object with ``state_size`` (an int, or a list with one int per state) and
    ``call(inputs, states)`` returning ``(output, new_states)``; a list of cells is stacked
    (:class:`StackedRNNCells`).

    Args:
        cell: the cell, or a list of cells.
        return_sequences: return every step's output, not only the last one.
        return_state: also return the final states.
        go_backwards: run over the time axis in reverse (the outputs come in that order).
        stateful: keep the final states of a batch as the initial states of the next
            (:meth:`reset_states` sets them back to zeros); batches must keep one size. The
            kept states are ``layer.states``: non-trainable Variables named ``rnn_state``, made
            when the batch size is known (at build, else at the first call) and, as in Keras,
            not among the layer's weights or variables (nor in saved files).
        unroll: accepted for Keras's sake; the loop is always written out step by step.
        zero_output_for_mask: masked steps output zeros instead of the previous output.

    Call arguments: ``sequences`` (batch, T, ...), ``initial_state`` (a list of Tensors, one
    per state), ``mask`` (booleans (batch, T)), ``training`` (for the cells' dropout).

    Raises:
        ValueError: a cell without ``call`` or ``state_size``; inputs without a time axis; a
            stateful layer given a batch of another size.
    """

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
            raise ValueError(
                f"RNN: the cell needs a call(inputs, states) method and a state_size attribute "
                f"(an integer, or a list of integers, one per state); received cell={cell!r}."
            )
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.states = None
        state_size = cell.state_size
        self.state_size = [state_size] if isinstance(state_size, int) else list(state_size)

    @property
    def output_size(self):
        size = getattr(self.cell, "output_size", None)
        return size if size is not None else nest.flatten(self.state_size)[0]

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) expects inputs of shape '
                f"(batch, time, features); received input shape {tuple(input_shape)}. Add a "
                f"time axis, or a feature axis of 1 (x[..., None])."
            )
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build((input_shape[0],) + tuple(input_shape[2:]))
            self.cell.built = True
        if self.stateful and self.states is None and input_shape[0] is not None:
            self._create_states(input_shape[0])
        self.built = True

    def _create_states(self, batch_size):
        """Make ``self.states``: the initial states of ``batch_size`` sequences, each held in a
        non-trainable Variable ``<layer's path>/rnn_state``."""

        def kept(value):
            return Variable(value, trainable=False, dtype=self.dtype, name="rnn_state")

        with name_scope(self.name, caller=self):
            states = nest.map_structure(kept, self.get_initial_state(batch_size))
        object.__setattr__(self, "states", states)  # not tracked: no weights of the layer

    def get_initial_state(self, batch_size):
        """The states a sequence starts from: the cell's ``get_initial_state``, else zeros."""
        return initial_state(self.cell, batch_size)

    def reset_states(self):
        """Set the kept states of a stateful layer back to zeros."""
        if self.states is not None:
            kept = nest.flatten(self.states)
            self._keep([xp_of(state.data).zeros_like(state.data) for state in kept])

    reset_state = reset_states

    def call(self, sequences, initial_state=None, mask=None, training=False):
        states = self._starting_states(sequences.shape[0], initial_state)
        if mask is not None:
            mask = nest.flatten(mask)[0]
        fuses = getattr(self.cell, "fuses_sequence", None)
        if fuses is not None and fuses(training) and not self.zero_output_for_mask:
            outputs, states = self.cell.sequence(sequences, states, mask, self.go_backwards)
            if self.return_sequences:
                output = ops.transpose(outputs, (1, 0, 2))
            else:
                output = states[0]
        else:
            output, states = self._step_loop(sequences, states, mask, training)
        if self.stateful:
            self._keep([final.data for final in nest.flatten(states)])
        if self.return_state:
            return [output, *states]
        return output

    def _keep(self, values):
        """Set the kept states to ``values`` (arrays, one per Variable of ``self.states`` in
        flattened order). Each Variable takes a copy as a new buffer rather than overwriting its
        old one, so that an array read from it before (``np.asarray(layer.states[0])``) keeps
        its values, as in Keras."""
        for state, value in zip(nest.flatten(self.states), values):
            state.data = value.astype(state.dtype, copy=True)

    def _step_loop(self, sequences, states, mask, training):
        """(the output, the final states) of the cell called on one step after another."""
        if mask is not None:
            mask = ops.expand_dims(mask, axis=-1)  # (batch, T, 1)
        self._reset_dropout_masks(self.cell)
        steps = sequences.shape[1]
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs = []
        for t in order:
            output, new_states = call_cell(self.cell, sequences[:, t], states, training)
            if mask is not None:
                keep = mask[:, t]
                if self.zero_output_for_mask:
                    previous = output * 0
                else:
                    previous = nest.flatten(states[-1] if _nested(states[0]) else states[0])[0]
                output = ops.where(keep, output, previous)
                kept = [
                    ops.where(keep, new, old)
                    for new, old in zip(nest.flatten(new_states), nest.flatten(states))
                ]
                new_states = nest.pack_like(new_states, kept)
            states = new_states
            outputs.append(output)
        self._reset_dropout_masks(self.cell)
        return (ops.stack(outputs, axis=1) if self.return_sequences else outputs[-1]), states

    def _starting_states(self, batch, given):
        """The initial states: those given, else a stateful layer's kept ones, else zeros."""
        if given is not None:
            states = list(given) if isinstance(given, (list, tuple)) else [given]
            if len(states) != len(self.state_size):
                raise ValueError(
                    f'Layer "{self.name}" has {len(self.state_size)} states '
                    f"(state_size={self.state_size}), but received {len(states)} initial "
                    f"states. Pass one Tensor of shape (batch, size) per state."
                )
            return states
        if not self.stateful:
            return self.get_initial_state(batch)
        if self.states is None:
            self._create_states(batch)
        kept = nest.flatten(self.states)[0].shape[0]
        if kept != batch:
            raise ValueError(
                f'Layer "{self.name}" is stateful: it keeps states for batches of {kept} '
                f"sequences, but received a batch of {batch}. Keep one batch size (fit(..., "
                f"batch_size={kept}, shuffle=False) with a number of samples divisible by it), "
                f"or call reset_states() after setting layer.states = None."
            )
        # copies: the graph of the call keeps its starting values if a state is assigned later
        return list(nest.map_structure(lambda state: Tensor(state.data.copy()), self.states))

    def _reset_dropout_masks(self, cell):
        """Forget the dropout masks of the last sequence (a new sequence draws new ones)."""
        for each in getattr(cell, "cells", [cell]):
            if hasattr(each, "reset_dropout_mask"):
                each.reset_dropout_mask()
                each.reset_recurrent_dropout_mask()

    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        if self.return_sequences:
            output_shape = (batch, steps, self.output_size)
        else:
            output_shape = (batch, self.output_size)
        if not self.return_state:
            return output_shape
        states = [
            [(batch, s) for s in size] if isinstance(size, (list, tuple)) else (batch, size)
            for size in self.state_size
        ]
        return [output_shape, *states]

    def compute_mask(self, inputs, mask):
        """The input mask for the sequence output (None for the last output alone), and None
        for each state."""
        mask = None if mask is None else nest.flatten(mask)[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_size)
        return output_mask

    def get_config(self):
        config = super().get_config()
        config.update(
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            unroll=self.unroll,
            zero_output_for_mask=self.zero_output_for_mask,
        )
        if type(self) is RNN:
            config["cell"] = serialize_keras_object(self.cell)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**deserialize_config(config, custom_objects))


def _nested(value):
    return isinstance(value, (list, tuple))


# The options of a built-in cell that its layer exposes as attributes and writes in its config.
_CELL_OPTIONS = (
    "units",
    "activation",
    "recurrent_activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "unit_forget_bias",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
    "reset_after",
)


class _CellLayer(RNN):
    """An RNN over a built-in cell made from the layer's own arguments (SimpleRNN, LSTM, GRU):
    the cell's options read as the layer's attributes, and its config is the layer's."""

    cell_class = None
    cell_name = None
    config_has_seed = True

    def __init__(self, units, **kwargs):
        layer_options = {
            key: kwargs.pop(key)
            for key in (
                "return_sequences",
                "return_state",
                "go_backwards",
                "stateful",
                "unroll",
                "zero_output_for_mask",
                "activity_regularizer",
                "name",
                "trainable",
                "dtype",
                "input_shape",
                "batch_input_shape",
                "batch_size",
                "input_dim",
            )
            if key in kwargs
        }
        kwargs.pop("use_cudnn", None)  # a choice of GPU kernel: nothing to choose here
        cell = self.cell_class(
            units,
            name=self.cell_name,
            dtype=layer_options.get("dtype"),
            trainable=layer_options.get("trainable", True),
            **kwargs,
        )
        super().__init__(cell, **layer_options)

    def get_config(self):
        config = super().get_config()
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype", "seed"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config["activity_regularizer"] = regularizers_module.serialize(self.activity_regularizer)
        config.update(dropout=self.cell.dropout, recurrent_dropout=self.cell.recurrent_dropout)
        if self.config_has_seed:
            config["seed"] = self.cell.seed
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_config(config))


def _cell_option(name):
    def read(self):
        return getattr(self.cell, name)

    read.__name__ = name
    read.__doc__ = f"The cell's ``{name}``."
    return property(read)


for _name in _CELL_OPTIONS:
    setattr(_CellLayer, _name, _cell_option(_name))


@registry.serializable("keras.layers")
class SimpleRNN(_CellLayer):
    """A fully connected RNN: h_t = tanh(x_t W + b + h_{t-1} U) over the time axis (see
    :class:`SimpleRNNCell` for the step and its gradient, :class:`RNN` for the loop).

    Args:
        units: the size of h; the cell's options (activation, use_bias, initializers,
            regularizers, constraints, dropout, recurrent_dropout, seed) and the RNN's
            (return_sequences, return_state, go_backwards, stateful, unroll), with Keras 3's
            defaults; activity_regularizer: a penalty on the output.
    """

    cell_class = SimpleRNNCell
    cell_name = "simple_rnn_cell"
    config_has_seed = False


@registry.serializable("keras.layers")
class LSTM(_CellLayer):
    """A long short-term memory layer (Hochreiter and Schmidhuber, 1997): :class:`LSTMCell` run
    over the time axis by :class:`RNN`; its states are [h, c].

    Args:
        units: the size of h and c; the cell's options (activation, recurrent_activation,
            use_bias, unit_forget_bias, initializers, regularizers, constraints, dropout,
            recurrent_dropout, seed) and the RNN's (return_sequences, return_state,
            go_backwards, stateful, unroll), with Keras 3's defaults; activity_regularizer: a
            penalty on the output; use_cudnn: accepted, and unused (no GPU kernel to choose).
    """

    cell_class = LSTMCell
    cell_name = "lstm_cell"


@registry.serializable("keras.layers")
class GRU(_CellLayer):
    """A gated recurrent unit layer (Cho et al., 2014): :class:`GRUCell` run over the time axis
    by :class:`RNN`, with Keras 3's ``reset_after=True`` by default.

    Args:
        units: the size of h; the cell's options (activation, recurrent_activation, use_bias,
            reset_after, initializers, regularizers, constraints, dropout, recurrent_dropout,
            seed) and the RNN's (return_sequences, return_state, go_backwards, stateful,
            unroll), with Keras 3's defaults; activity_regularizer: a penalty on the output;
            use_cudnn: accepted, and unused.
    """

    cell_class = GRUCell
    cell_name = "gru_cell"
