"""Layers for numbers and categories: Normalization and Rescaling (differentiable affine maps),
Discretization (bucketing by boundaries learned as quantiles), CategoryEncoding and Hashing
(integer or string features as indices or encoded vectors)."""

import math

import numpy as np

from ....engine import Tensor
from ... import config, registry
from ..base import Layer
from .base import (
    PreprocessingLayer,
    adapt_batches,
    check_output_mode,
    encode_categorical,
    to_numpy,
)
from .fingerprint import hash_buckets
from .lookup import _salt_key


@registry.serializable("keras.layers")
class Normalization(Layer):
    """Standardize features: y = (x - mean) / max(sqrt(variance), 1e-7), or with ``invert=True``
    x = mean + y * max(sqrt(variance), 1e-7).

    ``mean`` and ``variance`` are per position along ``axis`` (the kept axes; all others are
    reduced over), given or learned by ``adapt``. The gradient is dL/dx = g / max(sqrt(var),
    1e-7) (times it, inverted).

    Args:
        axis: the axis or axes to keep (default -1, per feature); None for one scalar mean and
            variance.
        mean, variance: fixed statistics, broadcastable to the kept axes; both or neither.
        invert: apply the inverse map.

    Example:
        >>> layer = Normalization(axis=None)
        >>> layer.adapt(np.array([1.0, 2.0, 3.0]))
        >>> layer(np.array([1.0, 2.0, 3.0]))  # [-1.2247, 0, 1.2247]
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        if (mean is None) != (variance is None):
            raise ValueError(
                f"Normalization: when setting values directly, both `mean` and `variance` must "
                f"be set. Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    f"Normalization: `mean` and `variance` must have the same shape. Received: "
                    f"mean shape {np.shape(mean)} and variance shape {np.shape(variance)}"
                )
            if np.ndim(mean) > len(self.axis):
                raise ValueError(
                    f"Normalization: the rank of `mean` must be at most the number of axes "
                    f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis "
                    f"{self.axis}"
                )
        self.mean = None
        self.variance = None
        self._build_input_shape = None

    def build(self, input_shape):
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                f"Normalization: all `axis` values must be in [-{ndim}, {ndim}) for inputs of "
                f"shape {tuple(input_shape)}; received axis={self.axis}"
            )
        self._build_input_shape = tuple(input_shape)
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for a in self._keep_axis:
            if input_shape[a] is None:
                raise ValueError(
                    f"Normalization: the kept axes must have a known size; axis {a} of "
                    f"{tuple(input_shape)} is None."
                )
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = [input_shape[d] if d in self._keep_axis else 1 for d in range(ndim)]
        shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(
                name="mean", shape=shape, initializer="zeros", trainable=False
            )
            self.adapt_variance = self.add_weight(
                name="variance", shape=shape, initializer="ones", trainable=False
            )
            self.count = self.add_weight(
                name="count", shape=(), dtype="int64", initializer="zeros", trainable=False
            )
        else:
            mean = np.asarray(self.input_mean, dtype="float64")
            variance = np.asarray(self.input_variance, dtype="float64")
            if mean.ndim:  # its axes are the last kept axes
                expanded = [1] * ndim
                for i in range(1, mean.ndim + 1):
                    expanded[self._keep_axis[-i]] = mean.shape[-i]
                mean, variance = mean.reshape(expanded), variance.reshape(expanded)
            self.mean = np.broadcast_to(mean, self._broadcast_shape).astype(self.dtype)
            self.variance = np.broadcast_to(variance, self._broadcast_shape).astype(self.dtype)
        self.built = True

    def adapt(self, data):
        """Learn the mean and variance over the reduced axes from ``data``: an array, a Tensor,
        a ``chainrule.data.Dataset``, a ``PyDataset`` or an iterable of batches. Batches are
        merged exactly (the pooled mean and variance of everything seen)."""
        total_mean = total_var = None
        total_count = 0
        for batch in adapt_batches("Normalization", data, lists_are_batches=True):
            batch = batch.astype("float64")
            if not self.built:
                self.build((None,) + batch.shape[1:] if batch.ndim > 1 else batch.shape)
            self._check_adapt_shape(batch.shape)
            batch_mean = batch.mean(axis=self._reduce_axis)
            batch_var = batch.var(axis=self._reduce_axis)
            count = math.prod(batch.shape[d] for d in self._reduce_axis)
            if total_mean is None:
                total_mean, total_var = np.zeros_like(batch_mean), np.zeros_like(batch_var)
            total_count += count
            w = count / total_count
            new_mean = total_mean * (1 - w) + batch_mean * w
            total_var = (total_var + (total_mean - new_mean) ** 2) * (1 - w) + (
                batch_var + (batch_mean - new_mean) ** 2
            ) * w
            total_mean = new_mean
        if total_mean is None:
            raise ValueError("Normalization.adapt received no data (an empty iterable).")
        if self.input_mean is not None:
            raise ValueError("Normalization: cannot adapt a layer given `mean` and `variance`.")
        self.adapt_mean.assign(total_mean.astype(self.dtype))
        self.adapt_variance.assign(total_var.astype(self.dtype))
        self.count.assign(np.int64(total_count))
        self.finalize_state()

    def _check_adapt_shape(self, shape):
        built = self._build_input_shape
        for d in self._keep_axis:
            if len(shape) != len(built) or shape[d] != built[d]:
                raise ValueError(
                    f"Normalization: the layer was built for input_shape={built}, but adapt() "
                    f"received data of an incompatible shape {shape}."
                )

    def finalize_state(self):
        """Take the adapted statistics (the ``mean`` and ``variance`` weights) as the layer's
        ``mean`` and ``variance``, shaped to broadcast against the input."""
        if self.input_mean is not None or not self.built:
            return
        self.mean = self.adapt_mean.numpy().reshape(self._broadcast_shape).astype(self.dtype)
        self.variance = self.adapt_variance.numpy().reshape(self._broadcast_shape)
        self.variance = self.variance.astype(self.dtype)

    def call(self, inputs):
        self.finalize_state()  # the weights may have been loaded or set since
        scale = np.maximum(np.sqrt(self.variance), config.epsilon()).astype(self.dtype)
        if self.invert:
            return inputs * scale + self.mean
        return (inputs - self.mean) / scale

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": np.array(self.input_mean).tolist(),
            "variance": np.array(self.input_variance).tolist(),
        }


@registry.serializable("keras.layers")
class Rescaling(Layer):
    """y = x * scale + offset (``scale`` and ``offset`` scalars or broadcast along the last
    axis); dL/dx = g * scale. Integer inputs are cast to the layer's float dtype.

    Example:
        >>> Rescaling(1.0 / 255)(images)  # pixels 0..255 -> 0..1
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset

    def call(self, inputs):
        scale = np.asarray(self.scale, dtype=self.dtype)
        offset = np.asarray(self.offset, dtype=self.dtype)
        return inputs * scale + offset

    def get_config(self):
        return {
            **super().get_config(),
            "scale": _plain(self.scale),
            "offset": _plain(self.offset),
        }


