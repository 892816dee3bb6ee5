"""Pooling layers: MaxPooling2D, AveragePooling2D and the global poolings over images.

MaxPooling2D and AveragePooling2D call the primitives of :mod:`chainrule.ops.conv`: dL/dx of a max
pool is g routed to the first maximum of each window (TensorFlow's choice among ties), of an average
pool g spread evenly over the window. The global poolings are a mean or a max over the spatial axes,
whose gradients come from those reductions.
"""

from ... import ops
from ...ops.conv import as_padding, as_tuple, output_length
from .. import registry
from .base import Layer
from .conv import (
    channels_last,
    check_rank,
    restore_format,
    spatial_axes,
    standardize_data_format,
)

IMAGE_LAYOUT = "(batch, height, width, channels)"


class BasePooling2D(Layer):
    """A 2-D pooling window slid over each channel separately.

    Args:
        pool_size: an int or a pair (default (2, 2)).
        strides: an int, a pair or None (default: pool_size, so windows do not overlap).
        padding: 'valid' (default) or 'same' (TensorFlow's: ceil(size / stride) outputs, padding
            that never counts: -inf for a max, left out of an average).
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    pool = None  # the primitive: ops.max_pool2d or ops.avg_pool2d

    def __init__(
        self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs
    ):
        super().__init__(name=name, **kwargs)
        owner = f'{type(self).__name__} layer "{self.name}"'
        self.pool_size = as_tuple(pool_size, 2, "pool_size", owner)
        self.strides = self.pool_size if strides is None else as_tuple(strides, 2, "strides", owner)
        self.padding = as_padding(padding, owner)
        self.data_format = standardize_data_format(data_format, owner)
        self.built = True

    def check_input(self, x):
        self.compute_output_shape(x.shape)

    def call(self, inputs):
        x = channels_last(inputs, self.data_format)
        y = self.pool(x, pool_size=self.pool_size, strides=self.strides, padding=self.padding)
        return restore_format(y, self.data_format)

    def compute_output_shape(self, input_shape):
        """Keras's output shape; raises ValueError when the window does not fit the input."""
        check_rank(self, input_shape, 2, IMAGE_LAYOUT)
        shape = list(input_shape)
        for axis, k, s in zip(spatial_axes(2, self.data_format), self.pool_size, self.strides):
            size = output_length(input_shape[axis], k, s, 1, self.padding)
            if size is not None and size <= 0:
                raise ValueError(
                    f'Layer "{self.name}" ({type(self).__name__}): the pooling window '
                    f"{self.pool_size} is larger than the input of shape {tuple(input_shape)} "
                    f"with padding='{self.padding}'. Use a smaller pool_size or padding='same'."
                )
            shape[axis] = size
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            pool_size=self.pool_size,
            padding=self.padding,
            strides=self.strides,
            data_format=self.data_format,
        )
        return config


@registry.serializable("keras.layers")
class MaxPooling2D(BasePooling2D):
    """The maximum of each window: y[n, i, j, c] = max_{a, b} x[n, i sh + a, j sw + b, c].

    Example::

        MaxPooling2D((2, 2))      # (N, 26, 26, 32) -> (N, 13, 13, 32)
    """

    pool = ops.max_pool2d


@registry.serializable("keras.layers")
class AveragePooling2D(BasePooling2D):
    """The mean of each window's real (unpadded) pixels:

    y[n, i, j, c] = mean_{a, b} x[n, i sh + a, j sw + b, c]
    """

    pool = ops.avg_pool2d


class BaseGlobalPooling2D(Layer):
    """A reduction over the height and width axes: (N, H, W, C) -> (N, C).

    Args:
        data_format: 'channels_last' (default) or 'channels_first'.
        keepdims: keep the spatial axes with size 1: (N, 1, 1, C).
    """

    reduce = None  # ops.mean or ops.max

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(
            data_format, f'{type(self).__name__} layer "{self.name}"'
        )
        self.keepdims = keepdims
        self.built = True

    def check_input(self, x):
        check_rank(self, x.shape, 2, IMAGE_LAYOUT)

    def call(self, inputs):
        return self.reduce(inputs, axis=spatial_axes(2, self.data_format), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, 2, IMAGE_LAYOUT)
        axes = spatial_axes(2, self.data_format)
        if self.keepdims:
            return tuple(1 if i in axes else n for i, n in enumerate(input_shape))
        return tuple(n for i, n in enumerate(input_shape) if i not in axes)

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


@registry.serializable("keras.layers")
class GlobalAveragePooling2D(BaseGlobalPooling2D):
    """The mean over height and width: y[n, c] = (1 / HW) sum_{i, j} x[n, i, j, c];
    dL/dx = g / HW at every pixel."""

    reduce = ops.mean


@registry.serializable("keras.layers")
class GlobalMaxPooling2D(BaseGlobalPooling2D):
    """The maximum over height and width: y[n, c] = max_{i, j} x[n, i, j, c]; dL/dx = g at the
    maximum (shared equally among ties, as TensorFlow's reduce_max), 0 elsewhere."""

    reduce = ops.max
