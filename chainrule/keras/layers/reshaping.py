"""Layers that resize images without weights: ZeroPadding2D and UpSampling2D.

Both are built from shape primitives, so their gradients are those primitives' VJPs: padding is a
scatter into zeros (dL/dx = g cropped), nearest-neighbour upsampling a broadcast (dL/dx = g summed
over each block of copies).
"""

from ... import ops
from ...ops.conv import as_tuple
from .. import registry
from .base import Layer
from .conv import check_rank, spatial_axes, standardize_data_format

IMAGE_LAYOUT = "(batch, height, width, channels)"


@registry.serializable("keras.layers")
class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around each image.

    y[n, t + i, l + j, c] = x[n, i, j, c] and zeros elsewhere, so y has shape
    (N, t + H + b, l + W + r, C) for paddings top t, bottom b, left l, right r.

    Args:
        padding: an int (the same on all four sides), a pair (symmetric height padding,
            symmetric width padding), or ((top, bottom), (left, right)). Default 1.
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = f'ZeroPadding2D layer "{self.name}"'
        self.data_format = standardize_data_format(data_format, owner)
        if isinstance(padding, int) and not isinstance(padding, bool):
            padding = (padding, padding)
        if not isinstance(padding, (tuple, list)) or len(padding) != 2:
            raise ValueError(
                f"{owner}: `padding` must be an int, a tuple of 2 ints (symmetric height, "
                f"symmetric width) or a tuple of 2 tuples of 2 ints ((top, bottom), "
                f"(left, right)); received padding={padding!r}."
            )
        self.padding = tuple(
            as_tuple(side, 2, f"padding[{i}]", owner, allow_zero=True)
            for i, side in enumerate(padding)
        )
        self.built = True

    def check_input(self, x):
        check_rank(self, x.shape, 2, IMAGE_LAYOUT)

    def call(self, inputs):
        index = [slice(None)] * 4
        for axis, (before, _) in zip(spatial_axes(2, self.data_format), self.padding):
            index[axis] = slice(before, before + inputs.shape[axis])
        return ops.scatter_add(
            inputs, index=tuple(index), shape=self.compute_output_shape(inputs.shape)
        )

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, 2, IMAGE_LAYOUT)
        shape = list(input_shape)
        for axis, (before, after) in zip(spatial_axes(2, self.data_format), self.padding):
            if shape[axis] is not None:
                shape[axis] += before + after
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


@registry.serializable("keras.layers")
class UpSampling2D(Layer):
    """Repeats each row ``size[0]`` times and each column ``size[1]`` times (nearest neighbour).

    y[n, i, j, c] = x[n, i // s_h, j // s_w, c]; dL/dx[n, i, j, c] = the sum of g over the
    s_h x s_w block of copies of x[n, i, j, c].

    Args:
        size: an int or a pair (default (2, 2)).
        data_format: 'channels_last' (default) or 'channels_first'.
        interpolation: 'nearest' (the default, and the one supported).
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        owner = f'UpSampling2D layer "{self.name}"'
        self.data_format = standardize_data_format(data_format, owner)
        self.size = as_tuple(size, 2, "size", owner)
        self.interpolation = str(interpolation).lower()
        if self.interpolation != "nearest":
            raise ValueError(
                f"{owner}: only interpolation='nearest' is supported; received "
                f"interpolation={interpolation!r}."
            )
        self.built = True

    def check_input(self, x):
        check_rank(self, x.shape, 2, IMAGE_LAYOUT)

    def call(self, inputs):
        # (.., H, .., W, ..) -> (.., H, 1, .., W, 1, ..) -> broadcast to (.., H, sh, .., W, sw, ..)
        height, width = spatial_axes(2, self.data_format)
        split = list(inputs.shape)
        split.insert(width + 1, 1)
        split.insert(height + 1, 1)
        repeated = list(split)
        repeated[height + 1], repeated[width + 2] = self.size
        x = ops.broadcast_to(inputs.reshape(split), shape=tuple(repeated))
        return x.reshape(self.compute_output_shape(inputs.shape))

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, 2, IMAGE_LAYOUT)
        shape = list(input_shape)
        for axis, factor in zip(spatial_axes(2, self.data_format), self.size):
            if shape[axis] is not None:
                shape[axis] *= factor
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }
