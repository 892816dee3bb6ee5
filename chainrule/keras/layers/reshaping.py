"""Layers that resize each sample without weights: ZeroPadding1D/2D/3D, Cropping1D/2D/3D and
UpSampling1D/2D/3D.

All are built from shape primitives, so their gradients are those primitives' VJPs: padding is a
scatter into zeros (dL/dx = g cropped), cropping a slice (dL/dx = g padded with zeros),
nearest-neighbour upsampling a broadcast (dL/dx = g summed over each block of copies).
"""

from ... import ops
from ...engine import ShapeError
from ...ops.conv import as_tuple
from .. import registry
from .base import Layer
from .conv import check_rank, spatial_axes, standardize_data_format

LAYOUTS = {
    1: "(batch, steps, features)",
    2: "(batch, height, width, channels)",
    3: "(batch, depth, height, width, channels)",
}
AXIS_NAMES = {
    1: "(left, right)",
    2: "((top, bottom), (left, right))",
    3: "((d1, d2), (h1, h2), (w1, w2))",
}


def side_pairs(value, rank, argument, owner):
    """(before, after) for each of ``rank`` spatial axes, from Keras's forms: an int (the same
    everywhere); for rank 1 a pair (before, after); for rank 2 and 3 ``rank`` ints (symmetric per
    axis) or ``rank`` pairs."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * (2 if rank == 1 else rank)
    if rank == 1:
        return (as_tuple(value, 2, argument, owner, allow_zero=True),)
    if not isinstance(value, (tuple, list)) or len(value) != rank:
        raise ValueError(
            f"{owner}: `{argument}` must be an int, a tuple of {rank} ints (symmetric per axis) "
            f"or a tuple of {rank} tuples of 2 ints {AXIS_NAMES[rank]}; received "
            f"{argument}={value!r}."
        )
    return tuple(
        as_tuple(side, 2, f"{argument}[{i}]", owner, allow_zero=True)
        for i, side in enumerate(value)
    )


class _SpatialLayer(Layer):
    """A layer on inputs of ``rank`` spatial axes, with an optional data_format."""

    rank = None

    def _setup(self, data_format):
        self.data_format = standardize_data_format(
            data_format, f'{type(self).__name__} layer "{self.name}"'
        )
        self.built = True

    def _axes(self):
        return spatial_axes(self.rank, self.data_format)

    def check_input(self, x):
        self.compute_output_shape(x.shape)


class _SidesLayer(_SpatialLayer):
    """A layer that adds or removes entries on both sides of each spatial axis, by the amounts
    its argument ``_argument`` ("padding" or "cropping") gives in :func:`side_pairs`'s forms.
    The attribute of that name keeps one pair for rank 1 and ``rank`` pairs otherwise."""

    _argument = None

    def __init__(self, sides, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._setup(data_format)
        owner = f'{type(self).__name__} layer "{self.name}"'
        pairs = side_pairs(sides, self.rank, self._argument, owner)
        setattr(self, self._argument, pairs[0] if self.rank == 1 else pairs)

    def _pairs(self):
        """(before, after) for each spatial axis."""
        sides = getattr(self, self._argument)
        return (sides,) if self.rank == 1 else sides


class BaseZeroPadding(_SidesLayer):
    """Adds zeros before and after each spatial axis: y[n, b + i, ..., c] = x[n, i, ..., c] and
    zeros elsewhere, so each axis grows by before + after.

    Args:
        padding: an int, or per axis (before, after) as ``side_pairs`` reads it.
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    _argument = "padding"

    def call(self, inputs):
        index = [slice(None)] * inputs.ndim
        for axis, (before, _) in zip(self._axes(), self._pairs()):
            index[axis] = slice(before, before + inputs.shape[axis])
        return ops.scatter_add(
            inputs, index=tuple(index), shape=self.compute_output_shape(inputs.shape)
        )

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self.rank, LAYOUTS[self.rank])
        shape = list(input_shape)
        for axis, (before, after) in zip(self._axes(), self._pairs()):
            if shape[axis] is not None:
                shape[axis] += before + after
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


@registry.serializable("keras.layers")
class ZeroPadding1D(BaseZeroPadding):
    """Zeros before and after the steps: (N, T, C) -> (N, left + T + right, C).

    Args:
        padding: an int (both sides) or (left, right). Default 1.
    """

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


@registry.serializable("keras.layers")
class ZeroPadding2D(BaseZeroPadding):
    """Rows and columns of zeros around each image: (N, H, W, C) -> (N, t + H + b, l + W + r, C).

    Args:
        padding: an int (the same on all four sides), a pair (symmetric height padding,
            symmetric width padding), or ((top, bottom), (left, right)). Default 1.
    """

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


