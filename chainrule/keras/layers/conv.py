"""Convolution layers: Conv1D, Conv2D and Conv3D, with Keras 3's arguments, defaults, weights
and config.

A convolution layer computes y = activation(conv(x, kernel) + bias) with the primitives of
:mod:`chainrule.ops.conv`, whose VJPs give dL/dx, dL/dkernel and dL/dbias. The kernel has shape
``kernel_size + (in_channels // groups, filters)`` (glorot_uniform by default, so its fans count
the window: fan_in = kh kw in/groups, fan_out = kh kw filters) and the bias shape ``(filters,)``
(zeros), created in that order as in Keras.
"""

from ... import ops
from ...engine import ShapeError
from ...ops.conv import PADDINGS, as_padding, as_tuple, output_length
from .. import activations as activations_module
from .. import config, registry
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import regularizers as regularizers_module
from ..ops import nn as keras_nn
from ..ops import numpy as keras_numpy
from .base import Layer
from .core import add_kernel_and_bias, check_positive_int, set_kernel_options

DATA_FORMATS = ("channels_last", "channels_first")


def standardize_data_format(data_format, owner):
    """'channels_last' (the default, for None) or 'channels_first'."""
    value = config.image_data_format() if data_format is None else str(data_format).lower()
    if value not in DATA_FORMATS:
        raise ValueError(
            f"{owner}: `data_format` must be one of {DATA_FORMATS}; received "
            f"data_format={data_format!r}."
        )
    return value


def channels_last(x, data_format):
    """x with its channel axis last: (N, C, ...) -> (N, ..., C) for 'channels_first'."""
    if data_format == "channels_last":
        return x
    return ops.transpose(x, axes=(0, *range(2, x.ndim), 1))


def restore_format(y, data_format):
    """The inverse of :func:`channels_last`: (N, ..., C) -> (N, C, ...) for 'channels_first'."""
    if data_format == "channels_last":
        return y
    return ops.transpose(y, axes=(0, y.ndim - 1, *range(1, y.ndim - 1)))


def spatial_axes(rank, data_format):
    """The positions of the spatial axes in an input of ``rank`` spatial dimensions."""
    first = 1 if data_format == "channels_last" else 2
    return tuple(range(first, first + rank))


def check_rank(layer, input_shape, rank, layout):
    """Raise the error for an input of the wrong number of axes, with the shape and the fix."""
    if len(input_shape) != rank + 2:
        shape = tuple(input_shape)
        hint = (
            " For one-channel images add the channel axis, e.g. x[..., None]."
            if (rank == 2 and len(shape) == 3)
            else ""
        )
        raise ShapeError(
            f'Input 0 of layer "{layer.name}" ({type(layer).__name__}) is incompatible with the '
            f"layer: expected ndim={rank + 2}, {layout}, but received input with shape "
            f"{shape}.{hint}"
        )


def conv_output_shape(layer, input_shape, channels):
    """The output shape of a convolution layer (its rank, layout, kernel_size, strides,
    dilation_rate and padding) with ``channels`` output channels.

    Raises:
        ShapeError: an input of the wrong rank.
        ValueError: a kernel that does not fit the (padded) input.
    """
    check_rank(layer, input_shape, layer.rank, layer.layout)
    axes = spatial_axes(layer.rank, layer.data_format)
    shape = list(input_shape)
    for axis, k, s, d in zip(axes, layer.kernel_size, layer.strides, layer.dilation_rate):
        padding = ((k - 1) * d, 0) if layer.padding == "causal" else layer.padding
        size = output_length(input_shape[axis], k, s, d, padding)
        if size is not None and size <= 0:
            raise ValueError(
                f'Layer "{layer.name}" ({type(layer).__name__}): the kernel of size '
                f"{layer.kernel_size} with dilation_rate={layer.dilation_rate} is larger than "
                f"the input of shape {tuple(input_shape)} with padding='{layer.padding}', so "
                f"the output would have size {size}. Use a smaller kernel_size, "
                f"padding='same', or larger inputs."
            )
        shape[axis] = size
    shape[1 if layer.data_format == "channels_first" else -1] = channels
    return tuple(shape)


