"""Normalization layers: BatchNormalization and LayerNormalization.

Both are written with Tensor ops, so the gradient flows through the statistics they normalize
by (the batch mean and variance depend on every input), and both are gradient-checked in float64.
"""

from ... import ops
from ...backend import xp_of
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import registry
from .. import regularizers as regularizers_module
from ..ops import nn as keras_nn
from .base import Layer


def _normalized_axes(axes, ndim, layer):
    """``axes`` as sorted non-negative ints for inputs of rank ``ndim``.

    Raises:
        ValueError: an axis outside [-ndim, ndim), or the batch axis 0.
    """
    out = []
    for axis in axes:
        if not -ndim <= axis < ndim:
            raise ValueError(
                f'Layer "{layer.name}" ({type(layer).__name__}): axis {axis} is out of bounds for '
                f"inputs of rank {ndim}."
            )
        out.append(axis % ndim)
    if 0 in out:
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}): cannot normalize over the batch '
            f"axis 0 as a feature axis; got axis={list(axes)}."
        )
    return sorted(set(out))


def _broadcastable(weight, broadcast_shape):
    """``weight`` reshaped to ``broadcast_shape`` (its sizes at their input axes, 1 elsewhere),
    unless it already broadcasts as it is (its axes are the trailing ones)."""
    trailing = broadcast_shape[len(broadcast_shape) - len(weight.shape) :]
    if trailing == tuple(weight.shape) and all(n == 1 for n in broadcast_shape[: -len(trailing)]):
        return weight
    return weight.reshape(broadcast_shape)


def _add_gamma_beta(layer, shape, scale, center):
    """Create ``layer.gamma`` (if ``scale``) and ``layer.beta`` (if ``center``) of ``shape``,
    with the layer's initializers, regularizers and constraints."""
    if scale:
        layer.gamma = layer.add_weight(
            shape,
            layer.gamma_initializer,
            name="gamma",
            regularizer=layer.gamma_regularizer,
            constraint=layer.gamma_constraint,
        )
    if center:
        layer.beta = layer.add_weight(
            shape,
            layer.beta_initializer,
            name="beta",
            regularizer=layer.beta_regularizer,
            constraint=layer.beta_constraint,
        )


# gamma's and beta's constructor options, each resolved and serialized by the module its kind
# names (beta_initializer: keras.initializers)
_GAMMA_BETA_OPTIONS = tuple(
    f"{weight}_{kind}"
    for kind in ("initializer", "regularizer", "constraint")
    for weight in ("beta", "gamma")
)
_MODULE_OF_KIND = {
    "initializer": initializers_module,
    "regularizer": regularizers_module,
    "constraint": constraints_module,
}


def _module_of(option):
    return _MODULE_OF_KIND[option.split("_", 1)[1]]


def _set_gamma_beta_options(layer, arguments):
    """Resolve gamma's and beta's initializers, regularizers and constraints, given by their
    Keras identifiers among a constructor's ``arguments`` (its ``locals()``), into the objects,
    as attributes of ``layer``; no gamma or beta yet."""
    for option in _GAMMA_BETA_OPTIONS:
        setattr(layer, option, _module_of(option).get(arguments[option]))
    layer.gamma = layer.beta = None


def _gamma_beta_config(layer):
    """The config entries of gamma's and beta's initializers, regularizers and constraints."""
    return {
        option: _module_of(option).serialize(getattr(layer, option))
        for option in _GAMMA_BETA_OPTIONS
    }


def _scale_and_shift(layer, outputs):
    """outputs * γ + β, each factor only if the layer has it, broadcast over the other axes."""
    if layer.gamma is not None:
        outputs = outputs * _broadcastable(layer.gamma, layer._broadcast_shape)
    if layer.beta is not None:
        outputs = outputs + _broadcastable(layer.beta, layer._broadcast_shape)
    return outputs


def _check_epsilon(layer_name, epsilon):
    if not epsilon > 0:
        raise ValueError(f"{layer_name}: epsilon must be > 0; got epsilon={epsilon}")