@registry.serializable("keras.layers")
class Discretization(PreprocessingLayer):
    """Bucket numbers by boundaries: with boundaries b_0 < ... < b_{k-1}, index(x) = the number
    of b_i <= x, in [0, k]; then encoded by ``output_mode``.

    ``adapt`` learns ``num_bins - 1`` boundaries at evenly spaced quantiles, with Keras's
    mergeable summaries (precision ``epsilon``), so the boundaries equal Keras's.

    Args:
        bin_boundaries: the sorted boundaries (then ``num_bins`` must be None).
        num_bins: the number of bins to learn with ``adapt``.
        epsilon: the error tolerance of the quantile summaries (default 0.01).
        output_mode: "int" (default, int32 indices), "one_hot", "multi_hot" or "count".
        sparse: must be False.

    Example:
        >>> Discretization(bin_boundaries=[0.0, 1.0, 2.0])([[-1.5, 1.0, 3.4, 0.5]])
        ... # [[0, 2, 3, 1]]
    """

    def __init__(
        self,
        bin_boundaries=None,
        num_bins=None,
        epsilon=0.01,
        output_mode="int",
        sparse=False,
        dtype=None,
        name=None,
    ):
        super().__init__(name=name, dtype=dtype)
        check_output_mode("Discretization", output_mode)
        if sparse:
            raise ValueError("Discretization: sparse=True needs sparse tensors; use False.")
        if num_bins is not None and num_bins < 0:
            raise ValueError(
                f"Discretization: `num_bins` must be greater than or equal to 0. Received: "
                f"num_bins={num_bins}"
            )
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                f"Discretization: set `num_bins` or `bin_boundaries`, not both. Received: "
                f"num_bins={num_bins} and bin_boundaries={bin_boundaries}"
            )
        if num_bins is None and bin_boundaries is None:
            raise ValueError("Discretization: set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = None if bin_boundaries is None else list(bin_boundaries)
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse
        self.reset_state()

    def adapt(self, data, steps=None):
        """Learn ``num_bins - 1`` quantile boundaries from ``data`` (an array, a Tensor, a
        ``chainrule.data.Dataset``, a ``PyDataset`` or an iterable of batches)."""
        if self.num_bins is None:
            raise ValueError(
                "Discretization: cannot adapt a layer made with `bin_boundaries`; give "
                "`num_bins` instead."
            )
        self.reset_state()
        for batch in adapt_batches("Discretization", data, steps, lists_are_batches=True):
            self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        """Merge one batch into the quantile summary."""
        summary = _summarize(np.asarray(to_numpy(data), dtype="float32"), self.epsilon)
        self.summary = _merge_summaries(summary, self.summary, self.epsilon)

    def finalize_state(self):
        """Boundaries from the summary: the values at cumulative weight 1/n, 2/n... (n-1)/n."""
        if self.num_bins is None:
            return
        self.bin_boundaries = _compress_summary(self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def reset_state(self):
        """Empty the quantile summary."""
        if self.num_bins is not None:
            self.summary = np.zeros((2, 0), dtype="float32")

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(
                "Discretization: pass `bin_boundaries` or call `adapt(data)` before calling "
                "the layer."
            )
        values = np.asarray(inputs)
        if values.dtype.kind not in "fiub":
            raise TypeError(f"Discretization: expected numbers; received dtype {values.dtype}.")
        indices = np.digitize(values, np.asarray(self.bin_boundaries, dtype="float64"))
        depth = len(self.bin_boundaries) + 1
        if self.output_mode == "int":
            return Tensor(indices.astype(np.int32))
        return Tensor(encode_categorical(indices, self.output_mode, depth, self.dtype))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        if len(input_shape) >= 2:
            return (input_shape[0],) + input_shape[2:] + (depth,)
        return (depth,)

    def get_config(self):
        return {
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": str(self.dtype),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        boundaries = config.pop("bin_boundaries", None)
        if boundaries is not None and config.get("num_bins") is not None:
            layer = cls(**config)  # an adapted layer: keep what it learned
            layer.bin_boundaries = list(boundaries)
            return layer
        return cls(bin_boundaries=boundaries, **config)


def _summarize(values, epsilon):
    """A weighted sample of sorted ``values``: every ``step``-th value (step = max(n * epsilon,
    1)), starting at index step - 1, each weighing ``step``. Shape (2, m): values, weights."""
    values = np.sort(values.reshape(-1))
    step = max(values.size * epsilon, 1)
    sample = values[int(step - 1) :: int(step)]
    return np.stack([sample, np.full_like(sample, step)])


def _merge_summaries(first, second, epsilon):
    """Two summaries as one, sorted by value and compressed to precision ``epsilon``."""
    merged = np.concatenate((first, second), axis=1)
    merged = merged[:, np.argsort(merged[0], kind="quicksort")]
    return _compress_summary(merged, epsilon)


def _compress_summary(summary, epsilon):
    """A summary of about 1 / epsilon points: the values and cumulative weights interpolated at
    cumulative fractions epsilon, 2 epsilon, ..., 1 (left as it is when already smaller)."""
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = summary[1].cumsum()
    at = cumulative / cumulative[-1]
    values = np.interp(fractions, at, summary[0])
    weights = np.diff(np.interp(fractions, at, cumulative), prepend=0.0)
    return np.stack((values, weights)).astype("float32")


@registry.serializable("keras.layers")
class CategoryEncoding(PreprocessingLayer):
    """Integer features in [0, num_tokens) as one-hot, multi-hot or count vectors (see
    ``encode_categorical``); ``count_weights`` (same shape as the input) weighs each count.

    Args:
        num_tokens: the number of categories, the length of the output's last axis.
        output_mode: "multi_hot" (default; "binary" is its old name), "one_hot" or "count".
        sparse: must be False.

    Raises:
        ValueError: an index outside [0, num_tokens).

    Example:
        >>> CategoryEncoding(num_tokens=4, output_mode="one_hot")([3, 2, 0, 1])
        ... # the 4x4 identity with its rows permuted
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        check_output_mode("CategoryEncoding", output_mode, ("count", "one_hot", "multi_hot"))
        if num_tokens is None:
            raise ValueError(
                "CategoryEncoding: num_tokens must be set. If the number of tokens is not known "
                "beforehand, use the IntegerLookup layer instead."
            )
        if num_tokens < 1:
            raise ValueError(f"CategoryEncoding: `num_tokens` must be >= 1; got {num_tokens}.")
        if sparse:
            raise ValueError("CategoryEncoding: sparse=True needs sparse tensors; use False.")
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs, count_weights=None):
        inputs = np.asarray(inputs)
        if inputs.dtype.kind == "f" and np.all(inputs == np.round(inputs)):
            inputs = inputs.astype(np.int64)
        if inputs.dtype.kind not in "iub":
            raise TypeError(
                f"CategoryEncoding: expected integer inputs; received dtype {inputs.dtype}."
            )
        if inputs.size and (inputs.min() < 0 or inputs.max() >= self.num_tokens):
            raise ValueError(
                f"CategoryEncoding: inputs must be in [0, {self.num_tokens}) (num_tokens="
                f"{self.num_tokens}); received values from {inputs.min()} to {inputs.max()}."
            )
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    f"CategoryEncoding: `count_weights` is only used when output_mode is "
                    f"'count'; it is {self.output_mode!r}."
                )
            count_weights = np.asarray(to_numpy(count_weights), dtype=self.dtype)
        encoded = encode_categorical(
            inputs, self.output_mode, self.num_tokens, self.dtype, count_weights
        )
        return Tensor(encoded)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if not input_shape:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return input_shape + (self.num_tokens,)
        return input_shape[:-1] + (self.num_tokens,)

    def get_config(self):
        return {
            **super().get_config(),
            "num_tokens": self.num_tokens,
            "output_mode": self.output_mode,
        }


@registry.serializable("keras.layers")
class Hashing(PreprocessingLayer):
    """Hash strings or integers into ``num_bins`` bins: bin(v) = fingerprint64(s) mod num_bins
    (FarmHash, as ``tf.strings.to_hash_bucket_fast``), or SipHash-2-4 keyed by ``salt``, where s
    is the string (integers by their decimal string, floats truncated to integers first). With
    ``mask_value``, that value goes to bin 0 and the others to 1 + bin mod (num_bins - 1).

    Args:
        num_bins: the number of bins, the mask bin included.
        mask_value: the value for bin 0, or None.
        salt: None (FarmHash), one int k (SipHash key (k, k)) or two ints.
        output_mode: "int" (default, int64 bins), "one_hot", "multi_hot" or "count".
        sparse: must be False.

    Example:
        >>> Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]])   # [[1], [0], [1], [1], [2]]
    """

    def __init__(
        self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs
    ):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(
                f"Hashing: `num_bins` must be a positive integer. Received: num_bins={num_bins}."
            )
        check_output_mode("Hashing", output_mode)
        if output_mode == "int" and self.dtype not in (np.int32, np.int64):
            raise ValueError(
                f"Hashing: with output_mode='int', `dtype` must be 'int32' or 'int64'. "
                f"Received: dtype={self.dtype}"
            )
        if sparse:
            raise ValueError("Hashing: sparse=True needs sparse tensors; use False.")
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.salt = None if salt is None else list(_salt_key(salt))
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs):
        values = np.asarray(inputs)
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = values == self.mask_value
        if values.dtype.kind == "f":
            values = values.astype(np.int64)
        strings = values.astype(str) if values.dtype.kind in "iub" else values
        key = None if self.salt is None else tuple(self.salt)
        indices = hash_buckets(strings, bins, key)
        if mask is not None:
            indices = np.where(mask, 0, indices + 1)
        return Tensor(encode_categorical(indices, self.output_mode, self.num_bins, self.dtype))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        return input_shape[:-1] + (self.num_bins,) if input_shape else (self.num_bins,)

    def get_config(self):
        return {
            **super().get_config(),
            "num_bins": self.num_bins,
            "salt": self.salt,
            "mask_value": self.mask_value,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }


def _plain(value):
    return np.asarray(value).tolist() if isinstance(value, (np.ndarray, Tensor)) else value


__all__ = [
    "CategoryEncoding",
    "Discretization",
    "Hashing",
    "Normalization",
    "Rescaling",
]
