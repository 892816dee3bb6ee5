"""Pooling layers: max and average pooling over 1-D, 2-D and 3-D windows, and the global
poolings over all spatial axes.

The windowed poolings call ``keras.ops.max_pool`` and ``keras.ops.average_pool`` (the 2-D pooling
primitives of :mod:`chainrule.ops.conv`): dL/dx of a max pool is g routed to the first maximum of
each window (TensorFlow's choice among ties), of an average pool g spread evenly over the window.
The global poolings are a mean or a max over the spatial axes, whose gradients come from those
reductions; GlobalAveragePooling1D takes a mask of the steps to average over.
"""

from ... import ops
from ...engine import Tensor
from ...ops.conv import as_padding, as_tuple, output_length
from .. import registry
from ..ops import nn as keras_nn
from .base import Layer
from .conv import (
    channels_last,
    check_rank,
    restore_format,
    spatial_axes,
    standardize_data_format,
)

LAYOUTS = {
    1: "(batch, steps, features)",
    2: "(batch, height, width, channels)",
    3: "(batch, depth, height, width, channels)",
}


class BasePooling(Layer):
    """A pooling window of ``rank`` spatial axes slid over each channel separately.

    Args:
        pool_size: an int or ``rank`` ints.
        strides: an int, ``rank`` ints or None (default: pool_size, so windows do not overlap).
        padding: 'valid' (default) or 'same' (TensorFlow's: ceil(size / stride) outputs, padding
            that never counts: -inf for a max, left out of an average).
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    rank = None
    pool = None  # keras_nn.max_pool or keras_nn.average_pool

    def __init__(
        self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs
    ):
        super().__init__(name=name, **kwargs)
        owner = f'{type(self).__name__} layer "{self.name}"'
        self.pool_size = as_tuple(pool_size, self.rank, "pool_size", owner)
        self.strides = (
            self.pool_size if strides is None else as_tuple(strides, self.rank, "strides", owner)
        )
        self.padding = as_padding(padding, owner)
        self.data_format = standardize_data_format(data_format, owner)
        self.built = True

    def check_input(self, x):
        self.compute_output_shape(x.shape)

    def call(self, inputs):
        x = channels_last(inputs, self.data_format)
        y = self.pool(x, self.pool_size, strides=self.strides, padding=self.padding)
        return restore_format(y, self.data_format)

    def compute_output_shape(self, input_shape):
        """Keras's output shape; raises ValueError when the window does not fit the input."""
        check_rank(self, input_shape, self.rank, LAYOUTS[self.rank])
        shape = list(input_shape)
        axes = spatial_axes(self.rank, self.data_format)
        for axis, k, s in zip(axes, self.pool_size, self.strides):
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
class MaxPooling1D(BasePooling):
    """The maximum of each window of steps: y[n, i, c] = max_a x[n, i s + a, c]."""

    rank, pool = 1, staticmethod(keras_nn.max_pool)

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@registry.serializable("keras.layers")
class MaxPooling2D(BasePooling):
    """The maximum of each window: y[n, i, j, c] = max_{a, b} x[n, i sh + a, j sw + b, c].

    Example::

        MaxPooling2D((2, 2))      # (N, 26, 26, 32) -> (N, 13, 13, 32)
    """

    rank, pool = 2, staticmethod(keras_nn.max_pool)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@registry.serializable("keras.layers")
class MaxPooling3D(BasePooling):
    """The maximum of each (depth, height, width) window of each channel."""

    rank, pool = 3, staticmethod(keras_nn.max_pool)

    def __init__(
        self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs
    ):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@registry.serializable("keras.layers")
class AveragePooling1D(BasePooling):
    """The mean of each window's real (unpadded) steps: y[n, i, c] = mean_a x[n, i s + a, c]."""

    rank, pool = 1, staticmethod(keras_nn.average_pool)


