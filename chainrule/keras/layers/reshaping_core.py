"""Layers that change the shape of each sample but not its values: Flatten, Reshape, Permute
and RepeatVector.

Flatten and Reshape are a reshape of the non-batch axes; the engine's reshape VJP sends the
gradient back to the input's shape, so dL/dx is dL/dy reshaped (and, for ``channels_first``,
transposed back). Permute is a transpose (dL/dx: g transposed back), RepeatVector a broadcast
(dL/dx: g summed over the copies).
"""

import math

from ... import ops
from .. import config, registry
from .base import Layer

DATA_FORMATS = ("channels_last", "channels_first")


def reshaped_sample_shape(input_shape, target_shape, layer_name):
    """The sample shape ``target_shape`` takes for samples of ``input_shape``, -1 resolved.

    Keras's rule: at most one -1, which is inferred from the number of elements; unknown (None)
    input axes leave a -1 unknown (None).

    Raises:
        ValueError: naming the layer, both shapes, when the numbers of elements cannot match.
    """
    input_shape, target_shape = tuple(input_shape), tuple(target_shape)
    if None in input_shape:
        return tuple(None if d == -1 else d for d in target_shape)
    size = math.prod(input_shape)
    known = math.prod(d for d in target_shape if d != -1)
    if -1 not in target_shape:
        if size != known:
            raise ValueError(
                f'Layer "{layer_name}" (Reshape): the total size of each sample must be '
                f"unchanged, but input shape {input_shape} has {size} elements and "
                f"target_shape={target_shape} has {known}."
            )
        return target_shape
    if known == 0 or size % known:
        raise ValueError(
            f'Layer "{layer_name}" (Reshape): cannot infer the -1 in target_shape={target_shape} '
            f"for samples of shape {input_shape} ({size} elements is not a multiple of {known})."
        )
    return tuple(size // known if d == -1 else d for d in target_shape)


@registry.serializable("keras.layers")
class Flatten(Layer):
    """Flattens each sample: (batch, d1, ..., dk) -> (batch, d1 * ... * dk).

    A (batch,) input becomes (batch, 1), as in Keras. With ``data_format="channels_first"`` the
    channel axis (axis 1) is moved last before flattening, so the order of the features matches
    a ``channels_last`` model's.

    Args:
        data_format: "channels_last" (default) or "channels_first".
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        data_format = config.image_data_format() if data_format is None else data_format.lower()
        if data_format not in DATA_FORMATS:
            raise ValueError(
                f"Flatten: data_format must be one of {DATA_FORMATS}; got {data_format!r}"
            )
        self.data_format = data_format

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.transpose(inputs, axes=(0, *range(2, inputs.ndim), 1))
        return ops.reshape(inputs, shape=(inputs.shape[0], -1 if inputs.ndim > 1 else 1))

    def compute_output_shape(self, input_shape):
        features = tuple(input_shape[1:])
        flat = None if None in features else math.prod(features)
        return (input_shape[0], flat)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


@registry.serializable("keras.layers")
class Reshape(Layer):
    """Reshapes each sample to ``target_shape``: (batch, ...) -> (batch, *target_shape).

    Args:
        target_shape: the new sample shape, without the batch axis; one entry may be -1, inferred
            from the number of elements.

    Raises:
        ValueError: more than one -1, or a shape whose number of elements cannot match the input.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(int(d) for d in target_shape)
        if target_shape.count(-1) > 1:
            raise ValueError(
                f"Reshape: target_shape must not contain more than one -1; got {target_shape}"
            )
        if any(d < -1 or d == 0 for d in target_shape):
            raise ValueError(
                f"Reshape: target_shape entries must be positive (or one -1); got {target_shape}"
            )
        self.target_shape = target_shape

    def call(self, inputs):
        sample = reshaped_sample_shape(inputs.shape[1:], self.target_shape, self.name)
        return ops.reshape(inputs, shape=(inputs.shape[0],) + sample)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + reshaped_sample_shape(
            input_shape[1:], self.target_shape, self.name
        )

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


@registry.serializable("keras.layers")
class Permute(Layer):
    """Permutes the non-batch axes: y = transpose(x, (0, *dims)); dL/dx = g transposed back.

    Args:
        dims: a permutation of 1..k (the batch axis is 0 and stays first), e.g. (2, 1) swaps
            the two axes of (batch, steps, features).

    Raises:
        ValueError: ``dims`` that is not a permutation of 1..len(dims).
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                f'Permute layer "{self.name}": invalid permutation argument `dims` for Permute '
                f"layer. The set of indices in `dims` must be consecutive and start from 1. "
                f"Received dims={dims!r}"
            )

    def check_input(self, x):
        self.compute_output_shape(x.shape)

    def call(self, inputs):
        return ops.transpose(inputs, axes=(0, *self.dims))

    def compute_output_shape(self, input_shape):
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(
                f'Layer "{self.name}" (Permute): dims={self.dims} permutes '
                f"{len(self.dims)} axes, but the input of shape {tuple(input_shape)} has "
                f"{len(input_shape) - 1} axes after the batch axis."
            )
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


@registry.serializable("keras.layers")
class RepeatVector(Layer):
    """Repeats each sample ``n`` times: (batch, features) -> (batch, n, features),
    y[b, i, f] = x[b, f]; dL/dx[b, f] = sum_i g[b, i, f].

    Args:
        n: the number of repetitions (a positive int).
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise TypeError(
                f'RepeatVector layer "{self.name}": expected an integer value for `n`, the '
                f"number of repetitions; received n={n!r}."
            )
        self.n = n

    def check_input(self, x):
        self.compute_output_shape(x.shape)

    def call(self, inputs):
        x = ops.expand_dims(inputs, axis=1)
        return ops.broadcast_to(x, shape=(inputs.shape[0], self.n, inputs.shape[1]))

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(
                f'Layer "{self.name}" (RepeatVector): expects 2-D inputs (batch, features); '
                f"received input shape {tuple(input_shape)}."
            )
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}
