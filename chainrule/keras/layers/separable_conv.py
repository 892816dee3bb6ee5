"""Depthwise and depthwise-separable 2-D convolutions, with Keras 3's arguments, weights and config.

A depthwise convolution filters each input channel c with its own ``depth_multiplier`` = m
kernels, without mixing channels:

    y[n, i, j, c m + k] = b[c m + k] + sum_{a, b} xp[n, i sh + a dh, j sw + b dw, c] K[a, b, c, k]

It is :func:`chainrule.ops.conv2d` with one group per input channel, the kernel (kh, kw, C, m)
read as (kh, kw, 1, C m), so its gradients are that convolution's. A separable convolution
follows it with a pointwise (1x1) convolution P (1, 1, C m, filters) that mixes the channels: a
dense map over the channel axis, y = activation(depthwise(x) P + b). For C input channels it
has kh kw C m + C m filters weights where a Conv2D has kh kw C filters.
"""

from ... import ops
from .. import activations as activations_module
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import registry
from .. import regularizers as regularizers_module
from .conv import (
    ConvLayer,
    conv_output_shape,
)
from .core import check_positive_int


class _DepthwiseBase(ConvLayer):
    """The arguments DepthwiseConv2D and SeparableConv2D share, and the depthwise step.

    Args:
        kernel_size: an int or a pair (the window).
        strides, dilation_rate: an int or a pair (default 1).
        padding: 'valid' (default) or 'same'.
        data_format: 'channels_last' (default) or 'channels_first'.
        depth_multiplier: m, the output channels per input channel of the depthwise step.
        activation: name or callable applied to the output (default: none).
        use_bias: whether to add a bias (default True).
        depthwise_initializer, bias_initializer: default 'glorot_uniform' and 'zeros'.
        depthwise_regularizer, bias_regularizer, activity_regularizer: penalties for the loss.
        depthwise_constraint, bias_constraint: projections applied after each update.
    """

    rank = 2
    layout = "(batch, height, width, channels)"

    def __init__(
        self,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int(
            f'{type(self).__name__} layer "{self.name}"', "depth_multiplier", depth_multiplier
        )
        self.depth_multiplier = depth_multiplier
        self._init_window(2, kernel_size, strides, padding, data_format, dilation_rate)
        self.activation = activations_module.get(activation)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers_module.get(depthwise_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.depthwise_regularizer = regularizers_module.get(depthwise_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        self.activity_regularizer = regularizers_module.get(activity_regularizer)
        self.depthwise_constraint = constraints_module.get(depthwise_constraint)
        self.bias_constraint = constraints_module.get(bias_constraint)
        self.bias = None

    def _add_depthwise_kernel(self, input_shape, name):
        """Create the (kh, kw, C, m) kernel of the depthwise step for inputs of input_shape."""
        channels = self._input_channels(input_shape)
        self.compute_output_shape(input_shape)  # the kernel must fit the (padded) input
        return self.add_weight(
            self.kernel_size + (channels, self.depth_multiplier),
            self.depthwise_initializer,
            name=name,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )

    def _add_bias(self, size):
        if self.use_bias:
            self.bias = self.add_weight(
                (size,),
                self.bias_initializer,
                name="bias",
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def check_input(self, x):
        self._check_channels(x, self._depthwise.shape[2], self._depthwise)

    def depthwise(self, x, bias=None):
        """The depthwise convolution of channels_last x: conv2d with one group per channel."""
        kh, kw, channels, multiplier = self._depthwise.shape
        kernel = ops.reshape(self._depthwise, shape=(kh, kw, 1, channels * multiplier))
        return ops.conv2d(
            x,
            kernel,
            bias,
            strides=self.strides,
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            groups=channels,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            depth_multiplier=self.depth_multiplier,
            depthwise_initializer=initializers_module.serialize(self.depthwise_initializer),
            depthwise_regularizer=regularizers_module.serialize(self.depthwise_regularizer),
            depthwise_constraint=constraints_module.serialize(self.depthwise_constraint),
            **self.window_config(),
        )
        return config


@registry.serializable("keras.layers")
class DepthwiseConv2D(_DepthwiseBase):
    """Depthwise 2-D convolution: each input channel convolved with its own m kernels.

    Shapes (channels_last): x (N, H, W, C), ``kernel`` (kh, kw, C, m), ``bias`` (C m,),
    y (N, Ho, Wo, C m), output channel c m + k from input channel c. See :class:`_DepthwiseBase`
    for the arguments (Keras's order: kernel_size, strides, padding, depth_multiplier, ...).
    """

    def __init__(
        self,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=(1, 1),
        **kwargs,
    ):
        super().__init__(
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            depth_multiplier=depth_multiplier,
            **kwargs,
        )
        self.kernel = None

    @property
    def _depthwise(self):
        return self.kernel

    def build(self, input_shape):
        self.kernel = self._add_depthwise_kernel(input_shape, "kernel")
        self._add_bias(self.kernel.shape[2] * self.depth_multiplier)
        self.built = True

    def convolve(self, x):
        return self.depthwise(x, self.bias)

    def compute_output_shape(self, input_shape):
        channels = self._input_channels(input_shape) * self.depth_multiplier
        return conv_output_shape(self, input_shape, channels)


@registry.serializable("keras.layers")
class SeparableConv2D(_DepthwiseBase):
    """Depthwise-separable 2-D convolution: the depthwise step, then a pointwise (1x1) one.

        y = activation(depthwise(x) P + b)

    Shapes (channels_last): x (N, H, W, C), ``depthwise_kernel`` (kh, kw, C, m),
    ``pointwise_kernel`` (1, 1, C m, filters), ``bias`` (filters,), y (N, Ho, Wo, filters).
    The pointwise step is a dense map over the channel axis, so its gradients are a dense
    layer's. Besides the arguments of :class:`_DepthwiseBase`: ``filters``, and
    ``pointwise_initializer`` (default 'glorot_uniform'), ``pointwise_regularizer``,
    ``pointwise_constraint``.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        depth_multiplier=1,
        pointwise_initializer="glorot_uniform",
        pointwise_regularizer=None,
        pointwise_constraint=None,
        **kwargs,
    ):
        super().__init__(
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            depth_multiplier=depth_multiplier,
            **kwargs,
        )
        check_positive_int(f'SeparableConv2D layer "{self.name}"', "filters", filters)
        self.filters = filters
        self.pointwise_initializer = initializers_module.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers_module.get(pointwise_regularizer)
        self.pointwise_constraint = constraints_module.get(pointwise_constraint)
        self.depthwise_kernel = self.pointwise_kernel = None

    @property
    def _depthwise(self):
        return self.depthwise_kernel

    def build(self, input_shape):
        self.depthwise_kernel = self._add_depthwise_kernel(input_shape, "depthwise_kernel")
        mixed = self.depthwise_kernel.shape[2] * self.depth_multiplier
        self.pointwise_kernel = self.add_weight(
            (1, 1, mixed, self.filters),
            self.pointwise_initializer,
            name="pointwise_kernel",
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
        )
        self._add_bias(self.filters)
        self.built = True

    def convolve(self, x):
        mixed = self.pointwise_kernel.shape[2]
        pointwise = ops.reshape(self.pointwise_kernel, shape=(mixed, self.filters))
        features = self.depthwise(x)
        if self.bias is None:
            return ops.matmul(features, pointwise)
        return ops.linear(features, pointwise, self.bias)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self, input_shape, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            pointwise_initializer=initializers_module.serialize(self.pointwise_initializer),
            pointwise_regularizer=regularizers_module.serialize(self.pointwise_regularizer),
            pointwise_constraint=constraints_module.serialize(self.pointwise_constraint),
        )
        return config