@registry.serializable("keras.layers")
class AveragePooling2D(BasePooling):
    """The mean of each window's real (unpadded) pixels:

    y[n, i, j, c] = mean_{a, b} x[n, i sh + a, j sw + b, c]

    (``pool_size`` defaults to (2, 2) here; Keras requires it.)
    """

    rank, pool = 2, staticmethod(keras_nn.average_pool)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@registry.serializable("keras.layers")
class AveragePooling3D(BasePooling):
    """The mean of each (depth, height, width) window's real (unpadded) voxels."""

    rank, pool = 3, staticmethod(keras_nn.average_pool)


class BaseGlobalPooling(Layer):
    """A reduction over the ``rank`` spatial axes: (N, *spatial, C) -> (N, C).

    Args:
        data_format: 'channels_last' (default) or 'channels_first'.
        keepdims: keep the spatial axes with size 1: (N, 1, ..., 1, C).
    """

    rank = None
    reduce = None  # ops.mean or ops.max

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(
            data_format, f'{type(self).__name__} layer "{self.name}"'
        )
        self.keepdims = keepdims
        self.built = True

    def check_input(self, x):
        check_rank(self, x.shape, self.rank, LAYOUTS[self.rank])

    def call(self, inputs):
        axes = spatial_axes(self.rank, self.data_format)
        return self.reduce(inputs, axis=axes, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self.rank, LAYOUTS[self.rank])
        axes = spatial_axes(self.rank, self.data_format)
        if self.keepdims:
            return tuple(1 if i in axes else n for i, n in enumerate(input_shape))
        return tuple(n for i, n in enumerate(input_shape) if i not in axes)

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


@registry.serializable("keras.layers")
class GlobalAveragePooling1D(BaseGlobalPooling):
    """The mean over the steps: y[n, c] = (1 / T) sum_t x[n, t, c]; dL/dx = g / T.

    Called with ``mask`` (N, T) (True for real steps), the mean of the real steps only:
    y[n, c] = sum_t m[n, t] x[n, t, c] / sum_t m[n, t]; dL/dx[n, t] = g m[n, t] / sum_t m[n, t].
    """

    rank, reduce = 1, staticmethod(ops.mean)

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        steps = 1 if self.data_format == "channels_last" else 2
        # a Tensor, not its array: a replayed training step then reads each batch's mask
        weights = ops.cast(mask if isinstance(mask, Tensor) else Tensor(mask), inputs.dtype)
        weights = ops.expand_dims(weights, 2 if steps == 1 else 1)
        total = ops.sum(inputs * weights, axis=steps, keepdims=self.keepdims)
        return total / ops.sum(weights, axis=steps, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        """None: the mask is used up in the mean over the steps, as in Keras."""
        return None


@registry.serializable("keras.layers")
class GlobalAveragePooling2D(BaseGlobalPooling):
    """The mean over height and width: y[n, c] = (1 / HW) sum_{i, j} x[n, i, j, c];
    dL/dx = g / HW at every pixel."""

    rank, reduce = 2, staticmethod(ops.mean)


@registry.serializable("keras.layers")
class GlobalAveragePooling3D(BaseGlobalPooling):
    """The mean over depth, height and width; dL/dx = g / DHW at every voxel."""

    rank, reduce = 3, staticmethod(ops.mean)


@registry.serializable("keras.layers")
class GlobalMaxPooling1D(BaseGlobalPooling):
    """The maximum over the steps: y[n, c] = max_t x[n, t, c]; dL/dx = g at the maximum."""

    rank, reduce = 1, staticmethod(ops.max)


@registry.serializable("keras.layers")
class GlobalMaxPooling2D(BaseGlobalPooling):
    """The maximum over height and width: y[n, c] = max_{i, j} x[n, i, j, c]; dL/dx = g at the
    maximum (shared equally among ties, as TensorFlow's reduce_max), 0 elsewhere."""

    rank, reduce = 2, staticmethod(ops.max)


@registry.serializable("keras.layers")
class GlobalMaxPooling3D(BaseGlobalPooling):
    """The maximum over depth, height and width; dL/dx = g at the maximum."""

    rank, reduce = 3, staticmethod(ops.max)
