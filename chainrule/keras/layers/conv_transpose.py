"""Transposed convolutions: Conv1DTranspose, Conv2DTranspose and Conv3DTranspose.

A transposed convolution is the adjoint of a convolution in its input: each input pixel scatters
its channels, through the kernel, into a window of the output,

    y[n, i s + a d - p, c] += sum_f x[n, i, f] kernel[a, c, f]        (then + bias, activation)

so a stride s upsamples by s (the decoders of autoencoders and GAN generators). Computed by
``keras.ops.conv_transpose`` (conv2d_backprop_input), whose VJPs are convolutions: dL/dx is the
forward convolution of g with the kernel, dL/dkernel the correlation of g with x.
"""

from ...ops.conv import as_tuple
from .. import registry
from ..ops import nn as keras_nn
from ..ops.nn import _transpose_pads as transpose_geometry
from .base import Layer
from .conv import ConvLayer, check_rank, spatial_axes
from .core import check_positive_int, set_kernel_options


class BaseConvTranspose(ConvLayer):
    """Shared by the transposed convolutions: ``rank`` spatial axes, Keras's arguments.

    Args:
        rank: the number of spatial axes (1, 2 or 3).
        filters: the number of output channels.
        kernel_size: an int or a tuple of ``rank`` ints.
        strides: an int or ``rank`` ints (default 1): the upsampling factor.
        padding: 'valid' (default) or 'same'. The output length is (L - 1) s + max(k', s) for
            'valid' and L s for 'same', with k' = d (k - 1) + 1 the dilated kernel.
        output_padding: None (default: the sizes above), or an int or ``rank`` ints, each less
            than its stride: the output length is then (L - 1) s + k' - 2 pad + output_padding
            with pad = k' // 2 for 'same' and 0 for 'valid'.
        data_format: 'channels_last' (default) or 'channels_first'.
        dilation_rate: an int or ``rank`` ints (default 1).
        activation, use_bias, kernel_initializer ('glorot_uniform'), bias_initializer
            ('zeros'), kernel_regularizer, bias_regularizer, activity_regularizer,
            kernel_constraint, bias_constraint: as for the convolutions.

    Weights: ``kernel`` of shape ``kernel_size + (filters, in_channels)`` (output channels
    before input channels, as in Keras), then ``bias`` (filters,).
    """

    layout = None

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        Layer.__init__(self, **kwargs)
        owner = f'{type(self).__name__} layer "{self.name}"'
        check_positive_int(owner, "filters", filters)
        self.filters = filters
        self._init_window(rank, kernel_size, strides, padding, data_format, dilation_rate)
        self.output_padding = (
            None
            if output_padding is None
            else as_tuple(output_padding, rank, "output_padding", owner, allow_zero=True)
        )
        if self.output_padding is not None:
            for extra, stride in zip(self.output_padding, self.strides):
                if extra >= stride:
                    raise ValueError(
                        f"{owner}: each `output_padding` must be less than its stride; received "
                        f"output_padding={self.output_padding} and strides={self.strides}."
                    )
        set_kernel_options(
            self,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
        )
        self.kernel = self.bias = None

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.add_kernel(self.kernel_size + (self.filters, channels))
        self.built = True

    def check_input(self, x):
        self._check_channels(x, self.kernel.shape[-1], self.kernel)

    def convolve(self, x):
        y = keras_nn.conv_transpose(
            x,
            self.kernel,
            strides=self.strides,
            padding=self.padding,
            output_padding=self.output_padding,
            dilation_rate=self.dilation_rate,
        )
        return y if self.bias is None else y + self.bias

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self.rank, self.layout)
        shape = list(input_shape)
        extras = self.output_padding or (None,) * self.rank
        geometry = zip(self.kernel_size, self.strides, self.dilation_rate, extras)
        for axis, (k, s, d, e) in zip(spatial_axes(self.rank, self.data_format), geometry):
            if shape[axis] is not None:
                shape[axis] = transpose_geometry(shape[axis], k, s, d, self.padding, e)[0]
        shape[self._channel_axis] = self.filters
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            output_padding=self.output_padding,
            **self.filters_config(),
        )
        return config


@registry.serializable("keras.layers")
class Conv1DTranspose(BaseConvTranspose):
    """1-D transposed convolution: (N, steps, C) -> (N, steps_out, filters), kernel
    (k, filters, C). See :class:`BaseConvTranspose`."""

    layout = "(batch, steps, channels)"

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        **kwargs,
    ):
        super().__init__(
            1,
            filters,
            kernel_size,
            strides,
            padding,
            output_padding,
            data_format,
            dilation_rate,
            **kwargs,
        )


@registry.serializable("keras.layers")
class Conv2DTranspose(BaseConvTranspose):
    """2-D transposed convolution: (N, H, W, C) -> (N, Ho, Wo, filters), kernel
    (kh, kw, filters, C). See :class:`BaseConvTranspose`.

    Example::

        Conv2DTranspose(32, 3, strides=2, padding="same")   # (N, 7, 7, 64) -> (N, 14, 14, 32)
    """

    layout = "(batch, height, width, channels)"

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1),
        **kwargs,
    ):
        super().__init__(
            2,
            filters,
            kernel_size,
            strides,
            padding,
            output_padding,
            data_format,
            dilation_rate,
            **kwargs,
        )


@registry.serializable("keras.layers")
class Conv3DTranspose(BaseConvTranspose):
    """3-D transposed convolution: (N, D, H, W, C) -> (N, Do, Ho, Wo, filters), kernel
    (kd, kh, kw, filters, C). See :class:`BaseConvTranspose`."""

    layout = "(batch, depth, height, width, channels)"

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1, 1),
        **kwargs,
    ):
        super().__init__(
            3,
            filters,
            kernel_size,
            strides,
            padding,
            output_padding,
            data_format,
            dilation_rate,
            **kwargs,
        )
