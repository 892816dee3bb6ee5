"""Layers that wrap a layer: Bidirectional (an RNN run both ways) and TimeDistributed (a layer
applied to every time step)."""

from .... import nest, ops
from ... import registry
from ...saving.serialization import deserialize_config, serialize_keras_object
from ..base import Layer

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _copy_of(layer, **changes):
    """A new, unbuilt layer of ``layer``'s class and config, with ``changes`` to the config."""
    return type(layer).from_config({**layer.get_config(), **changes})


def _without_prefix(name, prefix):
    return name[len(prefix) :] if name.startswith(prefix) else name


@registry.serializable("keras.layers")
class Bidirectional(Layer):
    """Run a recurrent layer forwards and a copy of it backwards over the sequence, and merge
    their outputs:

        y_f = forward(x),   y_b = backward(x) (run from the last step to the first)
        y = merge(y_f, y_b)   with merge = concat (on the last axis), sum, mul, ave, or None
                               (the pair [y_f, y_b])

    With ``return_sequences``, y_b is flipped back in time first, so that step t of both
    outputs belongs to x[:, t]. Gradients flow through both layers (from the engine).

    Args:
        layer: an RNN layer (LSTM, GRU, SimpleRNN, RNN); the wrapper uses a new copy of it,
            named ``forward_<name>``.
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or None.
        weights: optional initial weights, the forward layer's then the backward's.
        backward_layer: the layer to run backwards (default: a copy of ``layer`` with
            go_backwards flipped, named ``backward_<name>``).

    Call arguments: ``sequences``, ``initial_state`` (the forward states, then the backward
    ones), ``mask``, ``training``.

    Raises:
        ValueError: a layer that is not a Layer, an unknown merge_mode, or forward and
            backward layers that run in the same direction or differ in stateful,
            return_sequences or return_state.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Bidirectional: wrap a keras.layers.Layer instance (an LSTM, GRU, ...); "
                f"received layer={layer!r}."
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(
                f"Bidirectional: backward_layer must be a keras.layers.Layer instance; received "
                f"{backward_layer!r}."
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Bidirectional: invalid merge_mode {merge_mode!r}; use one of "
                f'"sum", "mul", "ave", "concat" or None.'
            )
        super().__init__(**kwargs)
        self.forward_layer = _copy_of(
            layer, name=f"forward_{_without_prefix(layer.name, 'forward_')}"
        )
        if backward_layer is None:
            backward_layer = _copy_of(
                layer,
                go_backwards=not layer.go_backwards,
                name=f"backward_{_without_prefix(layer.name, 'backward_')}",
            )
        self.backward_layer = backward_layer
        self._check_directions()
        for each in (self.forward_layer, self.backward_layer):
            each.zero_output_for_mask = each.return_sequences  # as Keras forces it
        self.merge_mode = merge_mode
        self._initial_weights = weights
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True

    def _check_directions(self):
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                f"Bidirectional: the forward and backward layers must run in opposite "
                f"directions; both have go_backwards={forward.go_backwards}."
            )
        for name in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, name) != getattr(backward, name):
                raise ValueError(
                    f"Bidirectional: the forward and backward layers must have the same "
                    f"{name}; received {getattr(forward, name)} (forward) and "
                    f"{getattr(backward, name)} (backward)."
                )

    def build(self, input_shape):
        for each in (self.forward_layer, self.backward_layer):
            if not each.built:
                each.build(input_shape)
                each.built = True
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(sequences, initial_state=forward_state, mask=mask, training=training)
        y_rev = self.backward_layer(
            sequences, initial_state=backward_state, mask=mask, training=training
        )
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = ops.flip(y_rev, axis=1)
        output = self._merge(y, y_rev)
        if self.return_state:
            return (list(output) if self.merge_mode is None else [output]) + states
        return output

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return ops.concatenate([y, y_rev], axis=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) / 2
        if self.merge_mode == "mul":
            return y * y_rev
        return [y, y_rev]

    def reset_states(self):
        """Reset the kept states of both (stateful) layers."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    reset_state = reset_states

    def compute_output_shape(self, input_shape):
        output_shape = self.forward_layer.compute_output_shape(input_shape)
        state_shapes = []
        if self.return_state:
            output_shape, state_shapes = output_shape[0], list(output_shape[1:])
        if self.merge_mode == "concat":
            output_shape = tuple(output_shape[:-1]) + (output_shape[-1] * 2,)
        outputs = [output_shape, output_shape] if self.merge_mode is None else [output_shape]
        if self.return_state:
            return outputs + state_shapes + state_shapes
        return outputs if self.merge_mode is None else tuple(output_shape)

    def compute_mask(self, inputs, mask):
        mask = None if mask is None else nest.flatten(mask)[0]
        output_mask = mask if self.return_sequences else None
        masks = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            return masks + [None] * (2 * len(self.forward_layer.state_size))
        return masks if self.merge_mode is None else output_mask

    def get_config(self):
        config = super().get_config()
        config.update(
            merge_mode=self.merge_mode,
            layer=serialize_keras_object(self.forward_layer),
            backward_layer=serialize_keras_object(self.backward_layer),
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**deserialize_config(config, custom_objects))


@registry.serializable("keras.layers")
class TimeDistributed(Layer):
    """Apply ``layer`` to every time step: y[:, t] = layer(x[:, t]) for t = 0 .. T-1, the same
    weights at every step (their gradients are summed over the steps by the engine).

    Inputs (batch, T, ...) give outputs (batch, T, ...) with the layer's output shape per step.
    A mask (batch, T) passes through, and each step's slice of it goes to a layer whose call
    takes ``mask``.

    Args:
        layer: the layer to apply (a Dense, a Conv2D on frames...).

    Raises:
        ValueError: a layer that is not a Layer; inputs without a time axis.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"TimeDistributed: wrap a keras.layers.Layer instance; received layer={layer!r}."
            )
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def _step_shape(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                f'Layer "{self.name}" (TimeDistributed) needs inputs with at least 3 axes '
                f"(batch, time, ...); received input shape {tuple(input_shape)}."
            )
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape):
        step_shape = self._step_shape(input_shape)
        if not self.layer.built:
            self.layer.build(step_shape)
            self.layer.built = True
        self.built = True

    def compute_output_shape(self, input_shape):
        step_output = self.layer.compute_output_shape(self._step_shape(input_shape))
        return (step_output[0], input_shape[1]) + tuple(step_output[1:])

    def call(self, inputs, training=None, mask=None):
        if mask is not None and tuple(mask.shape[:2]) != tuple(inputs.shape[:2]):
            raise ValueError(
                f'Layer "{self.name}" (TimeDistributed): the mask must have the shape of the '
                f"inputs' first two axes (batch, time) = {tuple(inputs.shape[:2])}; received "
                f"a mask of shape {tuple(mask.shape)}."
            )
        kwargs = {}
        if self.layer._training_parameter()[0]:
            kwargs["training"] = training
        takes_mask = self.layer._takes_mask() and mask is not None
        steps = []
        for t in range(inputs.shape[1]):
            if takes_mask:
                kwargs["mask"] = mask[:, t]
            steps.append(self.layer.call(inputs[:, t], **kwargs))
        return ops.stack(steps, axis=1)

    def get_config(self):
        return {**super().get_config(), "layer": serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**deserialize_config(config, custom_objects))