@registry.serializable("keras.layers")
class ZeroPadding3D(BaseZeroPadding):
    """Zeros around each volume, on depth, height and width.

    Args:
        padding: an int, three ints (symmetric per axis) or three (before, after) pairs.
            Default 1.
    """

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class BaseCropping(_SidesLayer):
    """Removes ``before`` entries from the start and ``after`` from the end of each spatial
    axis: y = x[:, b1 : L1 - a1, ...]; dL/dx = g placed back, zeros on the cropped entries.

    Raises:
        ValueError: a cropping that leaves nothing of an axis.
    """

    _argument = "cropping"

    def call(self, inputs):
        index = [slice(None)] * inputs.ndim
        for axis, (before, after) in zip(self._axes(), self._pairs()):
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self.rank, LAYOUTS[self.rank])
        shape = list(input_shape)
        for axis, (before, after) in zip(self._axes(), self._pairs()):
            if shape[axis] is None:
                continue
            if before + after >= shape[axis]:
                raise ShapeError(
                    f'Layer "{self.name}" ({type(self).__name__}): cropping {self.cropping} '
                    f"removes all of axis {axis} of the input of shape {tuple(input_shape)}; "
                    f"crop less than the size of each axis."
                )
            shape[axis] -= before + after
        return tuple(shape)

    def get_config(self):
        config = {**super().get_config(), "cropping": self.cropping}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


@registry.serializable("keras.layers")
class Cropping1D(BaseCropping):
    """Crops the steps: (N, T, C) -> (N, T - left - right, C).

    Args:
        cropping: an int (both ends) or (left, right). Default (1, 1).
    """

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, None, **kwargs)


@registry.serializable("keras.layers")
class Cropping2D(BaseCropping):
    """Crops each image: (N, H, W, C) -> (N, H - t - b, W - l - r, C).

    Args:
        cropping: an int, (symmetric height, symmetric width) or ((top, bottom), (left,
            right)). Default ((0, 0), (0, 0)).
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


@registry.serializable("keras.layers")
class Cropping3D(BaseCropping):
    """Crops each volume on depth, height and width.

    Args:
        cropping: an int, three ints (symmetric per axis) or three (before, after) pairs.
            Default ((1, 1), (1, 1), (1, 1)).
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class BaseUpSampling(_SpatialLayer):
    """Repeats each entry ``size[k]`` times along spatial axis k (nearest neighbour):
    y[n, i, j, ..., c] = x[n, i // s_1, j // s_2, ..., c]; dL/dx = the sum of g over each block
    of copies."""

    def _upsample(self, inputs, sizes):
        # (.., L, ..) -> (.., L, 1, ..) -> broadcast to (.., L, s, ..) -> (.., L s, ..)
        split, repeated = list(inputs.shape), list(inputs.shape)
        for offset, (axis, factor) in enumerate(zip(self._axes(), sizes)):
            split.insert(axis + offset + 1, 1)
            repeated.insert(axis + offset + 1, factor)
        x = ops.broadcast_to(inputs.reshape(split), shape=tuple(repeated))
        return x.reshape(self.compute_output_shape(inputs.shape))

    def _sizes(self):
        return (self.size,) if self.rank == 1 else self.size

    def call(self, inputs):
        return self._upsample(inputs, self._sizes())

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self.rank, LAYOUTS[self.rank])
        shape = list(input_shape)
        for axis, factor in zip(self._axes(), self._sizes()):
            if shape[axis] is not None:
                shape[axis] *= factor
        return tuple(shape)


@registry.serializable("keras.layers")
class UpSampling1D(BaseUpSampling):
    """Repeats each step ``size`` times: (N, T, C) -> (N, T size, C).

    Args:
        size: a positive int (default 2).
    """

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self._setup(None)
        self.size = as_tuple(size, 1, "size", f'UpSampling1D layer "{self.name}"')[0]

    def get_config(self):
        return {**super().get_config(), "size": self.size}


@registry.serializable("keras.layers")
class UpSampling2D(BaseUpSampling):
    """Repeats each row ``size[0]`` times and each column ``size[1]`` times (nearest neighbour).

    Args:
        size: an int or a pair (default (2, 2)).
        data_format: 'channels_last' (default) or 'channels_first'.
        interpolation: 'nearest' (the default, and the one supported).
    """

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self._setup(data_format)
        owner = f'UpSampling2D layer "{self.name}"'
        self.size = as_tuple(size, 2, "size", owner)
        self.interpolation = str(interpolation).lower()
        if self.interpolation != "nearest":
            raise ValueError(
                f"{owner}: only interpolation='nearest' is supported; received "
                f"interpolation={interpolation!r}."
            )

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }


@registry.serializable("keras.layers")
class UpSampling3D(BaseUpSampling):
    """Repeats each entry along depth, height and width ``size`` times (nearest neighbour).

    Args:
        size: an int or three ints (default (2, 2, 2)).
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._setup(data_format)
        self.size = as_tuple(size, 3, "size", f'UpSampling3D layer "{self.name}"')

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}