class ConvLayer(Layer):
    """What every convolution layer shares: it convolves channels_last inputs, applies its
    activation (and activity penalty), and describes its window in its config."""

    def _init_window(
        self, rank, kernel_size, strides, padding, data_format, dilation_rate, allowed=PADDINGS
    ):
        """Check and set ``rank`` and the window's arguments (``allowed`` paddings); returns
        the owner's name for further error messages."""
        owner = f'{type(self).__name__} layer "{self.name}"'
        self.rank = rank
        self.kernel_size = as_tuple(kernel_size, rank, "kernel_size", owner)
        self.strides = as_tuple(strides, rank, "strides", owner)
        self.dilation_rate = as_tuple(dilation_rate, rank, "dilation_rate", owner)
        self.padding = as_padding(padding, owner, allowed)
        self.data_format = standardize_data_format(data_format, owner)
        return owner

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _input_channels(self, input_shape):
        """The channels of inputs of ``input_shape``, which must be known to make a kernel."""
        check_rank(self, input_shape, self.rank, self.layout)
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): the channel axis of input shape '
                f"{tuple(input_shape)} must be known to create the kernel."
            )
        return channels

    def _check_channels(self, x, channels, kernel):
        """Refuse an input whose channels are not the ``channels`` that ``kernel`` was built for;
        then check that the kernel fits it."""
        check_rank(self, x.shape, self.rank, self.layout)
        if x.shape[self._channel_axis] != channels:
            raise self.incompatible(
                x,
                f"expected axis {self._channel_axis} of input shape to have value {channels} "
                f"(the channels the {kernel.name} of shape {kernel.shape} was built for)",
            )
        self.compute_output_shape(x.shape)

    def convolve(self, x):
        """The convolution (plus bias) of channels_last x, before the activation."""
        raise NotImplementedError

    def call(self, inputs):
        y = self.activation(self.convolve(channels_last(inputs, self.data_format)))
        return restore_format(y, self.data_format)

    def window_config(self):
        """The config entries of the window, the activation and the bias."""
        return {
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations_module.serialize(self.activation),
            "use_bias": self.use_bias,
            "bias_initializer": initializers_module.serialize(self.bias_initializer),
            "bias_regularizer": regularizers_module.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers_module.serialize(self.activity_regularizer),
            "bias_constraint": constraints_module.serialize(self.bias_constraint),
        }

    def filters_config(self):
        """:meth:`window_config` with ``filters`` and the kernel's initializer, regularizer and
        constraint: the config of a layer with one kernel of ``filters`` outputs."""
        return {
            "filters": self.filters,
            "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
            "kernel_regularizer": regularizers_module.serialize(self.kernel_regularizer),
            "kernel_constraint": constraints_module.serialize(self.kernel_constraint),
            **self.window_config(),
        }

    def add_kernel(self, kernel_shape):
        """Create the kernel of ``kernel_shape`` and, with ``use_bias``, the bias (filters,)."""
        add_kernel_and_bias(self, kernel_shape, (self.filters,) if self.use_bias else None)


