"""Colour image augmentation, as Keras 3's layers: RandomContrast and RandomBrightness, one
random factor per image, the result clipped to the images' ``value_range``."""

import numpy as np

from .... import ops
from ... import registry
from .augmentation import ImageAugmentationLayer, factor_range


def _check_value_range(owner, value_range):
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(
            f"{owner}: `value_range` must be a list of two numbers (the images' lowest and "
            f"highest values). Received: value_range={value_range!r}"
        )


class _ColourLayer(ImageAugmentationLayer):
    """An augmentation that moves pixel values by a random amount per image and clips them to
    ``value_range``, as the layer's dtype; in inference it returns the images as they are (not
    cast), as Keras's colour layers do."""

    def __init__(self, factor, value_range=(0, 255), seed=None, bounds=(-1, 1), **kwargs):
        super().__init__(seed=seed, **kwargs)
        owner = type(self).__name__
        self.factor = factor_range(owner, "factor", factor, bounds)
        _check_value_range(owner, value_range)
        self.value_range = value_range

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        low, high = self.value_range
        return ops.clip(self._adjust(self._as_dtype(images), transformation), low, high)

    def _draw(self, data, training, seed, low, high):
        """Uniform draws in [low, high), one per image, shaped to broadcast over a batch (or
        one image); zeros in inference."""
        shape = (data.shape[0], 1, 1, 1) if data.ndim == 4 else (1, 1, 1)
        if not training:
            return np.zeros(shape, np.float32)
        return self._rng(seed).uniform(low, high, shape).astype(np.float32)

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "value_range": self.value_range,
        }


@registry.serializable("keras.layers")
class RandomContrast(_ColourLayer):
    """Scales each image's deviation from its mean, channel by channel:

        y = clip((x - m) c + m, value_range),   m = the mean of x over height and width,

    with c drawn uniformly per image from [1 - lower, 1 + upper]. A number f gives the range
    (0, f) — so, as in Keras 3, c lies in [1, 1 + f] and the contrast only grows; a pair (a, b)
    gives [1 - a, 1 + b]. The identity in inference.

    Transformation: ``{"contrast_factor": (n, 1, 1, 1)}``.

    Args:
        factor: a number in [0, 1] or a pair.
        value_range: the images' (lowest, highest) values, default (0, 255).
        seed: as every augmentation layer.

    Example:
        >>> RandomContrast(0.2, value_range=(0, 1))(images)
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor, value_range, seed, bounds=(0, 1), **kwargs)

    def get_random_transformation(self, data, training=True, seed=None):
        lower, upper = self.factor
        return {"contrast_factor": self._draw(data, training, seed, 1.0 - lower, 1.0 + upper)}

    def _adjust(self, images, transformation):
        height_axis, width_axis = self._spatial_axes()
        mean = ops.mean(images, axis=(height_axis, width_axis), keepdims=True)
        factor = np.asarray(transformation["contrast_factor"], dtype=images.dtype)
        return (images - mean) * factor + mean


@registry.serializable("keras.layers")
class RandomBrightness(_ColourLayer):
    """Adds to each image one random offset, the same for every pixel and channel:

        y = clip(x + d (high - low), value_range),   (low, high) = value_range,

    with d drawn uniformly per image from the ``factor`` range (f gives [-f, f]). The identity
    in inference. dL/dx = dL/dy inside the range, 0 where clipped.

    Transformation: ``{"rgb_delta": (n, 1, 1, 1)}``, the offset d (high - low).

    Args:
        factor: a number in [-1, 1] or a pair, as a fraction of the value range.
        value_range: the images' (lowest, highest) values, default (0, 255).
        seed: as every augmentation layer.

    Example:
        >>> RandomBrightness(0.2)(images)   # offsets of up to ±51 on 0..255 images
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor, value_range, seed, **kwargs)
        self.value_range = sorted(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        low, high = self.value_range
        delta = self._draw(data, training, seed, *self.factor)
        return {"rgb_delta": delta * np.float32(high - low)}

    def _adjust(self, images, transformation):
        return images + np.asarray(transformation["rgb_delta"], dtype=images.dtype)
