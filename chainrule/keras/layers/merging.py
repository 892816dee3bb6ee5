"""Merge layers: join a list of tensors into one, where the branches of a functional model meet.

Add, Subtract, Multiply, Average, Maximum and Minimum combine their inputs elementwise, with
broadcasting over the non-batch axes (an input of lower rank gets new axes after the batch axis,
as in Keras); Concatenate joins them along an axis. Each is a few engine ops, so the gradient of
a merge sends g back to every branch: dL/dx_i = g for Add, g * prod_{j != i} x_j for Multiply,
g / n for Average, the slice of g for Concatenate, g at the selected elements for Maximum and
Minimum.
"""

from ... import ops
from .. import registry
from .base import Layer


class Merge(Layer):
    """Base of the elementwise merge layers: ``merge(inputs)`` on a list of tensors."""

    def build(self, input_shape):
        self._output_sample_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return (None,) + self._output_sample_shape(input_shape)

    def check_input(self, x):
        self._output_sample_shape([tuple(t.shape) for t in _as_list(self, x)])

    def _output_sample_shape(self, input_shape):
        """The broadcast shape of the inputs without their batch axis.

        Raises:
            ValueError: not a list of shapes, different batch sizes, or shapes that do not
                broadcast.
        """
        shapes = _shape_list(self, input_shape)
        batches = {shape[0] for shape in shapes if shape} - {None}
        if len(batches) > 1:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) cannot merge tensors with '
                f"different batch sizes. Received tensors with shapes {shapes}."
            )
        output = ()
        for shape in shapes:
            output = self._broadcast(output, tuple(shape[1:]), shapes)
        return output

    def _broadcast(self, first, second, shapes):
        if len(first) < len(second):
            first, second = second, first
        if not second:
            return first
        lead = len(first) - len(second)
        merged = list(first[:lead])
        for m, n in zip(first[lead:], second):
            if m is None or n is None:
                merged.append(None)
            elif m == 1 or n == 1 or m == n:
                merged.append(n if m == 1 else m)
            else:
                raise ValueError(
                    f'Layer "{self.name}" ({type(self).__name__}): inputs have incompatible '
                    f"shapes. Received shapes {shapes}; without the batch axis they must be "
                    f"equal or broadcastable."
                )
        return tuple(merged)

    def call(self, inputs):
        inputs = _as_list(self, inputs)
        rank = max(x.ndim for x in inputs)
        inputs = [_expanded(x, rank) for x in inputs]
        return self.merge(inputs)

    def merge(self, inputs):
        raise NotImplementedError


def _expanded(x, rank):
    """x with new axes of size 1 after the batch axis, up to ``rank`` axes."""
    while x.ndim < rank:
        x = ops.expand_dims(x, axis=1)
    return x


def _as_list(layer, inputs):
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}) should be called on a list of '
            f"inputs, e.g. {type(layer).__name__}()([x1, x2]). Received: inputs={inputs!r}"[:400]
        )
    return list(inputs)


def _shape_list(layer, input_shape):
    if (
        not isinstance(input_shape, (list, tuple))
        or not input_shape
        or not all(isinstance(shape, (list, tuple)) for shape in input_shape)
    ):
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}) should be called on a list of '
            f"inputs (at least one), e.g. {type(layer).__name__}()([x1, x2]). Received: "
            f"input_shape={input_shape}"
        )
    return [tuple(shape) for shape in input_shape]


@registry.serializable("keras.layers")
class Add(Merge):
    """y = x_1 + x_2 + ... + x_n (same shapes, or broadcastable).   dL/dx_i = g."""

    def merge(self, inputs):
        y = inputs[0]
        for x in inputs[1:]:
            y = y + x
        return y


@registry.serializable("keras.layers")
class Subtract(Merge):
    """y = x_1 - x_2, for exactly two inputs.   dL/dx_1 = g, dL/dx_2 = -g."""

    def _output_sample_shape(self, input_shape):
        shapes = _shape_list(self, input_shape)
        if len(shapes) != 2:
            raise ValueError(
                f'A `Subtract` layer ("{self.name}") should be called on exactly 2 inputs. '
                f"Received: input_shape={input_shape}"
            )
        return super()._output_sample_shape(shapes)

    def merge(self, inputs):
        return inputs[0] - inputs[1]


@registry.serializable("keras.layers")
class Multiply(Merge):
    """y = x_1 * x_2 * ... * x_n elementwise.   dL/dx_i = g * prod_{j != i} x_j."""

    def merge(self, inputs):
        y = inputs[0]
        for x in inputs[1:]:
            y = y * x
        return y


@registry.serializable("keras.layers")
class Average(Merge):
    """y = (x_1 + ... + x_n) / n.   dL/dx_i = g / n."""

    def merge(self, inputs):
        return Add.merge(self, inputs) / len(inputs)


@registry.serializable("keras.layers")
class Maximum(Merge):
    """y = max(x_1, ..., x_n) elementwise.   dL/dx_i = g where x_i is the maximum (the first
    input among ties)."""

    def merge(self, inputs):
        y = inputs[0]
        for x in inputs[1:]:
            y = ops.maximum(y, x)
        return y


@registry.serializable("keras.layers")
class Minimum(Merge):
    """y = min(x_1, ..., x_n) elementwise.   dL/dx_i = g where x_i is the minimum (the first
    input among ties)."""

    def merge(self, inputs):
        y = inputs[0]
        for x in inputs[1:]:
            y = ops.minimum(y, x)
        return y


@registry.serializable("keras.layers")
class Concatenate(Layer):
    """y = the inputs joined along ``axis`` (default -1, the features); every other axis must
    match.   dL/dx_i = the slice of g that x_i occupies.

    Args:
        axis: the axis to join along.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def check_input(self, x):
        self.compute_output_shape([tuple(t.shape) for t in _as_list(self, x)])

    def compute_output_shape(self, input_shape):
        """The shared shape, with the sizes along ``axis`` added up.

        Raises:
            ValueError: not a list of shapes, or shapes that differ off the axis.
        """
        shapes = _shape_list(self, input_shape)
        rank = len(shapes[0])
        axis = self.axis % rank if rank else 0
        mismatch = any(len(shape) != rank for shape in shapes) or any(
            len({shape[a] for shape in shapes} - {None}) > 1 for a in range(rank) if a != axis
        )
        if mismatch or not rank:
            raise ValueError(
                f'A `Concatenate` layer ("{self.name}") requires inputs with matching shapes '
                f"except for the concatenation axis {self.axis}. Received: input_shape={shapes}"
            )
        output = list(shapes[0])
        sizes = [shape[axis] for shape in shapes]
        output[axis] = None if None in sizes else sum(sizes)
        for a in range(rank):
            if a != axis and output[a] is None:
                output[a] = next((shape[a] for shape in shapes if shape[a] is not None), None)
        return tuple(output)

    def call(self, inputs):
        return ops.concatenate(_as_list(self, inputs), axis=self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)