class BaseConv(ConvLayer):
    """Shared by Conv1D, Conv2D and Conv3D: ``rank`` spatial axes, Keras's ``BaseConv`` arguments.

    Args:
        rank: the number of spatial axes (1, 2 or 3).
        filters: F, the number of output channels.
        kernel_size: an int or a tuple of ``rank`` ints (the window).
        strides: an int or a tuple of ``rank`` ints (default 1). Keras forbids strides > 1
            together with dilation_rate > 1, and so does this layer.
        padding: 'valid' (default: no padding) or 'same' (TensorFlow's: the output has
            ceil(size / stride) pixels); Conv1D also takes 'causal'.
        data_format: 'channels_last' (default, (N, ..., C)) or 'channels_first' ((N, C, ...)).
        dilation_rate: an int or a tuple of ``rank`` ints (default 1).
        groups: split the input channels and the filters into this many independent groups.
        activation: name or callable applied to the output (default: none).
        use_bias: whether to add a bias (default True).
        kernel_initializer, bias_initializer: default 'glorot_uniform' and 'zeros'.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties added to the loss.
        kernel_constraint, bias_constraint: projections applied after each update.
    """

    layout = None  # the expected input axes, for error messages

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
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
        super().__init__(**kwargs)
        owner = f'{type(self).__name__} layer "{self.name}"'
        check_positive_int(owner, "filters", filters)
        check_positive_int(owner, "groups", groups)
        self.filters = filters
        allowed = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
        self._init_window(rank, kernel_size, strides, padding, data_format, dilation_rate, allowed)
        if filters % groups:
            raise ValueError(
                f"{owner}: the number of filters must be evenly divisible by the "
                f"number of groups; received groups={groups}, filters={filters}."
            )
        self.groups = groups
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{owner}: `strides > 1` not supported in conjunction with `dilation_rate > 1` "
                f"(as in Keras); received strides={self.strides} and "
                f"dilation_rate={self.dilation_rate}."
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
        if channels % self.groups:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): the number of input channels must '
                f"be evenly divisible by the number of groups; received groups={self.groups}, "
                f"but the input has {channels} channels (full input shape is "
                f"{tuple(input_shape)})."
            )
        self.compute_output_shape(input_shape)  # the kernel must fit the (padded) input
        self.add_kernel(self.kernel_size + (channels // self.groups, self.filters))
        self.built = True

    def check_input(self, x):
        self._check_channels(x, self.kernel.shape[-2] * self.groups, self.kernel)

    def convolution_op(self, inputs, kernel):
        """The convolution of ``inputs`` (in the layer's data_format) with ``kernel``, without
        the bias: ``keras.ops.conv`` with the layer's strides, padding and dilation, as in
        Keras. A subclass may override it (to standardize the kernel, say): :meth:`call` then
        convolves through it and adds the bias, as Keras's layer does; otherwise the
        convolution and its bias are one op."""
        return keras_nn.conv(
            inputs,
            kernel,
            strides=list(self.strides),
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )

    def call(self, inputs):
        if type(self).convolution_op is BaseConv.convolution_op:
            return super().call(inputs)
        y = self.convolution_op(inputs, self.kernel)
        if self.use_bias:
            spatial = (1,) * self.rank
            last = self.data_format == "channels_last"
            shape = (1, *spatial, self.filters) if last else (1, self.filters, *spatial)
            y = y + keras_numpy.reshape(self.bias, shape)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        """Keras's output shape; raises ValueError when the kernel does not fit the input."""
        return conv_output_shape(self, input_shape, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            groups=self.groups,
            **self.filters_config(),
        )
        return config


@registry.serializable("keras.layers")
class Conv2D(BaseConv):
    """2-D convolution over images: y = activation(conv2d(x, kernel) + bias).

    Shapes (channels_last): x (N, H, W, C), kernel (kh, kw, C / groups, filters), bias
    (filters,), y (N, Ho, Wo, filters) with Ho = floor((H - dh (kh - 1) - 1) / sh) + 1 for
    'valid' and ceil(H / sh) for 'same'. See :class:`BaseConv` for the arguments.

    Example::

        Conv2D(32, (3, 3), activation="relu")     # (N, 28, 28, 1) -> (N, 26, 26, 32), 320 params
    """

    layout = "(batch, height, width, channels)"

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        **kwargs,
    ):
        super().__init__(
            2,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            **kwargs,
        )

    def convolve(self, x):
        return ops.conv2d(
            x,
            self.kernel,
            self.bias,
            strides=self.strides,
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            groups=self.groups,
        )


@registry.serializable("keras.layers")
class Conv1D(BaseConv):
    """1-D convolution over sequences: y = activation(conv1d(x, kernel) + bias).

    Shapes (channels_last): x (N, steps, C), kernel (k, C / groups, filters), bias (filters,),
    y (N, steps_out, filters). ``padding='causal'`` pads (k - 1) dilation_rate zeros before the
    sequence only, so y[t] depends on x[: t + 1]. See :class:`BaseConv` for the arguments.
    """

    layout = "(batch, steps, channels)"

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        **kwargs,
    ):
        super().__init__(
            1,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            **kwargs,
        )

    def call(self, inputs):  # as Keras's Conv1D, which convolves here, not by convolution_op
        return ConvLayer.call(self, inputs)

    def convolve(self, x):
        return ops.conv1d(
            x,
            self.kernel,
            self.bias,
            strides=self.strides,
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            groups=self.groups,
        )


@registry.serializable("keras.layers")
class Conv3D(BaseConv):
    """3-D convolution over volumes: y = activation(conv3d(x, kernel) + bias).

    Shapes (channels_last): x (N, D, H, W, C), kernel (kd, kh, kw, C / groups, filters), bias
    (filters,), y (N, Do, Ho, Wo, filters), each output size as for Conv2D. Computed by
    ``keras.ops.conv`` as a sum over the kernel's depth taps of 2-D convolutions, so the
    gradients are conv2d's. See :class:`BaseConv` for the arguments.
    """

    layout = "(batch, depth, height, width, channels)"

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1, 1),
        **kwargs,
    ):
        super().__init__(
            3,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            **kwargs,
        )

    def convolve(self, x):
        y = keras_nn.conv(
            x,
            self.kernel,
            strides=self.strides,
            padding=self.padding,
            dilation_rate=self.dilation_rate,
        )
        return y if self.bias is None else y + self.bias