@registry.serializable("keras.layers")
class BatchNormalization(Layer):
    """Normalizes each feature (channel) by batch statistics in training, by their moving
    averages in inference, then scales and shifts it.

    For x of shape (N, ..., C, ...) with the features along ``axis``, per feature c, with the
    mean μ and the (biased) variance σ² taken over every other axis:

        training:   y = γ (x - μ_B) / sqrt(σ²_B + ε) + β
                    moving_mean <- moving_mean * momentum + μ_B * (1 - momentum)
                    moving_variance <- moving_variance * momentum + σ²_B * (1 - momentum)
        inference:  y = γ (x - moving_mean) / sqrt(moving_variance + ε) + β

    γ (``gamma``, ones) and β (``beta``, zeros) have shape (C,) and are trained; moving_mean and
    moving_variance are non-trainable weights. In training the gradient flows through μ_B and
    σ²_B. Keras's defaults differ from the paper's: momentum 0.99 (the weight of the *old*
    average) and ε = 1e-3, with the biased batch variance in the moving average. A layer with
    ``trainable=False`` runs in inference mode even when called with ``training=True``.

    With ``synchronized=True``, in a data-parallel job (``chainrule.distributed``), μ_B and σ²_B
    are those of the global batch: with n_r values per feature on process r,

        μ_B = Σ_r Σ x_r / Σ_r n_r          σ²_B = Σ_r Σ (x_r - μ_B)² / Σ_r n_r

    each sum over the processes a ``replica_sum``, whose gradient is again a sum over the
    processes, so training equals one process's on the whole batch. With ``synchronized=False``
    (the default, as Keras's) each process normalizes by its own part's statistics. In one
    process both are the same.

    Args:
        axis: the feature axis (default -1).  momentum: default 0.99.  epsilon: ε, default 1e-3.
        center, scale: whether to add β and multiply by γ.
        beta_initializer, gamma_initializer, moving_mean_initializer, moving_variance_initializer:
            defaults zeros, ones, zeros, ones.
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: as for Dense.
        synchronized: whether a data-parallel job takes the statistics of the global batch
            (default False: each process's own part).
    """

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        synchronized=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"BatchNormalization: axis must be an integer; got {axis!r}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1]; got {momentum}")
        _check_epsilon("BatchNormalization", epsilon)
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale, self.synchronized = center, scale, synchronized
        self.moving_mean_initializer = initializers_module.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers_module.get(moving_variance_initializer)
        _set_gamma_beta_options(self, locals())

    def build(self, input_shape):
        ndim = len(input_shape)
        (axis,) = _normalized_axes([self.axis], ndim, self)
        features = input_shape[axis]
        if features is None:
            raise ValueError(
                f'Layer "{self.name}" (BatchNormalization): the feature axis {self.axis} of '
                f"input shape {tuple(input_shape)} must be known to create the weights."
            )
        self._ndim, self._feature_axis, self._features = ndim, axis, features
        self._reduction_axes = tuple(a for a in range(ndim) if a != axis)
        self._broadcast_shape = tuple(features if a == axis else 1 for a in range(ndim))
        shape = (features,)
        _add_gamma_beta(self, shape, self.scale, self.center)
        self.moving_mean = self.add_weight(
            shape, self.moving_mean_initializer, name="moving_mean", trainable=False
        )
        self.moving_variance = self.add_weight(
            shape, self.moving_variance_initializer, name="moving_variance", trainable=False
        )
        self.built = True

    def check_input(self, x):
        if x.ndim != self._ndim or x.shape[self._feature_axis] != self._features:
            raise self.incompatible(
                x,
                f"expected ndim={self._ndim} and axis {self.axis} of input shape to have "
                f"value {self._features}",
            )

    def call(self, inputs, training=None):
        if training and self.trainable:
            mean, centered, variance, count = self._batch_statistics(inputs)
            if count:  # a batch without rows (a process's empty part) has no statistics
                self._update_moving_averages(mean.data, variance.data)
            outputs = centered / ops.sqrt(variance + self.epsilon)
        else:
            # (ops on the variables themselves, so that a replayed plan reads their values
            # of the moment, as the engine does)
            mean = _broadcastable(self.moving_mean, self._broadcast_shape)
            variance = _broadcastable(self.moving_variance, self._broadcast_shape)
            outputs = (inputs - mean) / ops.sqrt(variance + self.epsilon)
        return _scale_and_shift(self, outputs)

    def _batch_statistics(self, inputs):
        """(μ_B, x - μ_B, σ²_B, the number of values per feature) of this process's batch, or
        with ``synchronized`` of the global batch (sums over the processes: replica_sum)."""
        axes = self._reduction_axes
        if not self.synchronized:
            mean = inputs.mean(axis=axes, keepdims=True)
            centered = inputs - mean
            return mean, centered, (centered * centered).mean(axis=axes, keepdims=True), inputs.size
        count = float(ops.replica_sum(xp_of(inputs.data).asarray(inputs.size // self._features)))
        mean = ops.replica_sum(inputs.sum(axis=axes, keepdims=True)) / count
        centered = inputs - mean
        variance = ops.replica_sum((centered * centered).sum(axis=axes, keepdims=True)) / count
        return mean, centered, variance, count

    def _update_moving_averages(self, mean, variance):
        m = self.momentum
        for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
            moving.assign(moving.data * m + batch.reshape(self._features) * (1.0 - m))

    def get_config(self):
        serialize = initializers_module.serialize
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **_gamma_beta_config(self),
            "moving_mean_initializer": serialize(self.moving_mean_initializer),
            "moving_variance_initializer": serialize(self.moving_variance_initializer),
            "synchronized": self.synchronized,
        }


@registry.serializable("keras.layers")
class LayerNormalization(Layer):
    """Normalizes each sample over ``axis`` (the features), then scales and shifts it.

    For each sample, with μ and σ² the mean and (biased) variance over the axes in ``axis``:

        y = γ (x - μ) / sqrt(σ² + ε) + β

    γ (``gamma``, ones) and β (``beta``, zeros) span the normalized axes; e.g. for x (N, T, D)
    and axis=-1 they have shape (D,). The same computation runs in training and inference.
    With ``rms_scaling=True`` (RMSNorm), ``center`` and ``scale`` are ignored and
    y = γ x / sqrt(mean(x²) + ε): no mean is subtracted and there is no β.

    Args:
        axis: an int or a list of ints, the axes to normalize over (default -1).
        epsilon: ε, default 1e-3 (Keras's; the paper's is smaller).  center, scale: as above.
        rms_scaling: default False.
        beta_initializer, gamma_initializer: zeros, ones.
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: as for Dense.
    """

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        rms_scaling=False,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        if isinstance(axis, (list, tuple)) and all(isinstance(a, int) for a in axis) and axis:
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(
                f"LayerNormalization: axis must be an int or a non-empty list of ints; got {axis!r}"
            )
        _check_epsilon("LayerNormalization", epsilon)
        self.epsilon, self.center, self.scale = float(epsilon), center, scale
        self.rms_scaling = rms_scaling
        _set_gamma_beta_options(self, locals())

    def build(self, input_shape):
        ndim = len(input_shape)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        self._axes = tuple(_normalized_axes(axes, ndim, self))
        if any(input_shape[a] is None for a in self._axes):
            raise ValueError(
                f'Layer "{self.name}" (LayerNormalization): the normalized axes {self.axis} of '
                f"input shape {tuple(input_shape)} must be known to create the weights."
            )
        self._ndim = ndim
        shape = tuple(input_shape[a] for a in self._axes)
        self._broadcast_shape = tuple(input_shape[a] if a in self._axes else 1 for a in range(ndim))
        _add_gamma_beta(
            self, shape, self.scale or self.rms_scaling, self.center and not self.rms_scaling
        )
        self.built = True

    def check_input(self, x):
        expected = tuple(n for a, n in enumerate(self._broadcast_shape) if a in self._axes)
        if x.ndim != self._ndim or tuple(x.shape[a] for a in self._axes) != expected:
            raise self.incompatible(
                x,
                f"expected ndim={self._ndim} and the normalized axes {self.axis} to have "
                f"sizes {expected}",
            )

    def call(self, inputs):
        if self.rms_scaling:
            mean_square = (inputs * inputs).mean(axis=self._axes, keepdims=True)
            gamma = _broadcastable(self.gamma, self._broadcast_shape)
            return inputs / ops.sqrt(mean_square + self.epsilon) * gamma
        centered = inputs - inputs.mean(axis=self._axes, keepdims=True)
        variance = (centered * centered).mean(axis=self._axes, keepdims=True)
        outputs = centered / ops.sqrt(variance + self.epsilon)
        return _scale_and_shift(self, outputs)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            **_gamma_beta_config(self),
        }


@registry.serializable("keras.layers")
class GroupNormalization(Layer):
    """Normalizes each sample over groups of channels, then scales and shifts each channel.

    The C channels along ``axis`` are split into ``groups`` consecutive groups of C / groups.
    For each sample and group, with μ and σ² the mean and (biased) variance over the group's
    channels and every other non-batch axis (height, width, time...):

        y = γ_c (x - μ) / sqrt(σ² + ε) + β_c

    γ (``gamma``, ones) and β (``beta``, zeros) have shape (C,). ``groups=1`` normalizes over
    every axis but the batch (with a scale and shift per channel); ``groups=-1`` (one group per
    channel) is instance normalization. The gradients are those of the ops above, through the
    engine. The same computation runs in training and inference.

    Args:
        groups: the number of groups, dividing the channels (default 32), or -1.
        axis: the channel axis (default -1).
        epsilon: ε, default 1e-3.  center, scale: add β, multiply by γ (default True).
        beta_initializer, gamma_initializer: zeros, ones.
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: as for Dense.
    """

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        if not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(
                f"Received an invalid value for argument `groups`, expected a positive integer "
                f"(or `-1` for instance normalization). Received: groups={groups}"
            )
        super().__init__(**kwargs)
        self.supports_masking = True
        _check_epsilon("GroupNormalization", epsilon)
        self.groups, self.axis = groups, axis
        self.epsilon, self.center, self.scale = float(epsilon), center, scale
        _set_gamma_beta_options(self, locals())

    def build(self, input_shape):
        ndim = len(input_shape)
        (self._axis,) = _normalized_axes([self.axis], ndim, self)
        channels = input_shape[self._axis]
        if channels is None:
            raise ValueError(
                f"Axis {self.axis} of input tensor should have a defined dimension but the layer "
                f"received an input with shape {tuple(input_shape)}."
            )
        if self.groups == -1:
            self.groups = channels
        if channels < self.groups:
            raise ValueError(
                f"Number of groups ({self.groups}) cannot be more than the number of channels "
                f"({channels})."
            )
        if channels % self.groups:
            raise ValueError(
                f"Number of groups ({self.groups}) must be a multiple of the number of channels "
                f"({channels})."
            )
        self._ndim = ndim
        self._broadcast_shape = tuple(channels if a == self._axis else 1 for a in range(ndim))
        _add_gamma_beta(self, (channels,), self.scale, self.center)
        self.built = True

    def check_input(self, x):
        channels = self._broadcast_shape[self._axis]
        if x.ndim != self._ndim or x.shape[self._axis] != channels:
            raise self.incompatible(
                x, f"expected ndim={self._ndim} and axis {self.axis} of size {channels}"
            )

    def call(self, inputs):
        shape, axis = tuple(inputs.shape), self._axis
        grouped = inputs.reshape(
            shape[:axis] + (self.groups, shape[axis] // self.groups) + shape[axis + 1 :]
        )
        over = tuple(a for a in range(1, grouped.ndim) if a != axis)  # all but batch and group
        centered = grouped - grouped.mean(axis=over, keepdims=True)
        variance = (centered * centered).mean(axis=over, keepdims=True)
        outputs = (centered / ops.sqrt(variance + self.epsilon)).reshape(shape)
        return _scale_and_shift(self, outputs)

    def get_config(self):
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **_gamma_beta_config(self),
        }


@registry.serializable("keras.layers")
class UnitNormalization(Layer):
    """Scales each sample to unit Euclidean norm over ``axis``, as Keras's
    ``keras.ops.normalize(x, order=2, epsilon=1e-12)``:

        y = x / max(||x||₂, 10⁻¹²)

    (a zero vector stays zero; Keras writes x min(1 / ||x||₂, 10¹²), the same values without
    the division by zero). ``axis``: an int or a list of ints (default -1).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(
                f"Invalid value for `axis` argument: expected an int or a list/tuple of ints. "
                f"Received: axis={axis}"
            )
        self.supports_masking = True
        self.built = True  # no weights: built as made, as in Keras

    def check_input(self, x):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        _normalized_axes(axes, x.ndim, self)  # names the layer for an axis out of bounds

    def call(self, inputs):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        norm = ops.sqrt((inputs * inputs).sum(axis=axis, keepdims=True))
        return inputs / ops.maximum(norm, 1e-12)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@registry.serializable("keras.layers")
class RMSNormalization(Layer):
    """Root-mean-square normalization (Zhang and Sennrich, 2019), as ``keras.ops.rms_normalization``:

        y = x / sqrt(mean(x²) + ε) * scale,

    the mean over ``axis`` (an int or a list of ints), ``scale`` a weight of ones with the
    shape of those axes (the trailing ones, so that it broadcasts). No mean is subtracted and
    there is no shift (compare ``LayerNormalization(rms_scaling=True)``). Once built, ``axis``
    is a sorted list, as Keras keeps it.

    Args:
        axis: default -1.  epsilon: ε, default 1e-6.
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.epsilon = axis, epsilon

    def build(self, input_shape):
        self.axis = sorted(self.axis) if isinstance(self.axis, (list, tuple)) else [self.axis]
        self._axes = tuple(_normalized_axes(self.axis, len(input_shape), self))
        shape = tuple(input_shape[a] for a in self._axes)
        self.scale = self.add_weight(shape=shape, initializer="ones", name="scale")
        self._ndim = len(input_shape)
        self.built = True

    def check_input(self, x):
        expected = tuple(self.scale.shape)
        if x.ndim != self._ndim or tuple(x.shape[a] for a in self._axes) != expected:
            raise self.incompatible(
                x,
                f"expected ndim={self._ndim} and the normalized axes {self.axis} to have "
                f"sizes {expected}",
            )

    def call(self, x):
        return keras_nn.rms_normalization(x, scale=self.scale, axis=self.axis, epsilon=self.epsilon)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
